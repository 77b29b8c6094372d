// Random sequences of client actions and clock moves against one group, checking invariants that must
// hold whatever the interleaving, and that a reload from the log reproduces every settled state.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ManualScheduler } from '../../../src/coordinator/scheduler.js';
import { ErrorCode } from '../../../src/protocol/errors.js';
import type { JoinGroupResponse } from '../../../src/protocol/generated/messages/join-group.js';
import type { SyncGroupRequest, SyncGroupResponse } from '../../../src/protocol/generated/messages/sync-group.js';
import { settle } from '../memory-log.js';
import { ctx, joinReq, start } from './harness.js';
import type { Harness } from './harness.js';

type Action =
  | { kind: 'join'; client: number; staticMember: boolean }
  | { kind: 'sync'; client: number }
  | { kind: 'syncAll' }
  | { kind: 'behave'; client: number }
  | { kind: 'heartbeat'; client: number }
  | { kind: 'leave'; client: number }
  | { kind: 'commit'; client: number; offset: number }
  | { kind: 'advance'; ms: number };

const client = fc.integer({ min: 0, max: 2 });
const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('join' as const), client, staticMember: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('sync' as const), client }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('syncAll' as const) }) },
  { weight: 14, arbitrary: fc.record({ kind: fc.constant('behave' as const), client }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('heartbeat' as const), client }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('leave' as const), client }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('commit' as const), client, offset: fc.integer({ min: 0, max: 1000 }) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.constantFrom(100, 1000, 1000, 2000, 3000, 11_000, 31_000) }) },
);

interface ClientView {
  memberId: string;
  /** A JoinGroup / SyncGroup of this client is parked. */
  busy: boolean;
  synced: boolean;
  generation: number;
  instance: string | null;
  joins: Promise<JoinGroupResponse>[];
  syncs: Promise<SyncGroupResponse>[];
}

function syncReq(c: ClientView, all: ClientView[]): SyncGroupRequest {
  return {
    groupId: 'g',
    generationId: c.generation,
    memberId: c.memberId,
    groupInstanceId: c.instance,
    protocolType: 'consumer',
    protocolName: null,
    assignments: all.map((other, i) => ({ memberId: other.memberId, assignment: Buffer.from([i]) })),
  };
}

// Every answer must be a deliberate Kafka error: UNKNOWN_SERVER_ERROR would mean an internal failure.
const KNOWN_CODES = new Set<number>(Object.values(ErrorCode).filter((c) => c !== ErrorCode.UNKNOWN_SERVER_ERROR));

async function snapshot(h: Harness): Promise<{ state: string; generation: number; members: string[]; leader: string | null } | undefined> {
  return h.gc.runtime.scheduleRead(0, (s) => {
    const g = s.group('g');
    if (g === undefined) return undefined;
    // group.instance.id ↔ member id stays a bijection over the static members.
    for (const [instance, memberId] of g.staticMembers) assert.equal(g.members.get(memberId)?.groupInstanceId, instance);
    for (const m of g.members.values()) if (m.groupInstanceId !== null) assert.equal(g.staticMembers.get(m.groupInstanceId), m.memberId);
    for (const id of g.pendingSyncMembers) assert.ok(g.members.has(id), 'pending sync member must be a member');
    return { state: g.state, generation: g.generationId, members: [...g.members.keys()].sort(), leader: g.leaderId };
  });
}

describe('classic group under random client behaviour', () => {
  it('keeps its invariants and reloads to the same settled state', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 3 }), fc.array(action, { minLength: 10, maxLength: 60, size: 'max' }), async (clientCount, actions) => {
        const h = await start({ groupInitialRebalanceDelayMs: 1000 });
        const clients: ClientView[] = Array.from({ length: clientCount }, () => ({ memberId: '', busy: false, synced: false, generation: -1, instance: null, joins: [], syncs: [] }));
        let lastGeneration = 0;
        const join = (c: ClientView, i: number, staticMember: boolean): void => {
          if (c.memberId === '') c.instance = staticMember ? `inst-${i}` : null;
          const req = joinReq({ memberId: c.memberId, groupInstanceId: c.instance, rebalanceTimeoutMs: 30_000 });
          c.busy = true;
          c.synced = false;
          const p = h.gc.joinGroup(ctx(9, `c${i}`), req).then((r) => {
            assert.ok(KNOWN_CODES.has(r.errorCode), `join answered ${r.errorCode}`);
            c.busy = false;
            if (r.errorCode === ErrorCode.MEMBER_ID_REQUIRED || r.errorCode === ErrorCode.NONE) c.memberId = r.memberId;
            if (r.errorCode === ErrorCode.NONE) c.generation = r.generationId;
            if (r.errorCode === ErrorCode.UNKNOWN_MEMBER_ID || r.errorCode === ErrorCode.FENCED_INSTANCE_ID) c.memberId = '';
            return r;
          });
          c.joins.push(p);
        };
        const sync = (c: ClientView): void => {
          c.busy = true;
          const p = h.gc.syncGroup(ctx(), syncReq(c, clients)).then((r) => {
            assert.ok(KNOWN_CODES.has(r.errorCode), `sync answered ${r.errorCode}`);
            c.busy = false;
            c.synced = r.errorCode === ErrorCode.NONE;
            return r;
          });
          c.syncs.push(p);
        };
        for (const generated of actions) {
          // Groups of one, two or three clients: client numbers wrap around the group's size.
          const a: Action = 'client' in generated ? { ...generated, client: generated.client % clientCount } : generated;
          if (a.kind === 'advance') {
            h.scheduler.advance(a.ms);
          } else if (a.kind === 'syncAll') {
            for (const c of clients) if (c.memberId !== '') sync(c);
          } else if (a.kind === 'behave') {
            // What a well-behaved client would do next.
            const c = clients[a.client]!;
            if (!c.busy) {
              if (c.memberId === '' || c.generation < 0) join(c, a.client, false);
              else if (!c.synced) sync(c);
              else {
                const r = await h.gc.heartbeat(ctx(), { groupId: 'g', generationId: c.generation, memberId: c.memberId, groupInstanceId: c.instance });
                if (r.errorCode === ErrorCode.REBALANCE_IN_PROGRESS || r.errorCode === ErrorCode.ILLEGAL_GENERATION) join(c, a.client, false);
                if (r.errorCode === ErrorCode.UNKNOWN_MEMBER_ID || r.errorCode === ErrorCode.FENCED_INSTANCE_ID) {
                  c.memberId = '';
                  c.generation = -1;
                }
              }
            }
          } else {
            const c = clients[a.client]!;
            switch (a.kind) {
              case 'join':
                join(c, a.client, a.staticMember);
                break;
              case 'sync':
                sync(c);
                break;
              case 'heartbeat': {
                const r = await h.gc.heartbeat(ctx(), { groupId: 'g', generationId: c.generation, memberId: c.memberId, groupInstanceId: c.instance });
                assert.ok(KNOWN_CODES.has(r.errorCode));
                break;
              }
              case 'leave': {
                const r = await h.gc.leaveGroup(ctx(4), { groupId: 'g', memberId: '', members: [{ memberId: c.memberId, groupInstanceId: c.instance, reason: null }] });
                assert.equal(r.errorCode, ErrorCode.NONE);
                c.memberId = '';
                break;
              }
              case 'commit': {
                const r = await h.gc.commitOffsets(ctx(8), {
                  groupId: 'g',
                  generationIdOrMemberEpoch: c.generation,
                  memberId: c.memberId,
                  groupInstanceId: c.instance,
                  retentionTimeMs: -1n,
                  topics: [{ name: 't', partitions: [{ partitionIndex: a.client, committedOffset: BigInt(a.offset), committedLeaderEpoch: -1, commitTimestamp: -1n, committedMetadata: null }] }],
                });
                assert.ok(KNOWN_CODES.has(r.topics[0]!.partitions[0]!.errorCode));
                break;
              }
            }
          }
          await settle();
          const snap = await snapshot(h);
          if (snap !== undefined) {
            assert.ok(snap.generation >= lastGeneration, 'generation went backwards');
            lastGeneration = snap.generation;
            if (snap.members.length > 0) assert.ok(snap.leader !== null && snap.members.includes(snap.leader), 'leader must be a member');
            if (snap.state === 'Empty') assert.deepEqual(snap.members, []);
          }
        }
        // Another coordinator loading the log sees every settled state as it is (in-between states
        // fall back to the last persisted one, as in Kafka).
        const before = await snapshot(h);
        const offsetsBefore = await h.gc.fetchGroupOffsets('g', null, false);
        const h2 = await start({ groupInitialRebalanceDelayMs: 1000 }, h.log, new ManualScheduler(h.scheduler.now()));
        const after = await snapshot(h2);
        assert.deepEqual((await h2.gc.fetchGroupOffsets('g', null, false)).topics, offsetsBefore.topics);
        if (before !== undefined && (before.state === 'Stable' || before.state === 'Empty') && (before.generation > 0 || offsetsBefore.topics.length > 0)) {
          assert.deepEqual(after, before);
        }
        // Every parked request gets an answer once time moves far enough.
        h.scheduler.advance(400_000);
        await settle();
        for (const c of clients) {
          for (const p of [...c.joins, ...c.syncs]) {
            const settledWith = await Promise.race([p.then(() => 'settled'), new Promise((r) => setImmediate(() => r('pending')))]);
            assert.equal(settledWith, 'settled', 'a request was left without an answer');
          }
        }
        h.gc.close();
        h2.gc.close();
      }),
      { numRuns: 150, seed: 20261122 },
    );
  });
});
