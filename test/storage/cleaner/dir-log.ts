// A minimal partition log over real files for the cleaner's tests: segments are `<base>.log` files in a
// directory, appends assign offsets and roll by size, ABORT markers add entries to the segment's
// `.txnindex`. It implements CleanableLog with the cleaner's own swap and recovery functions, so the
// tests exercise exactly the files a crash would leave behind.
import fsp from 'node:fs/promises';
import { join } from 'node:path';
import {
  CONTROL_FLAG,
  LAST_OFFSET_DELTA_OFFSET,
  LENGTH_OFFSET,
  LOG_OVERHEAD,
  MAX_TIMESTAMP_OFFSET,
  RECORD_BATCH_OVERHEAD,
  patchBaseOffset,
  readBatchHeader,
  readInt64,
  type BatchHeader,
} from '../../../src/protocol/records/batch-header.js';
import { decodeBatchRecords, decodeBatchRecordsSync } from '../../../src/protocol/records/batch-records.js';
import { decodeControlRecordKey, type DecodedRecord } from '../../../src/protocol/records/record.js';
import type { LogConfig } from '../../../src/storage/log-config.js';
import type { ActiveProducer, CleanableLog, CleanerSegment } from '../../../src/storage/cleaner/cleanable-log.js';
import { DELETED_SUFFIX, segmentFileName, type AbortedTxn } from '../../../src/storage/cleaner/cleaned-segment.js';
import { recoverSwapFiles, swapSegmentFiles } from '../../../src/storage/cleaner/segment-swap.js';
import { encodeAbortedTxn, decodeAbortedTxn, ABORTED_TXN_SIZE } from '../../../src/storage/txn-index.js';

export interface StoredBatch {
  readonly header: BatchHeader;
  readonly bytes: Buffer;
  readonly records: DecodedRecord[];
}

class DirSegment implements CleanerSegment {
  constructor(
    readonly dir: string,
    readonly baseOffset: number,
    public size: number,
  ) {}

  get path(): string {
    return join(this.dir, segmentFileName(this.baseOffset, '.log'));
  }

  async #headers(): Promise<BatchHeader[]> {
    const data = await fsp.readFile(this.path);
    const out: BatchHeader[] = [];
    for (let pos = 0; pos + RECORD_BATCH_OVERHEAD <= Math.min(data.length, this.size); pos += LOG_OVERHEAD + data.readInt32BE(pos + LENGTH_OFFSET)) {
      out.push(readBatchHeader(data, pos));
    }
    return out;
  }

  async largestTimestamp(): Promise<number> {
    const max = Math.max(-1, ...(await this.#headers()).map((h) => h.maxTimestamp));
    return max >= 0 ? max : this.lastModified();
  }

  async firstBatchTimestamp(): Promise<number> {
    return (await this.#headers())[0]?.maxTimestamp ?? -1;
  }

  async lastModified(): Promise<number> {
    return (await fsp.stat(this.path)).mtimeMs;
  }

  async read(position: number, length: number): Promise<Buffer> {
    const handle = await fsp.open(this.path, 'r');
    try {
      const buf = Buffer.alloc(Math.max(0, Math.min(length, this.size - position)));
      const { bytesRead } = await handle.read(buf, 0, buf.length, position);
      return buf.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  }
}

export class DirLog implements CleanableLog {
  readonly name: string;
  readonly dir: string;
  config: LogConfig;
  logStartOffset = 0;
  logEndOffset = 0;
  /** Defaults to the log end offset (no open transactions, everything replicated). */
  lso: number | undefined;
  producers = new Map<number, ActiveProducer>();
  #segments: DirSegment[] = [];
  replaceCount = 0;
  /** Lets a test crash in the middle of a swap. */
  beforeSwap: ((newBase: number, old: readonly number[]) => Promise<void>) | undefined;

  private constructor(dir: string, config: LogConfig, name: string) {
    this.dir = dir;
    this.config = config;
    this.name = name;
  }

  /** Opens (or creates) the log in `dir` (named `<topic>-<partition>`), completing interrupted swaps first. */
  static async open(dir: string, config: LogConfig): Promise<DirLog> {
    await fsp.mkdir(dir, { recursive: true });
    const log = new DirLog(dir, config, dir.split('/').pop()!);
    await recoverSwapFiles(dir);
    for (const name of await fsp.readdir(dir)) if (name.endsWith(DELETED_SUFFIX)) await fsp.rm(join(dir, name));
    const bases = (await fsp.readdir(dir)).filter((n) => /^\d{20}\.log$/.test(n)).map((n) => Number(n.slice(0, 20))).sort((a, b) => a - b);
    for (const base of bases) {
      const size = (await fsp.stat(join(dir, segmentFileName(base, '.log')))).size;
      log.#segments.push(new DirSegment(dir, base, size));
    }
    if (log.#segments.length === 0) {
      await fsp.writeFile(join(dir, segmentFileName(0, '.log')), Buffer.alloc(0));
      log.#segments.push(new DirSegment(dir, 0, 0));
    }
    log.logStartOffset = log.#segments[0]!.baseOffset;
    const all = await log.batches();
    const last = all[all.length - 1];
    log.logEndOffset = last ? last.header.baseOffset + last.header.lastOffsetDelta + 1 : log.#segments[log.#segments.length - 1]!.baseOffset;
    return log;
  }

  get lastStableOffset(): number {
    return this.lso ?? this.logEndOffset;
  }

  segments(): readonly CleanerSegment[] {
    return this.#segments;
  }

  get segmentBases(): number[] {
    return this.#segments.map((s) => s.baseOffset);
  }

  /** Appends one batch, assigning offsets from the log end; returns its base offset. */
  async append(batch: Buffer): Promise<number> {
    const copy = Buffer.from(batch);
    const base = this.logEndOffset;
    patchBaseOffset(copy, 0, base);
    let active = this.#segments[this.#segments.length - 1]!;
    if (active.size > 0 && active.size + copy.length > this.config.segmentBytes) {
      await this.roll();
      active = this.#segments[this.#segments.length - 1]!;
    }
    await fsp.appendFile(active.path, copy);
    active.size += copy.length;
    const header = readBatchHeader(copy, 0);
    this.logEndOffset = base + header.lastOffsetDelta + 1;
    if ((header.attributes & CONTROL_FLAG) !== 0) {
      const [record] = decodeBatchRecordsSync(copy, { position: 0, size: copy.length, header });
      if (record && decodeControlRecordKey(record.key).type === 0) {
        const first = this.openTxnFirstOffset.get(header.producerId) ?? base;
        const txn: AbortedTxn = { producerId: header.producerId, firstOffset: first, lastOffset: base, lastStableOffset: base + 1 };
        await fsp.appendFile(join(this.dir, segmentFileName(active.baseOffset, '.txnindex')), encodeAbortedTxn(txn));
      }
      this.openTxnFirstOffset.delete(header.producerId);
    } else if ((header.attributes & 0x10) !== 0 && !this.openTxnFirstOffset.has(header.producerId)) {
      this.openTxnFirstOffset.set(header.producerId, base);
    }
    return base;
  }

  readonly openTxnFirstOffset = new Map<number, number>();

  /** Starts a new active segment at the log end offset. */
  async roll(): Promise<void> {
    const base = this.logEndOffset;
    if (this.#segments[this.#segments.length - 1]!.baseOffset === base) return;
    await fsp.writeFile(join(this.dir, segmentFileName(base, '.log')), Buffer.alloc(0));
    this.#segments.push(new DirSegment(this.dir, base, 0));
  }

  async collectAbortedTransactions(startOffset: number, upperBoundOffset: number): Promise<AbortedTxn[]> {
    const out: AbortedTxn[] = [];
    for (const s of this.#segments) {
      const data = await fsp.readFile(join(this.dir, segmentFileName(s.baseOffset, '.txnindex'))).catch(() => Buffer.alloc(0));
      for (let p = 0; p + ABORTED_TXN_SIZE <= data.length; p += ABORTED_TXN_SIZE) {
        const t = decodeAbortedTxn(data, p);
        if (t.lastOffset >= startOffset && t.firstOffset < upperBoundOffset) out.push(t);
      }
    }
    return out;
  }

  activeProducers(): ReadonlyMap<number, ActiveProducer> {
    return this.producers;
  }

  async replaceSegments(newBaseOffset: number, old: readonly CleanerSegment[]): Promise<void> {
    const oldBases = old.map((s) => s.baseOffset);
    await this.beforeSwap?.(newBaseOffset, oldBases);
    await swapSegmentFiles(this.dir, newBaseOffset, oldBases);
    const size = (await fsp.stat(join(this.dir, segmentFileName(newBaseOffset, '.log')))).size;
    const first = this.#segments.findIndex((s) => s.baseOffset === oldBases[0]);
    this.#segments.splice(first, oldBases.length, new DirSegment(this.dir, newBaseOffset, size));
    this.replaceCount++;
  }

  /** Every batch in the log, decoded. */
  async batches(): Promise<StoredBatch[]> {
    const out: StoredBatch[] = [];
    for (const s of this.#segments) {
      const data = (await fsp.readFile(s.path)).subarray(0, s.size);
      let pos = 0;
      while (pos < data.length) {
        const size = LOG_OVERHEAD + data.readInt32BE(pos + LENGTH_OFFSET);
        const bytes = data.subarray(pos, pos + size);
        const header = readBatchHeader(bytes, 0);
        const records = await decodeBatchRecords(bytes, { position: 0, size, header });
        out.push({ header, bytes, records });
        pos += size;
      }
    }
    return out;
  }
}

export const lastOffsetOf = (b: Buffer): number => readInt64(b, 0) + b.readInt32BE(LAST_OFFSET_DELTA_OFFSET);
export const maxTimestampOf = (b: Buffer): number => readInt64(b, MAX_TIMESTAMP_OFFSET);
