// Bad input against a real `strata start`, as raw requests built with the generated codecs (real clients
// refuse to send most of these): each gets Kafka's error code, nothing is written or created, and the same
// connection, a new connection and the other partitions keep working afterwards.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { CreateTopicsApi, FetchApi, MetadataApi, ProduceApi } from '../../src/protocol/generated/apis.js';
import type { CreateTopicsResponseCreatableTopicResult } from '../../src/protocol/generated/messages/create-topics.js';
import type { FetchResponsePartitionData } from '../../src/protocol/generated/messages/fetch.js';
import type { ProduceResponsePartitionProduceResponse } from '../../src/protocol/generated/messages/produce.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ZERO_UUID } from '../../src/protocol/codec-runtime.js';
import { buildBatch, buildBatchSync, Compression, RECORD_BATCH_OVERHEAD } from '../../src/protocol/records/index.js';
import { startStrata, type StrataProcess } from '../integration/helpers/strata-process.js';
import { WireClient } from '../integration/helpers/wire.js';
import { bootstrapOf, hex, missing, python } from './helpers/compat.js';

const NODE_ID = 1;
const MESSAGE_MAX_BYTES = 100_000;
const PRODUCE_V = 9;
const FETCH_V = 12;
const CREATE_V = 7;

let strata: StrataProcess;
let conn: WireClient;
let correlation = 100;
/** Next offset expected in each partition of 'good', which every check appends to. */
const goodNext = [0, 0];

before(async () => {
  strata = await startStrata(['--override', 'auto.create.topics.enable=false', '--override', `message.max.bytes=${MESSAGE_MAX_BYTES}`], { nodeId: NODE_ID });
  conn = await WireClient.connect(strata.port);
  const [good] = await createTopics(conn, [{ name: 'good', numPartitions: 2 }]);
  assert.equal(good!.errorCode, ErrorCode.NONE, good!.errorMessage ?? '');
});

after(async () => {
  conn.close();
  await strata.stop();
  await strata.cleanup();
});

async function produce(c: WireClient, topic: string, partition: number, records: Buffer): Promise<ProduceResponsePartitionProduceResponse> {
  const res = await c.request(ProduceApi, PRODUCE_V, { transactionalId: null, acks: -1, timeoutMs: 10_000, topicData: [{ name: topic, partitionData: [{ index: partition, records }] }] }, ++correlation);
  assert.equal(res.correlationId, correlation);
  return res.body.responses[0]!.partitionResponses[0]!;
}

async function createTopics(
  c: WireClient,
  topics: readonly { name: string; numPartitions?: number; configs?: Record<string, string> }[],
): Promise<CreateTopicsResponseCreatableTopicResult[]> {
  const res = await c.request(CreateTopicsApi, CREATE_V, {
    topics: topics.map((t) => ({
      name: t.name,
      numPartitions: t.numPartitions ?? 1,
      replicationFactor: 1,
      assignments: [],
      configs: Object.entries(t.configs ?? {}).map(([name, value]) => ({ name, value })),
    })),
    timeoutMs: 10_000,
    validateOnly: false,
  }, ++correlation);
  return res.body.topics;
}

async function metadataTopics(c: WireClient, names: readonly string[] | null): Promise<{ name: string | null; errorCode: number }[]> {
  const res = await c.request(MetadataApi, 12, {
    topics: names === null ? null : names.map((name) => ({ name, topicId: ZERO_UUID })),
    allowAutoTopicCreation: true,
    includeClusterAuthorizedOperations: false,
    includeTopicAuthorizedOperations: false,
  }, ++correlation);
  return res.body.topics.map((t) => ({ name: t.name, errorCode: t.errorCode }));
}

async function fetchAs(c: WireClient, replicaId: number, topic: string, partition: number, offset: number): Promise<FetchResponsePartitionData> {
  const res = await c.request(FetchApi, FETCH_V, {
    clusterId: null,
    replicaId,
    replicaState: { replicaId: -1, replicaEpoch: -1n },
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes: 1 << 20,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [{ topic, topicId: ZERO_UUID, partitions: [{ partition, currentLeaderEpoch: -1, fetchOffset: BigInt(offset), lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: 1 << 20, replicaDirectoryId: ZERO_UUID }] }],
    forgottenTopicsData: [],
    rackId: '',
  }, ++correlation);
  assert.equal(res.body.errorCode, ErrorCode.NONE);
  return res.body.responses[0]!.partitions[0]!;
}

const smallBatch = (tag: string): Buffer => buildBatchSync([{ key: tag, value: `payload ${tag}` }, { key: tag, value: 'second' }], { timestamp: Date.now() });

/** The same connection and a new one can still append to both partitions of 'good' and read it back. */
async function stillWorks(tag: string): Promise<void> {
  const fresh = await WireClient.connect(strata.port);
  try {
    for (const [c, partition] of [[conn, 0], [fresh, 1]] as const) {
      const r = await produce(c, 'good', partition, smallBatch(tag));
      assert.equal(r.errorCode, ErrorCode.NONE, `${tag}: produce to good-${partition} afterwards`);
      assert.equal(Number(r.baseOffset), goodNext[partition], `${tag}: good-${partition} offsets continue without a gap`);
      goodNext[partition]! += 2;
      const f = await fetchAs(c, -1, 'good', partition, 0);
      assert.equal(f.errorCode, ErrorCode.NONE);
      assert.equal(Number(f.highWatermark), goodNext[partition]);
    }
  } finally {
    fresh.close();
  }
}

describe('bad input gets Kafka error codes and harms nothing else', () => {
  test('produce to an unknown topic with auto.create.topics.enable=false is UNKNOWN_TOPIC_OR_PARTITION', async () => {
    const r = await produce(conn, 'no-such-topic', 0, smallBatch('unknown'));
    assert.equal(r.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    assert.deepEqual(await metadataTopics(conn, ['no-such-topic']), [{ name: 'no-such-topic', errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION }], 'Metadata does not auto-create it either');
    const beyond = await produce(conn, 'good', 7, smallBatch('beyond'));
    assert.equal(beyond.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'a partition past the count is unknown too');
    assert.deepEqual((await metadataTopics(conn, null)).map((t) => t.name), ['good']);
    await stillWorks('unknown-topic');
  });

  test(`a batch over message.max.bytes (${MESSAGE_MAX_BYTES}) is MESSAGE_TOO_LARGE`, async () => {
    // Random bytes do not compress, so the batch stays over the limit whatever the codec.
    const big = buildBatchSync([{ key: 'big', value: randomBytes(MESSAGE_MAX_BYTES) }], { timestamp: Date.now() });
    assert.ok(big.length > MESSAGE_MAX_BYTES + RECORD_BATCH_OVERHEAD - 12);
    const r = await produce(conn, 'good', 0, big);
    assert.equal(r.errorCode, ErrorCode.MESSAGE_TOO_LARGE);
    const zstd = await buildBatch([{ key: 'big', value: randomBytes(MESSAGE_MAX_BYTES) }], { timestamp: Date.now(), compression: Compression.zstd });
    assert.equal((await produce(conn, 'good', 1, zstd)).errorCode, ErrorCode.MESSAGE_TOO_LARGE);
    await stillWorks('too-large');
  });

  test('a batch whose CRC does not match its bytes is CORRUPT_MESSAGE', async () => {
    const batch = buildBatchSync([{ key: 'k', value: 'the value that will be damaged' }], { timestamp: Date.now() });
    batch[batch.length - 3]! ^= 0xff; // inside the last record's value: the framing stays valid, the CRC does not
    const r = await produce(conn, 'good', 0, batch);
    assert.equal(r.errorCode, ErrorCode.CORRUPT_MESSAGE);
    const compressed = buildBatchSync([{ key: 'k', value: 'z'.repeat(500) }], { timestamp: Date.now(), compression: Compression.gzip });
    compressed[compressed.length - 5]! ^= 0x55; // inside the gzip stream
    assert.equal((await produce(conn, 'good', 1, compressed)).errorCode, ErrorCode.CORRUPT_MESSAGE, 'the CRC is checked before decompressing');
    await stillWorks('corrupt');
  });

  test('an invalid topic config is INVALID_CONFIG naming the key, and creates nothing', async () => {
    const results = await createTopics(conn, [
      { name: 'bad-value', configs: { 'retention.ms': 'forever' } },
      { name: 'bad-key', configs: { 'no.such.config': '1' } },
      { name: 'bad-enum', configs: { 'cleanup.policy': 'sometimes' } },
      { name: 'ok-beside', configs: { 'retention.ms': '1000' } },
    ]);
    const byName = new Map(results.map((r) => [r.name, r]));
    for (const [name, key] of [['bad-value', 'retention.ms'], ['bad-key', 'no.such.config'], ['bad-enum', 'cleanup.policy']] as const) {
      assert.equal(byName.get(name)!.errorCode, ErrorCode.INVALID_CONFIG, name);
      assert.ok(byName.get(name)!.errorMessage?.includes(key), `${name}: '${byName.get(name)!.errorMessage}' names ${key}`);
    }
    assert.equal(byName.get('ok-beside')!.errorCode, ErrorCode.NONE, 'a valid topic in the same request is created');
    const listed = (await metadataTopics(conn, null)).map((t) => t.name).sort();
    assert.deepEqual(listed, ['good', 'ok-beside']);
    await stillWorks('invalid-config');
  });

  test('illegal topic names and a ./_ collision are INVALID_TOPIC_EXCEPTION', async () => {
    const illegal = ['.', '..', 'x'.repeat(250), 'a b', 'tab\there', 'slash/name', 'ünïcode', ''];
    const results = await createTopics(conn, illegal.map((name) => ({ name })));
    assert.deepEqual(results.map((r) => [r.name, r.errorCode]), illegal.map((n) => [n, ErrorCode.INVALID_TOPIC_EXCEPTION]));

    const [longest] = await createTopics(conn, [{ name: 'y'.repeat(249) }]);
    assert.equal(longest!.errorCode, ErrorCode.NONE, '249 characters is the longest legal name');
    const [dotted] = await createTopics(conn, [{ name: 'metrics.a' }]);
    assert.equal(dotted!.errorCode, ErrorCode.NONE);
    const [collides] = await createTopics(conn, [{ name: 'metrics_a' }]);
    assert.equal(collides!.errorCode, ErrorCode.INVALID_TOPIC_EXCEPTION);
    assert.match(collides!.errorMessage ?? '', /metrics\.a/);

    assert.deepEqual(await metadataTopics(conn, ['a b']), [{ name: 'a b', errorCode: ErrorCode.INVALID_TOPIC_EXCEPTION }], 'Metadata refuses the name too');
    assert.equal((await produce(conn, 'a b', 0, smallBatch('illegal'))).errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    const names = (await metadataTopics(conn, null)).map((t) => t.name);
    assert.ok(!names.includes('metrics_a') && !names.includes('a b') && !names.includes('.'));
    await stillWorks('illegal-names');
  });

  test('a Fetch claiming a replica id from a client is refused without records', async () => {
    for (const replicaId of [NODE_ID, 42]) {
      const f = await fetchAs(conn, replicaId, 'good', 0, 0);
      assert.equal(f.errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER, `replica id ${replicaId}`);
      assert.equal(f.records?.length ?? 0, 0);
    }
    await stillWorks('replica-fetch');
  });

  test('acks other than -1, 0 or 1 is INVALID_REQUIRED_ACKS and writes nothing', async () => {
    const res = await conn.request(ProduceApi, PRODUCE_V, { transactionalId: null, acks: 2, timeoutMs: 10_000, topicData: [{ name: 'good', partitionData: [{ index: 0, records: smallBatch('acks') }] }] }, ++correlation);
    assert.equal(res.body.responses[0]!.partitionResponses[0]!.errorCode, ErrorCode.INVALID_REQUIRED_ACKS);
    await stillWorks('acks');
  });

  test('a real client (confluent-kafka-python) gets the same codes', async (t) => {
    const skip = await missing('confluent-kafka-python');
    if (skip !== null) return t.skip(skip);
    const r = await python<{ results: Record<string, { code: number; str: string } | null> }>('confluent_driver', 'create_topics', {
      bootstrap: bootstrapOf(strata.port),
      topics: [{ name: 'a b' }, { name: '..' }, { name: 'z'.repeat(250) }, { name: 'cfg-bad', config: { 'min.insync.replicas': 'two' } }, { name: 'metrics_a' }],
    });
    assert.equal(r.results['a b']?.code, ErrorCode.INVALID_TOPIC_EXCEPTION);
    assert.equal(r.results['..']?.code, ErrorCode.INVALID_TOPIC_EXCEPTION);
    assert.equal(r.results['z'.repeat(250)]?.code, ErrorCode.INVALID_TOPIC_EXCEPTION);
    assert.equal(r.results['metrics_a']?.code, ErrorCode.INVALID_TOPIC_EXCEPTION);
    assert.equal(r.results['cfg-bad']?.code, ErrorCode.INVALID_CONFIG);
    assert.match(r.results['cfg-bad']!.str, /min\.insync\.replicas/);
    const produced = await python<{ delivered: { error: { code: number } | null }[] }>('confluent_driver', 'produce', {
      bootstrap: bootstrapOf(strata.port),
      topic: 'never-created',
      records: [{ key: hex('k'), value: hex('v') }],
      // librdkafka waits this long for a topic to appear before failing its messages.
      config: { 'topic.metadata.propagation.max.ms': 100, 'message.timeout.ms': 10_000 },
    });
    assert.equal(produced.delivered[0]?.error?.code, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    await stillWorks('real-client');
  });
});
