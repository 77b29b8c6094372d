// OffsetCommit and OffsetFetch in every version, then OffsetDelete, DescribeGroups, ListGroups and
// DeleteGroups on groups holding offsets, through the node's handlers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiKey } from '../../../src/protocol/generated/apis.js';
import { ErrorCode } from '../../../src/protocol/errors.js';
import { startGroupNode, whenLoaded } from './group-harness.js';

const LOADING = [ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, ErrorCode.NOT_COORDINATOR, ErrorCode.COORDINATOR_NOT_AVAILABLE];

test('offsets committed in each version are fetched in each version; deleted with OffsetDelete and DeleteGroups', async () => {
  const g = await startGroupNode({ 'offset.metadata.max.bytes': '10' });
  try {
    await g.call(ApiKey.FindCoordinator, 1, { key: 'warm-up', keyType: 0, coordinatorKeys: [] });
    await g.call(ApiKey.CreateTopics, 5, { topics: [{ name: 'events', numPartitions: 2, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 10_000, validateOnly: false });
    const commit = (v: number, groupId: string, offset: number, metadata: string) => g.call(ApiKey.OffsetCommit, v, {
      groupId, generationIdOrMemberEpoch: -1, memberId: '', groupInstanceId: null, retentionTimeMs: -1n,
      topics: [{ name: 'events', partitions: [{ partitionIndex: 1, committedOffset: BigInt(offset), committedLeaderEpoch: 4, commitTimestamp: -1n, committedMetadata: metadata }] }],
    });
    for (let v = 0; v <= 9; v++) {
      const r = await whenLoaded(async () => {
        const res = await commit(v, `offsets-v${v}`, 100 + v, `m${v}`);
        return { errorCode: res.topics[0]!.partitions[0]!.errorCode, res };
      }, LOADING);
      assert.equal(r.errorCode, ErrorCode.NONE, `OffsetCommit v${v}`);
    }
    const tooLarge = await commit(8, 'offsets-v8', 1, 'x'.repeat(11));
    assert.equal(tooLarge.topics[0]!.partitions[0]!.errorCode, ErrorCode.OFFSET_METADATA_TOO_LARGE);

    for (let v = 0; v <= 9; v++) {
      const groupId = `offsets-v${v}`;
      const topics = [{ name: 'events', partitionIndexes: [0, 1] }];
      const r = await g.call(ApiKey.OffsetFetch, v, v >= 8
        ? { groupId: '', topics: [], requireStable: true, groups: [{ groupId, memberId: null, memberEpoch: -1, topics }] }
        : { groupId, topics, requireStable: false, groups: [] });
      const parts = v >= 8 ? r.groups[0]!.topics[0]!.partitions : r.topics[0]!.partitions;
      assert.deepEqual(parts.map((p) => [p.partitionIndex, Number(p.committedOffset)]), [[0, -1], [1, 100 + v]], `OffsetFetch v${v}`);
      assert.equal(parts[1]!.metadata, `m${v}`);
      // The leader epoch travels from OffsetCommit v6 and OffsetFetch v5.
      if (v >= 6) assert.equal(parts[1]!.committedLeaderEpoch, 4);
    }

    // A group holding only offsets is Empty, listed, and its offsets can be deleted.
    const described = await g.call(ApiKey.DescribeGroups, 5, { groups: ['offsets-v9', 'nobody'], includeAuthorizedOperations: true });
    assert.deepEqual(described.groups.map((x) => [x.groupId, x.errorCode, x.groupState]), [['offsets-v9', 0, 'Empty'], ['nobody', 0, 'Dead']]);
    assert.ok(described.groups[0]!.authorizedOperations > 0);
    for (let v = 0; v <= 5; v++) {
      const listed = await g.call(ApiKey.ListGroups, v, { statesFilter: v >= 4 ? ['Empty'] : [], typesFilter: [] });
      assert.equal(listed.errorCode, ErrorCode.NONE);
      assert.equal(listed.groups.filter((x) => x.groupId.startsWith('offsets-v')).length, 10, `ListGroups v${v}`);
    }
    const listedStable = await g.call(ApiKey.ListGroups, 4, { statesFilter: ['Stable'], typesFilter: [] });
    assert.equal(listedStable.groups.length, 0);

    const deletedOffsets = await g.call(ApiKey.OffsetDelete, 0, { groupId: 'offsets-v0', topics: [{ name: 'events', partitions: [{ partitionIndex: 1 }] }] });
    assert.equal(deletedOffsets.errorCode, ErrorCode.NONE);
    assert.equal(deletedOffsets.topics[0]!.partitions[0]!.errorCode, ErrorCode.NONE);
    const after = await g.call(ApiKey.OffsetFetch, 7, { groupId: 'offsets-v0', topics: null, requireStable: true, groups: [] });
    assert.deepEqual(after.topics, []);

    for (let v = 0; v <= 2; v++) {
      const groupId = `offsets-v${v + 1}`;
      const del = await g.call(ApiKey.DeleteGroups, v, { groupsNames: [groupId] });
      assert.deepEqual(del.results.map((x) => [x.groupId, x.errorCode]), [[groupId, ErrorCode.NONE]], `DeleteGroups v${v}`);
      const again = await g.call(ApiKey.DeleteGroups, v, { groupsNames: [groupId] });
      assert.equal(again.results[0]!.errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
    }
    const emptyId = await g.call(ApiKey.OffsetDelete, 0, { groupId: '', topics: [] });
    assert.equal(emptyId.errorCode, ErrorCode.INVALID_GROUP_ID);

    // Deleting the topic removes its committed offsets from every group.
    const fetchAll = () => g.call(ApiKey.OffsetFetch, 7, { groupId: 'offsets-v9', topics: null, requireStable: true, groups: [] });
    assert.equal((await fetchAll()).topics.length, 1);
    const dropped = await g.call(ApiKey.DeleteTopics, 5, { topics: [], topicNames: ['events'], timeoutMs: 10_000 });
    assert.equal(dropped.responses[0]!.errorCode, ErrorCode.NONE);
    for (let i = 0; i < 100 && (await fetchAll()).topics.length > 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual((await fetchAll()).topics, []);
  } finally {
    await g.close();
  }
});
