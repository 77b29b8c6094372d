// The cleaner's output: a new segment written under `.cleaned` names next to the segments it replaces —
// `<base>.log.cleaned` plus its `.index`, `.timeindex` and `.txnindex` (each with the `.cleaned`
// suffix), in Kafka's formats. Nothing reads these files until the swap (segment-swap.ts) renames them;
// a crash before that leaves only `.cleaned` files, which the log's open discards.
import fsp from 'node:fs/promises';
import { join } from 'node:path';
import {
  LAST_OFFSET_DELTA_OFFSET,
  LENGTH_OFFSET,
  LOG_OVERHEAD,
  MAX_TIMESTAMP_OFFSET,
  RECORD_BATCH_OVERHEAD,
  readInt64,
  writeInt64,
} from '../../protocol/records/batch-header.js';
import { StrataError } from '../../protocol/strata-error.js';

export const CLEANED_SUFFIX = '.cleaned';
export const SWAP_SUFFIX = '.swap';
export const DELETED_SUFFIX = '.deleted';
export const SEGMENT_FILE_EXTENSIONS = ['.log', '.index', '.timeindex', '.txnindex'] as const;

const OFFSET_INDEX_ENTRY = 8;
const TIME_INDEX_ENTRY = 12;
const TXN_INDEX_ENTRY = 34;

/** An aborted transaction as the `.txnindex` stores it. */
export interface AbortedTxn {
  readonly producerId: number;
  readonly firstOffset: number;
  readonly lastOffset: number;
  readonly lastStableOffset: number;
}

export const segmentFileName = (baseOffset: number, extension: string): string =>
  `${String(baseOffset).padStart(20, '0')}${extension}`;

export interface CleanedSegmentOptions {
  readonly indexIntervalBytes: number;
  /** segment.index.bytes: the most entries either index may hold. */
  readonly maxIndexBytes: number;
}

export class CleanedSegmentWriter {
  readonly dir: string;
  readonly baseOffset: number;
  readonly #handle: fsp.FileHandle;
  readonly #options: CleanedSegmentOptions;
  #size = 0;
  #bytesSinceLastIndexEntry = 0;
  readonly #offsetEntries: number[] = [];
  readonly #timeEntries: number[] = [];
  readonly #aborted: AbortedTxn[] = [];
  #maxTimestamp = -1;
  #offsetOfMaxTimestamp = -1;
  #lastOffset = -1;
  #closed = false;

  private constructor(dir: string, baseOffset: number, handle: fsp.FileHandle, options: CleanedSegmentOptions) {
    this.dir = dir;
    this.baseOffset = baseOffset;
    this.#handle = handle;
    this.#options = options;
  }

  /** Creates (truncating any leftover from an earlier attempt) the `.cleaned` segment at `baseOffset`. */
  static async create(dir: string, baseOffset: number, options: CleanedSegmentOptions): Promise<CleanedSegmentWriter> {
    await deleteCleanedFiles(dir, baseOffset);
    const handle = await fsp.open(cleanedPath(dir, baseOffset, '.log'), 'w');
    return new CleanedSegmentWriter(dir, baseOffset, handle, options);
  }

  get size(): number {
    return this.#size;
  }

  get lastOffset(): number {
    return this.#lastOffset;
  }

  /**
   * Appends whole batches whose offsets are above everything appended so far; `lastOffset` and
   * `maxTimestamp` describe them (the largest of each). Index entries follow the log's rule per batch:
   * one whenever more than index.interval.bytes were written since the last.
   */
  async append(batches: Buffer, lastOffset: number, maxTimestamp: number): Promise<void> {
    if (batches.length === 0) return;
    if (lastOffset - this.baseOffset > 0x7fffffff) {
      throw new StrataError('ERR_STATE', `offset ${lastOffset} does not fit segment ${this.baseOffset}`);
    }
    const position = this.#size;
    await this.#handle.write(batches, 0, batches.length, position);
    this.#size += batches.length;
    for (let at = 0; at + RECORD_BATCH_OVERHEAD <= batches.length; ) {
      const size = LOG_OVERHEAD + batches.readInt32BE(at + LENGTH_OFFSET);
      const batchLast = readInt64(batches, at) + batches.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET);
      const batchMax = readInt64(batches, at + MAX_TIMESTAMP_OFFSET);
      if (batchMax > this.#maxTimestamp) {
        this.#maxTimestamp = batchMax;
        this.#offsetOfMaxTimestamp = batchLast;
      }
      if (this.#bytesSinceLastIndexEntry > this.#options.indexIntervalBytes) {
        this.#indexEntry(batchLast, position + at);
        this.#bytesSinceLastIndexEntry = 0;
      }
      this.#bytesSinceLastIndexEntry += size;
      at += size;
    }
    if (maxTimestamp > this.#maxTimestamp) {
      this.#maxTimestamp = maxTimestamp;
      this.#offsetOfMaxTimestamp = lastOffset;
    }
    this.#lastOffset = lastOffset;
  }

  appendAbortedTxn(txn: AbortedTxn): void {
    this.#aborted.push(txn);
  }

  #indexEntry(offset: number, position: number): void {
    const maxOffsetEntries = Math.floor(this.#options.maxIndexBytes / OFFSET_INDEX_ENTRY);
    if (this.#offsetEntries.length / 2 < maxOffsetEntries) this.#offsetEntries.push(offset - this.baseOffset, position);
    this.#maybeTimeEntry(Math.floor(this.#options.maxIndexBytes / TIME_INDEX_ENTRY) - 1);
  }

  #maybeTimeEntry(limit: number): void {
    const n = this.#timeEntries.length / 2;
    if (this.#maxTimestamp < 0 || n >= limit) return;
    if (n > 0 && this.#timeEntries[2 * (n - 1)]! >= this.#maxTimestamp) return;
    this.#timeEntries.push(this.#maxTimestamp, this.#offsetOfMaxTimestamp - this.baseOffset);
  }

  /** Writes the indexes, fsyncs everything and closes; the files keep their `.cleaned` names. */
  async finish(lastModified: number): Promise<void> {
    // The final time index entry, as a segment that becomes inactive gets.
    this.#maybeTimeEntry(Math.floor(this.#options.maxIndexBytes / TIME_INDEX_ENTRY));
    const offsetIndex = Buffer.alloc((this.#offsetEntries.length / 2) * OFFSET_INDEX_ENTRY);
    for (let i = 0; i < this.#offsetEntries.length; i += 2) {
      offsetIndex.writeInt32BE(this.#offsetEntries[i]!, i * 4);
      offsetIndex.writeInt32BE(this.#offsetEntries[i + 1]!, i * 4 + 4);
    }
    const timeIndex = Buffer.alloc((this.#timeEntries.length / 2) * TIME_INDEX_ENTRY);
    for (let i = 0; i < this.#timeEntries.length; i += 2) {
      writeInt64(timeIndex, i * 6, this.#timeEntries[i]!);
      timeIndex.writeInt32BE(this.#timeEntries[i + 1]!, i * 6 + 8);
    }
    const txnIndex = Buffer.alloc(this.#aborted.length * TXN_INDEX_ENTRY);
    this.#aborted.forEach((t, i) => {
      const p = i * TXN_INDEX_ENTRY;
      txnIndex.writeInt16BE(0, p);
      writeInt64(txnIndex, p + 2, t.producerId);
      writeInt64(txnIndex, p + 10, t.firstOffset);
      writeInt64(txnIndex, p + 18, t.lastOffset);
      writeInt64(txnIndex, p + 26, t.lastStableOffset);
    });
    await this.#handle.sync();
    await this.#handle.close();
    this.#closed = true;
    const time = new Date(lastModified);
    await fsp.utimes(cleanedPath(this.dir, this.baseOffset, '.log'), time, time);
    await writeSynced(cleanedPath(this.dir, this.baseOffset, '.index'), offsetIndex);
    await writeSynced(cleanedPath(this.dir, this.baseOffset, '.timeindex'), timeIndex);
    // Always written, even empty: recovery of an interrupted swap relies on each index having a twin.
    await writeSynced(cleanedPath(this.dir, this.baseOffset, '.txnindex'), txnIndex);
  }

  /** Abandons the output (an aborted or failed clean). */
  async discard(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      await this.#handle.close().catch(() => undefined);
    }
    await deleteCleanedFiles(this.dir, this.baseOffset);
  }
}

export const cleanedPath = (dir: string, baseOffset: number, extension: string): string =>
  join(dir, segmentFileName(baseOffset, extension) + CLEANED_SUFFIX);

async function deleteCleanedFiles(dir: string, baseOffset: number): Promise<void> {
  for (const ext of SEGMENT_FILE_EXTENSIONS) await fsp.rm(cleanedPath(dir, baseOffset, ext), { force: true });
}

async function writeSynced(path: string, data: Buffer): Promise<void> {
  const handle = await fsp.open(path, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}
