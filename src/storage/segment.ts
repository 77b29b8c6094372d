// One segment of a partition log: `<base>.log` with its `.index`, `.timeindex` and `.txnindex`.
// The segment knows positions and indexes; offset assignment, producer state and the choice of
// segment live in the Log. Appends are serialized by the Log; reads may run concurrently with an
// append and only ever see bytes whose write has completed (`size` moves after the write).
import fs from 'node:fs/promises';
import path from 'node:path';
import {
  LAST_OFFSET_DELTA_OFFSET,
  LENGTH_OFFSET,
  LOG_OVERHEAD,
  MAX_TIMESTAMP_OFFSET,
  NO_TIMESTAMP,
  readBatchHeader,
  readInt64,
} from '../protocol/records/batch-header.js';
import { decodeBatchRecords } from '../protocol/records/batch-records.js';
import type { DecodedRecord } from '../protocol/records/record.js';
import { batchProblem, scanBatches, type ScanStop } from './batch-scan.js';
import type { Clock } from './clock.js';
import type { SegmentTail, TailCache } from './tail-cache.js';
import { fdatasync, type FileHandlePool, ftruncate, readFully } from './file-handles.js';
import type { InlineWrites } from './inline-writes.js';
import { CorruptIndexError, type IndexLru } from './index-file.js';
import { type LogConfig, randomSegmentJitter } from './log-config.js';
import { LogError } from './log-errors.js';
import { OffsetIndex } from './offset-index.js';
import { PositionHints } from './position-hints.js';
import { TimeIndex } from './time-index.js';
import { TransactionIndex } from './txn-index.js';
import { sharedBufferPool } from '../protocol/buffer-pool.js';

export const LOG_FILE_SUFFIX = '.log';
export const INDEX_FILE_SUFFIX = '.index';
export const TIME_INDEX_FILE_SUFFIX = '.timeindex';
export const TXN_INDEX_FILE_SUFFIX = '.txnindex';
export const DELETED_FILE_SUFFIX = '.deleted';
export const CLEANED_FILE_SUFFIX = '.cleaned';
export const SWAP_FILE_SUFFIX = '.swap';

const INT32_MAX = 0x7fffffff;
/** Up to this size, finding a segment's end reads the whole file rather than the index first. */
const SMALL_SEGMENT_SCAN_BYTES = 64 * 1024;

/** Kafka's 20-digit zero-padded file name prefix for an offset. */
export const offsetFileName = (offset: number): string => String(offset).padStart(20, '0');

export function segmentFilePath(dir: string, baseOffset: number, kind: string, suffix = ''): string {
  return path.join(dir, offsetFileName(baseOffset) + kind + suffix);
}

export interface SegmentContext {
  readonly pool: FileHandlePool;
  /** Decides which appends are written on the event loop and which in the thread pool. */
  readonly inlineWrites: InlineWrites;
  readonly clock: Clock;
  readonly config: LogConfig;
  readonly indexLru?: IndexLru;
  readonly random?: () => number;
  /** Keeps recently appended bytes in memory for consumers at the tail; none when absent. */
  readonly tailCache?: TailCache;
  /** Called with a human-readable line when an index had to be rebuilt. */
  readonly onIndexRebuilt?: (segment: LogSegment, reason: string) => void;
}

export interface BatchLocation {
  readonly baseOffset: number;
  readonly lastOffset: number;
  readonly position: number;
  readonly size: number;
}

export interface SegmentRead {
  /** Whole batches only; empty when the first batch does not fit and minOneMessage is false. */
  readonly records: Buffer;
  readonly position: number;
  /** Base offset of the first batch returned (or that would have been). */
  readonly firstBatchOffset: number;
}

export interface RecoveredBatch {
  readonly buf: Buffer;
  readonly at: number;
  readonly position: number;
  readonly size: number;
  readonly baseOffset: number;
  readonly lastOffset: number;
}

export interface SegmentRecovery {
  readonly validBytes: number;
  readonly truncatedBytes: number;
  readonly batches: number;
  /** Why the scan stopped before the end of the file, if it did. */
  readonly problem?: string;
  readonly nextOffset: number;
}

export interface RollParams {
  readonly maxTimestampInMessages: number;
  readonly maxOffsetInMessages: number;
  readonly messagesSize: number;
  readonly now: number;
}

/**
 * How many bytes a read starting at a batch boundary takes first: `maxSize`, or with minOneMessage at
 * least the first batch (`firstSize` when known, else a header, which tells its size), never past `limit`.
 */
function firstReadLength(limit: number, maxSize: number, minOneMessage: boolean, firstSize: number): number {
  return Math.min(limit, minOneMessage ? Math.max(maxSize, firstSize, LOG_OVERHEAD) : maxSize);
}

/** With minOneMessage, the length to read again when `buf` holds only part of the first batch; else 0. */
function wholeFirstBatchLength(buf: Buffer, limit: number, minOneMessage: boolean): number {
  if (!minOneMessage || buf.length < LOG_OVERHEAD) return 0;
  const size = LOG_OVERHEAD + buf.readInt32BE(LENGTH_OFFSET);
  return size > buf.length && size <= limit ? size : 0;
}

export class LogSegment {
  readonly baseOffset: number;
  readonly rollJitterMs: number;
  readonly offsetIndex: OffsetIndex;
  readonly timeIndex: TimeIndex;
  readonly txnIndex: TransactionIndex;
  readonly #ctx: SegmentContext;
  readonly #tail: SegmentTail | undefined;
  readonly #dir: string;
  #suffix: string;
  #size: number;
  #created: number;
  #rollingBasedTimestamp: number | undefined;
  /** Largest batch max timestamp and the last offset of that batch; undefined = not read yet. */
  #maxTimestamp: number | undefined;
  #offsetOfMaxTimestamp = -1;
  #bytesSinceLastIndexEntry = 0;
  /** Offset → file position of the batch starting there: where the last reads ended. */
  readonly #positionHints = new PositionHints();
  /** Bytes written since the last fsync of the log file. */
  #dirty = false;
  /** Renamed for deletion or deleted: background work skips it. */
  #deleted = false;

  private constructor(dir: string, baseOffset: number, ctx: SegmentContext, suffix: string, size: number,
    indexLength: number | undefined, timeIndexLength: number | undefined) {
    this.#dir = dir;
    this.baseOffset = baseOffset;
    this.#ctx = ctx;
    this.#suffix = suffix;
    this.#size = size;
    this.#tail = ctx.tailCache?.forSegment();
    this.#created = ctx.clock.now();
    this.rollJitterMs = randomSegmentJitter(ctx.config, ctx.random);
    const maxIndex = ctx.config.segmentIndexBytes;
    this.offsetIndex = new OffsetIndex(this.#file(INDEX_FILE_SUFFIX), baseOffset, maxIndex, ctx.pool, indexLength, ctx.indexLru);
    this.timeIndex = new TimeIndex(this.#file(TIME_INDEX_FILE_SUFFIX), baseOffset, maxIndex, ctx.pool, timeIndexLength, ctx.indexLru);
    this.txnIndex = new TransactionIndex(baseOffset, this.#file(TXN_INDEX_FILE_SUFFIX));
  }

  /** A new, empty segment (any stale files at its name are emptied). */
  static async create(dir: string, baseOffset: number, ctx: SegmentContext, suffix = ''): Promise<LogSegment> {
    const seg = new LogSegment(dir, baseOffset, ctx, suffix, 0, 0, 0);
    await ctx.pool.use(seg.logPath, (fd) => ftruncate(fd, 0), true);
    await seg.offsetIndex.reset();
    await seg.timeIndex.reset();
    await seg.txnIndex.reset();
    return seg;
  }

  /**
   * An existing segment from its log file's size; reads nothing until used (index sizes are learnt
   * when an index is first loaded; a missing index is rebuilt then).
   */
  static open(dir: string, baseOffset: number, ctx: SegmentContext,
    sizes: { log: number; index?: number; timeIndex?: number }, suffix = ''): LogSegment {
    return new LogSegment(dir, baseOffset, ctx, suffix, sizes.log, sizes.index, sizes.timeIndex);
  }

  get isActive(): boolean {
    return this.offsetIndex.isActive;
  }

  #file(kind: string): string {
    return segmentFilePath(this.#dir, this.baseOffset, kind, this.#suffix);
  }

  /** Asked on every append and read, so kept until a rename changes it. */
  #logPath: string | undefined;

  get logPath(): string {
    if (this.#logPath === undefined) this.#logPath = this.#file(LOG_FILE_SUFFIX);
    return this.#logPath;
  }

  get dir(): string {
    return this.#dir;
  }

  get suffix(): string {
    return this.#suffix;
  }

  /** Bytes in the `.log` file. */
  get size(): number {
    return this.#size;
  }

  get created(): number {
    return this.#created;
  }

  /** Makes the indexes writable and preallocated (this segment takes appends). */
  async makeActive(): Promise<void> {
    await this.#loadIndexes();
    await this.offsetIndex.makeActive();
    await this.timeIndex.makeActive();
    // Same rule as recovery: the bytes since the last indexed batch, so a reopened segment indexes
    // exactly where a rebuilt one would.
    this.#bytesSinceLastIndexEntry = this.#size - this.offsetIndex.lastEntry.position;
  }

  async #loadIndexes(): Promise<void> {
    try {
      await this.offsetIndex.load();
      await this.timeIndex.load();
    } catch (e) {
      if (!(e instanceof CorruptIndexError)) throw e;
      await this.rebuildIndexes(e.message);
    }
  }

  /** Rebuilds both indexes from the log without changing the log (a corrupt index found later). */
  async rebuildIndexes(reason: string): Promise<void> {
    await this.offsetIndex.reset();
    await this.timeIndex.reset();
    let lastIndexed = 0;
    let maxTs = NO_TIMESTAMP;
    let maxTsOffset = -1;
    const interval = this.#ctx.config.indexIntervalBytes;
    await scanBatches(this.#ctx.pool, this.logPath, 0, this.#size, 'header', (buf, at, position) => {
      const lastOffset = readInt64(buf, at) + buf.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET);
      const ts = readInt64(buf, at + MAX_TIMESTAMP_OFFSET);
      if (ts > maxTs) {
        maxTs = ts;
        maxTsOffset = lastOffset;
      }
      if (position - lastIndexed > interval) {
        this.offsetIndex.append(lastOffset, position);
        this.timeIndex.maybeAppend(maxTs, maxTsOffset);
        lastIndexed = position;
      }
    });
    this.timeIndex.maybeAppend(maxTs, maxTsOffset, true);
    this.#maxTimestamp = maxTs;
    this.#offsetOfMaxTimestamp = maxTsOffset;
    await this.offsetIndex.trimToValidSize();
    await this.timeIndex.trimToValidSize();
    this.#bytesSinceLastIndexEntry = this.#size - lastIndexed;
    if (this.offsetIndex.isActive) {
      await this.offsetIndex.makeActive();
      await this.timeIndex.makeActive();
    }
    this.#ctx.onIndexRebuilt?.(this, reason);
  }

  // ------------------------------------------------------------------------------------------------
  // Append

  /**
   * Writes `records` (complete batches with offsets assigned) at the end of the file and indexes
   * them. `largestOffset` is the last offset in `records`.
   */
  async append(records: Buffer, largestOffset: number): Promise<void> {
    if (records.length === 0) return;
    if (!this.offsetIndex.canAppendOffset(largestOffset)) {
      // Input, not disk, is wrong here (offsets spanning more than Int32 in one append): not an I/O failure.
      throw new LogError('INVALID_RECORD', `offset ${largestOffset} overflows segment ${this.logPath}`);
    }
    await this.#readMaxTimestamp();
    const physical = this.#size;
    const inline = this.#ctx.inlineWrites;
    await this.#ctx.pool.use(this.logPath, (fd) => inline.writeWhereAllowed(fd, records, 0, records.length, physical));
    this.#appended(records, physical);
  }

  /** Whether appendNow would take `bytes` (short of its file having been closed meanwhile). */
  canAppendNow(bytes: number): boolean {
    return this.isActive && this.#maxTimestamp !== undefined && this.#ctx.inlineWrites.allows(bytes);
  }

  /**
   * append() done within this call when nothing in it has to wait: the segment is active with its state
   * loaded, its file is open and the write may be made on this thread (see inline-writes.ts). Returns
   * false, having done nothing, otherwise.
   */
  appendNow(records: Buffer, largestOffset: number): boolean {
    if (!this.canAppendNow(records.length)) return false;
    if (records.length === 0) return true;
    if (!this.offsetIndex.canAppendOffset(largestOffset)) {
      throw new LogError('INVALID_RECORD', `offset ${largestOffset} overflows segment ${this.logPath}`);
    }
    const physical = this.#size;
    const inline = this.#ctx.inlineWrites;
    if (!this.#ctx.pool.useNow(this.logPath, (fd) => inline.write(fd, records, 0, records.length, physical))) return false;
    this.#appended(records, physical);
    return true;
  }

  /** Size, cache and indexes after `records` were written at file position `physical`. */
  #appended(records: Buffer, physical: number): void {
    this.#size = physical + records.length;
    this.#dirty = true;
    this.#tail?.add(physical, records);
    this.#indexAppended(records, physical);
  }

  /** Index bookkeeping for batches just written at file position `physical` (one entry per interval). */
  #indexAppended(records: Buffer, physical: number): void {
    const interval = this.#ctx.config.indexIntervalBytes;
    let largestTimestamp = NO_TIMESTAMP;
    for (let at = 0; at < records.length; at += LOG_OVERHEAD + records.readInt32BE(at + LENGTH_OFFSET)) {
      const ts = readInt64(records, at + MAX_TIMESTAMP_OFFSET);
      if (ts > largestTimestamp) largestTimestamp = ts;
    }
    if (physical === 0) this.#rollingBasedTimestamp = largestTimestamp;
    let at = 0;
    while (at < records.length) {
      const size = LOG_OVERHEAD + records.readInt32BE(at + LENGTH_OFFSET);
      const lastOffset = readInt64(records, at) + records.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET);
      const ts = readInt64(records, at + MAX_TIMESTAMP_OFFSET);
      if (ts > this.#maxTimestamp!) {
        this.#maxTimestamp = ts;
        this.#offsetOfMaxTimestamp = lastOffset;
      }
      if (this.#bytesSinceLastIndexEntry > interval) {
        this.offsetIndex.append(lastOffset, physical + at);
        this.timeIndex.maybeAppend(this.#maxTimestamp!, this.#offsetOfMaxTimestamp);
        this.#bytesSinceLastIndexEntry = 0;
      }
      this.#bytesSinceLastIndexEntry += size;
      at += size;
    }
  }

  /** The largest batch timestamp so far (from the time index's last entry until appends move it). */
  async #readMaxTimestamp(): Promise<number> {
    if (this.#maxTimestamp === undefined) {
      try {
        const last = await this.timeIndex.readLastEntry();
        this.#maxTimestamp = last.timestamp;
        this.#offsetOfMaxTimestamp = last.offset;
      } catch (e) {
        if (!(e instanceof CorruptIndexError)) throw e;
        await this.rebuildIndexes(e.message);
      }
    }
    return this.#maxTimestamp!;
  }

  async maxTimestampSoFar(): Promise<{ timestamp: number; offset: number }> {
    const timestamp = await this.#readMaxTimestamp();
    return { timestamp, offset: this.#offsetOfMaxTimestamp };
  }

  /** The largest record timestamp, or the file's modification time when there is none (retention). */
  async largestTimestamp(): Promise<number> {
    const ts = await this.#readMaxTimestamp();
    if (ts >= 0) return ts;
    return this.lastModified();
  }

  async lastModified(): Promise<number> {
    try {
      return (await fs.stat(this.logPath)).mtimeMs;
    } catch {
      return this.#ctx.clock.now();
    }
  }

  // ------------------------------------------------------------------------------------------------
  // Roll decisions (Kafka's LogSegment.shouldRoll)

  async shouldRoll(p: RollParams): Promise<boolean> {
    const now = this.shouldRollNow(p);
    if (now !== undefined) return now;
    const firstTimestamp = this.#size > 0 ? await this.firstBatchTimestamp() : NO_TIMESTAMP;
    await this.#loadIndexes();
    return this.#rollRule(p, firstTimestamp);
  }

  /**
   * shouldRoll() answered within this call: undefined when the answer needs the disk (indexes not
   * loaded, or the first batch's timestamp not read yet).
   */
  shouldRollNow(p: RollParams): boolean | undefined {
    if (this.#size > this.#ctx.config.segmentBytes - p.messagesSize) return true;
    if (!this.isActive) return undefined;
    const firstTimestamp = this.#size > 0 ? this.#rollingBasedTimestamp : NO_TIMESTAMP;
    return firstTimestamp === undefined ? undefined : this.#rollRule(p, firstTimestamp);
  }

  /**
   * Kafka's roll rule: full, old (measured from the first batch's max timestamp when it has one, else from
   * creation time), or indexes full or unable to take the offsets. The indexes must be loaded.
   */
  #rollRule(p: RollParams, firstTimestamp: number): boolean {
    const cfg = this.#ctx.config;
    if (this.#size > cfg.segmentBytes - p.messagesSize) return true;
    if (this.#size > 0) {
      const waited = firstTimestamp >= 0 ? p.maxTimestampInMessages - firstTimestamp : p.now - this.#created;
      if (waited > cfg.segmentMs - this.rollJitterMs) return true;
    }
    return this.offsetIndex.isFull() || this.timeIndex.isFull() || !this.offsetIndex.canAppendOffset(p.maxOffsetInMessages);
  }

  async firstBatchTimestamp(): Promise<number> {
    if (this.#rollingBasedTimestamp === undefined && this.#size > 0) {
      await scanBatches(this.#ctx.pool, this.logPath, 0, this.#size, 'header', (buf, at) => {
        this.#rollingBasedTimestamp = readInt64(buf, at + MAX_TIMESTAMP_OFFSET);
        return false;
      }, 4096);
    }
    return this.#rollingBasedTimestamp ?? NO_TIMESTAMP;
  }

  // ------------------------------------------------------------------------------------------------
  // Reads

  /** The batch holding the first offset ≥ `offset`, searched from the index's floor entry. */
  async translateOffset(offset: number, startingPosition = 0): Promise<BatchLocation | undefined> {
    await this.#loadIndexes();
    const hinted = this.#positionHints.get(offset);
    let from = Math.max(this.offsetIndex.lookup(offset).position, startingPosition);
    if (hinted !== undefined && hinted >= from) from = hinted;
    let found: BatchLocation | undefined;
    await scanBatches(this.#ctx.pool, this.logPath, from, this.#size, 'header', (buf, at, position, size) => {
      const base = readInt64(buf, at);
      const last = base + buf.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET);
      if (last < offset) return true;
      found = { baseOffset: base, lastOffset: last, position, size };
      return false;
    });
    return found;
  }

  /**
   * Whole batches from the one holding `startOffset`, at most `maxSize` bytes (or the first batch
   * whole when `minOneMessage`), not past `maxPosition`, excluding batches at or above `upperBound`.
   * Undefined when the segment holds nothing at or after `startOffset`.
   */
  async read(startOffset: number, maxSize: number, maxPosition: number, minOneMessage: boolean,
    upperBound = Number.MAX_SAFE_INTEGER, dest?: Buffer): Promise<SegmentRead | undefined> {
    // A consumer reading on from where its last read ended hits a hint: one read, no header scan.
    const hinted = this.#positionHints.get(startOffset);
    let position: number;
    let firstSize = 0;
    if (hinted !== undefined && hinted < this.#size) {
      position = hinted;
    } else {
      const loc = await this.translateOffset(startOffset);
      if (!loc) return undefined;
      if (loc.baseOffset >= upperBound) return { records: Buffer.alloc(0), position: loc.position, firstBatchOffset: loc.baseOffset };
      position = loc.position;
      firstSize = loc.size;
    }
    const limit = Math.min(maxPosition, this.#size) - position;
    // What was just appended is answered from memory; anything else from the file. Either way a large
    // result is pooled memory holding one reference that the reader owns (see protocol/buffer-pool.ts).
    const fetch = async (n: number): Promise<Buffer> => {
      if (n <= 0) return Buffer.alloc(0);
      const cached = this.#tail?.read(position, n);
      if (cached !== undefined) return cached;
      const into = dest && dest.length >= n ? dest.subarray(0, n) : sharedBufferPool.allocate(n);
      const read = await this.#ctx.pool.use(this.logPath, (fd) => readFully(fd, into, 0, n, position));
      return into.subarray(0, read);
    };
    let buf = await fetch(firstReadLength(limit, maxSize, minOneMessage, firstSize));
    const whole = wholeFirstBatchLength(buf, limit, minOneMessage);
    if (whole > 0) {
      sharedBufferPool.release(buf);
      buf = await fetch(whole);
    }
    return this.#wholeBatches(buf, position, startOffset, upperBound);
  }

  /**
   * read() within this call, for a reader going on from where an earlier read ended (a position hint)
   * into bytes the tail cache still holds; undefined, having read nothing, when the file would have to
   * be read.
   */
  readNow(startOffset: number, maxSize: number, maxPosition: number, minOneMessage: boolean,
    upperBound = Number.MAX_SAFE_INTEGER): SegmentRead | undefined {
    const position = this.#positionHints.get(startOffset);
    const tail = this.#tail;
    if (position === undefined || position >= this.#size || tail === undefined) return undefined;
    const limit = Math.min(maxPosition, this.#size) - position;
    const take = (n: number): Buffer | undefined => (n <= 0 ? Buffer.alloc(0) : tail.read(position, n));
    let buf = take(firstReadLength(limit, maxSize, minOneMessage, 0));
    if (buf === undefined) return undefined;
    const whole = wholeFirstBatchLength(buf, limit, minOneMessage);
    if (whole > 0) {
      sharedBufferPool.release(buf);
      buf = take(whole);
      if (buf === undefined) return undefined;
    }
    return this.#wholeBatches(buf, position, startOffset, upperBound);
  }

  /** The whole batches of `buf` (read at file `position`) below `upperBound`; remembers where they end. */
  #wholeBatches(buf: Buffer, position: number, startOffset: number, upperBound: number): SegmentRead {
    const got = buf.length;
    const firstBatchOffset = got >= 8 ? readInt64(buf, 0) : startOffset;
    if (got < LOG_OVERHEAD) return { records: Buffer.alloc(0), position, firstBatchOffset };
    // Keep whole batches below the upper bound: a consumer gains nothing from a torn last batch.
    let end = 0;
    let nextOffset = firstBatchOffset;
    while (end + LOG_OVERHEAD <= got) {
      const size = LOG_OVERHEAD + buf.readInt32BE(end + LENGTH_OFFSET);
      if (end + size > got || readInt64(buf, end) >= upperBound) break;
      nextOffset = readInt64(buf, end) + buf.readInt32BE(end + LAST_OFFSET_DELTA_OFFSET) + 1;
      end += size;
    }
    if (end > 0) this.#positionHints.set(nextOffset, position + end);
    return { records: buf.subarray(0, end), position, firstBatchOffset };
  }

  /**
   * The next offset after the last batch (Kafka's readNextOffset: a scan from the last index entry).
   * A small segment is scanned from its start in one read without loading the index, which keeps the
   * start-up of many small partitions to a few file operations each.
   */
  async readNextOffset(): Promise<number> {
    let from = 0;
    if (this.#size > SMALL_SEGMENT_SCAN_BYTES) {
      await this.#loadIndexes();
      from = this.offsetIndex.lastEntry.position;
    }
    let next = this.baseOffset;
    await scanBatches(this.#ctx.pool, this.logPath, from, this.#size, 'header', (buf, at) => {
      next = readInt64(buf, at) + buf.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET) + 1;
    }, SMALL_SEGMENT_SCAN_BYTES);
    return next;
  }

  /**
   * Kafka's searchForTimestamp: the first record, in offset order from `startingOffset`, whose
   * timestamp is ≥ `timestamp` (batches whose max timestamp is lower are skipped by their header; a
   * candidate batch is decoded, decompressing if needed). Undefined when this segment has none.
   */
  async findOffsetByTimestamp(timestamp: number, startingOffset: number): Promise<{ timestamp: number; offset: number } | undefined> {
    await this.#loadIndexes();
    const indexed = this.timeIndex.lookup(timestamp);
    let from = this.offsetIndex.lookup(Math.max(indexed.offset, startingOffset)).position;
    for (;;) {
      const candidate = await this.#nextBatchWhere(from, (last, maxTs) => last >= startingOffset && maxTs >= timestamp);
      if (!candidate) return undefined;
      for (const r of await this.#decode(candidate)) {
        if (r.timestamp >= timestamp && r.offset >= startingOffset) return { timestamp: r.timestamp, offset: r.offset };
      }
      from = candidate.position + candidate.size;
    }
  }

  /** The largest timestamp of this segment and the offset of the first record carrying it (Kafka's offsetOfMaxTimestamp). */
  async offsetOfMaxTimestamp(): Promise<{ timestamp: number; offset: number } | undefined> {
    const max = await this.maxTimestampSoFar();
    if (max.timestamp < 0) return undefined;
    await this.#loadIndexes();
    const from = this.offsetIndex.lookup(max.offset).position;
    const batch = await this.#nextBatchWhere(from, (_last, maxTs) => maxTs === max.timestamp)
      ?? await this.#nextBatchWhere(0, (_last, maxTs) => maxTs === max.timestamp);
    if (!batch) return undefined;
    const record = (await this.#decode(batch)).find((r) => r.timestamp === max.timestamp);
    return { timestamp: max.timestamp, offset: record?.offset ?? batch.lastOffset };
  }

  async #nextBatchWhere(from: number, match: (lastOffset: number, maxTimestamp: number) => boolean): Promise<BatchLocation | undefined> {
    let found: BatchLocation | undefined;
    await scanBatches(this.#ctx.pool, this.logPath, from, this.#size, 'header', (buf, at, position, size) => {
      const base = readInt64(buf, at);
      const last = base + buf.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET);
      if (!match(last, readInt64(buf, at + MAX_TIMESTAMP_OFFSET))) return true;
      found = { baseOffset: base, lastOffset: last, position, size };
      return false;
    });
    return found;
  }

  async #decode(loc: BatchLocation): Promise<DecodedRecord[]> {
    const buf = Buffer.allocUnsafe(loc.size);
    const got = await this.#ctx.pool.use(this.logPath, (fd) => readFully(fd, buf, 0, loc.size, loc.position));
    if (got !== loc.size) return [];
    return decodeBatchRecords(buf, { position: 0, size: loc.size, header: readBatchHeader(buf, 0) });
  }

  /** Every batch's location, in order (tests, tools, the cleaner). */
  async batchLocations(): Promise<BatchLocation[]> {
    const out: BatchLocation[] = [];
    await scanBatches(this.#ctx.pool, this.logPath, 0, this.#size, 'header', (buf, at, position, size) => {
      const base = readInt64(buf, at);
      out.push({ baseOffset: base, lastOffset: base + buf.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET), position, size });
    });
    return out;
  }

  // ------------------------------------------------------------------------------------------------
  // Truncation and recovery

  /** Removes every batch with an offset ≥ `offset`; returns the bytes removed. */
  async truncateTo(offset: number): Promise<number> {
    const loc = await this.translateOffset(offset);
    this.offsetIndex.truncateTo(offset);
    this.timeIndex.truncateTo(offset);
    await this.txnIndex.truncateTo(offset);
    this.#positionHints.clear();
    this.#tail?.clear();
    let removed = 0;
    if (loc) {
      removed = this.#size - loc.position;
      await this.#ctx.pool.use(this.logPath, (fd) => ftruncate(fd, loc.position));
      this.#size = loc.position;
      this.#dirty = true;
    }
    if (this.#size === 0) {
      this.#created = this.#ctx.clock.now();
      this.#rollingBasedTimestamp = undefined;
    }
    this.#bytesSinceLastIndexEntry = 0;
    await this.#recomputeMaxTimestamp();
    return removed;
  }

  async #recomputeMaxTimestamp(): Promise<void> {
    const last = this.timeIndex.lastEntry;
    let maxTs = last.timestamp;
    let maxOffset = last.offset;
    const from = this.offsetIndex.lookup(last.offset).position;
    await scanBatches(this.#ctx.pool, this.logPath, from, this.#size, 'header', (buf, at) => {
      const ts = readInt64(buf, at + MAX_TIMESTAMP_OFFSET);
      if (ts > maxTs) {
        maxTs = ts;
        maxOffset = readInt64(buf, at) + buf.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET);
      }
    });
    this.#maxTimestamp = maxTs;
    this.#offsetOfMaxTimestamp = maxOffset;
  }

  /**
   * Validates every batch (size, magic, CRC, offsets increasing and inside this segment), rebuilds
   * the indexes, and truncates the file after the last valid batch. `onBatch` sees each valid batch
   * in order (producer state and leader epochs are rebuilt from it).
   */
  async recover(onBatch?: (batch: RecoveredBatch) => void): Promise<SegmentRecovery> {
    await this.offsetIndex.reset();
    await this.timeIndex.reset();
    await this.txnIndex.reset();
    this.#positionHints.clear();
    const interval = this.#ctx.config.indexIntervalBytes;
    let validBytes = 0;
    let lastIndexEntry = 0;
    let nextOffset = this.baseOffset;
    let batches = 0;
    let problem: string | undefined;
    let maxTs = NO_TIMESTAMP;
    let maxTsOffset = -1;
    const scan = await scanBatches(this.#ctx.pool, this.logPath, 0, this.#size, 'full', (buf, at, position, size) => {
      const bad = batchProblem(buf, at, size);
      const base = readInt64(buf, at);
      const last = base + buf.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET);
      problem = bad ?? (base < nextOffset ? `batch offset ${base} is below the expected ${nextOffset}` :
        last - this.baseOffset > INT32_MAX ? `offset ${last} overflows the segment` : undefined);
      if (problem !== undefined) {
        problem = `at position ${position}: ${problem}`;
        return false;
      }
      const ts = readInt64(buf, at + MAX_TIMESTAMP_OFFSET);
      if (ts > maxTs) {
        maxTs = ts;
        maxTsOffset = last;
      }
      if (validBytes - lastIndexEntry > interval) {
        this.offsetIndex.append(last, validBytes);
        this.timeIndex.maybeAppend(maxTs, maxTsOffset);
        lastIndexEntry = validBytes;
      }
      onBatch?.({ buf, at, position, size, baseOffset: base, lastOffset: last });
      validBytes = position + size;
      nextOffset = last + 1;
      batches++;
    });
    if (problem === undefined && scan.stop !== 'end') problem = `at position ${scan.position}: ${describeStop(scan.stop)}`;
    const truncatedBytes = this.#size - validBytes;
    if (truncatedBytes > 0) {
      await this.#ctx.pool.use(this.logPath, (fd) => ftruncate(fd, validBytes));
      this.#size = validBytes;
    }
    this.#maxTimestamp = maxTs;
    this.#offsetOfMaxTimestamp = maxTsOffset;
    this.#bytesSinceLastIndexEntry = validBytes - lastIndexEntry;
    this.#rollingBasedTimestamp = undefined;
    await this.offsetIndex.trimToValidSize();
    this.timeIndex.maybeAppend(maxTs, maxTsOffset, true);
    await this.timeIndex.trimToValidSize();
    this.#dirty = true;
    return { validBytes, truncatedBytes, batches, nextOffset, ...(problem !== undefined ? { problem } : {}) };
  }

  // ------------------------------------------------------------------------------------------------
  // Lifecycle

  /** Roll bookkeeping: the closing time index entry, then both indexes trimmed to their entries. */
  async onBecomeInactive(): Promise<void> {
    const max = await this.maxTimestampSoFar();
    await this.#loadIndexes();
    this.timeIndex.maybeAppend(max.timestamp, max.offset, true);
    await this.offsetIndex.becomeInactive();
    await this.timeIndex.becomeInactive();
  }

  get isDirty(): boolean {
    return this.#dirty;
  }

  /**
   * fdatasync of the log file; with `indexes`, index entries are written and synced too (needed
   * once the recovery point passes this segment, since recovery will not rebuild them).
   */
  async flush(indexes: boolean): Promise<void> {
    try {
      await this.#flush(indexes);
    } catch (e) {
      // A background flush racing the deletion of this segment (retention, truncation) has nothing to do.
      if (this.#deleted && (e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
  }

  async #flush(indexes: boolean): Promise<void> {
    if (this.#deleted) return;
    if (this.#dirty) {
      this.#dirty = false;
      try {
        await this.#ctx.pool.use(this.logPath, (fd) => fdatasync(fd));
      } catch (e) {
        this.#dirty = true;
        throw e;
      }
    }
    if (indexes) {
      for (const index of [this.offsetIndex, this.timeIndex]) {
        if (!index.isLoaded) continue;
        await index.writePending();
        await this.#ctx.pool.use(index.path, (fd) => fdatasync(fd));
      }
      await this.txnIndex.flush();
    }
  }

  /** Clean close: the closing time index entry, indexes written and trimmed, descriptors released. */
  async close(): Promise<void> {
    this.#tail?.clear();
    if (this.#maxTimestamp !== undefined && this.timeIndex.isLoaded) {
      this.timeIndex.maybeAppend(this.#maxTimestamp, this.#offsetOfMaxTimestamp, true);
    }
    if (this.offsetIndex.isLoaded) await this.offsetIndex.trimToValidSize();
    if (this.timeIndex.isLoaded) await this.timeIndex.trimToValidSize();
    this.closeHandles();
    await this.txnIndex.close();
  }

  /** Releases descriptors without writing anything (a failed disk). */
  closeHandles(): void {
    this.#ctx.pool.forget(this.logPath);
    this.offsetIndex.close();
    this.timeIndex.close();
  }

  /** Renames all four files from the current suffix to `suffix` ('' ↔ '.deleted', '.cleaned' → '.swap' ...). */
  async changeFileSuffix(suffix: string): Promise<void> {
    if (suffix === DELETED_FILE_SUFFIX) {
      this.#deleted = true;
      this.#tail?.clear();
    }
    const oldLog = this.logPath;
    this.#ctx.pool.forget(oldLog);
    this.#suffix = suffix;
    this.#logPath = undefined;
    await renameIfExists(oldLog, this.logPath);
    await this.offsetIndex.renameTo(this.#file(INDEX_FILE_SUFFIX));
    await this.timeIndex.renameTo(this.#file(TIME_INDEX_FILE_SUFFIX));
    await this.txnIndex.renameTo(this.#file(TXN_INDEX_FILE_SUFFIX));
  }

  async deleteFiles(): Promise<void> {
    this.#deleted = true;
    this.#tail?.clear();
    this.#ctx.pool.forget(this.logPath);
    await fs.rm(this.logPath, { force: true });
    await this.offsetIndex.deleteFile();
    await this.timeIndex.deleteFile();
    await this.txnIndex.deleteIfExists();
  }

  toString(): string {
    return `LogSegment(${this.logPath}, size=${this.#size})`;
  }
}

async function renameIfExists(from: string, to: string): Promise<void> {
  try {
    await fs.rename(from, to);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

function describeStop(stop: ScanStop): string {
  return stop === 'short' ? 'torn batch at the end of the file' : stop === 'bad-length' ? 'impossible batch length' : stop;
}
