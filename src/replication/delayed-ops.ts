// The two waits of the data path: a fetch waiting for min.bytes (DelayedFetch) and an acks=all produce
// waiting for the ISR (DelayedProduce). Both re-check cheaply and synchronously on every wake-up; the
// answer itself (a fresh read for the fetch) is computed once, when they complete.
import { ErrorCode } from '../protocol/errors.js';
import { DelayedOperation } from './delayed.js';
import type { FetchIsolation, Partition } from './partition.js';

/** What a waiting fetch knows about one partition from its first read. */
export interface FetchWaitStatus {
  readonly topic: string;
  readonly partition: number;
  readonly fetchOffset: number;
  readonly partitionMaxBytes: number;
  readonly currentLeaderEpoch: number;
  readonly leaderEpochAtRead: number;
}

export class DelayedFetch extends DelayedOperation {
  readonly #statuses: readonly FetchWaitStatus[];
  readonly #minBytes: number;
  readonly #isolation: FetchIsolation;
  readonly #lookup: (topic: string, partition: number) => Partition | undefined;
  readonly #complete: () => void;

  constructor(opts: {
    maxWaitMs: number;
    minBytes: number;
    isolation: FetchIsolation;
    statuses: readonly FetchWaitStatus[];
    lookup: (topic: string, partition: number) => Partition | undefined;
    complete: () => void;
  }) {
    super(opts.maxWaitMs);
    this.#statuses = opts.statuses;
    this.#minBytes = opts.minBytes;
    this.#isolation = opts.isolation;
    this.#lookup = opts.lookup;
    this.#complete = opts.complete;
  }

  /**
   * Completes when min.bytes are readable from the fetch offsets on, or when something changed that the
   * client must hear about at once: leadership moved, the partition went away or offline, or the fetch
   * offset left the readable range (truncation, DeleteRecords).
   *
   * Bytes are counted from each fetch offset, as Kafka does, not from where the first read ended: records
   * appended while that read was under way (before this wait was registered) count, so they need no later
   * append to wake the fetch.
   */
  tryComplete(): boolean {
    let accumulated = 0;
    for (const s of this.#statuses) {
      const p = this.#lookup(s.topic, s.partition);
      if (p === undefined || p.isOffline || !p.isLeader || p.leaderEpoch !== s.leaderEpochAtRead
        || (s.currentLeaderEpoch >= 0 && p.leaderEpoch !== s.currentLeaderEpoch)) return this.forceComplete();
      const bound = p.lastFetchableOffset(this.#isolation);
      if (bound < s.fetchOffset || p.log.logStartOffset > s.fetchOffset) return this.forceComplete();
      if (bound > s.fetchOffset) accumulated += Math.min(p.bytesBetween(s.fetchOffset, bound), s.partitionMaxBytes);
    }
    return accumulated >= this.#minBytes ? this.forceComplete() : false;
  }

  protected onComplete(): void {
    this.#complete();
  }
}

/** One partition of an acks=all produce that was appended and now waits for the ISR. */
export interface ProduceWaitStatus {
  readonly topic: string;
  readonly partition: number;
  /** Log end offset after the append: every ISR member must reach it. */
  readonly requiredOffset: number;
  /** Set when the wait ends: NONE, or why the write is not acknowledged. */
  errorCode: number;
  pending: boolean;
}

export class DelayedProduce extends DelayedOperation {
  readonly #statuses: readonly ProduceWaitStatus[];
  readonly #lookup: (topic: string, partition: number) => Partition | undefined;
  readonly #complete: (statuses: readonly ProduceWaitStatus[]) => void;

  constructor(timeoutMs: number, statuses: readonly ProduceWaitStatus[],
    lookup: (topic: string, partition: number) => Partition | undefined,
    complete: (statuses: readonly ProduceWaitStatus[]) => void) {
    super(timeoutMs);
    this.#statuses = statuses;
    this.#lookup = lookup;
    this.#complete = complete;
  }

  tryComplete(): boolean {
    for (const s of this.#statuses) {
      if (!s.pending) continue;
      const p = this.#lookup(s.topic, s.partition);
      if (p === undefined) {
        s.pending = false;
        s.errorCode = ErrorCode.NOT_LEADER_OR_FOLLOWER;
        continue;
      }
      const r = p.checkEnoughReplicasReachOffset(s.requiredOffset);
      if (r.done) {
        s.pending = false;
        s.errorCode = r.errorCode;
      }
    }
    return this.#statuses.every((s) => !s.pending) ? this.forceComplete() : false;
  }

  protected override onExpiration(): void {
    for (const s of this.#statuses) {
      if (s.pending) {
        s.pending = false;
        s.errorCode = ErrorCode.REQUEST_TIMED_OUT;
      }
    }
  }

  protected onComplete(): void {
    this.#complete(this.#statuses);
  }
}

/** A wait for a condition on one partition (DeleteRecords until every replica's log start offset moved). */
export class DelayedCondition extends DelayedOperation {
  readonly #satisfied: () => boolean;
  readonly #complete: (timedOut: boolean) => void;
  #timedOut = false;

  constructor(timeoutMs: number, satisfied: () => boolean, complete: (timedOut: boolean) => void) {
    super(timeoutMs);
    this.#satisfied = satisfied;
    this.#complete = complete;
  }

  tryComplete(): boolean {
    return this.#satisfied() ? this.forceComplete() : false;
  }

  protected override onExpiration(): void {
    this.#timedOut = true;
  }

  protected onComplete(): void {
    this.#complete(this.#timedOut);
  }
}
