// One transactional id's state as Kafka 3.9's TransactionMetadata keeps it: the producer id and epoch it
// maps to (and the previous ones, for KIP-360 retries), the transaction timeout, the transaction state and
// the partitions of the open transaction.
//
// Transitions follow Kafka's two steps: a `prepare…` method computes the target (`TxnTransit`) and checks
// that the state machine allows it, without touching anything; the shard writes the target as a
// __transaction_state record and then `apply`s it, which re-checks the invariants Kafka checks when it
// completes a transition. Unlike Kafka there is no "pending state" between the two: the coordinator runtime
// runs one operation at a time and applies before the write commits (its answers wait for the commit, and
// a failed write reloads the partition from the log), so a transition is never half done.
import { ErrorCode } from '../../protocol/errors.js';
import { StrataError } from '../../protocol/strata-error.js';

export const TransactionState = {
  EMPTY: 0,
  ONGOING: 1,
  PREPARE_COMMIT: 2,
  PREPARE_ABORT: 3,
  COMPLETE_COMMIT: 4,
  COMPLETE_ABORT: 5,
  DEAD: 6,
  PREPARE_EPOCH_FENCE: 7,
} as const;
export type TransactionState = (typeof TransactionState)[keyof typeof TransactionState];

/** The names DescribeTransactions / ListTransactions use (and accept as filters). */
export const TRANSACTION_STATE_NAMES: Readonly<Record<TransactionState, string>> = {
  [TransactionState.EMPTY]: 'Empty',
  [TransactionState.ONGOING]: 'Ongoing',
  [TransactionState.PREPARE_COMMIT]: 'PrepareCommit',
  [TransactionState.PREPARE_ABORT]: 'PrepareAbort',
  [TransactionState.COMPLETE_COMMIT]: 'CompleteCommit',
  [TransactionState.COMPLETE_ABORT]: 'CompleteAbort',
  [TransactionState.DEAD]: 'Dead',
  [TransactionState.PREPARE_EPOCH_FENCE]: 'PrepareEpochFence',
};

const ALL_STATES: readonly TransactionState[] = Object.values(TransactionState);

export function transactionStateFromName(name: string): TransactionState | undefined {
  return ALL_STATES.find((s) => TRANSACTION_STATE_NAMES[s] === name);
}

export function transactionStateFromId(id: number): TransactionState {
  const s = ALL_STATES.find((x) => x === id);
  if (s === undefined) throw new StrataError('ERR_DECODE', `unknown transaction state id ${id}`);
  return s;
}

/** Kafka's TransactionState.validPreviousStates: the states each state may be entered from. */
const VALID_PREVIOUS: Readonly<Record<TransactionState, readonly TransactionState[]>> = {
  [TransactionState.EMPTY]: [TransactionState.EMPTY, TransactionState.COMPLETE_COMMIT, TransactionState.COMPLETE_ABORT],
  [TransactionState.ONGOING]: [TransactionState.ONGOING, TransactionState.EMPTY, TransactionState.COMPLETE_COMMIT, TransactionState.COMPLETE_ABORT],
  [TransactionState.PREPARE_COMMIT]: [TransactionState.ONGOING],
  [TransactionState.PREPARE_ABORT]: [TransactionState.ONGOING, TransactionState.PREPARE_EPOCH_FENCE],
  [TransactionState.COMPLETE_COMMIT]: [TransactionState.PREPARE_COMMIT],
  [TransactionState.COMPLETE_ABORT]: [TransactionState.PREPARE_ABORT],
  [TransactionState.DEAD]: [TransactionState.EMPTY, TransactionState.COMPLETE_ABORT, TransactionState.COMPLETE_COMMIT],
  [TransactionState.PREPARE_EPOCH_FENCE]: [TransactionState.ONGOING],
};

export function isValidTransition(from: TransactionState, to: TransactionState): boolean {
  return VALID_PREVIOUS[to].includes(from);
}

/** States in which an idle transactional id may be expired (transactional.id.expiration.ms). */
export function isExpirationAllowed(state: TransactionState): boolean {
  return state === TransactionState.EMPTY || state === TransactionState.COMPLETE_COMMIT || state === TransactionState.COMPLETE_ABORT;
}

export const NO_PRODUCER_ID = -1;
export const NO_PRODUCER_EPOCH = -1;
const SHORT_MAX = 32767;

/**
 * No client may use the epoch Short.MAX_VALUE, so that the coordinator can always fence the current
 * producer by one more bump; at MAX - 1 the next InitProducerId hands out a new producer id instead.
 */
export function isEpochExhausted(epoch: number): boolean {
  return epoch >= SHORT_MAX - 1;
}

export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

/** Partitions of a transaction, grouped by topic in insertion order (as the log value groups them). */
export class PartitionSet {
  readonly #byTopic = new Map<string, Set<number>>();

  constructor(partitions: Iterable<TopicPartition> = []) {
    for (const tp of partitions) this.add(tp);
  }

  add(tp: TopicPartition): void {
    let s = this.#byTopic.get(tp.topic);
    if (s === undefined) this.#byTopic.set(tp.topic, (s = new Set()));
    s.add(tp.partition);
  }

  delete(tp: TopicPartition): void {
    const s = this.#byTopic.get(tp.topic);
    if (s === undefined) return;
    s.delete(tp.partition);
    if (s.size === 0) this.#byTopic.delete(tp.topic);
  }

  has(tp: TopicPartition): boolean {
    return this.#byTopic.get(tp.topic)?.has(tp.partition) ?? false;
  }

  get size(): number {
    let n = 0;
    for (const s of this.#byTopic.values()) n += s.size;
    return n;
  }

  containsAll(other: Iterable<TopicPartition>): boolean {
    for (const tp of other) if (!this.has(tp)) return false;
    return true;
  }

  equals(other: PartitionSet): boolean {
    return this.size === other.size && this.containsAll(other.list());
  }

  union(other: Iterable<TopicPartition>): PartitionSet {
    const out = new PartitionSet(this.list());
    for (const tp of other) out.add(tp);
    return out;
  }

  list(): TopicPartition[] {
    const out: TopicPartition[] = [];
    for (const [topic, s] of this.#byTopic) for (const partition of s) out.push({ topic, partition });
    return out;
  }

  byTopic(): { topic: string; partitions: number[] }[] {
    return [...this.#byTopic].map(([topic, s]) => ({ topic, partitions: [...s] }));
  }
}

/** The target of one transition: what the __transaction_state record says and what `apply` installs. */
export interface TxnTransit {
  readonly producerId: number;
  readonly lastProducerId: number;
  readonly producerEpoch: number;
  readonly lastProducerEpoch: number;
  readonly txnTimeoutMs: number;
  readonly state: TransactionState;
  readonly partitions: PartitionSet;
  /** -1 while no transaction is open. */
  readonly txnStartTimestamp: number;
  readonly txnLastUpdateTimestamp: number;
}

export type Prepared = { readonly ok: true; readonly transit: TxnTransit } | { readonly ok: false; readonly errorCode: number };

/** A transaction's state as loaded or created: the same fields a transition installs. */
export type TransactionMetadataInit = TxnTransit;

function illegal(txnId: string, message: string): StrataError {
  return new StrataError('ERR_STATE', `transactional id ${txnId}: ${message}`);
}

export class TransactionMetadata {
  readonly transactionalId: string;
  producerId: number;
  lastProducerId: number;
  producerEpoch: number;
  lastProducerEpoch: number;
  txnTimeoutMs: number;
  state: TransactionState;
  partitions: PartitionSet;
  txnStartTimestamp: number;
  txnLastUpdateTimestamp: number;

  constructor(transactionalId: string, init: TransactionMetadataInit) {
    this.transactionalId = transactionalId;
    this.producerId = init.producerId;
    this.lastProducerId = init.lastProducerId;
    this.producerEpoch = init.producerEpoch;
    this.lastProducerEpoch = init.lastProducerEpoch;
    this.txnTimeoutMs = init.txnTimeoutMs;
    this.state = init.state;
    this.partitions = init.partitions;
    this.txnStartTimestamp = init.txnStartTimestamp;
    this.txnLastUpdateTimestamp = init.txnLastUpdateTimestamp;
  }

  /** A transactional id seen for the first time: a fresh producer id, no epoch yet. */
  static create(transactionalId: string, producerId: number, txnTimeoutMs: number, now: number): TransactionMetadata {
    return new TransactionMetadata(transactionalId, {
      producerId,
      lastProducerId: NO_PRODUCER_ID,
      producerEpoch: NO_PRODUCER_EPOCH,
      lastProducerEpoch: NO_PRODUCER_EPOCH,
      txnTimeoutMs,
      state: TransactionState.EMPTY,
      partitions: new PartitionSet(),
      txnStartTimestamp: -1,
      txnLastUpdateTimestamp: now,
    });
  }

  get isProducerEpochExhausted(): boolean {
    return isEpochExhausted(this.producerEpoch);
  }

  /** A transaction is open or being completed: the producer id cannot be rotated under it. */
  get hasPendingTransaction(): boolean {
    return this.state === TransactionState.ONGOING || this.state === TransactionState.PREPARE_ABORT || this.state === TransactionState.PREPARE_COMMIT;
  }

  /**
   * InitProducerId on an idle id: bump the epoch. With the producer's current id and epoch in the request
   * (KIP-360), a retry of a bump that succeeded is answered with the same epoch, and any other epoch is
   * fenced.
   */
  prepareIncrementProducerEpoch(newTxnTimeoutMs: number, expectedEpoch: number | undefined, now: number): Prepared {
    if (this.isProducerEpochExhausted) throw illegal(this.transactionalId, `cannot allocate more epochs for producer id ${this.producerId}`);
    const bumped = this.producerEpoch + 1;
    let next: { epoch: number; last: number };
    if (expectedEpoch === undefined) {
      next = { epoch: bumped, last: NO_PRODUCER_EPOCH };
    } else if (this.producerEpoch === NO_PRODUCER_EPOCH || expectedEpoch === this.producerEpoch) {
      next = { epoch: bumped, last: this.producerEpoch };
    } else if (expectedEpoch === this.lastProducerEpoch) {
      // A retry of an InitProducerId whose answer was lost: nobody else bumped in between (that would
      // have reset the last epoch), so the current epoch is still this producer's.
      next = { epoch: this.producerEpoch, last: this.lastProducerEpoch };
    } else {
      return { ok: false, errorCode: ErrorCode.PRODUCER_FENCED };
    }
    return { ok: true, transit: this.#transit(TransactionState.EMPTY, this.producerId, next.epoch, next.last, newTxnTimeoutMs, new PartitionSet(), -1, now) };
  }

  /** The epochs of this producer id are used up: continue under a new producer id at epoch 0. */
  prepareProducerIdRotation(newProducerId: number, newTxnTimeoutMs: number, now: number, recordLastEpoch: boolean): TxnTransit {
    if (this.hasPendingTransaction) throw illegal(this.transactionalId, 'cannot rotate the producer id while a transaction is pending');
    return this.#transit(
      TransactionState.EMPTY,
      newProducerId,
      0,
      recordLastEpoch ? this.producerEpoch : NO_PRODUCER_EPOCH,
      newTxnTimeoutMs,
      new PartitionSet(),
      -1,
      now,
    );
  }

  prepareAddPartitions(added: Iterable<TopicPartition>, now: number): TxnTransit {
    const starts = this.state === TransactionState.EMPTY || this.state === TransactionState.COMPLETE_ABORT || this.state === TransactionState.COMPLETE_COMMIT;
    return this.#transit(
      TransactionState.ONGOING,
      this.producerId,
      this.producerEpoch,
      this.lastProducerEpoch,
      this.txnTimeoutMs,
      this.partitions.union(added),
      starts ? now : this.txnStartTimestamp,
      now,
    );
  }

  /**
   * Fencing an open transaction (a new producer instance, or the transaction timed out): the epoch is
   * bumped so that the current producer can write nothing more, and the transaction is then aborted
   * under the bumped epoch. PrepareEpochFence is never written to the log, only passed through.
   */
  prepareFenceProducerEpoch(): TxnTransit {
    if (this.producerEpoch >= SHORT_MAX) throw illegal(this.transactionalId, 'cannot fence a producer at epoch Short.MAX_VALUE');
    return this.#transit(
      TransactionState.PREPARE_EPOCH_FENCE,
      this.producerId,
      this.producerEpoch + 1,
      NO_PRODUCER_EPOCH,
      this.txnTimeoutMs,
      this.partitions,
      this.txnStartTimestamp,
      this.txnLastUpdateTimestamp,
    );
  }

  prepareAbortOrCommit(newState: typeof TransactionState.PREPARE_COMMIT | typeof TransactionState.PREPARE_ABORT, now: number): TxnTransit {
    return this.#transit(newState, this.producerId, this.producerEpoch, this.lastProducerEpoch, this.txnTimeoutMs, this.partitions, this.txnStartTimestamp, now);
  }

  /** Every marker is written: the transaction is over and its partitions are forgotten. */
  prepareComplete(now: number): TxnTransit {
    const state = this.state === TransactionState.PREPARE_COMMIT ? TransactionState.COMPLETE_COMMIT : TransactionState.COMPLETE_ABORT;
    return this.#transit(state, this.producerId, this.producerEpoch, this.lastProducerEpoch, this.txnTimeoutMs, new PartitionSet(), this.txnStartTimestamp, now);
  }

  /** The id is expiring: its tombstone is written and the metadata dropped. */
  prepareDead(): TxnTransit {
    return this.#transit(
      TransactionState.DEAD,
      this.producerId,
      this.producerEpoch,
      this.lastProducerEpoch,
      this.txnTimeoutMs,
      new PartitionSet(),
      this.txnStartTimestamp,
      this.txnLastUpdateTimestamp,
    );
  }

  #transit(
    state: TransactionState,
    producerId: number,
    producerEpoch: number,
    lastProducerEpoch: number,
    txnTimeoutMs: number,
    partitions: PartitionSet,
    txnStartTimestamp: number,
    now: number,
  ): TxnTransit {
    if (producerId < 0) throw illegal(this.transactionalId, `illegal new producer id ${producerId}`);
    if (state !== TransactionState.DEAD && producerEpoch < 0) throw illegal(this.transactionalId, `illegal new producer epoch ${producerEpoch}`);
    if (!isValidTransition(this.state, state)) {
      throw illegal(this.transactionalId, `no transition from ${TRANSACTION_STATE_NAMES[this.state]} to ${TRANSACTION_STATE_NAMES[state]}`);
    }
    return {
      producerId,
      lastProducerId: this.producerId,
      producerEpoch,
      lastProducerEpoch,
      txnTimeoutMs,
      state,
      partitions,
      txnStartTimestamp,
      txnLastUpdateTimestamp: now,
    };
  }

  /**
   * Installs a prepared transition, after checking what Kafka checks when it completes one (same
   * producer unless the transition bumps or rotates it, partitions only grow while ongoing, ...). A
   * transit that does not fit throws and changes nothing.
   */
  apply(t: TxnTransit): void {
    if (!isValidTransition(this.state, t.state)) {
      throw illegal(this.transactionalId, `no transition from ${TRANSACTION_STATE_NAMES[this.state]} to ${TRANSACTION_STATE_NAMES[t.state]}`);
    }
    const samePidEpoch = t.producerId === this.producerId && t.producerEpoch === this.producerEpoch;
    let ok: boolean;
    switch (t.state) {
      case TransactionState.EMPTY: {
        const validBump = t.producerEpoch === this.producerEpoch + 1 || (t.producerEpoch === 0 && t.producerId !== this.producerId);
        ok = (t.producerEpoch === this.producerEpoch || validBump) && t.partitions.size === 0 && t.txnStartTimestamp === -1;
        break;
      }
      case TransactionState.ONGOING:
        ok = samePidEpoch && t.partitions.containsAll(this.partitions.list()) && t.txnTimeoutMs === this.txnTimeoutMs;
        break;
      case TransactionState.PREPARE_EPOCH_FENCE:
        ok = t.producerId === this.producerId && t.producerEpoch === this.producerEpoch + 1 && t.partitions.equals(this.partitions);
        break;
      case TransactionState.PREPARE_COMMIT:
      case TransactionState.PREPARE_ABORT:
        ok = samePidEpoch && t.partitions.equals(this.partitions) && t.txnTimeoutMs === this.txnTimeoutMs && t.txnStartTimestamp === this.txnStartTimestamp;
        break;
      case TransactionState.COMPLETE_COMMIT:
      case TransactionState.COMPLETE_ABORT:
        ok = samePidEpoch && t.txnTimeoutMs === this.txnTimeoutMs && t.txnStartTimestamp !== -1;
        break;
      default:
        // Dead is never installed: the expiring id's metadata is removed instead.
        ok = false;
    }
    if (!ok) throw illegal(this.transactionalId, `transition to ${TRANSACTION_STATE_NAMES[t.state]} does not fit the current metadata`);
    this.producerId = t.producerId;
    this.lastProducerId = t.lastProducerId;
    this.producerEpoch = t.producerEpoch;
    this.lastProducerEpoch = t.lastProducerEpoch;
    this.txnTimeoutMs = t.txnTimeoutMs;
    this.partitions = t.partitions;
    this.txnStartTimestamp = t.txnStartTimestamp;
    if (t.state !== TransactionState.PREPARE_EPOCH_FENCE) this.txnLastUpdateTimestamp = t.txnLastUpdateTimestamp;
    this.state = t.state;
  }
}
