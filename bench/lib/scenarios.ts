// The scenarios of issue 6, each runnable against Strata, the mock cluster and (where it is a byte stream)
// the raw floor. A run returns measurements; the caller alternates systems and rounds.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { KafkaClient } from '../../src/client/kafka-client.js';
import type { LatencySummary } from './histogram.js';
import { ProcSampler, type ProcUsage } from './proc-stats.js';
import { runFloor } from './raw-floor.js';
import { parseConsumerSummary, parseProducerSummary, partitionArgs, readLatencyFile, startPerf, xArgs, type PerfExit, type Throughput } from './rdkafka-perf.js';
import { StrataProcess } from './strata-process.js';
import { startMock, startStrata, type BenchEnv, type BrokerSystem, type System, type Target } from './systems.js';

export interface Sizes {
  readonly rounds: number;
  readonly produce1kMsgs: number;
  readonly produce100bMsgs: number;
  readonly catchupBytes: number;
  readonly tailMsgs: number;
  readonly e2eSeconds: number;
  /** Seconds at the same rate before the measured pass, whose latencies are discarded. */
  readonly e2eWarmUpSeconds: number;
  readonly partitions1000Msgs: number;
  readonly timeoutMs: number;
}

export const QUICK: Sizes = {
  rounds: 1,
  produce1kMsgs: 500_000,
  produce100bMsgs: 2_000_000,
  catchupBytes: 512 * 1024 * 1024,
  tailMsgs: 300_000,
  e2eSeconds: 8,
  e2eWarmUpSeconds: 3,
  partitions1000Msgs: 200_000,
  timeoutMs: 90_000,
};

export const FULL: Sizes = {
  // Three, so that the median over rounds sets one disturbed round aside (the machines are shared).
  rounds: 3,
  produce1kMsgs: 1_000_000,
  produce100bMsgs: 4_000_000,
  catchupBytes: 2 * 1024 * 1024 * 1024,
  tailMsgs: 1_000_000,
  e2eSeconds: 20,
  e2eWarmUpSeconds: 5,
  partitions1000Msgs: 500_000,
  timeoutMs: 240_000,
};

export interface Measurement {
  readonly scenario: string;
  readonly system: System;
  readonly round: number;
  readonly mbPerSec?: number;
  readonly msgsPerSec?: number;
  readonly msgs?: number;
  readonly bytes?: number;
  readonly ms?: number;
  readonly latency?: { readonly endToEnd?: LatencySummary; readonly produceAck?: LatencySummary };
  /** The broker's (mock host's, floor sink's) resources over the measured phase. */
  readonly usage?: ProcUsage;
  /** Scenario-specific figures: times in ms, other phases' peaks in bytes (names ending in PeakRssBytes). */
  readonly extra?: Readonly<Record<string, number>>;
  readonly error?: string;
}

export interface Scenario {
  readonly id: string;
  readonly title: string;
  readonly systems: readonly System[];
  /** Its figures come from another scenario's run (the restart uses the catch-up's data). */
  readonly derived?: boolean;
  /** Which figure the table leads with. */
  readonly primary: 'mbPerSec' | 'msgsPerSec' | 'p99' | 'restart';
  run(env: BenchEnv, sizes: Sizes, system: System, round: number): Promise<Measurement[]>;
}

const PRODUCER_BASE = { 'linger.ms': 5, 'batch.size': 1_048_576 } as const;
const MSG = 1024;

// ---- building blocks ------------------------------------------------------------------------------

/** The mock cluster's topics hold the one record that created them; consumers from the start see it too. */
const preloaded = (t: Target): number => (t.system === 'mock' ? 1 : 0);

async function openTarget(env: BenchEnv, system: BrokerSystem, label: string, opts: { partitions: number; retainBytes?: number }): Promise<{ target: Target; readyMs: number }> {
  if (system === 'strata') return startStrata(env, label);
  const started = performance.now();
  const target = await startMock(env, opts);
  return { target, readyMs: performance.now() - started };
}

interface ProduceOpts {
  readonly topic: string;
  readonly msgs: number;
  readonly size: number;
  readonly acks?: number;
  readonly conf?: Readonly<Record<string, string | number | boolean>>;
  readonly rate?: number;
  readonly latencyFile?: string;
}

function producerArgs(target: Target, o: ProduceOpts): string[] {
  return [
    '-P',
    '-t',
    o.topic,
    '-s',
    String(o.size),
    '-c',
    String(o.msgs),
    '-a',
    String(o.acks ?? 1),
    '-b',
    target.bootstrap,
    ...xArgs({ ...PRODUCER_BASE, ...o.conf }),
    ...(o.rate === undefined ? [] : ['-r', String(o.rate)]),
    ...(o.latencyFile === undefined ? [] : ['-l', '-A', o.latencyFile]),
  ];
}

function consumerArgs(target: Target, o: { topic: string; partitions: number; msgs: number; latencyFile?: string }): string[] {
  return [
    '-C',
    '-t',
    o.topic,
    ...partitionArgs(o.partitions),
    '-o',
    'beginning',
    '-c',
    String(o.msgs + preloaded(target)),
    '-b',
    target.bootstrap,
    ...(o.latencyFile === undefined ? [] : ['-l', '-A', o.latencyFile]),
  ];
}

function describeFailure(what: string, exit: PerfExit): string {
  const tail = `${exit.stdout}\n${exit.stderr}`.trim().split('\n').slice(-6).join('\n');
  return `${what}: ${exit.timedOut ? 'timed out' : `exit ${exit.code ?? exit.signal}`}\n${tail}`;
}

function producerResult(exit: PerfExit, expected: number): { tp?: Throughput; error?: string } {
  const tp = parseProducerSummary(exit.stdout);
  if (tp === undefined) return { error: describeFailure('producer printed no summary', exit) };
  if (tp.msgs < expected || exit.code !== 0) return { tp, error: describeFailure(`producer delivered ${tp.msgs}/${expected}`, exit) };
  return { tp };
}

function consumerResult(exit: PerfExit, expected: number): { tp?: Throughput; error?: string } {
  const tp = parseConsumerSummary(exit.stdout);
  if (tp === undefined) return { error: describeFailure('consumer printed no summary', exit) };
  if (tp.msgs < expected) return { tp, error: describeFailure(`consumer received ${tp.msgs}/${expected}`, exit) };
  return { tp };
}

function throughputFields(tp: Throughput | undefined): Partial<Measurement> {
  return tp === undefined ? {} : { mbPerSec: tp.mbPerSec, msgsPerSec: tp.msgsPerSec, msgs: tp.msgs, bytes: tp.bytes, ms: tp.ms };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ---- produce --------------------------------------------------------------------------------------

/**
 * Each produce measurement follows a pass of this share of its volume to another topic of the same system:
 * a freshly started broker spends its first seconds compiling its hot path (a perf sample of the first 2 s
 * of produce-1k found 14% of the broker's CPU in V8's optimizing compiler), which a measurement of about
 * 1.5 s would otherwise count as throughput. The mock gets the same pass; the floor's sink is started fresh.
 */
const WARM_UP_SHARE = 0.2;

async function warmUp(env: BenchEnv, sizes: Sizes, target: Target, o: { topic: string; partitions: number; msgs: number; size: number; acks: number; conf: Readonly<Record<string, string | number | boolean>> }): Promise<void> {
  await target.createTopic(o.topic, o.partitions);
  const exit = await startPerf(env.bin, producerArgs(target, { topic: o.topic, msgs: o.msgs, size: o.size, acks: o.acks, conf: o.conf }), { timeoutMs: sizes.timeoutMs }).done;
  const { error } = producerResult(exit, o.msgs);
  if (error !== undefined) throw new Error(`warm-up: ${error}`);
}

function produceScenario(id: string, title: string, opts: { size: number; acks?: number; conf?: Record<string, string | number | boolean>; floor: boolean; primary?: 'mbPerSec' | 'msgsPerSec' }): Scenario {
  const partitions = 6;
  const count = (s: Sizes): number => (opts.size === MSG ? s.produce1kMsgs : s.produce100bMsgs);
  return {
    id,
    title,
    systems: opts.floor ? ['strata', 'mock', 'floor'] : ['strata', 'mock'],
    primary: opts.primary ?? 'mbPerSec',
    async run(env, sizes, system, round) {
      const msgs = count(sizes);
      if (system === 'floor') {
        const file = join(env.workDir, `floor-${id}-${round}.bin`);
        try {
          const f = await runFloor(env.repoRoot, { bytes: msgs * opts.size, file });
          return [{ scenario: id, system, round, mbPerSec: f.mbPerSec, msgsPerSec: (msgs * 1000) / f.ms, bytes: f.bytes, ms: f.ms, usage: f.usage }];
        } finally {
          await rm(file, { force: true });
        }
      }
      const { target } = await openTarget(env, system, id, { partitions });
      try {
        const topic = `bench-${id}`;
        await target.createTopic(topic, partitions);
        await warmUp(env, sizes, target, { topic: `${topic}-warm-up`, partitions, msgs: Math.ceil(msgs * WARM_UP_SHARE), size: opts.size, acks: opts.acks ?? 1, conf: opts.conf ?? {} });
        const sampler = new ProcSampler(target.pid, id).start();
        const exit = await startPerf(env.bin, producerArgs(target, { topic, msgs, size: opts.size, acks: opts.acks ?? 1, conf: opts.conf ?? {} }), { timeoutMs: sizes.timeoutMs }).done;
        const usage = sampler.stop();
        const { tp, error } = producerResult(exit, msgs);
        return [{ scenario: id, system, round, ...throughputFields(tp), usage, ...(error === undefined ? {} : { error }) }];
      } finally {
        await target.close();
      }
    },
  };
}

// ---- catch-up consume, with the restart measurement on the data it leaves ----------------------------

/** Polls until ListOffsets reports the expected total of end offsets: the node serves the data again. */
async function waitServing(bootstrap: string, topic: string, expectedTotal: number, timeoutMs: number): Promise<number> {
  const started = performance.now();
  let last = '';
  while (performance.now() - started < timeoutMs) {
    const client = new KafkaClient({ bootstrapServers: bootstrap, connectTimeoutMs: 1_000, requestTimeoutMs: 10_000, retries: 0 });
    try {
      const offsets = await client.listOffsets(topic, 'latest');
      const total = offsets.reduce((s, o) => s + o.offset, 0);
      if (total === expectedTotal) return performance.now() - started;
      last = `end offsets total ${total}, expected ${expectedTotal}`;
    } catch (err) {
      last = (err as Error).message;
    } finally {
      await client.close().catch(() => undefined);
    }
    await sleep(20);
  }
  throw new Error(`not serving ${topic} after ${timeoutMs} ms: ${last}`);
}

async function endOffsetsTotal(bootstrap: string, topic: string): Promise<number> {
  const client = new KafkaClient({ bootstrapServers: bootstrap });
  try {
    return (await client.listOffsets(topic, 'latest')).reduce((s, o) => s + o.offset, 0);
  } finally {
    await client.close();
  }
}

async function measureRestarts(env: BenchEnv, target: Target & { broker: StrataProcess; dataDir: string }, topic: string, round: number, coldStartMs: number): Promise<Measurement> {
  const expected = await endOffsetsTotal(target.bootstrap, topic);
  const restart = async (label: string): Promise<{ broker: StrataProcess; ms: number; usage: ProcUsage }> => {
    const started = performance.now();
    const broker = StrataProcess.spawn({ repoRoot: env.repoRoot, dataDir: target.dataDir, logFile: `${target.dataDir}-${label}.log` }, target.broker.port);
    const sampler = new ProcSampler(broker.pid, `restart ${label}`).start();
    try {
      await waitServing(broker.bootstrap, topic, expected, 300_000);
    } catch (err) {
      await broker.kill9();
      throw err;
    }
    return { broker, ms: performance.now() - started, usage: sampler.stop() };
  };
  // First the crash, on the broker that wrote the data (its recovery point is wherever its last flush
  // left it), then a clean shutdown of the recovered broker and a restart after that.
  await target.broker.kill9();
  const crashed = await restart('after-kill9');
  const t0 = performance.now();
  await crashed.broker.stop();
  const shutdownMs = performance.now() - t0;
  const clean = await restart('after-clean');
  await clean.broker.stop();
  return {
    scenario: 'restart',
    system: 'strata',
    round,
    ms: crashed.ms,
    usage: crashed.usage,
    bytes: expected * MSG,
    extra: {
      emptyStartMs: coldStartMs,
      cleanShutdownMs: shutdownMs,
      afterCleanShutdownMs: clean.ms,
      afterKill9Ms: crashed.ms,
      afterCleanPeakRssBytes: clean.usage.peakRssBytes,
    },
  };
}

const catchUp: Scenario = {
  id: 'consume-catchup',
  title: 'consume from the start of a large topic (catch-up)',
  systems: ['strata', 'mock', 'floor'],
  primary: 'mbPerSec',
  async run(env, sizes, system, round) {
    const msgs = Math.floor(sizes.catchupBytes / MSG);
    const id = 'consume-catchup';
    if (system === 'floor') {
      const file = join(env.workDir, `floor-catchup-${round}.bin`);
      try {
        await runFloor(env.repoRoot, { bytes: msgs * MSG, file });
        const f = await runFloor(env.repoRoot, { bytes: msgs * MSG, file, fromFile: true });
        return [{ scenario: id, system, round, mbPerSec: f.mbPerSec, msgsPerSec: (msgs * 1000) / f.ms, bytes: f.bytes, ms: f.ms, usage: f.usage }];
      } finally {
        await rm(file, { force: true });
      }
    }
    const partitions = 6;
    const { target, readyMs } = await openTarget(env, system, id, { partitions, retainBytes: msgs * MSG * 2 });
    try {
      const topic = 'bench-catchup';
      await target.createTopic(topic, partitions);
      const fillSampler = new ProcSampler(target.pid, `${id} fill`).start();
      const fill = await startPerf(env.bin, producerArgs(target, { topic, msgs, size: MSG }), { timeoutMs: sizes.timeoutMs * 2 }).done;
      const fillUsage = fillSampler.stop();
      const filled = producerResult(fill, msgs);
      if (filled.error !== undefined) return [{ scenario: id, system, round, error: `filling: ${filled.error}`, usage: fillUsage }];
      const sampler = new ProcSampler(target.pid, id).start();
      const exit = await startPerf(env.bin, consumerArgs(target, { topic, partitions, msgs }), { timeoutMs: sizes.timeoutMs }).done;
      const usage = sampler.stop();
      const { tp, error } = consumerResult(exit, msgs + preloaded(target));
      const out: Measurement[] = [
        {
          scenario: id,
          system,
          round,
          ...throughputFields(tp),
          usage,
          extra: { fillMbPerSec: filled.tp?.mbPerSec ?? NaN, fillPeakRssBytes: fillUsage.peakRssBytes, fillCpuSeconds: fillUsage.cpuSeconds },
          ...(error === undefined ? {} : { error }),
        },
      ];
      if (system === 'strata' && 'broker' in target) {
        try {
          out.push(await measureRestarts(env, target as Target & { broker: StrataProcess; dataDir: string }, topic, round, readyMs));
        } catch (err) {
          out.push({ scenario: 'restart', system: 'strata', round, error: (err as Error).message });
        }
      }
      return out;
    } finally {
      await target.close();
    }
  },
};

/** Listed so that the table and JSON have a row for it; its figures come from the catch-up run's data. */
const restart: Scenario = {
  id: 'restart',
  title: 'restart with the catch-up data: clean shutdown, and kill -9',
  systems: ['strata'],
  primary: 'restart',
  derived: true,
  run: async () => [],
};

// ---- consumers running with a producer ----------------------------------------------------------

const tail: Scenario = {
  id: 'consume-tail',
  title: 'tail consumer during production (1 KiB, acks=1, 6 partitions)',
  systems: ['strata', 'mock'],
  primary: 'mbPerSec',
  async run(env, sizes, system, round) {
    if (system === 'floor') return [];
    const partitions = 6;
    const msgs = sizes.tailMsgs;
    const { target } = await openTarget(env, system, 'tail', { partitions, retainBytes: msgs * MSG * 2 });
    try {
      const topic = 'bench-tail';
      await target.createTopic(topic, partitions);
      const sampler = new ProcSampler(target.pid, 'consume-tail').start();
      const consumer = startPerf(env.bin, consumerArgs(target, { topic, partitions, msgs }), { timeoutMs: sizes.timeoutMs });
      await sleep(1_500);
      const prod = await startPerf(env.bin, producerArgs(target, { topic, msgs, size: MSG }), { timeoutMs: sizes.timeoutMs }).done;
      const cons = await consumer.done;
      const usage = sampler.stop();
      const p = producerResult(prod, msgs);
      const c = consumerResult(cons, msgs + preloaded(target));
      const error = [p.error, c.error].filter((e) => e !== undefined).join('\n');
      return [{ scenario: 'consume-tail', system, round, ...throughputFields(c.tp), usage, extra: { producerMbPerSec: p.tp?.mbPerSec ?? NaN }, ...(error === '' ? {} : { error }) }];
    } finally {
      await target.close();
    }
  },
};

const E2E_RATE = 10_000;

const endToEnd: Scenario = {
  id: 'e2e-latency',
  title: `end-to-end latency at ${E2E_RATE.toLocaleString('en')} msgs/s of 1 KiB (linger.ms=0, acks=1, 6 partitions)`,
  systems: ['strata', 'mock'],
  primary: 'p99',
  async run(env, sizes, system, round) {
    if (system === 'floor') return [];
    const partitions = 6;
    const msgs = E2E_RATE * sizes.e2eSeconds;
    const { target } = await openTarget(env, system, 'e2e', { partitions, retainBytes: msgs * MSG * 2 });
    const consFile = join(env.workDir, `e2e-${system}-${round}.consumer.lat`);
    const prodFile = join(env.workDir, `e2e-${system}-${round}.producer.lat`);
    // The mock cluster is no reference for the consuming half: its Fetch returns one batch per partition
    // and, when there is none, waits the whole fetch.wait.max.ms instead of waking on new data, so at
    // linger.ms=0 its consumer falls ever further behind. Against the mock only the produce
    // acknowledgement latency is measured.
    const withConsumer = system === 'strata';
    /** Producer and (against Strata) consumer at the fixed rate on `topic`; latencies go to the files. */
    const pass = async (topic: string, count: number): Promise<{ prod: PerfExit; cons: PerfExit | undefined }> => {
      await target.createTopic(topic, partitions);
      const consumer = withConsumer ? startPerf(env.bin, consumerArgs(target, { topic, partitions, msgs: count, latencyFile: consFile }), { timeoutMs: sizes.timeoutMs }) : undefined;
      if (consumer !== undefined) await sleep(1_500);
      const prod = await startPerf(env.bin, producerArgs(target, { topic, msgs: count, size: MSG, rate: E2E_RATE, latencyFile: prodFile, conf: { 'linger.ms': 0 } }), {
        timeoutMs: sizes.timeoutMs,
      }).done;
      return { prod, cons: await consumer?.done };
    };
    try {
      // A warm-up pass at the same rate whose latencies are discarded, as latency benchmarks of the field
      // do (OpenMessaging Benchmark's warm-up phase): the first seconds of a fresh broker measure its JIT.
      const warm = await pass('bench-e2e-warm-up', E2E_RATE * sizes.e2eWarmUpSeconds);
      const warmError = producerResult(warm.prod, E2E_RATE * sizes.e2eWarmUpSeconds).error;
      if (warmError !== undefined) throw new Error(`warm-up: ${warmError}`);
      await Promise.all([rm(consFile, { force: true }), rm(prodFile, { force: true })]);
      const sampler = new ProcSampler(target.pid, 'e2e-latency').start();
      const { prod, cons } = await pass('bench-e2e', msgs);
      const usage = sampler.stop();
      const p = producerResult(prod, msgs);
      const c = cons === undefined ? undefined : consumerResult(cons, msgs + preloaded(target));
      const [e2e, ack] = await Promise.all([readLatencyFile(consFile), readLatencyFile(prodFile)]);
      const error = [p.error, c?.error].filter((e) => e !== undefined).join('\n');
      return [
        {
          scenario: 'e2e-latency',
          system,
          round,
          ...throughputFields(p.tp),
          latency: { ...(withConsumer ? { endToEnd: e2e.summary() } : {}), produceAck: ack.summary() },
          usage,
          ...(error === '' ? {} : { error }),
        },
      ];
    } finally {
      await target.close();
      await Promise.all([rm(consFile, { force: true }), rm(prodFile, { force: true })]);
    }
  },
};

// ---- many partitions -----------------------------------------------------------------------------

const manyPartitions: Scenario = {
  id: 'produce-1000-partitions',
  title: 'produce 1 KiB, acks=1, 1,000 partitions (and the time to create them)',
  systems: ['strata', 'mock'],
  primary: 'mbPerSec',
  async run(env, sizes, system, round) {
    if (system === 'floor') return [];
    const partitions = 1000;
    const msgs = sizes.partitions1000Msgs;
    const { target } = await openTarget(env, system, 'p1000', { partitions });
    try {
      const topic = 'bench-p1000';
      const t0 = performance.now();
      await target.createTopic(topic, partitions);
      const createMs = performance.now() - t0;
      const sampler = new ProcSampler(target.pid, 'produce-1000-partitions').start();
      const exit = await startPerf(env.bin, producerArgs(target, { topic, msgs, size: MSG }), { timeoutMs: sizes.timeoutMs }).done;
      const usage = sampler.stop();
      const { tp, error } = producerResult(exit, msgs);
      return [{ scenario: 'produce-1000-partitions', system, round, ...throughputFields(tp), usage, extra: { createTopicMs: createMs }, ...(error === undefined ? {} : { error }) }];
    } finally {
      await target.close();
    }
  },
};

export const SCENARIOS: readonly Scenario[] = [
  produceScenario('produce-1k', 'produce 1 KiB, acks=1, 6 partitions, linger.ms=5, batch.size=1 MiB', { size: MSG, acks: 1, floor: true }),
  produceScenario('produce-1k-idempotent', 'the same with acks=all and enable.idempotence=true', { size: MSG, acks: -1, conf: { 'enable.idempotence': true }, floor: false }),
  produceScenario('produce-1k-lz4', 'the same (acks=1) with compression.codec=lz4', { size: MSG, acks: 1, conf: { 'compression.codec': 'lz4' }, floor: false }),
  produceScenario('produce-1k-zstd', 'the same (acks=1) with compression.codec=zstd', { size: MSG, acks: 1, conf: { 'compression.codec': 'zstd' }, floor: false }),
  produceScenario('produce-100b', 'produce 100-byte records, acks=1, 6 partitions', { size: 100, acks: 1, floor: true, primary: 'msgsPerSec' }),
  catchUp,
  tail,
  endToEnd,
  manyPartitions,
  restart,
];
