// The chart the README links: MB/s per scenario for each system as grouped bars, and the end-to-end latency
// distribution (percentiles, log scale) of Strata and the mock cluster. Plain SVG text, no dependencies.
import type { LatencySummary } from './histogram.js';
import type { ScenarioReport } from './report.js';
import type { System } from './systems.js';

const COLORS: Record<System, string> = { strata: '#2f6fdf', mock: '#9a9a9a', floor: '#e0a030' };
const LABELS: Record<System, string> = { strata: 'Strata', mock: 'librdkafka mock cluster', floor: 'raw TCP floor' };

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 1.5, 2, 3, 4, 5, 6, 8, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function legend(x: number, y: number, systems: readonly System[]): string {
  return systems
    .map((s, i) => `<rect x="${x + i * 190}" y="${y - 10}" width="12" height="12" fill="${COLORS[s]}"/><text x="${x + i * 190 + 18}" y="${y}">${LABELS[s]}</text>`)
    .join('');
}

function throughputPanel(reports: readonly ScenarioReport[], top: number, width: number): { svg: string; height: number } {
  const rows = reports.filter((r) => r.primary === 'mbPerSec' || r.primary === 'msgsPerSec');
  const left = 190;
  const barH = 11;
  const groupH = 3 * barH + 14;
  const plotW = width - left - 90;
  const max = niceMax(Math.max(...rows.flatMap((r) => Object.values(r.systems).map((f) => (Number.isFinite(f.mbPerSec) ? f.mbPerSec : 0)))));
  const parts: string[] = [`<text x="20" y="${top}" class="h">Throughput, MB/s (10^6 bytes/s; higher is better)</text>`, legend(left, top + 22, ['strata', 'mock', 'floor'])];
  const y0 = top + 40;
  for (let t = 0; t <= 4; t++) {
    const x = left + (plotW * t) / 4;
    parts.push(`<line x1="${x}" y1="${y0}" x2="${x}" y2="${y0 + rows.length * groupH}" class="grid"/><text x="${x}" y="${y0 + rows.length * groupH + 14}" text-anchor="middle" class="s">${((max * t) / 4).toFixed(0)}</text>`);
  }
  rows.forEach((r, i) => {
    const gy = y0 + i * groupH + 4;
    parts.push(`<text x="${left - 8}" y="${gy + barH * 1.6}" text-anchor="end">${esc(r.id)}</text>`);
    (['strata', 'mock', 'floor'] as const).forEach((sys, j) => {
      const f = r.systems[sys];
      if (f === undefined || !Number.isFinite(f.mbPerSec)) return;
      const w = Math.max(1, (plotW * f.mbPerSec) / max);
      const y = gy + j * barH;
      parts.push(`<rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${barH - 2}" fill="${COLORS[sys]}"/><text x="${left + w + 4}" y="${y + barH - 3}" class="s">${f.mbPerSec.toFixed(0)}</text>`);
    });
  });
  return { svg: parts.join('\n'), height: 40 + rows.length * groupH + 30 };
}

const PCTS: readonly [keyof LatencySummary, string][] = [
  ['p50Us', 'p50'],
  ['p90Us', 'p90'],
  ['p99Us', 'p99'],
  ['p999Us', 'p99.9'],
  ['p9999Us', 'p99.99'],
  ['maxUs', 'max'],
];

function latencyPanel(report: ScenarioReport | undefined, top: number, width: number): { svg: string; height: number } {
  const candidates: { label: string; color: string; dash: string; l: LatencySummary | undefined }[] = [
    { label: 'Strata end-to-end', color: COLORS.strata, dash: '', l: report?.systems.strata?.endToEnd },
    { label: 'Strata produce ack', color: COLORS.strata, dash: '5 3', l: report?.systems.strata?.produceAck },
    { label: 'mock produce ack', color: COLORS.mock, dash: '5 3', l: report?.systems.mock?.produceAck },
  ];
  const series = candidates.flatMap((c) => (c.l === undefined || c.l.count === 0 ? [] : [{ ...c, l: c.l }]));
  const plotH = 200;
  const left = 190;
  const plotW = width - left - 90;
  const parts: string[] = [`<text x="20" y="${top}" class="h">Latency at 10,000 msgs/s of 1 KiB (linger.ms=0): percentiles, ms (log scale; lower is better)</text>`];
  if (series.length === 0) return { svg: parts.concat(`<text x="${left}" y="${top + 30}">no latency data</text>`).join('\n'), height: 50 };
  parts.push(
    series
      .map((s, i) => `<line x1="${left + i * 190}" y1="${top + 18}" x2="${left + i * 190 + 22}" y2="${top + 18}" stroke="${s.color}" stroke-width="2" stroke-dasharray="${s.dash}"/><text x="${left + i * 190 + 28}" y="${top + 22}">${s.label}</text>`)
      .join(''),
  );
  const y0 = top + 40;
  const values = series.flatMap((s) => PCTS.map(([k]) => s.l[k] / 1000)).filter((v) => v > 0);
  const lo = 10 ** Math.floor(Math.log10(Math.min(...values)));
  const hi = 10 ** Math.ceil(Math.log10(Math.max(...values)));
  const yOf = (ms: number): number => y0 + plotH - (plotH * (Math.log10(Math.max(ms, lo)) - Math.log10(lo))) / (Math.log10(hi) - Math.log10(lo));
  for (let d = lo; d <= hi * 1.0001; d *= 10) {
    parts.push(`<line x1="${left}" y1="${yOf(d)}" x2="${left + plotW}" y2="${yOf(d)}" class="grid"/><text x="${left - 6}" y="${yOf(d) + 4}" text-anchor="end" class="s">${d >= 1 ? d.toFixed(0) : d.toPrecision(1)}</text>`);
  }
  if (5 > lo && 5 < hi) parts.push(`<line x1="${left}" y1="${yOf(5)}" x2="${left + plotW}" y2="${yOf(5)}" stroke="#c33" stroke-dasharray="4 3"/><text x="${left + plotW + 4}" y="${yOf(5) + 4}" class="s" fill="#c33">5 ms goal</text>`);
  const xOf = (i: number): number => left + 30 + ((plotW - 60) * i) / (PCTS.length - 1);
  PCTS.forEach(([, label], i) => parts.push(`<text x="${xOf(i)}" y="${y0 + plotH + 16}" text-anchor="middle" class="s">${label}</text>`));
  for (const { color, dash, l } of series) {
    const pts = PCTS.map(([k], i) => `${xOf(i).toFixed(1)},${yOf(l[k] / 1000).toFixed(1)}`);
    parts.push(`<polyline points="${pts.join(' ')}" fill="none" stroke="${color}" stroke-width="2" stroke-dasharray="${dash}"/>`);
    PCTS.forEach(([k], i) => {
      const v = l[k] / 1000;
      // Values are printed above the solid line and below the dashed ones, so close lines stay readable.
      const dy = dash === '' ? -6 : 13;
      parts.push(`<circle cx="${xOf(i).toFixed(1)}" cy="${yOf(v).toFixed(1)}" r="3" fill="${color}"/><text x="${(xOf(i) + 5).toFixed(1)}" y="${(yOf(v) + dy).toFixed(1)}" class="s">${v.toFixed(2)}</text>`);
    });
  }
  return { svg: parts.join('\n'), height: 40 + plotH + 30 };
}

export function renderSvg(reports: readonly ScenarioReport[], caption: string): string {
  const width = 900;
  const top = 76;
  const tp = throughputPanel(reports, top, width);
  const lat = latencyPanel(
    reports.find((r) => r.id === 'e2e-latency'),
    top + tp.height + 20,
    width,
  );
  const height = top + tp.height + 20 + lat.height + 10;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12">
<style>.h{font-weight:600;font-size:13px}.s{font-size:10px;fill:#444}.grid{stroke:#e3e3e3}</style>
<rect width="100%" height="100%" fill="#fff"/>
<text x="20" y="24" font-size="15" font-weight="600">Strata benchmark: rdkafka_performance against Strata, librdkafka's mock cluster and a raw TCP floor</text>
<text x="20" y="42" class="s">${esc(caption)}</text>
<text x="20" y="56" class="s">Ratios mean something only within one run: the machine is shared, absolute figures move with its load.</text>
${tp.svg}
${lat.svg}
</svg>
`;
}
