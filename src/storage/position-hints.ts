// Where recent reads of a segment ended: offset → file position of the batch starting there. A consumer
// reading on from where its last read ended finds its position here, with no index lookup or scan.
//
// A fixed ring, searched newest first: a read allocates nothing. A Map with an entry added and the oldest
// deleted on every read would rehash its table each few reads, and for a long-lived Map each new table
// is garbage in the old generation, which is what drives V8's full collections.

export class PositionHints {
  readonly #offsets: Float64Array;
  readonly #positions: Float64Array;
  /** Slot the next new hint goes to. */
  #next = 0;
  #count = 0;

  constructor(capacity = 32) {
    this.#offsets = new Float64Array(Math.max(1, capacity));
    this.#positions = new Float64Array(Math.max(1, capacity));
  }

  get(offset: number): number | undefined {
    const slot = this.#slotOf(offset);
    return slot < 0 ? undefined : this.#positions[slot];
  }

  /** Remembers `position` for `offset`; past the capacity, the oldest hint is forgotten. */
  set(offset: number, position: number): void {
    const existing = this.#slotOf(offset);
    if (existing >= 0) {
      this.#positions[existing] = position;
      return;
    }
    this.#offsets[this.#next] = offset;
    this.#positions[this.#next] = position;
    this.#next = (this.#next + 1) % this.#offsets.length;
    if (this.#count < this.#offsets.length) this.#count++;
  }

  clear(): void {
    this.#next = 0;
    this.#count = 0;
  }

  #slotOf(offset: number): number {
    const n = this.#offsets.length;
    for (let i = 1; i <= this.#count; i++) {
      const slot = (this.#next - i + n) % n;
      if (this.#offsets[slot] === offset) return slot;
    }
    return -1;
  }
}
