// Rewrites one record batch keeping only the records a filter retains — the cleaner's counterpart of
// Kafka's MemoryRecords.filterTo. Offsets never change: the rebuilt batch keeps its baseOffset and its
// lastOffsetDelta (so the producer's last sequence survives compaction) and every retained record keeps
// its offset delta. A batch the filter leaves untouched is returned as the original bytes.
import {
  ATTRIBUTES_OFFSET,
  BASE_TIMESTAMP_OFFSET,
  COMPRESSION_MASK,
  CRC_OFFSET,
  DELETE_HORIZON_FLAG,
  LENGTH_OFFSET,
  LOG_OVERHEAD,
  MAX_TIMESTAMP_OFFSET,
  RECORDS_COUNT_OFFSET,
  RECORD_BATCH_OVERHEAD,
  computeBatchCrc,
  compressionOf,
  isLogAppendTime,
  writeInt64,
  type BatchHeader,
} from '../../protocol/records/batch-header.js';
import { recordSpans, rewriteTimestampDelta, type RecordSpan } from './record-spans.js';
import type { RecordsCodec } from './codec.js';

/** What to do with a batch as a whole, decided before its records are looked at (Kafka's BatchRetention). */
export const BatchRetention = {
  /** Drop the batch and all its records. */
  delete: 'delete',
  /** Filter the records; drop the batch if none remain. */
  deleteEmpty: 'delete-empty',
  /** Filter the records but keep the batch header even if none remain (a producer's last batch). */
  retainEmpty: 'retain-empty',
} as const;
export type BatchRetention = (typeof BatchRetention)[keyof typeof BatchRetention];

export interface BatchDecision {
  readonly retention: BatchRetention;
  /** A marker whose transaction has no data left: it earns a delete horizon like a tombstone. */
  readonly containsMarkerForEmptyTxn: boolean;
}

export interface RecordFilter {
  checkBatch(header: BatchHeader, batch: Buffer): BatchDecision;
  shouldRetainRecord(header: BatchHeader, record: RecordSpan, offset: number): boolean;
}

export interface FilterOptions {
  /** The cleaner's "now": a delete horizon set by this pass is now + deleteRetentionMs. */
  readonly currentTime: number;
  readonly deleteRetentionMs: number;
}

export interface FilteredBatch {
  /** The bytes to write (the original batch, a rebuilt one, or an empty header), or null to drop it. */
  readonly output: Buffer | null;
  readonly recordsRead: number;
  readonly recordsRetained: number;
  /** Max timestamp of what was written (the batch header's maxTimestamp), -1 if dropped. */
  readonly maxTimestamp: number;
}

const hasDeleteHorizon = (attributes: number): boolean => (attributes & DELETE_HORIZON_FLAG) !== 0;

export async function filterBatch(
  batch: Buffer,
  header: BatchHeader,
  filter: RecordFilter,
  options: FilterOptions,
  codec: RecordsCodec,
): Promise<FilteredBatch> {
  const decision = filter.checkBatch(header, batch);
  if (decision.retention === BatchRetention.delete) {
    return { output: null, recordsRead: 0, recordsRetained: 0, maxTimestamp: -1 };
  }
  const compression = compressionOf(header.attributes);
  const rawPayload = batch.subarray(RECORD_BATCH_OVERHEAD);
  const payload = compression === 0 ? rawPayload : await codec.decompress(compression, rawPayload);
  const spans = recordSpans(payload, header.recordCount);
  const retained: RecordSpan[] = [];
  let containsTombstones = false;
  for (const span of spans) {
    if (filter.shouldRetainRecord(header, span, header.baseOffset + span.offsetDelta)) {
      if (!span.hasValue) containsTombstones = true;
      retained.push(span);
    }
  }
  const horizonPresent = hasDeleteHorizon(header.attributes);
  const needToSetDeleteHorizon = (containsTombstones || decision.containsMarkerForEmptyTxn) && !horizonPresent;
  if (retained.length > 0) {
    if (retained.length === spans.length && !needToSetDeleteHorizon) {
      return { output: batch, recordsRead: spans.length, recordsRetained: spans.length, maxTimestamp: header.maxTimestamp };
    }
    const deleteHorizon = needToSetDeleteHorizon
      ? options.currentTime + options.deleteRetentionMs
      : horizonPresent
        ? header.baseTimestamp
        : undefined;
    const rebuilt = await rebuildBatch(batch, header, payload, retained, deleteHorizon, codec);
    return { output: rebuilt.bytes, recordsRead: spans.length, recordsRetained: retained.length, maxTimestamp: rebuilt.maxTimestamp };
  }
  if (decision.retention === BatchRetention.retainEmpty) {
    return { output: emptyHeader(batch, header), recordsRead: spans.length, recordsRetained: 0, maxTimestamp: header.maxTimestamp };
  }
  return { output: null, recordsRead: spans.length, recordsRetained: 0, maxTimestamp: -1 };
}

async function rebuildBatch(
  batch: Buffer,
  header: BatchHeader,
  payload: Buffer,
  retained: readonly RecordSpan[],
  deleteHorizon: number | undefined,
  codec: RecordsCodec,
): Promise<{ bytes: Buffer; maxTimestamp: number }> {
  // Record timestamps are stored relative to the base timestamp; keep every absolute timestamp and
  // re-express it against the new base (the delete horizon, or the first retained record's timestamp).
  const absolute = (s: RecordSpan): number => header.baseTimestamp + s.timestampDelta;
  const baseTimestamp = deleteHorizon ?? absolute(retained[0]!);
  let maxTimestamp = -1;
  const parts: Buffer[] = [];
  for (const span of retained) {
    const ts = absolute(span);
    if (ts > maxTimestamp) maxTimestamp = ts;
    parts.push(rewriteTimestampDelta(payload, span, ts - baseTimestamp));
  }
  if (isLogAppendTime(header.attributes)) maxTimestamp = header.maxTimestamp;
  const compression = compressionOf(header.attributes);
  const records = Buffer.concat(parts);
  const body = compression === 0 ? records : await codec.compress(compression, records);
  const out = Buffer.allocUnsafe(RECORD_BATCH_OVERHEAD + body.length);
  // The header's first 61 bytes are the original's with a few fields replaced.
  batch.copy(out, 0, 0, RECORD_BATCH_OVERHEAD);
  out.writeInt32BE(out.length - LOG_OVERHEAD, LENGTH_OFFSET);
  const attributes =
    deleteHorizon === undefined ? header.attributes & ~DELETE_HORIZON_FLAG : header.attributes | DELETE_HORIZON_FLAG;
  out.writeInt16BE(attributes, ATTRIBUTES_OFFSET);
  writeInt64(out, BASE_TIMESTAMP_OFFSET, baseTimestamp);
  writeInt64(out, MAX_TIMESTAMP_OFFSET, maxTimestamp);
  out.writeInt32BE(retained.length, RECORDS_COUNT_OFFSET);
  body.copy(out, RECORD_BATCH_OVERHEAD);
  out.writeUInt32BE(computeBatchCrc(out, 0, out.length), CRC_OFFSET);
  return { bytes: out, maxTimestamp };
}

/**
 * A batch with no records that keeps the producer's id, epoch, sequence range and offset range, as
 * Kafka writes for the last batch of a still-active producer whose records were all cleaned away.
 */
export function emptyHeader(batch: Buffer, header: BatchHeader): Buffer {
  const out = Buffer.from(batch.subarray(0, RECORD_BATCH_OVERHEAD));
  out.writeInt32BE(RECORD_BATCH_OVERHEAD - LOG_OVERHEAD, LENGTH_OFFSET);
  const attributes = header.attributes & ~COMPRESSION_MASK & ~DELETE_HORIZON_FLAG;
  out.writeInt16BE(attributes, ATTRIBUTES_OFFSET);
  writeInt64(out, BASE_TIMESTAMP_OFFSET, header.maxTimestamp);
  writeInt64(out, MAX_TIMESTAMP_OFFSET, header.maxTimestamp);
  out.writeInt32BE(0, RECORDS_COUNT_OFFSET);
  out.writeUInt32BE(computeBatchCrc(out, 0, out.length), CRC_OFFSET);
  return out;
}
