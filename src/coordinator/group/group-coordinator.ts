// The group coordinator service: routes each group's requests to the runtime partition that owns it
// (Kafka's group-id hash over __consumer_offsets), checks what Kafka checks before the state machine,
// shapes responses per API version, and turns runtime failures (NOT_COORDINATOR,
// COORDINATOR_LOAD_IN_PROGRESS, ...) into error codes. API handlers call it with decoded requests and
// encode what it returns.
import { randomUUID } from 'node:crypto';
import { ErrorCode } from '../../protocol/errors.js';
import type { DeleteGroupsResponseDeletableGroupResult } from '../../protocol/generated/messages/delete-groups.js';
import type { DescribeGroupsResponseDescribedGroup } from '../../protocol/generated/messages/describe-groups.js';
import type { HeartbeatRequest, HeartbeatResponse } from '../../protocol/generated/messages/heartbeat.js';
import type { JoinGroupRequest, JoinGroupResponse } from '../../protocol/generated/messages/join-group.js';
import type { LeaveGroupRequest, LeaveGroupRequestMemberIdentity, LeaveGroupResponse } from '../../protocol/generated/messages/leave-group.js';
import type { ListGroupsRequest, ListGroupsResponse } from '../../protocol/generated/messages/list-groups.js';
import type { OffsetCommitRequest, OffsetCommitResponse } from '../../protocol/generated/messages/offset-commit.js';
import type { OffsetDeleteRequest, OffsetDeleteResponse } from '../../protocol/generated/messages/offset-delete.js';
import type { OffsetFetchRequest, OffsetFetchResponse, OffsetFetchResponseGroup } from '../../protocol/generated/messages/offset-fetch.js';
import type { SyncGroupRequest, SyncGroupResponse } from '../../protocol/generated/messages/sync-group.js';
import { errorCodeOf } from '../errors.js';
import { CoordinatorRuntime } from '../runtime.js';
import type { CoordinatorLog } from '../runtime.js';
import type { Scheduler } from '../scheduler.js';
import { groupCoordinatorConfig } from './config.js';
import type { GroupCoordinatorConfig } from './config.js';
import { GroupCoordinatorShard } from './group-shard.js';
import type { GroupRequestContext, OffsetFetchTopics, PendingTransactionalOffsets, TransactionalOffset } from './group-shard.js';
export type { TransactionalOffset } from './group-shard.js';
import { groupPartitionFor } from './partitioner.js';

export interface GroupCoordinatorOptions {
  readonly config?: Partial<GroupCoordinatorConfig>;
  readonly scheduler: Scheduler;
  /** The __consumer_offsets partition log, from the replication layer. */
  readonly logFor: (partition: number) => CoordinatorLog;
  /** Random part of new member ids; a UUID by default. */
  readonly newMemberIdSuffix?: () => string;
  readonly pendingTransactionalOffsets?: PendingTransactionalOffsets;
  readonly onShardFailure?: (partition: number, epoch: number, error: unknown) => void;
}

const EMPTY: Buffer = Buffer.alloc(0);

export class GroupCoordinator {
  readonly config: GroupCoordinatorConfig;
  readonly runtime: CoordinatorRuntime<GroupCoordinatorShard>;

  constructor(opts: GroupCoordinatorOptions) {
    const config = groupCoordinatorConfig(opts.config);
    this.config = config;
    const newMemberIdSuffix = opts.newMemberIdSuffix ?? (() => randomUUID());
    const pendingTransactionalOffsets = opts.pendingTransactionalOffsets;
    this.runtime = new CoordinatorRuntime<GroupCoordinatorShard>({
      scheduler: opts.scheduler,
      logFor: opts.logFor,
      createShard: (env) => new GroupCoordinatorShard(env, { config, newMemberIdSuffix, pendingTransactionalOffsets }),
      onShardFailure: opts.onShardFailure,
    });
  }

  /** The __consumer_offsets partition that coordinates `groupId`. */
  partitionFor(groupId: string): number {
    return groupPartitionFor(groupId, this.config.offsetsTopicNumPartitions);
  }

  /** This broker became leader of a __consumer_offsets partition. */
  onElection(partition: number, epoch: number): Promise<void> {
    return this.runtime.load(partition, epoch);
  }

  /** This broker stopped leading a __consumer_offsets partition. */
  onResignation(partition: number, epoch?: number): void {
    this.runtime.unload(partition, epoch);
  }

  close(): void {
    this.runtime.close();
  }

  async joinGroup(rc: GroupRequestContext, req: JoinGroupRequest): Promise<JoinGroupResponse> {
    let response: JoinGroupResponse;
    if (req.groupId === '') {
      response = joinFailure(req.memberId, ErrorCode.INVALID_GROUP_ID);
    } else {
      try {
        response = await this.runtime.scheduleWrite(this.partitionFor(req.groupId), (shard, ctx) => shard.joinGroup(ctx, rc, req));
      } catch (e) {
        response = joinFailure(req.memberId, errorCodeOf(e));
      }
    }
    // Before v7 the protocol name is not nullable.
    if (rc.apiVersion < 7 && response.protocolName === null) response = { ...response, protocolName: '' };
    return response;
  }

  async syncGroup(_rc: GroupRequestContext, req: SyncGroupRequest): Promise<SyncGroupResponse> {
    const failure = (errorCode: number): SyncGroupResponse => ({ throttleTimeMs: 0, errorCode, protocolType: null, protocolName: null, assignment: EMPTY });
    if (req.groupId === '') return failure(ErrorCode.INVALID_GROUP_ID);
    try {
      return await this.runtime.scheduleWrite(this.partitionFor(req.groupId), (shard, ctx) => shard.syncGroup(ctx, req));
    } catch (e) {
      return failure(errorCodeOf(e));
    }
  }

  async heartbeat(_rc: GroupRequestContext, req: HeartbeatRequest): Promise<HeartbeatResponse> {
    if (req.groupId === '') return { throttleTimeMs: 0, errorCode: ErrorCode.INVALID_GROUP_ID };
    try {
      const errorCode = await this.runtime.scheduleWrite(this.partitionFor(req.groupId), (shard, ctx) => shard.heartbeat(ctx, req));
      return { throttleTimeMs: 0, errorCode };
    } catch (e) {
      return { throttleTimeMs: 0, errorCode: errorCodeOf(e) };
    }
  }

  async leaveGroup(rc: GroupRequestContext, req: LeaveGroupRequest): Promise<LeaveGroupResponse> {
    // Before v3 a request names one member; it answers with one top-level error.
    const batched = rc.apiVersion >= 3;
    const leaving: LeaveGroupRequestMemberIdentity[] = batched
      ? req.members
      : [{ memberId: req.memberId, groupInstanceId: null, reason: null }];
    let result: { errorCode: number; members: LeaveGroupResponse['members'] };
    if (req.groupId === '') {
      result = { errorCode: ErrorCode.INVALID_GROUP_ID, members: [] };
    } else {
      try {
        result = await this.runtime.scheduleWrite(this.partitionFor(req.groupId), (shard, ctx) => shard.leaveGroup(ctx, req.groupId, leaving));
      } catch (e) {
        result = { errorCode: errorCodeOf(e), members: [] };
      }
    }
    if (batched) return { throttleTimeMs: 0, errorCode: result.errorCode, members: result.members };
    const errorCode = result.errorCode !== ErrorCode.NONE ? result.errorCode : (result.members[0]?.errorCode ?? ErrorCode.NONE);
    return { throttleTimeMs: 0, errorCode, members: [] };
  }

  async commitOffsets(rc: GroupRequestContext, req: OffsetCommitRequest): Promise<OffsetCommitResponse> {
    // An empty group id is allowed here: very old consumers committed under it.
    try {
      const topics = await this.runtime.scheduleWrite(this.partitionFor(req.groupId), (shard, ctx) => shard.commitOffsets(ctx, rc, req));
      return { throttleTimeMs: 0, topics };
    } catch (e) {
      const errorCode = errorCodeOf(e);
      return {
        throttleTimeMs: 0,
        topics: req.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode })) })),
      };
    }
  }

  /** One group's committed offsets (`topics` null = all of them). */
  async fetchGroupOffsets(groupId: string, topics: readonly OffsetFetchTopics[] | null, requireStable: boolean): Promise<OffsetFetchResponseGroup> {
    try {
      return await this.runtime.scheduleRead(this.partitionFor(groupId), (shard) => shard.fetchOffsets(groupId, topics, requireStable));
    } catch (e) {
      return { groupId, errorCode: errorCodeOf(e), topics: [] };
    }
  }

  /** OffsetFetch in every version: one group before v8, a batch of groups from v8. */
  async fetchOffsets(rc: GroupRequestContext, req: OffsetFetchRequest): Promise<OffsetFetchResponse> {
    if (rc.apiVersion >= 8) {
      const groups = await Promise.all(req.groups.map((g) => this.fetchGroupOffsets(g.groupId, g.topics, req.requireStable)));
      return { throttleTimeMs: 0, topics: [], errorCode: ErrorCode.NONE, groups };
    }
    const g = await this.fetchGroupOffsets(req.groupId, req.topics, req.requireStable);
    if (g.errorCode !== ErrorCode.NONE && rc.apiVersion < 2) {
      // v0–v1 have no group-level error: every requested partition carries it.
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.NONE,
        groups: [],
        topics: (req.topics ?? []).map((t) => ({
          name: t.name,
          partitions: t.partitionIndexes.map((partitionIndex) => ({ partitionIndex, committedOffset: -1n, committedLeaderEpoch: -1, metadata: '', errorCode: g.errorCode })),
        })),
      };
    }
    return { throttleTimeMs: 0, errorCode: g.errorCode, groups: [], topics: g.topics };
  }

  async describeGroups(_rc: GroupRequestContext, groupIds: readonly string[]): Promise<DescribeGroupsResponseDescribedGroup[]> {
    return Promise.all(
      groupIds.map(async (groupId) => {
        try {
          return await this.runtime.scheduleRead(this.partitionFor(groupId), (shard) => shard.describeGroup(groupId));
        } catch (e) {
          return { errorCode: errorCodeOf(e), groupId, groupState: '', protocolType: '', protocolData: '', members: [], authorizedOperations: -2147483648 };
        }
      }),
    );
  }

  /** Groups of every partition this broker coordinates; a partition still loading sets the error. */
  async listGroups(_rc: GroupRequestContext, req: ListGroupsRequest): Promise<ListGroupsResponse> {
    let errorCode: number = this.runtime.loadingPartitions().length > 0 ? ErrorCode.COORDINATOR_LOAD_IN_PROGRESS : ErrorCode.NONE;
    const parts = await Promise.all(
      this.runtime.activePartitions().map(async (p) => {
        try {
          return await this.runtime.scheduleRead(p, (shard) => shard.listGroups(req.statesFilter, req.typesFilter));
        } catch (e) {
          errorCode = errorCodeOf(e);
          return [];
        }
      }),
    );
    return { throttleTimeMs: 0, errorCode, groups: parts.flat() };
  }

  async deleteGroups(_rc: GroupRequestContext, groupIds: readonly string[]): Promise<DeleteGroupsResponseDeletableGroupResult[]> {
    return Promise.all(
      groupIds.map(async (groupId) => {
        try {
          const errorCode = await this.runtime.scheduleWrite(this.partitionFor(groupId), (shard, ctx) => shard.deleteGroup(ctx, groupId));
          return { groupId, errorCode };
        } catch (e) {
          return { groupId, errorCode: errorCodeOf(e) };
        }
      }),
    );
  }

  async deleteOffsets(_rc: GroupRequestContext, req: OffsetDeleteRequest): Promise<OffsetDeleteResponse> {
    if (req.groupId === '') return { errorCode: ErrorCode.INVALID_GROUP_ID, throttleTimeMs: 0, topics: [] };
    try {
      return await this.runtime.scheduleWrite(this.partitionFor(req.groupId), (shard, ctx) => shard.deleteOffsets(ctx, req.groupId, req.topics));
    } catch (e) {
      return { errorCode: errorCodeOf(e), throttleTimeMs: 0, topics: [] };
    }
  }

  /**
   * TxnOffsetCommit's group check (Kafka validates the member only when the request names one); the
   * offsets themselves wait outside the group for their transaction's marker.
   */
  async validateTxnOffsetCommit(groupId: string, memberId: string, groupInstanceId: string | null, generationId: number): Promise<number> {
    try {
      return await this.runtime.scheduleRead(this.partitionFor(groupId), (shard) => shard.validateTxnOffsetCommit(groupId, memberId, groupInstanceId, generationId));
    } catch (e) {
      return errorCodeOf(e);
    }
  }

  /** A COMMIT marker reached the group's partition: its transactional offsets become committed offsets. */
  async commitTransactionalOffsets(groupId: string, offsets: readonly TransactionalOffset[]): Promise<number> {
    try {
      await this.runtime.scheduleWrite(this.partitionFor(groupId), (shard, ctx) => shard.commitTransactionalOffsets(ctx, groupId, offsets));
      return ErrorCode.NONE;
    } catch (e) {
      return errorCodeOf(e);
    }
  }

  /** Topics were deleted: drop their committed offsets in every group this broker coordinates. */
  async onTopicsDeleted(topics: readonly string[]): Promise<void> {
    const names = new Set(topics);
    await Promise.all(
      this.runtime.activePartitions().map((p) => this.runtime.scheduleWrite(p, (shard, ctx) => shard.onTopicsDeleted(ctx, names)).catch(() => undefined)),
    );
  }
}

function joinFailure(memberId: string, errorCode: number): JoinGroupResponse {
  return { throttleTimeMs: 0, errorCode, generationId: -1, protocolType: null, protocolName: null, leader: '', skipAssignment: false, memberId, members: [] };
}
