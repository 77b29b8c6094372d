// Whether an append's write into the page cache is made on the calling thread (the event loop) or handed to
// libuv's thread pool.
//
// Made in place, a write costs its copy and nothing else. Handed over, it also costs a thread wake-up, which
// on a loaded machine with few cores often preempts the event loop, and the promise hops back. On produce of
// 1 KiB records in batches of about 1 MiB, writing those in place instead of in the pool took the broker from
// about 0.93 to 0.84 CPU seconds per GB. But a write(2) can sleep: the kernel pauses writers while writeback lags
// (dirty pages past their threshold), and slow storage (a network file system) is slow every time. A sleep on
// the event loop stalls every connection, so writes go in place only while nothing says they would sleep:
//   - the write is at most `maxBytes`, and this turn of the event loop has written at most `maxBytesPerTurn`;
//   - the kernel's dirty pages are not near the point where it pauses writers (DirtyPageWatch);
//   - no recent in-place write took `slowWriteMs` or more; one that did sends writes to the thread pool for
//     `pauseMs`, doubled (up to `maxPauseMs`) each time the first write after a pause is slow again.
import { DirtyPageWatch } from './dirty-pages.js';
import { writeFully, writeFullyNow } from './file-handles.js';

/** What InlineWrites needs of a DirtyPageWatch. */
export interface DirtyPages {
  nearThrottle(): boolean;
  noteWritten?(bytes: number): void;
}

export interface InlineWritesOptions {
  /** The largest write made in place (default 4 MiB: about a millisecond of copying). */
  readonly maxBytes?: number;
  /** Bytes written in place per turn of the event loop (default 16 MiB); later writes of the turn go to the pool. */
  readonly maxBytesPerTurn?: number;
  /** A write taking this long (default 10 ms) was made to wait by the kernel or the storage. */
  readonly slowWriteMs?: number;
  /** How long writes go to the pool after a slow one (default 1 s). */
  readonly pauseMs?: number;
  readonly maxPauseMs?: number;
  /** Default a DirtyPageWatch of /proc/vmstat; null for none. */
  readonly dirtyPages?: DirtyPages | null;
  /** Monotonic milliseconds (default performance.now). */
  readonly now?: () => number;
  /** Told when a slow write starts a pause. */
  readonly onPause?: (tookMs: number, bytes: number, pauseMs: number) => void;
}

export class InlineWrites {
  readonly #maxBytes: number;
  readonly #maxBytesPerTurn: number;
  readonly #slowWriteMs: number;
  readonly #pauseMs: number;
  readonly #maxPauseMs: number;
  readonly #dirtyPages: DirtyPages | undefined;
  readonly #now: () => number;
  readonly #onPause: ((tookMs: number, bytes: number, pauseMs: number) => void) | undefined;
  #turnBytes = 0;
  #pausedUntil = 0;
  #nextPauseMs: number;
  /** Writes made in place and handed to the pool since creation (operators and tests read these). */
  inlineCount = 0;
  pooledCount = 0;
  pauses = 0;

  constructor(opts: InlineWritesOptions = {}) {
    this.#maxBytes = opts.maxBytes ?? 4 * 1024 * 1024;
    this.#maxBytesPerTurn = Math.max(this.#maxBytes, opts.maxBytesPerTurn ?? 16 * 1024 * 1024);
    this.#slowWriteMs = opts.slowWriteMs ?? 10;
    this.#pauseMs = opts.pauseMs ?? 1_000;
    this.#maxPauseMs = Math.max(this.#pauseMs, opts.maxPauseMs ?? 60_000);
    this.#nextPauseMs = this.#pauseMs;
    this.#now = opts.now ?? (() => performance.now());
    this.#dirtyPages = opts.dirtyPages === null ? undefined : (opts.dirtyPages ?? new DirtyPageWatch({ now: this.#now }));
    this.#onPause = opts.onPause;
  }

  /** Whether a write of `bytes` would be made in place now. */
  allows(bytes: number): boolean {
    if (bytes > this.#maxBytes || this.#turnBytes + bytes > this.#maxBytesPerTurn) return false;
    if (this.#pausedUntil !== 0) {
      if (this.#now() < this.#pausedUntil) return false;
      this.#pausedUntil = 0;
    }
    return this.#dirtyPages?.nearThrottle() !== true;
  }

  /** Writes all of `length` bytes in place when `allows` says so, else from the thread pool. */
  async writeWhereAllowed(fd: number, buf: Buffer, offset: number, length: number, position: number): Promise<void> {
    if (this.allows(length)) {
      this.write(fd, buf, offset, length, position);
      return;
    }
    this.pooledCount++;
    this.#dirtyPages?.noteWritten?.(length);
    await writeFully(fd, buf, offset, length, position);
  }

  /** Writes all of `length` bytes in place (callers asked `allows` first) and times the write. */
  write(fd: number, buf: Buffer, offset: number, length: number, position: number): void {
    if (this.#turnBytes === 0) setImmediate(this.#endTurn);
    this.#turnBytes += length;
    const started = this.#now();
    writeFullyNow(fd, buf, offset, length, position);
    const ended = this.#now();
    const took = ended - started;
    this.inlineCount++;
    this.#dirtyPages?.noteWritten?.(length);
    if (took < this.#slowWriteMs) {
      this.#nextPauseMs = this.#pauseMs;
      return;
    }
    const pause = this.#nextPauseMs;
    this.#pausedUntil = ended + pause;
    this.#nextPauseMs = Math.min(this.#maxPauseMs, pause * 2);
    this.pauses++;
    this.#onPause?.(took, length, pause);
  }

  // The turn ends in the check phase, after the poll phase that ran the requests whose writes it counted.
  readonly #endTurn = (): void => {
    this.#turnBytes = 0;
  };
}

let shared: InlineWrites | undefined;

/** One gate for the logs opened without their own (a LogManager gives all of its logs one). */
export function sharedInlineWrites(): InlineWrites {
  shared ??= new InlineWrites();
  return shared;
}
