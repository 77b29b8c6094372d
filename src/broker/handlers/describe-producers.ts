// DescribeProducers (key 61), v0: the producers with state on each requested partition (the leader's
// view): id, epoch, last sequence and timestamp, coordinator epoch and the open transaction's first offset.
import { DescribeProducersApi } from '../../protocol/generated/apis.js';
import type { DescribeProducersRequest, DescribeProducersResponse } from '../../protocol/generated/messages/describe-producers.js';
import { ErrorCode } from '../../protocol/errors.js';
import { errorCodeOf, errorMessageOf } from '../../replication/errors.js';
import type { DataPathDeps } from '../data-path-deps.js';
import { defineHandler, type ApiHandler } from '../registry.js';
import { hasPartition } from '../topic-lookup.js';

export function describeProducersHandler(deps: DataPathDeps): ApiHandler<DescribeProducersRequest, DescribeProducersResponse> {
  return defineHandler(DescribeProducersApi, {
    minVersion: 0,
    maxVersion: 0,
    handle(_ctx, request) {
      return {
        throttleTimeMs: 0,
        topics: request.topics.map((t) => ({
          name: t.name,
          partitions: t.partitionIndexes.map((partitionIndex) => {
            if (!hasPartition(deps.topics, t.name, partitionIndex)) {
              return { partitionIndex, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: null, activeProducers: [] };
            }
            try {
              const producers = deps.replicaManager.describeProducers({ topic: t.name, partition: partitionIndex });
              return {
                partitionIndex,
                errorCode: ErrorCode.NONE,
                errorMessage: null,
                activeProducers: producers.map((p) => ({
                  producerId: BigInt(p.producerId),
                  producerEpoch: p.producerEpoch,
                  lastSequence: p.lastSequence,
                  lastTimestamp: BigInt(p.lastTimestamp),
                  coordinatorEpoch: p.coordinatorEpoch,
                  currentTxnStartOffset: BigInt(p.currentTxnStartOffset),
                })),
              };
            } catch (e) {
              return { partitionIndex, errorCode: errorCodeOf(e), errorMessage: errorMessageOf(e), activeProducers: [] };
            }
          }),
        })),
      };
    },
  });
}
