// Where the Raft log lives: the seam between consensus and the disk. The production store is a storage
// Log (`__cluster_metadata-0`) in durable mode, so an append resolves only after an fsync covers it
// (group commit shares fsyncs between concurrent appends). The memory store is for deterministic tests
// and simulations, where a "crash" is simply dropping the unflushed tail.
import fs from 'node:fs/promises';
import { dirname } from 'node:path';
import { LAST_OFFSET_DELTA_OFFSET, LENGTH_OFFSET, LOG_OVERHEAD, patchBaseOffset, patchPartitionLeaderEpoch, readInt64 } from '../protocol/records/batch-header.js';
import { StrataError } from '../protocol/strata-error.js';
import type { Clock } from '../storage/clock.js';
import { fsyncDir } from '../storage/file-handles.js';
import { AppendOrigin, Log, type StorageLogger } from '../storage/log.js';
import { logConfig } from '../storage/log-config.js';

export interface LogStoreAppend {
  readonly firstOffset: number;
  readonly lastOffset: number;
}

export interface LogStore {
  /** The next offset to assign. */
  readonly endOffset: number;
  /** The first offset still in the log (batches below it were removed after a snapshot). */
  readonly startOffset: number;
  /** The highest leader epoch of any batch in the log, or -1 for an empty log. */
  lastEpoch(): number;
  /** Appends whole v2 batches, assigning offsets from endOffset and stamping `epoch`; resolves once durable. */
  append(batches: Buffer, epoch: number): Promise<LogStoreAppend>;
  /** Whole batches starting at `from` (at least one if any exists), about `maxBytes` of them. */
  read(from: number, maxBytes: number): Promise<Buffer[]>;
  /** Removes whole batches (or segments) that end below `offset`; what remains may start before it. */
  truncateBefore(offset: number): Promise<void>;
  close(): Promise<void>;
}

/** The name of the metadata log's partition directory, as Kafka names it. */
export const METADATA_PARTITION_DIR = '__cluster_metadata-0';

/** Kafka's KafkaRaftClient.MAX_BATCH_SIZE_BYTES: the largest batch the metadata log takes. */
export const MAX_METADATA_BATCH_BYTES = 8 * 1024 * 1024;

export interface StorageLogStoreOptions {
  /** The partition directory (`<metadata.log.dir>/__cluster_metadata-0`). */
  readonly dir: string;
  readonly clock?: Clock;
  readonly logger?: StorageLogger;
  /** metadata.log.segment.bytes (Kafka's default: 1 GiB). */
  readonly segmentBytes?: number;
}

export class StorageLogStore implements LogStore {
  readonly #log: Log;

  private constructor(log: Log) {
    this.#log = log;
  }

  /** Opens (and recovers) the log: a torn tail left by a crash is truncated here. */
  static async open(opts: StorageLogStoreOptions): Promise<StorageLogStore> {
    // A new partition directory must survive a power loss along with its first fsynced batch.
    if ((await fs.mkdir(opts.dir, { recursive: true })) !== undefined) await fsyncDir(dirname(opts.dir));
    const log = await Log.open({
      dir: opts.dir,
      config: logConfig({
        durableAppend: true,
        segmentBytes: opts.segmentBytes ?? 1073741824,
        // Metadata is never deleted by time or size; snapshots will bound it later.
        retentionMs: -1,
        retentionBytes: -1,
        maxMessageBytes: MAX_METADATA_BATCH_BYTES + 1024,
        // Segments below a snapshot are removed at once, not after a delay.
        fileDeleteDelayMs: 0,
      }),
      ...(opts.clock ? { clock: opts.clock } : {}),
      ...(opts.logger ? { logger: opts.logger } : {}),
    });
    log.updateHighWatermark(log.logEndOffset);
    return new StorageLogStore(log);
  }

  get endOffset(): number {
    return this.#log.logEndOffset;
  }

  get startOffset(): number {
    return this.#log.localLogStartOffset;
  }

  /** The underlying storage log (for tests and tooling). */
  get log(): Log {
    return this.#log;
  }

  lastEpoch(): number {
    return this.#log.leaderEpochCache.latestEpoch() ?? -1;
  }

  async append(batches: Buffer, epoch: number): Promise<LogStoreAppend> {
    const r = await this.#log.append(batches, { origin: AppendOrigin.coordinator, leaderEpoch: epoch });
    this.#log.updateHighWatermark(r.lastOffset + 1);
    return { firstOffset: r.firstOffset, lastOffset: r.lastOffset };
  }

  async read(from: number, maxBytes: number): Promise<Buffer[]> {
    if (from >= this.#log.logEndOffset) return [];
    const r = await this.#log.read(from, maxBytes, { minOneMessage: true });
    return r.records;
  }

  /** Deletes the segments that lie entirely below `offset` (the active segment always stays). */
  async truncateBefore(offset: number): Promise<void> {
    const segments = this.#log.segments;
    let keepFrom = segments[0]?.baseOffset ?? 0;
    for (let i = 1; i < segments.length; i++) if (segments[i]!.baseOffset <= offset) keepFrom = segments[i]!.baseOffset;
    if (keepFrom <= this.#log.logStartOffset) return;
    await this.#log.deleteRecordsBefore(keepFrom);
    await this.#log.purgeDeletedSegments();
  }

  close(): Promise<void> {
    return this.#log.close();
  }
}

/**
 * A log in memory, for deterministic tests and simulations. By default an append is durable at once.
 * With `manualSync`, appends resolve only when `sync()` makes them durable, and `crash()` drops the
 * batches not yet synced (rejecting their appends), as a power loss would.
 */
export class MemoryLogStore implements LogStore {
  readonly #batches: { base: number; last: number; epoch: number; bytes: Buffer }[] = [];
  #durable = 0;
  readonly #manualSync: boolean;
  #waiting: { resolve: () => void; reject: (e: unknown) => void }[] = [];

  constructor(opts: { manualSync?: boolean } = {}) {
    this.#manualSync = opts.manualSync ?? false;
  }

  get endOffset(): number {
    const last = this.#batches[this.#batches.length - 1];
    return last === undefined ? this.#start : last.last + 1;
  }

  #start = 0;

  get startOffset(): number {
    return this.#batches[0]?.base ?? this.#start;
  }

  lastEpoch(): number {
    return this.#batches.reduce((m, b) => Math.max(m, b.epoch), -1);
  }

  truncateBefore(offset: number): Promise<void> {
    let n = 0;
    while (n < this.#batches.length - 1 && this.#batches[n]!.last < offset) n++;
    if (n > 0) {
      this.#start = this.#batches[n]!.base;
      this.#batches.splice(0, n);
      this.#durable = Math.max(0, this.#durable - n);
    }
    return Promise.resolve();
  }

  append(batches: Buffer, epoch: number): Promise<LogStoreAppend> {
    const first = this.endOffset;
    let next = first;
    let at = 0;
    while (at < batches.length) {
      const size = LOG_OVERHEAD + batches.readInt32BE(at + LENGTH_OFFSET);
      if (size <= LOG_OVERHEAD || at + size > batches.length) return Promise.reject(new StrataError('ERR_CORRUPT_RECORD', 'torn batch'));
      const bytes = Buffer.from(batches.subarray(at, at + size));
      patchBaseOffset(bytes, 0, next);
      patchPartitionLeaderEpoch(bytes, 0, epoch);
      const last = next + bytes.readInt32BE(LAST_OFFSET_DELTA_OFFSET);
      this.#batches.push({ base: next, last, epoch, bytes });
      next = last + 1;
      at += size;
    }
    const result = { firstOffset: first, lastOffset: next - 1 };
    if (!this.#manualSync) {
      this.#durable = this.#batches.length;
      return Promise.resolve(result);
    }
    return new Promise((resolve, reject) => this.#waiting.push({ resolve: () => resolve(result), reject }));
  }

  read(from: number, maxBytes: number): Promise<Buffer[]> {
    const out: Buffer[] = [];
    let size = 0;
    for (const b of this.#batches) {
      if (b.last < from) continue;
      if (out.length > 0 && size + b.bytes.length > maxBytes) break;
      out.push(b.bytes);
      size += b.bytes.length;
    }
    return Promise.resolve(out);
  }

  /** Makes everything appended so far durable and resolves the appends waiting for it. */
  sync(): void {
    this.#durable = this.#batches.length;
    const done = this.#waiting;
    this.#waiting = [];
    for (const w of done) w.resolve();
  }

  /** Drops every batch not yet durable, as a crash would; their appends fail. */
  crash(): void {
    this.#batches.length = this.#durable;
    const lost = this.#waiting;
    this.#waiting = [];
    for (const w of lost) w.reject(new StrataError('ERR_STORAGE', 'simulated crash before the append was durable'));
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  /** Base offsets and epochs of the batches (for tests). */
  get batchSummaries(): { baseOffset: number; lastOffset: number; epoch: number }[] {
    return this.#batches.map((b) => ({ baseOffset: readInt64(b.bytes, 0), lastOffset: b.last, epoch: b.epoch }));
  }
}
