// Runs `strata start` as a real child process, the way a user would, and reports where it listens.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

// A test that fails before stopping its broker must not leave it running: its pipes would keep this test
// file's process alive (the suite then never ends) and it would hold its port and data directory. Every
// broker still running when this process exits is killed.
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export interface StrataProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly port: number;
  readonly nodeId: number;
  readonly clusterId: string;
  readonly dataDir: string;
  /** Every JSON log line so far. */
  readonly logs: Record<string, unknown>[];
  /** Sends SIGTERM and resolves with the exit code. */
  stop(): Promise<number | null>;
  /** Resolves with the exit code once the process has exited (whatever made it exit). */
  readonly exited: Promise<number | null>;
  /** Removes the data directory (after stop). */
  cleanup(): Promise<void>;
}

/** `--port 0` is passed unless `listenersFromConfig`; `port` is the first listener's bound port either way. */
export async function startStrata(
  extraArgs: string[] = [],
  opts: { nodeId?: number; dataDir?: string; listenersFromConfig?: boolean } = {},
): Promise<StrataProcess> {
  const dataDir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), 'strata-it-')));
  const args = ['--import', 'tsx', join(REPO, 'src/cli/main.ts'), 'start', '--data-dir', dataDir, '--node-id', String(opts.nodeId ?? 1), ...(opts.listenersFromConfig === true ? [] : ['--port', '0']), ...extraArgs];
  const child = spawn(process.execPath, args, { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_ENV: 'test' } });
  const logs: Record<string, unknown>[] = [];
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  running.add(child);
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => {
    running.delete(child);
    res(code);
  }));
  const started = new Promise<Record<string, unknown>>((res, rej) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      logs.push(entry);
      if (entry.msg === 'Strata started') res(entry);
    });
    void exited.then((code) => rej(new Error(`strata exited with ${code} before starting: ${stderr}\n${JSON.stringify(logs)}`)));
  });
  const entry = await started;
  const port = logs.find((l) => l.msg === 'Awaiting socket connections')!.port as number;
  return {
    child,
    pid: child.pid!,
    port,
    nodeId: entry.nodeId as number,
    clusterId: entry.clusterId as string,
    dataDir,
    logs,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
    cleanup: () => rm(dataDir, { recursive: true, force: true }),
  };
}
