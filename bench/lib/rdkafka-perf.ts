// Driving librdkafka's rdkafka_performance: finding (building once) the binary, running it with a deadline,
// and reading the summary line it prints last. Its MB/s are bytes per microsecond, i.e. 10^6 bytes per second,
// which is the unit the whole bench reports.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Histogram } from './histogram.js';

export interface PerfRun {
  readonly child: ChildProcess;
  /** Resolves when the process exits (never rejects): its output and how it ended. */
  readonly done: Promise<PerfExit>;
}

export interface PerfExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
  readonly wallMs: number;
}

/** What a producer or consumer run achieved, from its final summary line. */
export interface Throughput {
  readonly msgs: number;
  readonly bytes: number;
  readonly ms: number;
  readonly msgsPerSec: number;
  readonly mbPerSec: number;
  /** Producer only: deliveries that failed. */
  readonly failed?: number;
}

/** Builds rdkafka_performance on first use (scripts/build-rdkafka-perf.sh) and returns its path. */
export function rdkafkaPerformance(repoRoot: string): string {
  const fromEnv = process.env['RDKAFKA_PERFORMANCE'];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  const out = execFileSync('bash', [join(repoRoot, 'scripts', 'build-rdkafka-perf.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const path = out.trim().split('\n').pop() ?? '';
  if (path === '') throw new Error('scripts/build-rdkafka-perf.sh did not print the binary path');
  return path;
}

export function startPerf(bin: string, args: readonly string[], opts: { timeoutMs: number; env?: NodeJS.ProcessEnv }): PerfRun {
  const started = performance.now();
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    // SIGINT lets it print its summary for what it did before the deadline; SIGKILL if that hangs too.
    child.kill('SIGINT');
    setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
  }, opts.timeoutMs);
  const done = new Promise<PerfExit>((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut, wallMs: performance.now() - started });
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: -1, signal: null, stdout, stderr: `${stderr}\n${err.message}`, timedOut, wallMs: performance.now() - started });
    });
  });
  return { child, done };
}

const PRODUCED =
  /% (\d+) messages produced \((\d+) bytes\), (\d+) delivered \(offset -?\d+, (\d+) failed\) in (\d+)ms: (\d+) msgs\/s and ([\d.]+) MB\/s/g;
const CONSUMED = /% (\d+) messages \((\d+) bytes\) consumed in (\d+)ms: (\d+) msgs\/s \(([\d.]+) MB\/s\)/g;

function last<T>(it: IterableIterator<T>): T | undefined {
  let v: T | undefined;
  for (const x of it) v = x;
  return v;
}

/** The producer's final summary; msgs and bytes count delivered messages only. */
export function parseProducerSummary(stdout: string): Throughput | undefined {
  const m = last(stdout.matchAll(PRODUCED));
  if (m === undefined) return undefined;
  const produced = Number(m[1]);
  const delivered = Number(m[3]);
  const bytes = produced === 0 ? 0 : Math.round((Number(m[2]) * delivered) / produced);
  return { msgs: delivered, bytes, ms: Number(m[5]), msgsPerSec: Number(m[6]), mbPerSec: Number(m[7]), failed: Number(m[4]) };
}

export function parseConsumerSummary(stdout: string): Throughput | undefined {
  const m = last(stdout.matchAll(CONSUMED));
  if (m === undefined) return undefined;
  return { msgs: Number(m[1]), bytes: Number(m[2]), ms: Number(m[3]), msgsPerSec: Number(m[4]), mbPerSec: Number(m[5]) };
}

/** The per-message latencies (microseconds, one per line) that `-l -A <file>` writes. */
export async function readLatencyFile(path: string): Promise<Histogram> {
  const h = new Histogram();
  const text = await readFile(path, 'utf8').catch(() => '');
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    if (end > start) h.record(Number(text.slice(start, end)));
    start = end + 1;
  }
  return h;
}

/** rdkafka_performance's -X pairs for a config object. */
export function xArgs(conf: Readonly<Record<string, string | number | boolean>>): string[] {
  return Object.entries(conf).flatMap(([k, v]) => ['-X', `${k}=${String(v)}`]);
}

/** `-p 0 -p 1 …` for the first `n` partitions (consumer mode needs them listed). */
export function partitionArgs(n: number): string[] {
  return Array.from({ length: n }, (_, i) => ['-p', String(i)]).flat();
}
