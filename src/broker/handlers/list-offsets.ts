// ListOffsets (key 2), v0–9: the offset for a timestamp (-1 latest, -2 earliest, -3 max timestamp (v7+),
// -4 earliest local (v8+), -5 latest tiered (v9+), or the first offset at or after a time). v0 answers the
// old way, with a list of offsets. A partition named twice (v1+) is INVALID_REQUEST. Consumers see offsets
// bounded by the high watermark, read_committed ones by the last stable offset; replicas and the debugging
// replica id -2 are not bounded, and -2 may ask a non-leader.
import { ListOffsetsApi } from '../../protocol/generated/apis.js';
import type {
  ListOffsetsRequest,
  ListOffsetsResponse,
  ListOffsetsResponseListOffsetsPartitionResponse,
} from '../../protocol/generated/messages/list-offsets.js';
import { ErrorCode } from '../../protocol/errors.js';
import { errorCodeOf } from '../../replication/errors.js';
import type { DataPathDeps } from '../data-path-deps.js';
import { defineHandler, type ApiHandler } from '../registry.js';
import { hasPartition } from '../topic-lookup.js';

const CONSUMER_REPLICA_ID = -1;
const DEBUGGING_REPLICA_ID = -2;

const answer = (partitionIndex: number, errorCode: number, timestamp = -1, offset = -1, leaderEpoch = -1, oldStyleOffsets: number[] = []):
  ListOffsetsResponseListOffsetsPartitionResponse => ({
  partitionIndex,
  errorCode,
  oldStyleOffsets: oldStyleOffsets.map((o) => BigInt(o)),
  timestamp: BigInt(timestamp),
  offset: BigInt(offset),
  leaderEpoch,
});

export function listOffsetsHandler(deps: DataPathDeps): ApiHandler<ListOffsetsRequest, ListOffsetsResponse> {
  return defineHandler(ListOffsetsApi, {
    minVersion: 0,
    maxVersion: 9,
    async handle(ctx, request) {
      const version = ctx.apiVersion;
      const rm = deps.replicaManager;
      // Only consumers (-1) are bounded by the HW or LSO; replicas and the debugging id -2 see the log end.
      const isolation = request.replicaId === CONSUMER_REPLICA_ID ? request.isolationLevel : undefined;
      const fetchOnlyFromLeader = request.replicaId !== DEBUGGING_REPLICA_ID;
      const seen = new Map<string, number>();
      for (const t of request.topics) for (const p of t.partitions) seen.set(`${t.name}:${p.partitionIndex}`, (seen.get(`${t.name}:${p.partitionIndex}`) ?? 0) + 1);
      const topics = await Promise.all(request.topics.map(async (t) => ({
        name: t.name,
        partitions: await Promise.all(t.partitions.map(async (p) => {
          if (!hasPartition(deps.topics, t.name, p.partitionIndex)) return answer(p.partitionIndex, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
          const tp = { topic: t.name, partition: p.partitionIndex };
          const timestamp = Number(p.timestamp);
          try {
            if (version === 0) {
              const offsets = await rm.legacyOffsets(tp, timestamp, p.maxNumOffsets);
              return answer(p.partitionIndex, ErrorCode.NONE, -1, -1, -1, offsets);
            }
            if (seen.get(`${t.name}:${p.partitionIndex}`)! > 1) return answer(p.partitionIndex, ErrorCode.INVALID_REQUEST);
            const found = await rm.fetchOffsetForTimestamp(tp, timestamp, isolation, version >= 4 ? p.currentLeaderEpoch : -1, fetchOnlyFromLeader);
            return found === undefined
              ? answer(p.partitionIndex, ErrorCode.NONE)
              : answer(p.partitionIndex, ErrorCode.NONE, found.timestamp, found.offset, version >= 4 ? found.leaderEpoch : -1);
          } catch (e) {
            return answer(p.partitionIndex, errorCodeOf(e));
          }
        })),
      })));
      return { throttleTimeMs: 0, topics };
    },
  });
}
