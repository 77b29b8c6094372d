// Kafka's request framing: a 4-byte big-endian size, then that many bytes.
//
// The declared size is checked before anything is allocated for the frame, and nothing of the declared
// size is allocated until the whole frame has arrived: a client that announces 100 MiB and sends 10 bytes
// costs us 10 bytes. Frames that sit wholly inside one socket chunk are returned as views of that chunk;
// only a frame spread over several chunks is copied, once, when its last byte arrives.
import { StrataError } from '../protocol/strata-error.js';

export const SIZE_PREFIX_BYTES = 4;

/**
 * Memory for a frame that arrived in several chunks, given its size and API key (-1 when the frame is too
 * short to hold one); the default is a plain allocation.
 */
export type FrameAllocator = (size: number, apiKey: number) => Buffer;

const plainAllocator: FrameAllocator = (size) => Buffer.allocUnsafe(size);

export class FrameDecoder {
  readonly #maxFrameBytes: number;
  /** Chunks (or tails of chunks) of an incomplete frame, including its size prefix. */
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  /** Declared size of the pending frame once its prefix is complete, else -1. */
  #declared = -1;
  #error: StrataError | undefined;
  readonly #allocate: FrameAllocator;

  constructor(maxFrameBytes: number, allocate: FrameAllocator = plainAllocator) {
    this.#maxFrameBytes = maxFrameBytes;
    this.#allocate = allocate;
  }

  /** Bytes held for an incomplete frame. */
  get bufferedBytes(): number {
    return this.#pendingBytes;
  }

  /**
   * Set once a negative or over-limit size prefix was seen (StrataError 'ERR_FRAME_TOO_LARGE'). The frames
   * before it were still returned; nothing after it ever will be, since the stream has no boundaries left.
   */
  get error(): StrataError | undefined {
    return this.#error;
  }

  /** Feeds one chunk; returns the frames it completes (payloads without the size prefix), in order. */
  push(chunk: Buffer): Buffer[] {
    const frames: Buffer[] = [];
    if (this.#error !== undefined) return frames;
    try {
      this.#parse(chunk, frames);
    } catch (err) {
      this.#error = err as StrataError;
      this.#pending = [];
      this.#pendingBytes = 0;
    }
    return frames;
  }

  #parse(chunk: Buffer, frames: Buffer[]): void {
    let pos = 0;
    if (this.#pendingBytes > 0) {
      pos = this.#continuePending(chunk, frames);
      if (pos < 0) return;
    }
    // Fast path: whole frames inside this chunk are views, no copy.
    while (chunk.length - pos >= SIZE_PREFIX_BYTES) {
      const size = this.#check(chunk.readInt32BE(pos));
      const end = pos + SIZE_PREFIX_BYTES + size;
      if (end > chunk.length) break;
      frames.push(chunk.subarray(pos + SIZE_PREFIX_BYTES, end));
      pos = end;
    }
    if (pos < chunk.length) {
      const rest = chunk.subarray(pos);
      this.#pending.push(rest);
      this.#pendingBytes = rest.length;
      if (rest.length >= SIZE_PREFIX_BYTES) this.#declared = this.#check(rest.readInt32BE(0));
    }
  }

  /**
   * Adds `chunk` to the pending frame. Returns the position in `chunk` after the completed frame, or -1 when
   * the whole chunk was absorbed and the frame is still incomplete.
   */
  #continuePending(chunk: Buffer, frames: Buffer[]): number {
    if (this.#declared < 0) {
      // The size prefix itself is split; complete it from as few bytes of the chunk as needed.
      const missing = SIZE_PREFIX_BYTES - this.#pendingBytes;
      if (chunk.length < missing) {
        this.#pending.push(chunk);
        this.#pendingBytes += chunk.length;
        return -1;
      }
      const prefix = Buffer.allocUnsafe(SIZE_PREFIX_BYTES);
      let at = 0;
      for (const part of this.#pending) at += part.copy(prefix, at);
      chunk.copy(prefix, at, 0, missing);
      this.#declared = this.#check(prefix.readInt32BE(0));
    }
    const total = SIZE_PREFIX_BYTES + this.#declared;
    const needed = total - this.#pendingBytes;
    if (chunk.length < needed) {
      this.#pending.push(chunk);
      this.#pendingBytes += chunk.length;
      return -1;
    }
    // The frame completes inside this chunk: one allocation of its real size, one copy of each part.
    const apiKey = this.#declared >= 2 ? (this.#byteAt(SIZE_PREFIX_BYTES, chunk) << 24 >> 16) | this.#byteAt(SIZE_PREFIX_BYTES + 1, chunk) : -1;
    const frame = this.#allocate(this.#declared, apiKey);
    let skip = SIZE_PREFIX_BYTES;
    let at = 0;
    for (const part of this.#pending) {
      if (skip >= part.length) {
        skip -= part.length;
        continue;
      }
      at += part.copy(frame, at, skip);
      skip = 0;
    }
    chunk.copy(frame, at, skip, needed);
    frames.push(frame);
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#declared = -1;
    return needed;
  }

  /** The byte at `index` of the pending bytes followed by `chunk`. */
  #byteAt(index: number, chunk: Buffer): number {
    for (const part of this.#pending) {
      if (index < part.length) return part[index]!;
      index -= part.length;
    }
    return chunk[index]!;
  }

  #check(size: number): number {
    if (size < 0) throw new StrataError('ERR_FRAME_TOO_LARGE', `Invalid receive (size = ${size})`);
    if (size > this.#maxFrameBytes) {
      throw new StrataError('ERR_FRAME_TOO_LARGE', `Invalid receive (size = ${size} larger than ${this.#maxFrameBytes})`);
    }
    return size;
  }
}
