// OffsetForLeaderEpoch (key 23), v0–4: for each partition, the largest epoch ≤ the requested one and the
// offset where it ends, from the leader-epoch cache. Followers use it to find where to truncate; consumers
// (v3+, replica id -1) to detect log truncation after a leader change. Only the leader answers, except to
// the debugging replica id -2.
import { OffsetForLeaderEpochApi } from '../../protocol/generated/apis.js';
import type { OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse } from '../../protocol/generated/messages/offset-for-leader-epoch.js';
import { ErrorCode } from '../../protocol/errors.js';
import type { DataPathDeps } from '../data-path-deps.js';
import { defineHandler, type ApiHandler } from '../registry.js';
import { hasPartition } from '../topic-lookup.js';

const DEBUGGING_REPLICA_ID = -2;

export function offsetForLeaderEpochHandler(deps: DataPathDeps): ApiHandler<OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse> {
  return defineHandler(OffsetForLeaderEpochApi, {
    minVersion: 0,
    maxVersion: 4,
    handle(ctx, request) {
      const fetchOnlyFromLeader = request.replicaId !== DEBUGGING_REPLICA_ID;
      return {
        throttleTimeMs: 0,
        topics: request.topics.map((t) => ({
          topic: t.topic,
          partitions: t.partitions.map((p) => {
            if (!hasPartition(deps.topics, t.topic, p.partition)) {
              return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, partition: p.partition, leaderEpoch: -1, endOffset: -1n };
            }
            const currentLeaderEpoch = ctx.apiVersion >= 2 ? p.currentLeaderEpoch : -1;
            const r = deps.replicaManager.lastOffsetForLeaderEpoch({ topic: t.topic, partition: p.partition }, currentLeaderEpoch, p.leaderEpoch, fetchOnlyFromLeader);
            return { errorCode: r.errorCode, partition: p.partition, leaderEpoch: r.leaderEpoch, endOffset: BigInt(r.endOffset) };
          }),
        })),
      };
    },
  });
}
