// The kernel's dirty page accounting, read from /proc/vmstat (Linux). Once the pages dirty or under
// writeback pass the midpoint of the background and the hard dirty thresholds, every write(2) into the page
// cache may be made to sleep until writeback catches up (balance_dirty_pages, for up to 200 ms a call). A
// writer that must not be stalled (the event loop) asks here first and leaves such writes to other threads.
import { readFile } from 'node:fs';

export interface DirtyPageState {
  /** Pages dirty or under writeback. */
  readonly unwritten: number;
  /** Where the kernel starts pausing writers: (dirty threshold + background threshold) / 2, in pages. */
  readonly throttleFrom: number;
}

const FIELDS = ['nr_dirty', 'nr_writeback', 'nr_dirty_threshold', 'nr_dirty_background_threshold'] as const;

/** The state in a /proc/vmstat text; undefined when a field is missing (not Linux, or an unknown format). */
export function parseVmstat(text: string): DirtyPageState | undefined {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    const space = line.indexOf(' ');
    if (space <= 0) continue;
    const name = line.slice(0, space);
    if ((FIELDS as readonly string[]).includes(name)) values.set(name, Number(line.slice(space + 1)));
  }
  const [dirty, writeback, threshold, background] = FIELDS.map((f) => values.get(f));
  if (dirty === undefined || writeback === undefined || threshold === undefined || background === undefined) return undefined;
  if (![dirty, writeback, threshold, background].every(Number.isFinite) || threshold <= 0) return undefined;
  return { unwritten: dirty + writeback, throttleFrom: (threshold + background) / 2 };
}

export interface DirtyPageWatchOptions {
  /** Default /proc/vmstat. */
  readonly path?: string;
  /** How old the last reading may be before a question starts a new one (default 200 ms). */
  readonly refreshMs?: number;
  /** The share of the throttle point from which writers count as near it (default 0.9: other writers). */
  readonly margin?: number;
  /** Monotonic milliseconds (default performance.now). */
  readonly now?: () => number;
}

/** Bytes per page in the estimate: the smallest page size, so that the estimate errs towards "near". */
const PAGE_BYTES = 4096;

/**
 * Answers from the last reading plus what the writer told it was written since, and refreshes the reading in
 * the background when it has aged: asking costs no I/O, an idle broker reads nothing, and a writer filling a
 * small dirty limit fast is not left waiting for the next reading to see it. Where the file does not exist,
 * may not be read or cannot be parsed, the watch says "not near" from then on (writes stalled there are
 * caught by the duration check of InlineWrites); after another failure it says so until a reading succeeds.
 */
export class DirtyPageWatch {
  readonly #path: string;
  readonly #refreshMs: number;
  readonly #margin: number;
  readonly #now: () => number;
  #state: DirtyPageState | undefined;
  #readAt = Number.NEGATIVE_INFINITY;
  #reading = false;
  #unavailable = false;
  /** Bytes the writer reported in all, and as of the start of the last completed reading. */
  #written = 0;
  #writtenAtReading = 0;

  constructor(opts: DirtyPageWatchOptions = {}) {
    this.#path = opts.path ?? '/proc/vmstat';
    this.#refreshMs = opts.refreshMs ?? 200;
    this.#margin = opts.margin ?? 0.9;
    this.#now = opts.now ?? (() => performance.now());
  }

  /** The last reading (undefined before the first one completed or where there is none). */
  get state(): DirtyPageState | undefined {
    return this.#state;
  }

  /** Whether writers are near the throttle point: the last reading plus the bytes written since it. */
  nearThrottle(): boolean {
    if (!this.#unavailable && !this.#reading && this.#now() - this.#readAt >= this.#refreshMs) this.#refresh();
    const s = this.#state;
    if (s === undefined) return false;
    const since = (this.#written - this.#writtenAtReading) / PAGE_BYTES;
    return s.unwritten + since >= s.throttleFrom * this.#margin;
  }

  /** `bytes` were written into the page cache (they count until a reading started after them completes). */
  noteWritten(bytes: number): void {
    this.#written += bytes;
  }

  /** Resolves once a reading started now has completed (tests and start-up). */
  refresh(): Promise<void> {
    return new Promise((resolve) => this.#refresh(resolve));
  }

  #refresh(done?: () => void): void {
    this.#reading = true;
    this.#readAt = this.#now();
    const writtenBefore = this.#written;
    readFile(this.#path, 'latin1', (err, text) => {
      this.#reading = false;
      this.#writtenAtReading = writtenBefore;
      const state = err ? undefined : parseVmstat(text);
      // A missing, forbidden or unknown file stays so; anything else (out of descriptors) is tried again.
      if (state === undefined && (err === null || err.code === 'ENOENT' || err.code === 'EACCES' || err.code === 'EPERM')) this.#unavailable = true;
      this.#state = state;
      done?.();
    });
  }
}
