// Builds v2 record batches: for the broker's own writes (coordinators, transaction markers), for tools
// and for tests. The batch's baseTimestamp is its first record's timestamp, as Kafka's builder does.
import { StrataError } from '../strata-error.js';
import {
  ATTRIBUTES_OFFSET,
  BASE_SEQUENCE_OFFSET,
  BASE_TIMESTAMP_OFFSET,
  Compression,
  CONTROL_FLAG,
  CRC_OFFSET,
  LAST_OFFSET_DELTA_OFFSET,
  LENGTH_OFFSET,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  NO_PARTITION_LEADER_EPOCH,
  NO_PRODUCER_EPOCH,
  NO_PRODUCER_ID,
  NO_SEQUENCE,
  NO_TIMESTAMP,
  PARTITION_LEADER_EPOCH_OFFSET,
  PRODUCER_EPOCH_OFFSET,
  PRODUCER_ID_OFFSET,
  RECORD_BATCH_OVERHEAD,
  RECORDS_COUNT_OFFSET,
  TIMESTAMP_TYPE_MASK,
  TRANSACTIONAL_FLAG,
  computeBatchCrc,
  writeInt64,
} from './batch-header.js';
import { compress, compressSync } from './compression.js';
import { ControlRecordType, RecordEncoder, encodeControlRecordKey, encodeEndTxnMarker } from './record.js';

type Bytes = Buffer | string | null | undefined;

export interface BatchRecordInput {
  readonly key?: Bytes;
  readonly value?: Bytes;
  readonly headers?: readonly { readonly key: string; readonly value: Bytes }[];
  /** Defaults to the batch's `timestamp` option, else the current time. */
  readonly timestamp?: number;
  /** Defaults to the record's index; set it to build batches with gaps, as compaction leaves them. */
  readonly offsetDelta?: number;
}

export interface BatchOptions {
  readonly baseOffset?: number;
  readonly partitionLeaderEpoch?: number;
  readonly compression?: number;
  /** Timestamp for records without one. */
  readonly timestamp?: number;
  /** Marks the batch LogAppendTime with this maxTimestamp. */
  readonly logAppendTime?: number;
  readonly producerId?: number;
  readonly producerEpoch?: number;
  readonly baseSequence?: number;
  readonly transactional?: boolean;
  readonly control?: boolean;
  /** Defaults to the last record's offsetDelta (0 for an empty batch). */
  readonly lastOffsetDelta?: number;
}

const toBuffer = (b: Bytes): Buffer | null => (b == null ? null : typeof b === 'string' ? Buffer.from(b, 'utf8') : b);

interface Prepared {
  readonly records: Buffer;
  readonly count: number;
  readonly baseTimestamp: number;
  readonly maxTimestamp: number;
  readonly lastOffsetDelta: number;
}

function prepare(records: readonly BatchRecordInput[], opts: BatchOptions): Prepared {
  const now = opts.timestamp ?? Date.now();
  const baseTimestamp = records.length === 0 ? NO_TIMESTAMP : (records[0]!.timestamp ?? now);
  let maxTimestamp = NO_TIMESTAMP;
  let lastDelta = 0;
  let size = 0;
  const encoders = records.map((r, i) => {
    const ts = r.timestamp ?? now;
    if (ts > maxTimestamp) maxTimestamp = ts;
    lastDelta = r.offsetDelta ?? i;
    const enc = new RecordEncoder({
      offsetDelta: lastDelta,
      timestampDelta: ts - baseTimestamp,
      key: toBuffer(r.key),
      value: toBuffer(r.value),
      headers: (r.headers ?? []).map((h) => ({ key: h.key, value: toBuffer(h.value) })),
    });
    size += enc.size;
    return enc;
  });
  const out = Buffer.allocUnsafe(size);
  let pos = 0;
  for (const e of encoders) pos = e.write(out, pos);
  return {
    records: out,
    count: records.length,
    baseTimestamp,
    maxTimestamp: opts.logAppendTime ?? maxTimestamp,
    lastOffsetDelta: opts.lastOffsetDelta ?? lastDelta,
  };
}

function assemble(p: Prepared, body: Buffer, opts: BatchOptions): Buffer {
  const codec = opts.compression ?? Compression.none;
  const size = RECORD_BATCH_OVERHEAD + body.length;
  const buf = Buffer.allocUnsafe(size);
  writeInt64(buf, 0, opts.baseOffset ?? 0);
  buf.writeInt32BE(size - LOG_OVERHEAD, LENGTH_OFFSET);
  buf.writeInt32BE(opts.partitionLeaderEpoch ?? NO_PARTITION_LEADER_EPOCH, PARTITION_LEADER_EPOCH_OFFSET);
  buf.writeInt8(2, MAGIC_OFFSET);
  let attributes = codec;
  if (opts.logAppendTime !== undefined) attributes |= TIMESTAMP_TYPE_MASK;
  if (opts.transactional) attributes |= TRANSACTIONAL_FLAG;
  if (opts.control) attributes |= CONTROL_FLAG;
  buf.writeInt16BE(attributes, ATTRIBUTES_OFFSET);
  buf.writeInt32BE(p.lastOffsetDelta, LAST_OFFSET_DELTA_OFFSET);
  writeInt64(buf, BASE_TIMESTAMP_OFFSET, p.baseTimestamp);
  writeInt64(buf, MAX_TIMESTAMP_OFFSET, p.maxTimestamp);
  writeInt64(buf, PRODUCER_ID_OFFSET, opts.producerId ?? NO_PRODUCER_ID);
  buf.writeInt16BE(opts.producerEpoch ?? NO_PRODUCER_EPOCH, PRODUCER_EPOCH_OFFSET);
  buf.writeInt32BE(opts.baseSequence ?? NO_SEQUENCE, BASE_SEQUENCE_OFFSET);
  buf.writeInt32BE(p.count, RECORDS_COUNT_OFFSET);
  body.copy(buf, RECORD_BATCH_OVERHEAD);
  buf.writeUInt32BE(computeBatchCrc(buf, 0, size), CRC_OFFSET);
  return buf;
}

/** Builds one batch; async because zstd compresses asynchronously. */
export async function buildBatch(records: readonly BatchRecordInput[], opts: BatchOptions = {}): Promise<Buffer> {
  const p = prepare(records, opts);
  const codec = opts.compression ?? Compression.none;
  const body = codec === Compression.none ? p.records : await compress(codec, p.records);
  return assemble(p, body, opts);
}

/** Builds one batch synchronously; every codec but zstd. */
export function buildBatchSync(records: readonly BatchRecordInput[], opts: BatchOptions = {}): Buffer {
  const p = prepare(records, opts);
  const codec = opts.compression ?? Compression.none;
  if (codec === Compression.zstd) throw new StrataError('ERR_COMPRESSION', 'zstd batches must be built with buildBatch()');
  return assemble(p, codec === Compression.none ? p.records : compressSync(codec, p.records), opts);
}

export interface ControlBatchOptions {
  readonly type: 'commit' | 'abort';
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly coordinatorEpoch: number;
  readonly baseOffset?: number;
  readonly partitionLeaderEpoch?: number;
  readonly timestamp?: number;
}

/** A transaction marker: a transactional control batch holding one COMMIT or ABORT record. */
export function buildControlBatch(opts: ControlBatchOptions): Buffer {
  const type = opts.type === 'commit' ? ControlRecordType.COMMIT : ControlRecordType.ABORT;
  return buildBatchSync(
    [{ key: encodeControlRecordKey(type), value: encodeEndTxnMarker(opts.coordinatorEpoch) }],
    {
      baseOffset: opts.baseOffset ?? 0,
      partitionLeaderEpoch: opts.partitionLeaderEpoch ?? NO_PARTITION_LEADER_EPOCH,
      timestamp: opts.timestamp ?? Date.now(),
      producerId: opts.producerId,
      producerEpoch: opts.producerEpoch,
      baseSequence: NO_SEQUENCE,
      transactional: true,
      control: true,
    },
  );
}
