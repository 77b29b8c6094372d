// JoinGroup, SyncGroup, Heartbeat and LeaveGroup through the node's handlers, in every version.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiKey } from '../../../src/protocol/generated/apis.js';
import { ErrorCode } from '../../../src/protocol/errors.js';
import { startGroupNode, whenLoaded } from './group-harness.js';

const LOADING = [ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, ErrorCode.NOT_COORDINATOR, ErrorCode.COORDINATOR_NOT_AVAILABLE];

test('a member joins, syncs, heartbeats and leaves in every version of the four APIs', async () => {
  const g = await startGroupNode();
  try {
    await g.call(ApiKey.FindCoordinator, 1, { key: 'warm-up', keyType: 0, coordinatorKeys: [] });
    for (let v = 0; v <= 9; v++) {
      const groupId = `members-v${v}`;
      const join = (memberId: string) => whenLoaded(() => g.call(ApiKey.JoinGroup, v, {
        groupId, sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000, memberId, groupInstanceId: null,
        protocolType: 'consumer', protocols: [{ name: 'range', metadata: Buffer.from('sub') }], reason: null,
      }), LOADING);
      let joined = await join('');
      if (v >= 4) {
        // KIP-394: a new member first gets its id.
        assert.equal(joined.errorCode, ErrorCode.MEMBER_ID_REQUIRED, `v${v}`);
        assert.notEqual(joined.memberId, '');
        joined = await join(joined.memberId);
      }
      assert.equal(joined.errorCode, ErrorCode.NONE, `v${v}`);
      assert.equal(joined.generationId, 1);
      assert.equal(joined.leader, joined.memberId);
      assert.equal(joined.protocolName, 'range');
      assert.deepEqual(joined.members.map((m) => [m.memberId, m.metadata.toString()]), [[joined.memberId, 'sub']]);
      const { memberId, generationId } = joined;

      const sv = Math.min(v, 5);
      const synced = await g.call(ApiKey.SyncGroup, sv, {
        groupId, generationId, memberId, groupInstanceId: null, protocolType: 'consumer', protocolName: 'range',
        assignments: [{ memberId, assignment: Buffer.from('mine') }],
      });
      assert.equal(synced.errorCode, ErrorCode.NONE, `SyncGroup v${sv}`);
      assert.equal(synced.assignment.toString(), 'mine');
      if (sv >= 5) assert.deepEqual([synced.protocolType, synced.protocolName], ['consumer', 'range']);

      const hv = Math.min(v, 4);
      const hb = await g.call(ApiKey.Heartbeat, hv, { groupId, generationId, memberId, groupInstanceId: null });
      assert.equal(hb.errorCode, ErrorCode.NONE, `Heartbeat v${hv}`);
      const wrongGeneration = await g.call(ApiKey.Heartbeat, hv, { groupId, generationId: generationId + 1, memberId, groupInstanceId: null });
      assert.equal(wrongGeneration.errorCode, ErrorCode.ILLEGAL_GENERATION);

      const lv = Math.min(v, 5);
      const left = await g.call(ApiKey.LeaveGroup, lv, { groupId, memberId: lv < 3 ? memberId : '', members: lv >= 3 ? [{ memberId, groupInstanceId: null, reason: null }] : [] });
      assert.equal(left.errorCode, ErrorCode.NONE, `LeaveGroup v${lv}`);
      if (lv >= 3) assert.deepEqual(left.members.map((m) => [m.memberId, m.errorCode]), [[memberId, ErrorCode.NONE]]);
      const gone = await g.call(ApiKey.Heartbeat, hv, { groupId, generationId, memberId, groupInstanceId: null });
      assert.equal(gone.errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
    }
  } finally {
    await g.close();
  }
});

test('session timeouts out of bounds, empty group ids and duplicate static instances are refused', async () => {
  const g = await startGroupNode({ 'group.min.session.timeout.ms': '1000', 'group.max.session.timeout.ms': '20000' });
  try {
    await g.call(ApiKey.FindCoordinator, 1, { key: 'warm-up', keyType: 0, coordinatorKeys: [] });
    const join = (over: Record<string, unknown>) => whenLoaded(() => g.call(ApiKey.JoinGroup, 9, {
      groupId: 'bounds', sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000, memberId: '', groupInstanceId: null,
      protocolType: 'consumer', protocols: [{ name: 'range', metadata: Buffer.alloc(0) }], reason: null, ...over,
    }), LOADING);
    assert.equal((await join({ sessionTimeoutMs: 999 })).errorCode, ErrorCode.INVALID_SESSION_TIMEOUT);
    assert.equal((await join({ sessionTimeoutMs: 20_001 })).errorCode, ErrorCode.INVALID_SESSION_TIMEOUT);
    assert.equal((await join({ groupId: '' })).errorCode, ErrorCode.INVALID_GROUP_ID);
    const sync = await g.call(ApiKey.SyncGroup, 5, { groupId: '', generationId: 1, memberId: 'm', groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] });
    assert.equal(sync.errorCode, ErrorCode.INVALID_GROUP_ID);

    const first = await join({ groupId: 'statics', groupInstanceId: 'i-1' });
    assert.equal(first.errorCode, ErrorCode.NONE);
    await g.call(ApiKey.SyncGroup, 5, { groupId: 'statics', generationId: first.generationId, memberId: first.memberId, groupInstanceId: 'i-1', protocolType: 'consumer', protocolName: 'range', assignments: [{ memberId: first.memberId, assignment: Buffer.from('a') }] });
    const second = await join({ groupId: 'statics', groupInstanceId: 'i-1' });
    assert.equal(second.errorCode, ErrorCode.NONE);
    assert.equal(second.generationId, first.generationId, 'a static member rejoining does not start a new generation');
    const fenced = await g.call(ApiKey.Heartbeat, 4, { groupId: 'statics', generationId: first.generationId, memberId: first.memberId, groupInstanceId: 'i-1' });
    assert.equal(fenced.errorCode, ErrorCode.FENCED_INSTANCE_ID);
  } finally {
    await g.close();
  }
});
