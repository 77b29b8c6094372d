// The coordinator runtime: one state machine ("shard") per partition of an internal compacted topic
// (`__consumer_offsets`, `__transaction_state`), each fed by its own event queue. The group and the
// transaction coordinators are shards; the runtime knows nothing about groups or transactions.
//
// Consistency model (kept deliberately simple):
// - Operations on one partition run one at a time, in the order they were scheduled. An operation is a
//   synchronous function over the shard: it validates, mutates the in-memory state and emits the records
//   that make the mutation durable. It must validate before it mutates, so that a thrown error leaves the
//   state untouched.
// - Emitted records are appended through `CoordinatorLog.append` in operation order, without waiting for
//   earlier appends: operations pipeline. The state a later operation sees may therefore include writes
//   not committed yet ("latest" state, as Kafka's runtime applies records before they are replicated).
// - Nothing leaves the runtime before the writes it could have observed are committed: a write's
//   response and its after-commit callbacks, and a read's response, are released only once every append
//   issued up to and including that operation has resolved (the high watermark passed it). A client
//   therefore never sees state that a leader change could take back.
// - An operation may name the key it is about (a group id, a transactional id) when it reads and writes
//   nothing but that key's state. Such a read, or a keyed write that appends nothing, then waits only for
//   the writes of the same key and for keyless writes (timers, loading), not for every write in flight on
//   the partition: a KIP-890 verification of one producer does not sit behind another producer's fsync.
//   Appends commit in log order, so waiting for the last relevant write covers everything before it.
// - If an append fails, the in-memory state is ahead of the log and cannot be trusted: the partition is
//   unloaded, every waiting response fails with the mapped error, and `onShardFailure` tells the owner,
//   who reloads the partition from the log if it is still the leader. (Kafka instead reverts to a
//   snapshot of the last committed state; a reload gives the same result with far less machinery, at the
//   cost of a replay on what should be a rare event.)
import { ErrorCode } from '../protocol/errors.js';
import { Deferred } from './deferred.js';
import { CoordinatorError, appendErrorToCoordinatorError, errorCodeOf } from './errors.js';
import type { Scheduler, TimerHandle } from './scheduler.js';

/** One record of a coordinator topic: key and value bytes as stored (a null value is a tombstone). */
export interface CoordinatorRecord {
  readonly key: Buffer;
  readonly value: Buffer | null;
}

/** The partition log of one coordinator partition, as the replication layer provides it. */
export interface CoordinatorLog {
  /**
   * Appends the records as one batch, in call order relative to earlier calls, and resolves with the
   * offset of the last record once it is committed (the high watermark passed it). Rejects with a
   * `CoordinatorError` carrying the produce error code (NOT_LEADER_OR_FOLLOWER, NOT_ENOUGH_REPLICAS, ...)
   * when the write fails or can no longer commit.
   */
  append(records: readonly CoordinatorRecord[]): Promise<number>;
  /** Every record of the partition from the log start offset to the log end, in offset order. */
  replay(): AsyncIterable<CoordinatorRecord>;
}

/** What an operation collects while it runs: records to append and callbacks to run once committed. */
export class OperationContext {
  readonly records: CoordinatorRecord[] = [];
  readonly afterCommit: (() => void)[] = [];
  readonly now: number;

  constructor(now: number) {
    this.now = now;
  }

  append(record: CoordinatorRecord): void {
    this.records.push(record);
  }

  /** Runs `fn` once this operation's records (and every earlier one's) are committed. */
  onCommit(fn: () => void): void {
    this.afterCommit.push(fn);
  }
}

/** Keyed timers of one shard: scheduling a key again replaces the earlier timer of that key. */
export interface CoordinatorTimer {
  schedule(key: string, delayMs: number, op: (ctx: OperationContext) => void): void;
  cancel(key: string): void;
  has(key: string): boolean;
}

export interface ShardEnvironment {
  readonly partition: number;
  readonly timer: CoordinatorTimer;
  now(): number;
}

export interface CoordinatorShard {
  /** Applies one record read back from the log while loading. */
  replay(record: CoordinatorRecord): void;
  /** Runs once the log is replayed, as a write operation: schedule timers, fix up loaded state. */
  onLoaded(ctx: OperationContext): void;
  /** The partition is gone: fail whatever the shard holds for waiting clients. */
  onUnloaded(): void;
}

export interface CoordinatorRuntimeOptions<S extends CoordinatorShard> {
  readonly scheduler: Scheduler;
  readonly logFor: (partition: number) => CoordinatorLog;
  readonly createShard: (env: ShardEnvironment) => S;
  /** A partition was unloaded because an append failed; the owner reloads it if still leader. */
  readonly onShardFailure?: (partition: number, epoch: number, error: unknown) => void;
}

type PartitionStatus = 'loading' | 'active' | 'closed';

interface TimerEntry {
  handle: TimerHandle | undefined;
}

class PartitionState<S> {
  status: PartitionStatus = 'loading';
  shard!: S;
  /** Resolves when every append issued so far is committed; rejects once one failed. */
  tail: Promise<void> = Promise.resolve();
  /** Commit of the last keyless append: every keyed answer waits for it too. */
  keylessTail: Promise<void> = Promise.resolve();
  /** Commit of the last append per key, while not yet committed (committed entries are dropped). */
  readonly keyTails = new Map<string, Promise<void>>();
  lastCommittedOffset = -1;
  readonly timers = new Map<string, TimerEntry>();
  readonly waiting = new Set<Deferred<unknown>>();
  readonly queue: (() => void)[] = [];
  draining = false;

  constructor(
    readonly partition: number,
    readonly epoch: number,
    readonly log: CoordinatorLog,
  ) {}
}

const noop = (): void => undefined;

export class CoordinatorRuntime<S extends CoordinatorShard> {
  readonly #opts: CoordinatorRuntimeOptions<S>;
  readonly #partitions = new Map<number, PartitionState<S>>();

  constructor(opts: CoordinatorRuntimeOptions<S>) {
    this.#opts = opts;
  }

  now(): number {
    return this.#opts.scheduler.now();
  }

  /** Partitions whose state is loaded and serving. */
  activePartitions(): number[] {
    return [...this.#partitions.values()].filter((s) => s.status === 'active').map((s) => s.partition);
  }

  /** Partitions still replaying their log. */
  loadingPartitions(): number[] {
    return [...this.#partitions.values()].filter((s) => s.status === 'loading').map((s) => s.partition);
  }

  isActive(partition: number): boolean {
    return this.#partitions.get(partition)?.status === 'active';
  }

  /** Offset of the last record known committed on this partition (-1 before any write). */
  lastCommittedOffset(partition: number): number {
    return this.#partitions.get(partition)?.lastCommittedOffset ?? -1;
  }

  /**
   * Becomes coordinator of `partition` at leader `epoch`: replays its log into a fresh shard. Requests
   * arriving meanwhile fail with COORDINATOR_LOAD_IN_PROGRESS. A load for an epoch older than the one
   * already known is ignored.
   */
  async load(partition: number, epoch: number): Promise<void> {
    const current = this.#partitions.get(partition);
    if (current !== undefined) {
      if (current.epoch >= epoch && current.status !== 'closed') return;
      this.#close(current, ErrorCode.NOT_COORDINATOR);
    }
    const st = new PartitionState<S>(partition, epoch, this.#opts.logFor(partition));
    this.#partitions.set(partition, st);
    try {
      st.shard = this.#opts.createShard(this.#environment(st));
      for await (const record of st.log.replay()) {
        if (this.#partitions.get(partition) !== st) return;
        st.shard.replay(record);
      }
    } catch (e) {
      if (this.#partitions.get(partition) === st) this.#close(st, ErrorCode.NOT_COORDINATOR);
      throw new CoordinatorError(ErrorCode.COORDINATOR_NOT_AVAILABLE, `loading coordinator partition ${partition} failed`, { cause: e });
    }
    if (this.#partitions.get(partition) !== st) return;
    st.status = 'active';
    this.#enqueue(st, () => this.#runWrite(st, (shard, ctx) => shard.onLoaded(ctx), new Deferred<void>()));
  }

  /**
   * Stops being coordinator of `partition` (leadership moved, or the broker stops): the state is
   * dropped, timers cancelled, and every waiting operation fails with NOT_COORDINATOR. An unload for an
   * epoch older than the loaded one is ignored; without an epoch it always applies.
   */
  unload(partition: number, epoch?: number): void {
    const st = this.#partitions.get(partition);
    if (st === undefined || (epoch !== undefined && st.epoch > epoch)) return;
    this.#close(st, ErrorCode.NOT_COORDINATOR);
  }

  /** Unloads every partition. */
  close(): void {
    for (const st of [...this.#partitions.values()]) this.#close(st, ErrorCode.NOT_COORDINATOR);
  }

  /**
   * Runs a write operation on the partition's queue. Resolves with its response once its records (and
   * all earlier ones) are committed; a response that is itself a promise (a JoinGroup waiting for the
   * rest of the group) is followed. With a `key`, the operation touches only that key's state (see the
   * consistency model above).
   */
  scheduleWrite<T>(partition: number, op: (shard: S, ctx: OperationContext) => T, key?: string): Promise<Awaited<T>> {
    const out = new Deferred<Awaited<T>>();
    const st = this.#partitions.get(partition);
    if (st === undefined) {
      out.reject(new CoordinatorError(ErrorCode.NOT_COORDINATOR));
      return out.promise;
    }
    this.#enqueue(st, () => this.#runWrite(st, op, out, key));
    return out.promise;
  }

  /**
   * Runs a read-only operation on the partition's queue against the latest state, and releases its
   * answer once every write issued before it is committed, so it never reveals uncommitted state. With
   * a `key`, the operation reads only that key's state and waits only for the writes it could have
   * observed: those of the same key and keyless ones.
   */
  scheduleRead<T>(partition: number, op: (shard: S) => T, key?: string): Promise<T> {
    const out = new Deferred<T>();
    const st = this.#partitions.get(partition);
    if (st === undefined) {
      out.reject(new CoordinatorError(ErrorCode.NOT_COORDINATOR));
      return out.promise;
    }
    this.#enqueue(st, () => {
      const refusal = this.#refusal(st);
      if (refusal !== undefined) return out.reject(refusal);
      let response: T;
      try {
        response = op(st.shard);
      } catch (e) {
        return out.reject(e);
      }
      this.#release(st, this.#observed(st, key), out, () => response);
    });
    return out.promise;
  }

  #environment(st: PartitionState<S>): ShardEnvironment {
    const timer: CoordinatorTimer = {
      schedule: (key, delayMs, op) => {
        this.#cancelTimer(st, key);
        if (st.status === 'closed') return;
        const entry: TimerEntry = { handle: undefined };
        st.timers.set(key, entry);
        entry.handle = this.#opts.scheduler.schedule(delayMs, () => {
          if (st.timers.get(key) !== entry) return;
          st.timers.delete(key);
          this.#enqueue(st, () => this.#runWrite(st, (_shard, ctx) => op(ctx), new Deferred<void>()));
        });
      },
      cancel: (key) => this.#cancelTimer(st, key),
      has: (key) => st.timers.has(key),
    };
    return { partition: st.partition, timer, now: () => this.#opts.scheduler.now() };
  }

  #cancelTimer(st: PartitionState<S>, key: string): void {
    const entry = st.timers.get(key);
    if (entry === undefined) return;
    st.timers.delete(key);
    entry.handle?.cancel();
  }

  #enqueue(st: PartitionState<S>, event: () => void): void {
    st.queue.push(event);
    if (st.draining) return;
    st.draining = true;
    try {
      for (let e = st.queue.shift(); e !== undefined; e = st.queue.shift()) e();
    } finally {
      st.draining = false;
    }
  }

  #refusal(st: PartitionState<S>): CoordinatorError | undefined {
    if (this.#partitions.get(st.partition) !== st || st.status === 'closed') return new CoordinatorError(ErrorCode.NOT_COORDINATOR);
    if (st.status === 'loading') return new CoordinatorError(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    return undefined;
  }

  #runWrite<T>(st: PartitionState<S>, op: (shard: S, ctx: OperationContext) => T, out: Deferred<Awaited<T>>, key?: string): void {
    const refusal = this.#refusal(st);
    if (refusal !== undefined) return out.reject(refusal);
    const ctx = new OperationContext(this.#opts.scheduler.now());
    let response: T;
    try {
      response = op(st.shard, ctx);
    } catch (e) {
      return out.reject(e);
    }
    const committed = ctx.records.length === 0 ? this.#observed(st, key) : this.#append(st, ctx.records, key);
    this.#release(st, committed, out, () => {
      for (const fn of ctx.afterCommit) fn();
      return response as Awaited<T>;
    });
  }

  /** What an operation about `key` (any key when undefined) waits for: the writes it could have observed. */
  #observed(st: PartitionState<S>, key: string | undefined): Promise<void> {
    if (key === undefined) return st.tail;
    const own = st.keyTails.get(key);
    return own === undefined ? st.keylessTail : own;
  }

  #append(st: PartitionState<S>, records: CoordinatorRecord[], key: string | undefined): Promise<void> {
    let appended: Promise<number>;
    try {
      appended = st.log.append(records);
    } catch (e) {
      appended = Promise.reject(e);
    }
    appended.catch(noop);
    const committed = st.tail.then(() => appended).then((offset) => {
      if (offset > st.lastCommittedOffset) st.lastCommittedOffset = offset;
    });
    committed.catch((e: unknown) => this.#fail(st, e));
    st.tail = committed;
    if (key === undefined) {
      // Everything keyed so far commits no later than this append: the per-key entries are covered by it.
      st.keylessTail = committed;
      st.keyTails.clear();
    } else {
      st.keyTails.set(key, committed);
      const forget = (): void => {
        if (st.keyTails.get(key) === committed) st.keyTails.delete(key);
      };
      committed.then(forget, noop);
    }
    return committed;
  }

  #release<T>(st: PartitionState<S>, committed: Promise<void>, out: Deferred<T>, respond: () => T): void {
    const waiter = out as Deferred<unknown>;
    st.waiting.add(waiter);
    committed.then(
      () => {
        st.waiting.delete(waiter);
        if (out.settled) return;
        try {
          out.resolve(respond());
        } catch (e) {
          out.reject(e);
        }
      },
      (e: unknown) => {
        st.waiting.delete(waiter);
        out.reject(new CoordinatorError(appendErrorToCoordinatorError(errorCodeOf(e)), 'coordinator write failed', { cause: e }));
      },
    );
  }

  #fail(st: PartitionState<S>, error: unknown): void {
    if (this.#partitions.get(st.partition) !== st || st.status === 'closed') return;
    this.#close(st, appendErrorToCoordinatorError(errorCodeOf(error)));
    this.#opts.onShardFailure?.(st.partition, st.epoch, error);
  }

  #close(st: PartitionState<S>, errorCode: number): void {
    if (st.status === 'closed') return;
    st.status = 'closed';
    if (this.#partitions.get(st.partition) === st) this.#partitions.delete(st.partition);
    for (const key of [...st.timers.keys()]) this.#cancelTimer(st, key);
    const error = new CoordinatorError(errorCode, `no longer coordinator of partition ${st.partition}`);
    for (const w of st.waiting) w.reject(error);
    st.waiting.clear();
    // Events still queued run and are refused with NOT_COORDINATOR, so their callers get an answer.
    st.shard?.onUnloaded();
  }
}
