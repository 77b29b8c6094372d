// The produce path's checks before a client's records reach the log, as Kafka's LogValidator: framing,
// CRC, sizes and record rules (validateBatchesForAppend), legacy magic 0/1 message sets up-converted to
// v2, CreateTime bounds, and recompression when the topic's compression.type names a codec other than the
// producer's. Records are decoded only for up-conversion and recompression; otherwise the request's bytes
// are appended as they came (the log patches offsets and LogAppendTime in place).
import { ErrorCode } from '../protocol/errors.js';
import {
  ATTRIBUTES_OFFSET, compressionOf, CONTROL_FLAG, readBatchHeader, RECORD_BATCH_OVERHEAD, TRANSACTIONAL_FLAG,
} from '../protocol/records/batch-header.js';
import {
  type AppendValidateOptions, type BatchValidation, validateBatches, validateBatchesForAppend, type ValidatedBatch,
} from '../protocol/records/batches.js';
import { decodeBatchRecords } from '../protocol/records/batch-records.js';
import { buildBatch } from '../protocol/records/builder.js';
import { convertLegacyToV2 } from '../protocol/records/legacy.js';
import { hasCompactPolicy } from '../storage/log-config.js';
import { type PartitionConfig, targetCompression } from './partition-config.js';

export interface RecordError {
  /** Index of the offending record within its batch. */
  readonly batchIndex: number;
  readonly message: string | null;
}

export type PreparedAppend =
  | { readonly ok: true; readonly records: Buffer; readonly recordCount: number; readonly recompressed: boolean }
  | { readonly ok: false; readonly errorCode: number; readonly message: string; readonly recordErrors: readonly RecordError[] };

export interface PrepareOptions {
  readonly config: PartitionConfig;
  readonly now: number;
  /** The Produce request version; undefined for internal writes (no per-version rules). */
  readonly produceVersion?: number;
  /** Control batches are allowed (the broker's own transaction markers). */
  readonly internal?: boolean;
  /** Bound on decompressed records per batch. */
  readonly maxUncompressedBytes?: number;
}

function refused(v: Extract<BatchValidation, { status: 'invalid' }>): PreparedAppend {
  const recordErrors = v.errorCode === ErrorCode.INVALID_RECORD && v.recordIndex >= 0
    ? [{ batchIndex: v.recordIndex, message: v.message }]
    : [];
  return { ok: false, errorCode: v.errorCode, message: v.message, recordErrors };
}

function validateOptions(opts: PrepareOptions): AppendValidateOptions {
  const { config, produceVersion } = opts;
  const createTime = config.log.messageTimestampType === 'CreateTime';
  return {
    source: opts.internal ? ('internal' as const) : ('client' as const),
    maxBatchSize: config.log.maxMessageBytes,
    requireKeys: hasCompactPolicy(config.log),
    allowZstd: produceVersion === undefined || produceVersion >= 7,
    requireSingleBatch: produceVersion !== undefined && produceVersion >= 3,
    ...(opts.maxUncompressedBytes !== undefined ? { maxUncompressedBytes: opts.maxUncompressedBytes } : {}),
    ...(createTime
      ? { timestampBounds: { now: opts.now, beforeMaxMs: config.timestampBeforeMaxMs, afterMaxMs: config.timestampAfterMaxMs } }
      : {}),
  };
}

/**
 * prepareAppend within this call, for records that need no decompression, conversion or recompression
 * (uncompressed v2 batches written as the topic keeps them); undefined otherwise, for prepareAppend.
 */
export function prepareAppendNow(records: Buffer, opts: PrepareOptions): PreparedAppend | undefined {
  // A compressed first batch is left to prepareAppend before its checksum is computed here for nothing.
  if (records.length >= RECORD_BATCH_OVERHEAD && compressionOf(records.readInt16BE(ATTRIBUTES_OFFSET)) !== 0) return undefined;
  const v = validateBatches(records, validateOptions(opts));
  if (v.status === 'legacy') return undefined;
  if (v.status === 'invalid') return refused(v);
  if (v.batches.some((b) => !b.recordsChecked)) return undefined;
  const target = targetCompression(opts.config.compressionType);
  if (target !== undefined && v.batches.some((b) => b.compression !== target)) return undefined;
  return { ok: true, records, recordCount: v.recordCount, recompressed: false };
}

/** Validates (and where needed converts or recompresses) one partition's records of a produce request. */
export async function prepareAppend(records: Buffer, opts: PrepareOptions): Promise<PreparedAppend> {
  const { config, produceVersion } = opts;
  const validateOpts = validateOptions(opts);
  let buf = records;
  let v = await validateBatchesForAppend(buf, validateOpts);
  let converted = false;
  if (v.status === 'legacy') {
    // Produce v3+ carries RecordBatch v2 only.
    if (produceVersion !== undefined && produceVersion >= 3) {
      return { ok: false, errorCode: ErrorCode.INVALID_RECORD, message: `Produce v${produceVersion} requires magic v2 batches, got magic ${v.magic}`, recordErrors: [] };
    }
    const target = targetCompression(config.compressionType);
    const conversion = await convertLegacyToV2(buf, target !== undefined ? { compression: target } : {});
    if (conversion.status === 'invalid') {
      return { ok: false, errorCode: conversion.errorCode, message: conversion.message, recordErrors: [] };
    }
    buf = conversion.batch;
    converted = true;
    v = await validateBatchesForAppend(buf, validateOpts);
  }
  if (v.status === 'legacy') return { ok: false, errorCode: ErrorCode.CORRUPT_MESSAGE, message: 'legacy message inside a converted batch', recordErrors: [] };
  if (v.status === 'invalid') return refused(v);
  const target = targetCompression(config.compressionType);
  if (target !== undefined && v.batches.some((b) => b.compression !== target)) {
    const rebuilt = await recompress(buf, v.batches, target);
    return { ok: true, records: rebuilt, recordCount: v.recordCount, recompressed: true };
  }
  return { ok: true, records: buf, recordCount: v.recordCount, recompressed: converted };
}

/** Rebuilds each batch whose codec differs from `target`, keeping producer fields, timestamps and headers. */
async function recompress(buf: Buffer, batches: readonly ValidatedBatch[], target: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (const b of batches) {
    if (b.compression === target) {
      parts.push(buf.subarray(b.position, b.position + b.size));
      continue;
    }
    const h = readBatchHeader(buf, b.position);
    const records = await decodeBatchRecords(buf, b);
    parts.push(await buildBatch(
      records.map((r) => ({ key: r.key, value: r.value, headers: r.headers, timestamp: r.timestamp, offsetDelta: r.offset - h.baseOffset })),
      {
        baseOffset: h.baseOffset,
        partitionLeaderEpoch: h.partitionLeaderEpoch,
        compression: target,
        producerId: h.producerId,
        producerEpoch: h.producerEpoch,
        baseSequence: h.baseSequence,
        transactional: (h.attributes & TRANSACTIONAL_FLAG) !== 0,
        control: (h.attributes & CONTROL_FLAG) !== 0,
        lastOffsetDelta: h.lastOffsetDelta,
      },
    ));
  }
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}
