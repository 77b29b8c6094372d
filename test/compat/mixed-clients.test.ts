// Five client implementations producing into the same partitions at the same time (kcat, confluent-kafka-
// python idempotent, kafka-python, kafkajs idempotent, @platformatic/kafka): appends from different producers
// interleave, and each producer's records must still all be there exactly once, byte-exact, in that
// producer's send order within each partition.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { Producer, stringSerializers } from '@platformatic/kafka';
import { startStrata, type StrataProcess } from '../integration/helpers/strata-process.js';
import { bootstrapOf, createTopics, hex, kcatConsumeAll, missing, parseKcatLines, python, runChecked } from './helpers/compat.js';

const TOPIC = 'mixed';
const PARTITIONS = 4;
const PER_CLIENT = 5_000;
const KCAT_RECORDS = 20_000;

let strata: StrataProcess;
let skip: string | null;

before(async () => {
  skip = (await missing('kcat')) ?? (await missing('confluent-kafka-python')) ?? (await missing('kafka-python'));
  strata = await startStrata();
});

after(async () => {
  await strata.stop();
  await strata.cleanup();
});

/** Record i of a client: the key names the client and i, the value repeats them with some padding. */
const keyOf = (client: string, i: number): string => `${client}-${i}`;
const valueOf = (client: string, i: number): string => `${client} record ${i} ${'~'.repeat(i % 61)}|${'ø'.repeat(i % 3)}`;

async function viaKcat(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'strata-mixed-'));
  try {
    const file = join(dir, 'input.txt');
    await writeFile(file, Array.from({ length: KCAT_RECORDS }, (_, i) => `${keyOf('kcat', i)}:${valueOf('kcat', i)}\n`).join(''));
    const r = await runChecked('kcat', ['-P', '-b', bootstrapOf(strata.port), '-t', TOPIC, '-K:', '-l', file, '-z', 'snappy', '-X', 'linger.ms=2'], { timeoutMs: 120_000 });
    assert.doesNotMatch(r.stderr, /Delivery failed|ERROR/i);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function viaPython(script: 'confluent_driver' | 'kafka_python_driver', client: string, extra: Record<string, unknown>): Promise<void> {
  const records = Array.from({ length: PER_CLIENT }, (_, i) => ({ partition: i % PARTITIONS, key: hex(keyOf(client, i)), value: hex(valueOf(client, i)) }));
  const r = await python<{ delivered: { error: unknown }[] }>(script, 'produce', { bootstrap: bootstrapOf(strata.port), topic: TOPIC, records, ...extra });
  assert.deepEqual(r.delivered.filter((d) => d.error !== null), [], `${client}: no delivery errors`);
  assert.equal(r.delivered.length, PER_CLIENT);
}

async function viaKafkajs(): Promise<void> {
  const producer = new Kafka({ clientId: 'mixed-kafkajs', brokers: [bootstrapOf(strata.port)], logLevel: logLevel.NOTHING }).producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    for (let i = 0; i < PER_CLIENT; i += 250) {
      const messages = Array.from({ length: 250 }, (_, j) => ({ key: keyOf('kafkajs', i + j), value: valueOf('kafkajs', i + j), partition: (i + j) % PARTITIONS }));
      await producer.send({ topic: TOPIC, acks: -1, messages });
    }
  } finally {
    await producer.disconnect();
  }
}

async function viaPlatformatic(): Promise<void> {
  const producer = new Producer({ clientId: 'mixed-platformatic', bootstrapBrokers: [bootstrapOf(strata.port)], serializers: stringSerializers, idempotent: true, acks: -1 });
  try {
    for (let i = 0; i < PER_CLIENT; i += 250) {
      const messages = Array.from({ length: 250 }, (_, j) => ({ topic: TOPIC, key: keyOf('platformatic', i + j), value: valueOf('platformatic', i + j), partition: (i + j) % PARTITIONS }));
      await producer.send({ messages, compression: 'lz4' });
    }
  } finally {
    await producer.close();
  }
}

test('five clients produce concurrently: each one\'s records arrive once, intact, in its order', async (t) => {
  if (skip !== null) return t.skip(skip);
  await createTopics(strata.port, [{ name: TOPIC, numPartitions: PARTITIONS, replicationFactor: 1 }]);
  await Promise.all([
    viaKcat(),
    viaPython('confluent_driver', 'confluent', { config: { 'enable.idempotence': true, 'compression.type': 'zstd', 'linger.ms': 2 } }),
    viaPython('kafka_python_driver', 'kafkapython', { compression: 'gzip' }),
    viaKafkajs(),
    viaPlatformatic(),
  ]);

  const got = parseKcatLines(await kcatConsumeAll(strata.port, TOPIC));
  const totals: Record<string, number> = { kcat: KCAT_RECORDS, confluent: PER_CLIENT, kafkapython: PER_CLIENT, kafkajs: PER_CLIENT, platformatic: PER_CLIENT };
  assert.equal(got.length, Object.values(totals).reduce((a, b) => a + b), 'every record once');
  for (let p = 0; p < PARTITIONS; p++) {
    const mine = got.filter((r) => r.partition === p);
    assert.deepEqual(mine.map((r) => r.offset), mine.map((_, i) => i), `partition ${p}: offsets without gaps`);
  }
  const seen = new Map<string, Set<number>>();
  const lastIndex = new Map<string, number>();
  for (const r of got) {
    const dash = r.key.lastIndexOf('-');
    const client = r.key.slice(0, dash);
    const i = Number(r.key.slice(dash + 1));
    assert.equal(r.value, valueOf(client, i), `${r.key}: value intact`);
    const set = seen.get(client) ?? new Set<number>();
    assert.ok(!set.has(i), `${r.key} appears once`);
    seen.set(client, set.add(i));
    const at = `${client}@${r.partition}`;
    assert.ok((lastIndex.get(at) ?? -1) < i, `${r.key}: after the same client's earlier records in partition ${r.partition}`);
    lastIndex.set(at, i);
  }
  for (const [client, total] of Object.entries(totals)) assert.equal(seen.get(client)?.size, total, `${client}: all ${total} records`);
});
