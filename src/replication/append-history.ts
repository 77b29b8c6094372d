// The end offsets and cumulative byte counts of a partition's recent appends, so that a delayed fetch
// can tell about how many bytes lie between two offsets without reading the log (min.bytes).
//
// A ring of two Float64Arrays: recording an append allocates nothing once the ring has grown. The
// partition outlives millions of appends, so growing arrays or slices of them would be old-generation
// garbage, which is what drives V8's full collections. The ring starts small, so a partition appended to
// now and then holds little, and doubles up to its capacity.

const INITIAL_SLOTS = 16;

export class AppendHistory {
  readonly #capacity: number;
  #ends: Float64Array;
  #bytes: Float64Array;
  /** Slot of the oldest entry. */
  #first = 0;
  #count = 0;

  /** @param capacity the most appends remembered; older ones are forgotten first. */
  constructor(capacity: number, endOffset: number, cumulativeBytes: number) {
    this.#capacity = Math.max(2, capacity);
    const slots = Math.min(INITIAL_SLOTS, this.#capacity);
    this.#ends = new Float64Array(slots);
    this.#bytes = new Float64Array(slots);
    this.reset(endOffset, cumulativeBytes);
  }

  get size(): number {
    return this.#count;
  }

  /** Forgets everything but one entry: `cumulativeBytes` had been appended when the log ended at `endOffset`. */
  reset(endOffset: number, cumulativeBytes: number): void {
    this.#first = 0;
    this.#count = 0;
    this.record(endOffset, cumulativeBytes);
  }

  /** An append that ended the log at `endOffset`, with `cumulativeBytes` appended so far (both ascending). */
  record(endOffset: number, cumulativeBytes: number): void {
    if (this.#count === this.#ends.length) {
      if (this.#ends.length < this.#capacity) {
        this.#grow();
      } else {
        this.#first = (this.#first + 1) % this.#ends.length;
        this.#count--;
      }
    }
    const slot = (this.#first + this.#count) % this.#ends.length;
    this.#ends[slot] = endOffset;
    this.#bytes[slot] = cumulativeBytes;
    this.#count++;
  }

  /**
   * The cumulative bytes of the latest append ending at or before `offset`; undefined when `offset`
   * predates the oldest entry remembered.
   */
  bytesAt(offset: number): number | undefined {
    if (this.#count === 0 || this.#endAt(0) > offset) return undefined;
    let lo = 0;
    let hi = this.#count - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.#endAt(mid) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return this.#bytes[(this.#first + lo) % this.#bytes.length]!;
  }

  #endAt(i: number): number {
    return this.#ends[(this.#first + i) % this.#ends.length]!;
  }

  #grow(): void {
    const slots = Math.min(this.#capacity, this.#ends.length * 2);
    const ends = new Float64Array(slots);
    const bytes = new Float64Array(slots);
    for (let i = 0; i < this.#count; i++) {
      const from = (this.#first + i) % this.#ends.length;
      ends[i] = this.#ends[from]!;
      bytes[i] = this.#bytes[from]!;
    }
    this.#ends = ends;
    this.#bytes = bytes;
    this.#first = 0;
  }
}
