// The background cleaner (Kafka's LogCleaner + CleanerThread): `threads` workers, each with its own
// offset map (the dedupe buffer split between them), repeatedly take the filthiest compacted log, clean
// it, run retention on logs that are both compacted and deleted, and back off when there is nothing to
// do. All of it behind an injectable clock and sleep, with pause/abort per partition for the log layer
// and a shutdown that waits for the running cleans to stop.
import type { Clock } from '../clock.js';
import type { CleanableLog } from './cleanable-log.js';
import { Cleaner, CleaningAbortedError, type CleanerStats } from './cleaner.js';
import { CleanerManager, type LogToClean } from './cleaner-manager.js';
import type { RecordsCodec } from './codec.js';
import { OffsetMap } from './offset-map.js';
import { Throttler } from './throttler.js';
import { isStrataError } from '../../protocol/strata-error.js';

/** The broker-level `log.cleaner.*` settings, with Kafka's defaults in DEFAULT_CLEANER_CONFIG. */
export interface CleanerConfig {
  /** log.cleaner.enable */
  readonly enable: boolean;
  /** log.cleaner.threads */
  readonly threads: number;
  /** log.cleaner.dedupe.buffer.size, split across the threads. */
  readonly dedupeBufferSize: number;
  /** log.cleaner.io.buffer.load.factor */
  readonly ioBufferLoadFactor: number;
  /** log.cleaner.io.buffer.size, split across the threads (half for reading, half for writing). */
  readonly ioBufferSize: number;
  /** log.cleaner.io.max.bytes.per.second (Infinity = unlimited, Kafka's Double.MaxValue). */
  readonly maxIoBytesPerSecond: number;
  /** log.cleaner.backoff.ms */
  readonly backoffMs: number;
}

export const DEFAULT_CLEANER_CONFIG: CleanerConfig = Object.freeze({
  enable: true,
  threads: 1,
  dedupeBufferSize: 134217728,
  ioBufferLoadFactor: 0.9,
  ioBufferSize: 524288,
  maxIoBytesPerSecond: Infinity,
  backoffMs: 15000,
});

export interface CleanerEvent {
  readonly log: string;
  readonly kind: 'cleaned' | 'aborted' | 'failed' | 'retention';
  readonly endOffset?: number;
  readonly stats?: CleanerStats;
  readonly error?: unknown;
}

export interface LogCleanerOptions {
  readonly config?: Partial<CleanerConfig>;
  /** The logs to consider, read afresh on every round. */
  readonly logs: () => Iterable<CleanableLog>;
  readonly clock: Clock;
  /** Resolves after `ms`, or earlier when `signal` aborts; defaults to a real timer. */
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Retention for logs with cleanup.policy=compact,delete (the log's own deleteOldSegments). */
  readonly deleteOldSegments?: (log: CleanableLog) => Promise<unknown>;
  readonly codec?: RecordsCodec;
  readonly onEvent?: (event: CleanerEvent) => void;
}

const realSleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

export class LogCleaner {
  readonly config: CleanerConfig;
  readonly manager: CleanerManager;
  readonly #options: LogCleanerOptions;
  readonly #sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly #workers: { cleaner: Cleaner; map: OffsetMap }[];
  #stop = new AbortController();
  #running: Promise<void>[] = [];

  constructor(options: LogCleanerOptions) {
    this.config = Object.freeze({ ...DEFAULT_CLEANER_CONFIG, ...options.config });
    this.#options = options;
    this.#sleep = options.sleep ?? realSleep;
    this.manager = new CleanerManager(options.clock);
    const threads = Math.max(1, this.config.threads);
    const throttler = new Throttler({
      maxBytesPerSecond: this.config.maxIoBytesPerSecond,
      clock: options.clock,
      sleep: (ms) => this.#sleep(ms, this.#stop.signal),
    });
    this.#workers = Array.from({ length: threads }, () => {
      const map = new OffsetMap({ memory: Math.floor(this.config.dedupeBufferSize / threads), loadFactor: this.config.ioBufferLoadFactor });
      const cleaner = new Cleaner({
        offsetMap: map,
        ioBufferSize: Math.floor(this.config.ioBufferSize / threads / 2),
        throttler,
        ...(options.codec ? { codec: options.codec } : {}),
      });
      return { cleaner, map };
    });
  }

  get isRunning(): boolean {
    return this.#running.length > 0;
  }

  /** Starts the workers (no-op when log.cleaner.enable is false or they already run). */
  start(): void {
    if (!this.config.enable || this.#running.length > 0) return;
    this.#stop = new AbortController();
    this.#running = this.#workers.map((_, i) => this.#loop(i));
  }

  /** Stops the workers: running cleans are aborted at their next check and the call waits for them. */
  async shutdown(): Promise<void> {
    this.#stop.abort();
    await Promise.allSettled(this.#running);
    this.#running = [];
  }

  async #loop(worker: number): Promise<void> {
    const signal = this.#stop.signal;
    while (!signal.aborted) {
      let cleaned = false;
      try {
        cleaned = await this.cleanOnce(worker);
      } catch (error) {
        this.#options.onEvent?.({ log: '', kind: 'failed', error });
      }
      if (!cleaned && !signal.aborted) await this.#sleep(this.config.backoffMs, signal);
    }
  }

  /**
   * One round of worker `worker`: cleans the filthiest log if one qualifies and runs retention on the
   * compact,delete logs. Returns whether a log was cleaned. Tests drive the cleaner with this.
   */
  async cleanOnce(worker = 0): Promise<boolean> {
    const { cleaner } = this.#workers[worker]!;
    const filthiest = await this.manager.grabFilthiestCompactedLog(this.#options.logs());
    let cleaned = false;
    if (filthiest !== undefined) {
      await this.#clean(cleaner, filthiest);
      cleaned = true;
    }
    const deletable = this.manager.deletableLogs(this.#options.logs());
    try {
      for (const log of deletable) {
        if (this.#options.deleteOldSegments) {
          await this.#options.deleteOldSegments(log);
          this.#options.onEvent?.({ log: log.name, kind: 'retention' });
        }
      }
    } finally {
      this.manager.doneDeleting(deletable);
    }
    return cleaned;
  }

  async #clean(cleaner: Cleaner, ltc: LogToClean): Promise<void> {
    const log = ltc.log;
    let endOffset: number | undefined;
    try {
      const result = await cleaner.clean(log, ltc.firstDirtyOffset, ltc.firstUncleanableOffset, this.#options.clock.now(), () => {
        if (this.#stop.signal.aborted) throw new CleaningAbortedError(log.name);
        this.manager.checkCleaningAborted(log.name);
      });
      endOffset = result.endOffset;
      this.#options.onEvent?.({ log: log.name, kind: 'cleaned', endOffset, stats: result.stats });
    } catch (error) {
      if (error instanceof CleaningAbortedError) {
        this.#options.onEvent?.({ log: log.name, kind: 'aborted' });
      } else {
        // Bad data (a corrupt batch, an undecodable record) would fail every round: stop trying this
        // log. Anything else (I/O, a closed log, segments changed under the clean) may pass; retry later.
        if (isBadData(error)) this.manager.markUncleanable(log.name);
        this.#options.onEvent?.({ log: log.name, kind: 'failed', error });
      }
    } finally {
      await this.manager.doneCleaning(log, endOffset);
    }
  }

  /** Stops cleaning of a partition until resumeCleaning (truncation, replica moves). */
  abortAndPauseCleaning(name: string): Promise<void> {
    return this.manager.abortAndPauseCleaning(name);
  }

  resumeCleaning(name: string): void {
    this.manager.resumeCleaning(name);
  }

  /** Stops cleaning of a partition that is being deleted. */
  abortCleaning(name: string): Promise<void> {
    return this.manager.abortCleaning(name);
  }
}

const isBadData = (e: unknown): boolean =>
  isStrataError(e, 'ERR_CORRUPT_RECORD') || isStrataError(e, 'ERR_COMPRESSION') || isStrataError(e, 'ERR_DECODE');
