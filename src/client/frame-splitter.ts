// Splits a TCP byte stream into Kafka response frames (int32 size, then that many bytes). The client's own,
// small counterpart of the broker's FrameReader: the client layer may import only the protocol layer.
import { StrataError } from '../protocol/strata-error.js';

export class FrameSplitter {
  readonly #maxFrameBytes: number;
  #chunks: Buffer[] = [];
  #buffered = 0;

  constructor(maxFrameBytes: number) {
    this.#maxFrameBytes = maxFrameBytes;
  }

  /** Feeds a chunk; returns the complete frames (without size prefix) it finishes, in order. */
  push(chunk: Buffer): Buffer[] {
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    const frames: Buffer[] = [];
    while (this.#buffered >= 4) {
      const size = this.#peekSize();
      if (size < 0 || size > this.#maxFrameBytes) {
        throw new StrataError('ERR_FRAME_TOO_LARGE', `response frame declares ${size} bytes (limit ${this.#maxFrameBytes})`);
      }
      if (this.#buffered < 4 + size) break;
      frames.push(this.#take(4 + size).subarray(4));
    }
    return frames;
  }

  #peekSize(): number {
    const first = this.#chunks[0]!;
    if (first.length >= 4) return first.readInt32BE(0);
    this.#merge();
    return this.#chunks[0]!.readInt32BE(0);
  }

  #merge(): void {
    this.#chunks = [Buffer.concat(this.#chunks, this.#buffered)];
  }

  /** Removes and returns the first n bytes: a view when they sit in one chunk, else one copy. */
  #take(n: number): Buffer {
    let first = this.#chunks[0]!;
    if (first.length < n) {
      this.#merge();
      first = this.#chunks[0]!;
    }
    const out = first.subarray(0, n);
    if (first.length === n) this.#chunks.shift();
    else this.#chunks[0] = first.subarray(n);
    this.#buffered -= n;
    return out;
  }
}
