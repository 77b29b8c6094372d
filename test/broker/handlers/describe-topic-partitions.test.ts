import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { describeTopicPartitionsHandler } from '../../../src/broker/handlers/describe-topic-partitions.js';
import { TOPIC_OPERATIONS } from '../../../src/broker/handlers/metadata.js';
import type { DescribeTopicPartitionsRequest, DescribeTopicPartitionsResponse } from '../../../src/protocol/generated/messages/describe-topic-partitions.js';
import { ErrorCode } from '../../../src/protocol/errors.js';
import { ZERO_UUID } from '../../../src/protocol/codec-runtime.js';
import { call, NODE_ID, startAdminNode, type AdminNode } from './admin-harness.js';

let node: AdminNode;
let handler: ReturnType<typeof describeTopicPartitionsHandler>;
before(async () => {
  node = await startAdminNode();
  handler = describeTopicPartitionsHandler({ metadata: node.view });
  await node.quorum.controller.createTopics([
    { name: 'a', numPartitions: 3, replicationFactor: 1 },
    { name: 'b', numPartitions: 2, replicationFactor: 1 },
    { name: 'c', numPartitions: 4, replicationFactor: 1 },
    { name: '__consumer_offsets', numPartitions: 1, replicationFactor: 1 },
  ]);
});
after(() => node.close());

const request = (names: string[], limit = 2000, cursor: DescribeTopicPartitionsRequest['cursor'] = null): DescribeTopicPartitionsRequest =>
  ({ topics: names.map((name) => ({ name })), responsePartitionLimit: limit, cursor });
const shape = (res: DescribeTopicPartitionsResponse) =>
  res.topics.map((t) => [t.name, t.errorCode, t.partitions.map((p) => p.partitionIndex)]);

test('all topics in name order with their partitions', async () => {
  const res = await call(handler, 0, request([]));
  assert.deepEqual(shape(res), [
    ['__consumer_offsets', ErrorCode.NONE, [0]],
    ['a', ErrorCode.NONE, [0, 1, 2]],
    ['b', ErrorCode.NONE, [0, 1]],
    ['c', ErrorCode.NONE, [0, 1, 2, 3]],
  ]);
  assert.equal(res.nextCursor, null);
  const a = res.topics[1]!;
  assert.equal(a.topicId, node.view.topicId('a'));
  assert.equal(a.isInternal, false);
  assert.equal(res.topics[0]!.isInternal, true);
  assert.equal(a.topicAuthorizedOperations, TOPIC_OPERATIONS);
  assert.deepEqual({ ...a.partitions[0]!, unknownTaggedFields: undefined }, {
    errorCode: 0, partitionIndex: 0, leaderId: NODE_ID, leaderEpoch: 0, replicaNodes: [NODE_ID], isrNodes: [NODE_ID],
    eligibleLeaderReplicas: [], lastKnownElr: [], offlineReplicas: [], unknownTaggedFields: undefined,
  });
});

test('pages of at most response_partition_limit partitions, resumed from the cursor', async () => {
  const seen: string[] = [];
  let cursor: DescribeTopicPartitionsRequest['cursor'] = null;
  let pages = 0;
  do {
    const res: DescribeTopicPartitionsResponse = await call(handler, 0, request([], 3, cursor));
    const count = res.topics.reduce((n, t) => n + t.partitions.length, 0);
    assert.ok(count <= 3);
    for (const t of res.topics) for (const p of t.partitions) seen.push(`${t.name}-${p.partitionIndex}`);
    cursor = res.nextCursor === null ? null : { topicName: res.nextCursor.topicName, partitionIndex: res.nextCursor.partitionIndex };
    pages++;
  } while (cursor !== null && pages < 10);
  assert.deepEqual(seen, ['__consumer_offsets-0', 'a-0', 'a-1', 'a-2', 'b-0', 'b-1', 'c-0', 'c-1', 'c-2', 'c-3']);
  const first = await call(handler, 0, request([], 3));
  assert.deepEqual(first.nextCursor && [first.nextCursor.topicName, first.nextCursor.partitionIndex], ['a', 2]);
});

test('named topics: unknown and illegal names are reported; the cursor must be among them', async () => {
  const res = await call(handler, 0, request(['c', 'nope', 'b', 'bad name', 'b']));
  assert.deepEqual(shape(res), [
    ['b', ErrorCode.NONE, [0, 1]],
    ['bad name', ErrorCode.INVALID_TOPIC_EXCEPTION, []],
    ['c', ErrorCode.NONE, [0, 1, 2, 3]],
    ['nope', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, []],
  ]);
  assert.equal(res.topics[3]!.topicId, ZERO_UUID);
  const fromCursor = await call(handler, 0, request(['a', 'c'], 2000, { topicName: 'c', partitionIndex: 2 }));
  assert.deepEqual(shape(fromCursor), [['c', ErrorCode.NONE, [2, 3]]]);
  const badCursor = await call(handler, 0, request(['a'], 2000, { topicName: 'b', partitionIndex: 0 }));
  assert.deepEqual(badCursor.topics.map((t) => [t.name, t.errorCode]), [['a', ErrorCode.INVALID_REQUEST]]);
});
