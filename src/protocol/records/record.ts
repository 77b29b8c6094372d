// The v2 record format inside a batch's records section:
//   length varint | attributes int8 | timestampDelta varlong | offsetDelta varint |
//   keyLength varint (-1 = null) | key | valueLength varint (-1 = null) | value |
//   headerCount varint | [headerKeyLength varint | headerKey utf8 | headerValueLength varint (-1 = null) | value]*
// `length` counts the bytes after itself, and a record must consume exactly that many.
//
// Two ways in: `scanRecords` checks a records section without allocating per record (the produce path),
// `decodeRecords` materialises records (compaction, transaction markers, tools and tests). Decoded keys,
// values and header values are views into the input, not copies.
import { StrataError } from '../strata-error.js';
import { ByteCursor, varintSize, varlongSize, writeVarint, writeVarlong } from './varint.js';

export interface RecordHeader {
  readonly key: string;
  readonly value: Buffer | null;
}

export interface DecodedRecord {
  readonly offset: number;
  readonly timestamp: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: readonly RecordHeader[];
}

/** What a record needs to be written; offset and timestamp are given as deltas by the batch builder. */
export interface RecordFields {
  readonly offsetDelta: number;
  readonly timestampDelta: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: readonly RecordHeader[];
}

function invalid(message: string): StrataError {
  return new StrataError('ERR_CORRUPT_RECORD', message);
}

// ---------------------------------------------------------------------------------------------------
// Encoding

/** Bytes of the record body (what the leading length counts). */
function bodySize(r: RecordFields, headerKeys: readonly Buffer[]): number {
  let n = 1 + varlongSize(r.timestampDelta) + varintSize(r.offsetDelta);
  n += r.key === null ? 1 : varintSize(r.key.length) + r.key.length;
  n += r.value === null ? 1 : varintSize(r.value.length) + r.value.length;
  n += varintSize(r.headers.length);
  for (let i = 0; i < r.headers.length; i++) {
    const k = headerKeys[i]!;
    const v = r.headers[i]!.value;
    n += varintSize(k.length) + k.length + (v === null ? 1 : varintSize(v.length) + v.length);
  }
  return n;
}

/** An encoder that sizes a record once and can then write it; keeps header keys' UTF-8 bytes between the two. */
export class RecordEncoder {
  readonly size: number;
  readonly #record: RecordFields;
  readonly #headerKeys: readonly Buffer[];
  readonly #body: number;

  constructor(record: RecordFields) {
    this.#record = record;
    this.#headerKeys = record.headers.map((h) => Buffer.from(h.key, 'utf8'));
    this.#body = bodySize(record, this.#headerKeys);
    this.size = varintSize(this.#body) + this.#body;
  }

  /** Writes the record at `pos`; returns the position after it. */
  write(buf: Buffer, pos: number): number {
    const r = this.#record;
    pos = writeVarint(buf, pos, this.#body);
    buf[pos++] = 0; // attributes: unused by v2
    pos = writeVarlong(buf, pos, r.timestampDelta);
    pos = writeVarint(buf, pos, r.offsetDelta);
    pos = writeNullableBytes(buf, pos, r.key);
    pos = writeNullableBytes(buf, pos, r.value);
    pos = writeVarint(buf, pos, r.headers.length);
    for (let i = 0; i < r.headers.length; i++) {
      const k = this.#headerKeys[i]!;
      pos = writeVarint(buf, pos, k.length);
      pos += k.copy(buf, pos);
      pos = writeNullableBytes(buf, pos, r.headers[i]!.value);
    }
    return pos;
  }
}

function writeNullableBytes(buf: Buffer, pos: number, b: Buffer | null): number {
  if (b === null) return writeVarint(buf, pos, -1);
  pos = writeVarint(buf, pos, b.length);
  return pos + b.copy(buf, pos);
}

/** One record encoded on its own (tests and tools; the builder writes records straight into the batch). */
export function encodeRecord(record: RecordFields): Buffer {
  const enc = new RecordEncoder(record);
  const out = Buffer.allocUnsafe(enc.size);
  enc.write(out, 0);
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Scanning (validation without materialising records)

export interface RecordScanOptions {
  /** The batch's baseTimestamp: record timestamps are baseTimestamp + timestampDelta. */
  readonly baseTimestamp: number;
  /** Refuse records with a null key (compacted topics). */
  readonly requireKeys?: boolean;
  /**
   * -1 (the default) demands offset deltas 0..count-1, as a producer writes them. A batch from a log
   * passes its lastOffsetDelta instead: compaction leaves gaps, so deltas need only increase within it.
   */
  readonly lastOffsetDelta?: number;
}

export interface RecordScan {
  /** Greatest baseTimestamp + timestampDelta over the records; -1 when there are none. */
  readonly maxTimestamp: number;
  /** offsetDelta of the first record carrying `maxTimestamp`. */
  readonly offsetDeltaOfMaxTimestamp: number;
  /** Least record timestamp, so a caller can bound-check timestamps without a second pass. */
  readonly minTimestamp: number;
}

export class RecordScanError extends StrataError {
  /** Index of the offending record within its batch (ProduceResponse v8+ reports it), or -1. */
  readonly recordIndex: number;
  /** Whether the records were well-formed but refused by a rule (null key on a compacted topic). */
  readonly rule: boolean;

  constructor(message: string, recordIndex: number, rule = false) {
    super('ERR_CORRUPT_RECORD', message);
    this.recordIndex = recordIndex;
    this.rule = rule;
  }
}

// The scan is the per-record cost of every produce, so it reads varints with plain functions over a
// local position instead of cursor methods: `scanPos` carries the position after the last read (one
// module-level slot; JS is single-threaded and nothing here re-enters).
let scanPos = 0;

function scanFail(message: string): never {
  throw new StrataError('ERR_CORRUPT_RECORD', message);
}

function scanVarint(buf: Buffer, pos: number, end: number): number {
  if (pos >= end) scanFail('varint past the end');
  let b = buf[pos++]!;
  if (b < 0x80) {
    scanPos = pos;
    return (b >>> 1) ^ -(b & 1);
  }
  let u = b & 0x7f;
  for (let shift = 7; ; shift += 7) {
    if (pos >= end) scanFail('varint past the end');
    b = buf[pos++]!;
    if (shift === 28) {
      if (b > 0x0f) scanFail('varint longer than 5 bytes or beyond 32 bits');
      u += b * 0x1000_0000;
      break;
    }
    u |= (b & 0x7f) << shift;
    if (b < 0x80) break;
  }
  scanPos = pos;
  return (u >>> 1) ^ -(u & 1);
}

function scanVarlong(buf: Buffer, pos: number, end: number): number {
  if (pos < end && buf[pos]! < 0x80) {
    const b = buf[pos]!;
    scanPos = pos + 1;
    return (b >>> 1) ^ -(b & 1);
  }
  const c = new ByteCursor(buf, pos, end);
  const v = c.varlong();
  scanPos = c.pos;
  return v;
}

/**
 * Walks `count` records in `buf[start, end)` checking every length against what remains, that each
 * record consumes exactly its declared length, that offset deltas are in order, and that nothing
 * follows the last record. Throws RecordScanError; allocates nothing per record.
 */
export function scanRecords(buf: Buffer, start: number, end: number, count: number, opts: RecordScanOptions): RecordScan {
  const span = opts.lastOffsetDelta ?? -1;
  const requireKeys = opts.requireKeys === true;
  const base = opts.baseTimestamp;
  let max = Number.NEGATIVE_INFINITY;
  let min = Number.POSITIVE_INFINITY;
  let deltaOfMax = -1;
  let prevDelta = -1;
  let pos = start;
  let i = 0;
  try {
    for (; i < count; i++) {
      const length = scanVarint(buf, pos, end);
      pos = scanPos;
      if (length < 0) throw new RecordScanError(`record ${i} has negative length ${length}`, i);
      if (length > end - pos) throw new RecordScanError(`record ${i} length ${length} runs past the batch`, i);
      // Nothing inside the record may read past its own length.
      const recordEnd = pos + length;
      if (length < 1) scanFail('no attributes');
      pos += 1; // attributes
      const ts = base + scanVarlong(buf, pos, recordEnd);
      pos = scanPos;
      const offsetDelta = scanVarint(buf, pos, recordEnd);
      pos = scanPos;
      if (span < 0 ? offsetDelta !== i : offsetDelta <= prevDelta || offsetDelta > span) {
        throw new RecordScanError(`record ${i} has offset delta ${offsetDelta}`, i);
      }
      prevDelta = offsetDelta;
      const keyLength = scanVarint(buf, pos, recordEnd);
      pos = scanPos;
      if (keyLength >= 0) {
        if (keyLength > recordEnd - pos) scanFail(`key length ${keyLength} past the record`);
        pos += keyLength;
      } else if (keyLength === -1) {
        if (requireKeys) throw new RecordScanError(`record ${i} has a null key`, i, true);
      } else throw new RecordScanError(`record ${i} has key length ${keyLength}`, i);
      const valueLength = scanVarint(buf, pos, recordEnd);
      pos = scanPos;
      if (valueLength >= 0) {
        if (valueLength > recordEnd - pos) scanFail(`value length ${valueLength} past the record`);
        pos += valueLength;
      } else if (valueLength < -1) throw new RecordScanError(`record ${i} has value length ${valueLength}`, i);
      const headers = scanVarint(buf, pos, recordEnd);
      pos = scanPos;
      if (headers < 0) throw new RecordScanError(`record ${i} has header count ${headers}`, i);
      for (let h = 0; h < headers; h++) {
        const hk = scanVarint(buf, pos, recordEnd);
        pos = scanPos;
        if (hk < 0 || hk > recordEnd - pos) throw new RecordScanError(`record ${i} header ${h} has key length ${hk}`, i);
        pos += hk;
        const hv = scanVarint(buf, pos, recordEnd);
        pos = scanPos;
        if (hv < -1 || hv > recordEnd - pos) throw new RecordScanError(`record ${i} header ${h} has value length ${hv}`, i);
        if (hv > 0) pos += hv;
      }
      if (pos !== recordEnd) throw new RecordScanError(`record ${i} declares ${length} bytes but uses fewer`, i);
      if (ts > max) {
        max = ts;
        deltaOfMax = offsetDelta;
      }
      if (ts < min) min = ts;
    }
  } catch (e) {
    if (e instanceof RecordScanError) throw e;
    throw new RecordScanError(`record ${i}: ${(e as Error).message}`, i);
  }
  if (pos !== end) throw new RecordScanError(`${end - pos} bytes follow the last of ${count} records`, -1);
  if (count === 0) return { maxTimestamp: -1, offsetDeltaOfMaxTimestamp: -1, minTimestamp: -1 };
  return { maxTimestamp: max, offsetDeltaOfMaxTimestamp: deltaOfMax, minTimestamp: min };
}

// ---------------------------------------------------------------------------------------------------
// Decoding

export interface DecodeRecordsContext {
  readonly baseOffset: number;
  readonly baseTimestamp: number;
  /** For LogAppendTime batches every record's timestamp is the batch's maxTimestamp. */
  readonly logAppendTime?: number;
}

/** Decodes `count` records from `buf[start, end)` (an uncompressed records section). */
export function decodeRecords(
  buf: Buffer,
  start: number,
  end: number,
  count: number,
  ctx: DecodeRecordsContext,
): DecodedRecord[] {
  const c = new ByteCursor(buf, start, end);
  const out: DecodedRecord[] = [];
  for (let i = 0; i < count; i++) {
    const length = c.varint();
    if (length < 0 || length > c.remaining) throw invalid(`record ${i} length ${length} is out of range`);
    const recordEnd = c.pos + length;
    const outer = c.end;
    c.end = recordEnd;
    c.skip(1);
    const timestampDelta = c.varlong();
    const offsetDelta = c.varint();
    const key = readNullableBytes(c, 'key');
    const value = readNullableBytes(c, 'value');
    const headerCount = c.varint();
    if (headerCount < 0) throw invalid(`record ${i} has header count ${headerCount}`);
    // Each header takes at least two bytes, so a count beyond remaining/2 cannot be honest.
    if (headerCount > c.remaining / 2) throw invalid(`record ${i} claims ${headerCount} headers`);
    const headers: RecordHeader[] = [];
    for (let h = 0; h < headerCount; h++) {
      const kl = c.varint();
      if (kl < 0) throw invalid(`record ${i} header ${h} has key length ${kl}`);
      const hk = c.bytes(kl).toString('utf8');
      headers.push({ key: hk, value: readNullableBytes(c, 'header value') });
    }
    if (c.pos !== recordEnd) throw invalid(`record ${i} declares ${length} bytes but uses fewer`);
    c.end = outer;
    out.push({
      offset: ctx.baseOffset + offsetDelta,
      timestamp: ctx.logAppendTime ?? ctx.baseTimestamp + timestampDelta,
      key,
      value,
      headers,
    });
  }
  if (c.pos !== end) throw invalid(`${end - c.pos} bytes follow the last of ${count} records`);
  return out;
}

function readNullableBytes(c: ByteCursor, what: string): Buffer | null {
  const n = c.varint();
  if (n === -1) return null;
  if (n < -1) throw invalid(`${what} length ${n}`);
  return c.bytes(n);
}

// ---------------------------------------------------------------------------------------------------
// Control records (transaction markers and the KRaft log's own control records)

/** Control record types as Kafka numbers them in the control record key. */
export const ControlRecordType = {
  ABORT: 0,
  COMMIT: 1,
  LEADER_CHANGE: 2,
  SNAPSHOT_HEADER: 3,
  SNAPSHOT_FOOTER: 4,
  KRAFT_VOTERS: 5,
  KRAFT_VERSION: 6,
} as const;

export interface ControlRecordKey {
  readonly version: number;
  readonly type: number;
}

/** Control record key: version int16, type int16. Later versions may append fields, which we ignore. */
export function decodeControlRecordKey(key: Buffer | null): ControlRecordKey {
  if (key === null || key.length < 4) throw invalid('control record key is shorter than 4 bytes');
  const version = key.readInt16BE(0);
  if (version < 0) throw invalid(`control record key version ${version}`);
  return { version, type: key.readInt16BE(2) };
}

export function encodeControlRecordKey(type: number, version = 0): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeInt16BE(version, 0);
  b.writeInt16BE(type, 2);
  return b;
}

export interface EndTxnMarker {
  readonly version: number;
  readonly coordinatorEpoch: number;
}

/** End-transaction marker value: version int16, coordinatorEpoch int32. */
export function decodeEndTxnMarker(value: Buffer | null): EndTxnMarker {
  if (value === null || value.length < 6) throw invalid('transaction marker value is shorter than 6 bytes');
  const version = value.readInt16BE(0);
  if (version < 0) throw invalid(`transaction marker version ${version}`);
  return { version, coordinatorEpoch: value.readInt32BE(2) };
}

export function encodeEndTxnMarker(coordinatorEpoch: number, version = 0): Buffer {
  const b = Buffer.allocUnsafe(6);
  b.writeInt16BE(version, 0);
  b.writeInt32BE(coordinatorEpoch, 2);
  return b;
}
