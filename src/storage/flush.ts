// Group commit for durable appends: an append waits until an fsync that started after its write
// completed has finished. While one fsync runs, later appends queue; when it ends, a single fsync
// covers everything written meanwhile and acknowledges all of them at once. Concurrent appenders
// therefore share fsyncs instead of paying one each.
/** How many event-loop turns an fsync may wait for more appends to complete. */
const MAX_GATHER_ROUNDS = 8;

interface Waiter {
  readonly offset: number;
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
}

export class GroupCommit {
  readonly #flush: (upTo: number) => Promise<void>;
  readonly #writtenUpTo: () => number;
  #durableUpTo: number;
  #running = false;
  #waiters: Waiter[] = [];
  /** fsyncs performed (a test/bench hook). */
  syncs = 0;

  /**
   * `flush(upTo)` makes every offset below `upTo` durable; `writtenUpTo()` is the end offset of
   * completed writes (the log end offset).
   */
  constructor(flush: (upTo: number) => Promise<void>, writtenUpTo: () => number, durableUpTo: number) {
    this.#flush = flush;
    this.#writtenUpTo = writtenUpTo;
    this.#durableUpTo = durableUpTo;
  }

  get durableUpTo(): number {
    return this.#durableUpTo;
  }

  /** Records that something else (a full flush) made offsets below `offset` durable. */
  markDurable(offset: number): void {
    if (offset > this.#durableUpTo) this.#durableUpTo = offset;
  }

  /** Resolves once every offset below `offset` is on disk. */
  waitFor(offset: number): Promise<void> {
    if (offset <= this.#durableUpTo) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.#waiters.push({ offset, resolve, reject });
      if (!this.#running) void this.#run();
    });
  }

  async #run(): Promise<void> {
    this.#running = true;
    try {
      while (this.#waiters.length > 0) {
        // Gather: while appends keep completing, let them join this fsync rather than the next one
        // (an fsync costs about the same for one append as for fifty, and slows writes while it runs).
        for (let i = 0; i < MAX_GATHER_ROUNDS; i++) {
          const before = this.#writtenUpTo();
          await new Promise<void>((resolve) => setImmediate(resolve));
          if (this.#writtenUpTo() === before) break;
        }
        const target = this.#writtenUpTo();
        try {
          await this.#flush(target);
          this.syncs++;
          this.markDurable(target);
        } catch (e) {
          const failed = this.#waiters;
          this.#waiters = [];
          for (const w of failed) w.reject(e);
          continue;
        }
        const still: Waiter[] = [];
        for (const w of this.#waiters) {
          if (w.offset <= this.#durableUpTo) w.resolve();
          else still.push(w);
        }
        this.#waiters = still;
      }
    } finally {
      this.#running = false;
    }
  }
}
