// Kafka's request framing (a 4-byte big-endian size, then that many bytes): where a connection's socket
// reads land, and the frames they complete.
//
// Node gives every socket read a fresh 64 KiB allocation by default, which a 1 MiB produce request then
// has to be copied out of. Here the socket reads into memory we choose (see own-buffer-reads.ts):
// - a frame larger than DIRECT_ABOVE_BYTES is read straight into a buffer of its own, sized once its size
//   prefix and API key have arrived: its bytes are never copied, and one read may take as much of it as the
//   kernel holds instead of 64 KiB;
// - everything else lands in one landing buffer shared by every connection, and each small frame is copied
//   out into memory of its own size before the read callback returns. Sharing is safe because reads and
//   their callbacks run one at a time on the event loop; it means an idle connection holds no read buffer.
//
// Allocating a frame's declared size before its bytes arrive would let a client that announces 100 MiB and
// sends six bytes cost us 100 MiB. Frames read directly are therefore charged to a broker-wide budget; when
// it is spent, a large frame is gathered as it arrives and assembled once complete.
import { StrataError } from '../protocol/strata-error.js';

export const SIZE_PREFIX_BYTES = 4;

/** Memory for a frame of `size` bytes with `apiKey` (-1 when the frame is too short to hold one). */
export type FrameAllocator = (size: number, apiKey: number) => Buffer;

/** Frames declared larger than this are read into a buffer of their own. */
export const DIRECT_ABOVE_BYTES = 16 * 1024;
const LANDING_BYTES = 64 * 1024;
/**
 * After a directly read frame, the next read is kept this short: if it begins another large frame, only
 * this much of it is copied before the rest goes straight to that frame's buffer.
 */
const PROBE_READ_BYTES = 4 * 1024;
/** Size prefix and API key: what must arrive before a frame's memory is chosen. */
const HEAD_BYTES = SIZE_PREFIX_BYTES + 2;

const landing = Buffer.allocUnsafeSlow(LANDING_BYTES);
const DEFAULT_READER_BUDGET_BYTES = 64 * 1024 * 1024;

/** Bytes of declared-but-incomplete frames allocated ahead of their arrival, shared by the connections. */
export class FrameBudget {
  readonly #limit: number;
  #used = 0;

  constructor(limitBytes: number) {
    this.#limit = limitBytes;
  }

  get used(): number {
    return this.#used;
  }

  tryReserve(bytes: number): boolean {
    if (this.#used + bytes > this.#limit) return false;
    this.#used += bytes;
    return true;
  }

  release(bytes: number): void {
    this.#used -= bytes;
  }
}

export interface FrameReaderOptions {
  /** Larger declared sizes (and negative ones) are refused before anything is allocated. */
  readonly maxFrameBytes: number;
  /** Plain allocation if absent. */
  readonly allocate?: FrameAllocator;
  /** A budget of this reader's own, DEFAULT_READER_BUDGET_BYTES, if absent. */
  readonly budget?: FrameBudget;
  /** Returns the memory of a frame that never completed (the connection closed). */
  readonly discard?: (frame: Buffer) => void;
}

/** A frame whose bytes are still arriving. */
interface Incoming {
  readonly frame: Buffer | undefined;
  /** Gathered copies, when the frame's memory could not be reserved ahead (budget spent). */
  readonly parts: Buffer[] | undefined;
  readonly size: number;
  readonly apiKey: number;
  filled: number;
  /** Budget held until the frame completes: only a frame read directly (straight into `frame`) holds some. */
  readonly charged: number;
}

const plainAllocator: FrameAllocator = (size) => Buffer.allocUnsafe(size);

export class FrameReader {
  readonly #maxFrameBytes: number;
  readonly #allocate: FrameAllocator;
  readonly #budget: FrameBudget;
  readonly #discard: ((frame: Buffer) => void) | undefined;
  /** Size prefix and API key of the next frame while they arrive in pieces. */
  readonly #head = Buffer.alloc(HEAD_BYTES);
  #headFilled = 0;
  #incoming: Incoming | undefined;
  #handedDirect = false;
  #probeNext = false;
  #error: StrataError | undefined;

  constructor(opts: FrameReaderOptions) {
    this.#maxFrameBytes = opts.maxFrameBytes;
    this.#allocate = opts.allocate ?? plainAllocator;
    this.#budget = opts.budget ?? new FrameBudget(DEFAULT_READER_BUDGET_BYTES);
    this.#discard = opts.discard;
  }

  /**
   * Set once a negative or over-limit size prefix was seen (StrataError 'ERR_FRAME_TOO_LARGE'). The frames
   * before it were still returned; nothing after it ever will be, since the stream has no boundaries left.
   */
  get error(): StrataError | undefined {
    return this.#error;
  }

  /** Bytes held for an incomplete frame. */
  get bufferedBytes(): number {
    return this.#incoming?.filled ?? this.#headFilled;
  }

  /** Where the next socket read should land. */
  readBuffer(): Buffer {
    const inc = this.#incoming;
    if (inc !== undefined && inc.charged > 0) {
      this.#handedDirect = true;
      return inc.frame!.subarray(inc.filled);
    }
    this.#handedDirect = false;
    return this.#probeNext ? landing.subarray(0, PROBE_READ_BYTES) : landing;
  }

  /** `n` bytes were read into the buffer readBuffer() last returned; returns the frames they complete. */
  commit(n: number): Buffer[] {
    if (this.#handedDirect) {
      const inc = this.#incoming!;
      inc.filled += n;
      if (inc.filled < inc.size) return [];
      this.#incoming = undefined;
      this.#budget.release(inc.charged);
      this.#probeNext = true;
      return [inc.frame!];
    }
    this.#probeNext = false;
    return this.push(landing.subarray(0, n));
  }

  /**
   * Takes a chunk of the byte stream. Nothing is kept that refers to `chunk` (it may be the shared landing
   * buffer): complete frames and partial ones are copied out.
   */
  push(chunk: Buffer): Buffer[] {
    const frames: Buffer[] = [];
    if (this.#error !== undefined) return frames;
    try {
      this.#parse(chunk, frames);
    } catch (err) {
      this.#error = err as StrataError;
      this.dispose();
    }
    return frames;
  }

  /** The connection is gone: gives back what an incomplete frame holds. */
  dispose(): void {
    const inc = this.#incoming;
    this.#incoming = undefined;
    this.#headFilled = 0;
    if (inc === undefined) return;
    this.#budget.release(inc.charged);
    if (inc.frame !== undefined) this.#discard?.(inc.frame);
  }

  #parse(chunk: Buffer, frames: Buffer[]): void {
    let pos = 0;
    const end = chunk.length;
    while (pos < end) {
      if (this.#incoming !== undefined) {
        pos = this.#continue(chunk, pos, frames);
        continue;
      }
      let size: number;
      let apiKey: number;
      if (this.#headFilled === 0 && end - pos >= HEAD_BYTES) {
        size = this.#check(chunk.readInt32BE(pos));
        apiKey = size >= 2 ? chunk.readInt16BE(pos + SIZE_PREFIX_BYTES) : -1;
        pos += SIZE_PREFIX_BYTES;
        if (size <= end - pos) {
          // The whole frame is in this chunk: copied into memory of its own size.
          const frame = this.#allocate(size, apiKey);
          chunk.copy(frame, 0, pos, pos + size);
          frames.push(frame);
          pos += size;
          continue;
        }
      } else {
        // The head arrives in pieces: gather it (the API key only if the frame is long enough to hold
        // one), then start the frame with what is known.
        if (this.#headFilled < SIZE_PREFIX_BYTES) {
          pos = this.#gatherHead(chunk, pos, SIZE_PREFIX_BYTES);
          if (this.#headFilled < SIZE_PREFIX_BYTES) continue;
        }
        size = this.#check(this.#head.readInt32BE(0));
        const want = SIZE_PREFIX_BYTES + Math.min(2, size);
        pos = this.#gatherHead(chunk, pos, want);
        if (this.#headFilled < want) continue;
        apiKey = size >= 2 ? this.#head.readInt16BE(SIZE_PREFIX_BYTES) : -1;
        this.#headFilled = 0;
        this.#incoming = this.#start(size, apiKey);
        this.#append(this.#head.subarray(SIZE_PREFIX_BYTES, want), frames);
        continue;
      }
      this.#incoming = this.#start(size, apiKey);
    }
  }

  /** Memory for a frame of `size` bytes whose first bytes are about to be copied in. */
  #start(size: number, apiKey: number): Incoming {
    if (size > DIRECT_ABOVE_BYTES) {
      if (this.#budget.tryReserve(size)) {
        return { frame: this.#allocate(size, apiKey), parts: undefined, size, apiKey, filled: 0, charged: size };
      }
      return { frame: undefined, parts: [], size, apiKey, filled: 0, charged: 0 };
    }
    // A small frame's memory is bounded by DIRECT_ABOVE_BYTES, so it is taken at once.
    return { frame: this.#allocate(size, apiKey), parts: undefined, size, apiKey, filled: 0, charged: 0 };
  }

  /** Copies what `chunk` holds of the incoming frame; returns the position after it. */
  #continue(chunk: Buffer, pos: number, frames: Buffer[]): number {
    const inc = this.#incoming!;
    const take = Math.min(inc.size - inc.filled, chunk.length - pos);
    this.#append(chunk.subarray(pos, pos + take), frames);
    return pos + take;
  }

  /** Adds `bytes` (no more than the incoming frame still needs) to it; completes it when full. */
  #append(bytes: Buffer, frames: Buffer[]): void {
    const inc = this.#incoming!;
    if (bytes.length > 0) {
      if (inc.frame !== undefined) bytes.copy(inc.frame, inc.filled);
      else inc.parts!.push(Buffer.from(bytes));
      inc.filled += bytes.length;
    }
    if (inc.filled === inc.size) this.#finish(frames);
  }

  /** Copies head bytes from `chunk` until `want` are held; returns the position after them. */
  #gatherHead(chunk: Buffer, pos: number, want: number): number {
    const take = Math.min(want - this.#headFilled, chunk.length - pos);
    if (take <= 0) return pos;
    chunk.copy(this.#head, this.#headFilled, pos, pos + take);
    this.#headFilled += take;
    return pos + take;
  }

  #finish(frames: Buffer[]): void {
    const inc = this.#incoming!;
    this.#incoming = undefined;
    this.#budget.release(inc.charged);
    if (inc.frame !== undefined) {
      frames.push(inc.frame);
      return;
    }
    const frame = this.#allocate(inc.size, inc.apiKey);
    let at = 0;
    for (const p of inc.parts!) at += p.copy(frame, at);
    frames.push(frame);
  }

  #check(size: number): number {
    if (size < 0) throw new StrataError('ERR_FRAME_TOO_LARGE', `Invalid receive (size = ${size})`);
    if (size > this.#maxFrameBytes) {
      throw new StrataError('ERR_FRAME_TOO_LARGE', `Invalid receive (size = ${size} larger than ${this.#maxFrameBytes})`);
    }
    return size;
  }
}
