import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeGroupRecord } from '../../../src/coordinator/group/records.js';
import { ManualScheduler } from '../../../src/coordinator/scheduler.js';
import { ErrorCode } from '../../../src/protocol/errors.js';
import type { OffsetCommitRequest } from '../../../src/protocol/generated/messages/offset-commit.js';
import { MemoryCoordinatorLog, isPending, settle } from '../memory-log.js';
import { ctx, joinNew, advanceUntil, stableGroup, start } from './harness.js';
import type { Harness } from './harness.js';

const DAY = 86_400_000;

function commitReq(over: Partial<OffsetCommitRequest> & { offsets?: [string, number, number][] } = {}): OffsetCommitRequest {
  const { offsets = [['t', 0, 42]], ...rest } = over;
  const topics = new Map<string, OffsetCommitRequest['topics'][number]>();
  for (const [topic, partition, offset] of offsets) {
    let t = topics.get(topic);
    if (t === undefined) topics.set(topic, (t = { name: topic, partitions: [] }));
    t.partitions.push({ partitionIndex: partition, committedOffset: BigInt(offset), committedLeaderEpoch: 3, commitTimestamp: -1n, committedMetadata: 'meta' });
  }
  return { groupId: 'g', generationIdOrMemberEpoch: -1, memberId: '', groupInstanceId: null, retentionTimeMs: -1n, topics: [...topics.values()], ...rest };
}

const codes = (r: { topics: { partitions: { errorCode: number }[] }[] }): number[] => r.topics.flatMap((t) => t.partitions.map((p) => p.errorCode));

async function fetchAll(h: Harness, groupId = 'g'): Promise<[string, number, bigint][]> {
  const g = await h.gc.fetchGroupOffsets(groupId, null, false);
  return g.topics.flatMap((t) => t.partitions.map((p) => [t.name, p.partitionIndex, p.committedOffset] as [string, number, bigint]));
}

describe('offset commits', () => {
  it('accepts simple commits (generation -1) for a group without members and creates it', async () => {
    const h = await start();
    const r = await h.gc.commitOffsets(ctx(8), commitReq({ offsets: [['t', 0, 42], ['t', 1, 7], ['u', 0, 1]] }));
    assert.deepEqual(codes(r), [0, 0, 0]);
    assert.deepEqual(await fetchAll(h), [['t', 0, 42n], ['t', 1, 7n], ['u', 0, 1n]]);
    const listed = await h.gc.listGroups(ctx(), { statesFilter: [], typesFilter: [] });
    assert.deepEqual(listed.groups, [{ groupId: 'g', protocolType: '', groupState: 'Empty', groupType: 'classic' }]);
  });

  it('refuses a commit with a generation for a group that does not exist (ILLEGAL_GENERATION)', async () => {
    const h = await start();
    const r = await h.gc.commitOffsets(ctx(8), commitReq({ generationIdOrMemberEpoch: 3, memberId: 'm' }));
    assert.deepEqual(codes(r), [ErrorCode.ILLEGAL_GENERATION]);
    // From v9 the answer says what is wrong.
    const v9 = await h.gc.commitOffsets(ctx(9), commitReq({ generationIdOrMemberEpoch: 3, memberId: 'm' }));
    assert.deepEqual(codes(v9), [ErrorCode.GROUP_ID_NOT_FOUND]);
    assert.equal(h.log.records.length, 0);
  });

  it('checks member, generation and instance of member commits', async () => {
    const h = await start();
    const g = await stableGroup(h, ['a']);
    const member = { memberId: g.leader, generationIdOrMemberEpoch: g.generation };
    assert.deepEqual(codes(await h.gc.commitOffsets(ctx(8), commitReq(member))), [ErrorCode.NONE]);
    assert.deepEqual(codes(await h.gc.commitOffsets(ctx(8), commitReq({ ...member, generationIdOrMemberEpoch: g.generation + 1 }))), [ErrorCode.ILLEGAL_GENERATION]);
    assert.deepEqual(codes(await h.gc.commitOffsets(ctx(8), commitReq({ ...member, memberId: 'ghost' }))), [ErrorCode.UNKNOWN_MEMBER_ID]);
    // A simple commit to a group with members.
    assert.deepEqual(codes(await h.gc.commitOffsets(ctx(8), commitReq())), [ErrorCode.UNKNOWN_MEMBER_ID]);
    // An instance id not known to the group.
    assert.deepEqual(codes(await h.gc.commitOffsets(ctx(8), commitReq({ ...member, groupInstanceId: 'nobody' }))), [ErrorCode.UNKNOWN_MEMBER_ID]);
  });

  it('fences commits from a replaced static member (FENCED_INSTANCE_ID)', async () => {
    const h = await start({ groupInitialRebalanceDelayMs: 0 });
    const join = h.gc.joinGroup(ctx(9, 's'), { groupId: 'g', sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 30_000, memberId: '', groupInstanceId: 'inst', protocolType: 'consumer', protocols: [{ name: 'range', metadata: Buffer.alloc(0) }], reason: null });
    await advanceUntil(h, join);
    const r = await join;
    await h.gc.syncGroup(ctx(), { groupId: 'g', generationId: r.generationId, memberId: r.memberId, groupInstanceId: 'inst', protocolType: null, protocolName: null, assignments: [] });
    const ok = await h.gc.commitOffsets(ctx(8), commitReq({ memberId: r.memberId, generationIdOrMemberEpoch: r.generationId, groupInstanceId: 'inst' }));
    assert.deepEqual(codes(ok), [ErrorCode.NONE]);
    const fenced = await h.gc.commitOffsets(ctx(8), commitReq({ memberId: 'inst-old', generationIdOrMemberEpoch: r.generationId, groupInstanceId: 'inst' }));
    assert.deepEqual(codes(fenced), [ErrorCode.FENCED_INSTANCE_ID]);
  });

  it('answers REBALANCE_IN_PROGRESS to commits while the group completes a rebalance', async () => {
    const h = await start();
    const a = await joinNew(h, 'a');
    await advanceUntil(h, a.join);
    const r = await a.join;
    const c = await h.gc.commitOffsets(ctx(8), commitReq({ memberId: r.memberId, generationIdOrMemberEpoch: r.generationId }));
    assert.deepEqual(codes(c), [ErrorCode.REBALANCE_IN_PROGRESS]);
  });

  it('refuses metadata over offset.metadata.max.bytes per partition, committing the rest', async () => {
    const h = await start({ offsetMetadataMaxBytes: 10 });
    const req = commitReq({ offsets: [['t', 0, 1], ['t', 1, 2]] });
    req.topics[0]!.partitions[1]!.committedMetadata = 'x'.repeat(11);
    assert.deepEqual(codes(await h.gc.commitOffsets(ctx(8), req)), [ErrorCode.NONE, ErrorCode.OFFSET_METADATA_TOO_LARGE]);
    assert.deepEqual(await fetchAll(h), [['t', 0, 1n]]);
  });

  it('answers only once the offset records are committed', async () => {
    const h = await start();
    h.log.autoCommit = false;
    const p = h.gc.commitOffsets(ctx(8), commitReq());
    assert.equal(await isPending(p), true);
    // A fetch issued meanwhile waits too, so it can never show an offset that might be lost.
    const f = h.gc.fetchGroupOffsets('g', null, false);
    assert.equal(await isPending(f), true);
    h.log.commit();
    assert.deepEqual(codes(await p), [ErrorCode.NONE]);
    assert.equal((await f).topics[0]!.partitions[0]!.committedOffset, 42n);
  });

  it('records commit time, leader epoch, metadata and the v2–v4 retention as an expire timestamp', async () => {
    const h = await start();
    const now = h.scheduler.now();
    await h.gc.commitOffsets(ctx(8), commitReq());
    await h.gc.commitOffsets(ctx(2), commitReq({ offsets: [['r', 0, 5]], retentionTimeMs: 60_000n }));
    // v1 may carry the client's commit timestamp.
    const v1 = commitReq({ offsets: [['v1', 0, 9]] });
    v1.topics[0]!.partitions[0]!.commitTimestamp = 12345n;
    await h.gc.commitOffsets(ctx(1), v1);
    const values = h.log.records.map((r) => decodeGroupRecord(r));
    assert.deepEqual(values[0], { kind: 'offset', group: 'g', topic: 't', partition: 0, value: { offset: 42, leaderEpoch: 3, metadata: 'meta', commitTimestamp: now, expireTimestamp: undefined } });
    assert.equal(h.log.records[0]!.value!.readInt16BE(0), 3);
    assert.equal(h.log.records[1]!.value!.readInt16BE(0), 1);
    assert.deepEqual(values[1], { kind: 'offset', group: 'g', topic: 'r', partition: 0, value: { offset: 5, leaderEpoch: -1, metadata: 'meta', commitTimestamp: now, expireTimestamp: now + 60_000 } });
    assert.equal(values[2]!.kind === 'offset' && values[2]!.value!.commitTimestamp, 12345);
    const fetched = await h.gc.fetchGroupOffsets('g', [{ name: 't', partitionIndexes: [0, 9] }], false);
    assert.deepEqual(fetched.topics[0]!.partitions, [
      { partitionIndex: 0, committedOffset: 42n, committedLeaderEpoch: 3, metadata: 'meta', errorCode: 0 },
      { partitionIndex: 9, committedOffset: -1n, committedLeaderEpoch: -1, metadata: '', errorCode: 0 },
    ]);
  });
});

describe('offset fetch', () => {
  it('answers -1 for groups it does not know and nothing for "all topics" of them', async () => {
    const h = await start();
    const g = await h.gc.fetchGroupOffsets('nobody', [{ name: 't', partitionIndexes: [0] }], false);
    assert.equal(g.topics[0]!.partitions[0]!.committedOffset, -1n);
    assert.deepEqual((await h.gc.fetchGroupOffsets('nobody', null, false)).topics, []);
  });

  it('serves v8 batched groups and older single-group shapes', async () => {
    const h = await start();
    await h.gc.commitOffsets(ctx(8), commitReq({ groupId: 'g1', offsets: [['t', 0, 1]] }));
    await h.gc.commitOffsets(ctx(8), commitReq({ groupId: 'g2', offsets: [['t', 0, 2]] }));
    const v8 = await h.gc.fetchOffsets(ctx(8), {
      groupId: '',
      topics: [],
      requireStable: false,
      groups: [
        { groupId: 'g1', memberId: null, memberEpoch: -1, topics: null },
        { groupId: 'g2', memberId: null, memberEpoch: -1, topics: [{ name: 't', partitionIndexes: [0] }] },
      ],
    });
    assert.deepEqual(v8.groups.map((g) => [g.groupId, g.topics[0]!.partitions[0]!.committedOffset]), [['g1', 1n], ['g2', 2n]]);
    const v5 = await h.gc.fetchOffsets(ctx(5), { groupId: 'g2', topics: null, groups: [], requireStable: false });
    assert.equal(v5.topics[0]!.partitions[0]!.committedOffset, 2n);
  });

  it('reports UNSTABLE_OFFSET_COMMIT for partitions with pending transactional offsets when asked for stable offsets', async () => {
    const scheduler = new ManualScheduler();
    const log = new MemoryCoordinatorLog();
    const { GroupCoordinator } = await import('../../../src/coordinator/group/group-coordinator.js');
    const gc = new GroupCoordinator({
      scheduler,
      logFor: () => log,
      config: { offsetsTopicNumPartitions: 1 },
      pendingTransactionalOffsets: { has: (_g, topic, partition) => topic === 't' && partition === 1 },
    });
    await gc.onElection(0, 1);
    await gc.commitOffsets(ctx(8), commitReq({ offsets: [['t', 0, 5], ['t', 1, 6]] }));
    const stable = await gc.fetchGroupOffsets('g', [{ name: 't', partitionIndexes: [0, 1] }], true);
    assert.deepEqual(stable.topics[0]!.partitions.map((p) => p.errorCode), [ErrorCode.NONE, ErrorCode.UNSTABLE_OFFSET_COMMIT]);
    const relaxed = await gc.fetchGroupOffsets('g', [{ name: 't', partitionIndexes: [0, 1] }], false);
    assert.deepEqual(relaxed.topics[0]!.partitions.map((p) => p.committedOffset), [5n, 6n]);
  });

  it('rebuilds offsets and groups from the log after a reload (another broker taking over)', async () => {
    const h = await start();
    const g = await stableGroup(h, ['a', 'b']);
    await h.gc.commitOffsets(ctx(8), commitReq({ memberId: g.leader, generationIdOrMemberEpoch: g.generation, offsets: [['t', 0, 10], ['t', 1, 20]] }));
    await h.gc.commitOffsets(ctx(8), commitReq({ groupId: 'simple', offsets: [['u', 0, 30]] }));
    await h.gc.commitOffsets(ctx(8), commitReq({ groupId: 'simple', offsets: [['u', 0, 31]] }));
    h.gc.onResignation(0, 1);
    // A fresh coordinator over the same log.
    const h2 = await start({}, h.log, new ManualScheduler(h.scheduler.now()));
    assert.deepEqual(await fetchAll(h2), [['t', 0, 10n], ['t', 1, 20n]]);
    assert.deepEqual(await fetchAll(h2, 'simple'), [['u', 0, 31n]]);
    const d = (await h2.gc.describeGroups(ctx(), ['g']))[0]!;
    assert.equal(d.groupState, 'Stable');
    assert.equal(d.protocolData, 'range');
    assert.deepEqual(d.members.map((m) => [m.memberId, m.memberAssignment.toString()]), g.members.map((m) => [m, m]));
    // Members carry on with the same generation.
    const hb = await h2.gc.heartbeat(ctx(), { groupId: 'g', generationId: g.generation, memberId: g.members[1]!, groupInstanceId: null });
    assert.equal(hb.errorCode, ErrorCode.NONE);
    // ...and a member that went silent during the move still expires.
    h2.scheduler.advance(10_000);
    await settle();
    const after = await h2.gc.heartbeat(ctx(), { groupId: 'g', generationId: g.generation, memberId: g.members[1]!, groupInstanceId: null });
    assert.equal(after.errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  });
});

describe('offset retention, deletion and admin', () => {
  it('expires simple-consumer offsets offsets.retention.minutes after their commit', async () => {
    const h = await start();
    await h.gc.commitOffsets(ctx(8), commitReq({ offsets: [['t', 0, 1]] }));
    h.scheduler.advance(3 * DAY);
    await settle();
    await h.gc.commitOffsets(ctx(8), commitReq({ offsets: [['t', 1, 2]] }));
    h.scheduler.advance(4 * DAY + 600_000); // the first commit is now older than 7 days
    await settle();
    assert.deepEqual(await fetchAll(h), [['t', 1, 2n]]);
    h.scheduler.advance(3 * DAY);
    await settle();
    assert.deepEqual(await fetchAll(h), []);
    // Group gone too; it never had a metadata record, so only offset tombstones were written.
    assert.deepEqual((await h.gc.listGroups(ctx(), { statesFilter: [], typesFilter: [] })).groups, []);
    const tombstones = h.log.records.filter((r) => r.value === null).map((r) => decodeGroupRecord(r).kind);
    assert.deepEqual(tombstones, ['offset', 'offset']);
  });

  it('keeps offsets of subscribed topics of a stable group and expires the others', async () => {
    const h = await start({ groupMaxSessionTimeoutMs: 1_800_000, offsetsRetentionMs: 60 * 60_000, offsetsRetentionCheckIntervalMs: 60_000 });
    const g = await stableGroup(h, ['a'], 'g', ['t'], { sessionTimeoutMs: 300_000 });
    await h.gc.commitOffsets(ctx(8), commitReq({ memberId: g.leader, generationIdOrMemberEpoch: g.generation, offsets: [['t', 0, 1], ['old', 0, 2]] }));
    for (let m = 0; m < 70; m++) {
      h.scheduler.advance(60_000);
      await settle();
      const hb = await h.gc.heartbeat(ctx(), { groupId: 'g', generationId: g.generation, memberId: g.leader, groupInstanceId: null });
      assert.equal(hb.errorCode, ErrorCode.NONE);
    }
    assert.deepEqual(await fetchAll(h), [['t', 0, 1n]]);
    // The member leaves: now the clock runs from the moment the group became empty.
    await h.gc.leaveGroup(ctx(4), { groupId: 'g', memberId: '', members: [{ memberId: g.leader, groupInstanceId: null, reason: null }] });
    h.scheduler.advance(59 * 60_000);
    await settle();
    assert.deepEqual(await fetchAll(h), [['t', 0, 1n]]);
    h.scheduler.advance(2 * 60_000);
    await settle();
    assert.deepEqual(await fetchAll(h), []);
    // The group had a generation, so its metadata is tombstoned with it.
    const last = h.log.records.at(-1)!;
    assert.equal(last.value, null);
    assert.deepEqual(decodeGroupRecord(last), { kind: 'group', group: 'g', value: null });
    assert.equal((await h.gc.describeGroups(ctx(), ['g']))[0]!.groupState, 'Dead');
  });

  it('honours an explicit expire timestamp from a v2–v4 retention time', async () => {
    const h = await start();
    await h.gc.commitOffsets(ctx(2), commitReq({ retentionTimeMs: 1000n }));
    h.scheduler.advance(600_000);
    await settle();
    assert.deepEqual(await fetchAll(h), []);
  });

  it('deletes empty groups with their offsets and refuses non-empty or unknown ones', async () => {
    const h = await start();
    await stableGroup(h, ['a'], 'busy');
    await h.gc.commitOffsets(ctx(8), commitReq({ groupId: 'idle', offsets: [['t', 0, 1], ['t', 1, 2]] }));
    const r = await h.gc.deleteGroups(ctx(), ['idle', 'busy', 'none']);
    assert.deepEqual(r, [
      { groupId: 'idle', errorCode: ErrorCode.NONE },
      { groupId: 'busy', errorCode: ErrorCode.NON_EMPTY_GROUP },
      { groupId: 'none', errorCode: ErrorCode.GROUP_ID_NOT_FOUND },
    ]);
    assert.deepEqual(await fetchAll(h, 'idle'), []);
    assert.deepEqual(
      h.log.records.slice(-2).map((x) => decodeGroupRecord(x)),
      [
        { kind: 'offset', group: 'idle', topic: 't', partition: 0, value: null },
        { kind: 'offset', group: 'idle', topic: 't', partition: 1, value: null },
      ],
    );
  });

  it('deletes offsets of topics the group does not consume (OffsetDelete)', async () => {
    const h = await start();
    const g = await stableGroup(h, ['a'], 'g', ['t']);
    await h.gc.commitOffsets(ctx(8), commitReq({ memberId: g.leader, generationIdOrMemberEpoch: g.generation, offsets: [['t', 0, 1], ['gone', 0, 2]] }));
    const r = await h.gc.deleteOffsets(ctx(), {
      groupId: 'g',
      topics: [
        { name: 't', partitions: [{ partitionIndex: 0 }] },
        { name: 'gone', partitions: [{ partitionIndex: 0 }] },
      ],
    });
    assert.equal(r.errorCode, ErrorCode.NONE);
    assert.deepEqual(codes(r), [ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC, ErrorCode.NONE]);
    assert.deepEqual(await fetchAll(h), [['t', 0, 1n]]);
    assert.equal((await h.gc.deleteOffsets(ctx(), { groupId: 'none', topics: [] })).errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
    assert.equal((await h.gc.deleteOffsets(ctx(), { groupId: '', topics: [] })).errorCode, ErrorCode.INVALID_GROUP_ID);
  });

  it('drops offsets of deleted topics', async () => {
    const h = await start();
    await h.gc.commitOffsets(ctx(8), commitReq({ offsets: [['t', 0, 1], ['dead', 0, 2], ['dead', 1, 3]] }));
    await h.gc.onTopicsDeleted(['dead']);
    assert.deepEqual(await fetchAll(h), [['t', 0, 1n]]);
    await h.gc.onTopicsDeleted(['t']);
    assert.deepEqual((await h.gc.listGroups(ctx(), { statesFilter: [], typesFilter: [] })).groups, []);
  });

  it('lists groups filtered by state and type, and describes them', async () => {
    const h = await start();
    await stableGroup(h, ['a'], 'stable');
    await h.gc.commitOffsets(ctx(8), commitReq({ groupId: 'simple' }));
    const all = await h.gc.listGroups(ctx(), { statesFilter: [], typesFilter: [] });
    assert.deepEqual(all.groups.map((g) => [g.groupId, g.groupState, g.protocolType]).sort(), [['simple', 'Empty', ''], ['stable', 'Stable', 'consumer']]);
    const stableOnly = await h.gc.listGroups(ctx(), { statesFilter: ['stable'], typesFilter: [] });
    assert.deepEqual(stableOnly.groups.map((g) => g.groupId), ['stable']);
    assert.deepEqual((await h.gc.listGroups(ctx(), { statesFilter: [], typesFilter: ['consumer'] })).groups, []);
    const [d, missing] = await h.gc.describeGroups(ctx(), ['stable', 'missing']);
    assert.equal(d!.members[0]!.clientId, 'a');
    assert.equal(d!.members[0]!.clientHost, '/127.0.0.1');
    assert.deepEqual([missing!.groupState, missing!.errorCode], ['Dead', ErrorCode.NONE]);
  });

  it('flags ListGroups while a partition is still loading', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow = Object.assign(new MemoryCoordinatorLog(), {
      async *replay(): AsyncIterable<{ key: Buffer; value: Buffer | null }> {
        await gate;
      },
    });
    const scheduler = new ManualScheduler();
    const { GroupCoordinator } = await import('../../../src/coordinator/group/group-coordinator.js');
    const gc = new GroupCoordinator({ scheduler, logFor: () => slow, config: { offsetsTopicNumPartitions: 1 } });
    const loading = gc.onElection(0, 1);
    assert.equal((await gc.listGroups(ctx(), { statesFilter: [], typesFilter: [] })).errorCode, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    assert.deepEqual(codes(await gc.commitOffsets(ctx(8), commitReq())), [ErrorCode.COORDINATOR_LOAD_IN_PROGRESS]);
    release();
    await loading;
    assert.equal((await gc.listGroups(ctx(), { statesFilter: [], typesFilter: [] })).errorCode, ErrorCode.NONE);
  });

  it('routes groups to their partitions and refuses groups of partitions it does not lead', async () => {
    const h = await start({ offsetsTopicNumPartitions: 50 });
    // 'my-group' hashes to partition 12; only partition 0 is loaded.
    const r = await h.gc.commitOffsets(ctx(8), commitReq({ groupId: 'my-group' }));
    assert.deepEqual(codes(r), [ErrorCode.NOT_COORDINATOR]);
    assert.equal(h.gc.partitionFor('my-group'), 12);
    assert.equal(h.gc.partitionFor('polygenelubricants'), 0);
    assert.deepEqual(codes(await h.gc.commitOffsets(ctx(8), commitReq({ groupId: 'polygenelubricants' }))), [ErrorCode.NONE]);
  });
});
