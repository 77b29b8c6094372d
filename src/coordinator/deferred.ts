// A promise settled later by another operation (a JoinGroup that waits for the rest of the group).

export class Deferred<T> {
  readonly promise: Promise<T>;
  #resolve!: (v: T) => void;
  #reject!: (e: unknown) => void;
  #settled = false;

  constructor() {
    this.promise = new Promise<T>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    // The waiter attaches its handler only once the operation that created it is committed; a
    // rejection before then must not count as unhandled.
    this.promise.catch(() => undefined);
  }

  get settled(): boolean {
    return this.#settled;
  }

  resolve(v: T): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#resolve(v);
  }

  reject(e: unknown): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#reject(e);
  }
}
