// Materialising the records of one batch, decompressing first when needed: for the features that must
// look inside batches (compaction, transaction markers, the metadata log, tools). The produce and fetch
// paths never come here.
import { StrataError } from '../strata-error.js';
import { CONTROL_FLAG, Compression, RECORD_BATCH_OVERHEAD, TIMESTAMP_TYPE_MASK, readBatchHeader } from './batch-header.js';
import type { BatchHeader } from './batch-header.js';
import type { BatchInfo } from './batches.js';
import { decompress, decompressSync } from './compression.js';
import {
  ControlRecordType,
  decodeControlRecordKey,
  decodeEndTxnMarker,
  decodeRecords,
  type DecodedRecord,
} from './record.js';

/** Bound used when the caller passes none. */
export const DEFAULT_MAX_DECODED_BYTES = 256 * 1024 * 1024;

// The header is read again from the bytes: a BatchInfo may predate in-place patching (offsets, LogAppendTime).
function decodePlain(plain: Buffer, start: number, h: BatchHeader): DecodedRecord[] {
  return decodeRecords(plain, start, plain.length, h.recordCount, {
    baseOffset: h.baseOffset,
    baseTimestamp: h.baseTimestamp,
    ...((h.attributes & TIMESTAMP_TYPE_MASK) !== 0 ? { logAppendTime: h.maxTimestamp } : {}),
  });
}

function recordsSection(buf: Buffer, batch: BatchInfo): Buffer {
  if (batch.position + batch.size > buf.length || batch.size < RECORD_BATCH_OVERHEAD) {
    throw new StrataError('ERR_CORRUPT_RECORD', 'batch lies outside the buffer');
  }
  return buf.subarray(batch.position + RECORD_BATCH_OVERHEAD, batch.position + batch.size);
}

/** The records of `batch` in `buf`; async for zstd. Keys and values are views, not copies. */
export async function decodeBatchRecords(
  buf: Buffer,
  batch: BatchInfo,
  maxBytes = DEFAULT_MAX_DECODED_BYTES,
): Promise<DecodedRecord[]> {
  const section = recordsSection(buf, batch);
  const h = readBatchHeader(buf, batch.position);
  const codec = h.attributes & 0x07;
  if (codec === Compression.none) return decodePlain(section, 0, h);
  return decodePlain(await decompress(codec, section, maxBytes), 0, h);
}

/** As `decodeBatchRecords`, for every codec but zstd. */
export function decodeBatchRecordsSync(buf: Buffer, batch: BatchInfo, maxBytes = DEFAULT_MAX_DECODED_BYTES): DecodedRecord[] {
  const section = recordsSection(buf, batch);
  const h = readBatchHeader(buf, batch.position);
  const codec = h.attributes & 0x07;
  if (codec === Compression.none) return decodePlain(section, 0, h);
  return decodePlain(decompressSync(codec, section, maxBytes), 0, h);
}

export interface TxnMarker {
  readonly type: 'commit' | 'abort';
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly coordinatorEpoch: number;
  readonly offset: number;
}

/**
 * The transaction marker in a control batch, or undefined when the batch is not a control batch or
 * holds another kind of control record (KRaft's leader-change and snapshot records). Control batches
 * are never compressed by Kafka, so this stays synchronous.
 */
export function readTxnMarker(buf: Buffer, batch: BatchInfo): TxnMarker | undefined {
  const h = readBatchHeader(buf, batch.position);
  if ((h.attributes & CONTROL_FLAG) === 0 || h.recordCount === 0) return undefined;
  const [record] = decodeBatchRecordsSync(buf, batch);
  const key = decodeControlRecordKey(record!.key);
  if (key.type !== ControlRecordType.COMMIT && key.type !== ControlRecordType.ABORT) return undefined;
  const marker = decodeEndTxnMarker(record!.value);
  return {
    type: key.type === ControlRecordType.COMMIT ? 'commit' : 'abort',
    producerId: h.producerId,
    producerEpoch: h.producerEpoch,
    coordinatorEpoch: marker.coordinatorEpoch,
    offset: record!.offset,
  };
}
