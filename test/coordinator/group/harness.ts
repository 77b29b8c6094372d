// Drives a GroupCoordinator over an in-memory __consumer_offsets log and a hand-moved clock.
import { Writer } from '../../../src/protocol/writer.js';
import { encodeConsumerProtocolSubscription } from '../../../src/protocol/generated/data/consumer-protocol-subscription.js';
import type { JoinGroupRequest, JoinGroupResponse } from '../../../src/protocol/generated/messages/join-group.js';
import type { SyncGroupResponse } from '../../../src/protocol/generated/messages/sync-group.js';
import type { GroupCoordinatorConfig } from '../../../src/coordinator/group/config.js';
import { GroupCoordinator } from '../../../src/coordinator/group/group-coordinator.js';
import type { GroupRequestContext } from '../../../src/coordinator/group/group-shard.js';
import { ManualScheduler } from '../../../src/coordinator/scheduler.js';
import { ErrorCode } from '../../../src/protocol/errors.js';
import { MemoryCoordinatorLog, isPending, settle } from '../memory-log.js';

export interface Harness {
  readonly scheduler: ManualScheduler;
  readonly log: MemoryCoordinatorLog;
  readonly gc: GroupCoordinator;
}

export async function start(config: Partial<GroupCoordinatorConfig> = {}, log = new MemoryCoordinatorLog(), scheduler = new ManualScheduler()): Promise<Harness> {
  let n = 0;
  const gc = new GroupCoordinator({
    scheduler,
    logFor: () => log,
    newMemberIdSuffix: () => `u${++n}`,
    config: { offsetsTopicNumPartitions: 1, ...config },
  });
  await gc.onElection(0, 1);
  return { scheduler, log, gc };
}

export const ctx = (apiVersion = 9, clientId = 'client'): GroupRequestContext => ({ apiVersion, clientId, clientHost: '/127.0.0.1' });

/** A consumer-protocol subscription (version 0) to `topics`. */
export function subscription(topics: string[]): Buffer {
  const w = new Writer(64);
  w.int16(0);
  encodeConsumerProtocolSubscription(w, 0, { topics, userData: null, ownedPartitions: [], generationId: -1, rackId: null });
  return w.toBuffer();
}

export function joinReq(over: Partial<JoinGroupRequest> = {}): JoinGroupRequest {
  return {
    groupId: 'g',
    sessionTimeoutMs: 10_000,
    rebalanceTimeoutMs: 30_000,
    memberId: '',
    groupInstanceId: null,
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: subscription(['t']) }],
    reason: null,
    ...over,
  };
}

/** KIP-394 handshake: the first JoinGroup gets an id, the second one joins. Returns the parked join. */
export async function joinNew(h: Harness, clientId: string, over: Partial<JoinGroupRequest> = {}): Promise<{ memberId: string; join: Promise<JoinGroupResponse> }> {
  const first = await h.gc.joinGroup(ctx(9, clientId), joinReq(over));
  if (first.errorCode !== ErrorCode.MEMBER_ID_REQUIRED) throw new Error(`expected MEMBER_ID_REQUIRED, got ${first.errorCode}`);
  return { memberId: first.memberId, join: h.gc.joinGroup(ctx(9, clientId), joinReq({ ...over, memberId: first.memberId })) };
}

/** Moves time in steps until `p` settles (at most `maxMs`). */
export async function advanceUntil(h: Harness, p: Promise<unknown>, stepMs = 1000, maxMs = 120_000): Promise<number> {
  let waited = 0;
  while ((await isPending(p)) && waited < maxMs) {
    h.scheduler.advance(stepMs);
    waited += stepMs;
    await settle();
  }
  return waited;
}

export interface StableGroup {
  readonly members: string[];
  readonly generation: number;
  readonly leader: string;
  readonly syncs: SyncGroupResponse[];
}

/** Brings `clients` through join and sync into a Stable group; each member is assigned its own name. */
export async function stableGroup(h: Harness, clients: string[], groupId = 'g', topics = ['t'], over: Partial<JoinGroupRequest> = {}): Promise<StableGroup> {
  const joins: Promise<JoinGroupResponse>[] = [];
  for (const c of clients) {
    joins.push((await joinNew(h, c, { groupId, protocols: [{ name: 'range', metadata: subscription(topics) }], ...over })).join);
  }
  await advanceUntil(h, Promise.all(joins));
  const responses = await Promise.all(joins);
  const leader = responses[0]!.leader;
  const generation = responses[0]!.generationId;
  const members = responses.map((r) => r.memberId);
  const syncs = await Promise.all(
    responses.map((r) =>
      h.gc.syncGroup(ctx(), {
        groupId,
        generationId: generation,
        memberId: r.memberId,
        groupInstanceId: null,
        protocolType: 'consumer',
        protocolName: 'range',
        assignments: r.memberId === leader ? members.map((m) => ({ memberId: m, assignment: Buffer.from(m) })) : [],
      }),
    ),
  );
  return { members, generation, leader, syncs };
}
