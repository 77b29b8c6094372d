// The group coordinator state machine of one __consumer_offsets partition: classic groups (JoinGroup,
// SyncGroup, Heartbeat, LeaveGroup with Kafka 3.9's semantics, including KIP-345 static membership and
// KIP-394 member-id handshakes) and their committed offsets. Every method runs inside one runtime
// operation; responses that wait for other members are Deferreds settled by later operations, and they
// leave only after the records of the operation that settled them are committed.
//
// Cooperative rebalancing (KIP-429) needs nothing special here: with the classic protocol the clients
// revoke and rejoin on their own, and the coordinator only runs ordinary (short) rebalances.
import { ErrorCode } from '../../protocol/errors.js';
import type { GroupMetadataValue } from '../../protocol/generated/coordinator/group-metadata-value.js';
import type { DescribeGroupsResponseDescribedGroup } from '../../protocol/generated/messages/describe-groups.js';
import type { HeartbeatRequest } from '../../protocol/generated/messages/heartbeat.js';
import type { JoinGroupRequest, JoinGroupResponse } from '../../protocol/generated/messages/join-group.js';
import type { LeaveGroupRequestMemberIdentity, LeaveGroupResponseMemberResponse } from '../../protocol/generated/messages/leave-group.js';
import type { ListGroupsResponseListedGroup } from '../../protocol/generated/messages/list-groups.js';
import type { OffsetCommitRequest, OffsetCommitResponseTopic } from '../../protocol/generated/messages/offset-commit.js';
import type { OffsetDeleteRequestTopic, OffsetDeleteResponse } from '../../protocol/generated/messages/offset-delete.js';
import type { OffsetFetchResponseGroup } from '../../protocol/generated/messages/offset-fetch.js';
import type { SyncGroupRequest, SyncGroupResponse } from '../../protocol/generated/messages/sync-group.js';
import { Deferred } from '../deferred.js';
import { CoordinatorError } from '../errors.js';
import type { CoordinatorRecord, CoordinatorShard, OperationContext, ShardEnvironment } from '../runtime.js';
import { CONSUMER_PROTOCOL_TYPE, ClassicGroup, ClassicGroupMember, GroupState } from './classic-group.js';
import type { MemberProtocol } from './classic-group.js';
import type { GroupCoordinatorConfig } from './config.js';
import { OffsetStore } from './offset-store.js';
import { decodeGroupRecord, groupMetadataRecord, groupTombstone, offsetCommitRecord, offsetTombstone } from './records.js';
import type { OffsetAndMetadata } from './records.js';

/** Who sent a request, as the API handler knows it. */
export interface GroupRequestContext {
  readonly apiVersion: number;
  readonly clientId: string;
  readonly clientHost: string;
}

/**
 * Transactional offset commits not yet committed or aborted (TxnOffsetCommit). The transaction
 * coordinator's work provides it; until then no partition has pending transactional offsets.
 */
export interface PendingTransactionalOffsets {
  has(groupId: string, topic: string, partition: number): boolean;
}

/** An offset committed inside a transaction (TxnOffsetCommit), applied when its COMMIT marker arrives. */
export interface TransactionalOffset {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly leaderEpoch: number;
  readonly metadata: string;
  readonly commitTimestamp: number;
}

export interface GroupShardOptions {
  readonly config: GroupCoordinatorConfig;
  /** Random part of new member ids (Kafka: a UUID); injectable so tests are deterministic. */
  readonly newMemberIdSuffix: () => string;
  readonly pendingTransactionalOffsets?: PendingTransactionalOffsets;
}

/** A topic's partitions to fetch, or all committed offsets of the group when null. */
export interface OffsetFetchTopics {
  readonly name: string;
  readonly partitionIndexes: readonly number[];
}

export const OFFSET_EXPIRATION_TIMER = 'offset-expiration';
const UNKNOWN_GENERATION = -1;
const EMPTY: Buffer = Buffer.alloc(0);
const NO_PENDING_TXN: PendingTransactionalOffsets = { has: () => false };

const heartbeatKey = (groupId: string, memberId: string): string => `heartbeat/${groupId}/${memberId}`;
const joinKey = (groupId: string): string => `join/${groupId}`;
const syncKey = (groupId: string): string => `sync/${groupId}`;

function joinError(memberId: string, errorCode: number): JoinGroupResponse {
  return {
    throttleTimeMs: 0,
    errorCode,
    generationId: UNKNOWN_GENERATION,
    protocolType: null,
    protocolName: null,
    leader: '',
    skipAssignment: false,
    memberId,
    members: [],
  };
}

function syncResult(errorCode: number, protocolType: string | null = null, protocolName: string | null = null, assignment = EMPTY): SyncGroupResponse {
  return { throttleTimeMs: 0, errorCode, protocolType, protocolName, assignment };
}

export class GroupCoordinatorShard implements CoordinatorShard {
  readonly #env: ShardEnvironment;
  readonly #config: GroupCoordinatorConfig;
  readonly #newSuffix: () => string;
  readonly #pendingTxn: PendingTransactionalOffsets;
  readonly #groups = new Map<string, ClassicGroup>();
  readonly #offsets = new OffsetStore();
  /** Every parked JoinGroup / SyncGroup not answered yet, including those whose answer awaits a commit. */
  readonly #parked = new Set<Deferred<unknown>>();

  constructor(env: ShardEnvironment, opts: GroupShardOptions) {
    this.#env = env;
    this.#config = opts.config;
    this.#newSuffix = opts.newMemberIdSuffix;
    this.#pendingTxn = opts.pendingTransactionalOffsets ?? NO_PENDING_TXN;
  }

  /** For tests and tools: the group as currently known (possibly not yet committed). */
  group(groupId: string): ClassicGroup | undefined {
    return this.#groups.get(groupId);
  }

  committedOffset(groupId: string, topic: string, partition: number): OffsetAndMetadata | undefined {
    return this.#offsets.get(groupId, topic, partition);
  }

  // ---------------------------------------------------------------- loading

  replay(record: CoordinatorRecord): void {
    const r = decodeGroupRecord(record);
    if (r.kind === 'offset') {
      if (r.value === null) {
        this.#offsets.delete(r.group, r.topic, r.partition);
      } else {
        // Offsets may be committed to a group that has no metadata record (simple consumers).
        if (!this.#groups.has(r.group)) this.#groups.set(r.group, new ClassicGroup(r.group));
        this.#offsets.set(r.group, r.topic, r.partition, r.value);
      }
    } else if (r.kind === 'group') {
      if (r.value !== null) this.#groups.set(r.group, this.#groupFromRecord(r.group, r.value));
      // We never tombstone a group that still has offsets; should a log say otherwise, keep them reachable.
      else if (this.#offsets.hasOffsets(r.group)) this.#groups.set(r.group, new ClassicGroup(r.group));
      else this.#groups.delete(r.group);
    }
  }

  #groupFromRecord(groupId: string, v: GroupMetadataValue): ClassicGroup {
    const group = new ClassicGroup(groupId, v.currentStateTimestamp >= 0n ? Number(v.currentStateTimestamp) : undefined);
    group.generationId = v.generation;
    group.protocolType = v.protocolType === '' ? null : v.protocolType;
    group.protocolName = v.protocol === '' ? null : v.protocol;
    for (const m of v.members) {
      const member = new ClassicGroupMember({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        rebalanceTimeoutMs: m.rebalanceTimeout >= 0 ? m.rebalanceTimeout : m.sessionTimeout,
        sessionTimeoutMs: m.sessionTimeout,
        protocolType: v.protocolType,
        protocols: [{ name: v.protocol ?? '', metadata: Buffer.from(m.subscription) }],
      });
      member.assignment = Buffer.from(m.assignment);
      group.add(member);
    }
    group.leaderId = v.members.length > 0 ? v.leader : null;
    // add() takes the first member's protocol type; the record's is authoritative.
    group.protocolType = v.protocolType === '' ? null : v.protocolType;
    group.state = v.members.length > 0 ? GroupState.STABLE : GroupState.EMPTY;
    group.computeSubscribedTopics();
    return group;
  }

  onLoaded(ctx: OperationContext): void {
    for (const group of this.#groups.values()) {
      for (const member of group.members.values()) this.#rescheduleHeartbeat(group, member);
      if (group.members.size > this.#config.groupMaxSize) this.#prepareRebalance(ctx, group);
    }
    this.#scheduleOffsetExpiration();
  }

  onUnloaded(): void {
    // Includes answers already decided but held for a commit that will now never come.
    const error = new CoordinatorError(ErrorCode.NOT_COORDINATOR, 'the group coordinator moved');
    for (const d of this.#parked) d.reject(error);
    this.#parked.clear();
    for (const group of this.#groups.values()) {
      for (const member of group.members.values()) {
        member.awaitingJoin = null;
        member.awaitingSync = null;
      }
    }
  }

  #park<T>(): Deferred<T> {
    const d = new Deferred<T>();
    const entry = d as Deferred<unknown>;
    this.#parked.add(entry);
    const forget = (): void => {
      this.#parked.delete(entry);
    };
    d.promise.then(forget, forget);
    return d;
  }

  // ---------------------------------------------------------------- JoinGroup

  joinGroup(ctx: OperationContext, rc: GroupRequestContext, req: JoinGroupRequest): Promise<JoinGroupResponse> {
    const cfg = this.#config;
    if (req.sessionTimeoutMs < cfg.groupMinSessionTimeoutMs || req.sessionTimeoutMs > cfg.groupMaxSessionTimeoutMs) {
      return Promise.resolve(joinError(req.memberId, ErrorCode.INVALID_SESSION_TIMEOUT));
    }
    const isUnknownMember = req.memberId === '';
    let group = this.#groups.get(req.groupId);
    let created = false;
    if (group === undefined) {
      if (!isUnknownMember) return Promise.resolve(joinError(req.memberId, ErrorCode.UNKNOWN_MEMBER_ID));
      group = new ClassicGroup(req.groupId, ctx.now);
      this.#groups.set(req.groupId, group);
      created = true;
    }
    let result: Promise<JoinGroupResponse>;
    if (!this.#acceptJoiningMember(group, req.memberId)) {
      const existing = group.members.get(req.memberId);
      if (existing !== undefined) this.#removeMemberAndUpdateGroup(ctx, group, existing);
      group.pendingMembers.delete(req.memberId);
      result = Promise.resolve(joinError('', ErrorCode.GROUP_MAX_SIZE_REACHED));
    } else if (isUnknownMember) {
      result = this.#newMemberJoin(ctx, rc, group, req);
    } else {
      result = this.#currentMemberJoin(ctx, rc, group, req);
    }
    this.#maybeCompleteJoinPhase(ctx, group);
    if (created && group.members.size === 0 && group.pendingMembers.size === 0) this.#groups.delete(group.groupId);
    return result;
  }

  #acceptJoiningMember(group: ClassicGroup, memberId: string): boolean {
    const max = this.#config.groupMaxSize;
    switch (group.state) {
      case GroupState.EMPTY:
      case GroupState.DEAD:
        return true;
      case GroupState.PREPARING_REBALANCE: {
        // Counting members already waiting (not the group size, which may exceed a lowered maximum)
        // turns away the last ones to rejoin.
        const member = group.members.get(memberId);
        return (member !== undefined && member.awaitingJoin !== null) || group.numAwaitingJoin() < max;
      }
      default:
        return group.members.has(memberId) || group.members.size < max;
    }
  }

  #newMemberJoin(ctx: OperationContext, rc: GroupRequestContext, group: ClassicGroup, req: JoinGroupRequest): Promise<JoinGroupResponse> {
    if (group.is(GroupState.DEAD)) return Promise.resolve(joinError(req.memberId, ErrorCode.COORDINATOR_NOT_AVAILABLE));
    if (!group.supportsProtocols(req.protocolType, req.protocols.map((p) => p.name))) {
      return Promise.resolve(joinError(req.memberId, ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
    }
    const newMemberId = `${req.groupInstanceId ?? rc.clientId}-${this.#newSuffix()}`;
    if (req.groupInstanceId !== null) {
      const oldMemberId = group.currentStaticMemberId(req.groupInstanceId);
      return oldMemberId !== undefined
        ? this.#updateStaticMemberAndRebalance(ctx, rc, group, oldMemberId, newMemberId, req)
        : this.#addMemberAndRebalance(ctx, rc, group, newMemberId, req);
    }
    if (rc.apiVersion >= 4) {
      // KIP-394: hand out the id first, so that a client retrying a timed-out JoinGroup does not leave
      // members behind; the id is forgotten unless it rejoins within its session timeout.
      group.pendingMembers.add(newMemberId);
      this.#env.timer.schedule(heartbeatKey(group.groupId, newMemberId), req.sessionTimeoutMs, (c) =>
        this.#expireHeartbeat(c, group.groupId, newMemberId),
      );
      return Promise.resolve(joinError(newMemberId, ErrorCode.MEMBER_ID_REQUIRED));
    }
    return this.#addMemberAndRebalance(ctx, rc, group, newMemberId, req);
  }

  #currentMemberJoin(ctx: OperationContext, rc: GroupRequestContext, group: ClassicGroup, req: JoinGroupRequest): Promise<JoinGroupResponse> {
    const memberId = req.memberId;
    if (group.is(GroupState.DEAD)) return Promise.resolve(joinError(memberId, ErrorCode.COORDINATOR_NOT_AVAILABLE));
    if (!group.supportsProtocols(req.protocolType, req.protocols.map((p) => p.name))) {
      return Promise.resolve(joinError(memberId, ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
    }
    if (group.pendingMembers.has(memberId)) return this.#addMemberAndRebalance(ctx, rc, group, memberId, req);
    const invalid = group.validateMember(memberId, req.groupInstanceId);
    if (invalid !== ErrorCode.NONE) return Promise.resolve(joinError(memberId, invalid));
    const member = group.members.get(memberId)!;
    const protocols = protocolsOf(req);
    switch (group.state) {
      case GroupState.PREPARING_REBALANCE:
        return this.#updateMemberAndRebalance(ctx, group, member, req);
      case GroupState.COMPLETING_REBALANCE:
        // The same metadata again: the member most likely lost our JoinGroup response; resend it.
        if (member.matches(protocols)) return Promise.resolve(this.#joinResponse(group, member, group.isLeader(memberId)));
        return this.#updateMemberAndRebalance(ctx, group, member, req);
      case GroupState.STABLE:
        // A leader's rejoin forces a rebalance: it is how the leader reacts to changes the member
        // metadata does not show (new partitions of a subscribed topic).
        if (group.isLeader(memberId) || !member.matches(protocols)) return this.#updateMemberAndRebalance(ctx, group, member, req);
        return Promise.resolve(this.#joinResponse(group, member, false));
      default:
        return Promise.resolve(joinError(memberId, ErrorCode.UNKNOWN_MEMBER_ID));
    }
  }

  #joinResponse(group: ClassicGroup, member: ClassicGroupMember, withMembers: boolean): JoinGroupResponse {
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      generationId: group.generationId,
      protocolType: group.protocolType,
      protocolName: group.protocolName,
      leader: group.leaderId ?? '',
      skipAssignment: false,
      memberId: member.memberId,
      members: withMembers ? group.currentMemberMetadata() : [],
    };
  }

  #addMemberAndRebalance(
    ctx: OperationContext,
    rc: GroupRequestContext,
    group: ClassicGroup,
    memberId: string,
    req: JoinGroupRequest,
  ): Promise<JoinGroupResponse> {
    const member = new ClassicGroupMember({
      memberId,
      groupInstanceId: req.groupInstanceId,
      clientId: rc.clientId,
      clientHost: rc.clientHost,
      rebalanceTimeoutMs: req.rebalanceTimeoutMs,
      sessionTimeoutMs: req.sessionTimeoutMs,
      protocolType: req.protocolType,
      protocols: protocolsOf(req),
    });
    member.isNew = true;
    // A member joining during the initial rebalance of an empty group may extend its delay.
    if (group.is(GroupState.PREPARING_REBALANCE) && group.previousState === GroupState.EMPTY) group.newMemberAdded = true;
    const waiter = this.#park<JoinGroupResponse>();
    group.add(member);
    member.awaitingJoin = waiter;
    // A new member cannot heartbeat before it has its JoinGroup response, so its session timeout does
    // not apply yet; the join timeout bounds how long a vanished client can hold the rebalance.
    this.#rescheduleHeartbeat(group, member, this.#config.newMemberJoinTimeoutMs);
    this.#maybePrepareRebalance(ctx, group);
    return waiter.promise;
  }

  #updateMemberAndRebalance(ctx: OperationContext, group: ClassicGroup, member: ClassicGroupMember, req: JoinGroupRequest): Promise<JoinGroupResponse> {
    // Taken before the rebalance starts: with everyone already in, it completes (and clears it) at once.
    const waiter = this.#updateMember(ctx, member, req);
    this.#maybePrepareRebalance(ctx, group);
    return waiter.promise;
  }

  /** Updates a rejoining member and parks its JoinGroup; returns the parked response. */
  #updateMember(ctx: OperationContext, member: ClassicGroupMember, req: JoinGroupRequest): Deferred<JoinGroupResponse> {
    member.protocols = protocolsOf(req);
    member.rebalanceTimeoutMs = req.rebalanceTimeoutMs;
    member.sessionTimeoutMs = req.sessionTimeoutMs;
    // A JoinGroup still parked for this member belongs to a request its client gave up on.
    const stale = member.awaitingJoin;
    if (stale !== null) ctx.onCommit(() => stale.resolve(joinError(member.memberId, ErrorCode.REBALANCE_IN_PROGRESS)));
    const waiter = this.#park<JoinGroupResponse>();
    member.awaitingJoin = waiter;
    return waiter;
  }

  #updateStaticMemberAndRebalance(
    ctx: OperationContext,
    rc: GroupRequestContext,
    group: ClassicGroup,
    oldMemberId: string,
    newMemberId: string,
    req: JoinGroupRequest,
  ): Promise<JoinGroupResponse> {
    const currentLeader = group.leaderId;
    const old = group.members.get(oldMemberId)!;
    // Requests still parked for the old incarnation are fenced: a newer instance took its place.
    const oldJoin = old.awaitingJoin;
    const oldSync = old.awaitingSync;
    old.awaitingJoin = null;
    old.awaitingSync = null;
    if (oldJoin !== null) ctx.onCommit(() => oldJoin.resolve(joinError(oldMemberId, ErrorCode.FENCED_INSTANCE_ID)));
    if (oldSync !== null) ctx.onCommit(() => oldSync.resolve(syncResult(ErrorCode.FENCED_INSTANCE_ID)));
    this.#env.timer.cancel(heartbeatKey(group.groupId, oldMemberId));
    const member = group.replaceStaticMember(req.groupInstanceId!, oldMemberId, newMemberId);
    this.#rescheduleHeartbeat(group, member);
    const waiter = this.#updateMember(ctx, member, req);
    switch (group.state) {
      case GroupState.STABLE: {
        if (group.selectProtocol() !== group.protocolName) {
          this.#maybePrepareRebalance(ctx, group);
          return waiter.promise;
        }
        // KIP-345: same protocol, so no rebalance; persist the new member id under the old assignment.
        ctx.append(this.#groupMetadataRecord(group));
        member.awaitingJoin = null;
        let response: JoinGroupResponse;
        if (rc.apiVersion >= 9) {
          // The static leader learns it leads (to keep watching metadata) but must not reassign.
          const isLeader = group.isLeader(newMemberId);
          response = { ...this.#joinResponse(group, member, isLeader), skipAssignment: isLeader };
        } else {
          // Older clients would run the assignor if they saw themselves as leader, and a stable
          // group would ignore the result: report the previous leader id so that they do not.
          response = { ...this.#joinResponse(group, member, false), leader: currentLeader ?? '' };
        }
        waiter.resolve(response);
        return waiter.promise;
      }
      case GroupState.COMPLETING_REBALANCE:
        this.#maybePrepareRebalance(ctx, group);
        return waiter.promise;
      case GroupState.PREPARING_REBALANCE:
        return waiter.promise;
      default:
        return Promise.resolve(joinError(req.memberId, ErrorCode.UNKNOWN_MEMBER_ID));
    }
  }

  // ---------------------------------------------------------------- rebalance phases

  #maybePrepareRebalance(ctx: OperationContext, group: ClassicGroup): void {
    if (group.canRebalance()) this.#prepareRebalance(ctx, group);
  }

  #prepareRebalance(ctx: OperationContext, group: ClassicGroup): void {
    if (group.is(GroupState.COMPLETING_REBALANCE)) this.#resetAndPropagateAssignmentError(ctx, group, ErrorCode.REBALANCE_IN_PROGRESS);
    this.#env.timer.cancel(syncKey(group.groupId));
    group.pendingSyncMembers.clear();
    const isInitialRebalance = group.is(GroupState.EMPTY);
    group.transitionTo(GroupState.PREPARING_REBALANCE, ctx.now);
    if (isInitialRebalance) {
      // A new group waits a little so that members starting together land in one generation.
      const delay = this.#config.groupInitialRebalanceDelayMs;
      const remaining = Math.max(group.rebalanceTimeoutMs() - delay, 0);
      this.#scheduleInitialJoin(group.groupId, delay, remaining);
    } else {
      this.#maybeCompleteJoinElseSchedule(ctx, group);
    }
  }

  #scheduleInitialJoin(groupId: string, delayMs: number, remainingMs: number): void {
    this.#env.timer.schedule(joinKey(groupId), delayMs, (c) => {
      const group = this.#groups.get(groupId);
      if (group === undefined || !group.is(GroupState.PREPARING_REBALANCE)) return;
      if (group.newMemberAdded && remainingMs !== 0) {
        group.newMemberAdded = false;
        const nextDelay = Math.min(this.#config.groupInitialRebalanceDelayMs, remainingMs);
        this.#scheduleInitialJoin(groupId, nextDelay, Math.max(remainingMs - delayMs, 0));
      } else {
        this.#completeJoin(c, group);
      }
    });
  }

  #maybeCompleteJoinElseSchedule(ctx: OperationContext, group: ClassicGroup): void {
    if (group.hasAllMembersJoined()) {
      this.#completeJoin(ctx, group);
      return;
    }
    const groupId = group.groupId;
    this.#env.timer.schedule(joinKey(groupId), group.rebalanceTimeoutMs(), (c) => {
      const g = this.#groups.get(groupId);
      if (g !== undefined && g.is(GroupState.PREPARING_REBALANCE)) this.#completeJoin(c, g);
    });
  }

  /** The join phase ends as soon as the last member is in, except during a new group's initial delay. */
  #maybeCompleteJoinPhase(ctx: OperationContext, group: ClassicGroup): void {
    if (group.is(GroupState.PREPARING_REBALANCE) && group.hasAllMembersJoined() && group.previousState !== GroupState.EMPTY) {
      this.#completeJoin(ctx, group);
    }
  }

  #completeJoin(ctx: OperationContext, group: ClassicGroup): void {
    this.#env.timer.cancel(joinKey(group.groupId));
    if (group.is(GroupState.DEAD)) return;
    // Dynamic members that did not rejoin in time are dropped; static ones keep their place (KIP-345).
    for (const m of [...group.members.values()]) {
      if (m.awaitingJoin === null && m.groupInstanceId === null) {
        group.remove(m.memberId);
        this.#env.timer.cancel(heartbeatKey(group.groupId, m.memberId));
      }
    }
    if (!group.maybeElectNewJoinedLeader() && group.members.size > 0) {
      // Nobody rejoined: wait another round; session expiry will clear the unresponsive members.
      const groupId = group.groupId;
      this.#env.timer.schedule(joinKey(groupId), group.rebalanceTimeoutMs(), (c) => {
        const g = this.#groups.get(groupId);
        if (g !== undefined && g.is(GroupState.PREPARING_REBALANCE)) this.#completeJoin(c, g);
      });
      return;
    }
    group.initNextGeneration(ctx.now);
    if (group.is(GroupState.EMPTY)) {
      ctx.append(this.#groupMetadataRecord(group));
      return;
    }
    for (const member of group.members.values()) {
      const waiter = member.awaitingJoin;
      member.awaitingJoin = null;
      if (waiter !== null) {
        const response = this.#joinResponse(group, member, group.isLeader(member.memberId));
        ctx.onCommit(() => waiter.resolve(response));
      }
      this.#rescheduleHeartbeat(group, member);
      member.isNew = false;
      group.pendingSyncMembers.add(member.memberId);
    }
    this.#schedulePendingSync(group);
  }

  #schedulePendingSync(group: ClassicGroup): void {
    const { groupId, generationId } = group;
    this.#env.timer.schedule(syncKey(groupId), group.rebalanceTimeoutMs(), (c) => {
      const g = this.#groups.get(groupId);
      if (g === undefined || g.generationId !== generationId) return;
      if (!g.is(GroupState.COMPLETING_REBALANCE) && !g.is(GroupState.STABLE)) return;
      if (g.pendingSyncMembers.size === 0) return;
      for (const memberId of [...g.pendingSyncMembers]) {
        g.remove(memberId);
        this.#env.timer.cancel(heartbeatKey(groupId, memberId));
      }
      this.#prepareRebalance(c, g);
    });
  }

  #resetAndPropagateAssignmentError(ctx: OperationContext, group: ClassicGroup, errorCode: number): void {
    for (const member of group.members.values()) {
      member.assignment = EMPTY;
      const waiter = member.awaitingSync;
      if (waiter !== null) {
        member.awaitingSync = null;
        ctx.onCommit(() => waiter.resolve(syncResult(errorCode)));
      }
    }
  }

  /**
   * Removes a member and moves the group on. An explicit LeaveGroup completes a join phase only outside
   * a new group's initial delay; an expired member completes it whenever everyone left has joined.
   */
  #removeMemberAndUpdateGroup(ctx: OperationContext, group: ClassicGroup, member: ClassicGroupMember, explicitLeave = false): void {
    const join = member.awaitingJoin;
    const sync = member.awaitingSync;
    member.awaitingJoin = null;
    member.awaitingSync = null;
    // The parked JoinGroup learns it is out and rejoins from scratch if its client is still alive.
    if (join !== null) ctx.onCommit(() => join.resolve(joinError('', ErrorCode.UNKNOWN_MEMBER_ID)));
    if (sync !== null) ctx.onCommit(() => sync.resolve(syncResult(ErrorCode.UNKNOWN_MEMBER_ID)));
    group.remove(member.memberId);
    this.#env.timer.cancel(heartbeatKey(group.groupId, member.memberId));
    switch (group.state) {
      case GroupState.STABLE:
      case GroupState.COMPLETING_REBALANCE:
        this.#maybePrepareRebalance(ctx, group);
        break;
      case GroupState.PREPARING_REBALANCE:
        if (explicitLeave) this.#maybeCompleteJoinPhase(ctx, group);
        else if (group.hasAllMembersJoined()) this.#completeJoin(ctx, group);
        break;
      default:
        break;
    }
  }

  #removePendingMember(ctx: OperationContext, group: ClassicGroup, memberId: string, explicitLeave: boolean): void {
    group.pendingMembers.delete(memberId);
    this.#env.timer.cancel(heartbeatKey(group.groupId, memberId));
    if (explicitLeave) this.#maybeCompleteJoinPhase(ctx, group);
    else if (group.is(GroupState.PREPARING_REBALANCE) && group.hasAllMembersJoined()) this.#completeJoin(ctx, group);
  }

  #rescheduleHeartbeat(group: ClassicGroup, member: ClassicGroupMember, timeoutMs = member.sessionTimeoutMs): void {
    const { groupId } = group;
    const { memberId } = member;
    this.#env.timer.schedule(heartbeatKey(groupId, memberId), timeoutMs, (c) => this.#expireHeartbeat(c, groupId, memberId));
  }

  #expireHeartbeat(ctx: OperationContext, groupId: string, memberId: string): void {
    const group = this.#groups.get(groupId);
    if (group === undefined || group.is(GroupState.DEAD)) return;
    if (group.pendingMembers.has(memberId)) {
      this.#removePendingMember(ctx, group, memberId, false);
      return;
    }
    const member = group.members.get(memberId);
    if (member === undefined) return;
    // Members parked in JoinGroup or SyncGroup cannot heartbeat; the rebalance timeouts bound them.
    if (!member.isNew && (member.awaitingJoin !== null || member.awaitingSync !== null)) return;
    this.#removeMemberAndUpdateGroup(ctx, group, member);
  }

  // ---------------------------------------------------------------- SyncGroup, Heartbeat, LeaveGroup

  syncGroup(ctx: OperationContext, req: SyncGroupRequest): Promise<SyncGroupResponse> {
    const group = this.#groups.get(req.groupId);
    const fail = (code: number): Promise<SyncGroupResponse> => Promise.resolve(syncResult(code));
    if (group === undefined) return fail(ErrorCode.UNKNOWN_MEMBER_ID);
    if (group.is(GroupState.DEAD)) return fail(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    const invalid = group.validateMember(req.memberId, req.groupInstanceId);
    if (invalid !== ErrorCode.NONE) return fail(invalid);
    const member = group.members.get(req.memberId)!;
    if (req.generationId !== group.generationId) return fail(ErrorCode.ILLEGAL_GENERATION);
    // v5 clients name the protocol they think the group uses; either side may not know it yet.
    const inconsistent = (mine: string | null, theirs: string | null): boolean => mine !== null && theirs !== null && mine !== theirs;
    if (inconsistent(req.protocolType, group.protocolType) || inconsistent(req.protocolName, group.protocolName)) {
      return fail(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    }
    switch (group.state) {
      case GroupState.EMPTY:
        return fail(ErrorCode.UNKNOWN_MEMBER_ID);
      case GroupState.PREPARING_REBALANCE:
        return fail(ErrorCode.REBALANCE_IN_PROGRESS);
      case GroupState.COMPLETING_REBALANCE: {
        const stale = member.awaitingSync;
        if (stale !== null) ctx.onCommit(() => stale.resolve(syncResult(ErrorCode.REBALANCE_IN_PROGRESS)));
        const waiter = this.#park<SyncGroupResponse>();
        member.awaitingSync = waiter;
        this.#removePendingSyncMember(group, member.memberId);
        if (group.isLeader(member.memberId)) {
          const given = new Map(req.assignments.map((a) => [a.memberId, a.assignment] as const));
          // Members the leader left out get an empty assignment; ids it made up are ignored.
          for (const m of group.members.values()) m.assignment = given.get(m.memberId) ?? EMPTY;
          ctx.append(this.#groupMetadataRecord(group));
          group.transitionTo(GroupState.STABLE, ctx.now);
          for (const m of group.members.values()) {
            const w = m.awaitingSync;
            if (w === null) continue;
            m.awaitingSync = null;
            const response = syncResult(ErrorCode.NONE, group.protocolType, group.protocolName, m.assignment);
            ctx.onCommit(() => w.resolve(response));
            this.#rescheduleHeartbeat(group, m);
          }
        }
        return waiter.promise;
      }
      case GroupState.STABLE:
        this.#removePendingSyncMember(group, member.memberId);
        this.#rescheduleHeartbeat(group, member);
        return Promise.resolve(syncResult(ErrorCode.NONE, group.protocolType, group.protocolName, member.assignment));
      default:
        return fail(ErrorCode.UNKNOWN_SERVER_ERROR);
    }
  }

  #removePendingSyncMember(group: ClassicGroup, memberId: string): void {
    group.pendingSyncMembers.delete(memberId);
    if (group.pendingSyncMembers.size === 0) this.#env.timer.cancel(syncKey(group.groupId));
  }

  heartbeat(_ctx: OperationContext, req: HeartbeatRequest): number {
    const group = this.#groups.get(req.groupId);
    if (group === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (group.is(GroupState.DEAD)) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    const invalid = group.validateMember(req.memberId, req.groupInstanceId);
    if (invalid !== ErrorCode.NONE) return invalid;
    const member = group.members.get(req.memberId)!;
    if (req.generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    switch (group.state) {
      case GroupState.COMPLETING_REBALANCE:
      case GroupState.STABLE:
        this.#rescheduleHeartbeat(group, member);
        return ErrorCode.NONE;
      case GroupState.PREPARING_REBALANCE:
        this.#rescheduleHeartbeat(group, member);
        return ErrorCode.REBALANCE_IN_PROGRESS;
      default:
        return ErrorCode.UNKNOWN_MEMBER_ID;
    }
  }

  /** LeaveGroup for a batch of members (v3+; older versions are a batch of one). */
  leaveGroup(
    ctx: OperationContext,
    groupId: string,
    leaving: readonly LeaveGroupRequestMemberIdentity[],
  ): { errorCode: number; members: LeaveGroupResponseMemberResponse[] } {
    const group = this.#groups.get(groupId);
    const answer = (m: LeaveGroupRequestMemberIdentity, errorCode: number): LeaveGroupResponseMemberResponse => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      errorCode,
    });
    if (group === undefined) return { errorCode: ErrorCode.NONE, members: leaving.map((m) => answer(m, ErrorCode.UNKNOWN_MEMBER_ID)) };
    if (group.is(GroupState.DEAD)) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, members: [] };
    const members = leaving.map((m) => {
      if (m.memberId === '') {
        // An administrator removing a static member by instance id alone.
        const current = m.groupInstanceId === null ? undefined : group.currentStaticMemberId(m.groupInstanceId);
        if (current === undefined) return answer(m, ErrorCode.UNKNOWN_MEMBER_ID);
        this.#removeMemberAndUpdateGroup(ctx, group, group.members.get(current)!, true);
        return answer(m, ErrorCode.NONE);
      }
      if (group.pendingMembers.has(m.memberId)) {
        this.#removePendingMember(ctx, group, m.memberId, true);
        return answer(m, ErrorCode.NONE);
      }
      const invalid = group.validateMember(m.memberId, m.groupInstanceId);
      if (invalid !== ErrorCode.NONE) return answer(m, invalid);
      this.#removeMemberAndUpdateGroup(ctx, group, group.members.get(m.memberId)!, true);
      return answer(m, ErrorCode.NONE);
    });
    return { errorCode: ErrorCode.NONE, members };
  }

  // ---------------------------------------------------------------- offsets

  commitOffsets(ctx: OperationContext, rc: GroupRequestContext, req: OffsetCommitRequest): OffsetCommitResponseTopic[] {
    let group = this.#groups.get(req.groupId);
    let created = false;
    let error: number | undefined;
    if (group === undefined) {
      if (req.generationIdOrMemberEpoch < 0) {
        // A group that uses Kafka only to store offsets.
        group = new ClassicGroup(req.groupId, ctx.now);
        this.#groups.set(req.groupId, group);
        created = true;
      } else {
        // v9 says what happened; older versions keep the historical answer.
        error = rc.apiVersion >= 9 ? ErrorCode.GROUP_ID_NOT_FOUND : ErrorCode.ILLEGAL_GENERATION;
      }
    }
    if (group !== undefined && error === undefined) error = this.#validateOffsetCommit(group, req);
    if (group !== undefined && error === undefined) {
      if (group.is(GroupState.COMPLETING_REBALANCE)) {
        // The member has its new generation but not its assignment: let it finish the rebalance first.
        error = ErrorCode.REBALANCE_IN_PROGRESS;
      } else if (group.is(GroupState.STABLE) || group.is(GroupState.PREPARING_REBALANCE)) {
        // Commits are allowed while preparing: the heartbeat tells the member a rebalance is on.
        this.#rescheduleHeartbeat(group, group.members.get(req.memberId)!);
      }
    }
    if (error !== undefined || group === undefined) {
      if (created) this.#groups.delete(req.groupId);
      const code = error ?? ErrorCode.UNKNOWN_SERVER_ERROR;
      return req.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: code })) }));
    }
    const expireTimestamp = req.retentionTimeMs === -1n ? undefined : ctx.now + Number(req.retentionTimeMs);
    const result = req.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => {
        const metadata = p.committedMetadata ?? '';
        if (metadata.length > this.#config.offsetMetadataMaxBytes) return { partitionIndex: p.partitionIndex, errorCode: ErrorCode.OFFSET_METADATA_TOO_LARGE };
        const offset: OffsetAndMetadata = {
          offset: Number(p.committedOffset),
          leaderEpoch: p.committedLeaderEpoch,
          metadata,
          // Only v1 carries a client commit timestamp; -1 means "now".
          commitTimestamp: rc.apiVersion === 1 && p.commitTimestamp !== -1n ? Number(p.commitTimestamp) : ctx.now,
          expireTimestamp,
        };
        ctx.append(offsetCommitRecord(req.groupId, t.name, p.partitionIndex, offset));
        this.#offsets.set(req.groupId, t.name, p.partitionIndex, offset);
        return { partitionIndex: p.partitionIndex, errorCode: ErrorCode.NONE };
      }),
    }));
    if (created && !this.#offsets.hasOffsets(req.groupId)) this.#groups.delete(req.groupId);
    return result;
  }

  validateTxnOffsetCommit(groupId: string, memberId: string, groupInstanceId: string | null, generationId: number): number {
    const group = this.#groups.get(groupId);
    if (group === undefined) return generationId < 0 ? ErrorCode.NONE : ErrorCode.ILLEGAL_GENERATION;
    if (group.is(GroupState.DEAD)) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    if (memberId === '' && generationId < 0 && groupInstanceId === null) return ErrorCode.NONE;
    const invalid = group.validateMember(memberId, groupInstanceId);
    if (invalid !== ErrorCode.NONE) return invalid;
    return generationId === group.generationId ? ErrorCode.NONE : ErrorCode.ILLEGAL_GENERATION;
  }

  /** The transaction committed: its offsets are written as ordinary offset commits (Kafka's marker replay). */
  commitTransactionalOffsets(ctx: OperationContext, groupId: string, offsets: readonly TransactionalOffset[]): void {
    if (!this.#groups.has(groupId)) this.#groups.set(groupId, new ClassicGroup(groupId, ctx.now));
    for (const o of offsets) {
      const offset: OffsetAndMetadata = { offset: o.offset, leaderEpoch: o.leaderEpoch, metadata: o.metadata, commitTimestamp: o.commitTimestamp, expireTimestamp: undefined };
      ctx.append(offsetCommitRecord(groupId, o.topic, o.partition, offset));
      this.#offsets.set(groupId, o.topic, o.partition, offset);
    }
  }

  #validateOffsetCommit(group: ClassicGroup, req: OffsetCommitRequest): number | undefined {
    if (group.is(GroupState.DEAD)) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    // Admin clients and consumers without group management commit with generation -1 to empty groups.
    if (req.generationIdOrMemberEpoch < 0 && group.is(GroupState.EMPTY)) return undefined;
    if (req.generationIdOrMemberEpoch >= 0 || req.memberId !== '' || req.groupInstanceId !== null) {
      const invalid = group.validateMember(req.memberId, req.groupInstanceId);
      if (invalid !== ErrorCode.NONE) return invalid;
      if (req.generationIdOrMemberEpoch !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
      return undefined;
    }
    // Without member and generation only a group without members may commit (simple consumers).
    return group.is(GroupState.EMPTY) ? undefined : ErrorCode.UNKNOWN_MEMBER_ID;
  }

  /** Committed offsets of one group: the listed partitions, or every committed one when `topics` is null. */
  fetchOffsets(groupId: string, topics: readonly OffsetFetchTopics[] | null, requireStable: boolean): OffsetFetchResponseGroup {
    const group = this.#groups.get(groupId);
    const known = group !== undefined && !group.is(GroupState.DEAD);
    const wanted: OffsetFetchTopics[] =
      topics !== null
        ? [...topics]
        : known
          ? groupByTopic(this.#offsets.list(groupId).map((o) => [o.topic, o.partition] as const))
          : [];
    return {
      groupId,
      errorCode: ErrorCode.NONE,
      topics: wanted.map((t) => ({
        name: t.name,
        partitions: t.partitionIndexes.map((partitionIndex) => {
          const none = { partitionIndex, committedOffset: -1n, committedLeaderEpoch: -1, metadata: '', errorCode: ErrorCode.NONE };
          if (!known) return none;
          if (requireStable && this.#pendingTxn.has(groupId, t.name, partitionIndex)) return { ...none, errorCode: ErrorCode.UNSTABLE_OFFSET_COMMIT };
          const o = this.#offsets.get(groupId, t.name, partitionIndex);
          if (o === undefined) return none;
          return { partitionIndex, committedOffset: BigInt(o.offset), committedLeaderEpoch: o.leaderEpoch, metadata: o.metadata, errorCode: ErrorCode.NONE };
        }),
      })),
    };
  }

  deleteOffsets(ctx: OperationContext, groupId: string, topics: readonly OffsetDeleteRequestTopic[]): OffsetDeleteResponse {
    const group = this.#groups.get(groupId);
    const failed = (errorCode: number): OffsetDeleteResponse => ({ errorCode, throttleTimeMs: 0, topics: [] });
    if (group === undefined || group.is(GroupState.DEAD)) return failed(ErrorCode.GROUP_ID_NOT_FOUND);
    const consumerGroup = group.protocolType === CONSUMER_PROTOCOL_TYPE;
    if (!group.is(GroupState.EMPTY) && !consumerGroup) return failed(ErrorCode.NON_EMPTY_GROUP);
    const response: OffsetDeleteResponse = {
      errorCode: ErrorCode.NONE,
      throttleTimeMs: 0,
      topics: topics.map((t) => {
        const subscribed = !group.is(GroupState.EMPTY) && group.isSubscribedToTopic(t.name);
        return {
          name: t.name,
          partitions: t.partitions.map((p) => {
            if (subscribed) return { partitionIndex: p.partitionIndex, errorCode: ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC };
            if (this.#offsets.delete(groupId, t.name, p.partitionIndex)) ctx.append(offsetTombstone(groupId, t.name, p.partitionIndex));
            return { partitionIndex: p.partitionIndex, errorCode: ErrorCode.NONE };
          }),
        };
      }),
    };
    this.#maybeDeleteEmptyGroup(ctx, group);
    return response;
  }

  /** Drops the offsets of deleted topics (the broker calls this when topics go away). */
  onTopicsDeleted(ctx: OperationContext, topics: ReadonlySet<string>): void {
    for (const group of [...this.#groups.values()]) {
      for (const o of this.#offsets.list(group.groupId)) {
        if (!topics.has(o.topic)) continue;
        this.#offsets.delete(group.groupId, o.topic, o.partition);
        ctx.append(offsetTombstone(group.groupId, o.topic, o.partition));
      }
      this.#maybeDeleteEmptyGroup(ctx, group);
    }
  }

  /** Expires offsets past `offsets.retention.minutes` and removes groups left with nothing. */
  expireOffsets(ctx: OperationContext): void {
    const retention = this.#config.offsetsRetentionMs;
    for (const group of [...this.#groups.values()]) {
      let base: ((o: OffsetAndMetadata) => number) | undefined;
      let keep: ReadonlySet<string> = new Set();
      if (group.protocolType !== null && group.is(GroupState.EMPTY)) {
        // Nobody consumes: the clock runs from when the group became empty.
        base = (o) => group.stateTimestamp ?? o.commitTimestamp;
      } else if (group.protocolType === CONSUMER_PROTOCOL_TYPE && group.subscribedTopics !== null && group.is(GroupState.STABLE)) {
        // A live consumer group keeps the offsets of topics it still subscribes to.
        base = (o) => o.commitTimestamp;
        keep = group.subscribedTopics;
      } else if (group.protocolType === null) {
        base = (o) => o.commitTimestamp;
      }
      if (base !== undefined) {
        for (const { topic, partition, offset } of this.#offsets.list(group.groupId)) {
          if (keep.has(topic) || this.#pendingTxn.has(group.groupId, topic, partition)) continue;
          const expired = offset.expireTimestamp !== undefined ? ctx.now >= offset.expireTimestamp : ctx.now - base(offset) >= retention;
          if (!expired) continue;
          this.#offsets.delete(group.groupId, topic, partition);
          ctx.append(offsetTombstone(group.groupId, topic, partition));
        }
      }
      this.#maybeDeleteEmptyGroup(ctx, group);
    }
    this.#scheduleOffsetExpiration();
  }

  #scheduleOffsetExpiration(): void {
    this.#env.timer.schedule(OFFSET_EXPIRATION_TIMER, this.#config.offsetsRetentionCheckIntervalMs, (c) => this.expireOffsets(c));
  }

  /** An empty group without offsets is gone; its metadata is tombstoned if it was ever written. */
  #maybeDeleteEmptyGroup(ctx: OperationContext, group: ClassicGroup): void {
    if (!group.is(GroupState.EMPTY) || this.#offsets.hasOffsets(group.groupId) || group.pendingMembers.size > 0) return;
    group.transitionTo(GroupState.DEAD, ctx.now);
    this.#groups.delete(group.groupId);
    // Groups that only stored offsets (generation 0) never had a metadata record.
    if (group.generationId > 0) ctx.append(groupTombstone(group.groupId));
  }

  // ---------------------------------------------------------------- admin

  describeGroup(groupId: string): DescribeGroupsResponseDescribedGroup {
    const group = this.#groups.get(groupId);
    if (group === undefined || group.is(GroupState.DEAD)) {
      return { errorCode: ErrorCode.NONE, groupId, groupState: GroupState.DEAD, protocolType: '', protocolData: '', members: [], authorizedOperations: -2147483648 };
    }
    // Member metadata and assignments are meaningful only once the generation is settled.
    const stable = group.is(GroupState.STABLE) && group.protocolName !== null;
    return {
      errorCode: ErrorCode.NONE,
      groupId,
      groupState: group.state,
      protocolType: group.protocolType ?? '',
      protocolData: stable ? group.protocolName! : '',
      members: [...group.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        memberMetadata: stable ? m.metadataFor(group.protocolName!) : EMPTY,
        memberAssignment: stable ? m.assignment : EMPTY,
      })),
      authorizedOperations: -2147483648,
    };
  }

  /** Groups of this partition, filtered by state and type names (case-insensitive; empty = all). */
  listGroups(statesFilter: readonly string[], typesFilter: readonly string[]): ListGroupsResponseListedGroup[] {
    const states = new Set(statesFilter.map((s) => s.toLowerCase()));
    const types = new Set(typesFilter.map((s) => s.toLowerCase()));
    if (types.size > 0 && !types.has('classic')) return [];
    return [...this.#groups.values()]
      .filter((g) => !g.is(GroupState.DEAD) && (states.size === 0 || states.has(g.state.toLowerCase())))
      .map((g) => ({ groupId: g.groupId, protocolType: g.protocolType ?? '', groupState: g.state, groupType: 'classic' }));
  }

  deleteGroup(ctx: OperationContext, groupId: string): number {
    const group = this.#groups.get(groupId);
    if (group === undefined || group.is(GroupState.DEAD)) return ErrorCode.GROUP_ID_NOT_FOUND;
    if (!group.is(GroupState.EMPTY)) return ErrorCode.NON_EMPTY_GROUP;
    for (const { topic, partition } of this.#offsets.list(groupId)) {
      this.#offsets.delete(groupId, topic, partition);
      ctx.append(offsetTombstone(groupId, topic, partition));
    }
    for (const memberId of [...group.pendingMembers]) this.#env.timer.cancel(heartbeatKey(groupId, memberId));
    group.pendingMembers.clear();
    this.#maybeDeleteEmptyGroup(ctx, group);
    return ErrorCode.NONE;
  }

  #groupMetadataRecord(group: ClassicGroup): CoordinatorRecord {
    const protocol = group.protocolName;
    return groupMetadataRecord(group.groupId, {
      protocolType: group.protocolType ?? '',
      generation: group.generationId,
      protocol,
      leader: group.leaderId,
      currentStateTimestamp: BigInt(group.stateTimestamp ?? -1),
      members:
        protocol === null
          ? []
          : [...group.members.values()].map((m) => ({
              memberId: m.memberId,
              groupInstanceId: m.groupInstanceId,
              clientId: m.clientId,
              clientHost: m.clientHost,
              rebalanceTimeout: m.rebalanceTimeoutMs,
              sessionTimeout: m.sessionTimeoutMs,
              subscription: m.metadataFor(protocol),
              assignment: m.assignment,
            })),
    });
  }
}

function protocolsOf(req: JoinGroupRequest): MemberProtocol[] {
  return req.protocols.map((p) => ({ name: p.name, metadata: Buffer.from(p.metadata) }));
}

function groupByTopic(pairs: readonly (readonly [string, number])[]): OffsetFetchTopics[] {
  const byTopic = new Map<string, number[]>();
  for (const [topic, partition] of pairs) {
    let list = byTopic.get(topic);
    if (list === undefined) byTopic.set(topic, (list = []));
    list.push(partition);
  }
  return [...byTopic].map(([name, partitionIndexes]) => ({ name, partitionIndexes }));
}
