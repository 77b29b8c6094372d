// The transaction coordinator state machine of one __transaction_state partition (Kafka 3.9's
// TransactionCoordinator + TransactionStateManager for the ids of that partition): InitProducerId,
// AddPartitionsToTxn (and its KIP-890 verification), EndTxn, the marker phase, timed-out transactions and
// expiring idle transactional ids. Every operation is synchronous and runs on the coordinator runtime's
// queue for the partition; it validates first, then writes its record and applies it.
import { ErrorCode } from '../../protocol/errors.js';
import type { DescribeTransactionsResponseTransactionState } from '../../protocol/generated/messages/describe-transactions.js';
import type { ListTransactionsResponseTransactionState } from '../../protocol/generated/messages/list-transactions.js';
import { StrataError } from '../../protocol/strata-error.js';
import type { CoordinatorRecord, CoordinatorShard, OperationContext, ShardEnvironment } from '../runtime.js';
import type { TransactionCoordinatorConfig } from './config.js';
import { TransactionResult } from './marker-dispatcher.js';
import type { MarkerDispatcher, MarkerHandle, MarkerJob } from './marker-dispatcher.js';
import { decodeTransactionRecord, transactionLogRecord, transactionLogTombstone } from './records.js';
import {
  NO_PRODUCER_EPOCH,
  TRANSACTION_STATE_NAMES,
  TransactionMetadata,
  TransactionState,
  isEpochExhausted,
  isExpirationAllowed,
} from './transaction-metadata.js';
import type { TopicPartition, TxnTransit } from './transaction-metadata.js';

export const ABORT_TIMED_OUT_TIMER = 'abort-timed-out-transactions';
export const EXPIRE_IDS_TIMER = 'expire-transactional-ids';
const MAX_EPOCH = 32767;

export interface TransactionShardOptions {
  readonly config: TransactionCoordinatorConfig;
  /** Leader epoch of this __transaction_state partition, stamped on every marker. */
  readonly coordinatorEpoch: number;
  readonly markers: MarkerDispatcher;
  /** Every marker of `job` is written: the owner completes the transaction through the runtime. */
  readonly onMarkersWritten: (partition: number, job: MarkerJob) => void;
}

/** The producer id and epoch an InitProducerId carries (KIP-360), when it carries them. */
export interface ProducerIdAndEpoch {
  readonly producerId: number;
  readonly producerEpoch: number;
}

export type InitProducerIdOutcome =
  | { readonly kind: 'done'; readonly errorCode: number; readonly producerId: number; readonly producerEpoch: number }
  /** A new producer id is needed; ask again with one (allocation may wait for the controller). */
  | { readonly kind: 'needProducerId' };

export interface PartitionError extends TopicPartition {
  readonly errorCode: number;
}

export interface ListFilter {
  readonly states: ReadonlySet<TransactionState> | undefined;
  readonly producerIds: ReadonlySet<number> | undefined;
  /** Only transactions running longer than this (ms); negative = no filter. */
  readonly minDurationMs: number;
}

const done = (errorCode: number, producerId = -1, producerEpoch = NO_PRODUCER_EPOCH): InitProducerIdOutcome => ({ kind: 'done', errorCode, producerId, producerEpoch });

function illegalState(meta: TransactionMetadata): StrataError {
  return new StrataError('ERR_STATE', `transactional id ${meta.transactionalId} is in state ${TRANSACTION_STATE_NAMES[meta.state]}, which it should never be found in`);
}

export class TransactionCoordinatorShard implements CoordinatorShard {
  readonly #env: ShardEnvironment;
  readonly #opts: TransactionShardOptions;
  readonly #txns = new Map<string, TransactionMetadata>();
  readonly #markerJobs = new Map<string, MarkerHandle>();

  constructor(env: ShardEnvironment, opts: TransactionShardOptions) {
    this.#env = env;
    this.#opts = opts;
  }

  /** The metadata of `transactionalId` (tests and tools; never mutate it). */
  get(transactionalId: string): TransactionMetadata | undefined {
    return this.#txns.get(transactionalId);
  }

  get size(): number {
    return this.#txns.size;
  }

  replay(record: CoordinatorRecord): void {
    const r = decodeTransactionRecord(record);
    if (r.kind !== 'txn') return;
    if (r.metadata === null) this.#txns.delete(r.transactionalId);
    else this.#txns.set(r.transactionalId, r.metadata);
  }

  onLoaded(ctx: OperationContext): void {
    // A decided transaction whose markers were not all written: Kafka's loader resumes them too.
    for (const meta of this.#txns.values()) {
      if (meta.state === TransactionState.PREPARE_COMMIT || meta.state === TransactionState.PREPARE_ABORT) {
        const job = this.#markerJob(meta);
        ctx.onCommit(() => this.#startMarkers(job));
      }
    }
    this.#scheduleAbortTimedOut();
    this.#scheduleExpireIds();
  }

  onUnloaded(): void {
    for (const h of this.#markerJobs.values()) h.cancel();
    this.#markerJobs.clear();
  }

  // ---- InitProducerId ----

  initProducerId(
    ctx: OperationContext,
    transactionalId: string,
    txnTimeoutMs: number,
    expected: ProducerIdAndEpoch | undefined,
    newProducerId: number | undefined,
  ): InitProducerIdOutcome {
    let meta = this.#txns.get(transactionalId);
    let created = false;
    if (meta === undefined) {
      if (newProducerId === undefined) return { kind: 'needProducerId' };
      meta = TransactionMetadata.create(transactionalId, newProducerId, txnTimeoutMs, ctx.now);
      created = true;
    }
    if (expected !== undefined && !this.#isValidExpectedProducer(meta, expected)) return done(ErrorCode.PRODUCER_FENCED);
    switch (meta.state) {
      case TransactionState.PREPARE_ABORT:
      case TransactionState.PREPARE_COMMIT:
        return done(ErrorCode.CONCURRENT_TRANSACTIONS);
      case TransactionState.EMPTY:
      case TransactionState.COMPLETE_ABORT:
      case TransactionState.COMPLETE_COMMIT: {
        let transit: TxnTransit;
        if (meta.isProducerEpochExhausted && (expected === undefined || expected.producerEpoch === meta.producerEpoch)) {
          if (newProducerId === undefined) return { kind: 'needProducerId' };
          transit = meta.prepareProducerIdRotation(newProducerId, txnTimeoutMs, ctx.now, expected !== undefined);
        } else {
          const p = meta.prepareIncrementProducerEpoch(txnTimeoutMs, expected?.producerEpoch, ctx.now);
          if (!p.ok) return done(p.errorCode);
          transit = p.transit;
        }
        this.#write(ctx, meta, transit);
        if (created) this.#txns.set(transactionalId, meta);
        return done(ErrorCode.NONE, transit.producerId, transit.producerEpoch);
      }
      case TransactionState.ONGOING:
        // Fence the running producer and abort its transaction. The bumped epoch is not handed out:
        // the client retries on CONCURRENT_TRANSACTIONS once the abort is complete and gets the next
        // one, so fencing that exhausts the epochs leads to a new producer id on the retry.
        this.#fenceAndAbort(ctx, meta);
        return done(ErrorCode.CONCURRENT_TRANSACTIONS);
      default:
        throw illegalState(meta);
    }
  }

  /**
   * With KIP-360 the producer says which id and epoch it has. It is fenced unless the id is brand new
   * (no epoch yet), the id matches, or it is the previous id with an exhausted epoch (a retry after a
   * rotation whose answer was lost).
   */
  #isValidExpectedProducer(meta: TransactionMetadata, expected: ProducerIdAndEpoch): boolean {
    return (
      meta.producerEpoch === NO_PRODUCER_EPOCH ||
      expected.producerId === meta.producerId ||
      (expected.producerId === meta.lastProducerId && isEpochExhausted(expected.producerEpoch))
    );
  }

  // ---- AddPartitionsToTxn / AddOffsetsToTxn ----

  addPartitions(ctx: OperationContext, transactionalId: string, producerId: number, producerEpoch: number, partitions: readonly TopicPartition[]): number {
    const meta = this.#txns.get(transactionalId);
    if (meta === undefined || meta.producerId !== producerId) return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
    if (meta.producerEpoch !== producerEpoch) return ErrorCode.PRODUCER_FENCED;
    if (meta.state === TransactionState.PREPARE_COMMIT || meta.state === TransactionState.PREPARE_ABORT) return ErrorCode.CONCURRENT_TRANSACTIONS;
    // Already in the transaction: nothing to write (the answer still waits for earlier writes to commit).
    if (meta.state === TransactionState.ONGOING && meta.partitions.containsAll(partitions)) return ErrorCode.NONE;
    this.#write(ctx, meta, meta.prepareAddPartitions(partitions, ctx.now));
    return ErrorCode.NONE;
  }

  /**
   * KIP-890 part 1: a partition leader asks, before it appends a transactional batch, whether the
   * partition is in the producer's ongoing transaction. Nothing is written.
   */
  verifyPartitions(transactionalId: string, producerId: number, producerEpoch: number, partitions: readonly TopicPartition[]): PartitionError[] {
    const all = (errorCode: number): PartitionError[] => partitions.map((tp) => ({ ...tp, errorCode }));
    const meta = this.#txns.get(transactionalId);
    if (meta === undefined || meta.producerId !== producerId) return all(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
    if (meta.producerEpoch !== producerEpoch) return all(ErrorCode.PRODUCER_FENCED);
    if (meta.state === TransactionState.PREPARE_COMMIT || meta.state === TransactionState.PREPARE_ABORT) return all(ErrorCode.CONCURRENT_TRANSACTIONS);
    return partitions.map((tp) => ({ ...tp, errorCode: meta.partitions.has(tp) ? ErrorCode.NONE : ErrorCode.TRANSACTION_ABORTABLE }));
  }

  // ---- EndTxn ----

  endTransaction(ctx: OperationContext, transactionalId: string, producerId: number, producerEpoch: number, result: TransactionResult): number {
    const meta = this.#txns.get(transactionalId);
    if (meta === undefined || meta.producerId !== producerId) return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
    // A client never bumps the epoch: anything but the current one is a zombie.
    if (producerEpoch !== meta.producerEpoch) return ErrorCode.PRODUCER_FENCED;
    const commit = result === TransactionResult.COMMIT;
    switch (meta.state) {
      case TransactionState.ONGOING: {
        const transit = meta.prepareAbortOrCommit(commit ? TransactionState.PREPARE_COMMIT : TransactionState.PREPARE_ABORT, ctx.now);
        this.#write(ctx, meta, transit);
        const job = this.#markerJob(meta);
        ctx.onCommit(() => this.#startMarkers(job));
        return ErrorCode.NONE;
      }
      // A retry of an EndTxn that already went through.
      case TransactionState.COMPLETE_COMMIT:
        return commit ? ErrorCode.NONE : ErrorCode.INVALID_TXN_STATE;
      case TransactionState.COMPLETE_ABORT:
        return commit ? ErrorCode.INVALID_TXN_STATE : ErrorCode.NONE;
      // The same outcome is still being written: retriable.
      case TransactionState.PREPARE_COMMIT:
        return commit ? ErrorCode.CONCURRENT_TRANSACTIONS : ErrorCode.INVALID_TXN_STATE;
      case TransactionState.PREPARE_ABORT:
        return commit ? ErrorCode.INVALID_TXN_STATE : ErrorCode.CONCURRENT_TRANSACTIONS;
      case TransactionState.EMPTY:
        return ErrorCode.INVALID_TXN_STATE;
      default:
        throw illegalState(meta);
    }
  }

  /** Every marker of `job` is written: CompleteCommit / CompleteAbort, unless the state moved on meanwhile. */
  completeTransaction(ctx: OperationContext, job: MarkerJob): boolean {
    const meta = this.#txns.get(job.transactionalId);
    const expected = job.result === TransactionResult.COMMIT ? TransactionState.PREPARE_COMMIT : TransactionState.PREPARE_ABORT;
    if (meta === undefined || meta.producerId !== job.producerId || meta.producerEpoch !== job.producerEpoch || meta.state !== expected) return false;
    this.#write(ctx, meta, meta.prepareComplete(ctx.now));
    return true;
  }

  // ---- timers ----

  /** Ongoing transactions past their timeout are aborted, their producer fenced by an epoch bump. */
  abortTimedOutTransactions(ctx: OperationContext): string[] {
    const aborted: string[] = [];
    for (const meta of this.#txns.values()) {
      if (meta.state !== TransactionState.ONGOING || meta.txnStartTimestamp + meta.txnTimeoutMs >= ctx.now) continue;
      // Unreachable through the API (no client is handed the last epoch), but a throw here would leave
      // the transactions fenced before it applied and unwritten.
      if (meta.producerEpoch >= MAX_EPOCH) continue;
      this.#fenceAndAbort(ctx, meta);
      aborted.push(meta.transactionalId);
    }
    return aborted;
  }

  /** Idle transactional ids older than transactional.id.expiration.ms are tombstoned and forgotten. */
  expireTransactionalIds(ctx: OperationContext): string[] {
    const expired: string[] = [];
    const cutoff = ctx.now - this.#opts.config.transactionalIdExpirationMs;
    for (const meta of [...this.#txns.values()]) {
      if (!isExpirationAllowed(meta.state) || meta.txnLastUpdateTimestamp > cutoff) continue;
      meta.prepareDead();
      ctx.append(transactionLogTombstone(meta.transactionalId));
      this.#txns.delete(meta.transactionalId);
      expired.push(meta.transactionalId);
    }
    return expired;
  }

  #scheduleAbortTimedOut(): void {
    this.#env.timer.schedule(ABORT_TIMED_OUT_TIMER, this.#opts.config.abortTimedOutTransactionsIntervalMs, (ctx) => {
      this.#scheduleAbortTimedOut();
      this.abortTimedOutTransactions(ctx);
    });
  }

  #scheduleExpireIds(): void {
    this.#env.timer.schedule(EXPIRE_IDS_TIMER, this.#opts.config.removeExpiredTransactionalIdsIntervalMs, (ctx) => {
      this.#scheduleExpireIds();
      this.expireTransactionalIds(ctx);
    });
  }

  // ---- DescribeTransactions / ListTransactions ----

  describe(transactionalId: string): DescribeTransactionsResponseTransactionState {
    const meta = this.#txns.get(transactionalId);
    if (meta === undefined || meta.state === TransactionState.DEAD) {
      return {
        errorCode: ErrorCode.TRANSACTIONAL_ID_NOT_FOUND,
        transactionalId,
        transactionState: '',
        transactionTimeoutMs: 0,
        transactionStartTimeMs: 0n,
        producerId: 0n,
        producerEpoch: 0,
        topics: [],
      };
    }
    return {
      errorCode: ErrorCode.NONE,
      transactionalId,
      transactionState: TRANSACTION_STATE_NAMES[meta.state],
      transactionTimeoutMs: meta.txnTimeoutMs,
      transactionStartTimeMs: BigInt(meta.txnStartTimestamp),
      producerId: BigInt(meta.producerId),
      producerEpoch: meta.producerEpoch,
      topics: meta.partitions.byTopic().map((g) => ({ topic: g.topic, partitions: g.partitions })),
    };
  }

  list(filter: ListFilter, now: number): ListTransactionsResponseTransactionState[] {
    const out: ListTransactionsResponseTransactionState[] = [];
    for (const meta of this.#txns.values()) {
      if (meta.state === TransactionState.DEAD) continue;
      if (filter.producerIds !== undefined && !filter.producerIds.has(meta.producerId)) continue;
      if (filter.states !== undefined && !filter.states.has(meta.state)) continue;
      // As Kafka: an id without an open transaction (start -1) counts as running since the epoch.
      if (filter.minDurationMs >= 0 && now - meta.txnStartTimestamp <= filter.minDurationMs) continue;
      out.push({ transactionalId: meta.transactionalId, producerId: BigInt(meta.producerId), transactionState: TRANSACTION_STATE_NAMES[meta.state] });
    }
    return out;
  }

  // ---- internals ----

  #write(ctx: OperationContext, meta: TransactionMetadata, transit: TxnTransit): void {
    const record = transactionLogRecord(meta.transactionalId, transit, this.#opts.config.transactionLogValueVersion);
    meta.apply(transit);
    ctx.append(record);
  }

  /** Ongoing → PrepareEpochFence (epoch + 1, in memory only) → PrepareAbort, which is written; then markers. */
  #fenceAndAbort(ctx: OperationContext, meta: TransactionMetadata): void {
    meta.apply(meta.prepareFenceProducerEpoch());
    this.#write(ctx, meta, meta.prepareAbortOrCommit(TransactionState.PREPARE_ABORT, ctx.now));
    const job = this.#markerJob(meta);
    ctx.onCommit(() => this.#startMarkers(job));
  }

  #markerJob(meta: TransactionMetadata): MarkerJob {
    return {
      transactionalId: meta.transactionalId,
      producerId: meta.producerId,
      producerEpoch: meta.producerEpoch,
      result: meta.state === TransactionState.PREPARE_COMMIT ? TransactionResult.COMMIT : TransactionResult.ABORT,
      partitions: meta.partitions.list(),
      coordinatorEpoch: this.#opts.coordinatorEpoch,
    };
  }

  #startMarkers(job: MarkerJob): void {
    this.#markerJobs.get(job.transactionalId)?.cancel();
    // The dispatcher never finishes inside start(), so the handle is registered before it can complete.
    const handle = this.#opts.markers.start(job, () => {
      if (this.#markerJobs.get(job.transactionalId) === handle) this.#markerJobs.delete(job.transactionalId);
      this.#opts.onMarkersWritten(this.#env.partition, job);
    });
    this.#markerJobs.set(job.transactionalId, handle);
  }
}
