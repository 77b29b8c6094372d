// The __transaction_state records, written exactly as Kafka 3.9 writes them so that the topic is
// byte-compatible: key version 0 (the transactional id) and TransactionLogValue version 0 (or 1, the
// flexible version Kafka writes once transaction.version ≥ 1). An expired id is a tombstone.
import type { TransactionLogValue } from '../../protocol/generated/coordinator/transaction-log-value.js';
import {
  decodeTransactionCoordinatorKey,
  decodeTransactionCoordinatorValue,
  encodeTransactionCoordinatorKey,
  encodeTransactionCoordinatorValue,
  transactionCoordinatorTypeOf,
} from '../../protocol/generated/transaction-coordinator-records.js';
import { Reader } from '../../protocol/reader.js';
import { StrataError } from '../../protocol/strata-error.js';
import { Writer } from '../../protocol/writer.js';
import type { CoordinatorRecord } from '../runtime.js';
import { NO_PRODUCER_EPOCH, NO_PRODUCER_ID, PartitionSet, TransactionMetadata, TransactionState, transactionStateFromId } from './transaction-metadata.js';
import type { TxnTransit } from './transaction-metadata.js';

export const TRANSACTION_LOG_KEY_VERSION = 0;

function bytesOf(write: (w: Writer) => void): Buffer {
  const w = new Writer(64);
  write(w);
  return w.toBuffer();
}

export function transactionLogKey(transactionalId: string): Buffer {
  return bytesOf((w) => encodeTransactionCoordinatorKey(w, { type: 'TransactionLog', version: TRANSACTION_LOG_KEY_VERSION, key: { transactionalId } }));
}

/** The record of one transition. Only states Kafka writes may be written (not Dead, not PrepareEpochFence). */
export function transactionLogRecord(transactionalId: string, t: TxnTransit, valueVersion: 0 | 1): CoordinatorRecord {
  if (t.state === TransactionState.DEAD || t.state === TransactionState.PREPARE_EPOCH_FENCE) {
    throw new StrataError('ERR_STATE', `state ${t.state} is never written to __transaction_state`);
  }
  if (t.state === TransactionState.EMPTY && t.partitions.size > 0) {
    throw new StrataError('ERR_STATE', `transactional id ${transactionalId} is Empty but has partitions`);
  }
  const value: TransactionLogValue = {
    producerId: BigInt(t.producerId),
    producerEpoch: t.producerEpoch,
    transactionTimeoutMs: t.txnTimeoutMs,
    transactionStatus: t.state,
    // Kafka writes no partition list at all (null) for Empty, and a possibly empty list otherwise.
    transactionPartitions: t.state === TransactionState.EMPTY ? null : t.partitions.byTopic().map((g) => ({ topic: g.topic, partitionIds: g.partitions })),
    transactionLastUpdateTimestampMs: BigInt(t.txnLastUpdateTimestamp),
    transactionStartTimestampMs: BigInt(t.txnStartTimestamp),
  };
  return {
    key: transactionLogKey(transactionalId),
    value: bytesOf((w) => encodeTransactionCoordinatorValue(w, { type: 'TransactionLog', version: valueVersion, value })),
  };
}

export function transactionLogTombstone(transactionalId: string): CoordinatorRecord {
  return { key: transactionLogKey(transactionalId), value: null };
}

export type DecodedTransactionRecord =
  | { readonly kind: 'txn'; readonly transactionalId: string; readonly metadata: TransactionMetadata | null }
  | { readonly kind: 'other' };

/**
 * Reads a __transaction_state record back into metadata, as Kafka's loader does: the previous producer
 * id and epoch are not in the record, so they come back unknown (a KIP-360 retry that spans a
 * coordinator move is then fenced, which Kafka accepts as rare). Keys of other versions are skipped so
 * that a partition written by a later Kafka stays loadable; an unknown value version is corruption.
 */
export function decodeTransactionRecord(record: CoordinatorRecord): DecodedTransactionRecord {
  if (record.key.length < 2 || transactionCoordinatorTypeOf(record.key.readInt16BE(0)) === undefined) return { kind: 'other' };
  const kr = new Reader(record.key);
  const key = decodeTransactionCoordinatorKey(kr);
  kr.ensureEnd('transaction log key');
  const transactionalId = key.key.transactionalId;
  if (record.value === null) return { kind: 'txn', transactionalId, metadata: null };
  const vr = new Reader(record.value);
  const { value: v } = decodeTransactionCoordinatorValue(vr, 'TransactionLog');
  const state = transactionStateFromId(v.transactionStatus);
  const partitions = new PartitionSet();
  if (state !== TransactionState.EMPTY) {
    for (const g of v.transactionPartitions ?? []) for (const partition of g.partitionIds) partitions.add({ topic: g.topic, partition });
  }
  const metadata = new TransactionMetadata(transactionalId, {
    producerId: Number(v.producerId),
    lastProducerId: NO_PRODUCER_ID,
    producerEpoch: v.producerEpoch,
    lastProducerEpoch: NO_PRODUCER_EPOCH,
    txnTimeoutMs: v.transactionTimeoutMs,
    state,
    partitions,
    txnStartTimestamp: Number(v.transactionStartTimestampMs),
    txnLastUpdateTimestamp: Number(v.transactionLastUpdateTimestampMs),
  });
  return { kind: 'txn', transactionalId, metadata };
}
