// An in-memory CoordinatorLog for unit tests: offsets assigned in append order, commits either
// immediate or held until the test releases them, and appends that can be made to fail.
import { CoordinatorError } from '../../src/coordinator/errors.js';
import type { CoordinatorLog, CoordinatorRecord } from '../../src/coordinator/runtime.js';

export interface StoredRecord extends CoordinatorRecord {
  readonly offset: number;
}

interface PendingAppend {
  readonly lastOffset: number;
  readonly resolve: (offset: number) => void;
  readonly reject: (e: unknown) => void;
}

export class MemoryCoordinatorLog implements CoordinatorLog {
  readonly records: StoredRecord[] = [];
  /** When false, appends stay uncommitted until commit() or fail(). */
  autoCommit = true;
  /** When set, the next appends are refused with this Kafka error code. */
  failWith: number | undefined;
  appendCalls = 0;
  #pending: PendingAppend[] = [];

  append(records: readonly CoordinatorRecord[]): Promise<number> {
    this.appendCalls++;
    if (this.failWith !== undefined) return Promise.reject(new CoordinatorError(this.failWith));
    for (const r of records) {
      this.records.push({ offset: this.records.length, key: Buffer.from(r.key), value: r.value === null ? null : Buffer.from(r.value) });
    }
    const lastOffset = this.records.length - 1;
    if (this.autoCommit) return Promise.resolve(lastOffset);
    return new Promise((resolve, reject) => this.#pending.push({ lastOffset, resolve, reject }));
  }

  /** Commits every held append. */
  commit(): void {
    for (const p of this.#pending.splice(0)) p.resolve(p.lastOffset);
  }

  /** Fails every held append with a Kafka error code (as a lost leadership would). */
  fail(errorCode: number): void {
    for (const p of this.#pending.splice(0)) p.reject(new CoordinatorError(errorCode));
  }

  get pendingAppends(): number {
    return this.#pending.length;
  }

  async *replay(): AsyncIterable<CoordinatorRecord> {
    for (const r of this.records) yield { key: r.key, value: r.value };
  }
}

/** Lets every queued promise callback and I/O callback run. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

const PENDING = Symbol('pending');

/** The value of a settled promise, or PENDING; rejections are returned as the error. */
export async function peek<T>(p: Promise<T>): Promise<T | typeof PENDING | { rejected: unknown }> {
  let outcome: T | typeof PENDING | { rejected: unknown } = PENDING;
  p.then(
    (v) => (outcome = v),
    (e: unknown) => (outcome = { rejected: e }),
  );
  await settle();
  return outcome;
}

export const isPending = async (p: Promise<unknown>): Promise<boolean> => (await peek(p)) === PENDING;
