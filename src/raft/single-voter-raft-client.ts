// The Raft client of a quorum with one voter: this node. It is always the leader; a batch is committed
// as soon as it is durable in the local log, and the high watermark is the end of the durable prefix.
//
// On start it takes a new epoch (one past the highest in quorum-state or the log), records it in
// quorum-state before leading (a voter must never reuse an epoch), replays the whole log to the
// listeners, then writes a LeaderChangeMessage control batch for the new epoch, as a Kafka leader does.
//
// Appends are pipelined: offsets are assigned in call order, several appends can be waiting for the
// same group-commit fsync, and commits are delivered to listeners strictly in offset order.
// With a snapshot store, start-up loads the newest snapshot and replays only the log after it;
// createSnapshot stores one and removes the log segments below it.
import { isControl } from '../protocol/records/batch-header.js';
import { iterateBatches } from '../protocol/records/batches.js';
import { decodeBatchRecords } from '../protocol/records/batch-records.js';
import { buildBatchSync } from '../protocol/records/builder.js';
import { StrataError } from '../protocol/strata-error.js';
import { type Clock, systemClock } from '../storage/clock.js';
import { leaderChangeBatch } from './control-records.js';
import { type LogStore, MAX_METADATA_BATCH_BYTES } from './log-store.js';
import type { QuorumStateStore } from './quorum-state.js';
import type { CommittedBatch, LeaderAndEpoch, RaftClient, RaftListener, RecordSerde, SnapshotId } from './raft-client.js';
import { buildSnapshot, readSnapshot, type SnapshotStore } from './snapshots.js';

export interface SingleVoterRaftOptions<T> {
  readonly nodeId: number;
  readonly logStore: LogStore;
  readonly quorumState: QuorumStateStore;
  readonly serde: RecordSerde<T>;
  /** Where snapshots live; without one, createSnapshot is refused and the whole log is replayed. */
  readonly snapshots?: SnapshotStore;
  readonly clock?: Clock;
  /** Largest batch accepted (default: Kafka's 8 MiB). */
  readonly maxBatchBytes?: number;
  /** Bytes read per step of the start-up replay (default 1 MiB). */
  readonly replayReadBytes?: number;
}

interface PendingAppend<T> {
  readonly baseOffset: number;
  readonly lastOffset: number;
  readonly records: readonly T[];
  readonly sizeInBytes: number;
  readonly appendTimestamp: number;
  durable: boolean;
  readonly resolve: (offset: number) => void;
  readonly reject: (e: unknown) => void;
}

const NO_LEADER: LeaderAndEpoch = Object.freeze({ leaderId: -1, epoch: 0 });

export class SingleVoterRaftClient<T> implements RaftClient<T> {
  readonly #nodeId: number;
  readonly #store: LogStore;
  readonly #quorumState: QuorumStateStore;
  readonly #serde: RecordSerde<T>;
  readonly #snapshots: SnapshotStore | undefined;
  #latestSnapshot: SnapshotId | undefined;
  #snapshotting: Promise<void> = Promise.resolve();
  readonly #clock: Clock;
  readonly #maxBatchBytes: number;
  readonly #replayReadBytes: number;
  readonly #listeners: RaftListener<T>[] = [];
  #leader: LeaderAndEpoch = NO_LEADER;
  #highWatermark = 0;
  #nextOffset = 0;
  readonly #pending: PendingAppend<T>[] = [];
  /** Log appends not yet settled (close waits for them). */
  readonly #inFlight = new Set<Promise<void>>();
  /** Deliveries to listeners, one after the other. */
  #delivery: Promise<void> = Promise.resolve();
  #state: 'new' | 'starting' | 'leader' | 'failed' | 'closed' = 'new';
  #failure: unknown;

  constructor(opts: SingleVoterRaftOptions<T>) {
    this.#nodeId = opts.nodeId;
    this.#store = opts.logStore;
    this.#quorumState = opts.quorumState;
    this.#serde = opts.serde;
    this.#snapshots = opts.snapshots;
    this.#clock = opts.clock ?? systemClock;
    this.#maxBatchBytes = opts.maxBatchBytes ?? MAX_METADATA_BATCH_BYTES;
    this.#replayReadBytes = opts.replayReadBytes ?? 1024 * 1024;
  }

  get leaderAndEpoch(): LeaderAndEpoch {
    return this.#leader;
  }

  get highWatermark(): number {
    return this.#highWatermark;
  }

  get nextOffset(): number {
    return this.#nextOffset;
  }

  get isLeader(): boolean {
    return this.#state === 'leader';
  }

  get latestSnapshot(): SnapshotId | undefined {
    return this.#latestSnapshot;
  }

  async register(listener: RaftListener<T>): Promise<void> {
    if (this.#state === 'starting') throw new StrataError('ERR_STATE', 'register listeners before start() or after it has completed');
    this.#listeners.push(listener);
    if (this.#state === 'new') return;
    // A late listener is brought up to date from the start of the log, in the delivery order.
    const upTo = this.#highWatermark;
    await this.#deliverInOrder(async () => {
      await this.#replay([listener], upTo);
      await listener.handleCatchUpComplete?.();
      listener.handleLeaderChange?.(this.#leader);
    });
  }

  async start(): Promise<void> {
    if (this.#state !== 'new') throw new StrataError('ERR_STATE', `raft client cannot start in state ${this.#state}`);
    this.#state = 'starting';
    try {
      const saved = await this.#quorumState.read();
      this.#latestSnapshot = await this.#snapshots?.latest();
      const snap = this.#latestSnapshot;
      if (snap !== undefined && snap.endOffset > this.#store.endOffset) {
        throw new StrataError('ERR_STATE', `the metadata log ends at ${this.#store.endOffset}, before its snapshot at ${snap.endOffset}`);
      }
      const epoch = Math.max(saved?.leaderEpoch ?? 0, this.#store.lastEpoch(), snap?.epoch ?? 0) + 1;
      const voters = [this.#nodeId];
      // The vote for ourselves is durable before we act as leader of the new epoch.
      await this.#quorumState.write({ leaderEpoch: epoch, leaderId: -1, votedId: this.#nodeId, voters });
      await this.#quorumState.write({ leaderEpoch: epoch, leaderId: this.#nodeId, votedId: this.#nodeId, voters });

      // Everything in the local log is committed: this voter is the whole quorum.
      const end = this.#store.endOffset;
      await this.#deliverInOrder(async () => {
        await this.#replay(this.#listeners, end);
        for (const l of this.#listeners) await l.handleCatchUpComplete?.();
      });
      this.#highWatermark = end;

      const control = leaderChangeBatch({ leaderId: this.#nodeId, voters, epoch, baseOffset: end, timestamp: this.#clock.now() });
      const r = await this.#store.append(control, epoch);
      this.#highWatermark = r.lastOffset + 1;
      this.#nextOffset = r.lastOffset + 1;
      this.#leader = Object.freeze({ leaderId: this.#nodeId, epoch });
      this.#state = 'leader';
      for (const l of this.#listeners) l.handleLeaderChange?.(this.#leader);
    } catch (e) {
      this.#fail(e);
      throw e;
    }
  }

  append(records: readonly T[]): Promise<number> {
    if (this.#state !== 'leader') {
      const why = this.#state === 'failed' ? `failed: ${(this.#failure as Error)?.message ?? String(this.#failure)}` : this.#state;
      return Promise.reject(new StrataError('ERR_STATE', `metadata log is not accepting appends (${why})`, { cause: this.#failure }));
    }
    if (records.length === 0) return Promise.reject(new StrataError('ERR_STATE', 'an append needs at least one record'));
    const epoch = this.#leader.epoch;
    const baseOffset = this.#nextOffset;
    const timestamp = this.#clock.now();
    const batch = buildBatchSync(records.map((r) => ({ key: null, value: this.#serde.write(r) })), {
      baseOffset,
      partitionLeaderEpoch: epoch,
      timestamp,
    });
    if (batch.length > this.#maxBatchBytes) {
      return Promise.reject(new StrataError('ERR_RECORD_TOO_LARGE',
        `a metadata batch of ${records.length} records is ${batch.length} bytes, above the limit of ${this.#maxBatchBytes}`));
    }
    const lastOffset = baseOffset + records.length - 1;
    this.#nextOffset = lastOffset + 1;
    return new Promise<number>((resolve, reject) => {
      const p: PendingAppend<T> = {
        baseOffset, lastOffset, records, sizeInBytes: batch.length, appendTimestamp: timestamp, durable: false, resolve, reject,
      };
      this.#pending.push(p);
      const write = this.#store.append(batch, epoch).then((r) => {
        if (r.firstOffset !== baseOffset || r.lastOffset !== lastOffset) {
          throw new StrataError('ERR_STATE', `metadata log assigned offsets ${r.firstOffset}-${r.lastOffset}, expected ${baseOffset}-${lastOffset}`);
        }
        p.durable = true;
        this.#commitDurablePrefix();
      }).catch((e: unknown) => this.#fail(e));
      this.#inFlight.add(write);
      void write.finally(() => this.#inFlight.delete(write));
    });
  }

  createSnapshot(id: SnapshotId, records: readonly T[]): Promise<void> {
    const store = this.#snapshots;
    if (store === undefined) return Promise.reject(new StrataError('ERR_STATE', 'this raft client has no snapshot store'));
    if (id.endOffset > this.#highWatermark) {
      return Promise.reject(new StrataError('ERR_STATE', `a snapshot at ${id.endOffset} would be past the high watermark ${this.#highWatermark}`));
    }
    if (this.#latestSnapshot !== undefined && id.endOffset <= this.#latestSnapshot.endOffset) return Promise.resolve();
    const bytes = buildSnapshot(records, this.#serde, { lastContainedLogTimestamp: this.#clock.now(), timestamp: this.#clock.now() });
    // One snapshot write at a time; each removes the log below it once it is durable.
    const next = this.#snapshotting.then(async () => {
      if (this.#latestSnapshot !== undefined && id.endOffset <= this.#latestSnapshot.endOffset) return;
      await store.write(id, bytes);
      this.#latestSnapshot = id;
      await this.#store.truncateBefore(id.endOffset);
    });
    this.#snapshotting = next.catch(() => undefined);
    return next;
  }

  /** Commits the pending appends at the head of the queue that are durable, in offset order. */
  #commitDurablePrefix(): void {
    while (this.#pending.length > 0 && this.#pending[0]!.durable) {
      const p = this.#pending.shift()!;
      this.#highWatermark = p.lastOffset + 1;
      const batch: CommittedBatch<T> = {
        baseOffset: p.baseOffset,
        lastOffset: p.lastOffset,
        epoch: this.#leader.epoch,
        appendTimestamp: p.appendTimestamp,
        sizeInBytes: p.sizeInBytes,
        records: p.records,
      };
      const listeners = [...this.#listeners];
      this.#deliverInOrder(async () => {
        for (const l of listeners) await l.handleCommit(batch);
      }).then(() => p.resolve(p.lastOffset), (e: unknown) => {
        p.reject(e);
        this.#fail(e);
      });
    }
  }

  #deliverInOrder(fn: () => Promise<void>): Promise<void> {
    const next = this.#delivery.then(fn);
    this.#delivery = next.catch(() => undefined);
    return next;
  }

  /** Hands `listeners` the newest snapshot, then every data batch after it up to `end`. */
  async #replay(listeners: readonly RaftListener<T>[], end: number): Promise<void> {
    let offset = 0;
    const snap = this.#latestSnapshot;
    if (snap !== undefined && this.#snapshots !== undefined) {
      const records = await readSnapshot(await this.#snapshots.read(snap), this.#serde);
      for (const l of listeners) {
        if (l.handleLoadSnapshot === undefined) throw new StrataError('ERR_STATE', 'a listener that cannot load snapshots cannot follow this log');
        await l.handleLoadSnapshot({ id: snap, records });
      }
      offset = snap.endOffset;
    }
    if (this.#store.startOffset > offset) {
      throw new StrataError('ERR_STATE', `the metadata log starts at ${this.#store.startOffset} but no snapshot covers the offsets before it`);
    }
    while (offset < end) {
      const chunks = await this.#store.read(offset, this.#replayReadBytes);
      if (chunks.length === 0) break;
      for (const chunk of chunks) {
        for (const b of iterateBatches(chunk)) {
          const h = b.header;
          const last = h.baseOffset + h.lastOffsetDelta;
          if (last < offset) continue;
          if (h.baseOffset >= end) return;
          offset = last + 1;
          if (isControl(h.attributes)) continue;
          const decoded = await decodeBatchRecords(chunk, b);
          const records = decoded.map((r) => {
            if (r.value === null) throw new StrataError('ERR_CORRUPT_RECORD', `metadata record at offset ${r.offset} has a null value`);
            return this.#serde.read(r.value);
          });
          const batch: CommittedBatch<T> = {
            baseOffset: h.baseOffset,
            lastOffset: last,
            epoch: h.partitionLeaderEpoch,
            appendTimestamp: h.maxTimestamp,
            sizeInBytes: b.size,
            records,
          };
          for (const l of listeners) await l.handleCommit(batch);
        }
      }
    }
  }

  #fail(e: unknown): void {
    // Nothing after a failed append may commit: later batches would follow a hole in the log.
    const pending = this.#pending.splice(0);
    for (const p of pending) p.reject(new StrataError('ERR_STATE', `metadata log failed: ${(e as Error)?.message ?? String(e)}`, { cause: e }));
    if (this.#state === 'failed' || this.#state === 'closed') return;
    this.#state = 'failed';
    this.#failure = e;
    this.#leader = Object.freeze({ leaderId: -1, epoch: this.#leader.epoch });
    for (const l of this.#listeners) l.handleLeaderChange?.(this.#leader);
  }

  /** Stops accepting appends, waits for those in flight, and closes the log. */
  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    await Promise.allSettled([...this.#inFlight]);
    await this.#delivery;
    await this.#snapshotting;
    await this.#store.close();
  }
}
