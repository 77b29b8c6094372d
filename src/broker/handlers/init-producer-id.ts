// InitProducerId (key 22), v0–5, for idempotent producers: a request without a transactional id gets a
// fresh producer id (from controller-allocated blocks, never reused) with epoch 0. As in Kafka 3.9, a
// producer id and epoch sent to bump the epoch (KIP-360, v3+) are only checked for consistency (both
// set or neither) — a non-transactional producer always gets a new id.
//
// A transactional id goes to the transaction coordinator when the node runs one (epoch bump, zombie
// fencing, KIP-360 recovery). Without one it is answered as a broker that does not host the coordinator
// for it (NOT_COORDINATOR), after the checks Kafka's coordinator makes first (empty id → INVALID_REQUEST;
// timeout outside (0, transaction.max.timeout.ms] → INVALID_TRANSACTION_TIMEOUT).
import { InitProducerIdApi } from '../../protocol/generated/apis.js';
import type { InitProducerIdRequest, InitProducerIdResponse } from '../../protocol/generated/messages/init-producer-id.js';
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

/** The transaction coordinator's InitProducerId. */
export interface TransactionalInitProducerId {
  initProducerId(apiVersion: number, request: InitProducerIdRequest): Promise<InitProducerIdResponse>;
}

export interface InitProducerIdDeps {
  /** Serves transactional ids; read on every request (the coordinator may be created after the handler). */
  readonly transactions?: () => TransactionalInitProducerId | undefined;
  readonly producerIds: ProducerIdSource;
  /** For transaction.max.timeout.ms; Kafka's default when absent. */
  readonly metadata?: MetadataView;
}

export function initProducerIdHandler(deps: InitProducerIdDeps) {
  return defineHandler(InitProducerIdApi, {
    minVersion: 0,
    maxVersion: 5,
    async handle(ctx, request): Promise<InitProducerIdResponse> {
      const givenId = request.producerId !== NO_PRODUCER_ID;
      const givenEpoch = request.producerEpoch !== NO_PRODUCER_EPOCH;
      if (givenId !== givenEpoch) return failure(ErrorCode.INVALID_REQUEST);

      const txnId = request.transactionalId;
      const transactions = txnId !== null ? deps.transactions?.() : undefined;
      if (transactions !== undefined) return transactions.initProducerId(ctx.apiVersion, request);
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
