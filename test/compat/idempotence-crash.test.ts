// Exactly-once delivery of an idempotent producer across a broker crash: confluent-kafka-python sends a
// stream of numbered records; mid-stream the broker is killed with SIGKILL and restarted on the same data
// directory and port. librdkafka retries whatever was in flight with the same producer id and sequence
// numbers, so the restarted broker must have rebuilt its producer state from the log: a batch that was
// written before the crash but never acknowledged must be recognised as a duplicate, not appended again.
// Afterwards every acknowledged record is in the log exactly once, and nothing is in it twice.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { startStrata, type StrataProcess } from '../integration/helpers/strata-process.js';
import { KafkaClient } from '../../src/client/kafka-client.js';
import { InitProducerIdApi, ProduceApi } from '../../src/protocol/generated/apis.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { buildBatchSync } from '../../src/protocol/records/index.js';
import { WireClient } from '../integration/helpers/wire.js';
import { REPO, PYTHON, bootstrapOf, byPartition, createTopics, missing, python, unhex, type WireRecord } from './helpers/compat.js';

const TOPIC = 'idem-crash';
const PARTITIONS = 3;
const COUNT = 40_000;
const RATE = 8_000;
const KILL_POINTS = [5_000, 20_000];

interface StreamResult {
  readonly acked: number[];
  readonly failed: { id: number; error: { code: number; name: string; str: string } }[];
  readonly undelivered: number;
}

const brokers: StrataProcess[] = [];

after(async () => {
  for (const b of brokers) await b.stop();
  // Restarts share their first run's data directory: remove each directory once.
  const dirs = new Map(brokers.map((b) => [b.dataDir, b]));
  for (const b of dirs.values()) await b.cleanup();
});

test('an idempotent producer survives two kill -9s of the broker without loss or duplicates', async (t) => {
  const skip = await missing('confluent-kafka-python');
  if (skip !== null) return t.skip(skip);
  const first = await startStrata();
  brokers.push(first);
  const { port, dataDir } = first;
  await createTopics(port, [{ name: TOPIC, numPartitions: PARTITIONS, replicationFactor: 1 }]);

  const producer = spawn(PYTHON, [join(REPO, 'test/compat/python/confluent_driver.py'), 'idempotent_stream'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  producer.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  producer.stdin.end(JSON.stringify({ bootstrap: bootstrapOf(port), topic: TOPIC, count: COUNT, rate: RATE }));
  const exited = new Promise<number | null>((res) => producer.once('close', (code) => res(code)));

  // Each kill point: SIGKILL once the producer reports that many acknowledgements, then restart on the
  // same data directory and port (the producer's bootstrap address stays valid) while it keeps sending.
  let lastLine = '';
  const killedAt: number[] = [];
  let waiter: { threshold: number; resolve: (acked: number) => void } | null = null;
  createInterface({ input: producer.stdout }).on('line', (line) => {
    lastLine = line;
    const m = /^acked (\d+)$/.exec(line);
    if (m !== null && waiter !== null && Number(m[1]) >= waiter.threshold) {
      const w = waiter;
      waiter = null;
      w.resolve(Number(m[1]));
    }
  });
  let broker = first;
  for (const threshold of KILL_POINTS) {
    const acked = await Promise.race([
      new Promise<number>((resolve) => (waiter = { threshold, resolve })),
      exited.then(() => -1),
    ]);
    assert.ok(acked > 0, `the producer was still sending at ${threshold} acks (stderr: ${stderr.slice(-2000)})`);
    broker.child.kill('SIGKILL');
    assert.equal(await broker.exited, null, 'killed by the signal');
    killedAt.push(acked);
    broker = await startStrata(['--port', String(port)], { dataDir });
    brokers.push(broker);
    assert.equal(broker.port, port);
  }

  const code = await exited;
  assert.equal(code, 0, `producer exited with ${code}: ${stderr.slice(-3000)}`);
  const result = JSON.parse(lastLine) as StreamResult;
  assert.equal(result.undelivered, 0);
  assert.equal(result.acked.length + result.failed.length, COUNT, 'every record got a delivery report');
  // Timing out while the broker was down is allowed; anything else (a fatal idempotence error such as
  // OUT_OF_ORDER_SEQUENCE_NUMBER or UNKNOWN_PRODUCER_ID) means the restarted broker lost producer state.
  const unexpected = result.failed.filter((f) => f.error.name !== '_MSG_TIMED_OUT');
  assert.deepEqual(unexpected.slice(0, 5), [], `${unexpected.length} records failed for a reason other than a timeout`);
  assert.ok(result.acked.length > killedAt[killedAt.length - 1]!, 'records were acknowledged after the last restart');

  const consumed = await python<{ records: WireRecord[]; errors: unknown[]; unfinished: number[] }>('confluent_driver', 'consume', {
    bootstrap: bootstrapOf(port),
    topic: TOPIC,
    partitions: Array.from({ length: PARTITIONS }, (_, p) => p),
  });
  assert.deepEqual(consumed.errors, []);
  assert.deepEqual(consumed.unfinished, []);

  const seen = new Map<number, number>();
  for (const r of consumed.records) {
    const id = Number(unhex(r.value));
    seen.set(id, (seen.get(id) ?? 0) + 1);
  }
  const duplicated = [...seen].filter(([, n]) => n > 1).map(([id]) => id);
  assert.deepEqual(duplicated.slice(0, 20), [], `${duplicated.length} ids appear more than once in the log`);
  const lost = result.acked.filter((id) => !seen.has(id));
  assert.deepEqual(lost.slice(0, 20), [], `${lost.length} acknowledged ids are missing from the log`);
  for (const [p, records] of byPartition(consumed.records)) {
    const ids = records.map((r) => Number(unhex(r.value)));
    const outOfOrder = ids.findIndex((id, i) => i > 0 && id <= ids[i - 1]!);
    assert.equal(outOfOrder, -1, `partition ${p}: ids in send order (first break at index ${outOfOrder})`);
    assert.deepEqual(records.map((r) => r.offset), records.map((_, i) => i), `partition ${p}: offsets without gaps`);
  }
  t.diagnostic(`killed after ${killedAt.join(' and ')} acks; ${result.acked.length} acknowledged, ${result.failed.length} timed out, ${seen.size} in the log`);
});

test('after kill -9 the broker still recognises retried batches of an idempotent producer', async () => {
  // The same guarantee, deterministically: a producer's last batches are written and acknowledged, the
  // broker dies before any snapshot, and the retries after the restart must be answered as duplicates with
  // their original offsets (producer state rebuilt from the log), while a sequence gap is refused.
  const first = await startStrata();
  brokers.push(first);
  await createTopics(first.port, [{ name: 'idem-raw', numPartitions: 1, replicationFactor: 1 }]);
  let c = await WireClient.connect(first.port);
  const init = await c.request(InitProducerIdApi, 4, { transactionalId: null, transactionTimeoutMs: -1, producerId: -1n, producerEpoch: -1 });
  assert.equal(init.body.errorCode, ErrorCode.NONE);
  const producerId = Number(init.body.producerId);
  const producerEpoch = init.body.producerEpoch;
  const batch = (baseSequence: number, n: number): Buffer =>
    buildBatchSync(Array.from({ length: n }, (_, i) => ({ key: `s${baseSequence + i}`, value: `record with sequence ${baseSequence + i}` })), {
      timestamp: 1_700_000_000_000, producerId, producerEpoch, baseSequence,
    });
  const produce = async (records: Buffer): Promise<{ errorCode: number; baseOffset: number }> => {
    const res = await c.request(ProduceApi, 9, { transactionalId: null, acks: -1, timeoutMs: 10_000, topicData: [{ name: 'idem-raw', partitionData: [{ index: 0, records }] }] });
    const r = res.body.responses[0]!.partitionResponses[0]!;
    return { errorCode: r.errorCode, baseOffset: Number(r.baseOffset) };
  };
  assert.deepEqual(await produce(batch(0, 3)), { errorCode: ErrorCode.NONE, baseOffset: 0 });
  assert.deepEqual(await produce(batch(3, 2)), { errorCode: ErrorCode.NONE, baseOffset: 3 });
  c.close();

  first.child.kill('SIGKILL');
  await first.exited;
  const second = await startStrata([], { dataDir: first.dataDir });
  brokers.push(second);
  c = await WireClient.connect(second.port);
  try {
    assert.deepEqual(await produce(batch(3, 2)), { errorCode: ErrorCode.NONE, baseOffset: 3 }, 'the last batch again: a duplicate, answered with its offset');
    assert.deepEqual(await produce(batch(0, 3)), { errorCode: ErrorCode.NONE, baseOffset: 0 }, 'an older one of the last five too');
    assert.deepEqual(await produce(batch(5, 2)), { errorCode: ErrorCode.NONE, baseOffset: 5 }, 'the next sequence appends');
    assert.equal((await produce(batch(9, 1))).errorCode, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, 'a gap is refused');
  } finally {
    c.close();
  }
  const keys = (await logKeys(second.port, 'idem-raw'));
  assert.deepEqual(keys, ['s0', 's1', 's2', 's3', 's4', 's5', 's6'], 'each record once, in order');
});

/** The keys of partition 0 of `topic`, read with the repo's own client (no third-party client needed). */
async function logKeys(port: number, topic: string): Promise<string[]> {
  const client = new KafkaClient({ bootstrapServers: bootstrapOf(port), clientId: 'compat-read' });
  try {
    const keys: string[] = [];
    let offset = 0;
    for (let round = 0; round < 20; round++) {
      const [res] = await client.fetch([{ topic, partition: 0, offset }], { maxWaitMs: 100 });
      assert.equal(res!.error, null);
      for (const r of res!.records) keys.push(String(r.key));
      offset = res!.nextOffset;
      if (offset >= res!.highWatermark) break;
    }
    return keys;
  } finally {
    await client.close();
  }
}
