import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KafkaClient, parseBroker } from '../../src/client/kafka-client.js';
import { isKafkaError, KafkaResponseError } from '../../src/client/errors.js';
import { partitionForKey } from '../../src/client/partitioner.js';
import { ApiKey } from '../../src/protocol/generated/apis.js';
import type { CreateTopicsRequest } from '../../src/protocol/generated/messages/create-topics.js';
import type { DeleteTopicsRequest } from '../../src/protocol/generated/messages/delete-topics.js';
import type { FetchRequest } from '../../src/protocol/generated/messages/fetch.js';
import type { IncrementalAlterConfigsRequest } from '../../src/protocol/generated/messages/incremental-alter-configs.js';
import type { ProduceRequest } from '../../src/protocol/generated/messages/produce.js';
import { defaultProduceResponse, defaultProduceResponsePartitionProduceResponse } from '../../src/protocol/generated/messages/produce.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { Compression, readBatchHeader } from '../../src/protocol/records/batch-header.js';
import { decodeBatchRecords } from '../../src/protocol/records/batch-records.js';
import { iterateBatches } from '../../src/protocol/records/batches.js';
import { isStrataError } from '../../src/protocol/strata-error.js';
import { DEFAULT_VERSIONS, ScriptBroker } from './helpers/script-broker.js';

async function setup(fn: (b: ScriptBroker, c: KafkaClient) => Promise<void>, opts: Parameters<typeof ScriptBroker.start>[0] = {}): Promise<void> {
  const b = await ScriptBroker.start(opts);
  const c = new KafkaClient({ bootstrapServers: b.address, retryBackoffMs: 5, retryBackoffMaxMs: 20 });
  try {
    await fn(b, c);
  } finally {
    await c.close();
    await b.close();
  }
}

test('parseBroker reads host:port and [ipv6]:port and refuses the rest', () => {
  assert.deepEqual(parseBroker('localhost:9092'), { host: 'localhost', port: 9092 });
  assert.deepEqual(parseBroker(' [::1]:19092 '), { host: '::1', port: 19092 });
  for (const bad of ['localhost', 'h:0', 'h:70000', ':9092']) assert.throws(() => parseBroker(bad), (e: unknown) => isStrataError(e, 'ERR_CONFIG'));
});

test('describeCluster uses DescribeCluster when offered and Metadata when not', async () => {
  await setup(async (b, c) => {
    const info = await c.describeCluster();
    assert.deepEqual(info, { clusterId: b.clusterId, controllerId: 1, brokers: [{ nodeId: 1, host: '127.0.0.1', port: b.port, rack: null }] });
    assert.equal(b.requestsOf(ApiKey.DescribeCluster).length, 1);
  });
  const noDescribe = new Map(DEFAULT_VERSIONS);
  noDescribe.delete(ApiKey.DescribeCluster);
  await setup(
    async (b, c) => {
      const info = await c.describeCluster();
      assert.equal(info.clusterId, b.clusterId);
      assert.equal(b.requestsOf(ApiKey.DescribeCluster).length, 0);
      assert.ok(b.requestsOf(ApiKey.Metadata).length >= 1);
    },
    { versions: noDescribe },
  );
});

test('topics are listed, described, created (with configs and validate-only), grown and deleted', () =>
  setup(async (b, c) => {
    const [dry] = await c.createTopics([{ name: 'orders', numPartitions: 3, replicationFactor: 1 }], { validateOnly: true });
    assert.equal(dry!.error, null);
    assert.equal(b.topics.has('orders'), false, 'validate-only creates nothing');
    const [made] = await c.createTopics([{ name: 'orders', numPartitions: 3, configs: { 'retention.ms': '1000' } }]);
    assert.equal(made!.error, null);
    assert.equal(made!.numPartitions, 3);
    assert.equal(made!.topicId, b.topics.get('orders')!.topicId);
    const sent = b.requestsOf(ApiKey.CreateTopics).at(-1)!.body as CreateTopicsRequest;
    assert.deepEqual(
      sent.topics.map((t) => ({ name: t.name, n: t.numPartitions, rf: t.replicationFactor, configs: t.configs.map((x) => [x.name, x.value]) })),
      [{ name: 'orders', n: 3, rf: -1, configs: [['retention.ms', '1000']] }],
    );
    const [again] = await c.createTopics([{ name: 'orders', numPartitions: 1 }]);
    assert.ok(isKafkaError(again!.error, ErrorCode.TOPIC_ALREADY_EXISTS));
    assert.equal(again!.error!.message, "topic 'orders' already exists (TOPIC_ALREADY_EXISTS)");

    b.addTopic('__consumer_offsets', 1);
    assert.deepEqual(await c.listTopics(), ['orders']);
    assert.deepEqual(await c.listTopics({ includeInternal: true }), ['__consumer_offsets', 'orders']);
    const [orders] = await c.describeTopics(['orders']);
    assert.deepEqual(orders!.partitions.map((p) => [p.partition, p.leader, p.replicas]), [[0, 1, [1]], [1, 1, [1]], [2, 1, [1]]]);
    await assert.rejects(c.describeTopics(['missing']), (e: unknown) => isKafkaError(e, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) && e.message === "topic 'missing' does not exist (UNKNOWN_TOPIC_OR_PARTITION)");

    const [grown] = await c.createPartitions({ orders: 5 });
    assert.equal(grown!.error, null);
    assert.equal((await c.describeTopics(['orders']))[0]!.partitions.length, 5);
    const [shrink] = await c.createPartitions({ orders: 2 });
    assert.ok(isKafkaError(shrink!.error, ErrorCode.INVALID_PARTITIONS));

    const deleted = await c.deleteTopics(['orders', 'nope']);
    assert.equal(deleted[0]!.error, null);
    assert.ok(isKafkaError(deleted[1]!.error, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION));
    const del = b.requestsOf(ApiKey.DeleteTopics)[0]!;
    assert.equal(del.version, 6);
    assert.deepEqual((del.body as DeleteTopicsRequest).topics.map((t) => t.name), ['orders', 'nope']);
    assert.deepEqual(await c.listTopics({ includeInternal: true }), ['__consumer_offsets']);
  }));

test('old brokers: DeleteTopics v5 uses topicNames; CreateTopics before v4 needs an explicit shape', async () => {
  const old = new Map(DEFAULT_VERSIONS);
  old.set(ApiKey.DeleteTopics, [0, 5]);
  old.set(ApiKey.CreateTopics, [0, 3]);
  await setup(
    async (b, c) => {
      await assert.rejects(c.createTopics([{ name: 'x' }]), (e: unknown) => isStrataError(e, 'ERR_UNSUPPORTED_VERSION') && /explicit partition count/.test(e.message));
      assert.equal((await c.createTopics([{ name: 'x', numPartitions: 2, replicationFactor: 1 }]))[0]!.error, null);
      await c.deleteTopics(['x']);
      const del = b.requestsOf(ApiKey.DeleteTopics)[0]!;
      assert.equal(del.version, 5);
      assert.deepEqual((del.body as DeleteTopicsRequest).topicNames, ['x']);
    },
    { versions: old },
  );
});

test('describeConfigs and incrementalAlterConfigs', () =>
  setup(async (b, c) => {
    b.addTopic('t', 1);
    const [r] = await c.incrementalAlterConfigs([{ type: 'topic', name: 't', alterations: [{ name: 'retention.ms', op: 'set', value: '5' }, { name: 'segment.ms', op: 'delete' }] }]);
    assert.equal(r!.error, null);
    const sent = b.requestsOf(ApiKey.IncrementalAlterConfigs)[0]!.body as IncrementalAlterConfigsRequest;
    assert.deepEqual(sent.resources[0]!.configs.map((x) => [x.name, x.configOperation, x.value]), [['retention.ms', 0, '5'], ['segment.ms', 1, null]]);
    const [d] = await c.describeConfigs([{ type: 'topic', name: 't' }]);
    assert.deepEqual(d!.configs.map((x) => [x.name, x.value, x.isDefault, x.source]), [['cleanup.policy', 'delete', true, 'DEFAULT_CONFIG'], ['retention.ms', '5', false, 'DYNAMIC_TOPIC_CONFIG']]);
    const [missing] = await c.describeConfigs([{ type: 'topic', name: 'nope' }]);
    assert.ok(isKafkaError(missing!.error, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION));
  }));

test('describeConfigs v0 reads isDefault', async () => {
  const old = new Map(DEFAULT_VERSIONS);
  old.set(ApiKey.DescribeConfigs, [0, 0]);
  await setup(
    async (b, c) => {
      b.addTopic('t', 1).configs.set('retention.ms', '7');
      const [d] = await c.describeConfigs([{ type: 'topic', name: 't' }]);
      assert.deepEqual(d!.configs.map((x) => [x.name, x.isDefault]), [['cleanup.policy', true], ['retention.ms', false]]);
    },
    { versions: old },
  );
});

test('produce: one batch per partition, keys partitioned like Kafka, offsets returned in input order', () =>
  setup(async (b, c) => {
    b.addTopic('t', 4);
    const keys = ['alpha', 'beta', 'gamma', 'delta', 'alpha'];
    const result = await c.produce('t', keys.map((k, i) => ({ key: k, value: `v${i}`, headers: [{ key: 'n', value: String(i) }] })));
    const req = b.requestsOf(ApiKey.Produce)[0]!;
    const body = req.body as ProduceRequest;
    assert.equal(req.version, 11);
    assert.equal(body.acks, -1);
    const expected = keys.map((k) => partitionForKey(Buffer.from(k), 4));
    assert.deepEqual(result.records.map((r) => r.partition), expected);
    for (const pd of body.topicData[0]!.partitionData) {
      const batches = [...iterateBatches(pd.records!)];
      assert.equal(batches.length, 1, 'one batch per partition');
    }
    // Offsets within each partition count up from 0 in input order.
    const seen = new Map<number, number>();
    for (const r of result.records) {
      assert.equal(r.offset, seen.get(r.partition) ?? 0);
      seen.set(r.partition, r.offset + 1);
    }
    const stored = b.topics.get('t')!.partitions[expected[0]!]!.batches[0]!;
    const recs = await decodeBatchRecords(stored.bytes, { position: 0, size: stored.bytes.length, header: readBatchHeader(stored.bytes, 0) });
    assert.equal(recs[0]!.key!.toString(), 'alpha');
    assert.equal(recs[0]!.headers[0]!.value!.toString(), '0');
  }));

test('produce: keyless records share one partition; explicit partitions are honoured and checked', () =>
  setup(async (b, c) => {
    b.addTopic('t', 3);
    const r = await c.produce('t', [{ value: 'a' }, { value: 'b' }, { value: 'c', partition: 2 }]);
    assert.equal(r.records[0]!.partition, r.records[1]!.partition);
    assert.equal(r.records[2]!.partition, 2);
    await assert.rejects(c.produce('t', [{ value: 'x', partition: 3 }]), (e: unknown) => isKafkaError(e, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) && /topic 't' partition 3 does not exist/.test(e.message));
    await assert.rejects(c.produce('missing', [{ value: 'x' }]), (e: unknown) => isKafkaError(e, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) && !e.retriable);
  }));

test('produce: compressed batches, zstd needs Produce v7+', async () => {
  await setup(async (b, c) => {
    b.addTopic('t', 1);
    await c.produce('t', [{ value: 'x'.repeat(1000) }], { compression: 'gzip', acks: 1 });
    const body = b.requestsOf(ApiKey.Produce)[0]!.body as ProduceRequest;
    assert.equal(body.acks, 1);
    assert.equal(readBatchHeader(body.topicData[0]!.partitionData[0]!.records!, 0).attributes & 7, Compression.gzip);
  });
  const old = new Map(DEFAULT_VERSIONS);
  old.set(ApiKey.Produce, [3, 6]);
  await setup(
    async (b, c) => {
      b.addTopic('t', 1);
      await assert.rejects(c.produce('t', [{ value: 'x' }], { compression: 'zstd' }), (e: unknown) => isStrataError(e, 'ERR_UNSUPPORTED_VERSION'));
      assert.equal((await c.produce('t', [{ value: 'x' }], { compression: 'lz4' })).records[0]!.offset, 0);
    },
    { versions: old },
  );
});

test('produce retries a partition whose leader moved, after refreshing metadata', () =>
  setup(async (b, c) => {
    b.addTopic('t', 1);
    let calls = 0;
    b.scripts.set(ApiKey.Produce, (req) => {
      if (++calls > 1) return undefined;
      const body = req.body as ProduceRequest;
      return {
        ...defaultProduceResponse(),
        responses: [{ name: 't', partitionResponses: [{ ...defaultProduceResponsePartitionProduceResponse(), index: body.topicData[0]!.partitionData[0]!.index, errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER }] }],
      };
    });
    const metadataBefore = b.requestsOf(ApiKey.Metadata).length;
    const r = await c.produce('t', [{ value: 'x' }]);
    assert.equal(calls, 2);
    assert.equal(r.records[0]!.offset, 0);
    assert.ok(b.requestsOf(ApiKey.Metadata).length > metadataBefore, 'metadata was looked up again');
    assert.equal(b.topics.get('t')!.partitions[0]!.batches.length, 1);
  }));

test('produce gives up on a non-retriable error with the broker message', () =>
  setup(async (b, c) => {
    b.addTopic('t', 1);
    b.scripts.set(ApiKey.Produce, () => ({
      ...defaultProduceResponse(),
      responses: [{ name: 't', partitionResponses: [{ ...defaultProduceResponsePartitionProduceResponse(), index: 0, errorCode: ErrorCode.MESSAGE_TOO_LARGE, errorMessage: 'too big' }] }],
    }));
    await assert.rejects(c.produce('t', [{ value: 'x' }]), (e: unknown) => e instanceof KafkaResponseError && e.message === "topic 't' partition 0: too big (MESSAGE_TOO_LARGE)");
    assert.equal(b.requestsOf(ApiKey.Produce).length, 1);
  }));

test('produce routes each partition to its leader', async () => {
  const b1 = await ScriptBroker.start({ nodeId: 1 });
  const b2 = await ScriptBroker.start({ nodeId: 2 });
  b1.peers.set(2, b2.port);
  b2.peers.set(1, b1.port);
  const t1 = b1.addTopic('t', 2);
  t1.partitions[1]!.leader = 2;
  const t2 = b2.addTopic('t', 2);
  t2.partitions[1]!.leader = 2;
  t2.partitions[0]!.leader = 1;
  const c = new KafkaClient({ bootstrapServers: [b1.address] });
  try {
    const r = await c.produce('t', [{ value: 'a', partition: 0 }, { value: 'b', partition: 1 }]);
    assert.deepEqual(r.records, [{ partition: 0, offset: 0 }, { partition: 1, offset: 0 }]);
    assert.deepEqual((b1.requestsOf(ApiKey.Produce)[0]!.body as ProduceRequest).topicData[0]!.partitionData.map((p) => p.index), [0]);
    assert.deepEqual((b2.requestsOf(ApiKey.Produce)[0]!.body as ProduceRequest).topicData[0]!.partitionData.map((p) => p.index), [1]);
  } finally {
    await c.close();
    await b1.close();
    await b2.close();
  }
});

test('fetch reads back what was produced, by topic id on Fetch v13+, and continues from nextOffset', () =>
  setup(async (b, c) => {
    b.addTopic('t', 2);
    await c.produce('t', [{ value: 'a', partition: 0 }, { value: 'b', partition: 0 }]);
    await c.produce('t', [{ value: 'c', partition: 0, key: 'k', timestamp: 1234 }]);
    const [r] = await c.fetch([{ topic: 't', partition: 0, offset: 0 }], { maxWaitMs: 0 });
    assert.equal(r!.error, null);
    assert.deepEqual(r!.records.map((x) => [x.offset, x.key?.toString() ?? null, x.value!.toString()]), [[0, null, 'a'], [1, null, 'b'], [2, 'k', 'c']]);
    assert.equal(r!.records[2]!.timestamp, 1234);
    assert.equal(r!.nextOffset, 3);
    assert.equal(r!.highWatermark, 3);
    const req = b.requestsOf(ApiKey.Fetch)[0]!;
    assert.equal(req.version, 17);
    assert.equal((req.body as FetchRequest).topics[0]!.topicId, b.topics.get('t')!.topicId);
    const [next] = await c.fetch([{ topic: 't', partition: 0, offset: 3 }], { maxWaitMs: 0 });
    assert.deepEqual(next!.records, []);
    assert.equal(next!.nextOffset, 3);
  }));

test('fetch without topic ids stays on Fetch v12 and names topics', async () => {
  const old = new Map(DEFAULT_VERSIONS);
  old.set(ApiKey.Metadata, [0, 9]);
  await setup(
    async (b, c) => {
      b.addTopic('t', 1);
      await c.produce('t', [{ value: 'a' }]);
      const [r] = await c.fetch([{ topic: 't', partition: 0, offset: 0 }]);
      assert.deepEqual(r!.records.map((x) => x.value!.toString()), ['a']);
      const req = b.requestsOf(ApiKey.Fetch)[0]!;
      assert.equal(req.version, 12);
      assert.equal((req.body as FetchRequest).topics[0]!.topic, 't');
    },
    { versions: old },
  );
});

test('fetch with a small partitionMaxBytes gets a partial batch and moves on batch by batch', () =>
  setup(async (b, c) => {
    b.addTopic('t', 1);
    for (let i = 0; i < 3; i++) await c.produce('t', [{ value: `record-${i}`.padEnd(200, '.') }]);
    const batchSize = b.topics.get('t')!.partitions[0]!.batches[0]!.bytes.length;
    let offset = 0;
    const seen: number[] = [];
    for (let round = 0; round < 3; round++) {
      const [r] = await c.fetch([{ topic: 't', partition: 0, offset }], { partitionMaxBytes: batchSize + 10 });
      seen.push(...r!.records.map((x) => x.offset));
      offset = r!.nextOffset;
    }
    assert.deepEqual(seen, [0, 1, 2]);
  }));

test('fetch reports partition errors in the result instead of throwing', () =>
  setup(async (b, c) => {
    b.addTopic('t', 1);
    const [r] = await c.fetch([{ topic: 't', partition: 0, offset: 50 }]);
    assert.ok(isKafkaError(r!.error, ErrorCode.OFFSET_OUT_OF_RANGE));
    assert.equal(r!.error!.retriable, false);
    const [missing] = await c.fetch([{ topic: 'nope', partition: 0, offset: 0 }]);
    assert.ok(isKafkaError(missing!.error, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION));
  }));

test('listOffsets: earliest, latest and by timestamp; ListOffsets v0 reads old-style offsets', async () => {
  for (const max of [9, 0]) {
    const versions = new Map(DEFAULT_VERSIONS);
    versions.set(ApiKey.ListOffsets, [0, max]);
    await setup(
      async (b, c) => {
        b.addTopic('t', 2);
        const now = Date.now();
        await c.produce('t', [{ value: 'a', partition: 1, timestamp: now - 1000 }]);
        await c.produce('t', [{ value: 'b', partition: 1, timestamp: now }]);
        assert.deepEqual((await c.listOffsets('t', 'earliest')).map((o) => [o.partition, o.offset]), [[0, 0], [1, 0]]);
        assert.deepEqual((await c.listOffsets('t', 'latest')).map((o) => [o.partition, o.offset]), [[0, 0], [1, 2]]);
        assert.equal(b.requestsOf(ApiKey.ListOffsets)[0]!.version, max);
        if (max > 0) {
          assert.deepEqual((await c.listOffsets('t', { timestamp: now - 10 }, [1])).map((o) => o.offset), [1]);
          assert.deepEqual((await c.listOffsets('t', { timestamp: now + 10 }, [1])).map((o) => o.offset), [-1]);
        }
      },
      { versions },
    );
  }
});

test('an unreachable bootstrap list fails with one message naming the cause', async () => {
  const b = await ScriptBroker.start();
  const port = b.port;
  await b.close();
  const c = new KafkaClient({ bootstrapServers: `127.0.0.1:${port}`, retries: 1, retryBackoffMs: 1 });
  await assert.rejects(c.listTopics(), (e: unknown) => isStrataError(e, 'ERR_NETWORK') && e.message === `no broker is reachable: cannot connect to 127.0.0.1:${port}: connection refused`);
  await c.close();
});

test('a dropped connection is replaced on the next request', () =>
  setup(async (b, c) => {
    b.addTopic('t', 1);
    let drop = true;
    b.scripts.set(ApiKey.Metadata, () => {
      if (!drop) return undefined;
      drop = false;
      return 'close';
    });
    assert.deepEqual(await c.listTopics(), ['t']);
  }));

test('topic metadata is cached between operations until it is older than metadataMaxAgeMs', async () => {
  const b = await ScriptBroker.start();
  b.addTopic('t', 1);
  const cached = new KafkaClient({ bootstrapServers: b.address });
  const ageless = new KafkaClient({ bootstrapServers: b.address, metadataMaxAgeMs: 0 });
  try {
    await cached.produce('t', [{ value: 'a' }]);
    const before = b.requestsOf(ApiKey.Metadata).length;
    await cached.produce('t', [{ value: 'b' }]);
    await cached.fetch([{ topic: 't', partition: 0, offset: 0 }]);
    assert.equal(b.requestsOf(ApiKey.Metadata).length, before, 'no lookup while fresh');
    await ageless.produce('t', [{ value: 'c' }]);
    const mid = b.requestsOf(ApiKey.Metadata).length;
    await new Promise((res) => setTimeout(res, 2));
    await ageless.produce('t', [{ value: 'd' }]);
    assert.equal(b.requestsOf(ApiKey.Metadata).length, mid + 1, 'looked up again once stale');
  } finally {
    await cached.close();
    await ageless.close();
    await b.close();
  }
});
