// Walking the record batches of a segment file: header-only (offset translation, timestamp search)
// or whole batches (recovery, CRC checks), reading the file in large chunks rather than per batch.
// Plus the structural check every batch passes before the log accepts or keeps it.
import {
  CRC_OFFSET,
  computeBatchCrc,
  LAST_OFFSET_DELTA_OFFSET,
  LENGTH_OFFSET,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  MIN_BATCH_LENGTH,
  RECORD_BATCH_OVERHEAD,
  RECORDS_COUNT_OFFSET,
} from '../protocol/records/batch-header.js';
import { type FileHandlePool, readFully } from './file-handles.js';

export const CURRENT_MAGIC = 2;

/** What is wrong with the complete batch at `at` of `size` bytes, or undefined when it is valid. */
export function batchProblem(buf: Buffer, at: number, size: number, checkCrc = true): string | undefined {
  if (size < RECORD_BATCH_OVERHEAD) return `batch of ${size} bytes is smaller than a header`;
  const magic = buf.readInt8(at + MAGIC_OFFSET);
  if (magic !== CURRENT_MAGIC) return `magic ${magic} is not ${CURRENT_MAGIC}`;
  if (buf.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET) < 0) return 'negative lastOffsetDelta';
  if (buf.readInt32BE(at + RECORDS_COUNT_OFFSET) < 0) return 'negative record count';
  if (checkCrc) {
    const stored = buf.readUInt32BE(at + CRC_OFFSET);
    const actual = computeBatchCrc(buf, at, size);
    if (stored !== actual) return `CRC mismatch (stored ${stored}, computed ${actual})`;
  }
  return undefined;
}

export type ScanStop =
  | 'end' // reached `end` exactly on a batch boundary
  | 'visitor' // the visitor asked to stop
  | 'short' // fewer bytes left than the next batch declares: a torn tail
  | 'bad-length'; // a declared batch length that cannot be right

export interface ScanResult {
  /** File position where the walk stopped (start of the batch not visited). */
  readonly position: number;
  readonly stop: ScanStop;
}

/**
 * Calls `visit(buf, at, position, size)` for each batch from file position `from` to `end`. In
 * 'header' mode `buf` holds at least the 61-byte header at `at`; in 'full' mode the whole batch.
 * The buffer is reused: a visitor must copy what it keeps. Returning false stops the walk.
 */
export async function scanBatches(
  pool: FileHandlePool,
  path: string,
  from: number,
  end: number,
  mode: 'header' | 'full',
  visit: (buf: Buffer, at: number, position: number, size: number) => boolean | void,
  chunkSize = mode === 'full' ? 1 << 20 : 1 << 15,
): Promise<ScanResult> {
  let buf = Buffer.alloc(0);
  let bufStart = from;
  let bufLen = 0;
  let fileEnd = end;
  const fill = async (at: number, need: number): Promise<void> => {
    const len = Math.min(Math.max(chunkSize, need), fileEnd - at);
    if (buf.length < len) buf = Buffer.allocUnsafe(len);
    const got = await pool.use(path, (fd) => readFully(fd, buf, 0, len, at));
    bufStart = at;
    bufLen = got;
    if (got < len) fileEnd = at + got; // the file is shorter than we were told
  };
  let pos = from;
  for (;;) {
    const remaining = fileEnd - pos;
    if (remaining <= 0) return { position: pos, stop: remaining === 0 && fileEnd === end ? 'end' : 'short' };
    if (remaining < LOG_OVERHEAD) return { position: pos, stop: 'short' };
    const headerNeed = Math.min(RECORD_BATCH_OVERHEAD, remaining);
    if (pos < bufStart || pos + headerNeed > bufStart + bufLen) {
      await fill(pos, headerNeed);
      if (pos + headerNeed > bufStart + bufLen) return { position: pos, stop: 'short' };
    }
    const batchLength = buf.readInt32BE(pos - bufStart + LENGTH_OFFSET);
    if (batchLength < MIN_BATCH_LENGTH) return { position: pos, stop: 'bad-length' };
    const size = LOG_OVERHEAD + batchLength;
    if (size > remaining) return { position: pos, stop: 'short' };
    if (mode === 'full' && pos + size > bufStart + bufLen) {
      await fill(pos, size);
      if (pos + size > bufStart + bufLen) return { position: pos, stop: 'short' };
    }
    if (visit(buf, pos - bufStart, pos, size) === false) return { position: pos, stop: 'visitor' };
    pos += size;
  }
}
