// A `strata start` child process for one scenario: its own data directory and port, its log in a file, ready
// once a real client request (Metadata) is answered. Stopped with SIGTERM (a clean shutdown) or SIGKILL.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { KafkaClient } from '../../src/client/kafka-client.js';

export interface StrataOptions {
  readonly repoRoot: string;
  readonly dataDir: string;
  readonly logFile: string;
  /** Reuse a port (a restart keeps its address); a free one by default. */
  readonly port?: number;
  /** Node flags for the broker, e.g. --cpu-prof. */
  readonly nodeFlags?: readonly string[];
  readonly overrides?: Readonly<Record<string, string>>;
}

/** A free TCP port on loopback, by binding port 0 and letting it go. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const addr = server.address();
  server.close();
  if (addr === null || typeof addr === 'string') throw new Error('no port');
  return addr.port;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let builtEntry: string | undefined;

/**
 * Compiles `src` into `dist` (tsc, as `npm install` does) the first time a run needs a broker, and returns
 * the CLI's entry point there: the broker measured is the one `npm start` runs, not a transpilation on the
 * fly, whose helpers (esbuild's function naming) cost a few percent of its CPU.
 */
export function buildStrata(repoRoot: string): string {
  if (builtEntry === undefined) {
    execFileSync(process.execPath, [join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(repoRoot, 'tsconfig.build.json')], {
      cwd: repoRoot,
      stdio: 'inherit',
    });
    builtEntry = join(repoRoot, 'dist', 'src', 'cli', 'main.js');
  }
  return builtEntry;
}

export class StrataProcess {
  readonly child: ChildProcess;
  readonly port: number;
  readonly bootstrap: string;
  readonly #logFile: string;
  readonly #exited: Promise<void>;

  private constructor(child: ChildProcess, port: number, logFile: string) {
    this.child = child;
    this.port = port;
    this.bootstrap = `127.0.0.1:${port}`;
    this.#logFile = logFile;
    this.#exited = once(child, 'exit').then(() => undefined);
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Spawns the broker; resolves as soon as the process exists (see waitReady). */
  static spawn(opts: StrataOptions, port: number): StrataProcess {
    mkdirSync(opts.dataDir, { recursive: true });
    const args = [
      ...(opts.nodeFlags ?? []),
      buildStrata(opts.repoRoot),
      'start',
      '--data-dir',
      opts.dataDir,
      '--port',
      String(port),
      '--log-level',
      'warn',
      ...Object.entries(opts.overrides ?? {}).flatMap(([k, v]) => ['--override', `${k}=${v}`]),
    ];
    const log = createWriteStream(opts.logFile, { flags: 'a' });
    const child = spawn(process.execPath, args, { cwd: opts.repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.pipe(log);
    child.stderr!.pipe(log);
    return new StrataProcess(child, port, opts.logFile);
  }

  /** Starts a broker and waits until it serves; also returns the milliseconds that took. */
  static async start(opts: StrataOptions): Promise<{ broker: StrataProcess; readyMs: number }> {
    const started = performance.now();
    const broker = StrataProcess.spawn(opts, opts.port ?? (await freePort()));
    await broker.waitReady(120_000);
    return { broker, readyMs: performance.now() - started };
  }

  /**
   * Resolves once the broker answers Metadata — and, when `topic` is given, reports a leader for all
   * `partitions` of it (what a client needs before it can produce or fetch).
   */
  async waitReady(timeoutMs: number, topic?: { name: string; partitions: number }): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    let lastError = '';
    while (performance.now() < deadline) {
      if (!this.running) throw new Error(`strata exited during startup (code ${this.child.exitCode}):\n${await this.logTail()}`);
      const client = new KafkaClient({ bootstrapServers: this.bootstrap, connectTimeoutMs: 1_000, requestTimeoutMs: 5_000, retries: 0 });
      try {
        const md = await client.refreshMetadata(topic === undefined ? [] : [topic.name]);
        // Metadata lists only unfenced brokers: until this one is listed it cannot host a new topic.
        const t = topic === undefined ? undefined : md.topics.get(topic.name);
        if (md.brokers.length === 0) lastError = 'no unfenced broker in the metadata yet';
        else if (topic === undefined) return;
        else if (t !== undefined && t.partitions.length === topic.partitions && t.partitions.every((p) => p.leader >= 0)) return;
        else lastError = `topic ${topic.name} not served yet`;
      } catch (err) {
        lastError = (err as Error).message;
      } finally {
        await client.close().catch(() => undefined);
      }
      await sleep(20);
    }
    throw new Error(`strata did not become ready in ${timeoutMs} ms: ${lastError}\n${await this.logTail()}`);
  }

  /** SIGTERM and wait for the process to exit (a clean shutdown); SIGKILL after `graceMs`. */
  async stop(graceMs = 60_000): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.#exited;
    clearTimeout(timer);
  }

  async kill9(): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGKILL');
    await this.#exited;
  }

  async logTail(lines = 30): Promise<string> {
    const text = await readFile(this.#logFile, 'utf8').catch(() => '');
    return text.trimEnd().split('\n').slice(-lines).join('\n');
  }
}
