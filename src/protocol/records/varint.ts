// Zig-zag varints as the v2 record format uses them, read through a bounds-checked cursor that never
// looks past `end` and refuses over-long encodings (more than 5 bytes for an int32, 10 for an int64).
// int64 values are JS numbers: exact up to 2^53; anything larger is refused rather than rounded.
import { StrataError } from '../strata-error.js';

const TWO_POW_32 = 0x1_0000_0000;

function corrupt(message: string): StrataError {
  return new StrataError('ERR_CORRUPT_RECORD', message);
}

/** A read position over `buf[pos, end)`. One per batch walked, never one per record. */
export class ByteCursor {
  buf: Buffer;
  pos: number;
  end: number;

  constructor(buf: Buffer, pos = 0, end = buf.length) {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  need(n: number): void {
    if (n > this.end - this.pos) throw corrupt(`needs ${n} bytes but only ${this.end - this.pos} remain`);
  }

  int8(): number {
    this.need(1);
    return this.buf.readInt8(this.pos++);
  }

  int16(): number {
    this.need(2);
    const v = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  int32(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  uint32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  int64(): number {
    this.need(8);
    const hi = this.buf.readInt32BE(this.pos);
    const lo = this.buf.readUInt32BE(this.pos + 4);
    this.pos += 8;
    const v = hi * TWO_POW_32 + lo;
    if (!Number.isSafeInteger(v)) throw corrupt('int64 beyond 2^53');
    return v;
  }

  skip(n: number): void {
    this.need(n);
    this.pos += n;
  }

  /** A view (not a copy) of the next `n` bytes. */
  bytes(n: number): Buffer {
    this.need(n);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  varint(): number {
    const buf = this.buf;
    let pos = this.pos;
    if (pos >= this.end) throw corrupt('varint past the end');
    let b = buf[pos++]!;
    if (b < 0x80) {
      this.pos = pos;
      return (b >>> 1) ^ -(b & 1);
    }
    let u = b & 0x7f;
    let shift = 7;
    for (;;) {
      if (pos >= this.end) throw corrupt('varint past the end');
      b = buf[pos++]!;
      if (shift === 28) {
        // The fifth byte may carry only the top four bits of a 32-bit value and must end the varint.
        if (b > 0x0f) throw corrupt('varint longer than 5 bytes or beyond 32 bits');
        u += b * 0x1000_0000;
        break;
      }
      u |= (b & 0x7f) << shift;
      if (b < 0x80) break;
      shift += 7;
    }
    this.pos = pos;
    // u may exceed 2^31 here; >>> and & work on its 32-bit pattern, which is what zig-zag needs.
    return (u >>> 1) ^ -(u & 1);
  }

  varlong(): number {
    const buf = this.buf;
    let pos = this.pos;
    let u = 0;
    let scale = 1;
    for (let i = 0; ; i++) {
      if (i === 10) throw corrupt('varlong longer than 10 bytes');
      if (pos >= this.end) throw corrupt('varlong past the end');
      const b = buf[pos++]!;
      u += (b & 0x7f) * scale;
      if (b < 0x80) break;
      scale *= 128;
    }
    // Floats add exactly below 2^53; past that the rare large value is redone in BigInt.
    const value = u < 2 ** 53 ? (u % 2 === 0 ? u / 2 : -(u + 1) / 2) : bigVarlong(buf, this.pos, pos);
    this.pos = pos;
    return value;
  }
}

function bigVarlong(buf: Buffer, start: number, end: number): number {
  let u = 0n;
  for (let i = end - 1; i >= start; i--) u = (u << 7n) | BigInt(buf[i]! & 0x7f);
  const v = (u >> 1n) ^ -(u & 1n);
  if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) throw corrupt('varlong beyond 2^53');
  return Number(v);
}

/** Bytes needed to write `value` (a 32-bit signed integer) as a zig-zag varint. */
export function varintSize(value: number): number {
  let u = ((value << 1) ^ (value >> 31)) >>> 0;
  let n = 1;
  while (u >= 0x80) {
    u >>>= 7;
    n++;
  }
  return n;
}

/** Writes a zig-zag varint at `pos`; returns the position after it. */
export function writeVarint(buf: Buffer, pos: number, value: number): number {
  let u = ((value << 1) ^ (value >> 31)) >>> 0;
  while (u >= 0x80) {
    buf[pos++] = (u & 0x7f) | 0x80;
    u >>>= 7;
  }
  buf[pos++] = u;
  return pos;
}

function checkSafe(value: number): void {
  if (!Number.isSafeInteger(value)) throw new StrataError('ERR_ENCODE', `varlong ${value} is not a safe integer`);
}

// Zig-zag doubles the magnitude, so values of 2^52 and beyond leave exact float range: BigInt for those.
const SMALL = 2 ** 52;

export function varlongSize(value: number): number {
  checkSafe(value);
  if (value >= SMALL || value <= -SMALL) {
    let u = (BigInt(value) << 1n) ^ (BigInt(value) >> 63n);
    let n = 1;
    while (u >= 0x80n) {
      u >>= 7n;
      n++;
    }
    return n;
  }
  let u = value >= 0 ? value * 2 : -value * 2 - 1;
  let n = 1;
  while (u >= 0x80) {
    u = Math.floor(u / 128);
    n++;
  }
  return n;
}

export function writeVarlong(buf: Buffer, pos: number, value: number): number {
  checkSafe(value);
  if (value >= SMALL || value <= -SMALL) {
    let u = (BigInt(value) << 1n) ^ (BigInt(value) >> 63n);
    while (u >= 0x80n) {
      buf[pos++] = Number(u & 0x7fn) | 0x80;
      u >>= 7n;
    }
    buf[pos++] = Number(u);
    return pos;
  }
  let u = value >= 0 ? value * 2 : -value * 2 - 1;
  while (u >= 0x80) {
    buf[pos++] = (u % 128) | 0x80;
    u = Math.floor(u / 128);
  }
  buf[pos++] = u;
  return pos;
}
