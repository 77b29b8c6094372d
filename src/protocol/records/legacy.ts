// Legacy message sets (magic 0 and 1), read only to convert them.
//
// Decision: the partition log holds v2 batches only, like Kafka 3.x with its default (and, since 3.0,
// only meaningful) message format v2. A Produce request of v0–v2 may carry magic 0/1 messages; the
// broker validates them here and *up-converts* them with `convertLegacyToV2` into a single v2 batch
// (no producer id, no headers; v0 messages get timestamp -1), which then follows the normal append
// path. Kafka does the same conversion in its LogValidator. Nothing here writes legacy formats for
// the log; `buildLegacyMessageSet` exists for tests and tools.
//
// Layout of one entry: offset int64 | size int32 | crc uint32 (CRC-32/IEEE over magic..end) |
// magic int8 | attributes int8 | timestamp int64 (magic 1 only) | key int32-length bytes |
// value int32-length bytes. A compressed "wrapper" message (attributes & 7 = gzip/snappy/lz4) holds a
// compressed message set of inner messages; magic 1 inner offsets are relative (0..n-1), magic 0
// inner offsets are whatever the producer wrote. zstd never existed for these formats.
//
// Kafka before 0.10 computed the LZ4 frame header checksum over the wrong bytes (KIP-57); magic 0
// wrappers keep that quirk, so their frame checksum byte is recomputed before decoding.
import * as zlib from 'node:zlib';
import { ErrorCode } from '../errors.js';
import { StrataError } from '../strata-error.js';
import { Compression, NO_TIMESTAMP, readInt64, writeInt64 } from './batch-header.js';
import { buildBatch, type BatchRecordInput } from './builder.js';
import { compressSync, decompressSync, lz4HeaderChecksum } from './compression.js';

const TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

/** CRC-32/IEEE in JS, for Node versions before zlib.crc32 (20.15). */
export function crc32Portable(buf: Uint8Array): number {
  let crc = -1;
  for (let i = 0; i < buf.length; i++) crc = TABLE[(crc ^ buf[i]!) & 0xff]! ^ (crc >>> 8);
  return ~crc >>> 0;
}

const zlibCrc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

/** CRC-32/IEEE, the checksum of legacy messages (not the CRC32C of v2 batches). */
export const crc32: (buf: Uint8Array) => number = zlibCrc32 ? (b) => zlibCrc32(b) >>> 0 : crc32Portable;

const LOG_OVERHEAD = 12;
const MIN_MESSAGE_V0 = 4 + 1 + 1 + 4 + 4;
const MIN_MESSAGE_V1 = MIN_MESSAGE_V0 + 8;
/** Magic 1 attributes: the timestamp is the broker's LogAppendTime. */
export const TIMESTAMP_TYPE_BIT = 0x08;

export interface LegacyMessage {
  /** Absolute offset as written (for inner messages of a magic 1 wrapper, resolved from the wrapper's). */
  readonly offset: number;
  readonly magic: 0 | 1;
  /** -1 for magic 0. */
  readonly timestamp: number;
  readonly logAppendTime: boolean;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
}

/** A legacy message set Kafka would refuse; `errorCode` is the Kafka code to answer with. */
export class LegacyFormatError extends StrataError {
  readonly errorCode: number;

  constructor(errorCode: number, message: string) {
    super('ERR_CORRUPT_RECORD', message);
    this.errorCode = errorCode;
  }
}

const corrupt = (m: string): LegacyFormatError => new LegacyFormatError(ErrorCode.CORRUPT_MESSAGE, m);
const invalid = (m: string): LegacyFormatError => new LegacyFormatError(ErrorCode.INVALID_RECORD, m);

interface RawMessage {
  offset: number;
  magic: 0 | 1;
  attributes: number;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
}

function readBytes(buf: Buffer, pos: number, end: number, what: string): [Buffer | null, number] {
  if (pos + 4 > end) throw corrupt(`${what} length past the end of the message`);
  const n = buf.readInt32BE(pos);
  pos += 4;
  if (n === -1) return [null, pos];
  if (n < -1 || n > end - pos) throw corrupt(`${what} length ${n} out of range`);
  return [buf.subarray(pos, pos + n), pos + n];
}

/** Parses one flat message set (no decompression), checking sizes and CRCs. */
function parseMessageSet(buf: Buffer, allowTruncatedTail: boolean): RawMessage[] {
  const out: RawMessage[] = [];
  let pos = 0;
  while (pos < buf.length) {
    if (buf.length - pos < LOG_OVERHEAD) {
      if (allowTruncatedTail) break;
      throw corrupt('trailing bytes too few for a message');
    }
    const offset = readInt64(buf, pos);
    const size = buf.readInt32BE(pos + 8);
    if (size < MIN_MESSAGE_V0) throw corrupt(`message size ${size} below the minimum`);
    const start = pos + LOG_OVERHEAD;
    const end = start + size;
    if (end > buf.length) {
      if (allowTruncatedTail) break;
      throw corrupt(`message of ${size} bytes overruns the set`);
    }
    const magic = buf.readInt8(start + 4);
    if (magic !== 0 && magic !== 1) throw corrupt(`message magic ${magic} in a legacy message set`);
    if (magic === 1 && size < MIN_MESSAGE_V1) throw corrupt(`message size ${size} below the magic 1 minimum`);
    if (crc32(buf.subarray(start + 4, end)) !== buf.readUInt32BE(start)) throw corrupt('message CRC does not match');
    const attributes = buf.readInt8(start + 5);
    let p = start + 6;
    let timestamp = NO_TIMESTAMP;
    if (magic === 1) {
      timestamp = readInt64(buf, p);
      p += 8;
    }
    const [key, afterKey] = readBytes(buf, p, end, 'key');
    const [value, afterValue] = readBytes(buf, afterKey, end, 'value');
    if (afterValue !== end) throw corrupt(`message declares ${size} bytes but uses ${afterValue - start}`);
    out.push({ offset, magic, attributes, timestamp, key, value });
    pos = end;
  }
  return out;
}

export interface LegacyDecodeOptions {
  /** Bound on each wrapper's decompressed inner message set. */
  readonly maxUncompressedBytes?: number;
  /** Accept a partial message at the end (fetch responses). */
  readonly allowTruncatedTail?: boolean;
}

/** KIP-57: magic 0 LZ4 wrappers carry a header checksum computed over the wrong bytes; recompute it. */
function fixLz4HeaderChecksum(frame: Buffer): Buffer {
  if (frame.length < 7 || frame.readUInt32LE(0) !== 0x184d2204) return frame;
  const flg = frame[4]!;
  const descriptorEnd = 6 + (flg & 0x08 ? 8 : 0) + (flg & 0x01 ? 4 : 0);
  if (frame.length <= descriptorEnd) return frame;
  const fixed = Buffer.from(frame);
  fixed[descriptorEnd] = lz4HeaderChecksum(fixed.subarray(4, descriptorEnd));
  return fixed;
}

/**
 * Decodes a legacy message set into its messages, expanding compressed wrappers. Throws
 * LegacyFormatError carrying the Kafka error code for anything Kafka would refuse.
 */
export function decodeLegacyMessages(buf: Buffer, opts: LegacyDecodeOptions = {}): LegacyMessage[] {
  const limit = opts.maxUncompressedBytes ?? 256 * 1024 * 1024;
  const out: LegacyMessage[] = [];
  for (const m of parseMessageSet(buf, opts.allowTruncatedTail ?? false)) {
    const codec = m.attributes & 0x07;
    const logAppendTime = m.magic === 1 && (m.attributes & TIMESTAMP_TYPE_BIT) !== 0;
    if (codec === Compression.none) {
      out.push({ offset: m.offset, magic: m.magic, timestamp: m.timestamp, logAppendTime, key: m.key, value: m.value });
      continue;
    }
    if (codec > Compression.lz4) {
      throw new LegacyFormatError(ErrorCode.UNSUPPORTED_COMPRESSION_TYPE, `compression code ${codec} with magic ${m.magic}`);
    }
    if (m.value === null) throw invalid('compressed wrapper message has a null value');
    const packed = codec === Compression.lz4 && m.magic === 0 ? fixLz4HeaderChecksum(m.value) : m.value;
    let plain: Buffer;
    try {
      plain = decompressSync(codec, packed, limit);
    } catch (e) {
      if (e instanceof StrataError && e.code === 'ERR_RECORD_TOO_LARGE') throw new LegacyFormatError(ErrorCode.MESSAGE_TOO_LARGE, e.message);
      if (e instanceof StrataError) throw invalid(e.message);
      throw e;
    }
    const inner = parseMessageSet(plain, false);
    if (inner.length === 0) throw invalid('compressed wrapper holds no messages');
    for (let i = 0; i < inner.length; i++) {
      const x = inner[i]!;
      if ((x.attributes & 0x07) !== 0) throw invalid('nested compression inside a wrapper message');
      if (x.magic !== m.magic) throw invalid(`inner message magic ${x.magic} inside a magic ${m.magic} wrapper`);
      let offset = x.offset;
      if (m.magic === 1) {
        if (x.offset !== i) throw invalid(`inner message ${i} has relative offset ${x.offset}`);
        // A magic 1 wrapper carries the absolute offset of its last inner message.
        offset = m.offset - (inner.length - 1 - i);
      }
      out.push({
        offset,
        magic: x.magic,
        timestamp: logAppendTime ? m.timestamp : x.timestamp,
        logAppendTime,
        key: x.key,
        value: x.value,
      });
    }
  }
  return out;
}

export type LegacyConversion =
  | { readonly status: 'ok'; readonly batch: Buffer; readonly recordCount: number; readonly magic: 0 | 1 }
  | { readonly status: 'invalid'; readonly errorCode: number; readonly message: string };

export interface LegacyConvertOptions extends LegacyDecodeOptions {
  /** Codec of the v2 batch; defaults to the codec of the first wrapper (none if uncompressed). */
  readonly compression?: number;
}

/**
 * Up-converts a produce request's legacy message set into one v2 batch with offsets 0..n-1 (the broker
 * assigns real offsets afterwards as for any batch). Never rejects for bad input: returns a typed failure.
 */
export async function convertLegacyToV2(buf: Buffer, opts: LegacyConvertOptions = {}): Promise<LegacyConversion> {
  let messages: LegacyMessage[];
  try {
    messages = decodeLegacyMessages(buf, opts);
  } catch (e) {
    if (e instanceof LegacyFormatError) return { status: 'invalid', errorCode: e.errorCode, message: e.message };
    throw e;
  }
  if (messages.length === 0) return { status: 'invalid', errorCode: ErrorCode.INVALID_RECORD, message: 'no messages' };
  const magic = messages[0]!.magic;
  if (messages.some((m) => m.magic !== magic)) {
    return { status: 'invalid', errorCode: ErrorCode.INVALID_RECORD, message: 'mixed message magic values' };
  }
  const sourceCodec = buf.length >= 18 ? buf.readInt8(17) & 0x07 : 0;
  const records: BatchRecordInput[] = messages.map((m) => ({ key: m.key, value: m.value, timestamp: m.timestamp }));
  const batch = await buildBatch(records, { compression: opts.compression ?? (sourceCodec <= Compression.lz4 ? sourceCodec : 0) });
  return { status: 'ok', batch, recordCount: messages.length, magic };
}

// ---------------------------------------------------------------------------------------------------
// Writing (tests and tools)

export interface LegacyMessageInput {
  readonly key?: Buffer | string | null;
  readonly value?: Buffer | string | null;
  readonly timestamp?: number;
}

const bytesOf = (b: Buffer | string | null | undefined): Buffer | null =>
  b == null ? null : typeof b === 'string' ? Buffer.from(b) : b;

/** One legacy message (offset, size, CRC and the rest); every byte is written, so nothing is zeroed first. */
export function encodeMessage(offset: number, magic: 0 | 1, attributes: number, timestamp: number, key: Buffer | null, value: Buffer | null): Buffer {
  const size = (magic === 1 ? MIN_MESSAGE_V1 : MIN_MESSAGE_V0) + (key?.length ?? 0) + (value?.length ?? 0);
  const buf = Buffer.allocUnsafe(LOG_OVERHEAD + size);
  writeInt64(buf, 0, offset);
  buf.writeInt32BE(size, 8);
  let p = LOG_OVERHEAD + 4;
  buf.writeInt8(magic, p++);
  buf.writeInt8(attributes, p++);
  if (magic === 1) {
    writeInt64(buf, p, timestamp);
    p += 8;
  }
  for (const b of [key, value]) {
    buf.writeInt32BE(b === null ? -1 : b.length, p);
    p += 4;
    if (b) p += b.copy(buf, p);
  }
  buf.writeUInt32BE(crc32(buf.subarray(LOG_OVERHEAD + 4)), LOG_OVERHEAD);
  return buf;
}

/**
 * A legacy message set: uncompressed messages at offsets 0..n-1, or one compressed wrapper holding
 * them (gzip, snappy or lz4, sync codecs only). `brokenLz4Checksum` reproduces the pre-KIP-57 frames
 * of old magic 0 producers.
 */
export function buildLegacyMessageSet(
  messages: readonly LegacyMessageInput[],
  opts: { magic: 0 | 1; compression?: number; brokenLz4Checksum?: boolean },
): Buffer {
  const magic = opts.magic;
  const codec = opts.compression ?? Compression.none;
  const inner = messages.map((m, i) => encodeMessage(i, magic, 0, m.timestamp ?? NO_TIMESTAMP, bytesOf(m.key), bytesOf(m.value)));
  if (codec === Compression.none) return Buffer.concat(inner);
  let packed = compressSync(codec, Buffer.concat(inner));
  if (codec === Compression.lz4 && opts.brokenLz4Checksum) {
    packed = Buffer.from(packed);
    // The old bug hashed the frame from its magic number onwards instead of from FLG.
    packed[6] = lz4HeaderChecksum(packed.subarray(0, 6));
  }
  // Producers set the wrapper's offset to its last inner message's (relative for magic 1).
  const lastOffset = messages.length - 1;
  const wrapperTs = Math.max(NO_TIMESTAMP, ...messages.map((m) => m.timestamp ?? NO_TIMESTAMP));
  return encodeMessage(lastOffset, magic, codec, wrapperTs, null, packed);
}
