// The segments of one log ordered by base offset, with the floor/higher lookups the Log needs.
// A sorted array: segment counts are small (hundreds at most) and lookups are binary searches.
import { StrataError } from '../protocol/strata-error.js';
import type { LogSegment } from './segment.js';

export class LogSegments {
  #list: LogSegment[] = [];

  get size(): number {
    return this.#list.length;
  }

  get isEmpty(): boolean {
    return this.#list.length === 0;
  }

  all(): readonly LogSegment[] {
    return this.#list;
  }

  first(): LogSegment | undefined {
    return this.#list[0];
  }

  last(): LogSegment | undefined {
    return this.#list[this.#list.length - 1];
  }

  /** The active segment (the last one); there always is one once the log is open. */
  active(): LogSegment {
    const seg = this.last();
    if (!seg) throw new StrataError('ERR_STATE', 'log has no segments');
    return seg;
  }

  /** Adds or replaces the segment with the same base offset. */
  add(segment: LogSegment): void {
    const i = this.#lowerBound(segment.baseOffset);
    if (this.#list[i]?.baseOffset === segment.baseOffset) this.#list[i] = segment;
    else this.#list.splice(i, 0, segment);
  }

  remove(segment: LogSegment): void {
    const i = this.#lowerBound(segment.baseOffset);
    if (this.#list[i] === segment) this.#list.splice(i, 1);
  }

  clear(): void {
    this.#list = [];
  }

  /** The segment with the largest base offset ≤ `offset`. */
  floor(offset: number): LogSegment | undefined {
    const i = this.#lowerBound(offset + 1) - 1;
    return i >= 0 ? this.#list[i] : undefined;
  }

  /** The segment following `segment`, if any. */
  next(segment: LogSegment): LogSegment | undefined {
    const i = this.#lowerBound(segment.baseOffset);
    return this.#list[i] === segment ? this.#list[i + 1] : this.#list[i];
  }

  /** Segments that may hold offsets in [from, to): the floor of `from` and every later one below `to`. */
  range(from: number, to = Number.MAX_SAFE_INTEGER): LogSegment[] {
    const start = Math.max(0, this.#lowerBound(from + 1) - 1);
    const out: LogSegment[] = [];
    for (let i = start; i < this.#list.length && this.#list[i]!.baseOffset < to; i++) out.push(this.#list[i]!);
    return out;
  }

  /** Total bytes of all segments. */
  sizeInBytes(): number {
    let n = 0;
    for (const s of this.#list) n += s.size;
    return n;
  }

  /** Index of the first segment whose base offset is ≥ `offset`. */
  #lowerBound(offset: number): number {
    let lo = 0;
    let hi = this.#list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#list[mid]!.baseOffset < offset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
