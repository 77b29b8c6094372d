// Recently appended bytes kept in memory, so that a consumer reading at the tail of a partition (the
// common case: it asks for what was produced a moment ago) is answered without a file read. One budget is
// shared by every segment of a LogManager; past it the oldest bytes, whichever segment they belong to, are
// dropped first. Appended bytes are never modified afterwards, so a slice handed to a fetch response stays
// valid while the response is written, even after its chunk left the cache.
//
// Pooled buffers (see protocol/buffer-pool.ts): a chunk that is a view of one holds a reference until it
// leaves the cache, and every slice handed out of the cache is a reference of its own, which the reader
// releases (the network layer does once the response bytes are written).
import { sharedBufferPool } from '../protocol/buffer-pool.js';

interface Chunk {
  /** File position of the first byte. */
  readonly position: number;
  readonly bytes: Buffer;
  readonly owner: SegmentTail;
  /** False once evicted or released; the shared queue drops such entries lazily. */
  live: boolean;
}

/** The shared budget and the admission order used for eviction. */
export class TailCache {
  readonly maxBytes: number;
  #queue: Chunk[] = [];
  #head = 0;
  #used = 0;

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
  }

  get usedBytes(): number {
    return this.#used;
  }

  /** A segment's view of the cache. */
  forSegment(): SegmentTail {
    return new SegmentTail(this);
  }

  admit(chunk: Chunk): void {
    this.#queue.push(chunk);
    this.#used += chunk.bytes.length;
    while (this.#used > this.maxBytes && this.#head < this.#queue.length) {
      const oldest = this.#queue[this.#head++]!;
      // Admission is in append order per segment, so the oldest live chunk is its segment's first.
      if (oldest.live) oldest.owner.evictFirst();
    }
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
  }

  release(chunk: Chunk): void {
    if (!chunk.live) return;
    chunk.live = false;
    this.#used -= chunk.bytes.length;
    sharedBufferPool.release(chunk.bytes);
  }
}

/** The cached tail of one segment: contiguous chunks ending at the segment's end. */
export class SegmentTail {
  readonly #cache: TailCache;
  #chunks: Chunk[] = [];

  constructor(cache: TailCache) {
    this.#cache = cache;
  }

  /** Records bytes just written at `position`; anything not contiguous with them is forgotten. */
  add(position: number, records: Buffer): void {
    const last = this.#chunks.at(-1);
    if (last !== undefined && last.position + last.bytes.length !== position) this.clear();
    // A single append larger than a quarter of the budget would only push everything else out.
    if (records.length > this.#cache.maxBytes / 4) {
      this.clear();
      return;
    }
    // The appended bytes are never modified again, so a view is kept when it is most of the memory it
    // holds (a large produce batch); a small slice of a larger buffer (a socket chunk carrying many small
    // requests) is copied, so the budget counts what is really retained.
    // A pooled request buffer is kept as a view whatever share of it the records are: its memory is
    // reused, not wasted, and the other partitions of the same request keep views of it too.
    let bytes: Buffer;
    if (sharedBufferPool.isPooled(records)) {
      sharedBufferPool.retain(records);
      bytes = records;
    } else {
      bytes = records.byteLength * 2 >= records.buffer.byteLength ? records : Buffer.from(records);
    }
    const chunk: Chunk = { position, bytes, owner: this, live: true };
    this.#chunks.push(chunk);
    this.#cache.admit(chunk);
  }

  /**
   * The bytes [position, position + length) if all of them are cached: a view of one chunk, or one copy
   * when the range spans several. Undefined otherwise (the caller reads the file). A pooled result holds
   * a reference the caller owns.
   */
  read(position: number, length: number): Buffer | undefined {
    const first = this.#chunks[0];
    const last = this.#chunks.at(-1);
    if (first === undefined || last === undefined || length <= 0) return undefined;
    const end = position + length;
    if (position < first.position || end > last.position + last.bytes.length) return undefined;
    let i = this.#chunks.length - 1;
    while (this.#chunks[i]!.position > position) i--;
    const c = this.#chunks[i]!;
    if (end <= c.position + c.bytes.length) {
      const view = c.bytes.subarray(position - c.position, end - c.position);
      sharedBufferPool.retain(view);
      return view;
    }
    const out = sharedBufferPool.allocate(length);
    let filled = 0;
    for (let j = i; filled < length; j++) {
      const chunk = this.#chunks[j]!;
      const from = position + filled - chunk.position;
      filled += chunk.bytes.copy(out, filled, from, Math.min(chunk.bytes.length, from + length - filled));
    }
    return out;
  }

  evictFirst(): void {
    const c = this.#chunks.shift();
    if (c !== undefined) this.#cache.release(c);
  }

  /** Forgets everything (truncation, recovery, close). */
  clear(): void {
    for (const c of this.#chunks) this.#cache.release(c);
    this.#chunks = [];
  }
}
