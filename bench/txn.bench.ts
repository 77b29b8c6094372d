// Transactions against a real `strata start` (node --import tsx bench/txn.bench.ts):
//   throughput  1 KiB records from confluent-kafka-python (librdkafka), idempotent non-transactional
//               produce against transactional produce committing every 100 ms, alternated in the same run
//               (rounds × phases) so both see the same machine; acks=all, 6 partitions.
//   commit      latency of commit_transaction() once the burst is delivered (flush() first, timed on
//               its own): EndTxn until librdkafka has the answer, i.e. the decision is durable.
// Prints a table and writes bench/results/txn-latest.json. STRATA_BENCH_SCALE=0.5 shrinks the phases.
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { startStrata } from '../test/integration/helpers/strata-process.js';

const run = promisify(execFile);
const SCALE = Number(process.env.STRATA_BENCH_SCALE ?? 1);
const PHASE_SECONDS = Math.max(2, Math.round(10 * SCALE));
const ROUNDS = 3;
const here = dirname(fileURLToPath(import.meta.url));
const PYTHON = '/usr/bin/python3';

// One phase of producing: prints {"records", "seconds", "commitMs": [...]} as JSON.
const PRODUCER = String.raw`
import json, sys, time
from confluent_kafka import Producer
bootstrap, mode, topic, seconds, interval_ms = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), float(sys.argv[5])
conf = {'bootstrap.servers': bootstrap, 'acks': 'all', 'enable.idempotence': True, 'linger.ms': 5,
        'batch.num.messages': 10000, 'queue.buffering.max.messages': 200000, 'queue.buffering.max.kbytes': 1048576}
if mode == 'txn':
    conf['transactional.id'] = 'bench-txn-' + str(time.time())
p = Producer(conf)
delivered = [0]
def on_delivery(err, msg):
    if err is None:
        delivered[0] += 1
payload = b'x' * 1024
commit_ms = []
flush_ms = []
if mode == 'txn':
    p.init_transactions(30)
start = time.monotonic()
end = start + seconds
while time.monotonic() < end:
    if mode == 'txn':
        p.begin_transaction()
    until = min(end, time.monotonic() + interval_ms / 1000.0)
    while time.monotonic() < until:
        try:
            p.produce(topic, payload, on_delivery=on_delivery)
        except BufferError:
            p.poll(0.001)
        p.poll(0)
    if mode == 'txn':
        # Delivery of the burst first, so that the EndTxn round trip is timed on its own.
        t0 = time.monotonic()
        p.flush(60)
        t1 = time.monotonic()
        p.commit_transaction(30)
        t2 = time.monotonic()
        flush_ms.append((t1 - t0) * 1000.0)
        commit_ms.append((t2 - t1) * 1000.0)
p.flush(60)
elapsed = time.monotonic() - start
print(json.dumps({'records': delivered[0], 'seconds': elapsed, 'commitMs': commit_ms, 'flushMs': flush_ms}))
`;

interface Phase { records: number; seconds: number; commitMs: number[]; flushMs: number[] }

async function phase(bootstrap: string, mode: 'idempotent' | 'txn', topic: string): Promise<Phase> {
  const { stdout } = await run(PYTHON, ['-c', PRODUCER, bootstrap, mode, topic, String(PHASE_SECONDS), '100'], { timeout: 300_000, maxBuffer: 64 << 20 });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as Phase;
}

const percentile = (sorted: readonly number[], p: number): number =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

async function main(): Promise<void> {
  const strata = await startStrata(['--set', 'transaction.state.log.num.partitions=10', '--set', 'num.partitions=6']);
  const bootstrap = `127.0.0.1:${strata.port}`;
  const rates: Record<'idempotent' | 'txn', number[]> = { idempotent: [], txn: [] };
  const commits: number[] = [];
  const flushes: number[] = [];
  try {
    // Topics made up front, so no phase waits for auto-creation and leader election.
    const admin = new Kafka({ brokers: [bootstrap], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    const topics = [];
    for (let round = 0; round < ROUNDS; round++) for (const mode of ['idempotent', 'txn']) topics.push({ topic: `bench-${mode}-${round}`, numPartitions: 6 });
    await admin.createTopics({ topics, waitForLeaders: true });
    await admin.disconnect();
    for (let round = 0; round < ROUNDS; round++) {
      for (const mode of ['idempotent', 'txn'] as const) {
        // A topic per phase, so every phase starts from an empty log.
        const r = await phase(bootstrap, mode, `bench-${mode}-${round}`);
        const rate = r.records / r.seconds;
        rates[mode].push(rate);
        commits.push(...r.commitMs);
        flushes.push(...r.flushMs);
        process.stderr.write(`[txn bench] round ${round + 1} ${mode}: ${Math.round(rate)} records/s (${r.records} in ${r.seconds.toFixed(1)} s)\n`);
      }
    }
  } finally {
    await strata.stop();
    await strata.cleanup();
  }
  const median = (xs: readonly number[]): number => percentile([...xs].sort((a, b) => a - b), 50);
  const idem = median(rates.idempotent);
  const txn = median(rates.txn);
  const sortedCommits = [...commits].sort((a, b) => a - b);
  const sortedFlushes = [...flushes].sort((a, b) => a - b);
  const result = {
    date: new Date().toISOString(),
    recordBytes: 1024,
    commitIntervalMs: 100,
    phaseSeconds: PHASE_SECONDS,
    rounds: ROUNDS,
    idempotentRecordsPerSec: Math.round(idem),
    transactionalRecordsPerSec: Math.round(txn),
    overheadPercent: Number((((idem - txn) / idem) * 100).toFixed(1)),
    commits: sortedCommits.length,
    commitP50Ms: Number(percentile(sortedCommits, 50).toFixed(2)),
    commitP99Ms: Number(percentile(sortedCommits, 99).toFixed(2)),
    flushBeforeCommitP50Ms: Number(percentile(sortedFlushes, 50).toFixed(2)),
    flushBeforeCommitP99Ms: Number(percentile(sortedFlushes, 99).toFixed(2)),
    perRound: rates,
  };
  process.stdout.write(
    `\n  idempotent     ${result.idempotentRecordsPerSec} records/s (median of ${ROUNDS})\n` +
    `  transactional  ${result.transactionalRecordsPerSec} records/s, commit every 100 ms\n` +
    `  overhead       ${result.overheadPercent} %\n` +
    `  commit         p50 ${result.commitP50Ms} ms, p99 ${result.commitP99Ms} ms over ${result.commits} commits (EndTxn alone)\n` +
    `  flush          p50 ${result.flushBeforeCommitP50Ms} ms, p99 ${result.flushBeforeCommitP99Ms} ms (delivering each burst before its commit)\n\n`,
  );
  await mkdir(join(here, 'results'), { recursive: true });
  await writeFile(join(here, 'results', 'txn-latest.json'), `${JSON.stringify(result, null, 2)}\n`);
}

await main();
