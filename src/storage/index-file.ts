// What the offset index and the time index share: a file of fixed-size big-endian entries, kept
// in memory as typed arrays once loaded (Node has no mmap). The active segment's index is loaded
// for good and its file preallocated to segment.index.bytes (rounded down to whole entries) as Kafka
// does; new entries are written to the file in batches (writePending) because an index is only a
// cache of the log: recovery rebuilds it, so it never needs its own fsync ordering. Inactive
// segments' indexes load on first lookup and may be dropped again by an IndexLru.
import fs from 'node:fs/promises';
import { StrataError } from '../protocol/strata-error.js';
import { type FileHandlePool, fstatSize, ftruncate, readFully, writeFully } from './file-handles.js';

export class CorruptIndexError extends StrataError {
  constructor(message: string) {
    super('ERR_STORAGE', message);
  }
}

/** Drops the entries of the least recently used inactive indexes past a budget. */
export class IndexLru {
  readonly #capacity: number;
  readonly #loaded = new Set<IndexFile>();

  constructor(capacity = 256) {
    this.#capacity = capacity;
  }

  touch(index: IndexFile): void {
    this.#loaded.delete(index);
    this.#loaded.add(index);
    for (const victim of this.#loaded) {
      if (this.#loaded.size <= this.#capacity) break;
      this.#loaded.delete(victim);
      victim.unload();
    }
  }

  forget(index: IndexFile): void {
    this.#loaded.delete(index);
  }

  get size(): number {
    return this.#loaded.size;
  }
}

export abstract class IndexFile {
  readonly baseOffset: number;
  readonly maxIndexSize: number;
  readonly entrySize: number;
  #path: string;
  protected readonly pool: FileHandlePool;
  readonly #lru: IndexLru | undefined;
  /** Entries held in memory; undefined until loaded. */
  #count: number | undefined;
  /** Entries already written to the file. */
  #written = 0;
  /** Current length of the file on disk (preallocated or trimmed); undefined until first needed. */
  #fileLength: number | undefined;
  /** Active indexes stay loaded and preallocated. */
  #active = false;

  protected constructor(path: string, baseOffset: number, maxIndexSize: number, entrySize: number,
    pool: FileHandlePool, fileLength: number | undefined, lru: IndexLru | undefined) {
    this.#path = path;
    this.baseOffset = baseOffset;
    this.entrySize = entrySize;
    this.maxIndexSize = maxIndexSize - (maxIndexSize % entrySize);
    this.pool = pool;
    this.#fileLength = fileLength;
    this.#lru = lru;
  }

  get path(): string {
    return this.#path;
  }

  get maxEntries(): number {
    return this.maxIndexSize / this.entrySize;
  }

  get isActive(): boolean {
    return this.#active;
  }

  get isLoaded(): boolean {
    return this.#count !== undefined;
  }

  /** Entries in the index (loads it). */
  get entries(): number {
    return this.#count ?? this.fileEntries;
  }

  /** Entries the file holds by length, without loading (trailing preallocation counts too). */
  get fileEntries(): number {
    return Math.floor((this.#fileLength ?? 0) / this.entrySize);
  }

  /** The file's length (-1 while not yet known: segments are opened without stat-ing their indexes). */
  get fileLength(): number {
    return this.#fileLength ?? -1;
  }

  /** Learns the file's length with one fstat; a missing file is a CorruptIndexError (rebuilt by the segment). */
  protected async ensureLength(): Promise<number> {
    if (this.#fileLength === undefined) {
      try {
        this.#fileLength = await this.pool.use(this.#path, (fd) => fstatSize(fd));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new CorruptIndexError(`index file ${this.#path} is missing`);
        throw e;
      }
    }
    return this.#fileLength;
  }

  isFull(): boolean {
    return this.entries >= this.maxEntries;
  }

  /** Reads the whole file into memory and checks it; throws CorruptIndexError when it is not sane. */
  async load(): Promise<void> {
    if (this.#count !== undefined) {
      if (!this.#active) this.#lru?.touch(this);
      return;
    }
    const length = await this.ensureLength();
    const n = this.fileEntries;
    const buf = Buffer.allocUnsafe(n * this.entrySize);
    if (n > 0) {
      const got = await this.pool.use(this.#path, (fd) => readFully(fd, buf, 0, buf.length, 0));
      if (got !== buf.length) throw new CorruptIndexError(`${this.#path}: short read (${got} of ${buf.length})`);
    }
    if (this.#count !== undefined) return; // loaded concurrently
    this.reserve(n);
    for (let i = 0; i < n; i++) this.decodeInto(buf, i * this.entrySize, i);
    this.#count = n;
    this.#written = n;
    const problem = length % this.entrySize !== 0 ? `length ${length} is not a multiple of ${this.entrySize}` : this.sanityProblem(n);
    if (problem !== undefined) {
      this.#count = undefined;
      throw new CorruptIndexError(`corrupt index ${this.#path}: ${problem}`);
    }
    if (!this.#active) this.#lru?.touch(this);
  }

  /** Forgets the in-memory entries of an inactive index (everything is on disk). */
  unload(): void {
    if (this.#active || this.#written !== this.#count) return;
    this.#count = undefined;
    this.release();
  }

  /** Makes this the active segment's index: loaded, preallocated, never unloaded. */
  async makeActive(): Promise<void> {
    await this.load();
    this.#active = true;
    this.#lru?.forget(this);
    if (this.#fileLength !== this.maxIndexSize) await this.#resize(this.maxIndexSize);
  }

  /** Writes pending entries and trims the file to them (on roll and close). */
  async trimToValidSize(): Promise<void> {
    await this.writePending();
    const valid = (this.#count ?? this.fileEntries) * this.entrySize;
    if (this.#fileLength !== valid) await this.#resize(valid);
  }

  async becomeInactive(): Promise<void> {
    await this.trimToValidSize();
    this.#active = false;
  }

  /** Writes entries appended since the last call. */
  async writePending(): Promise<void> {
    const count = this.#count;
    if (count === undefined || this.#written >= count) return;
    const from = this.#written;
    const buf = Buffer.allocUnsafe((count - from) * this.entrySize);
    for (let i = from; i < count; i++) this.encodeFrom(buf, (i - from) * this.entrySize, i);
    await this.pool.use(this.#path, (fd) => writeFully(fd, buf, 0, buf.length, from * this.entrySize));
    // Entries may have been truncated while the write was in flight: only what still exists counts.
    this.#written = Math.min(Math.max(this.#written, count), this.#count ?? 0);
    if ((this.#fileLength ?? 0) < count * this.entrySize) this.#fileLength = count * this.entrySize;
  }

  /** Drops every entry (recovery rebuilds from the log). */
  async reset(): Promise<void> {
    this.#count = 0;
    this.#written = 0;
    this.reserve(0);
    await this.#resize(this.#active ? this.maxIndexSize : 0);
  }

  async renameTo(path: string): Promise<void> {
    this.pool.forget(this.#path);
    try {
      await fs.rename(this.#path, path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    this.#path = path;
  }

  async deleteFile(): Promise<void> {
    this.pool.forget(this.#path);
    this.#lru?.forget(this);
    await fs.rm(this.#path, { force: true });
  }

  close(): void {
    this.pool.forget(this.#path);
    this.#lru?.forget(this);
  }

  protected get count(): number {
    if (this.#count === undefined) throw new StrataError('ERR_STATE', `index ${this.#path} is not loaded`);
    return this.#count;
  }

  /** Appends one in-memory entry (the subclass has filled slot `count`). */
  protected pushed(): void {
    this.#count = this.count + 1;
  }

  /** Cuts the in-memory entries to `n`; the file follows at the next trim or write. */
  protected truncateToEntries(n: number): void {
    this.#count = n;
    if (this.#written > n) this.#written = n;
  }

  /** Binary search: the largest slot whose key ≤ target, or -1. */
  protected floorSlot(target: number, key: (slot: number) => number): number {
    let lo = 0;
    let hi = this.count - 1;
    if (hi < 0 || key(0) > target) return -1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (key(mid) <= target) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  async #resize(length: number): Promise<void> {
    await this.pool.use(this.#path, (fd) => ftruncate(fd, length), true);
    this.#fileLength = length;
  }

  /** Grows the typed arrays to hold at least `n` entries. */
  protected abstract reserve(n: number): void;
  protected abstract release(): void;
  protected abstract decodeInto(buf: Buffer, pos: number, slot: number): void;
  protected abstract encodeFrom(buf: Buffer, pos: number, slot: number): void;
  /** A description of what is wrong with the first `n` loaded entries, or undefined. */
  protected abstract sanityProblem(n: number): string | undefined;
}

export function grow<T extends Int32Array | Float64Array>(arr: T, n: number, make: (size: number) => T): T {
  if (arr.length >= n) return arr;
  const next = make(Math.max(n, arr.length * 2, 64));
  next.set(arr);
  return next;
}
