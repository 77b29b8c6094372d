// The Metadata handler over a real metadata image: topics, partitions and auto-creation.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createMetadataHandler, TOPIC_OPERATIONS } from '../../../src/broker/handlers/metadata.js';
import type { MetadataRequest } from '../../../src/protocol/generated/messages/metadata.js';
import { ErrorCode } from '../../../src/protocol/errors.js';
import { ZERO_UUID } from '../../../src/protocol/codec-runtime.js';
import { call, CLUSTER_ID, NODE_ID, startAdminNode, type AdminNode } from './admin-harness.js';

let node: AdminNode;
let handler: ReturnType<typeof createMetadataHandler>;
before(async () => {
  node = await startAdminNode({ staticConfig: { 'num.partitions': '2' } });
  handler = createMetadataHandler({ metadata: node.view, controller: node.deps.controller });
  await node.quorum.controller.createTopics([
    { name: 'alpha', numPartitions: 3, replicationFactor: 1 },
    { name: '__consumer_offsets', numPartitions: 1, replicationFactor: 1 },
  ]);
});
after(() => node.close());

const request = (names: string[] | null, over: Partial<MetadataRequest> = {}): MetadataRequest => ({
  topics: names === null ? null : names.map((name) => ({ name, topicId: ZERO_UUID })),
  allowAutoTopicCreation: false,
  includeClusterAuthorizedOperations: false,
  includeTopicAuthorizedOperations: false,
  ...over,
});

test('existing topics with partitions, leaders, replicas and ids, in every version', async () => {
  for (let v = 0; v <= 12; v++) {
    const res = await call(handler, v, request(['alpha'], v >= 4 ? {} : { allowAutoTopicCreation: true }));
    assert.deepEqual(res.brokers.map((b) => [b.nodeId, b.host, b.port]), [[NODE_ID, 'broker.example', 9093]], `v${v}`);
    if (v >= 1) assert.equal(res.controllerId, NODE_ID);
    if (v >= 2) assert.equal(res.clusterId, CLUSTER_ID);
    const t = res.topics[0]!;
    assert.deepEqual([t.name, t.errorCode], ['alpha', ErrorCode.NONE]);
    assert.deepEqual(t.partitions.map((p) => [p.partitionIndex, p.errorCode, p.leaderId, p.replicaNodes, p.isrNodes]),
      [0, 1, 2].map((i) => [i, ErrorCode.NONE, NODE_ID, [NODE_ID], [NODE_ID]]));
    if (v >= 7) assert.equal(t.partitions[0]!.leaderEpoch, 0);
    if (v >= 5) assert.deepEqual(t.partitions[0]!.offlineReplicas, []);
    if (v >= 10) assert.equal(t.topicId, node.view.topicId('alpha'));
  }
});

test('all topics; internal flag; topic ids in v12 requests', async () => {
  const all = await call(handler, 9, request(null));
  assert.deepEqual(all.topics.map((t) => [t.name, t.isInternal]), [['__consumer_offsets', true], ['alpha', false]]);
  const v0 = await call(handler, 0, request([], { allowAutoTopicCreation: true }));
  assert.deepEqual(v0.topics.map((t) => t.name), ['__consumer_offsets', 'alpha']);
  const id = node.view.topicId('alpha')!;
  const byId = await call(handler, 12, { ...request(null), topics: [{ name: null, topicId: id }, { name: null, topicId: randomUUID() }] });
  assert.deepEqual(byId.topics.map((t) => [t.name, t.errorCode]), [['alpha', ErrorCode.NONE], [null, ErrorCode.UNKNOWN_TOPIC_ID]]);
  const ops = await call(handler, 11, request(['alpha'], { includeTopicAuthorizedOperations: true }));
  assert.equal(ops.topics[0]!.topicAuthorizedOperations, TOPIC_OPERATIONS);
});

test('unknown topics without auto-creation; illegal names', async () => {
  const res = await call(handler, 9, request(['missing', 'bad name']));
  assert.deepEqual(res.topics.map((t) => [t.name, t.errorCode]), [
    ['missing', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
    ['bad name', ErrorCode.INVALID_TOPIC_EXCEPTION],
  ]);
  assert.equal(node.view.image.topic('missing'), undefined);
});

test('auto-creation with num.partitions: LEADER_NOT_AVAILABLE first, the topic next time', async () => {
  const res = await call(handler, 9, request(['auto-1', 'bad name', '__transaction_state'], { allowAutoTopicCreation: true }));
  assert.deepEqual(res.topics.map((t) => [t.name, t.errorCode]), [
    ['bad name', ErrorCode.INVALID_TOPIC_EXCEPTION],
    ['__transaction_state', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
    ['auto-1', ErrorCode.LEADER_NOT_AVAILABLE],
  ]);
  assert.equal(node.view.partitionCount('auto-1'), 2);
  assert.equal(node.view.image.topic('__transaction_state'), undefined, 'internal topics are left to their coordinators');
  const again = await call(handler, 9, request(['auto-1'], { allowAutoTopicCreation: true }));
  assert.deepEqual(again.topics.map((t) => [t.name, t.errorCode, t.partitions.length]), [['auto-1', ErrorCode.NONE, 2]]);
  // v0–v3 always allow auto-creation.
  const v1 = await call(handler, 1, request(['auto-old'], { allowAutoTopicCreation: true }));
  assert.equal(v1.topics[0]!.errorCode, ErrorCode.LEADER_NOT_AVAILABLE);
});

test('auto.create.topics.enable=false turns auto-creation off', async () => {
  const off = await startAdminNode({ staticConfig: { 'auto.create.topics.enable': 'false' } });
  try {
    const h = createMetadataHandler({ metadata: off.view, controller: off.deps.controller });
    const res = await call(h, 9, request(['never'], { allowAutoTopicCreation: true }));
    assert.equal(res.topics[0]!.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    assert.equal(off.view.image.topic('never'), undefined);
  } finally {
    await off.close();
  }
});

test('a leader without the request’s listener: LEADER_NOT_AVAILABLE before v6, LISTENER_NOT_FOUND after', async () => {
  const res5 = await call(handler, 5, request(['alpha']), { listenerName: 'NOPE' });
  assert.equal(res5.topics[0]!.partitions[0]!.errorCode, ErrorCode.LEADER_NOT_AVAILABLE);
  assert.deepEqual(res5.topics[0]!.partitions[0]!.offlineReplicas, [NODE_ID]);
  const res6 = await call(handler, 6, request(['alpha']), { listenerName: 'NOPE' });
  assert.equal(res6.topics[0]!.partitions[0]!.errorCode, ErrorCode.LISTENER_NOT_FOUND);
  assert.equal(res6.topics[0]!.partitions[0]!.leaderId, -1);
  assert.deepEqual(res6.brokers, []);
});
