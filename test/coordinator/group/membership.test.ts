import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode } from '../../../src/protocol/errors.js';
import type { JoinGroupResponse } from '../../../src/protocol/generated/messages/join-group.js';
import { isPending, settle } from '../memory-log.js';
import { advanceUntil, ctx, joinNew, joinReq, stableGroup, start, subscription } from './harness.js';
import type { Harness } from './harness.js';

const describeG = async (h: Harness, groupId = 'g') => (await h.gc.describeGroups(ctx(), [groupId]))[0]!;
const heartbeat = async (h: Harness, memberId: string, generationId: number, groupInstanceId: string | null = null) =>
  (await h.gc.heartbeat(ctx(), { groupId: 'g', generationId, memberId, groupInstanceId })).errorCode;

describe('classic group membership: JoinGroup / SyncGroup', () => {
  it('asks a new dynamic member (v4+) for a second JoinGroup with its member id (KIP-394)', async () => {
    const h = await start();
    const first = await h.gc.joinGroup(ctx(9, 'app'), joinReq());
    assert.equal(first.errorCode, ErrorCode.MEMBER_ID_REQUIRED);
    assert.equal(first.memberId, 'app-u1');
    // Nothing is written and no member exists yet: only a pending id.
    assert.equal(h.log.records.length, 0);
    assert.equal((await describeG(h)).members.length, 0);
  });

  it('forgets a pending member id that does not come back within its session timeout', async () => {
    const h = await start();
    const first = await h.gc.joinGroup(ctx(9, 'app'), joinReq());
    h.scheduler.advance(10_000);
    await settle();
    const again = await h.gc.joinGroup(ctx(9, 'app'), joinReq({ memberId: first.memberId }));
    assert.equal(again.errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  });

  it('runs a one-member group through the initial delay, join and sync to Stable', async () => {
    const h = await start();
    const { memberId, join } = await joinNew(h, 'app');
    // The initial rebalance of a new group waits group.initial.rebalance.delay.ms for more members.
    h.scheduler.advance(2999);
    assert.equal(await isPending(join), true);
    h.scheduler.advance(1);
    const r = await join;
    assert.equal(r.errorCode, ErrorCode.NONE);
    assert.equal(r.generationId, 1);
    assert.equal(r.leader, memberId);
    assert.equal(r.protocolType, 'consumer');
    assert.equal(r.protocolName, 'range');
    assert.deepEqual(r.members.map((m) => m.memberId), [memberId]);
    assert.equal((await describeG(h)).groupState, 'CompletingRebalance');
    const sync = await h.gc.syncGroup(ctx(), {
      groupId: 'g',
      generationId: 1,
      memberId,
      groupInstanceId: null,
      protocolType: 'consumer',
      protocolName: 'range',
      assignments: [{ memberId, assignment: Buffer.from('all') }],
    });
    assert.equal(sync.errorCode, ErrorCode.NONE);
    assert.equal(sync.assignment.toString(), 'all');
    const d = await describeG(h);
    assert.equal(d.groupState, 'Stable');
    assert.equal(d.protocolData, 'range');
    assert.equal(d.members[0]!.memberAssignment.toString(), 'all');
    assert.equal(await heartbeat(h, memberId, 1), ErrorCode.NONE);
    // The leader's SyncGroup persisted the group.
    assert.equal(h.log.records.length, 1);
  });

  it('lets pre-v4 clients join directly', async () => {
    const h = await start({ groupInitialRebalanceDelayMs: 0 });
    const join = h.gc.joinGroup(ctx(3, 'old'), joinReq());
    h.scheduler.advance(0);
    const r = await join;
    assert.equal(r.errorCode, ErrorCode.NONE);
    assert.equal(r.memberId, 'old-u1');
  });

  it('extends the initial delay while members keep arriving, then elects the first joiner leader', async () => {
    const h = await start();
    const a = await joinNew(h, 'a');
    h.scheduler.advance(2000);
    const b = await joinNew(h, 'b');
    const c = await joinNew(h, 'c');
    h.scheduler.advance(1000); // 3000: members arrived during the delay, so wait another delay
    assert.equal(await isPending(a.join), true);
    h.scheduler.advance(3000); // 6000: nobody new, complete
    const [ra, rb, rc] = await Promise.all([a.join, b.join, c.join]);
    for (const r of [ra, rb, rc]) {
      assert.equal(r.generationId, 1);
      assert.equal(r.leader, a.memberId);
    }
    // Only the leader receives the member list (with metadata) to run the assignor.
    assert.deepEqual(ra.members.map((m) => m.memberId), [a.memberId, b.memberId, c.memberId]);
    assert.deepEqual(ra.members[1]!.metadata, subscription(['t']));
    assert.deepEqual(rb.members, []);
    assert.deepEqual(rc.members, []);
  });

  it('selects the protocol all members support with the most first-choice votes', async () => {
    const h = await start();
    const p = (name: string) => ({ name, metadata: Buffer.from(name) });
    const a = await joinNew(h, 'a', { protocols: [p('range'), p('roundrobin')] });
    const b = await joinNew(h, 'b', { protocols: [p('roundrobin'), p('range')] });
    const c = await joinNew(h, 'c', { protocols: [p('roundrobin'), p('sticky'), p('range')] });
    await advanceUntil(h, a.join);
    const r = await a.join;
    assert.equal(r.protocolName, 'roundrobin');
    // Each member's metadata for the chosen protocol goes to the leader.
    assert.deepEqual(r.members.map((m) => m.metadata.toString()), ['roundrobin', 'roundrobin', 'roundrobin']);
    void b;
    void c;
  });

  it('only considers protocols every member supports', async () => {
    const h = await start();
    const p = (name: string) => ({ name, metadata: Buffer.alloc(0) });
    const a = await joinNew(h, 'a', { protocols: [p('range'), p('sticky')] });
    await joinNew(h, 'b', { protocols: [p('range'), p('sticky')] });
    await joinNew(h, 'c', { protocols: [p('sticky'), p('range')] });
    await joinNew(h, 'd', { protocols: [p('cooperative-sticky'), p('sticky')] });
    await advanceUntil(h, a.join);
    // 'range' has two first-choice votes but 'd' does not support it.
    assert.equal((await a.join).protocolName, 'sticky');
  });

  it('refuses a member whose protocols the group cannot agree on (INCONSISTENT_GROUP_PROTOCOL)', async () => {
    const h = await start();
    await stableGroup(h, ['a']);
    const other = await h.gc.joinGroup(ctx(9, 'x'), joinReq({ protocols: [{ name: 'roundrobin', metadata: Buffer.alloc(0) }] }));
    assert.equal(other.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    const otherType = await h.gc.joinGroup(ctx(9, 'x'), joinReq({ protocolType: 'connect' }));
    assert.equal(otherType.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    const empty = await h.gc.joinGroup(ctx(9, 'x'), joinReq({ groupId: 'fresh', protocolType: '' }));
    assert.equal(empty.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
  });

  it('validates group id, session timeout and member id', async () => {
    const h = await start();
    assert.equal((await h.gc.joinGroup(ctx(), joinReq({ groupId: '' }))).errorCode, ErrorCode.INVALID_GROUP_ID);
    assert.equal((await h.gc.joinGroup(ctx(), joinReq({ sessionTimeoutMs: 5999 }))).errorCode, ErrorCode.INVALID_SESSION_TIMEOUT);
    assert.equal((await h.gc.joinGroup(ctx(), joinReq({ sessionTimeoutMs: 1_800_001 }))).errorCode, ErrorCode.INVALID_SESSION_TIMEOUT);
    assert.equal((await h.gc.joinGroup(ctx(), joinReq({ memberId: 'made-up' }))).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
    assert.equal((await h.gc.syncGroup(ctx(), { groupId: '', generationId: 1, memberId: 'm', groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] })).errorCode, ErrorCode.INVALID_GROUP_ID);
    assert.equal((await h.gc.heartbeat(ctx(), { groupId: '', generationId: 1, memberId: 'm', groupInstanceId: null })).errorCode, ErrorCode.INVALID_GROUP_ID);
    // Old protocol versions get a non-null protocol name even on errors.
    assert.equal((await h.gc.joinGroup(ctx(6), joinReq({ groupId: '' }))).protocolName, '');
  });

  it('turns members away beyond group.max.size (GROUP_MAX_SIZE_REACHED)', async () => {
    const h = await start({ groupMaxSize: 2 });
    await stableGroup(h, ['a', 'b']);
    const third = await h.gc.joinGroup(ctx(9, 'c'), joinReq());
    // The id handshake happens first; the size check applies when it joins for real.
    const r = await h.gc.joinGroup(ctx(9, 'c'), joinReq({ memberId: third.memberId }));
    assert.equal(r.errorCode, ErrorCode.GROUP_MAX_SIZE_REACHED);
    assert.equal((await describeG(h)).members.length, 2);
  });

  it('makes followers wait for the leader in SyncGroup and hands each its own assignment', async () => {
    const h = await start();
    const a = await joinNew(h, 'a');
    const b = await joinNew(h, 'b');
    await advanceUntil(h, a.join);
    const [ra, rb] = await Promise.all([a.join, b.join]);
    const base = { groupId: 'g', generationId: ra.generationId, groupInstanceId: null, protocolType: 'consumer', protocolName: 'range' };
    const follower = h.gc.syncGroup(ctx(), { ...base, memberId: rb.memberId, assignments: [] });
    assert.equal(await isPending(follower), true);
    // Heartbeats while completing the rebalance are fine.
    assert.equal(await heartbeat(h, rb.memberId, ra.generationId), ErrorCode.NONE);
    const leader = await h.gc.syncGroup(ctx(), {
      ...base,
      memberId: ra.memberId,
      assignments: [
        { memberId: ra.memberId, assignment: Buffer.from('p0') },
        { memberId: rb.memberId, assignment: Buffer.from('p1') },
      ],
    });
    assert.equal(leader.assignment.toString(), 'p0');
    assert.equal((await follower).assignment.toString(), 'p1');
  });

  it('holds the SyncGroup answers until the group record is committed', async () => {
    const h = await start();
    const a = await joinNew(h, 'a');
    await advanceUntil(h, a.join);
    const ra = await a.join;
    h.log.autoCommit = false;
    const sync = h.gc.syncGroup(ctx(), { groupId: 'g', generationId: 1, memberId: ra.memberId, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] });
    assert.equal(await isPending(sync), true);
    assert.equal(h.log.records.length, 1);
    h.log.commit();
    assert.equal((await sync).errorCode, ErrorCode.NONE);
  });

  it('checks SyncGroup generation, membership and protocol (v5)', async () => {
    const h = await start();
    const g = await stableGroup(h, ['a']);
    const base = { groupId: 'g', generationId: g.generation, memberId: g.leader, groupInstanceId: null, protocolType: 'consumer', protocolName: 'range', assignments: [] };
    assert.equal((await h.gc.syncGroup(ctx(), { ...base, generationId: 7 })).errorCode, ErrorCode.ILLEGAL_GENERATION);
    assert.equal((await h.gc.syncGroup(ctx(), { ...base, memberId: 'who' })).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
    assert.equal((await h.gc.syncGroup(ctx(), { ...base, protocolName: 'roundrobin' })).errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    assert.equal((await h.gc.syncGroup(ctx(), { ...base, protocolType: 'connect' })).errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    // Stable: a repeated SyncGroup returns the current assignment.
    const again = await h.gc.syncGroup(ctx(), base);
    assert.equal(again.errorCode, ErrorCode.NONE);
    assert.equal(again.assignment.toString(), g.leader);
  });
});

describe('classic group membership: rebalances', () => {
  it("completes the join phase at once when the last member rejoins (no timer involved)", async () => {
    const h = await start();
    const g = await stableGroup(h, ['a', 'b']);
    const c = await joinNew(h, 'c');
    assert.equal((await describeG(h)).groupState, 'PreparingRebalance');
    assert.equal(await heartbeat(h, g.members[0]!, g.generation), ErrorCode.REBALANCE_IN_PROGRESS);
    const ja = h.gc.joinGroup(ctx(9, 'a'), joinReq({ memberId: g.members[0]! }));
    assert.equal(await isPending(ja), true);
    const jb = h.gc.joinGroup(ctx(9, 'b'), joinReq({ memberId: g.members[1]! }));
    // No time passes: the broker's part of the rebalance is immediate.
    const [ra, rb, rc] = await Promise.all([ja, jb, c.join]);
    for (const r of [ra, rb, rc]) assert.equal(r.generationId, g.generation + 1);
    assert.equal(ra.leader, g.members[0]);
    assert.equal(ra.members.length, 3);
  });

  it("starts a new generation at once when the only member, the leader, rejoins", async () => {
    const h = await start();
    const g = await stableGroup(h, ['a']);
    const r = await h.gc.joinGroup(ctx(9, 'a'), joinReq({ memberId: g.leader }));
    assert.equal(r.errorCode, ErrorCode.NONE);
    assert.equal(r.generationId, g.generation + 1);
    assert.equal(r.leader, g.leader);
  });

  it('rebalances when a member leaves, and the last leaving member empties the group', async () => {
    const h = await start();
    const g = await stableGroup(h, ['a', 'b']);
    const leave = await h.gc.leaveGroup(ctx(4), { groupId: 'g', memberId: '', members: [{ memberId: g.members[1]!, groupInstanceId: null, reason: 'bye' }] });
    assert.equal(leave.errorCode, ErrorCode.NONE);
    assert.deepEqual(leave.members.map((m) => m.errorCode), [ErrorCode.NONE]);
    assert.equal(await heartbeat(h, g.members[0]!, g.generation), ErrorCode.REBALANCE_IN_PROGRESS);
    const ra = await h.gc.joinGroup(ctx(9, 'a'), joinReq({ memberId: g.members[0]! }));
    assert.equal(ra.generationId, g.generation + 1);
    assert.deepEqual(ra.members.map((m) => m.memberId), [g.members[0]]);
    // v0–2: one member, one top-level error.
    const old = await h.gc.leaveGroup(ctx(1), { groupId: 'g', memberId: g.members[0]!, members: [] });
    assert.equal(old.errorCode, ErrorCode.NONE);
    const d = await describeG(h);
    assert.equal(d.groupState, 'Empty');
    const unknown = await h.gc.leaveGroup(ctx(1), { groupId: 'g', memberId: 'nobody', members: [] });
    assert.equal(unknown.errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  });

  it('hands leadership to a remaining member when the leader leaves', async () => {
    const h = await start();
    const g = await stableGroup(h, ['a', 'b', 'c']);
    await h.gc.leaveGroup(ctx(4), { groupId: 'g', memberId: '', members: [{ memberId: g.leader, groupInstanceId: null, reason: null }] });
    const jb = h.gc.joinGroup(ctx(9, 'b'), joinReq({ memberId: g.members[1]! }));
    const jc = h.gc.joinGroup(ctx(9, 'c'), joinReq({ memberId: g.members[2]! }));
    const [rb, rc] = await Promise.all([jb, jc]);
    assert.equal(rb.leader, g.members[1]);
    assert.equal(rc.leader, g.members[1]);
  });

  it('removes a member whose session expires and rebalances the rest', async () => {
    const h = await start();
    const g = await stableGroup(h, ['a', 'b']);
    for (let t = 0; t < 3; t++) {
      h.scheduler.advance(3000);
      await settle();
      assert.equal(await heartbeat(h, g.members[0]!, g.generation), ErrorCode.NONE);
    }
    h.scheduler.advance(1000);
    await settle();
    // b never heartbeat: after its 10 s session it is gone and a sees the rebalance.
    assert.equal(await heartbeat(h, g.members[0]!, g.generation), ErrorCode.REBALANCE_IN_PROGRESS);
    const d = await describeG(h);
    assert.deepEqual(d.members.map((m) => m.memberId), [g.members[0]]);
    assert.equal(await heartbeat(h, g.members[1]!, g.generation), ErrorCode.UNKNOWN_MEMBER_ID);
  });

  it('drops members that do not rejoin within the rebalance timeout', async () => {
    const h = await start();
    const g = await stableGroup(h, ['a', 'b']);
    // a rejoins (forcing a rebalance as leader); b keeps heartbeating but never rejoins.
    const ja = h.gc.joinGroup(ctx(9, 'a'), joinReq({ memberId: g.members[0]! }));
    for (let t = 0; t < 10; t++) {
      h.scheduler.advance(3000);
      await settle();
      if (!(await isPending(ja))) break;
      assert.equal(await heartbeat(h, g.members[1]!, g.generation), ErrorCode.REBALANCE_IN_PROGRESS);
    }
    const ra = await ja;
    assert.equal(ra.generationId, g.generation + 1);
    assert.deepEqual(ra.members.map((m) => m.memberId), [g.members[0]]);
  });

  it('removes members that never send SyncGroup within the rebalance timeout', async () => {
    const h = await start();
    const a = await joinNew(h, 'a');
    const b = await joinNew(h, 'b');
    await advanceUntil(h, a.join);
    const ra = await a.join;
    const rb = await b.join;
    await h.gc.syncGroup(ctx(), { groupId: 'g', generationId: 1, memberId: ra.memberId, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] });
    // b keeps heartbeating but never syncs.
    for (let t = 0; t < 10; t++) {
      h.scheduler.advance(3000);
      await settle();
      await heartbeat(h, ra.memberId, 1);
      await heartbeat(h, rb.memberId, 1);
    }
    const d = await describeG(h);
    assert.deepEqual(d.members.map((m) => m.memberId), [ra.memberId]);
  });

  it('answers a rejoin with unchanged metadata during CompletingRebalance from the current generation', async () => {
    const h = await start();
    const a = await joinNew(h, 'a');
    await advanceUntil(h, a.join);
    const ra = await a.join;
    const again = await h.gc.joinGroup(ctx(9, 'a'), joinReq({ memberId: ra.memberId }));
    assert.equal(again.generationId, ra.generationId);
    assert.equal(again.members.length, 1);
    assert.equal((await describeG(h)).groupState, 'CompletingRebalance');
  });

  it('shows member metadata only while Stable, and persists the emptied group with a new generation', async () => {
    const h = await start();
    const g = await stableGroup(h, ['a']);
    const jb = await joinNew(h, 'b');
    const during = await describeG(h);
    assert.equal(during.groupState, 'PreparingRebalance');
    assert.equal(during.protocolData, '');
    assert.equal(during.members[0]!.memberMetadata.length, 0);
    // b gives up before the join completes; a leaves too.
    const leave = await h.gc.leaveGroup(ctx(4), {
      groupId: 'g',
      memberId: '',
      members: [
        { memberId: jb.memberId, groupInstanceId: null, reason: null },
        { memberId: g.leader, groupInstanceId: null, reason: null },
      ],
    });
    assert.deepEqual(leave.members.map((m) => m.errorCode), [ErrorCode.NONE, ErrorCode.NONE]);
    assert.equal((await jb.join).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
    const d = await describeG(h);
    assert.equal(d.groupState, 'Empty');
    const last = h.log.records.at(-1)!;
    const { decodeGroupRecord } = await import('../../../src/coordinator/group/records.js');
    const rec = decodeGroupRecord(last);
    assert.equal(rec.kind, 'group');
    if (rec.kind === 'group') {
      assert.equal(rec.value!.generation, g.generation + 1);
      assert.deepEqual(rec.value!.members, []);
    }
  });

  it('lets a pending member (id handed out, not joined yet) leave', async () => {
    const h = await start();
    const first = await h.gc.joinGroup(ctx(9, 'p'), joinReq());
    const leave = await h.gc.leaveGroup(ctx(4), { groupId: 'g', memberId: '', members: [{ memberId: first.memberId, groupInstanceId: null, reason: null }] });
    assert.equal(leave.members[0]!.errorCode, ErrorCode.NONE);
    assert.equal((await h.gc.joinGroup(ctx(9, 'p'), joinReq({ memberId: first.memberId }))).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  });

  it('fails answers held for a commit that fails, even those of members parked by earlier requests', async () => {
    const h = await start();
    const g = await stableGroup(h, ['a', 'b']);
    const ja = h.gc.joinGroup(ctx(9, 'a'), joinReq({ memberId: g.members[0]! }));
    assert.equal(await isPending(ja), true);
    h.log.autoCommit = false;
    void h.gc.commitOffsets(ctx(8), { groupId: 'other', generationIdOrMemberEpoch: -1, memberId: '', groupInstanceId: null, retentionTimeMs: -1n, topics: [{ name: 't', partitions: [{ partitionIndex: 0, committedOffset: 1n, committedLeaderEpoch: -1, commitTimestamp: -1n, committedMetadata: null }] }] });
    // b completes the rebalance; a's answer now waits for the pending write, which then fails.
    const jb = h.gc.joinGroup(ctx(9, 'b'), joinReq({ memberId: g.members[1]! }));
    h.log.fail(ErrorCode.NOT_LEADER_OR_FOLLOWER);
    assert.equal((await jb).errorCode, ErrorCode.NOT_COORDINATOR);
    assert.equal((await ja).errorCode, ErrorCode.NOT_COORDINATOR);
  });

  it('fails parked JoinGroups with NOT_COORDINATOR when the partition is unloaded', async () => {
    const h = await start();
    const a = await joinNew(h, 'a');
    h.gc.onResignation(0, 1);
    assert.equal((await a.join).errorCode, ErrorCode.NOT_COORDINATOR);
    assert.equal((await h.gc.joinGroup(ctx(), joinReq())).errorCode, ErrorCode.NOT_COORDINATOR);
  });
});

describe('classic group membership: incremental cooperative rebalancing (KIP-429)', () => {
  it('lets members keep committing through a rebalance and run the follow-up rebalance without delay', async () => {
    const h = await start();
    const g = await stableGroup(h, ['a', 'b']);
    const [a, b] = g.members as [string, string];
    // b rejoins with new metadata (e.g. owned partitions changed): a rebalance starts.
    const meta = (owned: string) => [{ name: 'cooperative-sticky', metadata: Buffer.from(owned) }, { name: 'range', metadata: Buffer.from(owned) }];
    const jb = h.gc.joinGroup(ctx(9, 'b'), joinReq({ memberId: b, protocols: meta('b-owned') }));
    assert.equal(await heartbeat(h, a, g.generation), ErrorCode.REBALANCE_IN_PROGRESS);
    // a still owns its partitions and may commit for them during the rebalance.
    const commit = await h.gc.commitOffsets(ctx(8), {
      groupId: 'g',
      generationIdOrMemberEpoch: g.generation,
      memberId: a,
      groupInstanceId: null,
      retentionTimeMs: -1n,
      topics: [{ name: 't', partitions: [{ partitionIndex: 0, committedOffset: 5n, committedLeaderEpoch: -1, commitTimestamp: -1n, committedMetadata: null }] }],
    });
    assert.equal(commit.topics[0]!.partitions[0]!.errorCode, ErrorCode.NONE);
    const ja = h.gc.joinGroup(ctx(9, 'a'), joinReq({ memberId: a, protocols: meta('a-owned') }));
    const [ra, rb] = await Promise.all([ja, jb]);
    assert.equal(ra.generationId, g.generation + 1);
    assert.equal(ra.protocolName, 'cooperative-sticky');
    const base = { groupId: 'g', generationId: ra.generationId, groupInstanceId: null, protocolType: null, protocolName: null };
    await h.gc.syncGroup(ctx(), { ...base, memberId: a, assignments: [{ memberId: a, assignment: Buffer.from('a') }, { memberId: b, assignment: Buffer.from('b') }] });
    await h.gc.syncGroup(ctx(), { ...base, memberId: rb.memberId, assignments: [] });
    // After revoking, the members rejoin at once for the second round; no timer is needed.
    const ja2 = h.gc.joinGroup(ctx(9, 'a'), joinReq({ memberId: a, protocols: meta('a-owned-2') }));
    const jb2 = h.gc.joinGroup(ctx(9, 'b'), joinReq({ memberId: b, protocols: meta('b-owned-2') }));
    const [ra2] = await Promise.all([ja2, jb2]);
    assert.equal(ra2.generationId, g.generation + 2);
  });
});

describe('classic group membership: static members (KIP-345)', () => {
  const staticJoin = (h: Harness, instance: string, over: Parameters<typeof joinReq>[0] = {}): Promise<JoinGroupResponse> =>
    h.gc.joinGroup(ctx(9, instance), joinReq({ groupInstanceId: instance, ...over }));

  async function staticStable(h: Harness): Promise<{ a: JoinGroupResponse; b: JoinGroupResponse }> {
    // Static members skip the member-id handshake.
    const ja = staticJoin(h, 'ia');
    const jb = staticJoin(h, 'ib');
    await advanceUntil(h, ja);
    const [a, b] = await Promise.all([ja, jb]);
    const base = { groupId: 'g', generationId: a.generationId, protocolType: null, protocolName: null };
    await h.gc.syncGroup(ctx(), { ...base, memberId: a.memberId, groupInstanceId: 'ia', assignments: [{ memberId: a.memberId, assignment: Buffer.from('A') }, { memberId: b.memberId, assignment: Buffer.from('B') }] });
    await h.gc.syncGroup(ctx(), { ...base, memberId: b.memberId, groupInstanceId: 'ib', assignments: [] });
    return { a, b };
  }

  it('lets a restarted static member rejoin under a new id without a rebalance', async () => {
    const h = await start();
    const { a, b } = await staticStable(h);
    assert.equal(b.memberId, 'ib-u2');
    const records = h.log.records.length;
    const rejoin = await staticJoin(h, 'ib');
    assert.equal(rejoin.errorCode, ErrorCode.NONE);
    assert.notEqual(rejoin.memberId, b.memberId);
    assert.equal(rejoin.generationId, a.generationId);
    assert.equal(rejoin.skipAssignment, false);
    assert.equal((await describeG(h)).groupState, 'Stable');
    // The new member id is persisted under the old assignment.
    assert.equal(h.log.records.length, records + 1);
    const sync = await h.gc.syncGroup(ctx(), { groupId: 'g', generationId: a.generationId, memberId: rejoin.memberId, groupInstanceId: 'ib', protocolType: null, protocolName: null, assignments: [] });
    assert.equal(sync.assignment.toString(), 'B');
    // The others are not disturbed.
    assert.equal(await heartbeat(h, a.memberId, a.generationId, 'ia'), ErrorCode.NONE);
    // The previous incarnation is fenced.
    assert.equal(await heartbeat(h, b.memberId, a.generationId, 'ib'), ErrorCode.FENCED_INSTANCE_ID);
    const stale = await h.gc.joinGroup(ctx(9, 'ib'), joinReq({ groupInstanceId: 'ib', memberId: b.memberId }));
    assert.equal(stale.errorCode, ErrorCode.FENCED_INSTANCE_ID);
  });

  it('tells a rejoining static leader (v9) it leads but must skip the assignment', async () => {
    const h = await start();
    const { a } = await staticStable(h);
    const rejoin = await staticJoin(h, 'ia');
    assert.equal(rejoin.leader, rejoin.memberId);
    assert.equal(rejoin.skipAssignment, true);
    assert.equal(rejoin.members.length, 2);
    // Before v9 the old leader id is reported, so the client does not run its assignor.
    const older = await h.gc.joinGroup(ctx(8, 'ia'), joinReq({ groupInstanceId: 'ia' }));
    assert.equal(older.leader, rejoin.memberId);
    assert.notEqual(older.memberId, rejoin.memberId);
    assert.equal(older.skipAssignment, false);
    assert.deepEqual(older.members, []);
    void a;
  });

  it('rebalances when a static member rejoins with a protocol change that changes the selection', async () => {
    const h = await start();
    const { a } = await staticStable(h);
    const p = (name: string) => ({ name, metadata: Buffer.alloc(0) });
    const rejoin = staticJoin(h, 'ib', { protocols: [p('roundrobin'), p('range')] });
    // Still 'range' (the only common one): no rebalance.
    assert.equal((await rejoin).generationId, a.generationId);
    const leaderRejoin = staticJoin(h, 'ia', { protocols: [p('roundrobin'), p('range')] });
    // Now both prefer roundrobin: the selection changes, so the group rebalances.
    assert.equal(await isPending(leaderRejoin), true);
    assert.equal((await describeG(h)).groupState, 'PreparingRebalance');
  });

  it('keeps a static member that does not rejoin during a rebalance (only dynamic ones are dropped)', async () => {
    const h = await start();
    const { a, b } = await staticStable(h);
    const ja = h.gc.joinGroup(ctx(9, 'ia'), joinReq({ groupInstanceId: 'ia', memberId: a.memberId }));
    // b is alive (heartbeats) but does not rejoin before the rebalance timeout.
    while (await isPending(ja)) {
      assert.equal(await heartbeat(h, b.memberId, a.generationId, 'ib'), ErrorCode.REBALANCE_IN_PROGRESS);
      h.scheduler.advance(3000);
    }
    const ra = await ja;
    assert.deepEqual(ra.members.map((m) => m.memberId).sort(), [a.memberId, b.memberId].sort());
  });

  it('removes static members by instance id alone (admin LeaveGroup) and fences stale ids', async () => {
    const h = await start();
    const { a, b } = await staticStable(h);
    const fenced = await h.gc.leaveGroup(ctx(4), { groupId: 'g', memberId: '', members: [{ memberId: 'wrong', groupInstanceId: 'ia', reason: null }] });
    assert.equal(fenced.members[0]!.errorCode, ErrorCode.FENCED_INSTANCE_ID);
    const r = await h.gc.leaveGroup(ctx(4), {
      groupId: 'g',
      memberId: '',
      members: [
        { memberId: '', groupInstanceId: 'ib', reason: null },
        { memberId: '', groupInstanceId: 'nope', reason: null },
      ],
    });
    assert.deepEqual(r.members.map((m) => m.errorCode), [ErrorCode.NONE, ErrorCode.UNKNOWN_MEMBER_ID]);
    assert.deepEqual((await describeG(h)).members.map((m) => m.memberId), [a.memberId]);
    void b;
  });
});
