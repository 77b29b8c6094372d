// The transaction APIs, ready to register: AddPartitionsToTxn, AddOffsetsToTxn, EndTxn, WriteTxnMarkers,
// TxnOffsetCommit, DescribeTransactions and ListTransactions. Each is a thin handler over the
// TransactionCoordinator (src/coordinator/txn), which checks the requests and shapes the answers; markers
// are written by the node's marker writer and transactional offsets wait in its pending-offset store.
// InitProducerId with a transactional id is routed to the same coordinator by its own handler.
import type { GroupCoordinator, TransactionalOffset } from '../coordinator/group/group-coordinator.js';
import type { TxnMarkerSender } from '../coordinator/txn/marker-dispatcher.js';
import type { TransactionCoordinator } from '../coordinator/txn/transaction-coordinator.js';
import type { VerificationGuard } from '../storage/producer-state.js';
import { addOffsetsToTxnHandler } from './handlers/add-offsets-to-txn.js';
import { addPartitionsToTxnHandler } from './handlers/add-partitions-to-txn.js';
import { describeTransactionsHandler } from './handlers/describe-transactions.js';
import { endTxnHandler } from './handlers/end-txn.js';
import { listTransactionsHandler } from './handlers/list-transactions.js';
import { txnOffsetCommitHandler } from './handlers/txn-offset-commit.js';
import { writeTxnMarkersHandler } from './handlers/write-txn-markers.js';
import type { HandlerRegistry } from './registry.js';

/** One transactional offset of a group, waiting for its transaction's marker. */
export interface PendingOffset extends TransactionalOffset {
  readonly groupId: string;
}

/** Where TxnOffsetCommit leaves offsets until the marker. */
export interface PendingOffsetStore {
  /**
   * KIP-890 on __consumer_offsets, before the transaction coordinator is asked: the group partition's
   * verification guard for the producer. The sentinel means there is nothing to ask (the producer's
   * transaction is already open there at this epoch, or verification is off); an error code means this
   * node cannot take the write.
   */
  startVerification(producerId: number, producerEpoch: number, groupPartition: number): Promise<{ readonly guard: VerificationGuard } | { readonly errorCode: number }>;
  /**
   * Records the offsets durably (a transactional batch of the producer in the group's __consumer_offsets
   * partition, as Kafka writes them, presenting `guard`) and holds them until the marker; answers the error
   * code (INVALID_TXN_STATE when a marker of the producer overtook the verification).
   */
  persist(producerId: number, producerEpoch: number, groupPartition: number, offsets: readonly PendingOffset[], guard: VerificationGuard): Promise<number>;
}

export interface TxnHandlerDeps {
  readonly coordinator: TransactionCoordinator;
  /** Writes markers to the partitions this broker leads (WriteTxnMarkers). */
  readonly markers: TxnMarkerSender;
  /** The group coordinator (TxnOffsetCommit checks the group with it). */
  readonly groups: GroupCoordinator;
  readonly pendingOffsets: PendingOffsetStore;
}

/** Registers the seven transaction APIs on `registry`; returns the registry. */
export function registerTxnHandlers(registry: HandlerRegistry, deps: TxnHandlerDeps): HandlerRegistry {
  return registry
    .register(addPartitionsToTxnHandler(deps))
    .register(addOffsetsToTxnHandler(deps))
    .register(endTxnHandler(deps))
    .register(writeTxnMarkersHandler(deps))
    .register(txnOffsetCommitHandler(deps))
    .register(describeTransactionsHandler(deps))
    .register(listTransactionsHandler(deps));
}
