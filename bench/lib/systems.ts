// The systems a scenario runs against, behind one face: where to connect, which process to sample, how to
// get a topic with N partitions ready, and how to tear it all down.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { KafkaClient } from '../../src/client/kafka-client.js';
import { MockCluster } from './mock-cluster.js';
import { startPerf } from './rdkafka-perf.js';
import { StrataProcess } from './strata-process.js';

export const SYSTEMS = ['strata', 'mock', 'floor'] as const;
export type System = (typeof SYSTEMS)[number];
export type BrokerSystem = Exclude<System, 'floor'>;

export interface BenchEnv {
  readonly repoRoot: string;
  /** rdkafka_performance */
  readonly bin: string;
  /** Scratch space for data directories, files and logs of this run. */
  readonly workDir: string;
  /** Where broker CPU profiles go when profiling, else undefined. */
  readonly profileDir: string | undefined;
  readonly log: (line: string) => void;
}

/** A running broker-like process: Strata or the mock cluster. */
export interface Target {
  readonly system: BrokerSystem;
  readonly bootstrap: string;
  readonly pid: number;
  /** Creates the topic (Strata: CreateTopics; mock: auto-creation) and waits until every partition has a leader. */
  createTopic(name: string, partitions: number): Promise<void>;
  close(): Promise<void>;
}

let seq = 0;

export async function startStrata(env: BenchEnv, label: string): Promise<{ target: Target & { broker: StrataProcess; dataDir: string }; readyMs: number }> {
  const dir = join(env.workDir, `strata-${label}-${++seq}`);
  const dataDir = join(dir, 'data');
  const { broker, readyMs } = await StrataProcess.start({
    repoRoot: env.repoRoot,
    dataDir,
    logFile: `${dir}.log`,
    // One directory per broker: Node writes one profile per thread (tsx's module loader has its own).
    nodeFlags: env.profileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', join(env.profileDir, `strata-${label}-${seq}`)],
  });
  const target = {
    system: 'strata' as const,
    broker,
    dataDir,
    bootstrap: broker.bootstrap,
    pid: broker.pid,
    async createTopic(name: string, partitions: number): Promise<void> {
      const client = new KafkaClient({ bootstrapServers: broker.bootstrap, requestTimeoutMs: 60_000 });
      try {
        // A broker that has just started may still be fenced for a moment: then there is nowhere to put
        // the replicas yet, and asking again shortly is what a patient admin would do.
        for (let attempt = 0; ; attempt++) {
          const [r] = await client.createTopics([{ name, numPartitions: partitions, replicationFactor: 1 }], { timeoutMs: 60_000 });
          if (r?.error == null) break;
          if (!/fenced/i.test(r.error.message) || attempt >= 100) throw r.error;
          await new Promise((res) => setTimeout(res, 100));
        }
      } finally {
        await client.close();
      }
      await broker.waitReady(60_000, { name, partitions });
    },
    async close(): Promise<void> {
      await broker.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return { target, readyMs };
}

export async function startMock(env: BenchEnv, opts: { partitions: number; retainBytes?: number }): Promise<Target> {
  const mock = await MockCluster.start(env.bin, { partitions: opts.partitions, retainBytes: opts.retainBytes ?? 0 });
  return {
    system: 'mock',
    bootstrap: mock.bootstrap,
    pid: mock.pid,
    async createTopic(name: string): Promise<void> {
      // The mock has no CreateTopics and answers our client's ApiVersions v4 in a shape that is neither v0
      // nor v4, so the topic is auto-created (with the cluster's partition count) by producing one small
      // record with librdkafka itself.
      const run = startPerf(env.bin, ['-P', '-t', name, '-s', '8', '-c', '1', '-b', mock.bootstrap], { timeoutMs: 30_000 });
      const exit = await run.done;
      if (exit.code !== 0) throw new Error(`could not create ${name} on the mock cluster:\n${exit.stdout}${exit.stderr}`);
    },
    close: () => mock.stop(),
  };
}
