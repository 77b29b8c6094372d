// @platformatic/kafka (a pure TypeScript client speaking the newest API versions: Fetch v17 by topic id,
// CreateTopics v7, DescribeConfigs v4) against a real `strata start`: admin topic and config calls, an
// idempotent producer, and its consumer's single-fetch call (which needs no consumer group) reading the
// records back: every record once, byte-exact, in order, headers and timestamps kept.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  Admin,
  ConfigResourceTypes,
  ConfigSources,
  Consumer,
  IncrementalAlterConfigOperationTypes,
  Producer,
  stringSerializers,
} from '@platformatic/kafka';
import { startStrata, type StrataProcess } from '../integration/helpers/strata-process.js';
import { Compression, compressionOf } from '../../src/protocol/records/index.js';
import { bootstrapOf, storedBatches } from './helpers/compat.js';

const NODE_ID = 4;
const TOPIC = 'pk-data';
const PARTITIONS = 2;
let strata: StrataProcess;
let admin: Admin;
/** Why the client cannot run here (it needs Node >= 20.19.4 on the 20 line), or null. */
let skip: string | null = null;

function nodeTooOld(): string | null {
  const [major, minor, patch] = process.versions.node.split('.').map(Number) as [number, number, number];
  const ok = major > 20 || (major === 20 && (minor > 19 || (minor === 19 && patch >= 4)));
  return ok ? null : `@platformatic/kafka needs Node >= 20.19.4 (this is ${process.versions.node})`;
}

before(async () => {
  skip = nodeTooOld();
  strata = await startStrata([], { nodeId: NODE_ID });
  admin = new Admin({ clientId: 'compat-platformatic', bootstrapBrokers: [bootstrapOf(strata.port)], retries: 2 });
});

after(async () => {
  await admin.close();
  await strata.stop();
  await strata.cleanup();
});

/** The Kafka errors inside one of this client's (possibly nested) aggregate errors. */
function protocolErrors(err: unknown): { apiId: string; apiCode: number }[] {
  const e = err as { apiId?: string; apiCode?: number; errors?: unknown[] };
  if (e.apiId !== undefined && e.apiCode !== undefined) return [{ apiId: e.apiId, apiCode: e.apiCode }];
  return (e.errors ?? []).flatMap(protocolErrors);
}

async function describeTopic(): Promise<Map<string, { value: string | null | undefined; source: number }>> {
  const [d] = await admin.describeConfigs({ resources: [{ resourceType: ConfigResourceTypes.TOPIC, resourceName: TOPIC }] });
  return new Map(d!.configs.map((c) => [c.name, { value: c.value, source: c.configSource }]));
}

describe('@platformatic/kafka', () => {
  test('admin: createTopics with configs, metadata, describeConfigs, incrementalAlterConfigs, createPartitions', async (t) => {
    if (skip !== null) return t.skip(skip);
    const [created] = await admin.createTopics({ topics: [TOPIC], partitions: PARTITIONS, replicas: 1, configs: [{ name: 'retention.ms', value: '7200000' }] });
    assert.equal(created!.name, TOPIC);
    assert.equal(created!.partitions, PARTITIONS);
    assert.equal(created!.replicas, 1);
    assert.match(created!.id, /^[0-9a-f-]{36}$/);
    assert.equal(created!.configuration['retention.ms'], '7200000');

    const md = await admin.metadata({ topics: [TOPIC] });
    assert.equal(md.id, strata.clusterId);
    assert.deepEqual([...md.brokers.keys()], [NODE_ID]);
    const topic = md.topics.get(TOPIC)!;
    assert.equal(topic.id, created!.id);
    assert.deepEqual(topic.partitions.map((p) => [p.leader, p.replicas, p.isr]), [[NODE_ID, [NODE_ID], [NODE_ID]], [NODE_ID, [NODE_ID], [NODE_ID]]]);

    assert.deepEqual((await describeTopic()).get('retention.ms'), { value: '7200000', source: ConfigSources.TOPIC_CONFIG });
    await admin.incrementalAlterConfigs({
      resources: [{
        resourceType: ConfigResourceTypes.TOPIC,
        resourceName: TOPIC,
        configs: [
          { name: 'segment.ms', configOperation: IncrementalAlterConfigOperationTypes.SET, value: '600000' },
          { name: 'retention.ms', configOperation: IncrementalAlterConfigOperationTypes.DELETE },
        ],
      }],
    });
    const after = await describeTopic();
    assert.deepEqual(after.get('segment.ms'), { value: '600000', source: ConfigSources.TOPIC_CONFIG });
    assert.deepEqual(after.get('retention.ms'), { value: '604800000', source: ConfigSources.DEFAULT_CONFIG });

    // UNKNOWN_TOPIC_OR_PARTITION is retriable, so this client would retry it: ask once.
    const once = new Admin({ clientId: 'compat-platformatic-once', bootstrapBrokers: [bootstrapOf(strata.port)], retries: 0 });
    try {
      const err = await once.createPartitions({ topics: [{ name: 'pk-grow', count: 1 }] }).then(() => assert.fail('growing an unknown topic must fail'), (e: unknown) => e);
      assert.deepEqual(protocolErrors(err), [{ apiId: 'UNKNOWN_TOPIC_OR_PARTITION', apiCode: 3 }]);
    } finally {
      await once.close();
    }
    await admin.createTopics({ topics: ['pk-grow'], partitions: 1, replicas: 1 });
    await admin.createPartitions({ topics: [{ name: 'pk-grow', count: 4 }] });
    assert.equal((await admin.metadata({ topics: ['pk-grow'], forceUpdate: true })).topics.get('pk-grow')!.partitionsCount, 4);
    await admin.deleteTopics({ topics: ['pk-grow'] });
    assert.ok(!(await admin.listTopics()).includes('pk-grow'));
  });

  test('idempotent producer; listOffsets and a group-less fetch read back exactly what was sent', async (t) => {
    if (skip !== null) return t.skip(skip);
    const COUNT = 3000;
    const BASE_TS = 1_600_000_000_000n;
    const sent = Array.from({ length: COUNT }, (_, i) => ({
      topic: TOPIC,
      partition: i % PARTITIONS,
      key: `pk-${i}`,
      value: `platformatic ${i} ${'€'.repeat(i % 9)}${'#'.repeat(i % 173)}`,
      headers: { idx: String(i), kind: i % 2 === 0 ? 'even' : 'odd' },
      timestamp: BASE_TS + BigInt(i),
    }));
    const producer = new Producer({
      clientId: 'compat-platformatic-producer',
      bootstrapBrokers: [bootstrapOf(strata.port)],
      serializers: stringSerializers,
      idempotent: true,
      acks: -1,
      retries: 3,
    });
    try {
      for (let i = 0; i < COUNT; i += 500) {
        const res = await producer.send({ messages: sent.slice(i, i + 500), compression: i % 1000 === 0 ? 'lz4' : 'snappy' });
        assert.ok(res.offsets !== undefined && res.offsets.length > 0);
      }
    } finally {
      await producer.close();
    }

    // zstd is left out: this client implements it with node:zlib's zstd, which Node 20 lacks.
    const codecs = new Set<number>();
    const producerIds = new Set<number>();
    for (let p = 0; p < PARTITIONS; p++) {
      for (const h of await storedBatches(strata.dataDir, TOPIC, p)) {
        codecs.add(compressionOf(h.attributes));
        producerIds.add(h.producerId);
      }
    }
    assert.deepEqual(codecs, new Set([Compression.lz4, Compression.snappy]), 'batches stored in the codecs sent');
    assert.equal(producerIds.size, 1);
    assert.ok([...producerIds][0]! >= 0, 'the idempotent producer got a producer id');

    const [listed] = await admin.listOffsets({ topics: [{ name: TOPIC, partitions: [0, 1].map((p) => ({ partitionIndex: p, timestamp: -1n })) }] });
    assert.deepEqual(listed!.partitions.map((p) => [p.partitionIndex, p.offset]).sort(), [[0, BigInt(COUNT / 2)], [1, BigInt(COUNT / 2)]]);

    const topicId = (await admin.metadata({ topics: [TOPIC] })).topics.get(TOPIC)!.id;
    const consumer = new Consumer({ clientId: 'compat-platformatic-consumer', groupId: 'unused-no-join', bootstrapBrokers: [bootstrapOf(strata.port)] });
    try {
      for (let p = 0; p < PARTITIONS; p++) {
        const got: { offset: bigint; key: string; value: string; headers: [string, string][]; timestamp: bigint }[] = [];
        let next = 0n;
        while (next < BigInt(COUNT / 2)) {
          const res = await consumer.fetch({
            node: NODE_ID,
            maxWaitTime: 100,
            topics: [{ topicId, partitions: [{ partition: p, currentLeaderEpoch: -1, fetchOffset: next, lastFetchedEpoch: -1, partitionMaxBytes: 1 << 20 }] }],
          });
          const part = res.responses[0]!.partitions[0]!;
          assert.equal(part.errorCode, 0);
          assert.equal(part.highWatermark, BigInt(COUNT / 2));
          for (const batch of part.records ?? []) {
            for (const r of batch.records) {
              const offset = batch.firstOffset + BigInt(r.offsetDelta);
              if (offset < next) continue;
              got.push({
                offset,
                key: r.key!.toString(),
                value: r.value!.toString(),
                headers: r.headers.map(([k, v]) => [k!.toString(), v!.toString()]),
                timestamp: batch.firstTimestamp + r.timestampDelta,
              });
            }
          }
          assert.ok(got.length > 0 && got[got.length - 1]!.offset + 1n > next, 'each fetch makes progress');
          next = got[got.length - 1]!.offset + 1n;
        }
        const want = sent.filter((s) => s.partition === p);
        assert.deepEqual(
          got,
          want.map((s, i) => ({ offset: BigInt(i), key: s.key, value: s.value, headers: Object.entries(s.headers), timestamp: s.timestamp })),
          `partition ${p}`,
        );
      }
    } finally {
      await consumer.close();
    }
  });

  test('deleteTopics removes the topic', async (t) => {
    if (skip !== null) return t.skip(skip);
    await admin.deleteTopics({ topics: [TOPIC] });
    assert.ok(!(await admin.listTopics()).includes(TOPIC));
  });
});
