// Walking, validating and patching a run of v2 record batches in place (produce path, fetch parsing,
// storage recovery). Batches stay where they are: results carry positions into the caller's Buffer.
//
// Validation is one pass over the bytes: header checks, CRC32C over attributes..end, and for an
// uncompressed batch a walk over record lengths (no allocation per record; for 1 KiB records it costs a
// few varint reads per KiB, far below the CRC). Compressed batches need decompression to see their
// records, which may be asynchronous (zstd), so `validateBatches` marks them `recordsChecked: false` and
// `validateBatchesForAppend` finishes them asynchronously with a bound on decompressed size.
//
// Error codes follow Kafka's split: framing, size and checksum problems are CORRUPT_MESSAGE (the bytes
// were damaged; a retry may succeed); a batch whose checksum is right but whose contents break the
// rules is INVALID_RECORD (the client built it that way; retrying will not help). Unknown codecs are
// UNSUPPORTED_COMPRESSION_TYPE, oversized batches MESSAGE_TOO_LARGE, out-of-bounds timestamps
// INVALID_TIMESTAMP.
//
// Unlike Kafka, which silently drops a trailing partial batch from a produce request, we refuse it
// (CORRUPT_MESSAGE) unless `allowTruncatedTail` is set, as it is for fetch responses and log recovery.
import { ErrorCode } from '../errors.js';
import { StrataError } from '../strata-error.js';
import {
  ATTRIBUTES_OFFSET,
  Compression,
  CONTROL_FLAG,
  type BatchHeader,
  LENGTH_OFFSET,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  MIN_BATCH_LENGTH,
  RECORD_BATCH_OVERHEAD,
  TIMESTAMP_TYPE_MASK,
  TRANSACTIONAL_FLAG,
  computeBatchCrc,
  patchBaseOffset,
  patchLogAppendTime,
  patchMaxTimestamp,
  patchPartitionLeaderEpoch,
  readBatchHeader,
} from './batch-header.js';
import { decompress, isCompressionSupported } from './compression.js';
import { RecordScanError, scanRecords, type RecordScan } from './record.js';

export interface BatchInfo {
  /** Offset of the batch's first byte in the buffer. */
  readonly position: number;
  /** Total bytes: LOG_OVERHEAD + batchLength. */
  readonly size: number;
  readonly header: BatchHeader;
}

/**
 * Yields each complete v2 batch in `buf` without copying and without checking CRCs; stops quietly at
 * a trailing partial batch. Throws ERR_CORRUPT_RECORD on a length below the v2 minimum or a magic
 * other than 2 (use `validateBatches` for a typed result instead of an exception).
 */
export function* iterateBatches(buf: Buffer, start = 0, end = buf.length): Generator<BatchInfo> {
  let pos = start;
  while (end - pos >= LOG_OVERHEAD) {
    const length = buf.readInt32BE(pos + LENGTH_OFFSET);
    if (length < MIN_BATCH_LENGTH) {
      throw new StrataError('ERR_CORRUPT_RECORD', `batch at ${pos} declares length ${length}`);
    }
    const size = LOG_OVERHEAD + length;
    if (size > end - pos) return;
    const magic = buf.readInt8(pos + MAGIC_OFFSET);
    if (magic !== 2) throw new StrataError('ERR_CORRUPT_RECORD', `batch at ${pos} has magic ${magic}`);
    yield { position: pos, size, header: readBatchHeader(buf, pos) };
    pos += size;
  }
}

/** Who produced the bytes, which decides the rules beyond well-formedness. */
export type BatchSource =
  /** A client's produce request: no control batches, at least one record, contiguous offsets. */
  | 'client'
  /** The broker's own writes (coordinators, transaction markers): as client, but control batches allowed. */
  | 'internal'
  /** Bytes already in a log (fetch responses, replication, recovery): compaction may have removed records. */
  | 'log';

export interface ValidateOptions {
  readonly source?: BatchSource;
  /** Accept a partial batch at the end and stop there (fetch responses, torn log tails). */
  readonly allowTruncatedTail?: boolean;
  /** Walk the records of uncompressed batches (default true). */
  readonly checkRecords?: boolean;
  /** Largest batch accepted (the topic's max.message.bytes); larger is MESSAGE_TOO_LARGE. */
  readonly maxBatchSize?: number;
  /** Refuse null keys (compacted topics). */
  readonly requireKeys?: boolean;
  /** Refuse zstd (Produce below v7, Fetch below v10). */
  readonly allowZstd?: boolean;
  /** Produce v3+ carries exactly one batch per partition. */
  readonly requireSingleBatch?: boolean;
  /** CreateTime bounds: record timestamps must lie in [now - beforeMaxMs, now + afterMaxMs]. */
  readonly timestampBounds?: { readonly now: number; readonly beforeMaxMs: number; readonly afterMaxMs: number };
}

export interface ValidatedBatch extends BatchInfo {
  readonly compression: number;
  /** Whether the records have been walked (false for compressed batches until decompressed). */
  recordsChecked: boolean;
  /** The greatest record timestamp when records were walked, else the header's maxTimestamp. */
  maxTimestamp: number;
  /** offsetDelta of the first record carrying `maxTimestamp` (lastOffsetDelta when not walked). */
  offsetDeltaOfMaxTimestamp: number;
}

export interface BatchFailure {
  readonly status: 'invalid';
  /** Kafka error code (errors.ts). */
  readonly errorCode: number;
  readonly message: string;
  /** Position of the offending batch in the buffer. */
  readonly position: number;
  /** Index of the offending batch among the batches in the buffer. */
  readonly batchIndex: number;
  /** Index of the offending record within its batch, or -1. */
  readonly recordIndex: number;
  /** The valid batches before the failure and the bytes they span (recovery truncates to this). */
  readonly batches: readonly ValidatedBatch[];
  readonly validBytes: number;
}

export interface BatchSuccess {
  readonly status: 'ok';
  readonly batches: readonly ValidatedBatch[];
  /** Bytes covered by complete batches; less than the buffer only with `allowTruncatedTail`. */
  readonly validBytes: number;
  readonly recordCount: number;
}

/** Magic 0/1 at the start of the buffer: hand the bytes to legacy.ts (conversion or refusal). */
export interface LegacyFormat {
  readonly status: 'legacy';
  readonly magic: 0 | 1;
}

export type BatchValidation = BatchSuccess | BatchFailure | LegacyFormat;

/** Bounds every decompressed records section by default (the broker passes its own). */
export const DEFAULT_MAX_UNCOMPRESSED_BYTES = 256 * 1024 * 1024;

class Refusal {
  constructor(
    readonly errorCode: number,
    readonly message: string,
    readonly recordIndex = -1,
  ) {}
}

function failure(r: Refusal, pos: number, batches: readonly ValidatedBatch[]): BatchFailure {
  return {
    status: 'invalid',
    errorCode: r.errorCode,
    message: r.message,
    position: pos,
    batchIndex: batches.length,
    recordIndex: r.recordIndex,
    batches,
    validBytes: pos,
  };
}

/** Checks every batch in `buf`; synchronous, and complete for uncompressed batches. */
export function validateBatches(buf: Buffer, opts: ValidateOptions = {}): BatchValidation {
  // No closures in here: this runs once per partition per produce request.
  const source = opts.source ?? 'client';
  const batches: ValidatedBatch[] = [];
  let pos = 0;
  let records = 0;
  while (pos < buf.length) {
    const remaining = buf.length - pos;
    if (remaining < LOG_OVERHEAD) {
      if (opts.allowTruncatedTail) break;
      return failure(new Refusal(ErrorCode.CORRUPT_MESSAGE, `${remaining} trailing bytes are too few for a batch`), pos, batches);
    }
    const length = buf.readInt32BE(pos + LENGTH_OFFSET);
    if (remaining > MAGIC_OFFSET) {
      const magic = buf.readInt8(pos + MAGIC_OFFSET);
      if ((magic === 0 || magic === 1) && pos === 0) return { status: 'legacy', magic };
      if (magic !== 2) return failure(new Refusal(ErrorCode.CORRUPT_MESSAGE, `batch magic ${magic}`), pos, batches);
    }
    if (length < MIN_BATCH_LENGTH) {
      return failure(new Refusal(ErrorCode.CORRUPT_MESSAGE, `batch length ${length} is below the minimum ${MIN_BATCH_LENGTH}`), pos, batches);
    }
    const size = LOG_OVERHEAD + length;
    if (size > remaining) {
      if (opts.allowTruncatedTail) break;
      return failure(new Refusal(ErrorCode.CORRUPT_MESSAGE, `batch of ${size} bytes overruns the ${remaining} remaining`), pos, batches);
    }
    if (opts.maxBatchSize !== undefined && size > opts.maxBatchSize) {
      return failure(new Refusal(ErrorCode.MESSAGE_TOO_LARGE, `batch of ${size} bytes exceeds ${opts.maxBatchSize}`), pos, batches);
    }
    const header = readBatchHeader(buf, pos);
    if (computeBatchCrc(buf, pos, size) !== header.crc) {
      return failure(new Refusal(ErrorCode.CORRUPT_MESSAGE, 'batch CRC does not match its contents'), pos, batches);
    }
    if (opts.requireSingleBatch && batches.length === 1) {
      return failure(new Refusal(ErrorCode.INVALID_RECORD, 'only one batch per partition is allowed'), pos, batches);
    }
    const refusal = checkHeader(header, source, opts);
    if (refusal) return failure(refusal, pos, batches);
    const batch: ValidatedBatch = {
      position: pos,
      size,
      header,
      compression: header.attributes & 0x07,
      recordsChecked: false,
      maxTimestamp: header.maxTimestamp,
      offsetDeltaOfMaxTimestamp: header.lastOffsetDelta,
    };
    if (batch.compression === Compression.none && opts.checkRecords !== false) {
      const r = checkRecords(buf, pos + RECORD_BATCH_OVERHEAD, pos + size, batch, source, opts);
      if (r) return failure(r, pos, batches);
    }
    batches.push(batch);
    records += header.recordCount;
    pos += size;
  }
  if (batches.length === 0 && source !== 'log' && !opts.allowTruncatedTail) {
    return failure(new Refusal(ErrorCode.INVALID_RECORD, 'no record batch'), pos, batches);
  }
  return { status: 'ok', batches, validBytes: pos, recordCount: records };
}

function checkHeader(h: BatchHeader, source: BatchSource, opts: ValidateOptions): Refusal | undefined {
  const codec = h.attributes & 0x07;
  if (codec > Compression.zstd || !isCompressionSupported(codec)) {
    return new Refusal(ErrorCode.UNSUPPORTED_COMPRESSION_TYPE, `compression code ${codec}`);
  }
  if (codec === Compression.zstd && opts.allowZstd === false) {
    return new Refusal(ErrorCode.UNSUPPORTED_COMPRESSION_TYPE, 'zstd needs Produce v7+ / Fetch v10+');
  }
  if (h.recordCount < 0) return new Refusal(ErrorCode.CORRUPT_MESSAGE, `record count ${h.recordCount}`);
  if (h.lastOffsetDelta < 0) return new Refusal(ErrorCode.CORRUPT_MESSAGE, `last offset delta ${h.lastOffsetDelta}`);
  const control = (h.attributes & CONTROL_FLAG) !== 0;
  if (source === 'log') {
    // Compaction can leave fewer records than the offset span, even none.
    if (h.recordCount > h.lastOffsetDelta + 1) {
      return new Refusal(ErrorCode.CORRUPT_MESSAGE, `${h.recordCount} records in an offset span of ${h.lastOffsetDelta + 1}`);
    }
    if (control && h.recordCount > 1) return new Refusal(ErrorCode.CORRUPT_MESSAGE, 'control batch with several records');
  } else {
    if (h.recordCount === 0) return new Refusal(ErrorCode.INVALID_RECORD, 'batch has no records');
    if (h.lastOffsetDelta !== h.recordCount - 1) {
      return new Refusal(
        ErrorCode.INVALID_RECORD,
        `last offset delta ${h.lastOffsetDelta} does not match record count ${h.recordCount}`,
      );
    }
    if (control && source === 'client') return new Refusal(ErrorCode.INVALID_RECORD, 'clients may not write control batches');
    if (control && h.recordCount !== 1) return new Refusal(ErrorCode.INVALID_RECORD, 'control batch must hold exactly one record');
  }
  if (h.producerId < -1) return new Refusal(ErrorCode.INVALID_RECORD, `producer id ${h.producerId}`);
  if (h.producerId >= 0) {
    if (h.producerEpoch < 0) return new Refusal(ErrorCode.INVALID_RECORD, `producer epoch ${h.producerEpoch} with producer id`);
    // Transaction markers carry no sequence.
    if (!control && h.baseSequence < 0 && source !== 'log') {
      return new Refusal(ErrorCode.INVALID_RECORD, `sequence ${h.baseSequence} with producer id`);
    }
  } else if ((h.attributes & TRANSACTIONAL_FLAG) !== 0) {
    return new Refusal(ErrorCode.INVALID_RECORD, 'transactional batch without producer id');
  }
  return undefined;
}

function checkRecords(
  records: Buffer,
  start: number,
  end: number,
  batch: ValidatedBatch,
  source: BatchSource,
  opts: ValidateOptions,
): Refusal | undefined {
  const h = batch.header;
  let scan: RecordScan;
  try {
    scan = scanRecords(records, start, end, h.recordCount, {
      baseTimestamp: h.baseTimestamp,
      requireKeys: opts.requireKeys === true && (h.attributes & CONTROL_FLAG) === 0,
      lastOffsetDelta: source === 'log' ? h.lastOffsetDelta : -1,
    });
  } catch (e) {
    if (e instanceof RecordScanError) return new Refusal(ErrorCode.INVALID_RECORD, e.message, e.recordIndex);
    throw e;
  }
  batch.recordsChecked = true;
  if (h.recordCount > 0) {
    batch.maxTimestamp = scan.maxTimestamp;
    batch.offsetDeltaOfMaxTimestamp = scan.offsetDeltaOfMaxTimestamp;
  }
  const b = opts.timestampBounds;
  if (b && h.recordCount > 0 && (h.attributes & TIMESTAMP_TYPE_MASK) === 0) {
    if (scan.minTimestamp < b.now - b.beforeMaxMs || scan.maxTimestamp > b.now + b.afterMaxMs) {
      return new Refusal(ErrorCode.INVALID_TIMESTAMP, 'record timestamp outside the accepted range');
    }
  }
  return undefined;
}

export interface AppendValidateOptions extends ValidateOptions {
  /** Bound on each compressed batch's decompressed records (default DEFAULT_MAX_UNCOMPRESSED_BYTES). */
  readonly maxUncompressedBytes?: number;
}

/**
 * Everything the produce path needs: `validateBatches` plus, for compressed batches, decompression
 * (bounded) and the same record walk. Resolves to a typed result; never rejects for bad input.
 */
export async function validateBatchesForAppend(buf: Buffer, opts: AppendValidateOptions = {}): Promise<BatchValidation> {
  const result = validateBatches(buf, opts);
  if (result.status !== 'ok' || opts.checkRecords === false) return result;
  const source = opts.source ?? 'client';
  const limit = opts.maxUncompressedBytes ?? DEFAULT_MAX_UNCOMPRESSED_BYTES;
  for (let i = 0; i < result.batches.length; i++) {
    const batch = result.batches[i]!;
    if (batch.recordsChecked || batch.compression === Compression.none) continue;
    let plain: Buffer;
    try {
      plain = await decompress(
        batch.compression,
        buf.subarray(batch.position + RECORD_BATCH_OVERHEAD, batch.position + batch.size),
        limit,
      );
    } catch (e) {
      if (e instanceof StrataError && e.code === 'ERR_RECORD_TOO_LARGE') {
        return failure(new Refusal(ErrorCode.MESSAGE_TOO_LARGE, e.message), batch.position, result.batches.slice(0, i));
      }
      if (e instanceof StrataError && e.code === 'ERR_COMPRESSION') {
        return failure(new Refusal(ErrorCode.INVALID_RECORD, e.message), batch.position, result.batches.slice(0, i));
      }
      throw e;
    }
    const r = checkRecords(plain, 0, plain.length, batch, source, opts);
    if (r) return failure(r, batch.position, result.batches.slice(0, i));
  }
  return result;
}

// ---------------------------------------------------------------------------------------------------
// Patching for append

export interface AssignOptions {
  /** The offset the first record receives (the log end offset). */
  readonly firstOffset: number;
  /** The leader epoch stamped on every batch. */
  readonly partitionLeaderEpoch: number;
  /** Set for LogAppendTime topics: every batch gets this maxTimestamp and the timestamp-type bit. */
  readonly logAppendTime?: number;
}

export interface AppendedBatch {
  readonly position: number;
  readonly size: number;
  readonly baseOffset: number;
  readonly lastOffset: number;
  readonly header: BatchHeader;
}

export interface AssignResult {
  readonly firstOffset: number;
  readonly lastOffset: number;
  /** Greatest timestamp in the append (the LogAppendTime when set). */
  readonly maxTimestamp: number;
  /** Offset of the first record carrying `maxTimestamp`. */
  readonly offsetOfMaxTimestamp: number;
  readonly recordCount: number;
  readonly batches: readonly AppendedBatch[];
}

/**
 * Assigns offsets and the leader epoch in place, and settles each batch's maxTimestamp: LogAppendTime
 * when given, else the greatest record timestamp found while validating (a producer that wrote a
 * different one gets it corrected, as Kafka does). baseOffset and leader epoch lie outside the CRC; a
 * timestamp change recomputes it. `batches` must come from a successful validation of `buf`.
 */
export function assignOffsets(buf: Buffer, batches: readonly ValidatedBatch[], opts: AssignOptions): AssignResult {
  let next = opts.firstOffset;
  let maxTimestamp = -1;
  let offsetOfMax = -1;
  let recordCount = 0;
  const out: AppendedBatch[] = [];
  for (const b of batches) {
    const base = next;
    patchBaseOffset(buf, b.position, base);
    patchPartitionLeaderEpoch(buf, b.position, opts.partitionLeaderEpoch);
    let ts: number;
    let offsetOfBatchMax: number;
    if (opts.logAppendTime !== undefined) {
      patchLogAppendTime(buf, b.position, b.size, opts.logAppendTime);
      ts = opts.logAppendTime;
      offsetOfBatchMax = base;
    } else {
      if (b.recordsChecked && b.header.recordCount > 0) {
        patchMaxTimestamp(buf, b.position, b.size, b.maxTimestamp, false);
      } else if ((buf.readInt16BE(b.position + ATTRIBUTES_OFFSET) & TIMESTAMP_TYPE_MASK) !== 0) {
        patchMaxTimestamp(buf, b.position, b.size, b.maxTimestamp, false);
      }
      ts = b.maxTimestamp;
      offsetOfBatchMax = base + b.offsetDeltaOfMaxTimestamp;
    }
    if (ts > maxTimestamp) {
      maxTimestamp = ts;
      offsetOfMax = offsetOfBatchMax;
    }
    const last = base + b.header.lastOffsetDelta;
    out.push({ position: b.position, size: b.size, baseOffset: base, lastOffset: last, header: b.header });
    recordCount += b.header.recordCount;
    next = last + 1;
  }
  return {
    firstOffset: opts.firstOffset,
    lastOffset: next - 1,
    maxTimestamp,
    offsetOfMaxTimestamp: offsetOfMax,
    recordCount,
    batches: out,
  };
}
