// Transaction state while the cleaner walks a log in offset order (Kafka's CleanedTransactionMetadata):
// which batches belong to aborted transactions (their records go), and when a COMMIT or ABORT marker has
// no data left behind it (then it may go too, once its delete horizon passes). Fed the aborted
// transactions of the range from the transaction indexes.
import { CONTROL_FLAG, TRANSACTIONAL_FLAG, type BatchHeader } from '../../protocol/records/batch-header.js';
import type { AbortedTxn } from './cleaned-segment.js';

export const ControlType = { abort: 0, commit: 1 } as const;

interface OngoingAborted {
  readonly txn: AbortedTxn;
  /** Whether any data batch of the transaction was seen in this pass. */
  sawBatch: boolean;
}

export class TransactionTracker {
  /** Aborted transactions not yet reached, by first offset. */
  #pending: AbortedTxn[] = [];
  readonly #ongoingAborted = new Map<number, OngoingAborted>();
  readonly #ongoingCommitted = new Set<number>();
  /** Where a retained ABORT marker's transaction is re-recorded (the cleaned segment's txn index). */
  onRetainedAbort: ((txn: AbortedTxn) => void) | undefined;

  constructor(aborted: readonly AbortedTxn[] = []) {
    this.addAbortedTransactions(aborted);
  }

  addAbortedTransactions(aborted: readonly AbortedTxn[]): void {
    this.#pending = [...this.#pending, ...aborted].sort((a, b) => a.firstOffset - b.firstOffset);
  }

  #consumeAbortedUpTo(offset: number): void {
    let i = 0;
    while (i < this.#pending.length && this.#pending[i]!.firstOffset <= offset) {
      const txn = this.#pending[i]!;
      this.#ongoingAborted.set(txn.producerId, { txn, sawBatch: false });
      i++;
    }
    if (i > 0) this.#pending = this.#pending.slice(i);
  }

  /** A data batch: returns true when it belongs to an aborted transaction (its records are discarded). */
  onBatchRead(h: BatchHeader): boolean {
    this.#consumeAbortedUpTo(h.baseOffset + h.lastOffsetDelta);
    if ((h.attributes & TRANSACTIONAL_FLAG) === 0) return false;
    const aborted = this.#ongoingAborted.get(h.producerId);
    if (aborted !== undefined) {
      aborted.sawBatch = true;
      return true;
    }
    this.#ongoingCommitted.add(h.producerId);
    return false;
  }

  /**
   * A control batch with its record's control type: returns true when the marker's transaction has no
   * data batch in the part of the log walked so far, so the marker itself may be removed.
   */
  onControlBatchRead(h: BatchHeader, controlType: number | undefined): boolean {
    if ((h.attributes & CONTROL_FLAG) === 0) return false;
    this.#consumeAbortedUpTo(h.baseOffset + h.lastOffsetDelta);
    if (controlType === ControlType.abort) {
      const aborted = this.#ongoingAborted.get(h.producerId);
      this.#ongoingAborted.delete(h.producerId);
      if (aborted?.sawBatch) {
        // The marker stays until its data is gone; so does the transaction's index entry.
        this.onRetainedAbort?.(aborted.txn);
        return false;
      }
      return true;
    }
    if (controlType === ControlType.commit) return !this.#ongoingCommitted.delete(h.producerId);
    return false;
  }
}
