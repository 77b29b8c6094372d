// DeleteRecords (key 21), v0–2: moves each partition's log start offset forward (offset -1: to the high
// watermark) and answers the new low watermark. Refused past the high watermark (OFFSET_OUT_OF_RANGE) and
// on topics without the delete cleanup policy (POLICY_VIOLATION).
import { DeleteRecordsApi } from '../../protocol/generated/apis.js';
import type { DeleteRecordsRequest, DeleteRecordsResponse } from '../../protocol/generated/messages/delete-records.js';
import { ErrorCode } from '../../protocol/errors.js';
import type { DataPathDeps } from '../data-path-deps.js';
import { defineHandler, type ApiHandler } from '../registry.js';
import { hasPartition } from '../topic-lookup.js';

export function deleteRecordsHandler(deps: DataPathDeps): ApiHandler<DeleteRecordsRequest, DeleteRecordsResponse> {
  return defineHandler(DeleteRecordsApi, {
    minVersion: 0,
    maxVersion: 2,
    async handle(_ctx, request) {
      const topics = await Promise.all(request.topics.map(async (t) => ({
        name: t.name,
        partitions: await Promise.all(t.partitions.map(async (p) => {
          if (!hasPartition(deps.topics, t.name, p.partitionIndex)) {
            return { partitionIndex: p.partitionIndex, lowWatermark: -1n, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
          }
          const r = await deps.replicaManager.deleteRecords({ topic: t.name, partition: p.partitionIndex }, Number(p.offset), request.timeoutMs);
          return { partitionIndex: p.partitionIndex, lowWatermark: BigInt(r.lowWatermark), errorCode: r.errorCode };
        })),
      })));
      return { throttleTimeMs: 0, topics };
    },
  });
}
