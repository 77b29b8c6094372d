// Large buffers recycled instead of left to the garbage collector.
//
// Every fresh large allocation costs page faults on first touch and adds to V8's external-memory count,
// which triggers collections; at hundreds of MB/s of produce requests and fetch reads that was a third of
// the broker's CPU and most of its resident memory. Buffers of at least `minBytes` are handed out from
// power-of-two size classes and come back when the last holder releases them.
//
// The contract: `allocate` returns a buffer with one reference. Whoever keeps a view of a pooled buffer
// beyond the moment its current holder releases it must `retain` it first and `release` it when done;
// releasing a view that was never retained would recycle memory still in use. A missed release is
// harmless: an unreleased buffer is simply collected like any other. Buffers are told apart by their
// ArrayBuffer, so any view of a pooled buffer can be retained or released.

export interface BufferPoolOptions {
  /** Smaller requests get a plain allocation: they are cheap and Node's own slab serves them. */
  readonly minBytes?: number;
  /** Larger requests get a plain allocation: they are rare and would pin too much memory. */
  readonly maxBytes?: number;
  /** Free buffers kept for reuse, in bytes over all size classes; the rest are left to the collector. */
  readonly maxFreeBytes?: number;
}

export interface BufferPoolStats {
  readonly allocations: number;
  readonly reuses: number;
  readonly freeBytes: number;
}

interface Lease {
  refs: number;
}

export class BufferPool {
  readonly #minBytes: number;
  readonly #maxBytes: number;
  readonly #maxFreeBytes: number;
  /** Free buffers by size class (log2 of their byte length). */
  readonly #free = new Map<number, ArrayBuffer[]>();
  #freeBytes = 0;
  /** Reference counts of buffers handed out; weak, so a buffer never released is still collected. */
  readonly #leases = new WeakMap<ArrayBufferLike, Lease>();
  #allocations = 0;
  #reuses = 0;
  /**
   * Fill each buffer with 0xEE as it returns to the pool, so that a view still in use after its release
   * reads garbage at once instead of, now and then, another request's bytes (tests turn this on).
   */
  poisonOnRelease = false;

  constructor(opts: BufferPoolOptions = {}) {
    this.#minBytes = opts.minBytes ?? 128 * 1024;
    this.#maxBytes = opts.maxBytes ?? 16 * 1024 * 1024;
    this.#maxFreeBytes = opts.maxFreeBytes ?? 64 * 1024 * 1024;
  }

  get stats(): BufferPoolStats {
    return { allocations: this.#allocations, reuses: this.#reuses, freeBytes: this.#freeBytes };
  }

  /**
   * An uninitialised buffer of `size` bytes holding one reference (pooled only within the size limits).
   * A caller whose buffers live long may pool smaller ones with `minBytes`: a buffer that outlives a few
   * young-generation collections dies in the old generation, and the external memory it frees there
   * counts towards V8's next full collection, however small each buffer is.
   */
  allocate(size: number, minBytes = this.#minBytes): Buffer {
    if (size < minBytes || size > this.#maxBytes) return Buffer.allocUnsafeSlow(size);
    const sizeClass = Math.ceil(Math.log2(size));
    const free = this.#free.get(sizeClass);
    let backing = free?.pop();
    if (backing === undefined) {
      backing = new ArrayBuffer(2 ** sizeClass);
      this.#allocations++;
    } else {
      this.#freeBytes -= backing.byteLength;
      this.#reuses++;
    }
    this.#leases.set(backing, { refs: 1 });
    return Buffer.from(backing, 0, size);
  }

  /** Whether `buf` is a view of a buffer handed out by this pool and not yet returned. */
  isPooled(buf: Uint8Array): boolean {
    return this.#leases.has(buf.buffer);
  }

  /** Adds a reference to the pooled buffer `buf` is a view of; nothing for other buffers. */
  retain(buf: Uint8Array): void {
    const lease = this.#leases.get(buf.buffer);
    if (lease !== undefined) lease.refs++;
  }

  /** Drops a reference; the last one returns the buffer to the pool. Nothing for other buffers. */
  release(buf: Uint8Array): void {
    const backing = buf.buffer;
    const lease = this.#leases.get(backing);
    if (lease === undefined) return;
    if (--lease.refs > 0) return;
    this.#leases.delete(backing);
    if (this.poisonOnRelease) new Uint8Array(backing).fill(0xee);
    if (this.#freeBytes + backing.byteLength > this.#maxFreeBytes) return;
    const sizeClass = Math.log2(backing.byteLength);
    let free = this.#free.get(sizeClass);
    if (free === undefined) this.#free.set(sizeClass, (free = []));
    free.push(backing as ArrayBuffer);
    this.#freeBytes += backing.byteLength;
  }
}

/** The process-wide pool the network and storage layers share. */
export const sharedBufferPool = new BufferPool();
