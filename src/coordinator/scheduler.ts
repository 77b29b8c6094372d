// Time and timers as a dependency of the coordinators, so that session expiry, rebalance timeouts and
// offset expiry can be driven by hand in tests (and by a seeded simulator) instead of by the wall clock.

export interface TimerHandle {
  cancel(): void;
}

export interface Scheduler {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Runs `fn` once, `delayMs` from now, unless cancelled first. */
  schedule(delayMs: number, fn: () => void): TimerHandle;
}

export const systemScheduler: Scheduler = {
  now: () => Date.now(),
  schedule(delayMs, fn) {
    const t = setTimeout(fn, Math.max(0, delayMs));
    // A pending session timeout must not keep a stopping process alive.
    t.unref();
    return { cancel: () => clearTimeout(t) };
  },
};

interface ManualTask {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
  cancelled: boolean;
}

/**
 * A scheduler whose time moves only when the test says so. Due tasks run in deadline order (ties in
 * scheduling order), each at its own deadline, so a task scheduled by a task still fires within the same
 * `advance` if it falls due before the target time.
 */
export class ManualScheduler implements Scheduler {
  #now: number;
  #seq = 0;
  #tasks: ManualTask[] = [];

  constructor(start = 1_700_000_000_000) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  schedule(delayMs: number, fn: () => void): TimerHandle {
    const task: ManualTask = { at: this.#now + Math.max(0, delayMs), seq: this.#seq++, fn, cancelled: false };
    this.#tasks.push(task);
    return {
      cancel: () => {
        task.cancelled = true;
      },
    };
  }

  /** Moves time forward by `ms`, running every task that falls due on the way. */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (;;) {
      this.#tasks = this.#tasks.filter((t) => !t.cancelled);
      let next: ManualTask | undefined;
      for (const t of this.#tasks) {
        if (t.at <= target && (next === undefined || t.at < next.at || (t.at === next.at && t.seq < next.seq))) next = t;
      }
      if (next === undefined) break;
      this.#tasks.splice(this.#tasks.indexOf(next), 1);
      this.#now = Math.max(this.#now, next.at);
      next.fn();
    }
    this.#now = target;
  }

  /** Number of tasks scheduled and not yet run or cancelled. */
  get pending(): number {
    return this.#tasks.filter((t) => !t.cancelled).length;
  }
}
