// Which log to clean next, and the bookkeeping around cleaning (Kafka's LogCleanerManager): the
// `cleaner-offset-checkpoint` of each log dir (first dirty offset per partition), the cleanable range of
// a log (dirty ratio, min/max compaction lag, LSO, active segment), the "filthiest" log, and the
// per-partition state that lets the log layer abort or pause cleaning (truncation, deletion, moves).
import { dirname, join } from 'node:path';
import { CLEANER_OFFSET_CHECKPOINT_FILE, OffsetCheckpointFile } from '../checkpoint-file.js';
import type { Clock } from '../clock.js';
import { hasCompactPolicy, hasDeletePolicy } from '../log-config.js';
import type { CleanableLog, CleanerSegment } from './cleanable-log.js';
import { CleaningAbortedError } from './cleaner.js';

export interface CleanableOffsets {
  readonly firstDirtyOffset: number;
  /** The first offset that must not be cleaned (before rounding down to a segment base). */
  readonly firstUncleanableDirtyOffset: number;
  /** The checkpoint was out of range and has been reset to the log start. */
  readonly forceUpdateCheckpoint: boolean;
}

/** A log with its cleanable range measured (Kafka's LogToClean). */
export interface LogToClean {
  readonly log: CleanableLog;
  readonly firstDirtyOffset: number;
  /** Base offset of the segment holding the first uncleanable offset: cleaning stops before it. */
  readonly firstUncleanableOffset: number;
  readonly cleanBytes: number;
  readonly cleanableBytes: number;
  readonly totalBytes: number;
  readonly cleanableRatio: number;
  /** How far past max.compaction.lag.ms the earliest dirty record is (0 when it is not). */
  readonly maxCompactionDelayMs: number;
  readonly needCompactionNow: boolean;
}

type CleaningState = { kind: 'in-progress' } | { kind: 'aborted' } | { kind: 'paused'; count: number };

export class CleanerManager {
  readonly #clock: Clock;
  /** log dir → (partition key → first dirty offset), mirrored in each dir's checkpoint file. */
  readonly #checkpoints = new Map<string, Map<string, number>>();
  readonly #states = new Map<string, CleaningState>();
  readonly #waiters = new Map<string, (() => void)[]>();
  readonly #uncleanable = new Set<string>();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  static logDirOf(log: CleanableLog): string {
    return dirname(log.dir);
  }

  async #dirCheckpoints(logDir: string): Promise<Map<string, number>> {
    let map = this.#checkpoints.get(logDir);
    if (map === undefined) {
      map = await new OffsetCheckpointFile(join(logDir, CLEANER_OFFSET_CHECKPOINT_FILE)).read();
      const raced = this.#checkpoints.get(logDir);
      if (raced !== undefined) return raced;
      this.#checkpoints.set(logDir, map);
    }
    return map;
  }

  /** The checkpointed first dirty offset of `log`, if any. */
  async checkpointOf(log: CleanableLog): Promise<number | undefined> {
    return (await this.#dirCheckpoints(CleanerManager.logDirOf(log))).get(log.name);
  }

  /** Sets (or with undefined removes) the checkpoint of `log` and rewrites its dir's file. */
  async updateCheckpoint(log: CleanableLog, offset: number | undefined): Promise<void> {
    await this.updateCheckpointIn(CleanerManager.logDirOf(log), log.name, offset);
  }

  async updateCheckpointIn(logDir: string, name: string, offset: number | undefined): Promise<void> {
    const map = await this.#dirCheckpoints(logDir);
    if (offset === undefined) map.delete(name);
    else map.set(name, offset);
    await new OffsetCheckpointFile(join(logDir, CLEANER_OFFSET_CHECKPOINT_FILE)).write(map);
  }

  /** After a truncation below the checkpoint, the checkpoint follows (Kafka's maybeTruncateCheckpoint). */
  async maybeTruncateCheckpoint(log: CleanableLog, offset: number): Promise<void> {
    const current = await this.checkpointOf(log);
    if (current !== undefined && current > offset) await this.updateCheckpoint(log, offset);
  }

  /** The dirty range of `log` given its checkpoint (Kafka's cleanableOffsets). */
  async cleanableOffsets(log: CleanableLog, lastCleanOffset: number | undefined, now: number): Promise<CleanableOffsets> {
    const logStart = log.logStartOffset;
    const checkpoint = lastCleanOffset ?? logStart;
    let firstDirtyOffset = checkpoint;
    let forceUpdateCheckpoint = false;
    if (checkpoint < logStart || checkpoint > log.logEndOffset) {
      // Retention moved the start past it, or the log was truncated below it: restart from the start.
      firstDirtyOffset = logStart;
      forceUpdateCheckpoint = true;
    }
    const segments = log.segments();
    const active = segments[segments.length - 1]!;
    let firstUncleanable = Math.min(log.lastStableOffset, active.baseOffset);
    const lag = Math.max(log.config.minCompactionLagMs, 0);
    if (lag > 0) {
      for (const s of nonActiveSegmentsFrom(segments, firstDirtyOffset)) {
        if ((await s.largestTimestamp()) > now - lag) {
          firstUncleanable = Math.min(firstUncleanable, s.baseOffset);
          break;
        }
      }
    }
    return { firstDirtyOffset, firstUncleanableDirtyOffset: firstUncleanable, forceUpdateCheckpoint };
  }

  /** How long past max.compaction.lag.ms the earliest dirty segment's first batch is (Kafka's maxCompactionDelay). */
  async maxCompactionDelay(log: CleanableLog, firstDirtyOffset: number, now: number): Promise<number> {
    let earliest = Number.MAX_SAFE_INTEGER;
    for (const s of nonActiveSegmentsFrom(log.segments(), firstDirtyOffset)) {
      const ts = await s.firstBatchTimestamp();
      if (ts > 0 && ts < earliest) earliest = ts;
    }
    const cleanUntil = now - Math.max(log.config.maxCompactionLagMs, 0);
    return earliest < cleanUntil ? cleanUntil - earliest : 0;
  }

  /** Measures `log` for cleaning. */
  async measure(log: CleanableLog, now: number): Promise<LogToClean> {
    const offsets = await this.cleanableOffsets(log, await this.checkpointOf(log), now);
    if (offsets.forceUpdateCheckpoint) await this.updateCheckpoint(log, offsets.firstDirtyOffset);
    const delay = await this.maxCompactionDelay(log, offsets.firstDirtyOffset, now);
    return logToClean(log, offsets.firstDirtyOffset, offsets.firstUncleanableDirtyOffset, delay);
  }

  /**
   * The compacted log most in need of cleaning — the highest dirty ratio among those above
   * min.cleanable.dirty.ratio or past max.compaction.lag.ms — marked in progress; undefined if none.
   */
  async grabFilthiestCompactedLog(logs: Iterable<CleanableLog>): Promise<LogToClean | undefined> {
    const now = this.#clock.now();
    let filthiest: LogToClean | undefined;
    for (const log of logs) {
      if (!hasCompactPolicy(log.config) || this.#states.has(log.name) || this.#uncleanable.has(log.name)) continue;
      const ltc = await this.measure(log, now);
      if (ltc.totalBytes <= 0) continue;
      const cleanable = (ltc.needCompactionNow && ltc.cleanableBytes > 0) || ltc.cleanableRatio > log.config.minCleanableDirtyRatio;
      if (!cleanable) continue;
      // A log may have been claimed while we awaited its measurements.
      if (this.#states.has(log.name)) continue;
      if (filthiest === undefined || ltc.cleanableRatio > filthiest.cleanableRatio) filthiest = ltc;
    }
    // Another worker may have claimed it while this one was measuring the others.
    if (filthiest === undefined || this.#states.has(filthiest.log.name)) return undefined;
    this.#states.set(filthiest.log.name, { kind: 'in-progress' });
    return filthiest;
  }

  /** Logs with both compact and delete policies that are free now, marked in progress for retention. */
  deletableLogs(logs: Iterable<CleanableLog>): CleanableLog[] {
    const out: CleanableLog[] = [];
    for (const log of logs) {
      if (!hasCompactPolicy(log.config) || !hasDeletePolicy(log.config)) continue;
      if (this.#states.has(log.name) || this.#uncleanable.has(log.name)) continue;
      this.#states.set(log.name, { kind: 'in-progress' });
      out.push(log);
    }
    return out;
  }

  /** Throws CleaningAbortedError when cleaning of `name` was aborted; the cleaner calls it often. */
  checkCleaningAborted(name: string): void {
    if (this.#states.get(name)?.kind === 'aborted') throw new CleaningAbortedError(name);
  }

  /** Cleaning of `log` finished (or failed): store the new checkpoint and release the log. */
  async doneCleaning(log: CleanableLog, endOffset: number | undefined): Promise<void> {
    const state = this.#states.get(log.name);
    try {
      if (state?.kind === 'in-progress' && endOffset !== undefined) await this.updateCheckpoint(log, endOffset);
    } finally {
      this.#release(log.name, state);
    }
  }

  doneDeleting(logs: Iterable<CleanableLog>): void {
    for (const log of logs) this.#release(log.name, this.#states.get(log.name));
  }

  #release(name: string, state: CleaningState | undefined): void {
    if (state?.kind === 'aborted') this.#states.set(name, { kind: 'paused', count: 1 });
    else if (state?.kind === 'in-progress') this.#states.delete(name);
    const waiters = this.#waiters.get(name);
    this.#waiters.delete(name);
    for (const w of waiters ?? []) w();
  }

  /**
   * Stops any cleaning of `name` and keeps it from starting until resumeCleaning; resolves once no
   * clean of it is running. Pauses nest.
   */
  async abortAndPauseCleaning(name: string): Promise<void> {
    const state = this.#states.get(name);
    if (state === undefined) {
      this.#states.set(name, { kind: 'paused', count: 1 });
      return;
    }
    if (state.kind === 'paused') {
      state.count++;
      return;
    }
    const wasAborted = state.kind === 'aborted';
    this.#states.set(name, { kind: 'aborted' });
    await new Promise<void>((resolve) => {
      const list = this.#waiters.get(name) ?? [];
      list.push(resolve);
      this.#waiters.set(name, list);
    });
    // The release turned the abort into one pause; a second pauser adds its own.
    const after = this.#states.get(name);
    if (wasAborted && after?.kind === 'paused') after.count++;
  }

  /** Stops any cleaning of `name` (before the log is deleted); later cleaning is allowed again. */
  async abortCleaning(name: string): Promise<void> {
    await this.abortAndPauseCleaning(name);
    this.resumeCleaning(name);
  }

  resumeCleaning(name: string): void {
    const state = this.#states.get(name);
    if (state?.kind !== 'paused') return;
    if (state.count <= 1) this.#states.delete(name);
    else state.count--;
  }

  isPaused(name: string): boolean {
    return this.#states.get(name)?.kind === 'paused';
  }

  /** A log whose cleaning failed on bad data: skipped until it is deleted or resumed by hand. */
  markUncleanable(name: string): void {
    this.#uncleanable.add(name);
  }

  isUncleanable(name: string): boolean {
    return this.#uncleanable.has(name);
  }

  forget(name: string): void {
    this.#uncleanable.delete(name);
  }
}

function nonActiveSegmentsFrom(segments: readonly CleanerSegment[], offset: number): CleanerSegment[] {
  const out: CleanerSegment[] = [];
  for (let i = 0; i < segments.length - 1; i++) {
    const next = segments[i + 1]!.baseOffset;
    if (next > offset) out.push(segments[i]!);
  }
  return out;
}

/** Kafka's LogToClean: clean bytes before the dirty offset, cleanable bytes up to the first uncleanable segment. */
export function logToClean(log: CleanableLog, firstDirtyOffset: number, uncleanableOffset: number, maxCompactionDelayMs: number): LogToClean {
  const segments = log.segments();
  const active = segments[segments.length - 1]!;
  // The segment holding the uncleanable offset (or the active one) bounds the clean.
  let firstUncleanableOffset = active.baseOffset;
  for (let i = 0; i < segments.length - 1; i++) {
    const next = segments[i + 1]!.baseOffset;
    if (next > uncleanableOffset) {
      firstUncleanableOffset = segments[i]!.baseOffset;
      break;
    }
  }
  let cleanBytes = 0;
  let cleanableBytes = 0;
  const cleanableEnd = Math.max(firstDirtyOffset, firstUncleanableOffset);
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i]!;
    const next = segments[i + 1]?.baseOffset ?? Infinity;
    if (s.baseOffset < firstDirtyOffset) cleanBytes += s.size;
    // Segments overlapping [firstDirtyOffset, cleanableEnd), as Kafka's logSegments(from, to).
    if (cleanableEnd > firstDirtyOffset && s.baseOffset < cleanableEnd && next > firstDirtyOffset) cleanableBytes += s.size;
  }
  const totalBytes = cleanBytes + cleanableBytes;
  return {
    log,
    firstDirtyOffset,
    firstUncleanableOffset,
    cleanBytes,
    cleanableBytes,
    totalBytes,
    cleanableRatio: totalBytes === 0 ? 0 : cleanableBytes / totalBytes,
    maxCompactionDelayMs,
    needCompactionNow: maxCompactionDelayMs > 0,
  };
}
