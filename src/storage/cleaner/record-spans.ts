// Just enough of the v2 record format for compaction: where each record starts and ends, its offset and
// timestamp deltas, its key and whether it has a value. The cleaner copies retained records byte for
// byte, so it needs spans rather than decoded objects; only the timestamp delta is ever rewritten (when a
// batch's base timestamp becomes the delete horizon). Every length is bounds-checked by ByteCursor.
import { StrataError } from '../../protocol/strata-error.js';
import { ByteCursor, varintSize, varlongSize, writeVarint, writeVarlong } from '../../protocol/records/varint.js';

export interface RecordSpan {
  /** Position of the record's length varint in the records payload. */
  readonly start: number;
  /** One past the record's last byte. */
  readonly end: number;
  readonly attributes: number;
  readonly timestampDelta: number;
  readonly offsetDelta: number;
  /** Null for a record without a key. */
  readonly key: Buffer | null;
  /** False for a tombstone (null value). */
  readonly hasValue: boolean;
  /** Position of the key length varint: everything from here to `end` is copied unchanged. */
  readonly tailStart: number;
}

const corrupt = (what: string): StrataError => new StrataError('ERR_CORRUPT_RECORD', `record: ${what}`);

/** Parses the `count` records of a (decompressed) records section; refuses trailing bytes. */
export function recordSpans(payload: Buffer, count: number): RecordSpan[] {
  if (count < 0) throw corrupt(`negative record count ${count}`);
  const spans: RecordSpan[] = [];
  const c = new ByteCursor(payload, 0, payload.length);
  for (let i = 0; i < count; i++) {
    const start = c.pos;
    const length = c.varint();
    if (length < 0 || length > c.remaining) throw corrupt(`length ${length} out of range`);
    const end = c.pos + length;
    c.end = end; // nothing inside the record may read past its own length
    const attributes = c.int8() & 0xff;
    const timestampDelta = c.varlong();
    const offsetDelta = c.varint();
    const tailStart = c.pos;
    const keyLength = c.varint();
    if (keyLength < -1) throw corrupt(`key length ${keyLength}`);
    const key = keyLength === -1 ? null : c.bytes(keyLength);
    const valueLength = c.varint();
    if (valueLength < -1) throw corrupt(`value length ${valueLength}`);
    if (valueLength > 0) c.skip(valueLength);
    const headers = c.varint();
    if (headers < 0) throw corrupt(`header count ${headers}`);
    for (let h = 0; h < headers; h++) {
      const hk = c.varint();
      if (hk < 0) throw corrupt(`header key length ${hk}`);
      c.skip(hk);
      const hv = c.varint();
      if (hv < -1) throw corrupt(`header value length ${hv}`);
      if (hv > 0) c.skip(hv);
    }
    if (c.pos !== end) throw corrupt('record length does not match its fields');
    c.end = payload.length;
    spans.push({ start, end, attributes, timestampDelta, offsetDelta, key, hasValue: valueLength >= 0, tailStart });
  }
  if (c.pos !== payload.length) throw corrupt('bytes after the last record');
  return spans;
}

/**
 * The record's bytes with its timestamp delta replaced by `timestampDelta` (the rest copied as is).
 * Returns a view of the original when nothing changes.
 */
export function rewriteTimestampDelta(payload: Buffer, span: RecordSpan, timestampDelta: number): Buffer {
  if (timestampDelta === span.timestampDelta) return payload.subarray(span.start, span.end);
  const tail = payload.subarray(span.tailStart, span.end);
  const bodyLength = 1 + varlongSize(timestampDelta) + varintSize(span.offsetDelta) + tail.length;
  const out = Buffer.allocUnsafe(varintSize(bodyLength) + bodyLength);
  let pos = writeVarint(out, 0, bodyLength);
  out[pos++] = span.attributes;
  pos = writeVarlong(out, pos, timestampDelta);
  pos = writeVarint(out, pos, span.offsetDelta);
  tail.copy(out, pos);
  return out;
}
