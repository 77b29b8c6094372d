// InitProducerId (key 22), v0–5, for idempotent producers: a request without a transactional id gets a
// fresh producer id (from controller-allocated blocks, never reused) with epoch 0. As in Kafka 3.9, a
// producer id and epoch sent to bump the epoch (KIP-360, v3+) are only checked for consistency (both
// set or neither) — a non-transactional producer always gets a new id.
//
// Transactions are not served yet: a transactional id is answered as a broker that does not host the
// transaction coordinator for it answers (NOT_COORDINATOR), after the same request checks Kafka's
// coordinator makes first (empty id → INVALID_REQUEST; timeout outside (0, transaction.max.timeout.ms]
// → INVALID_TRANSACTION_TIMEOUT).
import { InitProducerIdApi } from '../../protocol/generated/apis.js';
import type { InitProducerIdResponse } from '../../protocol/generated/messages/init-producer-id.js';
import { ErrorCode } from '../../protocol/errors.js';
import type { MetadataView } from '../metadata-view.js';
import { ProducerIdUnavailable, type ProducerIdSource } from '../producer-id-manager.js';
import { defineHandler } from '../registry.js';

const NO_PRODUCER_ID = -1n;
const NO_PRODUCER_EPOCH = -1;
/** Kafka's transaction.max.timeout.ms default (15 minutes). */
export const DEFAULT_TRANSACTION_MAX_TIMEOUT_MS = 900_000;

const failure = (errorCode: number): InitProducerIdResponse =>
  ({ throttleTimeMs: 0, errorCode, producerId: NO_PRODUCER_ID, producerEpoch: NO_PRODUCER_EPOCH });

export interface InitProducerIdDeps {
  readonly producerIds: ProducerIdSource;
  /** For transaction.max.timeout.ms; Kafka's default when absent. */
  readonly metadata?: MetadataView;
}

export function initProducerIdHandler(deps: InitProducerIdDeps) {
  return defineHandler(InitProducerIdApi, {
    minVersion: 0,
    maxVersion: 5,
    async handle(_ctx, request): Promise<InitProducerIdResponse> {
      const givenId = request.producerId !== NO_PRODUCER_ID;
      const givenEpoch = request.producerEpoch !== NO_PRODUCER_EPOCH;
      if (givenId !== givenEpoch) return failure(ErrorCode.INVALID_REQUEST);

      const txnId = request.transactionalId;
      if (txnId !== null) {
        if (txnId === '') return failure(ErrorCode.INVALID_REQUEST);
        const max = deps.metadata?.intSetting('transaction.max.timeout.ms', DEFAULT_TRANSACTION_MAX_TIMEOUT_MS) ?? DEFAULT_TRANSACTION_MAX_TIMEOUT_MS;
        if (request.transactionTimeoutMs <= 0 || request.transactionTimeoutMs > max) return failure(ErrorCode.INVALID_TRANSACTION_TIMEOUT);
        return failure(ErrorCode.NOT_COORDINATOR);
      }
      try {
        const id = await deps.producerIds.generate();
        return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, producerId: BigInt(id), producerEpoch: 0 };
      } catch (e) {
        if (e instanceof ProducerIdUnavailable) return failure(e.errorCode);
        return failure(ErrorCode.UNKNOWN_SERVER_ERROR);
      }
    },
  });
}
