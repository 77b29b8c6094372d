// The `.timeindex` file: sparse map from timestamp to offset. Each 12-byte entry is (int64 timestamp,
// int32 offset relative to the base offset); timestamps only grow, so a lookup is a binary search.
import { NO_TIMESTAMP, readInt64, writeInt64 } from '../protocol/records/batch-header.js';
import { type FileHandlePool, readFully } from './file-handles.js';
import { CorruptIndexError, grow, IndexFile, type IndexLru } from './index-file.js';

export const TIME_INDEX_ENTRY_SIZE = 12;

export interface TimestampOffset {
  readonly timestamp: number;
  readonly offset: number;
}

export class TimeIndex extends IndexFile {
  #ts = new Float64Array(0);
  #rel = new Int32Array(0);
  /** The last entry as read from the file's tail without loading it all. */
  #peekedLast: TimestampOffset | undefined;

  constructor(path: string, baseOffset: number, maxIndexSize: number, pool: FileHandlePool, fileLength?: number, lru?: IndexLru) {
    super(path, baseOffset, maxIndexSize, TIME_INDEX_ENTRY_SIZE, pool, fileLength, lru);
  }

  // One slot stays free for the entry written when the segment becomes inactive.
  override isFull(): boolean {
    return this.entries >= this.maxEntries - 1;
  }

  get lastEntry(): TimestampOffset {
    const n = this.count;
    return n === 0 ? { timestamp: NO_TIMESTAMP, offset: this.baseOffset } : this.entry(n - 1);
  }

  /** The last entry, reading only the file's final 12 bytes when the index is not loaded. */
  async readLastEntry(): Promise<TimestampOffset> {
    if (this.isLoaded) return this.lastEntry;
    if (this.#peekedLast) return this.#peekedLast;
    await this.ensureLength();
    const n = this.fileEntries;
    if (n === 0) return { timestamp: NO_TIMESTAMP, offset: this.baseOffset };
    const buf = Buffer.allocUnsafe(TIME_INDEX_ENTRY_SIZE);
    const got = await this.pool.use(this.path, (fd) => readFully(fd, buf, 0, buf.length, (n - 1) * TIME_INDEX_ENTRY_SIZE));
    if (got !== buf.length) throw new CorruptIndexError(`${this.path}: short read`);
    this.#peekedLast = { timestamp: readInt64(buf, 0), offset: this.baseOffset + buf.readInt32BE(8) };
    return this.#peekedLast;
  }

  entry(slot: number): TimestampOffset {
    return { timestamp: this.#ts[slot]!, offset: this.baseOffset + this.#rel[slot]! };
  }

  /**
   * Appends (timestamp, offset) when the timestamp is above the last entry's, as Kafka's maybeAppend;
   * `skipFullCheck` is for the entry written when the segment becomes inactive.
   */
  maybeAppend(timestamp: number, offset: number, skipFullCheck = false): void {
    const n = this.count;
    if (!skipFullCheck && this.isFull()) throw new CorruptIndexError(`time index ${this.path} is full`);
    if (n >= this.maxEntries) return;
    const last = this.lastEntry;
    if (n > 0 && offset < last.offset) {
      throw new CorruptIndexError(`offset ${offset} below the last time index entry ${last.offset} of ${this.path}`);
    }
    if (n > 0 && timestamp < last.timestamp) {
      throw new CorruptIndexError(`timestamp ${timestamp} below the last time index entry ${last.timestamp} of ${this.path}`);
    }
    if (timestamp > last.timestamp) {
      this.reserve(n + 1);
      this.#ts[n] = timestamp;
      this.#rel[n] = offset - this.baseOffset;
      this.#peekedLast = undefined;
      this.pushed();
    }
  }

  /** The entry with the largest timestamp ≤ `target`, or (NO_TIMESTAMP, baseOffset). */
  lookup(target: number): TimestampOffset {
    const slot = this.floorSlot(target, (i) => this.#ts[i]!);
    return slot < 0 ? { timestamp: NO_TIMESTAMP, offset: this.baseOffset } : this.entry(slot);
  }

  /** Removes the entries whose offset is ≥ `offset`. */
  truncateTo(offset: number): void {
    const rel = offset - this.baseOffset;
    const slot = this.floorSlot(rel, (i) => this.#rel[i]!);
    this.#peekedLast = undefined;
    this.truncateToEntries(slot < 0 ? 0 : this.#rel[slot] === rel ? slot : slot + 1);
  }

  override async reset(): Promise<void> {
    this.#peekedLast = undefined;
    await super.reset();
  }

  protected reserve(n: number): void {
    this.#ts = grow(this.#ts, n, (s) => new Float64Array(s));
    this.#rel = grow(this.#rel, n, (s) => new Int32Array(s));
  }

  protected release(): void {
    this.#ts = new Float64Array(0);
    this.#rel = new Int32Array(0);
  }

  protected decodeInto(buf: Buffer, at: number, slot: number): void {
    this.#ts[slot] = readInt64(buf, at);
    this.#rel[slot] = buf.readInt32BE(at + 8);
  }

  protected encodeFrom(buf: Buffer, at: number, slot: number): void {
    writeInt64(buf, at, this.#ts[slot]!);
    buf.writeInt32BE(this.#rel[slot]!, at + 8);
  }

  protected sanityProblem(n: number): string | undefined {
    for (let i = 0; i < n; i++) {
      if (this.#rel[i]! < 0) return `negative relative offset at slot ${i}`;
      if (i > 0 && (this.#ts[i]! < this.#ts[i - 1]! || this.#rel[i]! < this.#rel[i - 1]!)) {
        return `entries not increasing at slot ${i}`;
      }
    }
    return undefined;
  }
}
