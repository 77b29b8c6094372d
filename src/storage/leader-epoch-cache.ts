// The leader epoch cache of a partition (Kafka's LeaderEpochFileCache): for each leader epoch, the
// first offset written in it, persisted to `<partition dir>/leader-epoch-checkpoint` in Kafka's
// checkpoint format (version 0, count, `epoch startOffset` lines).
//
// How the Log uses it:
// - `open(dir)` when the log is opened (loads the checkpoint; a missing file is an empty cache).
// - on every appended batch (leader, follower and recovery paths): `assign(batch.partitionLeaderEpoch,
//   batch.baseOffset)`. Most calls change nothing and return a resolved promise; a new epoch updates
//   memory at once and resolves when the checkpoint is on disk.
// - `truncateFromEnd(newLogEndOffset)` from truncateTo, `truncateFromStart(newLogStartOffset)` when the
//   log start offset moves (retention, DeleteRecords), `clear()` on truncateFullyAndStartAt.
// - `endOffsetFor(epoch, logEndOffset)` answers OffsetForLeaderEpoch; `epochForOffset` serves
//   ListOffsets / fetch-epoch checks.
// Every mutation updates memory synchronously (so readers see it immediately) and then rewrites the
// file atomically; writes are queued in order, so the file always ends equal to the last state.
import { join } from 'node:path';
import { StrataError } from '../protocol/strata-error.js';
import type { AtomicWriteOptions } from './atomic-file.js';
import { CheckpointFile, parseInt32, parseInt64, type CheckpointFormatter } from './checkpoint-file.js';

export const LEADER_EPOCH_CHECKPOINT_FILE = 'leader-epoch-checkpoint';
export const LEADER_EPOCH_CHECKPOINT_VERSION = 0;
export const UNDEFINED_EPOCH = -1;
export const UNDEFINED_EPOCH_OFFSET = -1;

export interface EpochEntry {
  readonly epoch: number;
  readonly startOffset: number;
}

export interface EpochEndOffset {
  readonly epoch: number;
  readonly endOffset: number;
}

export const epochEntryFormatter: CheckpointFormatter<EpochEntry> = {
  toLine: (e) => `${e.epoch} ${e.startOffset}`,
  fromLine: (line) => {
    const parts = line.split(/\s+/);
    if (parts.length !== 2) return undefined;
    const epoch = parseInt32(parts[0]!);
    const startOffset = parseInt64(parts[1]!);
    if (epoch === undefined || startOffset === undefined || epoch < 0 || startOffset < 0) return undefined;
    return { epoch, startOffset };
  },
};

export class LeaderEpochFileCache {
  /** Sorted by epoch; start offsets increase with it. */
  #entries: EpochEntry[] = [];
  readonly #file: CheckpointFile<EpochEntry> | undefined;
  readonly #writeOptions: AtomicWriteOptions;

  /**
   * `path` undefined keeps the cache in memory only (e.g. a view built for a remote segment).
   * `entries` are applied through `assign`'s rules, as when loading the checkpoint.
   */
  constructor(path: string | undefined, entries: readonly EpochEntry[] = [], writeOptions: AtomicWriteOptions = {}) {
    this.#file = path === undefined ? undefined : new CheckpointFile(path, LEADER_EPOCH_CHECKPOINT_VERSION, epochEntryFormatter);
    this.#writeOptions = writeOptions;
    for (const e of entries) this.#assign(e.epoch, e.startOffset);
  }

  /** Loads `<dir>/leader-epoch-checkpoint` (missing → empty). A file that does not parse throws `ERR_CORRUPT_FILE`. */
  static async open(dir: string, writeOptions: AtomicWriteOptions = {}): Promise<LeaderEpochFileCache> {
    const path = join(dir, LEADER_EPOCH_CHECKPOINT_FILE);
    const entries = await new CheckpointFile(path, LEADER_EPOCH_CHECKPOINT_VERSION, epochEntryFormatter).read();
    return new LeaderEpochFileCache(path, entries, writeOptions);
  }

  get path(): string | undefined {
    return this.#file?.path;
  }

  /** A copy of the entries, oldest epoch first. */
  entries(): EpochEntry[] {
    return [...this.#entries];
  }

  get isEmpty(): boolean {
    return this.#entries.length === 0;
  }

  latestEntry(): EpochEntry | undefined {
    return this.#entries[this.#entries.length - 1];
  }

  earliestEntry(): EpochEntry | undefined {
    return this.#entries[0];
  }

  /** The latest epoch, or undefined when no epoch is known. */
  latestEpoch(): number | undefined {
    return this.latestEntry()?.epoch;
  }

  /** The epoch before the latest one, if any. */
  previousEpoch(): number | undefined {
    return this.#entries[this.#entries.length - 2]?.epoch;
  }

  epochEntry(epoch: number): EpochEntry | undefined {
    return this.#entries.find((e) => e.epoch === epoch);
  }

  /** The smallest known epoch larger than `epoch`. */
  nextEpoch(epoch: number): number | undefined {
    return this.#entries.find((e) => e.epoch > epoch)?.epoch;
  }

  /** Whether `assign(epoch, startOffset)` would change anything: the cheap check for the append path. */
  isUpdateNeeded(epoch: number, startOffset: number): boolean {
    const last = this.latestEntry();
    return last === undefined || epoch !== last.epoch || startOffset < last.startOffset;
  }

  /**
   * Records that `epoch` starts at `startOffset`. A repeat of the latest epoch at a later offset is a
   * no-op. Otherwise entries whose epoch or start offset is not below the new one are dropped first
   * (Kafka's rule: the new entry must be the largest in both), then the entry is added and the file
   * rewritten. Resolves to whether the cache changed.
   */
  async assign(epoch: number, startOffset: number): Promise<boolean> {
    if (!this.#assign(epoch, startOffset)) return false;
    await this.#persist();
    return true;
  }

  /** Assigns several entries (in order) with one file write. */
  async assignAll(entries: readonly EpochEntry[]): Promise<boolean> {
    let changed = false;
    for (const e of entries) changed = this.#assign(e.epoch, e.startOffset) || changed;
    if (changed) await this.#persist();
    return changed;
  }

  #assign(epoch: number, startOffset: number): boolean {
    if (!Number.isInteger(epoch) || !Number.isInteger(startOffset) || epoch < 0 || startOffset < 0) {
      throw new StrataError('ERR_STATE', `invalid leader epoch entry (epoch ${epoch}, start offset ${startOffset})`);
    }
    if (!this.isUpdateNeeded(epoch, startOffset)) return false;
    let keep = this.#entries.length;
    while (keep > 0) {
      const e = this.#entries[keep - 1]!;
      if (e.epoch < epoch && e.startOffset < startOffset) break;
      keep--;
    }
    this.#entries.length = keep;
    this.#entries.push({ epoch, startOffset });
    return true;
  }

  /**
   * The epoch of the data at `offset`: the epoch of the last entry starting at or before it.
   * Undefined when `offset` is before the earliest entry or the cache is empty.
   */
  epochForOffset(offset: number): number | undefined {
    let found: number | undefined;
    for (const e of this.#entries) {
      if (e.startOffset > offset) break;
      found = e.epoch;
    }
    return found;
  }

  /**
   * OffsetForLeaderEpoch: the largest epoch ≤ `requestedEpoch` and the offset where the next higher
   * epoch starts (the log end offset when `requestedEpoch` is the latest epoch).
   * - undefined epoch (-1) or an epoch above every known one → (-1, -1);
   * - requested = latest → (latest, logEndOffset);
   * - requested below every known epoch → (requested, start of the first epoch): the history is gone,
   *   and the follower must start from what the leader still has;
   * - otherwise → (largest epoch ≤ requested, start offset of the smallest epoch > requested).
   */
  endOffsetFor(requestedEpoch: number, logEndOffset: number): EpochEndOffset {
    const undefinedResult = { epoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_EPOCH_OFFSET };
    if (requestedEpoch === UNDEFINED_EPOCH) return undefinedResult;
    const latest = this.latestEpoch();
    if (latest !== undefined && latest === requestedEpoch) return { epoch: requestedEpoch, endOffset: logEndOffset };
    const higher = this.#entries.find((e) => e.epoch > requestedEpoch);
    if (higher === undefined) return undefinedResult;
    let floor: EpochEntry | undefined;
    for (const e of this.#entries) {
      if (e.epoch > requestedEpoch) break;
      floor = e;
    }
    if (floor === undefined) return { epoch: requestedEpoch, endOffset: higher.startOffset };
    return { epoch: floor.epoch, endOffset: higher.startOffset };
  }

  /**
   * Removes entries starting at or after `endOffset` (the log was truncated to end there). A
   * negative `endOffset`, or one past the latest entry's start, changes nothing.
   */
  async truncateFromEnd(endOffset: number): Promise<boolean> {
    const last = this.latestEntry();
    if (endOffset < 0 || last === undefined || last.startOffset < endOffset) return false;
    let keep = this.#entries.length;
    while (keep > 0 && this.#entries[keep - 1]!.startOffset >= endOffset) keep--;
    this.#entries.length = keep;
    await this.#persist();
    return true;
  }

  /**
   * The log start offset moved to `startOffset`: entries starting at or before it are removed and the
   * last of them is kept, moved up to start at `startOffset` (its epoch still covers the new first offset).
   */
  async truncateFromStart(startOffset: number): Promise<boolean> {
    let removed = 0;
    while (removed < this.#entries.length && this.#entries[removed]!.startOffset <= startOffset) removed++;
    if (removed === 0) return false;
    const firstBefore = this.#entries[removed - 1]!;
    this.#entries = [{ epoch: firstBefore.epoch, startOffset }, ...this.#entries.slice(removed)];
    await this.#persist();
    return true;
  }

  /** Forgets every entry (the log was emptied). */
  async clear(): Promise<void> {
    this.#entries = [];
    await this.#persist();
  }

  /** Rewrites the checkpoint with the current entries. */
  flush(): Promise<void> {
    return this.#persist();
  }

  #persist(): Promise<void> {
    if (this.#file === undefined) return Promise.resolve();
    return this.#file.write(this.#entries.slice(), this.#writeOptions);
  }
}
