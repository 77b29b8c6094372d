// Where a broker's CPU time went, from the .cpuprofile files `node --cpu-prof` writes: self time and
// inclusive time per function (name, file, line), as text. Flame graphs can be drawn from the same files
// (e.g. Chrome DevTools or speedscope); this gives the top of the list without leaving the terminal.
import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly hitCount?: number;
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples?: readonly number[];
  readonly timeDeltas?: readonly number[];
}

export interface Window {
  readonly startUs: number;
  readonly endUs: number;
}

export interface FunctionCost {
  readonly fn: string;
  readonly selfMs: number;
  readonly totalMs: number;
}

function label(n: ProfileNode, root: string): string {
  const url = n.callFrame.url.replace(/^file:\/\//, '');
  const where = url === '' ? '' : ` ${url.startsWith(root) ? relative(root, url) : url.replace(/.*node_modules\//, 'node_modules/')}:${n.callFrame.lineNumber + 1}`;
  return `${n.callFrame.functionName || '(anonymous)'}${where}`;
}

/** Hits per node: all of them, or only the samples taken inside `windows`. */
function hitsIn(p: CpuProfile, windows: readonly Window[]): { hits: Map<number, number>; ms: number } {
  const all = new Map(p.nodes.map((n) => [n.id, n.hitCount ?? 0]));
  const samples = p.samples ?? [];
  const deltas = p.timeDeltas ?? [];
  if (windows.length === 0 || deltas.length !== samples.length) return { hits: all, ms: (p.endTime - p.startTime) / 1000 };
  const hits = new Map<number, number>();
  let t = p.startTime;
  let last = t;
  let ms = 0;
  for (let i = 0; i < samples.length; i++) {
    t += deltas[i]!;
    if (windows.some((w) => t >= w.startUs && t <= w.endUs)) {
      hits.set(samples[i]!, (hits.get(samples[i]!) ?? 0) + 1);
      ms += (t - last) / 1000;
    }
    last = t;
  }
  return { hits, ms };
}

/**
 * Self and inclusive time per function. With `windows` (monotonic microseconds, the profile's own clock),
 * only samples inside them count: the measured phases, not startup or topic creation.
 */
export async function analyzeProfile(file: string, repoRoot: string, windows: readonly Window[] = []): Promise<{ totalMs: number; functions: FunctionCost[] }> {
  const p = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const { hits: hitsByNode, ms: totalMs } = hitsIn(p, windows);
  const totalSamples = [...hitsByNode.values()].reduce((s, h) => s + h, 0);
  const msPerSample = totalSamples === 0 ? 0 : totalMs / totalSamples;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  for (const n of p.nodes) {
    const hits = hitsByNode.get(n.id) ?? 0;
    if (hits === 0) continue;
    const name = label(n, repoRoot);
    self.set(name, (self.get(name) ?? 0) + hits);
    // Inclusive: every distinct function on the stack gets the hits once (recursion is not double-counted).
    const seen = new Set<string>();
    for (let id: number | undefined = n.id; id !== undefined; id = parent.get(id)) {
      const f = label(byId.get(id)!, repoRoot);
      if (seen.has(f)) continue;
      seen.add(f);
      total.set(f, (total.get(f) ?? 0) + hits);
    }
  }
  const functions = [...total.entries()].map(([fn, t]) => ({ fn, selfMs: (self.get(fn) ?? 0) * msPerSample, totalMs: t * msPerSample }));
  return { totalMs, functions };
}

export function renderProfile(name: string, a: { totalMs: number; functions: readonly FunctionCost[] }, top = 25): string {
  const idle = a.functions.find((f) => f.fn.startsWith('(idle)'))?.selfMs ?? 0;
  const busy = a.totalMs - idle;
  const row = (f: FunctionCost, v: number): string => `  ${v.toFixed(0).padStart(7)} ms  ${((v / Math.max(busy, 1)) * 100).toFixed(1).padStart(5)}%  ${f.fn}`;
  const bySelf = [...a.functions].filter((f) => !f.fn.startsWith('(idle)') && !f.fn.startsWith('(root)')).sort((x, y) => y.selfMs - x.selfMs);
  const byTotal = [...a.functions].filter((f) => !f.fn.startsWith('(idle)') && !f.fn.startsWith('(root)') && !f.fn.startsWith('(program)')).sort((x, y) => y.totalMs - x.totalMs);
  return [
    `${name}: ${a.totalMs.toFixed(0)} ms profiled, ${busy.toFixed(0)} ms busy (percentages of busy time)`,
    ' self time:',
    ...bySelf.slice(0, top).map((f) => row(f, f.selfMs)),
    ' inclusive time:',
    ...byTotal.slice(0, top).map((f) => row(f, f.totalMs)),
  ].join('\n');
}
