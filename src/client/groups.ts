// Consumer groups as an operator sees them, against any Kafka-compatible broker: find a group's
// coordinator, list and describe groups, read and write committed offsets, compute lag, plan and apply an
// offset reset (Kafka's kafka-consumer-groups.sh rules), delete groups. Group membership itself (joining,
// heartbeats) is the consumers' business and is not here.
import { ApiKey, type ApiMessages } from '../protocol/generated/apis.js';
import { decodeConsumerProtocolAssignment } from '../protocol/generated/data/consumer-protocol-assignment.js';
import { ErrorCode } from '../protocol/errors.js';
import { Reader } from '../protocol/reader.js';
import { StrataError } from '../protocol/strata-error.js';
import type { SendOptions } from './connection.js';
import { KafkaResponseError } from './errors.js';
import { COORDINATOR_ERRORS, CoordinatorKeyType, findCoordinatorOf, withCoordinatorRetries, type RetryOptions } from './coordinator-lookup.js';
import type { KafkaClient } from './kafka-client.js';

export type GroupsOptions = RetryOptions;

export interface GroupListing {
  readonly groupId: string;
  readonly protocolType: string;
  /** Empty when the broker is older than ListGroups v4. */
  readonly state: string;
  readonly coordinator: number;
}

export interface TopicPartitionRef {
  readonly topic: string;
  readonly partition: number;
}

export interface GroupMember {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly clientId: string;
  readonly clientHost: string;
  /** Decoded from the consumer protocol; empty for other protocol types or while rebalancing. */
  readonly assignment: readonly TopicPartitionRef[];
}

export interface GroupDescription {
  readonly groupId: string;
  readonly state: string;
  readonly protocolType: string;
  readonly protocol: string;
  readonly coordinator: number;
  readonly members: readonly GroupMember[];
}

export interface CommittedOffset extends TopicPartitionRef {
  readonly offset: number;
  readonly leaderEpoch: number;
  readonly metadata: string | null;
}

export interface OffsetToCommit extends TopicPartitionRef {
  readonly offset: number;
  readonly metadata?: string | null;
  readonly leaderEpoch?: number;
}

/** Who commits: a member of the current generation, or (the default) a client outside the group. */
export interface CommitIdentity {
  readonly generationId: number;
  readonly memberId: string;
  readonly groupInstanceId?: string | null;
}

export interface CommitResult extends TopicPartitionRef {
  readonly errorCode: number;
}

export interface PartitionLag extends TopicPartitionRef {
  /** null when the group has no committed offset for the partition. */
  readonly committed: number | null;
  readonly logEndOffset: number;
  /** null without a committed offset. */
  readonly lag: number | null;
  readonly memberId: string | null;
  readonly clientId: string | null;
  readonly clientHost: string | null;
}

export type OffsetResetSpec =
  | { readonly to: 'earliest' }
  | { readonly to: 'latest' }
  | { readonly to: 'offset'; readonly offset: number }
  | { readonly to: 'timestamp'; readonly timestamp: number }
  | { readonly to: 'shift-by'; readonly shift: number };

export interface PlannedReset extends TopicPartitionRef {
  readonly current: number | null;
  readonly target: number;
}

/** The broker coordinating `groupId` (FindCoordinator, batched form from v4). */
export function findCoordinator(client: KafkaClient, groupId: string, opts: GroupsOptions = {}): Promise<number> {
  return findCoordinatorOf(client, CoordinatorKeyType.group, groupId, `group '${groupId}'`, opts);
}

/** One request to the group's coordinator; coordinator errors (via `errorOf`) look it up again and retry. */
async function toCoordinator<K extends keyof ApiMessages, R>(
  client: KafkaClient,
  groupId: string,
  apiKey: K,
  build: (version: number) => ApiMessages[K]['request'],
  answer: (response: ApiMessages[K]['response'], version: number) => { errorCode: number; value: R },
  opts: GroupsOptions & { send?: SendOptions } = {},
): Promise<{ value: R; coordinator: number }> {
  return withCoordinatorRetries(opts, async () => {
    const coordinator = await findCoordinator(client, groupId, opts);
    const { response, version } = await client.send({ nodeId: coordinator }, apiKey, build, opts.send);
    const { errorCode, value } = answer(response, version);
    if (COORDINATOR_ERRORS.has(errorCode)) throw new KafkaResponseError(errorCode, { subject: `group '${groupId}'` });
    return { value, coordinator };
  });
}

const groupError = (groupId: string, errorCode: number): KafkaResponseError =>
  new KafkaResponseError(errorCode, { subject: `group '${groupId}'`, retriable: false });

/** Every group of every broker (ListGroups is answered per coordinator), sorted by id. */
export async function listGroups(client: KafkaClient, opts: { states?: readonly string[] } = {}): Promise<GroupListing[]> {
  const cluster = await client.describeCluster();
  const out: GroupListing[] = [];
  await Promise.all(
    cluster.brokers.map(async (b) => {
      const { response } = await client.send({ nodeId: b.nodeId }, ApiKey.ListGroups, { statesFilter: [...(opts.states ?? [])], typesFilter: [] },
        { minVersion: opts.states !== undefined && opts.states.length > 0 ? 4 : 0 });
      if (response.errorCode !== ErrorCode.NONE) throw new KafkaResponseError(response.errorCode, { subject: `the groups of broker ${b.nodeId}` });
      for (const g of response.groups) out.push({ groupId: g.groupId, protocolType: g.protocolType, state: g.groupState, coordinator: b.nodeId });
    }),
  );
  return out.sort((a, b) => (a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0));
}

/** A member's partitions from its consumer-protocol assignment bytes (empty when not decodable). */
export function decodeAssignment(buf: Buffer): TopicPartitionRef[] {
  if (buf.length < 2) return [];
  try {
    const version = buf.readInt16BE(0);
    const a = decodeConsumerProtocolAssignment(new Reader(buf, 2), Math.min(Math.max(version, 0), 3));
    return a.assignedPartitions.flatMap((t) => t.partitions.map((partition) => ({ topic: t.topic, partition })));
  } catch {
    return [];
  }
}

/** State, protocol and members of a group; a group that does not exist is described as Dead. */
export async function describeGroup(client: KafkaClient, groupId: string, opts: GroupsOptions = {}): Promise<GroupDescription> {
  const { value: g, coordinator } = await toCoordinator(client, groupId, ApiKey.DescribeGroups,
    () => ({ groups: [groupId], includeAuthorizedOperations: false }),
    (r) => ({ errorCode: r.groups[0]?.errorCode ?? ErrorCode.UNKNOWN_SERVER_ERROR, value: r.groups[0] }), opts);
  if (g === undefined || g.errorCode !== ErrorCode.NONE) throw groupError(groupId, g?.errorCode ?? ErrorCode.UNKNOWN_SERVER_ERROR);
  const consumer = g.protocolType === 'consumer' || g.protocolType === '';
  return {
    groupId,
    state: g.groupState,
    protocolType: g.protocolType,
    protocol: g.protocolData,
    coordinator,
    members: g.members.map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      clientId: m.clientId,
      clientHost: m.clientHost,
      assignment: consumer ? decodeAssignment(m.memberAssignment) : [],
    })),
  };
}

/** Committed offsets of a group: all of them, or those of the listed partitions (those without one omitted). */
export async function fetchCommittedOffsets(client: KafkaClient, groupId: string, partitions?: readonly TopicPartitionRef[],
  opts: GroupsOptions = {}): Promise<CommittedOffset[]> {
  const topics = partitions === undefined ? null : byTopic(partitions).map(([name, ps]) => ({ name, partitionIndexes: ps }));
  const { value } = await toCoordinator(client, groupId, ApiKey.OffsetFetch,
    (v) => v >= 8
      ? { groupId: '', topics: [], requireStable: true, groups: [{ groupId, memberId: null, memberEpoch: -1, topics }] }
      : { groupId, topics: topics ?? (v >= 2 ? null : []), requireStable: v >= 7, groups: [] },
    (r, v) => {
      const g = v >= 8 ? r.groups[0] : { errorCode: v >= 2 ? r.errorCode : ErrorCode.NONE, topics: r.topics };
      const first = g?.topics.flatMap((t) => t.partitions).find((p) => p.errorCode !== ErrorCode.NONE)?.errorCode;
      return { errorCode: g === undefined ? ErrorCode.UNKNOWN_SERVER_ERROR : g.errorCode !== ErrorCode.NONE ? g.errorCode : (first ?? ErrorCode.NONE), value: g };
    },
    { ...opts, send: { minVersion: partitions === undefined ? 2 : 0 } });
  if (value === undefined) throw groupError(groupId, ErrorCode.UNKNOWN_SERVER_ERROR);
  if (value.errorCode !== ErrorCode.NONE) throw groupError(groupId, value.errorCode);
  const out: CommittedOffset[] = [];
  for (const t of value.topics) {
    for (const p of t.partitions) {
      if (p.errorCode !== ErrorCode.NONE) throw new KafkaResponseError(p.errorCode, { subject: `group '${groupId}' offset of ${t.name}-${p.partitionIndex}`, retriable: false });
      if (p.committedOffset < 0n) continue;
      out.push({ topic: t.name, partition: p.partitionIndex, offset: Number(p.committedOffset), leaderEpoch: p.committedLeaderEpoch, metadata: p.metadata });
    }
  }
  return out.sort(byTopicPartition);
}

/** Commits offsets for a group, by default as a client outside the group (generation -1, as the tools do). */
export async function commitOffsets(client: KafkaClient, groupId: string, offsets: readonly OffsetToCommit[],
  identity: CommitIdentity = { generationId: -1, memberId: '' }, opts: GroupsOptions = {}): Promise<CommitResult[]> {
  const grouped = new Map<string, OffsetToCommit[]>();
  for (const o of offsets) grouped.set(o.topic, [...(grouped.get(o.topic) ?? []), o]);
  const { value } = await toCoordinator(client, groupId, ApiKey.OffsetCommit,
    () => ({
      groupId,
      generationIdOrMemberEpoch: identity.generationId,
      memberId: identity.memberId,
      groupInstanceId: identity.groupInstanceId ?? null,
      retentionTimeMs: -1n,
      topics: [...grouped].map(([name, ps]) => ({
        name,
        partitions: ps.map((p) => ({
          partitionIndex: p.partition,
          committedOffset: BigInt(p.offset),
          committedLeaderEpoch: p.leaderEpoch ?? -1,
          commitTimestamp: -1n,
          committedMetadata: p.metadata ?? '',
        })),
      })),
    }),
    (r) => {
      const results = r.topics.flatMap((t) => t.partitions.map((p) => ({ topic: t.name, partition: p.partitionIndex, errorCode: p.errorCode })));
      return { errorCode: results.find((x) => COORDINATOR_ERRORS.has(x.errorCode))?.errorCode ?? ErrorCode.NONE, value: results };
    }, opts);
  return value.sort(byTopicPartition);
}

/** Deletes groups (each must be empty); per group, null or the error. */
export async function deleteGroups(client: KafkaClient, groupIds: readonly string[], opts: GroupsOptions = {}): Promise<{ groupId: string; error: KafkaResponseError | null }[]> {
  return Promise.all(groupIds.map(async (groupId) => {
    const { value: errorCode } = await toCoordinator(client, groupId, ApiKey.DeleteGroups, () => ({ groupsNames: [groupId] }),
      (r) => {
        const code = r.results.find((x) => x.groupId === groupId)?.errorCode ?? ErrorCode.UNKNOWN_SERVER_ERROR;
        return { errorCode: code, value: code };
      }, opts);
    return { groupId, error: errorCode === ErrorCode.NONE ? null : groupError(groupId, errorCode) };
  }));
}

/**
 * Per partition the group has an offset for or is assigned: committed offset, log end offset and lag,
 * with the member consuming it (as kafka-consumer-groups.sh --describe shows).
 */
export async function groupLag(client: KafkaClient, groupId: string, opts: GroupsOptions = {}): Promise<{ group: GroupDescription; partitions: PartitionLag[] }> {
  const [group, committed] = await Promise.all([describeGroup(client, groupId, opts), fetchCommittedOffsets(client, groupId, undefined, opts)]);
  const owner = new Map<string, GroupMember>();
  for (const m of group.members) for (const tp of m.assignment) owner.set(`${tp.topic}\0${tp.partition}`, m);
  const key = (tp: TopicPartitionRef): string => `${tp.topic}\0${tp.partition}`;
  const all = new Map<string, TopicPartitionRef>();
  for (const c of committed) all.set(key(c), c);
  for (const m of group.members) for (const tp of m.assignment) all.set(key(tp), tp);
  const ends = await logEndOffsets(client, [...all.values()]);
  const committedBy = new Map(committed.map((c) => [key(c), c.offset]));
  const partitions = [...all.values()].sort(byTopicPartition).map((tp): PartitionLag => {
    const c = committedBy.get(key(tp)) ?? null;
    const end = ends.get(key(tp)) ?? -1;
    const m = owner.get(key(tp));
    return {
      topic: tp.topic,
      partition: tp.partition,
      committed: c,
      logEndOffset: end,
      lag: c === null || end < 0 ? null : Math.max(0, end - c),
      memberId: m?.memberId ?? null,
      clientId: m?.clientId ?? null,
      clientHost: m?.clientHost ?? null,
    };
  });
  return { group, partitions };
}

async function offsetsFor(client: KafkaClient, partitions: readonly TopicPartitionRef[],
  spec: 'earliest' | 'latest' | { timestamp: number }): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  await Promise.all(byTopic(partitions).map(async ([topic, ps]) => {
    for (const o of await client.listOffsets(topic, spec, ps)) out.set(`${topic}\0${o.partition}`, o.offset);
  }));
  return out;
}

const logEndOffsets = (client: KafkaClient, partitions: readonly TopicPartitionRef[]): Promise<Map<string, number>> =>
  offsetsFor(client, partitions, 'latest');

/**
 * The offsets a reset would commit, as kafka-consumer-groups.sh computes them: targets are clamped to
 * [log start, log end]; a timestamp with no later record goes to the log end; shift-by moves from the
 * committed offset and refuses a partition without one. `targets` lists what to reset; a partition of
 * -1 means every partition of that topic.
 */
export async function planOffsetReset(client: KafkaClient, groupId: string, targets: readonly TopicPartitionRef[],
  spec: OffsetResetSpec, opts: GroupsOptions = {}): Promise<PlannedReset[]> {
  const partitions: TopicPartitionRef[] = [];
  for (const t of targets) {
    if (t.partition >= 0) partitions.push(t);
    else for (const p of (await client.describeTopics([t.topic]))[0]?.partitions ?? []) partitions.push({ topic: t.topic, partition: p.partition });
  }
  if (partitions.length === 0) throw new StrataError('ERR_CONFIG', 'no partition to reset');
  const key = (tp: TopicPartitionRef): string => `${tp.topic}\0${tp.partition}`;
  const [committed, starts, ends] = await Promise.all([
    fetchCommittedOffsets(client, groupId, partitions, opts),
    offsetsFor(client, partitions, 'earliest'),
    offsetsFor(client, partitions, 'latest'),
  ]);
  const current = new Map(committed.map((c) => [key(c), c.offset]));
  const byTime = spec.to === 'timestamp' ? await offsetsFor(client, partitions, { timestamp: spec.timestamp }) : undefined;
  return partitions.sort(byTopicPartition).map((tp) => {
    const k = key(tp);
    const start = starts.get(k) ?? 0;
    const end = ends.get(k) ?? 0;
    const cur = current.get(k) ?? null;
    let target: number;
    switch (spec.to) {
      case 'earliest': target = start; break;
      case 'latest': target = end; break;
      case 'offset': target = spec.offset; break;
      case 'timestamp': {
        const found = byTime!.get(k) ?? -1;
        target = found < 0 ? end : found;
        break;
      }
      case 'shift-by':
        if (cur === null) throw new StrataError('ERR_CONFIG', `cannot shift the offset of ${tp.topic}-${tp.partition}: the group has no committed offset for it`);
        target = cur + spec.shift;
        break;
    }
    return { topic: tp.topic, partition: tp.partition, current: cur, target: Math.min(Math.max(target, start), end) };
  });
}

/**
 * Commits a planned reset. As Kafka's tool, only while the group has no active members (Empty or Dead):
 * a live consumer would overwrite the reset with its own next commit.
 */
export async function applyOffsetReset(client: KafkaClient, groupId: string, plan: readonly PlannedReset[], opts: GroupsOptions = {}): Promise<CommitResult[]> {
  const group = await describeGroup(client, groupId, opts);
  if (group.state !== 'Empty' && group.state !== 'Dead') {
    throw new StrataError('ERR_STATE', `group '${groupId}' is ${group.state} with ${group.members.length} member(s): stop its consumers before resetting offsets`);
  }
  const results = await commitOffsets(client, groupId, plan.map((p) => ({ topic: p.topic, partition: p.partition, offset: p.target })), undefined, opts);
  const failed = results.find((r) => r.errorCode !== ErrorCode.NONE);
  if (failed !== undefined) throw new KafkaResponseError(failed.errorCode, { subject: `group '${groupId}' offset of ${failed.topic}-${failed.partition}`, retriable: false });
  return results;
}

function byTopic(partitions: readonly TopicPartitionRef[]): [string, number[]][] {
  const m = new Map<string, number[]>();
  for (const p of partitions) m.set(p.topic, [...(m.get(p.topic) ?? []), p.partition]);
  return [...m];
}

function byTopicPartition(a: TopicPartitionRef, b: TopicPartitionRef): number {
  return a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition;
}
