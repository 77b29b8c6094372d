// Bounds-checked reader over a Buffer for Kafka's wire primitives.
//
// Every declared length is compared with the bytes that remain BEFORE anything is allocated or
// looped over, so a hostile frame can never make us reserve memory it did not send. Strings and
// bytes come back as zero-copy `subarray` views of the input (the caller must keep the frame alive
// and unmodified for as long as it uses them).
import { StrataError } from './strata-error.js';

const HEX: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function decodeError(message: string): StrataError {
  return new StrataError('ERR_DECODE', message);
}

export class Reader {
  readonly buf: Buffer;
  #pos: number;
  #end: number;

  constructor(buf: Buffer, offset = 0, end = buf.length) {
    if (offset < 0 || end > buf.length || offset > end) {
      throw new RangeError(`bad reader window [${offset}, ${end}) over ${buf.length} bytes`);
    }
    this.buf = buf;
    this.#pos = offset;
    this.#end = end;
  }

  /** Absolute position in `buf` of the next byte to read. */
  get offset(): number {
    return this.#pos;
  }

  get remaining(): number {
    return this.#end - this.#pos;
  }

  /** Throws ERR_DECODE when bytes are left over: a message must consume its frame exactly. */
  ensureEnd(what = 'message'): void {
    if (this.#pos !== this.#end) {
      throw decodeError(`${what}: ${this.#end - this.#pos} unexpected trailing byte(s)`);
    }
  }

  #need(n: number, field: string | undefined): number {
    const p = this.#pos;
    if (n > this.#end - p) {
      throw decodeError(
        `${field ?? 'value'}: need ${n} byte(s) at offset ${p} but only ${this.#end - p} remain`,
      );
    }
    this.#pos = p + n;
    return p;
  }

  skip(n: number, field?: string): void {
    this.#need(n, field);
  }

  /** Takes the next `n` bytes as a view and advances past them. */
  take(n: number, field?: string): Buffer {
    const p = this.#need(n, field);
    // Same view as subarray(), but without its species lookup: measurably cheaper per field.
    return Buffer.from(this.buf.buffer, this.buf.byteOffset + p, n);
  }

  /** A reader limited to the next `n` bytes; this reader advances past them. */
  child(n: number, field?: string): Reader {
    const p = this.#need(n, field);
    return new Reader(this.buf, p, p + n);
  }

  /** Everything that remains, as a view; the reader ends up at its end. */
  rest(): Buffer {
    const p = this.#pos;
    this.#pos = this.#end;
    return this.buf.subarray(p, this.#end);
  }

  int8(field?: string): number {
    return this.buf.readInt8(this.#need(1, field));
  }

  int16(field?: string): number {
    return this.buf.readInt16BE(this.#need(2, field));
  }

  int32(field?: string): number {
    return this.buf.readInt32BE(this.#need(4, field));
  }

  int64(field?: string): bigint {
    return this.buf.readBigInt64BE(this.#need(8, field));
  }

  uint8(field?: string): number {
    return this.buf[this.#need(1, field)]!;
  }

  uint16(field?: string): number {
    return this.buf.readUInt16BE(this.#need(2, field));
  }

  uint32(field?: string): number {
    return this.buf.readUInt32BE(this.#need(4, field));
  }

  float64(field?: string): number {
    return this.buf.readDoubleBE(this.#need(8, field));
  }

  bool(field?: string): boolean {
    // Kafka treats any non-zero byte as true.
    return this.buf[this.#need(1, field)] !== 0;
  }

  /** A uuid in canonical lowercase 8-4-4-4-12 form. */
  uuid(field?: string): string {
    const p = this.#need(16, field);
    const b = this.buf;
    let s = '';
    for (let i = 0; i < 16; i++) {
      if (i === 4 || i === 6 || i === 8 || i === 10) s += '-';
      s += HEX[b[p + i]!]!;
    }
    return s;
  }

  /** Unsigned LEB128 of at most 5 bytes whose value fits in 32 bits. */
  uvarint(field?: string): number {
    const b = this.buf;
    const end = this.#end;
    let p = this.#pos;
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (p >= end) throw decodeError(`${field ?? 'varint'}: truncated varint at offset ${p}`);
      const byte = b[p++]!;
      if (shift === 28) {
        if (byte > 0x0f) throw decodeError(`${field ?? 'varint'}: varint does not fit in 32 bits`);
        this.#pos = p;
        return value + byte * 0x1000_0000;
      }
      value |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) {
        this.#pos = p;
        return value >>> 0;
      }
    }
    /* c8 ignore next */
    throw decodeError(`${field ?? 'varint'}: varint too long`);
  }

  /** Zig-zag signed varint (32-bit). */
  varint(field?: string): number {
    const n = this.uvarint(field);
    // n < 2^32 here, so the shifts below operate on its exact 32-bit pattern.
    return (n >>> 1) ^ -(n & 1);
  }

  /** Zig-zag signed varlong (at most 10 bytes) as a bigint. */
  varlong(field?: string): bigint {
    const b = this.buf;
    const end = this.#end;
    let p = this.#pos;
    let value = 0n;
    for (let i = 0; i < 10; i++) {
      if (p >= end) throw decodeError(`${field ?? 'varlong'}: truncated varlong at offset ${p}`);
      const byte = b[p++]!;
      value |= BigInt(byte & 0x7f) << BigInt(7 * i);
      if ((byte & 0x80) === 0) {
        this.#pos = p;
        const u = BigInt.asUintN(64, value);
        return (u >> 1n) ^ -(u & 1n);
      }
    }
    throw decodeError(`${field ?? 'varlong'}: varlong longer than 10 bytes`);
  }

  /**
   * Zig-zag signed varlong as a JS number; values beyond ±2^53 are refused rather than rounded
   * (record timestamps and offsets deltas never get near that).
   */
  varlongNumber(field?: string): number {
    const b = this.buf;
    const end = this.#end;
    let p = this.#pos;
    // The low 28 bits go in an int, the rest in a double, so every step stays exact.
    let lo = 0;
    let hi = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (p >= end) throw decodeError(`${field ?? 'varlong'}: truncated varlong at offset ${p}`);
      const byte = b[p++]!;
      if (i < 4) {
        lo |= (byte & 0x7f) << (7 * i);
      } else {
        hi += (byte & 0x7f) * scale;
        scale *= 128;
      }
      if ((byte & 0x80) === 0) {
        const negative = (lo & 1) === 1;
        const magnitude = hi * 0x800_0000 + (lo >>> 1);
        if (magnitude > Number.MAX_SAFE_INTEGER - (negative ? 1 : 0)) {
          throw decodeError(`${field ?? 'varlong'}: varlong beyond 2^53 cannot be held as a number`);
        }
        this.#pos = p;
        return negative ? -magnitude - 1 : magnitude;
      }
    }
    throw decodeError(`${field ?? 'varlong'}: varlong longer than 10 bytes`);
  }

  // ---- strings ---------------------------------------------------------------------------------

  #utf8(len: number, field: string | undefined): string {
    const p = this.#need(len, field);
    return this.buf.toString('utf8', p, p + len);
  }

  #int16Length(field: string | undefined): number {
    const len = this.int16(field);
    if (len < -1) throw decodeError(`${field ?? 'string'}: negative length ${len}`);
    return len;
  }

  #compactLength(field: string | undefined): number {
    // 0 encodes null, n+1 encodes length n.
    return this.uvarint(field) - 1;
  }

  /** int16 length + UTF-8; null is refused. */
  string(field?: string): string {
    const len = this.#int16Length(field);
    if (len < 0) throw decodeError(`${field ?? 'string'}: null for a non-nullable string`);
    return this.#utf8(len, field);
  }

  nullableString(field?: string): string | null {
    const len = this.#int16Length(field);
    return len < 0 ? null : this.#utf8(len, field);
  }

  compactString(field?: string): string {
    const len = this.#compactLength(field);
    if (len < 0) throw decodeError(`${field ?? 'string'}: null for a non-nullable string`);
    return this.#utf8(len, field);
  }

  compactNullableString(field?: string): string | null {
    const len = this.#compactLength(field);
    return len < 0 ? null : this.#utf8(len, field);
  }

  // ---- bytes (zero-copy views) -----------------------------------------------------------------

  #int32Length(field: string | undefined): number {
    const len = this.int32(field);
    if (len < -1) throw decodeError(`${field ?? 'bytes'}: negative length ${len}`);
    return len;
  }

  bytes(field?: string): Buffer {
    const len = this.#int32Length(field);
    if (len < 0) throw decodeError(`${field ?? 'bytes'}: null for non-nullable bytes`);
    return this.take(len, field);
  }

  nullableBytes(field?: string): Buffer | null {
    const len = this.#int32Length(field);
    return len < 0 ? null : this.take(len, field);
  }

  compactBytes(field?: string): Buffer {
    const len = this.#compactLength(field);
    if (len < 0) throw decodeError(`${field ?? 'bytes'}: null for non-nullable bytes`);
    return this.take(len, field);
  }

  compactNullableBytes(field?: string): Buffer | null {
    const len = this.#compactLength(field);
    return len < 0 ? null : this.take(len, field);
  }

  // ---- arrays ----------------------------------------------------------------------------------

  #checkCount(n: number, field: string | undefined): number {
    // Every element takes at least one byte, so a count above what remains cannot be honest;
    // refusing it here keeps a 4-byte frame from making us allocate a 2^31-slot array.
    if (n > this.#end - this.#pos) {
      throw decodeError(
        `${field ?? 'array'}: ${n} element(s) declared but only ${this.#end - this.#pos} byte(s) remain`,
      );
    }
    return n;
  }

  /** int32 element count; -1 (null) is refused. */
  arrayLength(field?: string): number {
    const n = this.int32(field);
    if (n < 0) {
      throw decodeError(
        n === -1 ? `${field ?? 'array'}: null for a non-nullable array` : `${field ?? 'array'}: negative count ${n}`,
      );
    }
    return this.#checkCount(n, field);
  }

  /** int32 element count, -1 for null. */
  nullableArrayLength(field?: string): number {
    const n = this.int32(field);
    if (n < -1) throw decodeError(`${field ?? 'array'}: negative count ${n}`);
    return n < 0 ? -1 : this.#checkCount(n, field);
  }

  compactArrayLength(field?: string): number {
    const n = this.#compactLength(field);
    if (n < 0) throw decodeError(`${field ?? 'array'}: null for a non-nullable array`);
    return this.#checkCount(n, field);
  }

  /** Compact element count, -1 for null. */
  compactNullableArrayLength(field?: string): number {
    const n = this.#compactLength(field);
    return n < 0 ? -1 : this.#checkCount(n, field);
  }

  /** Reads `count` elements (validated by one of the *Length methods) with `read`. */
  array<T>(count: number, read: (r: Reader) => T): T[] {
    const out = new Array<T>(count);
    for (let i = 0; i < count; i++) out[i] = read(this);
    return out;
  }

  // ---- tagged fields ---------------------------------------------------------------------------

  /** The number of fields in a tagged-field section, checked against the bytes that remain. */
  taggedCount(field?: string): number {
    return this.#checkCount(this.uvarint(field), field ?? 'tagged fields');
  }

  /**
   * Reads a tagged-field section, calling `onField` with a reader limited to each field's bytes.
   * `onField` returns false for a tag it does not know; those come back as raw views.
   */
  taggedFields(
    onField?: (tag: number, r: Reader) => boolean,
    field?: string,
  ): { tag: number; data: Buffer }[] | undefined {
    const n = this.taggedCount(field);
    let unknown: { tag: number; data: Buffer }[] | undefined;
    for (let i = 0; i < n; i++) {
      const tag = this.uvarint(field);
      const size = this.uvarint(field);
      const sub = this.child(size, field);
      if (onField?.(tag, sub) === true) {
        sub.ensureEnd(`tagged field ${tag}`);
      } else {
        (unknown ??= []).push({ tag, data: sub.rest() });
      }
    }
    return unknown;
  }
}
