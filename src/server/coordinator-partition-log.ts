// The CoordinatorLog of one coordinator-topic partition (__consumer_offsets) over the local ReplicaManager.
//
// Writes: each runtime write becomes one v2 batch (so a write stays atomic), appended with acks=-1 and
// origin 'coordinator'; it counts as committed when the append answers, i.e. once the high watermark
// passed it (at once on a single node, after the fsync when the topic has durable.append=true). The
// runtime pipelines writes and needs them in the log in call order, while building a batch is async:
// so writes queue here and one append at a time carries every batch queued so far (several batches in
// one request), which keeps the order and lets a burst of commits share one append and one fsync.
//
// Loading: replay reads the partition from its log start offset to its log end offset, batch by batch.
import { Deferred } from '../coordinator/deferred.js';
import { CoordinatorError, appendErrorToCoordinatorError } from '../coordinator/errors.js';
import { coordinatorBatch, coordinatorRecordsOf } from '../coordinator/record-batches.js';
import type { CoordinatorLog, CoordinatorRecord } from '../coordinator/runtime.js';
import { ErrorCode } from '../protocol/errors.js';
import { iterateBatches } from '../protocol/records/batches.js';
import type { ReplicaManager } from '../replication/replica-manager.js';

export interface CoordinatorPartitionLogOptions {
  readonly replicaManager: ReplicaManager;
  readonly topic: string;
  readonly partition: number;
  /** How long an append may wait for the ISR (Kafka's coordinator uses its request timeout). */
  readonly appendTimeoutMs?: number;
  /** How much one replay read asks for. */
  readonly readBytes?: number;
  readonly now?: () => number;
}

interface PendingWrite {
  readonly batch: Promise<Buffer> | null;
  readonly count: number;
  readonly done: Deferred<number>;
}

/** Writes carried by one append at most, so a flood cannot build an unbounded request. */
const MAX_WRITES_PER_APPEND = 512;

export class CoordinatorPartitionLog implements CoordinatorLog {
  readonly #rm: ReplicaManager;
  readonly #topic: string;
  readonly #partition: number;
  readonly #timeoutMs: number;
  readonly #readBytes: number;
  readonly #now: () => number;
  #queue: PendingWrite[] = [];
  #draining = false;
  /** Offset of the last record this log appended (what an empty write resolves with). */
  #lastOffset = -1;

  constructor(opts: CoordinatorPartitionLogOptions) {
    this.#rm = opts.replicaManager;
    this.#topic = opts.topic;
    this.#partition = opts.partition;
    this.#timeoutMs = opts.appendTimeoutMs ?? 30_000;
    this.#readBytes = opts.readBytes ?? 4 * 1024 * 1024;
    this.#now = opts.now ?? Date.now;
  }

  append(records: readonly CoordinatorRecord[]): Promise<number> {
    const done = new Deferred<number>();
    const batch = records.length === 0 ? null : coordinatorBatch(records, { timestamp: this.#now() });
    // The batch promise is awaited by the drain loop; a failure must not surface as unhandled first.
    batch?.catch(() => undefined);
    this.#queue.push({ batch, count: records.length, done });
    if (!this.#draining) void this.#drain();
    return done.promise;
  }

  async #drain(): Promise<void> {
    this.#draining = true;
    try {
      while (this.#queue.length > 0) {
        const writes = this.#queue.splice(0, MAX_WRITES_PER_APPEND);
        await this.#appendAll(writes);
      }
    } finally {
      this.#draining = false;
    }
  }

  async #appendAll(writes: readonly PendingWrite[]): Promise<void> {
    const fail = (e: unknown): void => writes.forEach((w) => w.done.reject(e));
    let buffers: Buffer[];
    try {
      buffers = (await Promise.all(writes.map((w) => w.batch))).filter((b): b is Buffer => b !== null);
    } catch (e) {
      fail(new CoordinatorError(ErrorCode.UNKNOWN_SERVER_ERROR, 'could not build a coordinator batch', { cause: e }));
      return;
    }
    if (buffers.length > 0) {
      let result;
      try {
        [result] = await this.#rm.appendRecords({
          entries: [{ topic: this.#topic, partition: this.#partition, records: buffers.length === 1 ? buffers[0]! : Buffer.concat(buffers) }],
          requiredAcks: -1,
          timeoutMs: this.#timeoutMs,
          origin: 'coordinator',
        });
      } catch (e) {
        fail(new CoordinatorError(ErrorCode.NOT_COORDINATOR, `append to ${this.#topic}-${this.#partition} failed`, { cause: e }));
        return;
      }
      if (result === undefined || result.errorCode !== ErrorCode.NONE) {
        const code = result?.errorCode ?? ErrorCode.UNKNOWN_SERVER_ERROR;
        fail(new CoordinatorError(appendErrorToCoordinatorError(code), `append to ${this.#topic}-${this.#partition} failed: ${result?.errorMessage ?? code}`));
        return;
      }
      // The batches went in back to back from the base offset, one record per offset.
      let offset = result.baseOffset - 1;
      for (const w of writes) {
        offset += w.count;
        w.done.resolve(w.count === 0 ? Math.max(offset, this.#lastOffset) : offset);
      }
      this.#lastOffset = offset;
      return;
    }
    for (const w of writes) w.done.resolve(this.#lastOffset);
  }

  async *replay(): AsyncGenerator<CoordinatorRecord> {
    const p = this.#rm.getPartition(this.#topic, this.#partition);
    if (p === undefined) throw new CoordinatorError(ErrorCode.NOT_COORDINATOR, `${this.#topic}-${this.#partition} is not hosted here`);
    const log = p.log;
    const end = log.logEndOffset;
    let offset = log.logStartOffset;
    while (offset < end) {
      const r = await log.read(offset, this.#readBytes, { minOneMessage: true });
      const buf = r.records.length === 1 ? r.records[0]! : Buffer.concat(r.records);
      let next = offset;
      for (const b of iterateBatches(buf)) next = b.header.baseOffset + b.header.lastOffsetDelta + 1;
      if (next <= offset) break;
      yield* coordinatorRecordsOf(buf);
      offset = next;
    }
    this.#lastOffset = offset - 1;
  }
}
