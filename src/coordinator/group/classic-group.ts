// A classic (JoinGroup/SyncGroup) group and its members: the data and the invariants of Kafka's
// ClassicGroup, without the protocol flows (those live in group-shard.ts).
import { ErrorCode } from '../../protocol/errors.js';
import { decodeConsumerProtocolSubscription } from '../../protocol/generated/data/consumer-protocol-subscription.js';
import type { JoinGroupResponse, JoinGroupResponseMember } from '../../protocol/generated/messages/join-group.js';
import type { SyncGroupResponse } from '../../protocol/generated/messages/sync-group.js';
import { Reader } from '../../protocol/reader.js';
import { StrataError } from '../../protocol/strata-error.js';
import type { Deferred } from '../deferred.js';

export const GroupState = {
  EMPTY: 'Empty',
  PREPARING_REBALANCE: 'PreparingRebalance',
  COMPLETING_REBALANCE: 'CompletingRebalance',
  STABLE: 'Stable',
  DEAD: 'Dead',
} as const;
export type GroupStateName = (typeof GroupState)[keyof typeof GroupState];

const VALID_PREVIOUS: Record<GroupStateName, readonly GroupStateName[]> = {
  Empty: ['PreparingRebalance'],
  PreparingRebalance: ['Stable', 'CompletingRebalance', 'Empty'],
  CompletingRebalance: ['PreparingRebalance'],
  Stable: ['CompletingRebalance'],
  Dead: ['Stable', 'PreparingRebalance', 'CompletingRebalance', 'Empty', 'Dead'],
};

export const CONSUMER_PROTOCOL_TYPE = 'consumer';
const EMPTY: Buffer = Buffer.alloc(0);

export interface MemberProtocol {
  readonly name: string;
  readonly metadata: Buffer;
}

export class ClassicGroupMember {
  memberId: string;
  readonly groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  rebalanceTimeoutMs: number;
  sessionTimeoutMs: number;
  readonly protocolType: string;
  protocols: readonly MemberProtocol[];
  assignment: Buffer = EMPTY;
  /** A JoinGroup waiting for the rebalance to complete. */
  awaitingJoin: Deferred<JoinGroupResponse> | null = null;
  /** A SyncGroup waiting for the leader's assignment. */
  awaitingSync: Deferred<SyncGroupResponse> | null = null;
  /** Joined but not yet through a completed join phase: bounded by the new-member join timeout. */
  isNew = false;

  constructor(init: {
    memberId: string;
    groupInstanceId: string | null;
    clientId: string;
    clientHost: string;
    rebalanceTimeoutMs: number;
    sessionTimeoutMs: number;
    protocolType: string;
    protocols: readonly MemberProtocol[];
  }) {
    this.memberId = init.memberId;
    this.groupInstanceId = init.groupInstanceId;
    this.clientId = init.clientId;
    this.clientHost = init.clientHost;
    this.rebalanceTimeoutMs = init.rebalanceTimeoutMs;
    this.sessionTimeoutMs = init.sessionTimeoutMs;
    this.protocolType = init.protocolType;
    this.protocols = init.protocols;
  }

  metadataFor(protocol: string): Buffer {
    const p = this.protocols.find((x) => x.name === protocol);
    if (p === undefined) throw new StrataError('ERR_STATE', `member ${this.memberId} does not support protocol ${protocol}`);
    return p.metadata;
  }

  /** Same protocols, same order, same metadata: a rejoin that changes nothing. */
  matches(protocols: readonly MemberProtocol[]): boolean {
    return (
      protocols.length === this.protocols.length &&
      protocols.every((p, i) => p.name === this.protocols[i]!.name && p.metadata.equals(this.protocols[i]!.metadata))
    );
  }
}

export class ClassicGroup {
  readonly groupId: string;
  state: GroupStateName = GroupState.EMPTY;
  previousState: GroupStateName | undefined;
  /** When the group entered its current state (undefined for groups loaded from old records). */
  stateTimestamp: number | undefined;
  generationId = 0;
  /** Null for a group that only stores offsets (simple consumers). */
  protocolType: string | null = null;
  protocolName: string | null = null;
  leaderId: string | null = null;
  /** In join order: the first member to join leads. */
  readonly members = new Map<string, ClassicGroupMember>();
  /** group.instance.id → member id. */
  readonly staticMembers = new Map<string, string>();
  /** Member ids handed out with MEMBER_ID_REQUIRED whose second JoinGroup has not arrived yet. */
  readonly pendingMembers = new Set<string>();
  /** Members of the current generation that have not sent SyncGroup yet. */
  readonly pendingSyncMembers = new Set<string>();
  /** Topics the members subscribe to, when the group uses the consumer protocol and it parses. */
  subscribedTopics: Set<string> | null = null;
  /** A member joined during the initial rebalance delay, so the delay may be extended. */
  newMemberAdded = false;

  constructor(groupId: string, now?: number) {
    this.groupId = groupId;
    this.stateTimestamp = now;
  }

  is(state: GroupStateName): boolean {
    return this.state === state;
  }

  transitionTo(state: GroupStateName, now: number): void {
    if (!VALID_PREVIOUS[state].includes(this.state)) {
      throw new StrataError('ERR_STATE', `group ${this.groupId} cannot go from ${this.state} to ${state}`);
    }
    this.previousState = this.state;
    this.state = state;
    this.stateTimestamp = now;
  }

  canRebalance(): boolean {
    return this.state === GroupState.STABLE || this.state === GroupState.COMPLETING_REBALANCE || this.state === GroupState.EMPTY;
  }

  isLeader(memberId: string): boolean {
    return this.leaderId === memberId;
  }

  numAwaitingJoin(): number {
    let n = 0;
    for (const m of this.members.values()) if (m.awaitingJoin !== null) n++;
    return n;
  }

  hasAllMembersJoined(): boolean {
    return this.numAwaitingJoin() === this.members.size && this.pendingMembers.size === 0;
  }

  /** The group's rebalance timeout: the longest any member asked for. */
  rebalanceTimeoutMs(): number {
    let t = 0;
    for (const m of this.members.values()) t = Math.max(t, m.rebalanceTimeoutMs);
    return t;
  }

  add(member: ClassicGroupMember): void {
    if (this.members.size === 0) this.protocolType = member.protocolType;
    if (this.leaderId === null) this.leaderId = member.memberId;
    this.members.set(member.memberId, member);
    if (member.groupInstanceId !== null) this.staticMembers.set(member.groupInstanceId, member.memberId);
    this.pendingMembers.delete(member.memberId);
  }

  remove(memberId: string): ClassicGroupMember | undefined {
    const member = this.members.get(memberId);
    if (member === undefined) return undefined;
    this.members.delete(memberId);
    this.pendingSyncMembers.delete(memberId);
    if (member.groupInstanceId !== null && this.staticMembers.get(member.groupInstanceId) === memberId) {
      this.staticMembers.delete(member.groupInstanceId);
    }
    if (this.leaderId === memberId) {
      const next = this.members.keys().next();
      this.leaderId = next.done === true ? null : next.value;
    }
    return member;
  }

  currentStaticMemberId(groupInstanceId: string): string | undefined {
    return this.staticMembers.get(groupInstanceId);
  }

  /**
   * Whether a request from `memberId` (claiming `groupInstanceId`) comes from the current member:
   * NONE, FENCED_INSTANCE_ID for a replaced static instance, else UNKNOWN_MEMBER_ID.
   */
  validateMember(memberId: string, groupInstanceId: string | null): number {
    if (groupInstanceId !== null) {
      const current = this.staticMembers.get(groupInstanceId);
      if (current === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
      if (current !== memberId) return ErrorCode.FENCED_INSTANCE_ID;
    }
    return this.members.has(memberId) ? ErrorCode.NONE : ErrorCode.UNKNOWN_MEMBER_ID;
  }

  /** Re-keys a static member under its new member id, keeping its assignment and leadership. */
  replaceStaticMember(groupInstanceId: string, oldMemberId: string, newMemberId: string): ClassicGroupMember {
    const member = this.members.get(oldMemberId);
    if (member === undefined) throw new StrataError('ERR_STATE', `static member ${groupInstanceId} has no member ${oldMemberId}`);
    this.members.delete(oldMemberId);
    member.memberId = newMemberId;
    this.members.set(newMemberId, member);
    this.staticMembers.set(groupInstanceId, newMemberId);
    if (this.leaderId === oldMemberId) this.leaderId = newMemberId;
    if (this.pendingSyncMembers.delete(oldMemberId)) this.pendingSyncMembers.add(newMemberId);
    return member;
  }

  /** Whether every member (or, for an empty group, the joiner alone) can agree on a protocol. */
  supportsProtocols(protocolType: string, protocolNames: readonly string[]): boolean {
    if (this.state === GroupState.EMPTY) return protocolType !== '' && protocolNames.length > 0;
    if (this.protocolType !== protocolType) return false;
    const counts = this.#supportedProtocolCounts();
    return protocolNames.some((name) => counts.get(name) === this.members.size);
  }

  #supportedProtocolCounts(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const m of this.members.values()) {
      for (const name of new Set(m.protocols.map((p) => p.name))) counts.set(name, (counts.get(name) ?? 0) + 1);
    }
    return counts;
  }

  /**
   * The protocol for the next generation: among those every member supports, the one most members list
   * first among their supported candidates (ties go to the earlier vote).
   */
  selectProtocol(): string {
    const counts = this.#supportedProtocolCounts();
    const candidates = new Set([...counts].filter(([, n]) => n === this.members.size).map(([name]) => name));
    const votes = new Map<string, number>();
    for (const m of this.members.values()) {
      const vote = m.protocols.find((p) => candidates.has(p.name));
      if (vote !== undefined) votes.set(vote.name, (votes.get(vote.name) ?? 0) + 1);
    }
    let best: string | undefined;
    let bestVotes = -1;
    for (const [name, n] of votes) {
      if (n > bestVotes) {
        best = name;
        bestVotes = n;
      }
    }
    if (best === undefined) throw new StrataError('ERR_STATE', `group ${this.groupId} has no protocol all members support`);
    return best;
  }

  /** If the leader did not rejoin, hands leadership to a member that did; false when none did. */
  maybeElectNewJoinedLeader(): boolean {
    if (this.leaderId === null) return false;
    const leader = this.members.get(this.leaderId);
    if (leader !== undefined && leader.awaitingJoin !== null) return true;
    for (const m of this.members.values()) {
      if (m.awaitingJoin !== null) {
        this.leaderId = m.memberId;
        return true;
      }
    }
    return false;
  }

  initNextGeneration(now: number): void {
    this.generationId++;
    if (this.members.size > 0) {
      this.protocolName = this.selectProtocol();
      this.transitionTo(GroupState.COMPLETING_REBALANCE, now);
    } else {
      this.protocolName = null;
      this.transitionTo(GroupState.EMPTY, now);
    }
    this.computeSubscribedTopics();
    this.pendingSyncMembers.clear();
  }

  /** Union of the members' subscriptions when the group runs the consumer protocol, else null. */
  computeSubscribedTopics(): void {
    this.subscribedTopics = null;
    if (this.protocolType !== CONSUMER_PROTOCOL_TYPE || this.protocolName === null || this.members.size === 0) return;
    const topics = new Set<string>();
    for (const m of this.members.values()) {
      const parsed = subscribedTopicsOf(m.metadataFor(this.protocolName));
      if (parsed === null) return;
      for (const t of parsed) topics.add(t);
    }
    this.subscribedTopics = topics;
  }

  isSubscribedToTopic(topic: string): boolean {
    return this.subscribedTopics?.has(topic) ?? false;
  }

  /** Members and their metadata for the selected protocol, as the leader's JoinGroup response lists them. */
  currentMemberMetadata(): JoinGroupResponseMember[] {
    const protocol = this.protocolName;
    if (protocol === null) return [];
    return [...this.members.values()].map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, metadata: m.metadataFor(protocol) }));
  }
}

/**
 * Topics of a ConsumerProtocolSubscription (int16 version, then the struct), or null when it does not
 * parse. Newer versions only append fields, so they are read as the newest we know, as Kafka does.
 * Unlike Kafka, a subscription cut short after its topic list (kafkajs declares v1 but writes no owned
 * partitions) still yields its topics: knowing them keeps OffsetDelete and offset expiry from touching
 * offsets the group still consumes.
 */
export function subscribedTopicsOf(metadata: Buffer): string[] | null {
  let version: number;
  try {
    version = new Reader(metadata).int16('version');
  } catch {
    return null;
  }
  if (version < 0) return null;
  for (const v of version > 0 ? [Math.min(version, 3), 0] : [0]) {
    try {
      const r = new Reader(metadata, 2);
      return decodeConsumerProtocolSubscription(r, v).topics;
    } catch {
      // try the older layout
    }
  }
  return null;
}
