import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPartitionsHandler } from '../../../src/broker/handlers/create-partitions.js';
import type { CreatePartitionsRequest } from '../../../src/protocol/generated/messages/create-partitions.js';
import { ErrorCode } from '../../../src/protocol/errors.js';
import { call, NODE_ID, startAdminNode, type AdminNode } from './admin-harness.js';

let node: AdminNode;
let handler: ReturnType<typeof createPartitionsHandler>;
before(async () => {
  node = await startAdminNode();
  handler = createPartitionsHandler(node.deps);
  await node.quorum.controller.createTopics(['grow', 'assigned', 'validated', 'shrink'].map((name) => ({ name, numPartitions: 2, replicationFactor: 1 })));
});
after(() => node.close());

const request = (topics: CreatePartitionsRequest['topics'], validateOnly = false): CreatePartitionsRequest =>
  ({ topics, timeoutMs: 30000, validateOnly });

test('raises the partition count in every version', async () => {
  for (let v = 0; v <= 3; v++) {
    const count = 3 + v;
    const res = await call(handler, v, request([{ name: 'grow', count, assignments: null }]));
    assert.deepEqual(res.results.map((r) => [r.name, r.errorCode]), [['grow', ErrorCode.NONE]], `v${v}`);
    assert.equal(node.view.partitionCount('grow'), count);
    const last = node.view.image.partition('grow', count - 1)!;
    assert.equal(last.leader, NODE_ID);
  }
});

test('explicit assignments for the new partitions', async () => {
  const res = await call(handler, 2, request([{ name: 'assigned', count: 3, assignments: [{ brokerIds: [NODE_ID] }] }]));
  assert.equal(res.results[0]!.errorCode, ErrorCode.NONE);
  assert.deepEqual(node.view.image.partition('assigned', 2)!.replicas, [NODE_ID]);
  const wrong = await call(handler, 2, request([{ name: 'assigned', count: 5, assignments: [{ brokerIds: [NODE_ID] }] }]));
  assert.equal(wrong.results[0]!.errorCode, ErrorCode.INVALID_REPLICA_ASSIGNMENT);
  const unknownBroker = await call(handler, 2, request([{ name: 'assigned', count: 4, assignments: [{ brokerIds: [99] }] }]));
  assert.equal(unknownBroker.results[0]!.errorCode, ErrorCode.INVALID_REPLICA_ASSIGNMENT);
  assert.equal(node.view.partitionCount('assigned'), 3);
});

test('INVALID_PARTITIONS when the count does not increase; unknown topics', async () => {
  const res = await call(handler, 3, request([
    { name: 'shrink', count: 2, assignments: null },
    { name: 'validated', count: 1, assignments: null },
    { name: 'missing', count: 4, assignments: null },
  ]));
  const byName = new Map(res.results.map((r) => [r.name, r]));
  assert.equal(byName.get('shrink')!.errorCode, ErrorCode.INVALID_PARTITIONS);
  assert.match(byName.get('shrink')!.errorMessage!, /already has 2/);
  assert.equal(byName.get('validated')!.errorCode, ErrorCode.INVALID_PARTITIONS);
  assert.equal(byName.get('missing')!.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
});

test('validate_only writes nothing; a topic named twice is refused first', async () => {
  const res = await call(handler, 1, request([{ name: 'validated', count: 10, assignments: null }], true));
  assert.equal(res.results[0]!.errorCode, ErrorCode.NONE);
  assert.equal(node.view.partitionCount('validated'), 2);
  const dup = await call(handler, 1, request([
    { name: 'grow', count: 50, assignments: null },
    { name: 'validated', count: 3, assignments: null },
    { name: 'grow', count: 51, assignments: null },
  ]));
  assert.deepEqual(dup.results.map((r) => [r.name, r.errorCode, r.errorMessage]), [
    ['grow', ErrorCode.INVALID_REQUEST, 'Duplicate topic name.'],
    ['validated', ErrorCode.NONE, null],
  ]);
  assert.equal(node.view.partitionCount('validated'), 3);
});
