// TxnOffsetCommit (key 28), v0–4: a transactional producer commits a group's offsets inside its
// transaction. They are written to the group's __consumer_offsets partition as a transactional batch of
// the producer (so a restart finds them again) and stay pending (OffsetFetch with require_stable answers UNSTABLE_OFFSET_COMMIT)
// until the transaction's marker makes them committed or drops them.
//
// KIP-890 on the offsets side (Kafka 3.8+): unless the producer's transaction is already open on the group's
// __consumer_offsets partition, the partition hands out a verification guard, the transaction coordinator
// confirms the partition is in the ongoing transaction (AddOffsetsToTxn), and the write presents the guard:
// a marker that completes the transaction in between spends the guard and the write is refused
// (INVALID_TXN_STATE), so offsets can never outlive or escape the transaction that sent them. The write
// and the pending offsets it leaves are serialized with that partition's markers (see TxnOffsetLog).
import { TxnOffsetCommitApi } from '../../protocol/generated/apis.js';
import type { TxnOffsetCommitRequest, TxnOffsetCommitResponse } from '../../protocol/generated/messages/txn-offset-commit.js';
import { GROUP_METADATA_TOPIC_NAME } from '../../coordinator/txn/transaction-coordinator.js';
import { ErrorCode } from '../../protocol/errors.js';
import { VerificationGuard } from '../../storage/producer-state.js';
import type { PendingOffset, TxnHandlerDeps } from '../txn-handlers.js';
import { defineHandler } from '../registry.js';

function answerAll(request: TxnOffsetCommitRequest, errorCode: number): TxnOffsetCommitResponse {
  return {
    throttleTimeMs: 0,
    topics: request.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode })) })),
  };
}

export interface TxnOffsetCommitDeps extends Pick<TxnHandlerDeps, 'groups' | 'pendingOffsets'> {
  readonly coordinator: Pick<TxnHandlerDeps['coordinator'], 'handleVerifyPartitions'>;
}

export function txnOffsetCommitHandler(deps: TxnOffsetCommitDeps) {
  return defineHandler(TxnOffsetCommitApi, {
    minVersion: 0,
    maxVersion: 4,
    async handle(ctx, request): Promise<TxnOffsetCommitResponse> {
      if (request.groupId === '') return answerAll(request, ErrorCode.INVALID_GROUP_ID);
      const producerId = Number(request.producerId);
      const groupPartition = deps.groups.partitionFor(request.groupId);
      // The guard is taken before the coordinator answers, so that a marker written after its answer voids it.
      const started = await deps.pendingOffsets.startVerification(producerId, request.producerEpoch, groupPartition);
      if ('errorCode' in started) return answerAll(request, started.errorCode);
      const guard = started.guard;
      let code: number = ErrorCode.NONE;
      if (guard !== VerificationGuard.SENTINEL) {
        const [verified] = await deps.coordinator.handleVerifyPartitions(request.transactionalId, producerId, request.producerEpoch, [
          { topic: GROUP_METADATA_TOPIC_NAME, partition: groupPartition },
        ]);
        code = verified?.errorCode ?? ErrorCode.UNKNOWN_SERVER_ERROR;
        // TRANSACTION_ABORTABLE is only understood by newer clients; PRODUCER_FENCED from v2's clients on.
        if (code === ErrorCode.TRANSACTION_ABORTABLE) code = ErrorCode.INVALID_TXN_STATE;
        if (code === ErrorCode.PRODUCER_FENCED && ctx.apiVersion < 2) code = ErrorCode.INVALID_PRODUCER_EPOCH;
        // The transaction coordinator's own availability is not the group's: the client retries either way.
        if (code === ErrorCode.NOT_COORDINATOR || code === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS) code = ErrorCode.COORDINATOR_LOAD_IN_PROGRESS;
        if (code !== ErrorCode.NONE) return answerAll(request, code);
      }
      code = await deps.groups.validateTxnOffsetCommit(request.groupId, request.memberId, request.groupInstanceId, request.generationId);
      if (code !== ErrorCode.NONE) return answerAll(request, code);

      const maxMetadata = deps.groups.config.offsetMetadataMaxBytes;
      const now = Date.now();
      const accepted: PendingOffset[] = [];
      const response = {
        throttleTimeMs: 0,
        topics: request.topics.map((t) => ({
          name: t.name,
          partitions: t.partitions.map((p) => {
            const metadata = p.committedMetadata ?? '';
            if (metadata.length > maxMetadata) return { partitionIndex: p.partitionIndex, errorCode: ErrorCode.OFFSET_METADATA_TOO_LARGE };
            accepted.push({
              groupId: request.groupId,
              topic: t.name,
              partition: p.partitionIndex,
              offset: Number(p.committedOffset),
              leaderEpoch: p.committedLeaderEpoch,
              metadata,
              commitTimestamp: now,
            });
            return { partitionIndex: p.partitionIndex, errorCode: ErrorCode.NONE };
          }),
        })),
      };
      if (accepted.length > 0) {
        const persisted = await deps.pendingOffsets.persist(producerId, request.producerEpoch, groupPartition, accepted, guard);
        if (persisted !== ErrorCode.NONE) return answerAll(request, persisted);
      }
      return response;
    },
  });
}
