// Recently appended bytes kept in memory, so that a consumer reading at the tail of a partition (the
// common case: it asks for what was produced a moment ago) is answered without a file read. One budget is
// shared by every segment of a LogManager; past it the oldest bytes, whichever segment they belong to, are
// dropped first. Appended bytes are never modified afterwards, so a slice handed to a fetch response stays
// valid while the response is written, even after its chunk left the cache.
//
// Pooled buffers (see protocol/buffer-pool.ts): packed blocks are taken from the pool, and a chunk that is
// a view of a pooled request buffer holds a reference to it. A chunk's reference goes when it leaves the
// cache; every slice handed out of the cache is a reference of its own, which the reader releases (the
// network layer does once the response bytes are written), so memory is reused only once nobody reads it.
import { sharedBufferPool } from '../protocol/buffer-pool.js';

interface Chunk {
  /** File position of the first byte. */
  readonly position: number;
  /** The cached bytes: a view of the appended records, or the filled part of `block`. */
  bytes: Buffer;
  /** For small appends packed together: the block they are copied into, filled up to `bytes.length`. */
  readonly block: Buffer | undefined;
  /** Bytes counted against the budget: what the chunk holds in memory (a block's whole capacity). */
  readonly cost: number;
  /** Null only for the placeholder of an evicted entry. */
  readonly owner: SegmentTail | null;
  /** False once evicted or released; the shared queue drops such entries lazily. */
  live: boolean;
}

/** Appends up to this size are copied into shared blocks instead of kept as chunks of their own. */
const PACK_MAX_BYTES = 16 * 1024;
/** Blocks start small, so a partition appended to now and then holds little, and double while it is busy. */
const MIN_BLOCK_BYTES = 4 * 1024;
const MAX_BLOCK_BYTES = 64 * 1024;

/** Stands in for chunks that left a segment's list, which is compacted in batches. */
const EVICTED: Chunk = { position: -1, bytes: Buffer.alloc(0), block: undefined, cost: 0, owner: null, live: false };

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
    this.#used += chunk.cost;
    while (this.#used > this.maxBytes && this.#head < this.#queue.length) {
      const oldest = this.#queue[this.#head++]!;
      // Admission is in append order per segment, so the oldest live chunk is its segment's first.
      if (oldest.live) oldest.owner?.evictFirst();
    }
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
  }

  release(chunk: Chunk): void {
    if (!chunk.live) return;
    chunk.live = false;
    this.#used -= chunk.cost;
    sharedBufferPool.release(chunk.bytes);
  }
}

/** The cached tail of one segment: contiguous chunks ending at the segment's end. */
export class SegmentTail {
  readonly #cache: TailCache;
  /** Live chunks are `#chunks[#head..]`; evicted ones before `#head` are dropped in batches. */
  #chunks: Chunk[] = [];
  #head = 0;
  #nextBlockBytes = MIN_BLOCK_BYTES;

  constructor(cache: TailCache) {
    this.#cache = cache;
  }

  /** Records bytes just written at `position`; anything not contiguous with them is forgotten. */
  add(position: number, records: Buffer): void {
    let last = this.#last();
    if (last !== undefined && last.position + last.bytes.length !== position) {
      this.clear();
      last = undefined;
    }
    // A single append larger than a quarter of the budget would only push everything else out.
    if (records.length > this.#cache.maxBytes / 4) {
      this.clear();
      return;
    }
    // Small appends (one record at linger.ms=0) are packed into blocks: one allocation and one chunk per
    // block, not per append. The filled part of a block is never written again, so views of it stay valid.
    // A block is at most a quarter of the budget, like any single append.
    const blockCap = Math.min(MAX_BLOCK_BYTES, Math.floor(this.#cache.maxBytes / 4));
    if (records.length <= Math.min(PACK_MAX_BYTES, blockCap) && !sharedBufferPool.isPooled(records)) {
      const block = last?.block;
      if (block !== undefined && last!.bytes.length + records.length <= block.length) {
        records.copy(block, last!.bytes.length);
        last!.bytes = block.subarray(0, last!.bytes.length + records.length);
        return;
      }
      if (block !== undefined) this.#nextBlockBytes = Math.min(MAX_BLOCK_BYTES, block.length * 2);
      // Pooled: a block lives until the budget pushes it out, long enough to die in the old generation.
      const fresh = sharedBufferPool.allocate(Math.max(Math.min(this.#nextBlockBytes, blockCap), records.length), MIN_BLOCK_BYTES);
      records.copy(fresh, 0);
      this.#admit({ position, bytes: fresh.subarray(0, records.length), block: fresh, cost: fresh.length, owner: this, live: true });
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
    this.#admit({ position, bytes, block: undefined, cost: bytes.length, owner: this, live: true });
  }

  #admit(chunk: Chunk): void {
    this.#chunks.push(chunk);
    this.#cache.admit(chunk);
  }

  #last(): Chunk | undefined {
    return this.#head < this.#chunks.length ? this.#chunks[this.#chunks.length - 1] : undefined;
  }

  /**
   * The bytes [position, position + length) if all of them are cached: a view of one chunk, or one copy
   * when the range spans several. Undefined otherwise (the caller reads the file). A pooled result holds
   * a reference the caller owns.
   */
  read(position: number, length: number): Buffer | undefined {
    const chunks = this.#chunks;
    const first = chunks[this.#head];
    const last = this.#last();
    if (first === undefined || last === undefined || length <= 0) return undefined;
    const end = position + length;
    if (position < first.position || end > last.position + last.bytes.length) return undefined;
    let i = chunks.length - 1;
    while (chunks[i]!.position > position) i--;
    const c = chunks[i]!;
    if (end <= c.position + c.bytes.length) {
      const view = c.bytes.subarray(position - c.position, end - c.position);
      sharedBufferPool.retain(view);
      return view;
    }
    const out = sharedBufferPool.allocate(length);
    let filled = 0;
    for (let j = i; filled < length; j++) {
      const chunk = chunks[j]!;
      const from = position + filled - chunk.position;
      filled += chunk.bytes.copy(out, filled, from, Math.min(chunk.bytes.length, from + length - filled));
    }
    return out;
  }

  evictFirst(): void {
    const c = this.#chunks[this.#head];
    if (c === undefined) return;
    this.#chunks[this.#head++] = EVICTED;
    this.#cache.release(c);
    if (this.#head === this.#chunks.length) {
      this.#chunks = [];
      this.#head = 0;
    } else if (this.#head > 256 && this.#head * 2 > this.#chunks.length) {
      this.#chunks = this.#chunks.slice(this.#head);
      this.#head = 0;
    }
  }

  /** Forgets everything (truncation, recovery, close). */
  clear(): void {
    for (let i = this.#head; i < this.#chunks.length; i++) this.#cache.release(this.#chunks[i]!);
    this.#chunks = [];
    this.#head = 0;
  }
}
