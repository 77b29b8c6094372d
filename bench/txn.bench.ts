// Transactions against a real `strata start` (npm run bench:txn):
//   throughput  1 KiB records from confluent-kafka-python (librdkafka), idempotent non-transactional
//               produce against transactional produce committing every 100 ms, acks=all, 6 partitions,
//               the same producer settings in both modes. One Python process holds both producers and
//               alternates short phases (idempotent, transactional, transactional, idempotent, ...), and the
//               overhead is the median over the adjacent pairs of 1 - txn/idempotent: on a machine shared
//               with other work, load that changes over seconds moves both sides of a pair alike, and many
//               short pairs give a steadier median than a few long phases. The spread of the per-pair
//               figures is printed with it. Idempotent records count once delivered within the window
//               (the queue left at its end is drained outside the measured time); transactional ones once
//               committed (the last transaction is finished inside the measured time).
//   commit      latency of commit_transaction() once the burst is delivered (flush() first, timed on
//               its own): EndTxn until librdkafka has the answer, i.e. the decision is durable.
//   cpu         per phase, the cores used by the producer process (Python plus librdkafka's threads), by
//               the broker, and by everything else on the machine, and the share of time some task waited
//               for a CPU (PSI): which side limits the rate, and how noisy the machine was.
// Both producers warm up before the first phase (metadata known, one record per partition delivered, the
// transactional one inside a committed transaction), so that neither pays for start-up inside a measured
// window: without it librdkafka holds the first burst until the topic's metadata arrives and then sends
// all of it to one sticky partition, which made the first transaction of a run take over a second.
// Two scenarios: librdkafka's default sticky partitioner, and records spread over every partition (see
// SCENARIOS). Prints a table per scenario and writes bench/results/txn-latest.json (the sticky scenario at
// the top level, the spread one under `spread`). STRATA_BENCH_SCALE=0.5 shrinks the phases;
// STRATA_TXN_BENCH_ROUNDS sets the number of pairs; STRATA_TXN_BENCH_BOOTSTRAP (and STRATA_TXN_BENCH_PID
// for its CPU) runs against a broker already listening there, e.g. one started with --cpu-prof.
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { startStrata, type StrataProcess } from '../test/integration/helpers/strata-process.js';

const run = promisify(execFile);
const SCALE = Number(process.env.STRATA_BENCH_SCALE ?? 1);
const PHASE_SECONDS = Math.max(1, Math.round(2 * SCALE));
const ROUNDS = Math.max(1, Number(process.env.STRATA_TXN_BENCH_ROUNDS ?? 25));
const PARTITIONS = 6;
/**
 * The two ways records reach partitions, measured one after the other. librdkafka's sticky partitioner
 * (sticky.partitioning.linger.ms, 10 by default) keeps keyless records on one partition for 10 ms, so a
 * 100 ms transaction fills a few partitions deeply; as librdkafka keeps one produce request in flight per
 * partition, the flush before each commit then drains them one request at a time, with the broker idle
 * between a response and the next request. With 0 the records spread over every partition, as keyed
 * records would, and the flush drains all partitions at once.
 */
const SCENARIOS = [
  { name: 'sticky', stickyMs: 10, about: "librdkafka's default sticky partitioner (keyless records)" },
  { name: 'spread', stickyMs: 0, about: 'records spread over all partitions (sticky.partitioning.linger.ms=0)' },
] as const;
const COMMIT_INTERVAL_MS = 100;
const here = dirname(fileURLToPath(import.meta.url));
const PYTHON = '/usr/bin/python3';

// One scenario: both producers in one process, alternating short phases (idempotent, transactional,
// transactional, idempotent, ...), so that each pair runs seconds apart on the same machine; prints one JSON
// line per phase: {"mode", "records", "seconds", "cpuSeconds", "brokerCpuSeconds", "machineCpuSeconds",
// "cpuStallSeconds", "commitMs": [...], "flushMs": [...]}, the CPU figures over the measured window only.
// The produce loop is kept cheap so that the broker, not Python, sets the pace: no per-message delivery
// callback (delivery.report.only.error; a failed record is subtracted) and no poll per message. Between
// phases the idempotent producer's queue is drained outside the measured time.
const PRODUCER = String.raw`
import json, os, resource, sys, time
from confluent_kafka import Producer
bootstrap, idem_topic, txn_topic, pairs, seconds, interval_ms, partitions, broker_pid, sticky_ms = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6]), int(sys.argv[7]), int(sys.argv[8]), int(sys.argv[9])
def broker_cpu():
    # utime + stime of the broker (fields 14 and 15 of /proc/PID/stat), or None when it cannot be read.
    try:
        with open('/proc/%d/stat' % broker_pid) as f:
            fields = f.read().rsplit(')', 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')
    except (OSError, ValueError, IndexError):
        return None
def machine():
    # CPU seconds the whole machine spent busy (/proc/stat), and seconds some task waited for a CPU (PSI).
    try:
        with open('/proc/stat') as f:
            ticks = [int(x) for x in f.readline().split()[1:]]
        busy = (sum(ticks[:8]) - ticks[3] - ticks[4]) / os.sysconf('SC_CLK_TCK')
    except (OSError, ValueError, IndexError):
        busy = None
    try:
        with open('/proc/pressure/cpu') as f:
            stalled = int(f.readline().split('total=')[1]) / 1e6
    except (OSError, ValueError, IndexError):
        stalled = None
    return busy, stalled
conf = {'bootstrap.servers': bootstrap, 'acks': 'all', 'enable.idempotence': True, 'linger.ms': 5,
        'batch.num.messages': 10000, 'queue.buffering.max.messages': 100000, 'queue.buffering.max.kbytes': 1048576,
        'delivery.report.only.error': True, 'sticky.partitioning.linger.ms': sticky_ms}
failed = [0]
def on_delivery(err, msg):
    if err is not None:
        failed[0] += 1
payload = b'x' * 1024
mono = time.monotonic
idem = Producer(conf)
txn = Producer(dict(conf, **{'transactional.id': 'bench-txn-' + txn_topic + '-' + str(time.time())}))
# Warm-up, outside the timed windows: metadata known, one record per partition delivered (committed).
for i in range(partitions):
    idem.produce(idem_topic, payload, partition=i, on_delivery=on_delivery)
idem.flush(30)
txn.init_transactions(30)
txn.begin_transaction()
for i in range(partitions):
    txn.produce(txn_topic, payload, partition=i, on_delivery=on_delivery)
txn.commit_transaction(30)

def measured(run):
    failed[0] = 0
    usage0 = resource.getrusage(resource.RUSAGE_SELF)
    broker0 = broker_cpu() if broker_pid > 0 else None
    machine0 = machine()
    start = mono()
    out = run(start)
    elapsed = mono() - start
    usage1 = resource.getrusage(resource.RUSAGE_SELF)
    broker1 = broker_cpu() if broker0 is not None else None
    machine1 = machine()
    out.update({'seconds': elapsed, 'cpuSeconds': usage1.ru_utime - usage0.ru_utime + usage1.ru_stime - usage0.ru_stime,
                'brokerCpuSeconds': None if broker1 is None else broker1 - broker0,
                'machineCpuSeconds': None if machine1[0] is None else machine1[0] - machine0[0],
                'cpuStallSeconds': None if machine1[1] is None else machine1[1] - machine0[1]})
    return out

def idempotent_phase(start):
    produce = idem.produce
    produced = 0
    end = start + seconds
    while mono() < end:
        try:
            for _ in range(100):
                produce(idem_topic, payload, on_delivery=on_delivery)
                produced += 1
        except BufferError:
            idem.poll(0.001)
    # Records count once delivered by the end of the window; what is still queued is left out of both
    # the count and the time (draining the queue is not what this mode is measured on).
    idem.poll(0)
    return {'mode': 'idempotent', 'records': produced - len(idem) - failed[0], 'commitMs': [], 'flushMs': []}

def txn_phase(start):
    produce = txn.produce
    produced = 0
    commit_ms = []
    flush_ms = []
    end = start + seconds
    while mono() < end:
        txn.begin_transaction()
        until = min(end, mono() + interval_ms / 1000.0)
        while mono() < until:
            try:
                for _ in range(100):
                    produce(txn_topic, payload, on_delivery=on_delivery)
                    produced += 1
            except BufferError:
                txn.poll(0.001)
        # Delivery of the burst first, so that the EndTxn round trip is timed on its own.
        t0 = mono()
        txn.flush(60)
        t1 = mono()
        txn.commit_transaction(30)
        t2 = mono()
        flush_ms.append((t1 - t0) * 1000.0)
        commit_ms.append((t2 - t1) * 1000.0)
    # Records count once committed: the last transaction is finished inside the measured time.
    return {'mode': 'txn', 'records': produced - failed[0], 'commitMs': commit_ms, 'flushMs': flush_ms}

for pair in range(pairs):
    for run in ((idempotent_phase, txn_phase) if pair % 2 == 0 else (txn_phase, idempotent_phase)):
        print(json.dumps(measured(run)), flush=True)
        idem.flush(60)
`;

type Mode = 'idempotent' | 'txn';
interface Phase {
  mode: Mode;
  records: number;
  seconds: number;
  cpuSeconds: number;
  brokerCpuSeconds: number | null;
  machineCpuSeconds: number | null;
  cpuStallSeconds: number | null;
  commitMs: number[];
  flushMs: number[];
}
/** One phase's rate and where the machine's CPU went during it (cores: CPU seconds per second). */
interface PhaseResult {
  readonly rate: number;
  readonly producerCores: number;
  readonly brokerCores: number | null;
  /** Everything else on the machine (other processes, the kernel): the noise this run competed with. */
  readonly otherCores: number | null;
  /** Share of the phase during which some task waited for a CPU (Linux PSI), in percent. */
  readonly cpuStallPercent: number | null;
}

async function phases(bootstrap: string, idemTopic: string, txnTopic: string, brokerPid: number | undefined, stickyMs: number): Promise<Phase[]> {
  const args = ['-c', PRODUCER, bootstrap, idemTopic, txnTopic, String(ROUNDS), String(PHASE_SECONDS), String(COMMIT_INTERVAL_MS), String(PARTITIONS), String(brokerPid ?? 0), String(stickyMs)];
  const { stdout } = await run(PYTHON, args, { timeout: 1_800_000, maxBuffer: 64 << 20 });
  return stdout.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Phase);
}

const percentile = (sorted: readonly number[], p: number): number =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
const sorted = (xs: readonly number[]): number[] => [...xs].sort((a, b) => a - b);
const median = (xs: readonly number[]): number => percentile(sorted(xs), 50);
const round1 = (x: number): number => Number(x.toFixed(1));
const round2 = (x: number): number => Number(x.toFixed(2));
/**
 * A distribution-free ~95% confidence interval of the median of `xs`: the order statistics around the
 * middle whose ranks a binomial(n, 1/2) covers with 95% (normal approximation).
 */
function medianInterval(xs: readonly number[]): [number, number] {
  const s = sorted(xs);
  const n = s.length;
  // 1-based ranks floor((n - 1.96√n) / 2) and ceil(1 + (n + 1.96√n) / 2).
  const lo = Math.max(0, Math.floor((n - 1.96 * Math.sqrt(n)) / 2) - 1);
  const hi = Math.min(n - 1, Math.ceil(1 + (n + 1.96 * Math.sqrt(n)) / 2) - 1);
  return [s[lo]!, s[hi]!];
}

type Scenario = (typeof SCENARIOS)[number];

/** Alternating pairs of phases under one scenario, summarised. */
async function measure(bootstrap: string, brokerPid: number | undefined, scenario: Scenario, runId: string) {
  const results: Record<Mode, PhaseResult[]> = { idempotent: [], txn: [] };
  const commits: number[] = [];
  const flushes: number[] = [];
  // Topics made up front, so that no phase waits for auto-creation and leader election.
  const idemTopic = `bench-${runId}-${scenario.name}-idempotent`;
  const txnTopic = `bench-${runId}-${scenario.name}-txn`;
  const admin = new Kafka({ brokers: [bootstrap], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  await admin.createTopics({ topics: [idemTopic, txnTopic].map((topic) => ({ topic, numPartitions: PARTITIONS })), waitForLeaders: true });
  await admin.disconnect();
  for (const r of await phases(bootstrap, idemTopic, txnTopic, brokerPid, scenario.stickyMs)) {
    const perSecond = (x: number | null): number | null => (x === null ? null : x / r.seconds);
    const producerCores = r.cpuSeconds / r.seconds;
    const brokerCores = perSecond(r.brokerCpuSeconds);
    const machineCores = perSecond(r.machineCpuSeconds);
    const result: PhaseResult = {
      rate: r.records / r.seconds,
      producerCores,
      brokerCores,
      otherCores: machineCores === null || brokerCores === null ? null : Math.max(0, machineCores - brokerCores - producerCores),
      cpuStallPercent: r.cpuStallSeconds === null ? null : (100 * r.cpuStallSeconds) / r.seconds,
    };
    results[r.mode].push(result);
    commits.push(...r.commitMs);
    flushes.push(...r.flushMs);
  }
  const cores = (x: number | null): string => (x === null ? '-' : x.toFixed(2));
  for (let i = 0; i < results.idempotent.length; i++) {
    const line = (mode: Mode): string => {
      const r = results[mode][i]!;
      return `${mode} ${Math.round(r.rate)}/s (producer ${cores(r.producerCores)}, broker ${cores(r.brokerCores)}, other ${cores(r.otherCores)} cores)`;
    };
    process.stderr.write(`[txn bench] ${scenario.name} pair ${i + 1}: ${line('idempotent')}; ${line('txn')}\n`);
  }
  const pairOverheads = results.idempotent.map((idem, i) => (1 - results.txn[i]!.rate / idem.rate) * 100);
  const medianOf = (mode: Mode, pick: (r: PhaseResult) => number | null, digits: number): number | null => {
    const xs = results[mode].map(pick);
    return xs.every((x): x is number => x !== null) ? Number(median(xs).toFixed(digits)) : null;
  };
  const bothModes = (pick: (r: PhaseResult) => number | null, digits = 2): { idempotent: number | null; txn: number | null } =>
    ({ idempotent: medianOf('idempotent', pick, digits), txn: medianOf('txn', pick, digits) });
  const sortedCommits = sorted(commits);
  const sortedFlushes = sorted(flushes);
  const sortedPairs = sorted(pairOverheads);
  const [ciLow, ciHigh] = medianInterval(pairOverheads);
  return {
    stickyPartitioningLingerMs: scenario.stickyMs,
    idempotentRecordsPerSec: Math.round(median(results.idempotent.map((r) => r.rate))),
    transactionalRecordsPerSec: Math.round(median(results.txn.map((r) => r.rate))),
    // Median of the per-pair overheads (not the ratio of the medians), with the pairs' spread.
    overheadPercent: round1(median(pairOverheads)),
    overheadPercentMedianCi95: [round1(ciLow), round1(ciHigh)],
    overheadPercentMin: round1(sortedPairs[0]!),
    overheadPercentMax: round1(sortedPairs.at(-1)!),
    overheadPercentPerPair: pairOverheads.map(round1),
    commits: sortedCommits.length,
    commitP50Ms: round2(percentile(sortedCommits, 50)),
    commitP99Ms: round2(percentile(sortedCommits, 99)),
    commitMaxMs: round2(sortedCommits.at(-1) ?? NaN),
    flushBeforeCommitP50Ms: round2(percentile(sortedFlushes, 50)),
    flushBeforeCommitP99Ms: round2(percentile(sortedFlushes, 99)),
    // Medians per mode. A producer well below one core is not what limits the rate; a large `otherCores`
    // says the machine was busy with other work and the figures above are noisy.
    producerCores: bothModes((r) => r.producerCores),
    brokerCores: bothModes((r) => r.brokerCores),
    otherCores: bothModes((r) => r.otherCores),
    cpuStallPercent: bothModes((r) => r.cpuStallPercent, 0),
    perRound: { idempotent: results.idempotent.map((r) => Math.round(r.rate)), txn: results.txn.map((r) => Math.round(r.rate)) },
  };
}

type Summary = Awaited<ReturnType<typeof measure>>;

function table(scenario: Scenario, s: Summary): string {
  return (
    `  ${scenario.name}: ${scenario.about}\n` +
    `  idempotent     ${s.idempotentRecordsPerSec} records/s (median of ${ROUNDS} phases of ${PHASE_SECONDS} s)\n` +
    `  transactional  ${s.transactionalRecordsPerSec} records/s, commit every ${COMMIT_INTERVAL_MS} ms\n` +
    `  overhead       ${s.overheadPercent} % (median of ${ROUNDS} adjacent pairs, 95% interval ${s.overheadPercentMedianCi95[0]} .. ${s.overheadPercentMedianCi95[1]} %;` +
    ` pairs ${s.overheadPercentMin} .. ${s.overheadPercentMax} %)\n` +
    `  commit         p50 ${s.commitP50Ms} ms, p99 ${s.commitP99Ms} ms, max ${s.commitMaxMs} ms over ${s.commits} commits (EndTxn alone)\n` +
    `  flush          p50 ${s.flushBeforeCommitP50Ms} ms, p99 ${s.flushBeforeCommitP99Ms} ms (delivering each burst before its commit)\n` +
    `  cpu (cores)    producer ${s.producerCores.idempotent} / ${s.producerCores.txn}, broker ${s.brokerCores.idempotent ?? '-'} / ${s.brokerCores.txn ?? '-'},` +
    ` other work ${s.otherCores.idempotent ?? '-'} / ${s.otherCores.txn ?? '-'} (idempotent / txn medians)\n` +
    `  cpu stall      ${s.cpuStallPercent.idempotent ?? '-'} / ${s.cpuStallPercent.txn ?? '-'} % of the time some task waited for a CPU\n\n`
  );
}

async function main(): Promise<void> {
  const external = process.env.STRATA_TXN_BENCH_BOOTSTRAP;
  let strata: StrataProcess | undefined;
  if (external === undefined) {
    strata = await startStrata(['--set', 'transaction.state.log.num.partitions=10', '--set', `num.partitions=${PARTITIONS}`]);
  }
  const bootstrap = external ?? `127.0.0.1:${strata!.port}`;
  const brokerPid = strata?.pid ?? (process.env.STRATA_TXN_BENCH_PID !== undefined ? Number(process.env.STRATA_TXN_BENCH_PID) : undefined);
  const runId = Date.now().toString(36);
  const summaries: Summary[] = [];
  try {
    for (const scenario of SCENARIOS) summaries.push(await measure(bootstrap, brokerPid, scenario, runId));
  } finally {
    await strata?.stop();
    await strata?.cleanup();
  }
  process.stdout.write(`\n${SCENARIOS.map((sc, i) => table(sc, summaries[i]!)).join('')}`);
  const [sticky, spread] = summaries;
  const result = {
    date: new Date().toISOString(),
    recordBytes: 1024,
    commitIntervalMs: COMMIT_INTERVAL_MS,
    partitions: PARTITIONS,
    phaseSeconds: PHASE_SECONDS,
    rounds: ROUNDS,
    ...sticky,
    spread,
  };
  await mkdir(join(here, 'results'), { recursive: true });
  await writeFile(join(here, 'results', 'txn-latest.json'), `${JSON.stringify(result, null, 2)}\n`);
}

await main();
