// Purgatory: requests that wait for a condition (a fetch for min.bytes, an acks=all produce for the ISR)
// until it holds or their time runs out, as Kafka's DelayedOperationPurgatory. Operations watch keys
// (partitions); whoever changes a partition calls checkAndComplete(key), which re-evaluates only the
// operations watching it. Conditions are checked synchronously; completion may start asynchronous work.

/** One waiting request. Subclasses decide when it may complete and what completing does. */
export abstract class DelayedOperation {
  readonly delayMs: number;
  #completed = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(delayMs: number) {
    this.delayMs = delayMs;
  }

  get isCompleted(): boolean {
    return this.#completed;
  }

  /** Checks the condition; when it holds, calls forceComplete() and returns true. */
  abstract tryComplete(): boolean;

  /** What completing does (answering the request). Runs exactly once. */
  protected abstract onComplete(): void;

  /** Called before onComplete when the operation completes because its time ran out. */
  protected onExpiration(): void {}

  /** Completes now unless already completed; true when this call completed it. */
  forceComplete(): boolean {
    if (this.#completed) return false;
    this.#completed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.onComplete();
    return true;
  }

  /** @internal The purgatory arms the expiry timer. */
  armTimer(onFire: () => void): void {
    if (this.#completed) return;
    this.#timer = setTimeout(() => {
      if (this.#completed) return;
      this.onExpiration();
      this.forceComplete();
      onFire();
    }, Math.max(0, this.delayMs));
  }
}

export class Purgatory<Op extends DelayedOperation = DelayedOperation> {
  readonly name: string;
  readonly #watchers = new Map<string, Set<Op>>();
  /** The keys each waiting operation watches. */
  readonly #keysOf = new Map<Op, readonly string[]>();

  constructor(name: string) {
    this.name = name;
  }

  /** Operations waiting (not yet completed). */
  get delayed(): number {
    return this.#keysOf.size;
  }

  /** Keys with at least one watcher (tests check that completed operations are forgotten). */
  get watchedKeys(): number {
    return this.#watchers.size;
  }

  /**
   * Completes `op` at once when it can; otherwise it waits, watching `keys`, until a checkAndComplete on
   * one of them lets it complete or its delay expires. Returns whether it completed at once.
   */
  tryCompleteElseWatch(op: Op, keys: readonly string[]): boolean {
    if (op.tryComplete()) return true;
    for (const key of keys) {
      let set = this.#watchers.get(key);
      if (set === undefined) {
        set = new Set();
        this.#watchers.set(key, set);
      }
      set.add(op);
    }
    this.#keysOf.set(op, keys);
    // A change between the first check and the watch registration would otherwise be missed.
    if (op.tryComplete()) {
      this.#forget(op);
      return true;
    }
    op.armTimer(() => this.#forget(op));
    return false;
  }

  /** Re-checks the operations watching `key`; returns how many completed. */
  checkAndComplete(key: string): number {
    const set = this.#watchers.get(key);
    if (set === undefined) return 0;
    let completed = 0;
    for (const op of [...set]) {
      if (op.isCompleted) {
        set.delete(op);
        continue;
      }
      if (op.tryComplete()) {
        completed++;
        this.#forget(op);
      }
    }
    if (set.size === 0) this.#watchers.delete(key);
    return completed;
  }

  /** Completes every waiting operation now (shutdown). */
  completeAll(): void {
    const all = new Set<Op>();
    for (const set of this.#watchers.values()) for (const op of set) all.add(op);
    this.#watchers.clear();
    this.#keysOf.clear();
    for (const op of all) op.forceComplete();
  }

  #forget(op: Op): void {
    const keys = this.#keysOf.get(op);
    if (keys === undefined) return;
    this.#keysOf.delete(op);
    for (const key of keys) {
      const set = this.#watchers.get(key);
      if (set === undefined) continue;
      set.delete(op);
      if (set.size === 0) this.#watchers.delete(key);
    }
  }
}
