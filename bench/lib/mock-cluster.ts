// The ceiling reference: librdkafka's in-memory mock cluster, hosted by an idle rdkafka_performance process
// (`-I -X test.mock.num.brokers=1`) so that it runs as a separate process on loopback exactly where Strata
// runs, and so that a consumer can read what a producer wrote. The bench's build of librdkafka lets the mock
// keep a whole topic in memory and create topics with the scenario's partition count (see
// scripts/build-rdkafka-perf.sh); both are set per cluster through the environment.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

export class MockCluster {
  readonly child: ChildProcess;
  readonly bootstrap: string;
  readonly #exited: Promise<void>;

  private constructor(child: ChildProcess, bootstrap: string) {
    this.child = child;
    this.bootstrap = bootstrap;
    this.#exited = once(child, 'exit').then(() => undefined);
  }

  get pid(): number {
    return this.child.pid!;
  }

  static async start(bin: string, opts: { partitions: number; retainBytes: number }): Promise<MockCluster> {
    const child = spawn(bin, ['-P', '-I', '-t', '__strata_bench_mock_host', '-X', 'test.mock.num.brokers=1'], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: {
        ...process.env,
        STRATA_MOCK_PARTITIONS: String(opts.partitions),
        STRATA_MOCK_PARTITION_MAX_BYTES: String(Math.max(opts.retainBytes, 5 * 1024 * 1024)),
      },
    });
    let stderr = '';
    const bootstrap = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the mock cluster did not announce its address:\n${stderr}`)), 15_000);
      child.stderr!.setEncoding('utf8').on('data', (d: string) => {
        stderr += d;
        const m = /Mock cluster enabled: .* replaced with (\S+)/.exec(stderr);
        if (m !== null) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
      child.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the mock cluster host exited (${code}):\n${stderr}`));
      });
    });
    // Keep draining its log so a full pipe never stalls it.
    child.stderr!.removeAllListeners('data').resume();
    return new MockCluster(child, bootstrap);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGINT');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await this.#exited;
    clearTimeout(timer);
  }
}
