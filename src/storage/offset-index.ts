// The `.index` file: sparse map from offset to the file position of the batch holding it. Each
// 8-byte entry is (int32 offset relative to the segment's base offset, int32 position).
import { type FileHandlePool } from './file-handles.js';
import { CorruptIndexError, grow, IndexFile, type IndexLru } from './index-file.js';

export const OFFSET_INDEX_ENTRY_SIZE = 8;
const INT32_MAX = 0x7fffffff;

export interface OffsetPosition {
  readonly offset: number;
  readonly position: number;
}

export class OffsetIndex extends IndexFile {
  #rel = new Int32Array(0);
  #pos = new Int32Array(0);

  constructor(path: string, baseOffset: number, maxIndexSize: number, pool: FileHandlePool, fileLength?: number, lru?: IndexLru) {
    super(path, baseOffset, maxIndexSize, OFFSET_INDEX_ENTRY_SIZE, pool, fileLength, lru);
  }

  /** The offset of the last entry, or the base offset when empty. */
  get lastOffset(): number {
    const n = this.count;
    return n === 0 ? this.baseOffset : this.baseOffset + this.#rel[n - 1]!;
  }

  get lastEntry(): OffsetPosition {
    const n = this.count;
    return n === 0 ? { offset: this.baseOffset, position: 0 } : this.entry(n - 1);
  }

  entry(slot: number): OffsetPosition {
    return { offset: this.baseOffset + this.#rel[slot]!, position: this.#pos[slot]! };
  }

  /** Whether `offset` fits in the relative offset of this segment's indexes. */
  canAppendOffset(offset: number): boolean {
    const rel = offset - this.baseOffset;
    return rel >= 0 && rel <= INT32_MAX;
  }

  append(offset: number, position: number): void {
    const n = this.count;
    if (n >= this.maxEntries) throw new CorruptIndexError(`offset index ${this.path} is full`);
    const rel = offset - this.baseOffset;
    if (!this.canAppendOffset(offset)) throw new CorruptIndexError(`offset ${offset} does not fit index ${this.path}`);
    if (n > 0 && rel <= this.#rel[n - 1]!) {
      throw new CorruptIndexError(`offset ${offset} is not above the last index entry ${this.lastOffset} of ${this.path}`);
    }
    this.reserve(n + 1);
    this.#rel[n] = rel;
    this.#pos[n] = position;
    this.pushed();
  }

  /** The entry with the largest offset ≤ `target`, or (baseOffset, 0). */
  lookup(target: number): OffsetPosition {
    const slot = this.floorSlot(target - this.baseOffset, (i) => this.#rel[i]!);
    return slot < 0 ? { offset: this.baseOffset, position: 0 } : this.entry(slot);
  }

  /** Removes the entries whose offset is ≥ `offset`. */
  truncateTo(offset: number): void {
    const rel = offset - this.baseOffset;
    const slot = this.floorSlot(rel, (i) => this.#rel[i]!);
    this.truncateToEntries(slot < 0 ? 0 : this.#rel[slot] === rel ? slot : slot + 1);
  }

  protected reserve(n: number): void {
    this.#rel = grow(this.#rel, n, (s) => new Int32Array(s));
    this.#pos = grow(this.#pos, n, (s) => new Int32Array(s));
  }

  protected release(): void {
    this.#rel = new Int32Array(0);
    this.#pos = new Int32Array(0);
  }

  protected decodeInto(buf: Buffer, at: number, slot: number): void {
    this.#rel[slot] = buf.readInt32BE(at);
    this.#pos[slot] = buf.readInt32BE(at + 4);
  }

  protected encodeFrom(buf: Buffer, at: number, slot: number): void {
    buf.writeInt32BE(this.#rel[slot]!, at);
    buf.writeInt32BE(this.#pos[slot]!, at + 4);
  }

  // Kafka checks only the last offset against the base; we also require the strictly increasing
  // offsets and positions every writer produces, which catches an untrimmed preallocated tail.
  protected sanityProblem(n: number): string | undefined {
    for (let i = 0; i < n; i++) {
      if (this.#rel[i]! < 0 || this.#pos[i]! < 0) return `negative entry at slot ${i}`;
      if (i > 0 && (this.#rel[i]! <= this.#rel[i - 1]! || this.#pos[i]! <= this.#pos[i - 1]!)) {
        return `entries not increasing at slot ${i}`;
      }
    }
    return undefined;
  }
}
