// The raw floor reference: the same byte volume as a scenario, streamed over loopback TCP by a minimal source
// into a minimal sink that writes it to a file (produce) or from a file into a sink that drops it (consume).
// What the machine's network stack and page cache cost with no protocol at all.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ProcSampler, type ProcUsage } from './proc-stats.js';

export interface FloorResult {
  readonly bytes: number;
  readonly ms: number;
  readonly mbPerSec: number;
  /** The sink's resources: it stands where the broker stands. */
  readonly usage: ProcUsage;
}

function worker(repoRoot: string, args: readonly string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'bench', 'lib', 'raw-floor-worker.ts'), ...args], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

/**
 * Streams `bytes` into `file` (produce floor) or, with `fromFile`, streams that file into a discarding sink
 * (consume floor).
 */
export async function runFloor(repoRoot: string, opts: { bytes: number; file: string; fromFile?: boolean }): Promise<FloorResult> {
  const sink = worker(repoRoot, ['sink', opts.fromFile === true ? '-' : opts.file]);
  const lines = createInterface({ input: sink.stdout! });
  const iter = lines[Symbol.asyncIterator]();
  const next = async (): Promise<Record<string, number>> => {
    for (;;) {
      const r = await iter.next();
      if (r.done === true) throw new Error('raw floor sink exited without a result');
      if (r.value.trim().startsWith('{')) return JSON.parse(r.value) as Record<string, number>;
    }
  };
  const { port } = await next();
  const sampler = new ProcSampler(sink.pid!).start();
  const source = worker(repoRoot, opts.fromFile === true ? ['source-file', String(port), opts.file] : ['source', String(port), String(opts.bytes)]);
  const result = await next();
  const usage = sampler.stop();
  await Promise.all([once(sink, 'exit'), source.exitCode === null ? once(source, 'exit') : Promise.resolve()]);
  const bytes = result['bytes'] ?? 0;
  const ms = result['ms'] ?? 0;
  return { bytes, ms, mbPerSec: ms > 0 ? bytes / ms / 1000 : 0, usage };
}
