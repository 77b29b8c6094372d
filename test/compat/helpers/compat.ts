// Shared plumbing for the compatibility suite: run third-party clients as child processes, find out which
// are installed, and talk JSON to the Python drivers under test/compat/python/. The assertions stay in the
// TypeScript tests; the drivers only do what a user of each client library would do and report what they saw.
import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KafkaClient } from '../../../src/client/kafka-client.js';
import type { NewTopic } from '../../../src/client/types.js';
import { iterateBatches, type BatchHeader } from '../../../src/protocol/records/index.js';

export const PYTHON = '/usr/bin/python3';
const PY_DIR = join(dirname(fileURLToPath(import.meta.url)), '../python');
export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  readonly input?: string | Buffer;
  readonly timeoutMs?: number;
  readonly env?: NodeJS.ProcessEnv;
}

/** Runs a program to completion without blocking the event loop (a broker child may share it). */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((res, rej) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env: opts.env ?? process.env });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timeoutMs = opts.timeoutMs ?? 120_000;
    const timer = setTimeout(() => {
      stderr += `\n[killed after ${timeoutMs} ms]`;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      rej(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      res({ code, stdout: Buffer.concat(out).toString('utf8'), stderr });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });
}

/** Like run, but a non-zero exit is an error carrying the tail of stderr. */
export async function runChecked(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${cmd} ${args.slice(0, 4).join(' ')} exited with ${r.code}: ${r.stderr.trim().slice(-3000)}`);
  return r;
}

async function probe(cmd: string, args: string[]): Promise<boolean> {
  try {
    return (await run(cmd, args, { timeoutMs: 20_000 })).code === 0;
  } catch {
    return false;
  }
}

/** null when the client is usable, else why the tests needing it skip. */
export async function missing(client: 'kcat' | 'confluent-kafka-python' | 'kafka-python'): Promise<string | null> {
  const ok = client === 'kcat'
    ? await probe('kcat', ['-V'])
    : await probe(PYTHON, ['-c', `import ${client === 'kafka-python' ? 'kafka' : 'confluent_kafka'}`]);
  return ok ? null : `${client} is not installed (scripts/install-test-deps.sh installs it)`;
}

/**
 * Runs `test/compat/python/<script>.py <command>` with `request` as JSON on stdin and returns the JSON it
 * prints as its last stdout line. The drivers exit non-zero (with a traceback) only on a bug of their own.
 */
export async function python<T>(script: string, command: string, request: unknown, timeoutMs = 120_000): Promise<T> {
  const r = await runChecked(PYTHON, [join(PY_DIR, `${script}.py`), command], { input: JSON.stringify(request), timeoutMs });
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as T;
}

export const bootstrapOf = (port: number): string => `127.0.0.1:${port}`;

/** Creates topics with the repo's own client (the tests of other clients' admin calls do it their own way). */
export async function createTopics(port: number, topics: readonly NewTopic[]): Promise<void> {
  const client = new KafkaClient({ bootstrapServers: bootstrapOf(port), clientId: 'compat-setup' });
  try {
    const results = await client.createTopics(topics);
    for (const r of results) if (r.error !== null) throw r.error;
  } finally {
    await client.close();
  }
}

/** The API keys the broker advertises in ApiVersions. */
export async function advertisedApis(port: number): Promise<Set<number>> {
  const client = new KafkaClient({ bootstrapServers: bootstrapOf(port), clientId: 'compat-probe' });
  try {
    return new Set((await client.apiVersions()).keys());
  } finally {
    await client.close();
  }
}

/** A record as the Python drivers exchange it: bytes as hex (null stays null), headers as [key, hex] pairs. */
export interface WireRecord {
  readonly partition: number;
  readonly offset?: number;
  readonly key: string | null;
  readonly value: string | null;
  readonly headers?: readonly (readonly [string, string | null])[];
  readonly timestamp?: number;
  /** 0 none, 1 CreateTime, 2 LogAppendTime (librdkafka's numbering). */
  readonly timestampType?: number;
}

export const hex = (s: string | Buffer): string => (typeof s === 'string' ? Buffer.from(s, 'utf8') : s).toString('hex');
export const unhex = (h: string | null): string | null => (h === null ? null : Buffer.from(h, 'hex').toString('utf8'));

/** Groups records by partition, each list in the order given. */
export function byPartition<T extends { partition: number }>(records: readonly T[]): Map<number, T[]> {
  const m = new Map<number, T[]>();
  for (const r of records) {
    let list = m.get(r.partition);
    if (list === undefined) m.set(r.partition, (list = []));
    list.push(r);
  }
  return m;
}

/** Reads every partition of `topic` from the beginning to its end with kcat (librdkafka verifying CRCs); kcat expands \\n and \\t in `format` itself. */
export async function kcatConsumeAll(port: number, topic: string, format = '%p:%o:%k:%s\\n'): Promise<string[]> {
  const r = await runChecked('kcat', [
    '-C', '-b', bootstrapOf(port), '-t', topic, '-o', 'beginning', '-e', '-q', '-f', format,
    '-X', 'check.crcs=true', '-X', 'api.version.request=true',
  ], { timeoutMs: 120_000 });
  return r.stdout.split('\n').filter((l) => l !== '');
}

/** Splits "p:o:k:v" lines from kcatConsumeAll (values may contain ':'). */
export function parseKcatLines(lines: readonly string[]): { partition: number; offset: number; key: string; value: string }[] {
  return lines.map((line) => {
    const a = line.indexOf(':');
    const b = line.indexOf(':', a + 1);
    const c = line.indexOf(':', b + 1);
    return { partition: Number(line.slice(0, a)), offset: Number(line.slice(a + 1, b)), key: line.slice(b + 1, c), value: line.slice(c + 1) };
  });
}

/**
 * The batch headers of one partition as they lie in its segment files, in log order: what the broker stored
 * (codec, producer id and sequence), which no client API shows.
 */
export async function storedBatches(dataDir: string, topic: string, partition: number): Promise<BatchHeader[]> {
  const dir = join(dataDir, `${topic}-${partition}`);
  const out: BatchHeader[] = [];
  for (const f of (await readdir(dir)).filter((n) => n.endsWith('.log')).sort()) {
    for (const b of iterateBatches(await readFile(join(dir, f)))) out.push(b.header);
  }
  return out;
}

/** The first index where two lists of lines differ, with a few lines either side, or null when equal. */
export function firstDifference(got: readonly string[], want: readonly string[]): { index: number; got: string[]; want: string[] } | null {
  const n = Math.max(got.length, want.length);
  for (let i = 0; i < n; i++) {
    if (got[i] !== want[i]) return { index: i, got: got.slice(Math.max(0, i - 2), i + 3), want: want.slice(Math.max(0, i - 2), i + 3) };
  }
  return null;
}
