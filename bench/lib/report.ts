// From raw measurements to what people read: per scenario and system the median over rounds, Strata's ratio
// to each reference, the goals of issue 6 checked, and a plain-text table.
import type { LatencySummary } from './histogram.js';
import type { Measurement, Scenario } from './scenarios.js';
import type { System } from './systems.js';

export interface SystemFigures {
  readonly mbPerSec: number;
  readonly msgsPerSec: number;
  readonly ms: number;
  readonly peakRssBytes: number;
  readonly cpuSeconds: number;
  readonly endToEnd?: LatencySummary;
  readonly produceAck?: LatencySummary;
  readonly extra: Readonly<Record<string, number>>;
  readonly samples: number;
  readonly errors: readonly string[];
}

export interface ScenarioReport {
  readonly id: string;
  readonly title: string;
  readonly primary: Scenario['primary'];
  readonly systems: Partial<Record<System, SystemFigures>>;
  /** Strata's figure over the reference's, for the scenario's primary throughput figure. */
  readonly ratios: { readonly vsMock?: number; readonly vsFloor?: number };
}

export interface Goal {
  readonly name: string;
  readonly target: string;
  readonly actual: string;
  readonly pass: boolean | null;
}

function median(xs: readonly number[]): number {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = v.length >> 1;
  return v.length % 2 === 1 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

/** Latency summaries are combined by taking, per field, the median over rounds. */
function medianLatency(xs: readonly (LatencySummary | undefined)[]): LatencySummary | undefined {
  const v = xs.filter((x): x is LatencySummary => x !== undefined && x.count > 0);
  if (v.length === 0) return undefined;
  const keys = Object.keys(v[0]!) as (keyof LatencySummary)[];
  return Object.fromEntries(keys.map((k) => [k, k === 'count' ? v.reduce((s, x) => s + x.count, 0) : median(v.map((x) => x[k]))])) as unknown as LatencySummary;
}

function figures(ms: readonly Measurement[]): SystemFigures {
  const ok = ms.filter((m) => m.error === undefined);
  const use = ok.length > 0 ? ok : ms;
  const extraKeys = [...new Set(use.flatMap((m) => Object.keys(m.extra ?? {})))];
  const e2e = medianLatency(use.map((m) => m.latency?.endToEnd));
  const ack = medianLatency(use.map((m) => m.latency?.produceAck));
  return {
    mbPerSec: median(use.map((m) => m.mbPerSec ?? NaN)),
    msgsPerSec: median(use.map((m) => m.msgsPerSec ?? NaN)),
    ms: median(use.map((m) => m.ms ?? NaN)),
    // The peak is the worst round's, not a median: the goal is a ceiling.
    peakRssBytes: Math.max(0, ...ms.map((m) => m.usage?.peakRssBytes ?? 0)),
    cpuSeconds: median(use.map((m) => m.usage?.cpuSeconds ?? NaN)),
    ...(e2e === undefined ? {} : { endToEnd: e2e }),
    ...(ack === undefined ? {} : { produceAck: ack }),
    extra: Object.fromEntries(extraKeys.map((k) => [k, k.endsWith('PeakRssBytes') ? Math.max(...use.map((m) => m.extra?.[k] ?? 0)) : median(use.map((m) => m.extra?.[k] ?? NaN))])),
    samples: ms.length,
    errors: ms.flatMap((m) => (m.error === undefined ? [] : [`round ${m.round}: ${m.error}`])),
  };
}

function primaryValue(s: Scenario['primary'], f: SystemFigures | undefined): number {
  if (f === undefined) return NaN;
  return s === 'msgsPerSec' ? f.msgsPerSec : f.mbPerSec;
}

export function summarize(scenarios: readonly Scenario[], measurements: readonly Measurement[]): ScenarioReport[] {
  return scenarios.map((sc) => {
    const systems: Partial<Record<System, SystemFigures>> = {};
    for (const sys of sc.systems) {
      const ms = measurements.filter((m) => m.scenario === sc.id && m.system === sys);
      if (ms.length > 0) systems[sys] = figures(ms);
    }
    const strata = primaryValue(sc.primary, systems.strata);
    const ratio = (ref: System): number | undefined => {
      const r = primaryValue(sc.primary, systems[ref]);
      return sc.primary === 'p99' || sc.primary === 'restart' || !(r > 0) || !Number.isFinite(strata) ? undefined : strata / r;
    };
    const vsMock = ratio('mock');
    const vsFloor = ratio('floor');
    return {
      id: sc.id,
      title: sc.title,
      primary: sc.primary,
      systems,
      ratios: { ...(vsMock === undefined ? {} : { vsMock }), ...(vsFloor === undefined ? {} : { vsFloor }) },
    };
  });
}

const pct = (x: number | undefined): string => (x === undefined || !Number.isFinite(x) ? 'n/a' : `${(x * 100).toFixed(0)}%`);
const mib = (b: number): number => b / (1024 * 1024);

export function checkGoals(reports: readonly ScenarioReport[]): Goal[] {
  const by = (id: string): ScenarioReport | undefined => reports.find((r) => r.id === id);
  const ratioGoal = (name: string, r: number | undefined, min: number): Goal => ({
    name,
    target: `>= ${pct(min)}`,
    actual: pct(r),
    pass: r === undefined ? null : r >= min,
  });
  const produce = by('produce-1k');
  const catchUp = by('consume-catchup');
  const p99 = by('e2e-latency')?.systems.strata?.endToEnd?.p99Us;
  let peak = 0;
  let where = '';
  for (const r of reports) {
    const f = r.systems.strata;
    if (f === undefined) continue;
    for (const v of [f.peakRssBytes, ...Object.entries(f.extra).filter(([k]) => k.endsWith('PeakRssBytes')).map(([, x]) => x)]) {
      if (v > peak) {
        peak = v;
        where = r.id;
      }
    }
  }
  return [
    ratioGoal('produce acks=1 vs mock cluster (MB/s)', produce?.ratios.vsMock, 0.5),
    ratioGoal('produce acks=1 vs raw floor (MB/s)', produce?.ratios.vsFloor, 0.9),
    ratioGoal('catch-up consume vs mock cluster (MB/s)', catchUp?.ratios.vsMock, 0.5),
    {
      name: 'end-to-end p99 at 10,000 msgs/s',
      target: '<= 5 ms',
      actual: p99 === undefined || !Number.isFinite(p99) ? 'n/a' : `${(p99 / 1000).toFixed(2)} ms`,
      pass: p99 === undefined || !Number.isFinite(p99) ? null : p99 <= 5000,
    },
    { name: 'broker peak RSS, every scenario', target: '<= 512 MiB', actual: peak === 0 ? 'n/a' : `${mib(peak).toFixed(0)} MiB (${where})`, pass: peak === 0 ? null : mib(peak) <= 512 },
  ];
}

// ---- the table ------------------------------------------------------------------------------------

function fmt(x: number | undefined, digits = 1): string {
  if (x === undefined || !Number.isFinite(x)) return '-';
  if (Math.abs(x) >= 1e6) return `${(x / 1e6).toFixed(2)}M`;
  if (Math.abs(x) >= 1e4) return `${(x / 1e3).toFixed(0)}k`;
  return x.toFixed(digits);
}

function pad(cells: readonly string[], widths: readonly number[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
}

export function renderTable(reports: readonly ScenarioReport[], goals: readonly Goal[]): string {
  const head = ['scenario', 'strata MB/s', 'msgs/s', 'mock MB/s', 'floor MB/s', 'vs mock', 'vs floor', 'p50 ms', 'p99 ms', 'p99.9 ms', 'RSS MiB', 'CPU s'];
  const rows: string[][] = [];
  const notes: string[] = [];
  for (const r of reports) {
    const s = r.systems.strata;
    const lat = s?.endToEnd;
    rows.push([
      r.id,
      r.primary === 'restart' ? '-' : fmt(s?.mbPerSec),
      r.primary === 'restart' ? '-' : fmt(s?.msgsPerSec, 0),
      fmt(r.systems.mock?.mbPerSec),
      fmt(r.systems.floor?.mbPerSec),
      pct(r.ratios.vsMock),
      pct(r.ratios.vsFloor),
      fmt(lat === undefined ? undefined : lat.p50Us / 1000, 2),
      fmt(lat === undefined ? undefined : lat.p99Us / 1000, 2),
      fmt(lat === undefined ? undefined : lat.p999Us / 1000, 2),
      fmt(s === undefined ? undefined : mib(s.peakRssBytes), 0),
      fmt(s?.cpuSeconds, 2),
    ]);
    if (r.id === 'e2e-latency' && s !== undefined && s.msgsPerSec < 9_000) {
      notes.push(`${r.id}: the producer reached ${fmt(s.msgsPerSec, 0)} of the 10,000 msgs/s asked for: the latencies are those of an overloaded machine`);
    }
    const m = r.systems.mock?.endToEnd;
    if (m !== undefined) notes.push(`${r.id}: mock cluster p50/p99/p99.9 ${(m.p50Us / 1000).toFixed(2)}/${(m.p99Us / 1000).toFixed(2)}/${(m.p999Us / 1000).toFixed(2)} ms`);
    for (const sys of ['strata', 'mock'] as const) {
      const a = r.systems[sys]?.produceAck;
      if (a !== undefined) notes.push(`${r.id}: ${sys} produce ack p50/p99/p99.9 ${(a.p50Us / 1000).toFixed(2)}/${(a.p99Us / 1000).toFixed(2)}/${(a.p999Us / 1000).toFixed(2)} ms`);
    }
    const shown = Object.entries(s?.extra ?? {}).filter(([k]) => !k.endsWith('PeakRssBytes') && !k.endsWith('CpuSeconds'));
    if (shown.length > 0) notes.push(`${r.id}: ${shown.map(([k, v]) => `${k} ${fmt(v, k.endsWith('Ms') ? 0 : 1)}`).join(', ')}`);
    for (const sys of ['strata', 'mock', 'floor'] as const) for (const e of r.systems[sys]?.errors ?? []) notes.push(`${r.id} [${sys}] ERROR ${e.split('\n')[0]}`);
  }
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const lines = [pad(head, widths), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map((row) => pad(row, widths))];
  lines.push('', ...notes.map((n) => `  ${n}`), '', 'Goals (ratios within this run):');
  for (const g of goals) lines.push(`  [${g.pass === null ? ' ?  ' : g.pass ? 'PASS' : 'MISS'}] ${g.name}: ${g.actual} (goal ${g.target})`);
  return lines.join('\n');
}
