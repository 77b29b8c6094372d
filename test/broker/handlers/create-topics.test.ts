import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTopicsHandler } from '../../../src/broker/handlers/create-topics.js';
import type { CreateTopicsRequest, CreateTopicsRequestCreatableTopic } from '../../../src/protocol/generated/messages/create-topics.js';
import { ErrorCode } from '../../../src/protocol/errors.js';
import { ZERO_UUID } from '../../../src/protocol/codec-runtime.js';
import { ConfigSource } from '../../../src/config/config-def.js';
import { call, NODE_ID, startAdminNode, type AdminNode } from './admin-harness.js';

let node: AdminNode;
let handler: ReturnType<typeof createTopicsHandler>;
before(async () => {
  node = await startAdminNode({ staticConfig: { 'log.retention.hours': '24' } });
  handler = createTopicsHandler(node.deps);
});
after(() => node.close());

const topic = (name: string, over: Partial<CreateTopicsRequestCreatableTopic> = {}): CreateTopicsRequestCreatableTopic =>
  ({ name, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [], ...over });
const request = (topics: CreateTopicsRequestCreatableTopic[], over: Partial<CreateTopicsRequest> = {}): CreateTopicsRequest =>
  ({ topics, timeoutMs: 30000, validateOnly: false, ...over });

test('creates topics in every version; v5+ report partitions, replication and effective configs, v7 the id', async () => {
  for (let v = 0; v <= 7; v++) {
    const name = `created-v${v}`;
    const res = await call(handler, v, request([topic(name, { numPartitions: 3, configs: [{ name: 'retention.ms', value: '1000' }] })]));
    assert.equal(res.topics.length, 1);
    const t = res.topics[0]!;
    assert.deepEqual([t.name, t.errorCode], [name, ErrorCode.NONE], `v${v}`);
    const image = node.view.image.topic(name);
    assert.equal(image?.partitions.size, 3);
    assert.equal(node.view.image.topicConfigs(name).get('retention.ms'), '1000');
    if (v >= 5) {
      assert.equal(t.numPartitions, 3);
      assert.equal(t.replicationFactor, 1);
      const byName = new Map(t.configs!.map((c) => [c.name, c]));
      assert.deepEqual({ ...byName.get('retention.ms')!, unknownTaggedFields: undefined },
        { name: 'retention.ms', value: '1000', readOnly: false, configSource: ConfigSource.TOPIC_CONFIG, isSensitive: false, unknownTaggedFields: undefined });
      // Keys not overridden fall back to the broker's defaults.
      assert.equal(byName.get('segment.bytes')!.configSource, ConfigSource.DEFAULT_CONFIG);
      assert.equal(byName.get('segment.bytes')!.value, '1073741824');
      const names = t.configs!.map((c) => c.name);
      assert.deepEqual(names, [...names].sort(), 'sorted by name');
    }
    if (v >= 7) assert.equal(t.topicId, image!.id);
  }
});

test('broker defaults show their source: static retention from log.retention.hours', async () => {
  const res = await call(handler, 7, request([topic('with-broker-default')]));
  const retention = res.topics[0]!.configs!.find((c) => c.name === 'retention.ms')!;
  assert.equal(retention.value, String(24 * 3600 * 1000));
  assert.equal(retention.configSource, ConfigSource.STATIC_BROKER_CONFIG);
});

test('validate_only checks everything and writes nothing', async () => {
  const res = await call(handler, 5, request([topic('only-validated', { numPartitions: 4 })], { validateOnly: true }));
  assert.equal(res.topics[0]!.errorCode, ErrorCode.NONE);
  assert.equal(res.topics[0]!.numPartitions, 4);
  assert.equal(node.view.image.topic('only-validated'), undefined);
  const bad = await call(handler, 5, request([topic('bad-validated', { configs: [{ name: 'cleanup.policy', value: 'nope' }] })], { validateOnly: true }));
  assert.equal(bad.topics[0]!.errorCode, ErrorCode.INVALID_CONFIG);
});

test('per-topic errors with Kafka codes and messages', async () => {
  await call(handler, 4, request([topic('exists')]));
  const res = await call(handler, 7, request([
    topic('exists'),
    topic('bad name!'),
    topic('zero-partitions', { numPartitions: 0 }),
    topic('too-many-replicas', { replicationFactor: 3 }),
    topic('bad-assignment', { numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [42] }] }),
    topic('bad-config', { configs: [{ name: 'cleanup.policy', value: 'shred' }] }),
    topic('unknown-config', { configs: [{ name: 'no.such.key', value: '1' }] }),
    topic('ok-one'),
  ]));
  const byName = new Map(res.topics.map((t) => [t.name, t]));
  assert.equal(byName.get('exists')!.errorCode, ErrorCode.TOPIC_ALREADY_EXISTS);
  assert.equal(byName.get('bad name!')!.errorCode, ErrorCode.INVALID_TOPIC_EXCEPTION);
  assert.equal(byName.get('zero-partitions')!.errorCode, ErrorCode.INVALID_PARTITIONS);
  assert.equal(byName.get('too-many-replicas')!.errorCode, ErrorCode.INVALID_REPLICATION_FACTOR);
  assert.equal(byName.get('bad-assignment')!.errorCode, ErrorCode.INVALID_REPLICA_ASSIGNMENT);
  assert.equal(byName.get('bad-config')!.errorCode, ErrorCode.INVALID_CONFIG);
  assert.match(byName.get('bad-config')!.errorMessage!, /cleanup\.policy/);
  assert.equal(byName.get('unknown-config')!.errorCode, ErrorCode.INVALID_CONFIG);
  assert.match(byName.get('unknown-config')!.errorMessage!, /no\.such\.key/);
  assert.equal(byName.get('ok-one')!.errorCode, ErrorCode.NONE);
  for (const t of res.topics.filter((x) => x.errorCode !== ErrorCode.NONE)) {
    assert.deepEqual([t.numPartitions, t.replicationFactor, t.topicId, t.configs], [-1, -1, ZERO_UUID, []], t.name);
    assert.notEqual(t.errorMessage, null, t.name);
  }
  // A failed topic leaves nothing behind.
  assert.equal(node.view.image.topic('bad-config'), undefined);
});

test('a name given twice is refused as a whole; __cluster_metadata is never created', async () => {
  const res = await call(handler, 5, request([topic('twice'), topic('twice'), topic('__cluster_metadata'), topic('once')]));
  assert.deepEqual(res.topics.map((t) => [t.name, t.errorCode, t.errorMessage]), [
    ['once', ErrorCode.NONE, null],
    ['twice', ErrorCode.INVALID_REQUEST, 'Duplicate topic name.'],
    ['__cluster_metadata', ErrorCode.TOPIC_AUTHORIZATION_FAILED, 'Authorization failed.'],
  ]);
  assert.equal(node.view.image.topic('twice'), undefined);
});

test('defaults: -1 partitions and replication factor take the broker defaults', async () => {
  const res = await call(handler, 6, request([topic('defaults', { numPartitions: -1, replicationFactor: -1 })]));
  assert.deepEqual([res.topics[0]!.errorCode, res.topics[0]!.numPartitions, res.topics[0]!.replicationFactor], [ErrorCode.NONE, 1, 1]);
  const p = node.view.image.partition('defaults', 0)!;
  assert.deepEqual([p.leader, p.replicas, p.isr], [NODE_ID, [NODE_ID], [NODE_ID]]);
});
