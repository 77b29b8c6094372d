// kafkajs against a real `strata start`: its admin client (topics, metadata, configs, offsets) and its
// idempotent producer. kafkajs cannot consume without a consumer group, so what it produced is read back
// with kcat (librdkafka, checking CRCs): every record once, byte-exact, in order, with headers and
// timestamps.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import kafkajs, { CompressionTypes, Kafka, logLevel, type Admin, type Producer } from 'kafkajs';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ApiKey } from '../../src/protocol/generated/apis.js';
import { Compression, compressionOf } from '../../src/protocol/records/index.js';
import { startStrata, type StrataProcess } from '../integration/helpers/strata-process.js';
import { advertisedApis, bootstrapOf, byPartition, kcatConsumeAll, missing, storedBatches } from './helpers/compat.js';

// Not visible to ESM's named-export detection in kafkajs's CommonJS build.
const { ConfigResourceTypes } = kafkajs;
const NODE_ID = 2;
let strata: StrataProcess;
let kafka: Kafka;
let admin: Admin;
let noKcat: string | null;

before(async () => {
  noKcat = await missing('kcat');
  strata = await startStrata([], { nodeId: NODE_ID });
  kafka = new Kafka({ clientId: 'compat-kafkajs', brokers: [bootstrapOf(strata.port)], logLevel: logLevel.NOTHING, retry: { retries: 3 } });
  admin = kafka.admin();
  await admin.connect();
});

after(async () => {
  await admin.disconnect();
  await strata.stop();
  await strata.cleanup();
});

/** The Kafka error a kafkajs call rejected with (KafkaJSProtocolError, or the first of an aggregate). */
async function kafkaError(p: Promise<unknown>): Promise<{ type: string; code: number }> {
  try {
    await p;
  } catch (e) {
    const err = e as { type?: string; code?: number; errors?: { type?: string; code?: number }[] };
    const first = err.type !== undefined ? err : err.errors?.[0];
    if (first?.type !== undefined && first.code !== undefined) return { type: first.type, code: first.code };
    throw e;
  }
  throw new Error('expected the call to fail');
}

describe('kafkajs admin', () => {
  test('createTopics with config entries, then fetchTopicMetadata', async () => {
    const created = await admin.createTopics({
      topics: [
        { topic: 'js-data', numPartitions: 3, replicationFactor: 1, configEntries: [{ name: 'retention.bytes', value: '104857600' }] },
        { topic: 'js-temp', numPartitions: 1 },
      ],
      waitForLeaders: true,
    });
    assert.equal(created, true);
    // kafkajs reports an existing topic as `false` rather than an error.
    assert.equal(await admin.createTopics({ topics: [{ topic: 'js-data', numPartitions: 3 }] }), false);
    const md = await admin.fetchTopicMetadata({ topics: ['js-data', 'js-temp'] });
    const data = md.topics.find((t) => t.name === 'js-data')!;
    assert.deepEqual(
      data.partitions.map((p) => ({ id: p.partitionId, leader: p.leader, replicas: p.replicas, isr: p.isr })).sort((a, b) => a.id - b.id),
      [0, 1, 2].map((id) => ({ id, leader: NODE_ID, replicas: [NODE_ID], isr: [NODE_ID] })),
    );
    assert.equal(md.topics.find((t) => t.name === 'js-temp')!.partitions.length, 1);
    assert.ok((await admin.listTopics()).includes('js-temp'));
  });

  test('describeConfigs and alterConfigs; an invalid value is INVALID_CONFIG', async () => {
    const describe = async (): Promise<Map<string, { value: string; isDefault: boolean }>> => {
      const r = await admin.describeConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: 'js-data' }], includeSynonyms: false });
      assert.equal(r.resources[0]!.errorCode, 0);
      return new Map(r.resources[0]!.configEntries.map((e) => [e.configName, { value: e.configValue, isDefault: e.isDefault }]));
    };
    const before = await describe();
    assert.deepEqual(before.get('retention.bytes'), { value: '104857600', isDefault: false });
    assert.deepEqual(before.get('cleanup.policy'), { value: 'delete', isDefault: true });

    await admin.alterConfigs({
      validateOnly: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: 'js-data', configEntries: [{ name: 'retention.bytes', value: '209715200' }, { name: 'segment.ms', value: '3600000' }] }],
    });
    const after = await describe();
    assert.deepEqual(after.get('retention.bytes'), { value: '209715200', isDefault: false });
    assert.deepEqual(after.get('segment.ms'), { value: '3600000', isDefault: false });

    const bad = await kafkaError(admin.alterConfigs({
      validateOnly: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: 'js-data', configEntries: [{ name: 'segment.ms', value: '-5' }] }],
    }));
    assert.deepEqual(bad, { type: 'INVALID_CONFIG', code: ErrorCode.INVALID_CONFIG });
    assert.deepEqual((await describe()).get('segment.ms'), { value: '3600000', isDefault: false }, 'a refused change changes nothing');
  });

  test('deleteTopics removes a topic; fetching its metadata is then UNKNOWN_TOPIC_OR_PARTITION', async () => {
    await admin.deleteTopics({ topics: ['js-temp'] });
    assert.ok(!(await admin.listTopics()).includes('js-temp'));
    const err = await kafkaError(admin.fetchTopicMetadata({ topics: ['js-temp'] }));
    assert.equal(err.code, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  });
});

const PARTITIONS = 3;
const BASE_TS = 1_650_000_000_000;

/** Record i as kafkajs sends it: round-robin over the partitions, with headers and a CreateTime. */
const message = (i: number): { key: string; value: string; partition: number; timestamp: string; headers: Record<string, string> } => ({
  key: `k${i}`,
  value: `kafkajs record ${i} ${'ñ'.repeat(i % 6)}${'.'.repeat(i % 211)}`,
  partition: i % PARTITIONS,
  timestamp: String(BASE_TS + i),
  headers: { n: String(i), src: 'kafkajs' },
});

describe('kafkajs idempotent producer', () => {
  let producer: Producer;
  const BATCHES = 40;
  const PER_BATCH = 250;

  test('sends 10,000 records across partitions; fetchTopicOffsets and kcat agree with what was sent', async (t) => {
    producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      const codecs = [CompressionTypes.None, CompressionTypes.GZIP];
      for (let b = 0; b < BATCHES; b++) {
        const messages = Array.from({ length: PER_BATCH }, (_, j) => message(b * PER_BATCH + j));
        const res = await producer.send({ topic: 'js-data', acks: -1, compression: codecs[b % codecs.length], messages });
        for (const r of res) assert.equal(r.errorCode, 0);
      }
    } finally {
      await producer.disconnect();
    }
    const total = BATCHES * PER_BATCH;
    const offsets = await admin.fetchTopicOffsets('js-data');
    assert.deepEqual(
      offsets.map((o) => ({ partition: o.partition, low: o.low, high: o.high })).sort((a, b) => a.partition - b.partition),
      [0, 1, 2].map((p) => ({ partition: p, low: '0', high: String(Math.ceil((total - p) / PARTITIONS)) })),
    );

    // On disk: one producer id from InitProducerId, sequences continuing from batch to batch, both codecs.
    const producerIds = new Set<number>();
    const codecs = new Set<number>();
    for (let p = 0; p < PARTITIONS; p++) {
      let nextSeq = 0;
      for (const h of await storedBatches(strata.dataDir, 'js-data', p)) {
        producerIds.add(h.producerId);
        codecs.add(compressionOf(h.attributes));
        assert.equal(h.baseSequence, nextSeq, `partition ${p}: batch at offset ${h.baseOffset} continues the sequence`);
        nextSeq += h.lastOffsetDelta + 1;
      }
    }
    assert.equal(producerIds.size, 1);
    assert.ok([...producerIds][0]! >= 0);
    assert.deepEqual(codecs, new Set([Compression.none, Compression.gzip]));

    if (noKcat !== null) return t.skip(`reading back: ${noKcat}`);
    const lines = await kcatConsumeAll(strata.port, 'js-data', '%p\\t%o\\t%T\\t%k\\t%h\\t%s\\n');
    assert.equal(lines.length, total, 'every record once');
    for (let p = 0; p < PARTITIONS; p++) {
      const got = lines.filter((l) => l.startsWith(`${p}\t`));
      const want: string[] = [];
      for (let i = p; i < total; i += PARTITIONS) {
        const m = message(i);
        want.push(`${p}\t${want.length}\t${m.timestamp}\t${m.key}\tn=${i},src=kafkajs\t${m.value}`);
      }
      assert.equal(got.join('\n'), want.join('\n'), `partition ${p}: byte-exact, in order, headers and timestamps kept`);
    }
  });
});

describe('kafkajs consumer group (when the broker serves groups)', () => {
  const GROUP_APIS = [ApiKey.FindCoordinator, ApiKey.JoinGroup, ApiKey.SyncGroup, ApiKey.Heartbeat, ApiKey.LeaveGroup, ApiKey.OffsetCommit, ApiKey.OffsetFetch];

  /** Runs a consumer of `group` on js-data until it has `count` records (or fails after a while). */
  async function consume(group: string, count: number): Promise<{ partition: number; offset: number; key: string; value: string }[]> {
    const consumer = kafka.consumer({ groupId: group, sessionTimeout: 10_000, heartbeatInterval: 500 });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: 'js-data', fromBeginning: true });
      const got: { partition: number; offset: number; key: string; value: string }[] = [];
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`group ${group}: ${got.length} of ${count} records after 60 s`)), 60_000);
        consumer.run({
          eachMessage: async ({ partition, message }) => {
            got.push({ partition, offset: Number(message.offset), key: String(message.key), value: String(message.value) });
            if (got.length === count) {
              clearTimeout(timer);
              resolve();
            }
          },
        }).catch(reject);
      });
      return got;
    } finally {
      // Commits what was consumed (autoCommit) and leaves the group.
      await consumer.disconnect();
    }
  }

  test('a group consumer reads everything once, in order; the next member resumes from the commits', async (t) => {
    const apis = await advertisedApis(strata.port);
    if (GROUP_APIS.some((k) => !apis.has(k))) return t.skip('the broker does not serve consumer groups yet');
    const before = await admin.fetchTopicOffsets('js-data');
    const total = before.reduce((n, o) => n + Number(o.high), 0);
    const got = await consume('compat-js-group', total);
    for (const [p, records] of byPartition(got)) {
      assert.deepEqual(records.map((r) => r.offset), records.map((_, i) => i), `partition ${p}: every offset once, in order`);
      for (const r of records) assert.equal(r.value, message(Number(r.key.slice(1))).value);
    }

    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      await producer.send({ topic: 'js-data', acks: -1, messages: Array.from({ length: 9 }, (_, i) => message(100_000 + i)) });
    } finally {
      await producer.disconnect();
    }
    const resumed = await consume('compat-js-group', 9);
    assert.deepEqual(resumed.map((r) => r.key).sort(), Array.from({ length: 9 }, (_, i) => `k${100_000 + i}`).sort(), 'only the records after the committed offsets');
  });
});
