// Growable writer for Kafka's wire primitives.
//
// Bytes go into a current chunk; when it fills up it is sealed (as a view, never copied) and a new,
// larger chunk is started. Large buffers handed to `appendBuffer` are kept by reference, so a
// Fetch response carrying megabytes of file bytes is never copied into the writer. The result is
// either a list of chunks (for `socket.writev` / `cork`) or one Buffer (a single final copy).
import { StrataError } from './strata-error.js';

const MIN_CHUNK = 256;
const MAX_CHUNK = 1024 * 1024;
/** Buffers at least this large are appended by reference instead of copied. */
export const ZERO_COPY_THRESHOLD = 1024;

const UUID_PATTERN = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

function encodeError(message: string): StrataError {
  return new StrataError('ERR_ENCODE', message);
}

/** A 4-byte slot reserved in a writer, to be filled in later (e.g. a frame's size prefix). */
export interface Reservation {
  readonly chunk: Buffer;
  readonly pos: number;
  /** Offset of the slot from the start of the writer's output. */
  readonly at: number;
}

export class Writer {
  #chunks: Buffer[] = [];
  #sealed = 0;
  #buf: Buffer;
  #start = 0;
  #pos = 0;
  #nextSize: number;

  constructor(initialSize = MIN_CHUNK) {
    this.#buf = Buffer.allocUnsafe(Math.max(16, initialSize));
    this.#nextSize = Math.min(MAX_CHUNK, Math.max(MIN_CHUNK, initialSize) * 2);
  }

  /** Total bytes written so far. */
  get length(): number {
    return this.#sealed + this.#pos - this.#start;
  }

  #seal(): void {
    if (this.#pos > this.#start) {
      this.#chunks.push(this.#buf.subarray(this.#start, this.#pos));
      this.#sealed += this.#pos - this.#start;
      this.#start = this.#pos;
    }
  }

  /** Makes room for `n` contiguous bytes and returns where they go in the current chunk. */
  #ensure(n: number): number {
    if (this.#buf.length - this.#pos < n) {
      this.#seal();
      const size = Math.max(n, this.#nextSize);
      this.#nextSize = Math.min(MAX_CHUNK, this.#nextSize * 2);
      // allocUnsafe is safe here: only bytes we have written are ever exposed.
      this.#buf = Buffer.allocUnsafe(size);
      this.#start = 0;
      this.#pos = 0;
    }
    return this.#pos;
  }

  int8(v: number): void {
    const p = this.#ensure(1);
    this.#buf.writeInt8(v, p);
    this.#pos = p + 1;
  }

  int16(v: number): void {
    const p = this.#ensure(2);
    this.#buf.writeInt16BE(v, p);
    this.#pos = p + 2;
  }

  int32(v: number): void {
    const p = this.#ensure(4);
    this.#buf.writeInt32BE(v, p);
    this.#pos = p + 4;
  }

  int64(v: bigint): void {
    const p = this.#ensure(8);
    this.#buf.writeBigInt64BE(v, p);
    this.#pos = p + 8;
  }

  uint8(v: number): void {
    const p = this.#ensure(1);
    this.#buf.writeUInt8(v, p);
    this.#pos = p + 1;
  }

  uint16(v: number): void {
    const p = this.#ensure(2);
    this.#buf.writeUInt16BE(v, p);
    this.#pos = p + 2;
  }

  uint32(v: number): void {
    const p = this.#ensure(4);
    this.#buf.writeUInt32BE(v, p);
    this.#pos = p + 4;
  }

  float64(v: number): void {
    const p = this.#ensure(8);
    this.#buf.writeDoubleBE(v, p);
    this.#pos = p + 8;
  }

  bool(v: boolean): void {
    const p = this.#ensure(1);
    this.#buf[p] = v ? 1 : 0;
    this.#pos = p + 1;
  }

  /** A uuid in 8-4-4-4-12 hex form (either case). */
  uuid(v: string, field?: string): void {
    if (!UUID_PATTERN.test(v)) throw encodeError(`${field ?? 'uuid'}: not a uuid: ${JSON.stringify(v)}`);
    const p = this.#ensure(16);
    const b = this.#buf;
    b.write(v.slice(0, 8), p, 'hex');
    b.write(v.slice(9, 13), p + 4, 'hex');
    b.write(v.slice(14, 18), p + 6, 'hex');
    b.write(v.slice(19, 23), p + 8, 'hex');
    b.write(v.slice(24, 36), p + 10, 'hex');
    this.#pos = p + 16;
  }

  /** Unsigned LEB128 of a value in [0, 2^32). */
  uvarint(v: number): void {
    if (!(v >= 0 && v <= 0xffff_ffff) || !Number.isInteger(v)) {
      throw encodeError(`unsigned varint out of range: ${v}`);
    }
    const p = this.#ensure(5);
    const b = this.#buf;
    let i = p;
    while (v >= 0x80) {
      b[i++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    b[i++] = v;
    this.#pos = i;
  }

  /** Zig-zag signed varint (32-bit). */
  varint(v: number): void {
    if (!(v >= -0x8000_0000 && v <= 0x7fff_ffff) || !Number.isInteger(v)) {
      throw encodeError(`varint out of range: ${v}`);
    }
    this.uvarint(((v << 1) ^ (v >> 31)) >>> 0);
  }

  /** Zig-zag signed varlong (64-bit). */
  varlong(v: bigint): void {
    let u = BigInt.asUintN(64, (v << 1n) ^ (v >> 63n));
    const p = this.#ensure(10);
    const b = this.#buf;
    let i = p;
    while (u >= 0x80n) {
      b[i++] = Number(u & 0x7fn) | 0x80;
      u >>= 7n;
    }
    b[i++] = Number(u);
    this.#pos = i;
  }

  /** Zig-zag signed varlong from a safe-integer JS number. */
  varlongNumber(v: number): void {
    if (!Number.isSafeInteger(v)) throw encodeError(`varlong is not a safe integer: ${v}`);
    // zig-zag is 2m + sign with m = v or -v-1; computing 2m + 1 directly could round above 2^53,
    // so the first byte is built from m's low 6 bits and the rest from m / 64.
    const sign = v < 0 ? 1 : 0;
    const m = v < 0 ? -v - 1 : v;
    let rest = Math.floor(m / 64);
    const first = (m % 64) * 2 + sign;
    const p = this.#ensure(10);
    const b = this.#buf;
    let i = p;
    if (rest === 0) {
      b[i++] = first;
    } else {
      b[i++] = first | 0x80;
      while (rest >= 0x80) {
        b[i++] = (rest % 128) | 0x80;
        rest = Math.floor(rest / 128);
      }
      b[i++] = rest;
    }
    this.#pos = i;
  }

  // ---- strings ---------------------------------------------------------------------------------

  #utf8(s: string, len: number): void {
    const p = this.#ensure(len);
    // byteLength === length only for pure ASCII, where latin1 writing is the same bytes and faster.
    this.#pos = p + this.#buf.write(s, p, len, len === s.length ? 'latin1' : 'utf8');
  }

  /** int16 length + UTF-8; null is refused (use nullableString). */
  string(s: string | null, field?: string): void {
    if (s === null) throw encodeError(`${field ?? 'string'}: null in a version where it is not nullable`);
    const len = Buffer.byteLength(s, 'utf8');
    if (len > 0x7fff) throw encodeError(`${field ?? 'string'}: ${len} bytes is too long for an int16 length`);
    this.int16(len);
    this.#utf8(s, len);
  }

  nullableString(s: string | null, field?: string): void {
    if (s === null) this.int16(-1);
    else this.string(s, field);
  }

  compactString(s: string | null, field?: string): void {
    if (s === null) throw encodeError(`${field ?? 'string'}: null in a version where it is not nullable`);
    const len = Buffer.byteLength(s, 'utf8');
    this.uvarint(len + 1);
    this.#utf8(s, len);
  }

  compactNullableString(s: string | null, field?: string): void {
    if (s === null) this.uvarint(0);
    else this.compactString(s, field);
  }

  // ---- bytes -----------------------------------------------------------------------------------

  bytes(b: Buffer | null, field?: string): void {
    if (b === null) throw encodeError(`${field ?? 'bytes'}: null in a version where it is not nullable`);
    this.int32(b.length);
    this.appendBuffer(b);
  }

  nullableBytes(b: Buffer | null, field?: string): void {
    if (b === null) this.int32(-1);
    else this.bytes(b, field);
  }

  compactBytes(b: Buffer | null, field?: string): void {
    if (b === null) throw encodeError(`${field ?? 'bytes'}: null in a version where it is not nullable`);
    this.uvarint(b.length + 1);
    this.appendBuffer(b);
  }

  compactNullableBytes(b: Buffer | null, field?: string): void {
    if (b === null) this.uvarint(0);
    else this.compactBytes(b, field);
  }

  // ---- arrays ----------------------------------------------------------------------------------

  /** int32 count (use -1 for a null array via nullableArrayLength). */
  arrayLength(n: number): void {
    this.int32(n);
  }

  compactArrayLength(n: number): void {
    this.uvarint(n + 1);
  }

  /** Writes `items` with `write` after its length prefix; null arrays are refused unless `nullable`. */
  array<T>(
    items: readonly T[] | null,
    write: (w: Writer, item: T) => void,
    opts: { compact?: boolean; nullable?: boolean; field?: string } = {},
  ): void {
    if (items === null) {
      if (opts.nullable !== true) {
        throw encodeError(`${opts.field ?? 'array'}: null in a version where it is not nullable`);
      }
      if (opts.compact === true) this.uvarint(0);
      else this.int32(-1);
      return;
    }
    if (opts.compact === true) this.uvarint(items.length + 1);
    else this.int32(items.length);
    for (const item of items) write(this, item);
  }

  // ---- raw bytes, frames, sub-writers ----------------------------------------------------------

  /**
   * Appends `b`. Buffers of ZERO_COPY_THRESHOLD bytes or more are kept by reference: the caller
   * must not modify them until the output has been consumed.
   */
  appendBuffer(b: Buffer): void {
    const n = b.length;
    if (n >= ZERO_COPY_THRESHOLD) {
      this.#seal();
      this.#chunks.push(b);
      this.#sealed += n;
      return;
    }
    if (n === 0) return;
    const p = this.#ensure(n);
    b.copy(this.#buf, p);
    this.#pos = p + n;
  }

  /** Appends everything another writer holds (large chunks by reference). */
  appendWriter(other: Writer): void {
    for (const c of other.toChunks()) this.appendBuffer(c);
  }

  /**
   * Reserves 4 bytes (zeroed) to be patched later with patchInt32 / endFrame. Patch before calling
   * toBuffer(): once that has copied several chunks into one, the copy no longer sees the slot.
   */
  reserveInt32(): Reservation {
    const at = this.length;
    const p = this.#ensure(4);
    const chunk = this.#buf;
    chunk.writeInt32BE(0, p);
    this.#pos = p + 4;
    return { chunk, pos: p, at };
  }

  patchInt32(slot: Reservation, value: number): void {
    // Chunks are never moved once written, so the slot's memory is still where it was.
    slot.chunk.writeInt32BE(value, slot.pos);
  }

  /** Starts a size-prefixed frame: an int32 that endFrame fills with the byte count after it. */
  startFrame(): Reservation {
    return this.reserveInt32();
  }

  endFrame(slot: Reservation): number {
    const size = this.length - slot.at - 4;
    this.patchInt32(slot, size);
    return size;
  }

  /** The output as a list of chunks, in order (views; no copy). The writer stays usable. */
  toChunks(): Buffer[] {
    this.#seal();
    return this.#chunks.slice();
  }

  /** The output as one Buffer: a view when it is a single chunk, else exactly one copy. */
  toBuffer(): Buffer {
    this.#seal();
    const chunks = this.#chunks;
    if (chunks.length === 0) return Buffer.alloc(0);
    if (chunks.length === 1) return chunks[0]!;
    const out = Buffer.concat(chunks, this.#sealed);
    this.#chunks = [out];
    return out;
  }
}
