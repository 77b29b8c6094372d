// The fixed 61-byte header of a RecordBatch (magic v2), read and patched in place.
//
// Layout (big-endian):
//   0 baseOffset int64 | 8 batchLength int32 | 12 partitionLeaderEpoch int32 | 16 magic int8
//   17 crc uint32 | 21 attributes int16 | 23 lastOffsetDelta int32 | 27 baseTimestamp int64
//   35 maxTimestamp int64 | 43 producerId int64 | 51 producerEpoch int16 | 53 baseSequence int32
//   57 recordCount int32 | 61 records...
// batchLength counts the bytes after the batchLength field; the CRC covers attributes..end.
// Legacy messages (magic 0 and 1) share the first 17 bytes' shape: offset, size, crc, magic at 16.
import { crc32c } from './crc32c.js';

export const OFFSET_OFFSET = 0;
export const LENGTH_OFFSET = 8;
export const PARTITION_LEADER_EPOCH_OFFSET = 12;
export const MAGIC_OFFSET = 16;
export const CRC_OFFSET = 17;
export const ATTRIBUTES_OFFSET = 21;
export const LAST_OFFSET_DELTA_OFFSET = 23;
export const BASE_TIMESTAMP_OFFSET = 27;
export const MAX_TIMESTAMP_OFFSET = 35;
export const PRODUCER_ID_OFFSET = 43;
export const PRODUCER_EPOCH_OFFSET = 51;
export const BASE_SEQUENCE_OFFSET = 53;
export const RECORDS_COUNT_OFFSET = 57;
export const RECORD_BATCH_OVERHEAD = 61;
/** baseOffset + batchLength: the bytes before what batchLength counts. */
export const LOG_OVERHEAD = 12;
/** The smallest batchLength a v2 batch can declare (header without the first 12 bytes). */
export const MIN_BATCH_LENGTH = RECORD_BATCH_OVERHEAD - LOG_OVERHEAD;

export const Compression = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const;
export type CompressionCode = (typeof Compression)[keyof typeof Compression];
export const COMPRESSION_MASK = 0x07;
export const TIMESTAMP_TYPE_MASK = 0x08;
export const TRANSACTIONAL_FLAG = 0x10;
export const CONTROL_FLAG = 0x20;
export const DELETE_HORIZON_FLAG = 0x40;

export const NO_PRODUCER_ID = -1;
export const NO_PRODUCER_EPOCH = -1;
export const NO_SEQUENCE = -1;
export const NO_PARTITION_LEADER_EPOCH = -1;
export const NO_TIMESTAMP = -1;

/** An int64 as a JS number; exact up to 2^53, which every offset and timestamp we accept is. */
export function readInt64(buf: Buffer, pos: number): number {
  return buf.readInt32BE(pos) * 0x1_0000_0000 + buf.readUInt32BE(pos + 4);
}

export function writeInt64(buf: Buffer, pos: number, value: number): void {
  const hi = Math.floor(value / 0x1_0000_0000);
  buf.writeInt32BE(hi, pos);
  buf.writeUInt32BE(value - hi * 0x1_0000_0000, pos + 4);
}

export interface BatchHeader {
  readonly baseOffset: number;
  readonly batchLength: number;
  readonly partitionLeaderEpoch: number;
  readonly magic: number;
  readonly crc: number;
  readonly attributes: number;
  readonly lastOffsetDelta: number;
  readonly baseTimestamp: number;
  readonly maxTimestamp: number;
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly baseSequence: number;
  readonly recordCount: number;
}

/** Reads a v2 header at `pos`; the caller has checked that 61 bytes are there and magic is 2. */
export function readBatchHeader(buf: Buffer, pos = 0): BatchHeader {
  return {
    baseOffset: readInt64(buf, pos + OFFSET_OFFSET),
    batchLength: buf.readInt32BE(pos + LENGTH_OFFSET),
    partitionLeaderEpoch: buf.readInt32BE(pos + PARTITION_LEADER_EPOCH_OFFSET),
    magic: buf.readInt8(pos + MAGIC_OFFSET),
    crc: buf.readUInt32BE(pos + CRC_OFFSET),
    attributes: buf.readInt16BE(pos + ATTRIBUTES_OFFSET),
    lastOffsetDelta: buf.readInt32BE(pos + LAST_OFFSET_DELTA_OFFSET),
    baseTimestamp: readInt64(buf, pos + BASE_TIMESTAMP_OFFSET),
    maxTimestamp: readInt64(buf, pos + MAX_TIMESTAMP_OFFSET),
    producerId: readInt64(buf, pos + PRODUCER_ID_OFFSET),
    producerEpoch: buf.readInt16BE(pos + PRODUCER_EPOCH_OFFSET),
    baseSequence: buf.readInt32BE(pos + BASE_SEQUENCE_OFFSET),
    recordCount: buf.readInt32BE(pos + RECORDS_COUNT_OFFSET),
  };
}

export const compressionOf = (attributes: number): number => attributes & COMPRESSION_MASK;
export const isLogAppendTime = (attributes: number): boolean => (attributes & TIMESTAMP_TYPE_MASK) !== 0;
export const isTransactional = (attributes: number): boolean => (attributes & TRANSACTIONAL_FLAG) !== 0;
export const isControl = (attributes: number): boolean => (attributes & CONTROL_FLAG) !== 0;

/** Total bytes of the batch starting at `pos` as declared by its length field. */
export function batchSizeAt(buf: Buffer, pos: number): number {
  return LOG_OVERHEAD + buf.readInt32BE(pos + LENGTH_OFFSET);
}

/** CRC32C over attributes..end of the batch at `pos` of total size `size`. */
export function computeBatchCrc(buf: Buffer, pos: number, size: number): number {
  return crc32c(buf.subarray(pos + ATTRIBUTES_OFFSET, pos + size));
}

export function patchBaseOffset(buf: Buffer, pos: number, baseOffset: number): void {
  // baseOffset is outside the CRC's range, so no recomputation is needed.
  writeInt64(buf, pos + OFFSET_OFFSET, baseOffset);
}

export function patchPartitionLeaderEpoch(buf: Buffer, pos: number, epoch: number): void {
  // Also outside the CRC's range.
  buf.writeInt32BE(epoch, pos + PARTITION_LEADER_EPOCH_OFFSET);
}

/** Sets LogAppendTime: the timestamp-type bit and maxTimestamp, then recomputes the CRC. */
export function patchLogAppendTime(buf: Buffer, pos: number, size: number, timestamp: number): void {
  const attributes = buf.readInt16BE(pos + ATTRIBUTES_OFFSET);
  buf.writeInt16BE(attributes | TIMESTAMP_TYPE_MASK, pos + ATTRIBUTES_OFFSET);
  writeInt64(buf, pos + MAX_TIMESTAMP_OFFSET, timestamp);
  buf.writeUInt32BE(computeBatchCrc(buf, pos, size), pos + CRC_OFFSET);
}

/**
 * Sets maxTimestamp and the timestamp type; recomputes the CRC only when either changed, so a batch
 * whose producer already wrote the right values stays untouched (the common CreateTime case).
 */
export function patchMaxTimestamp(buf: Buffer, pos: number, size: number, timestamp: number, logAppendTime: boolean): void {
  const attributes = buf.readInt16BE(pos + ATTRIBUTES_OFFSET);
  const wanted = logAppendTime ? attributes | TIMESTAMP_TYPE_MASK : attributes & ~TIMESTAMP_TYPE_MASK;
  if (wanted === attributes && readInt64(buf, pos + MAX_TIMESTAMP_OFFSET) === timestamp) return;
  buf.writeInt16BE(wanted, pos + ATTRIBUTES_OFFSET);
  writeInt64(buf, pos + MAX_TIMESTAMP_OFFSET, timestamp);
  buf.writeUInt32BE(computeBatchCrc(buf, pos, size), pos + CRC_OFFSET);
}
