// Caps the cleaner's I/O rate (`log.cleaner.io.max.bytes.per.second`). Like Kafka's Throttler it
// measures the bytes observed over a short window and, when the window's rate exceeds the cap, waits
// long enough that the window's average falls back to it. Time and waiting are injected so tests and the
// deterministic simulator need no real sleeps.
import type { Clock } from '../clock.js';

export interface ThrottlerOptions {
  /** Bytes per second; Infinity (the default of the broker config) disables throttling. */
  readonly maxBytesPerSecond: number;
  readonly clock: Clock;
  /** Resolves after `ms` milliseconds; the real one is a timer, tests advance a fake clock. */
  readonly sleep: (ms: number) => Promise<void>;
  /** How long a measuring window is; Kafka uses 300 ms. */
  readonly checkIntervalMs?: number;
}

export class Throttler {
  readonly #options: ThrottlerOptions;
  readonly #checkIntervalMs: number;
  #periodStart: number;
  #observedSoFar = 0;
  #totalSleptMs = 0;

  constructor(options: ThrottlerOptions) {
    if (!(options.maxBytesPerSecond > 0)) throw new RangeError('maxBytesPerSecond must be positive');
    this.#options = options;
    this.#checkIntervalMs = options.checkIntervalMs ?? 300;
    this.#periodStart = options.clock.now();
  }

  get enabled(): boolean {
    return Number.isFinite(this.#options.maxBytesPerSecond);
  }

  /** Total time this throttler has asked to wait, for statistics and tests. */
  get totalSleptMs(): number {
    return this.#totalSleptMs;
  }

  /** Accounts for `bytes` of I/O and waits if the rate over the current window is above the cap. */
  async maybeThrottle(bytes: number): Promise<void> {
    if (!this.enabled) return;
    this.#observedSoFar += bytes;
    const now = this.#options.clock.now();
    const elapsed = now - this.#periodStart;
    if (elapsed < this.#checkIntervalMs || this.#observedSoFar <= 0) return;
    const rate = (this.#observedSoFar * 1000) / Math.max(elapsed, 1);
    if (rate > this.#options.maxBytesPerSecond) {
      const desiredElapsed = (this.#observedSoFar * 1000) / this.#options.maxBytesPerSecond;
      const wait = Math.ceil(desiredElapsed - elapsed);
      if (wait > 0) {
        this.#totalSleptMs += wait;
        await this.#options.sleep(wait);
      }
    }
    this.#periodStart = this.#options.clock.now();
    this.#observedSoFar = 0;
  }
}
