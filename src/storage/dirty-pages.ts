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
  /**
   * The share of the throttle point from which writers count as near it (default 0.75): the reading is up to
   * `refreshMs` old, and at disk-bound rates a quarter of the way is more than that long.
   */
  readonly margin?: number;
  /** Monotonic milliseconds (default performance.now). */
  readonly now?: () => number;
}

/**
 * Answers from the last reading and refreshes it in the background when it has aged: asking costs no I/O,
 * and an idle broker reads nothing. Where the file cannot be read or parsed, the watch says "not near" from
 * then on (writes stalled there are caught by the duration check of InlineWrites).
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

  constructor(opts: DirtyPageWatchOptions = {}) {
    this.#path = opts.path ?? '/proc/vmstat';
    this.#refreshMs = opts.refreshMs ?? 200;
    this.#margin = opts.margin ?? 0.75;
    this.#now = opts.now ?? (() => performance.now());
  }

  /** The last reading (undefined before the first one completed or where there is none). */
  get state(): DirtyPageState | undefined {
    return this.#state;
  }

  /** Whether writers were near the throttle point at the last reading; starts a new reading when it aged. */
  nearThrottle(): boolean {
    if (!this.#unavailable && !this.#reading && this.#now() - this.#readAt >= this.#refreshMs) this.#refresh();
    const s = this.#state;
    return s !== undefined && s.unwritten >= s.throttleFrom * this.#margin;
  }

  /** Resolves once a reading started now has completed (tests and start-up). */
  refresh(): Promise<void> {
    return new Promise((resolve) => this.#refresh(resolve));
  }

  #refresh(done?: () => void): void {
    this.#reading = true;
    this.#readAt = this.#now();
    readFile(this.#path, 'latin1', (err, text) => {
      this.#reading = false;
      const state = err ? undefined : parseVmstat(text);
      if (state === undefined) this.#unavailable = true;
      this.#state = state;
      done?.();
    });
  }
}
