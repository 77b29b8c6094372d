// One partition's log: segments, offset assignment, reads, roll, truncation, log start offset,
// retention, flushing and recovery, in Kafka's UnifiedLog/LocalLog semantics.
//
// Concurrency: every mutation (append, roll, truncate, retention, close) runs on one promise chain,
// because offset assignment must be atomic. Reads do not take it: they see the state at call time
// and only bytes whose write completed. Durable appends wait for a group-commit fsync after leaving
// the chain, so concurrent appenders share fsyncs.
import fs from 'node:fs/promises';
import path from 'node:path';
import {
  ATTRIBUTES_OFFSET,
  isControl,
  isLogAppendTime,
  LAST_OFFSET_DELTA_OFFSET,
  LENGTH_OFFSET,
  LOG_OVERHEAD,
  MAX_TIMESTAMP_OFFSET,
  NO_PARTITION_LEADER_EPOCH,
  NO_TIMESTAMP,
  PARTITION_LEADER_EPOCH_OFFSET,
  patchBaseOffset,
  patchLogAppendTime,
  patchPartitionLeaderEpoch,
  PRODUCER_ID_OFFSET,
  readInt64,
  RECORD_BATCH_OVERHEAD,
  RECORDS_COUNT_OFFSET,
} from '../protocol/records/batch-header.js';
import { sharedBufferPool } from '../protocol/buffer-pool.js';
import { StrataError } from '../protocol/strata-error.js';
import { batchProblem, scanBatches } from './batch-scan.js';
import { commitCleanedSegment, completeSwap } from './cleaner/segment-swap.js';
import { type Clock, systemClock } from './clock.js';
import { FileHandlePool, fsyncDir } from './file-handles.js';
import { type InlineWrites, sharedInlineWrites } from './inline-writes.js';
import { GroupCommit } from './flush.js';
import type { TailCache } from './tail-cache.js';
import { IndexLru } from './index-file.js';
import { LEADER_EPOCH_CHECKPOINT_FILE, LeaderEpochFileCache } from './leader-epoch-cache.js';
import { hasDeletePolicy, type LogConfig } from './log-config.js';
import { isIoFailure, isLogError, LogError } from './log-errors.js';
import type { LogSegments } from './log-segments.js';
import {
  abortedTxnOf,
  AppendOrigin,
  batchMetadataFirstOffset,
  type CompletedTxnWithLso,
  type ProducerAppendAnalysis,
  producerBatchAt,
  type ProducerStateEntry,
  ProducerStateError,
  ProducerStateManager,
  type VerificationGuard,
} from './producer-state.js';
import { loadSegments, type RecoveryReport } from './recovery.js';
import {
  type DeletionPredicate,
  type DeletionReason,
  deletableSegments,
  logStartOffsetBreached,
  retentionMsBreached,
  retentionSizeBreached,
} from './retention.js';
import {
  DELETED_FILE_SUFFIX,
  INDEX_FILE_SUFFIX,
  LOG_FILE_SUFFIX,
  LogSegment,
  type RecoveredBatch,
  type SegmentContext,
  type SegmentRead,
  segmentFilePath,
  TIME_INDEX_FILE_SUFFIX,
} from './segment.js';
import type { AbortedTxn } from './txn-index.js';

/** A pino-compatible subset: storage logs a line when it repairs or deletes something. */
export interface StorageLogger {
  info(msg: string): void;
  warn(msg: string): void;
}

const silentLogger: StorageLogger = { info: () => undefined, warn: () => undefined };

export interface LogOpenOptions {
  readonly dir: string;
  readonly config: LogConfig;
  readonly clock?: Clock;
  readonly pool?: FileHandlePool;
  /** Which appends are written on the event loop (default one gate shared by such logs). */
  readonly inlineWrites?: InlineWrites;
  readonly indexLru?: IndexLru;
  /** Shared memory for recently appended bytes (see tail-cache.ts); none when absent. */
  readonly tailCache?: TailCache;
  /** Whether the log dir was shut down cleanly (the `.kafka_cleanshutdown` marker was present). */
  readonly cleanShutdown?: boolean;
  /** From `recovery-point-offset-checkpoint`: everything below it was flushed. */
  readonly recoveryPoint?: number;
  /** From `log-start-offset-checkpoint`. */
  readonly logStartOffset?: number;
  readonly logger?: StorageLogger;
  readonly random?: () => number;
  /** Called once when an I/O error takes this log offline (the LogManager fails the whole dir). */
  readonly onIoError?: (log: Log, error: unknown) => void;
  /** `producer.id.expiration.ms` (default 86400000). */
  readonly producerIdExpirationMs?: number;
}

export { AppendOrigin };

export interface AppendOptions {
  /** 'replication' keeps the batches' offsets (follower path); the others assign offsets (leader path). */
  readonly origin?: AppendOrigin;
  /** The leader epoch stamped into each batch on the leader path. */
  readonly leaderEpoch?: number;
  /** Check each batch's CRC (default true; the produce path may already have). */
  readonly verifyCrc?: boolean;
  /**
   * KIP-890: the guard `producerState.maybeStartTransactionVerification` handed out before the
   * coordinator was asked; a transactional batch starting a transaction is refused unless it is still current.
   */
  readonly verificationGuard?: VerificationGuard;
}

export interface AppendResult {
  readonly firstOffset: number;
  readonly lastOffset: number;
  readonly maxTimestamp: number;
  readonly offsetOfMaxTimestamp: number;
  /** The broker time stamped on the batches, or -1 for CreateTime. */
  readonly logAppendTime: number;
  readonly logStartOffset: number;
  readonly recordCount: number;
  /** A retry of an already appended idempotent batch: nothing was written, the original offsets are returned. */
  readonly duplicate: boolean;
}

export interface ReadOptions {
  /** Exclusive offset limit: the high watermark, last stable offset or log end offset (default LEO). */
  readonly upperBound?: number;
  /** Return the first batch whole even when it is larger than maxBytes. */
  readonly minOneMessage?: boolean;
  /** Also collect the aborted transactions overlapping the returned range (read_committed). */
  readonly includeAbortedTransactions?: boolean;
  /**
   * Read into this buffer when it is large enough (the records returned are views of it), instead of
   * a fresh allocation: for callers that recycle buffers once the bytes are sent.
   */
  readonly buffer?: Buffer;
}

export interface LogReadResult {
  /** Whole batches; one Buffer per contiguous file range. */
  readonly records: Buffer[];
  readonly sizeInBytes: number;
  readonly highWatermark: number;
  readonly logStartOffset: number;
  readonly lastStableOffset: number;
  readonly logEndOffset: number;
  /** Base offset of the first batch returned, or -1 when none. */
  readonly firstEntryOffset: number;
  readonly abortedTransactions?: AbortedTxn[];
}

/** The log's state as every read reports it. */
type LogReadState = Pick<LogReadResult, 'highWatermark' | 'logStartOffset' | 'lastStableOffset' | 'logEndOffset'>;

function readResult(r: SegmentRead, base: LogReadState, aborted: AbortedTxn[] | undefined): LogReadResult {
  return {
    records: r.records.length > 0 ? [r.records] : [],
    sizeInBytes: r.records.length,
    ...base,
    firstEntryOffset: r.records.length > 0 ? r.firstBatchOffset : -1,
    ...(aborted ? { abortedTransactions: aborted } : {}),
  };
}

export const ListOffsetsTimestamp = {
  LATEST: -1,
  EARLIEST: -2,
  MAX_TIMESTAMP: -3,
  EARLIEST_LOCAL: -4,
  LATEST_TIERED: -5,
} as const;

export interface TimestampAndOffset {
  readonly timestamp: number;
  readonly offset: number;
  /** The leader epoch of the batch holding the offset, when known. */
  readonly leaderEpoch?: number;
}

interface PendingDeletion {
  readonly segment: LogSegment;
  /** The segment's producer snapshot, renamed `.deleted` with it. */
  readonly snapshot: string | undefined;
  readonly due: number;
}

interface AnalyzedBatch {
  readonly at: number;
  readonly size: number;
}

/** What an append decided before writing (see #stage). */
interface StagedAppend {
  readonly now: number;
  readonly logAppendTime: number;
  readonly firstOffset: number;
  readonly lastOffset: number;
  readonly maxTimestamp: number;
  readonly offsetOfMaxTimestamp: number;
  readonly recordCount: number;
  readonly analysis: ProducerAppendAnalysis | undefined;
}

export class Log {
  readonly dir: string;
  readonly recoveryReport: RecoveryReport;
  #config: LogConfig;
  readonly #clock: Clock;
  readonly #ctx: SegmentContext;
  readonly #segments: LogSegments;
  readonly #logger: StorageLogger;
  readonly #onIoError: ((log: Log, error: unknown) => void) | undefined;
  readonly #epochCache: LeaderEpochFileCache;
  readonly #groupCommit: GroupCommit;
  readonly #producerState: ProducerStateManager;
  #logEndOffset: number;
  #logStartOffset: number;
  #highWatermark: number;
  #recoveryPoint: number;
  #lastFlushTime: number;
  #dirNeedsSync = false;
  #chain: Promise<unknown> = Promise.resolve();
  /** Operations queued on or running in #chain; appendNow runs only when there are none. */
  #exclusivePending = 0;
  #pendingDeletions: PendingDeletion[] = [];
  #failure: unknown;
  #closed = false;

  private constructor(opts: LogOpenOptions, ctx: SegmentContext, segments: LogSegments, logEndOffset: number,
    logStartOffset: number, report: RecoveryReport, epochCache: LeaderEpochFileCache, producerState: ProducerStateManager) {
    this.dir = opts.dir;
    this.#config = opts.config;
    this.#clock = ctx.clock;
    this.#ctx = ctx;
    this.#segments = segments;
    this.#logger = opts.logger ?? silentLogger;
    this.#onIoError = opts.onIoError;
    this.#epochCache = epochCache;
    this.#producerState = producerState;
    this.recoveryReport = report;
    this.#logEndOffset = logEndOffset;
    this.#logStartOffset = logStartOffset;
    this.#highWatermark = Math.min(this.#logStartOffset, logEndOffset);
    // After a clean shutdown everything up to the end was flushed; after recovery everything
    // scanned is known good (and will be flushed before the recovery point moves past it again).
    this.#recoveryPoint = report.cleanShutdown ? logEndOffset : Math.min(opts.recoveryPoint ?? 0, logEndOffset);
    this.#lastFlushTime = ctx.clock.now();
    this.#groupCommit = new GroupCommit((upTo) => this.flush(upTo), () => this.#logEndOffset, this.#recoveryPoint);
  }

  static async open(opts: LogOpenOptions): Promise<Log> {
    const clock = opts.clock ?? systemClock;
    const logger = opts.logger ?? silentLogger;
    const ctx: SegmentContext = {
      pool: opts.pool ?? new FileHandlePool(),
      inlineWrites: opts.inlineWrites ?? sharedInlineWrites(),
      clock,
      config: opts.config,
      indexLru: opts.indexLru ?? new IndexLru(),
      ...(opts.tailCache ? { tailCache: opts.tailCache } : {}),
      ...(opts.random ? { random: opts.random } : {}),
      onIndexRebuilt: (seg, reason) => logger.warn(`rebuilt indexes of ${seg.logPath}: ${reason}`),
    };
    const latestEpochs: { epoch: number; startOffset: number }[] = [];
    const onRecoveredBatch = (b: RecoveredBatch): void => {
      const epoch = b.buf.readInt32BE(b.at + PARTITION_LEADER_EPOCH_OFFSET);
      const latest = latestEpochs[latestEpochs.length - 1]?.epoch ?? -1;
      if (epoch >= 0 && epoch > latest) latestEpochs.push({ epoch, startOffset: b.baseOffset });
    };
    const loaded = await loadSegments(opts.dir, ctx, {
      cleanShutdown: opts.cleanShutdown ?? false,
      recoveryPoint: opts.recoveryPoint ?? 0,
      logStartOffset: opts.logStartOffset ?? 0,
      onRecoveredBatch,
    });
    const report = loaded.report;
    for (const line of report.problems) logger.warn(`recovery: ${line}`);
    if (!report.cleanShutdown) {
      logger.info(`recovered ${opts.dir}: scanned ${report.segmentsScanned} segments (${report.batchesScanned} batches) from ` +
        `offset ${report.recoveryPoint}, truncated ${report.bytesTruncated} bytes, log end offset ${report.logEndOffset}`);
    }
    // Opening a missing checkpoint costs a failed open per partition: the listing says whether it exists.
    const epochCache = loaded.fileNames.includes(LEADER_EPOCH_CHECKPOINT_FILE)
      ? await LeaderEpochFileCache.open(opts.dir)
      : new LeaderEpochFileCache(path.join(opts.dir, LEADER_EPOCH_CHECKPOINT_FILE), []);
    const known = epochCache.latestEpoch() ?? -1;
    const recoveredEpochs = latestEpochs.filter((e) => e.epoch > known);
    if (recoveredEpochs.length > 0) await epochCache.assignAll(recoveredEpochs);
    await epochCache.truncateFromEnd(loaded.logEndOffset);
    const logEndOffset = loaded.logEndOffset;
    const logStartOffset = Math.min(Math.max(opts.logStartOffset ?? 0, loaded.segments.first()!.baseOffset), logEndOffset);
    await epochCache.truncateFromStart(logStartOffset);

    // Producer state: the latest snapshot at or below the first recovered segment (or the end after a
    // clean shutdown), then a replay of the batches after it; recovered segments get their txn index back.
    const producerState = await ProducerStateManager.open(opts.dir, {
      clock,
      partitionName: opts.dir,
      ...(opts.producerIdExpirationMs !== undefined ? { producerIdExpirationMs: opts.producerIdExpirationMs } : {}),
      onCorruptSnapshot: (e) => logger.warn(`ignored corrupt producer snapshot: ${e.message}`),
    }, loaded.fileNames);
    // Stray snapshots come from crashes; a clean shutdown leaves none beyond the one at its end.
    if (!report.cleanShutdown) await producerState.removeStraySnapshots(loaded.segments.all().map((seg) => seg.baseOffset));
    const reloadTo = Math.min(logEndOffset, ...loaded.recovered.map((seg) => seg.baseOffset));
    await producerState.truncateAndReload(logStartOffset, reloadTo);
    await replayProducerState(producerState, loaded.segments, ctx, logEndOffset, new Set(loaded.recovered));
    const log = new Log(opts, ctx, loaded.segments, logEndOffset, logStartOffset, report, epochCache, producerState);
    if (loaded.created) {
      // A new partition: its directory entry must be durable before any durable append is acknowledged,
      // and the first segment's entries in it (synced with the next flush).
      await fsyncDir(path.dirname(opts.dir));
      log.#dirNeedsSync = true;
    }
    return log;
  }

  // ------------------------------------------------------------------------------------------------
  // State

  get config(): LogConfig {
    return this.#config;
  }

  /** New topic configs apply to later appends and segments (a segment keeps its roll jitter). */
  updateConfig(config: LogConfig): void {
    this.#config = config;
    (this.#ctx as { config: LogConfig }).config = config;
  }

  get logEndOffset(): number {
    return this.#logEndOffset;
  }

  get logStartOffset(): number {
    return this.#logStartOffset;
  }

  /** The first offset still on local disk (equal to the log start offset until tiered storage). */
  get localLogStartOffset(): number {
    return this.#segments.first()?.baseOffset ?? this.#logStartOffset;
  }

  get highWatermark(): number {
    return this.#highWatermark;
  }

  /** The replication layer moves the high watermark; it is kept within [log start, LEO]. */
  updateHighWatermark(offset: number): number {
    this.#highWatermark = Math.min(Math.max(offset, this.#logStartOffset), this.#logEndOffset);
    this.#producerState.onHighWatermarkUpdated(this.#highWatermark);
    return this.#highWatermark;
  }

  /** First offset of the earliest open transaction, bounded by the high watermark. */
  get lastStableOffset(): number {
    const unstable = this.#producerState.firstUnstableOffset();
    return unstable === undefined ? this.#highWatermark : Math.min(unstable, this.#highWatermark);
  }

  get recoveryPoint(): number {
    return this.#recoveryPoint;
  }

  get producerState(): ProducerStateManager {
    return this.#producerState;
  }

  /** Forgets producers idle for producer.id.expiration.ms (the LogManager calls this on a timer). */
  removeExpiredProducers(now = this.#clock.now()): number[] {
    return this.#producerState.removeExpiredProducers(now);
  }

  get leaderEpochCache(): LeaderEpochFileCache {
    return this.#epochCache;
  }

  /** Segments in offset order (read-only view for the cleaner, tiered storage and tests). */
  get segments(): readonly LogSegment[] {
    return this.#segments.all();
  }

  get size(): number {
    return this.#segments.sizeInBytes();
  }

  get isOffline(): boolean {
    return this.#failure !== undefined;
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  /** fsyncs performed by group commit (durable mode). */
  get groupCommitSyncs(): number {
    return this.#groupCommit.syncs;
  }

  // ------------------------------------------------------------------------------------------------
  // Append

  /**
   * Appends complete RecordBatch v2 batches. On the leader path offsets are assigned by patching each
   * batch's baseOffset in place (the caller hands the buffer over), the leader epoch is stamped, and
   * LogAppendTime is applied when configured. On the replication path offsets are kept and must
   * follow the log end offset.
   */
  async append(records: Buffer, opts: AppendOptions = {}): Promise<AppendResult> {
    this.#checkUsable();
    const batches = this.#analyze(records, opts);
    const result = this.#appendNow(records, batches, opts) ?? (await this.#exclusive(() => this.#appendLocked(records, batches, opts)));
    if (this.#config.durableAppend && !result.duplicate) {
      await this.#guard(() => this.#groupCommit.waitFor(result.lastOffset + 1));
    }
    return result;
  }

  /**
   * append() within this call when nothing has to wait (see #appendNow; never for durable appends);
   * undefined, having appended nothing, otherwise. Throws what append would for records it refuses.
   */
  appendNow(records: Buffer, opts: AppendOptions = {}): AppendResult | undefined {
    this.#checkUsable();
    if (!this.mayAppendNow(records.length)) return undefined;
    return this.#appendNow(records, this.#analyze(records, opts), opts);
  }

  /**
   * Whether appendNow could take `bytes` as things stand (it may still decline, e.g. for a roll): callers
   * ask before doing work of their own that the asynchronous path would do again.
   */
  mayAppendNow(bytes: number): boolean {
    if (this.#failure !== undefined || this.#closed || this.#config.durableAppend || this.#exclusivePending > 0) return false;
    return this.#segments.active().canAppendNow(bytes);
  }

  /** Structure and CRC of every batch; runs before taking the append chain. */
  #analyze(records: Buffer, opts: AppendOptions): AnalyzedBatch[] {
    const verifyCrc = opts.verifyCrc ?? true;
    // Followers take what their leader accepted: max.message.bytes is a produce-time limit (as Kafka).
    const checkRecordSize = opts.origin !== AppendOrigin.replication;
    const batches: AnalyzedBatch[] = [];
    let at = 0;
    while (at < records.length) {
      if (records.length - at < RECORD_BATCH_OVERHEAD) {
        throw new LogError('CORRUPT_MESSAGE', `${records.length - at} trailing bytes are not a record batch`);
      }
      const size = LOG_OVERHEAD + records.readInt32BE(at + LENGTH_OFFSET);
      if (size < RECORD_BATCH_OVERHEAD || at + size > records.length) {
        throw new LogError('CORRUPT_MESSAGE', `record batch at ${at} declares ${size} bytes, ${records.length - at} present`);
      }
      const problem = batchProblem(records, at, size, verifyCrc);
      if (problem !== undefined) throw new LogError('CORRUPT_MESSAGE', `record batch at ${at}: ${problem}`);
      if (checkRecordSize && size > this.#config.maxMessageBytes) {
        throw new LogError('RECORD_TOO_LARGE', `record batch of ${size} bytes exceeds max.message.bytes ${this.#config.maxMessageBytes}`);
      }
      batches.push({ at, size });
      at += size;
    }
    if (batches.length === 0) throw new LogError('CORRUPT_MESSAGE', 'an append must hold at least one record batch');
    if (records.length > this.#config.segmentBytes) {
      throw new LogError('RECORD_BATCH_TOO_LARGE',
        `append of ${records.length} bytes exceeds the maximum segment size ${this.#config.segmentBytes}`);
    }
    return batches;
  }

  async #appendLocked(records: Buffer, batches: AnalyzedBatch[], opts: AppendOptions): Promise<AppendResult> {
    this.#checkUsable();
    const staged = this.#stage(records, batches, opts);
    if (staged.analysis?.duplicate) return this.#duplicateResult(staged.analysis.duplicate);
    const { lastOffset } = staged;
    const segment = await this.#guard(() => this.#maybeRoll(records.length, staged.maxTimestamp, lastOffset, staged.firstOffset, staged.now));
    await this.#guard(() => segment.append(records, lastOffset));
    for (const done of this.#appended(staged)) {
      if (done.txn.isAborted) await this.#guard(() => segment.txnIndex.append(abortedTxnOf(done.txn, done.lastStableOffset)));
    }
    for (const b of batches) {
      const batchEpoch = records.readInt32BE(b.at + PARTITION_LEADER_EPOCH_OFFSET);
      if (batchEpoch >= 0 && this.#epochCache.isUpdateNeeded(batchEpoch, readInt64(records, b.at))) {
        const latest = this.#epochCache.latestEpoch();
        if (latest === undefined || batchEpoch > latest) await this.#guard(() => this.#epochCache.assign(batchEpoch, readInt64(records, b.at)));
      }
    }
    if (this.#logEndOffset - this.#recoveryPoint >= this.#config.flushMessages) await this.#guard(() => this.flush());
    return this.#result(records, batches, staged);
  }

  /**
   * #appendLocked done within this call, for the common append that has nothing to wait for: no other
   * operation of this log is queued or running, no roll, no control batch (whose transaction would go to
   * the txn index), no new leader epoch, no flush due, and a small write to an open file. Returns
   * undefined when that does not hold; what was decided so far is then decided again on the slow path
   * (offsets are assigned from the log end offset, which nothing has moved).
   */
  #appendNow(records: Buffer, batches: AnalyzedBatch[], opts: AppendOptions): AppendResult | undefined {
    if (this.#exclusivePending > 0 || opts.origin === AppendOrigin.replication) return undefined;
    const segment = this.#segments.active();
    if (!segment.canAppendNow(records.length)) return undefined;
    for (const b of batches) if (isControl(records.readInt16BE(b.at + ATTRIBUTES_OFFSET))) return undefined;
    const staged = this.#stage(records, batches, opts);
    if (staged.analysis?.duplicate) return this.#duplicateResult(staged.analysis.duplicate);
    if (staged.lastOffset + 1 - this.#recoveryPoint >= this.#config.flushMessages) return undefined;
    for (const b of batches) {
      const batchEpoch = records.readInt32BE(b.at + PARTITION_LEADER_EPOCH_OFFSET);
      if (batchEpoch >= 0 && this.#epochCache.isUpdateNeeded(batchEpoch, readInt64(records, b.at))) return undefined;
    }
    const roll = segment.shouldRollNow({
      maxTimestampInMessages: staged.maxTimestamp,
      maxOffsetInMessages: staged.lastOffset,
      messagesSize: records.length,
      now: staged.now,
    });
    if (roll !== false) return undefined;
    if (!this.#guardNow(() => segment.appendNow(records, staged.lastOffset))) return undefined;
    this.#appended(staged);
    return this.#result(records, batches, staged);
  }

  /**
   * Assigns offsets (on the leader path, by patching each batch's baseOffset in place, with the leader
   * epoch and LogAppendTime) and checks the producers: everything an append decides before it writes.
   */
  #stage(records: Buffer, batches: AnalyzedBatch[], opts: AppendOptions): StagedAppend {
    const assign = (opts.origin ?? 'client') !== 'replication';
    const now = this.#clock.now();
    const logAppendTime = this.#config.messageTimestampType === 'LogAppendTime' ? now : NO_TIMESTAMP;
    const epoch = opts.leaderEpoch ?? NO_PARTITION_LEADER_EPOCH;
    let next = this.#logEndOffset;
    let firstOffset = -1;
    let maxTimestamp = NO_TIMESTAMP;
    let offsetOfMaxTimestamp = -1;
    let recordCount = 0;
    for (const b of batches) {
      const delta = records.readInt32BE(b.at + LAST_OFFSET_DELTA_OFFSET);
      if (assign) {
        patchBaseOffset(records, b.at, next);
        if (opts.leaderEpoch !== undefined) patchPartitionLeaderEpoch(records, b.at, epoch);
        const attributes = records.readInt16BE(b.at + ATTRIBUTES_OFFSET);
        if (logAppendTime !== NO_TIMESTAMP && !isControl(attributes)) patchLogAppendTime(records, b.at, b.size, logAppendTime);
      } else {
        const base = readInt64(records, b.at);
        if (base < next) {
          throw new LogError('INVALID_RECORD', `batch offset ${base} is below the expected next offset ${next} of ${this.dir}`);
        }
        next = base;
      }
      if (firstOffset < 0) firstOffset = next;
      const lastOffset = next + delta;
      const ts = readInt64(records, b.at + MAX_TIMESTAMP_OFFSET);
      if (ts > maxTimestamp) {
        maxTimestamp = ts;
        offsetOfMaxTimestamp = lastOffset;
      }
      recordCount += records.readInt32BE(b.at + RECORDS_COUNT_OFFSET);
      next = lastOffset + 1;
    }
    const analysis = this.#analyzeProducers(records, batches, opts.origin ?? AppendOrigin.client, opts.verificationGuard);
    return { now, logAppendTime, firstOffset, lastOffset: next - 1, maxTimestamp, offsetOfMaxTimestamp, recordCount, analysis };
  }

  #duplicateResult(dup: NonNullable<ProducerAppendAnalysis['duplicate']>): AppendResult {
    return {
      firstOffset: batchMetadataFirstOffset(dup),
      lastOffset: dup.lastOffset,
      maxTimestamp: dup.timestamp,
      offsetOfMaxTimestamp: dup.lastOffset,
      logAppendTime: NO_TIMESTAMP,
      logStartOffset: this.#logStartOffset,
      recordCount: 0,
      duplicate: true,
    };
  }

  /** State after the staged batches were written: the log end offset and the producers. */
  #appended(staged: StagedAppend): CompletedTxnWithLso[] {
    this.#logEndOffset = staged.lastOffset + 1;
    if (staged.analysis) return this.#producerState.applyAppend(staged.analysis, this.#logEndOffset);
    this.#producerState.updateMapEndOffset(this.#logEndOffset);
    return [];
  }

  #result(records: Buffer, batches: AnalyzedBatch[], staged: StagedAppend): AppendResult {
    const { logAppendTime } = staged;
    const anyLogAppendTime = batches.some((b) => isLogAppendTime(records.readInt16BE(b.at + ATTRIBUTES_OFFSET)));
    return {
      firstOffset: staged.firstOffset,
      lastOffset: staged.lastOffset,
      maxTimestamp: anyLogAppendTime && logAppendTime !== NO_TIMESTAMP ? logAppendTime : staged.maxTimestamp,
      offsetOfMaxTimestamp: staged.offsetOfMaxTimestamp,
      logAppendTime,
      logStartOffset: this.#logStartOffset,
      recordCount: staged.recordCount,
      duplicate: false,
    };
  }

  /** Idempotence and transaction checks for the batches that carry a producer id. */
  #analyzeProducers(records: Buffer, batches: AnalyzedBatch[], origin: AppendOrigin,
    verificationGuard: VerificationGuard | undefined): ProducerAppendAnalysis | undefined {
    const withProducer = batches.filter((b) => readInt64(records, b.at + PRODUCER_ID_OFFSET) >= 0);
    if (withProducer.length === 0) return undefined;
    try {
      return this.#producerState.analyze(withProducer.map((b) => producerBatchAt(records, b.at)), origin,
        verificationGuard === undefined ? {} : { verificationGuard });
    } catch (e) {
      if (e instanceof ProducerStateError) throw new LogError(e.kafkaError, e.message, { cause: e });
      throw e;
    }
  }

  /** Rolls when the active segment is full, old, its indexes are full, or offsets would overflow it. */
  async #maybeRoll(messagesSize: number, maxTimestamp: number, maxOffset: number, firstOffset: number, now: number): Promise<LogSegment> {
    const active = this.#segments.active();
    if (!active.isActive) await active.makeActive();
    const roll = await active.shouldRoll({
      maxTimestampInMessages: maxTimestamp,
      maxOffsetInMessages: maxOffset,
      messagesSize,
      now,
    });
    if (!roll) return active;
    return this.#roll(Math.max(firstOffset, this.#logEndOffset));
  }

  async #roll(newBase: number): Promise<LogSegment> {
    const active = this.#segments.active();
    if (active.baseOffset === newBase && active.size === 0) return active;
    if (active.size === 0) {
      // An empty active segment (after truncation or a roll for overflow) is replaced, not kept.
      this.#segments.remove(active);
      await active.deleteFiles();
    } else {
      await active.onBecomeInactive();
    }
    const seg = await LogSegment.create(this.dir, newBase, this.#ctx);
    await seg.makeActive();
    this.#segments.add(seg);
    this.#dirNeedsSync = true;
    // Kafka snapshots producer state at every roll, named after the new segment's base offset.
    this.#producerState.updateMapEndOffset(Math.max(newBase, this.#producerState.mapEndOffset));
    await this.#producerState.takeSnapshot();
    if (!this.#config.durableAppend) {
      // As Kafka: the rolled segment is flushed in the background, not on the append path.
      this.flush(newBase).catch((e) => this.#fail(e));
    }
    return seg;
  }

  /** Rolls the active segment now (if it holds data). */
  async roll(): Promise<void> {
    this.#checkUsable();
    await this.#exclusive(() => this.#guard(async () => {
      if (this.#segments.active().size > 0) await this.#roll(this.#logEndOffset);
    }));
  }

  // ------------------------------------------------------------------------------------------------
  // Flush

  /**
   * Makes every offset below `offset` (default: the log end) durable and moves the recovery point.
   * The active segment's log is synced alone (recovery rebuilds its indexes); rolled segments are
   * synced with their indexes.
   */
  async flush(offset = this.#logEndOffset): Promise<void> {
    const upTo = Math.min(offset, this.#logEndOffset);
    if (upTo <= this.#recoveryPoint && !this.#dirNeedsSync) return;
    await this.#guard(async () => {
      const active = this.#segments.last();
      for (const seg of this.#segments.range(this.#recoveryPoint, upTo)) {
        await seg.flush(seg !== active);
      }
      if (this.#dirNeedsSync) {
        this.#dirNeedsSync = false;
        await fsyncDir(this.dir);
      }
    });
    this.#recoveryPoint = Math.min(Math.max(this.#recoveryPoint, upTo), this.#logEndOffset);
    this.#lastFlushTime = this.#clock.now();
    this.#groupCommit.markDurable(upTo);
  }

  /** Flushes when `flush.ms` has passed since the last flush (the LogManager calls this on a timer). */
  async flushIfDue(now = this.#clock.now()): Promise<void> {
    if (this.#closed || this.isOffline) return;
    if (now - this.#lastFlushTime >= this.#config.flushMs && this.#logEndOffset > this.#recoveryPoint) await this.flush();
  }

  // ------------------------------------------------------------------------------------------------
  // Read

  async read(startOffset: number, maxBytes: number, opts: ReadOptions = {}): Promise<LogReadResult> {
    this.#checkUsable();
    try {
      return await this.#read(startOffset, maxBytes, opts);
    } catch (e) {
      // A segment deleted by retention between lookup and read: answer from the new state.
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return this.#read(startOffset, maxBytes, opts);
      throw e;
    }
  }

  async #read(startOffset: number, maxBytes: number, opts: ReadOptions): Promise<LogReadResult> {
    const { upper, base } = this.#readBounds(startOffset, opts);
    let seg = this.#segments.floor(startOffset);
    while (seg && startOffset < upper) {
      const r = await this.#guard(() => seg!.read(startOffset, maxBytes, seg!.size, opts.minOneMessage ?? false, upper, opts.buffer), true);
      if (r) {
        const aborted = opts.includeAbortedTransactions && r.records.length > 0
          ? await this.collectAbortedTransactions(startOffset, r.firstBatchOffset + 1 + this.#lastOffsetIn(r.records))
          : undefined;
        return readResult(r, base, aborted);
      }
      seg = this.#segments.next(seg);
    }
    return { records: [], sizeInBytes: 0, ...base, firstEntryOffset: -1 };
  }

  /**
   * read() within this call when nothing has to wait: there is nothing to read (a consumer at the end of
   * the log), or a reader goes on from where its last read ended into bytes the tail cache still holds.
   * Undefined, having read nothing, when the file (or a transaction index) would have to be read.
   */
  readNow(startOffset: number, maxBytes: number, opts: ReadOptions = {}): LogReadResult | undefined {
    this.#checkUsable();
    const { upper, base } = this.#readBounds(startOffset, opts);
    if (startOffset >= upper) return { records: [], sizeInBytes: 0, ...base, firstEntryOffset: -1 };
    const r = this.#segments.floor(startOffset)?.readNow(startOffset, maxBytes, Number.MAX_SAFE_INTEGER, opts.minOneMessage ?? false, upper);
    if (r === undefined) return undefined;
    let aborted: AbortedTxn[] | undefined;
    if (opts.includeAbortedTransactions && r.records.length > 0) {
      aborted = this.#collectAbortedTransactionsNow(startOffset, r.firstBatchOffset + 1 + this.#lastOffsetIn(r.records));
      if (aborted === undefined) {
        sharedBufferPool.release(r.records);
        return undefined;
      }
    }
    return readResult(r, base, aborted);
  }

  /** The offsets a read may cover, and the log state every read result carries. Throws when out of range. */
  #readBounds(startOffset: number, opts: ReadOptions): { upper: number; base: LogReadState } {
    const logEndOffset = this.#logEndOffset;
    const logStartOffset = this.#logStartOffset;
    if (startOffset < logStartOffset || startOffset > logEndOffset) {
      throw new LogError('OFFSET_OUT_OF_RANGE',
        `offset ${startOffset} is out of range [${logStartOffset}, ${logEndOffset}] for ${this.dir}`);
    }
    const upper = Math.min(opts.upperBound ?? logEndOffset, logEndOffset);
    return {
      upper,
      base: { highWatermark: this.#highWatermark, logStartOffset, lastStableOffset: this.lastStableOffset, logEndOffset },
    };
  }

  /** Last offset of the last batch in `records`, relative to the first batch's base offset. */
  #lastOffsetIn(records: Buffer): number {
    const first = readInt64(records, 0);
    let at = 0;
    let last = first;
    while (at < records.length) {
      last = readInt64(records, at) + records.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET);
      at += LOG_OVERHEAD + records.readInt32BE(at + LENGTH_OFFSET);
    }
    return last - first;
  }

  /** Aborted transactions overlapping [fetchOffset, upperBoundOffset), searched segment by segment. */
  async collectAbortedTransactions(fetchOffset: number, upperBoundOffset: number): Promise<AbortedTxn[]> {
    const out: AbortedTxn[] = [];
    const start = this.#segments.floor(fetchOffset);
    if (!start) return out;
    for (const seg of this.#segments.range(start.baseOffset)) {
      const r = await seg.txnIndex.collectAbortedTxns(fetchOffset, upperBoundOffset);
      out.push(...r.abortedTransactions);
      if (r.isComplete) break;
    }
    return out;
  }

  /** collectAbortedTransactions within this call, or undefined when a transaction index is not at hand. */
  #collectAbortedTransactionsNow(fetchOffset: number, upperBoundOffset: number): AbortedTxn[] | undefined {
    const out: AbortedTxn[] = [];
    const start = this.#segments.floor(fetchOffset);
    if (!start) return out;
    for (const seg of this.#segments.range(start.baseOffset)) {
      const r = seg.txnIndex.collectAbortedTxnsNow(fetchOffset, upperBoundOffset);
      if (r === undefined) return undefined;
      out.push(...r.abortedTransactions);
      if (r.isComplete) break;
    }
    return out;
  }

  /**
   * ListOffsets: EARLIEST (-2), LATEST (-1), MAX_TIMESTAMP (-3), EARLIEST_LOCAL (-4), or the first
   * offset whose batch timestamp is ≥ `timestamp`. Undefined when no batch is that recent.
   */
  async fetchOffsetByTimestamp(timestamp: number): Promise<TimestampAndOffset | undefined> {
    this.#checkUsable();
    const withEpoch = (t: TimestampAndOffset): TimestampAndOffset => {
      const epoch = this.#epochCache.epochForOffset(t.offset);
      return epoch === undefined ? t : { ...t, leaderEpoch: epoch };
    };
    switch (timestamp) {
      case ListOffsetsTimestamp.EARLIEST:
        return withEpoch({ timestamp: NO_TIMESTAMP, offset: this.#logStartOffset });
      case ListOffsetsTimestamp.EARLIEST_LOCAL:
        return withEpoch({ timestamp: NO_TIMESTAMP, offset: this.localLogStartOffset });
      case ListOffsetsTimestamp.LATEST: {
        const epoch = this.#epochCache.latestEpoch();
        return { timestamp: NO_TIMESTAMP, offset: this.#logEndOffset, ...(epoch !== undefined ? { leaderEpoch: epoch } : {}) };
      }
      case ListOffsetsTimestamp.MAX_TIMESTAMP: {
        // The first segment holding the largest timestamp, then the first record carrying it.
        let best: { segment: LogSegment; timestamp: number } | undefined;
        for (const seg of this.#segments.all()) {
          const m = await this.#guard(() => seg.maxTimestampSoFar());
          if (m.timestamp >= 0 && (!best || m.timestamp > best.timestamp)) best = { segment: seg, timestamp: m.timestamp };
        }
        const found = best ? await this.#guard(() => best!.segment.offsetOfMaxTimestamp()) : undefined;
        return found ? withEpoch(found) : undefined;
      }
      default:
        break;
    }
    for (const seg of this.#segments.all()) {
      const m = await this.#guard(() => seg.maxTimestampSoFar());
      if (m.timestamp < timestamp) continue;
      const found = await this.#guard(() => seg.findOffsetByTimestamp(timestamp, this.#logStartOffset));
      if (found) return withEpoch(found);
    }
    return undefined;
  }

  // ------------------------------------------------------------------------------------------------
  // Truncation and the log start offset

  /** Removes every offset ≥ `offset` (a follower truncating to its leader); false if nothing to do. */
  async truncateTo(offset: number): Promise<boolean> {
    this.#checkUsable();
    if (offset < 0) throw new LogError('OFFSET_OUT_OF_RANGE', `cannot truncate to negative offset ${offset}`);
    return this.#exclusive(() => this.#guard(async () => {
      if (offset >= this.#logEndOffset) return false;
      const first = this.#segments.first()!;
      if (first.baseOffset > offset) {
        await this.#truncateFullyAndStartAt(offset);
        return true;
      }
      for (const seg of [...this.#segments.all()].reverse()) {
        if (seg.baseOffset <= offset) break;
        this.#segments.remove(seg);
        await seg.deleteFiles();
      }
      const active = this.#segments.active();
      await active.makeActive();
      await active.truncateTo(offset);
      // Kafka sets the end to `offset`; a target inside a batch would then leave a hole, so the end
      // is where the remaining batches really end.
      offset = Math.min(offset, await active.readNextOffset());
      this.#logEndOffset = offset;
      this.#logStartOffset = Math.min(this.#logStartOffset, offset);
      this.#highWatermark = Math.min(this.#highWatermark, offset);
      this.#recoveryPoint = Math.min(this.#recoveryPoint, offset);
      await this.#epochCache.truncateFromEnd(offset);
      await this.#producerState.truncateAndReload(this.#logStartOffset, offset);
      await replayProducerState(this.#producerState, this.#segments, this.#ctx, offset, new Set());
      return true;
    }));
  }

  /** Deletes everything and restarts the log empty at `offset`. */
  async truncateFullyAndStartAt(offset: number): Promise<void> {
    this.#checkUsable();
    await this.#exclusive(() => this.#guard(() => this.#truncateFullyAndStartAt(offset)));
  }

  async #truncateFullyAndStartAt(offset: number): Promise<void> {
    for (const seg of [...this.#segments.all()]) {
      this.#segments.remove(seg);
      await seg.deleteFiles();
    }
    const seg = await LogSegment.create(this.dir, offset, this.#ctx);
    await seg.makeActive();
    this.#segments.add(seg);
    this.#dirNeedsSync = true;
    this.#logEndOffset = offset;
    this.#logStartOffset = offset;
    this.#highWatermark = offset;
    this.#recoveryPoint = offset;
    await this.#epochCache.clear();
    await this.#producerState.truncateFullyAndStartAt(offset);
  }

  /**
   * Moves the log start offset forward (DeleteRecords, retention). Refused past the high watermark.
   * Returns whether it moved.
   */
  async maybeIncrementLogStartOffset(offset: number, _reason = 'client delete records'): Promise<boolean> {
    this.#checkUsable();
    if (offset > this.#highWatermark) {
      throw new LogError('OFFSET_OUT_OF_RANGE',
        `cannot move the log start offset of ${this.dir} to ${offset}: above the high watermark ${this.#highWatermark}`);
    }
    if (offset <= this.#logStartOffset) return false;
    this.#logStartOffset = offset;
    await this.#guard(() => this.#epochCache.truncateFromStart(offset));
    this.#producerState.onLogStartOffsetIncremented(offset);
    return true;
  }

  /** DeleteRecords: moves the log start offset and removes the segments now entirely below it. */
  async deleteRecordsBefore(offset: number): Promise<number> {
    await this.maybeIncrementLogStartOffset(offset);
    await this.deleteOldSegments();
    return this.#logStartOffset;
  }

  // ------------------------------------------------------------------------------------------------
  // Retention

  /**
   * Deletes segments past retention.ms / retention.bytes (with a delete policy) and segments below
   * the log start offset; returns how many were removed. Files are renamed `.deleted` and removed
   * after file.delete.delay.ms (see purgeDeletedSegments).
   */
  async deleteOldSegments(now = this.#clock.now()): Promise<number> {
    if (this.#closed || this.isOffline) return 0;
    return this.#exclusive(() => this.#guard(async () => {
      let deleted = 0;
      const cfg = this.#config;
      if (hasDeletePolicy(cfg)) {
        if (cfg.retentionMs >= 0) deleted += await this.#deleteSegments(retentionMsBreached(now, cfg.retentionMs), 'retention-ms', now);
        const total = this.#segments.sizeInBytes();
        if (cfg.retentionBytes >= 0 && total >= cfg.retentionBytes) {
          deleted += await this.#deleteSegments(retentionSizeBreached(total, cfg.retentionBytes), 'retention-bytes', now);
        }
      }
      deleted += await this.#deleteSegments(logStartOffsetBreached(this.#logStartOffset), 'log-start-offset', now);
      return deleted;
    }));
  }

  async #deleteSegments(predicate: DeletionPredicate, reason: DeletionReason, now: number): Promise<number> {
    const doomed = await deletableSegments(this.#segments, this.#highWatermark, this.#logEndOffset, predicate);
    if (doomed.length === 0) return 0;
    if (doomed.length === this.#segments.size) await this.#roll(this.#logEndOffset);
    for (const seg of doomed) {
      this.#segments.remove(seg);
      await seg.changeFileSuffix(DELETED_FILE_SUFFIX);
      const snapshot = await this.#producerState.removeAndMarkSnapshotForDeletion(seg.baseOffset);
      this.#pendingDeletions.push({ segment: seg, snapshot, due: now + this.#config.fileDeleteDelayMs });
    }
    const newStart = this.#segments.first()!.baseOffset;
    this.#logger.info(`deleted ${doomed.length} segment(s) of ${this.dir} (${reason}); ` +
      `base offsets ${doomed.map((s) => s.baseOffset).join(', ')}`);
    if (newStart > this.#logStartOffset) {
      this.#logStartOffset = newStart;
      if (this.#highWatermark < newStart) this.#highWatermark = newStart;
      await this.#epochCache.truncateFromStart(newStart);
      this.#producerState.onLogStartOffsetIncremented(newStart);
    }
    if (this.#recoveryPoint < newStart) this.#recoveryPoint = newStart;
    return doomed.length;
  }

  /** Removes `.deleted` files whose delay has passed; returns how many segments were purged. */
  async purgeDeletedSegments(now = this.#clock.now()): Promise<number> {
    const due = this.#pendingDeletions.filter((p) => p.due <= now);
    if (due.length === 0) return 0;
    this.#pendingDeletions = this.#pendingDeletions.filter((p) => p.due > now);
    for (const p of due) {
      await this.#guard(async () => {
        await p.segment.deleteFiles();
        if (p.snapshot !== undefined) await fs.rm(p.snapshot, { force: true });
      });
    }
    return due.length;
  }

  get pendingDeletions(): number {
    return this.#pendingDeletions.length;
  }

  // ------------------------------------------------------------------------------------------------
  // Log cleaner hooks (added by the cleaner helper; see src/storage/cleaner/log-adapter.ts)

  /** The producers whose last batch compaction must keep. */
  activeProducers(): ReadonlyMap<number, ProducerStateEntry> {
    return this.#producerState.activeProducers();
  }

  /**
   * Kafka's replaceSegments: the finished `.cleaned` segment at `newBaseOffset` takes the place of the
   * segments at `oldBaseOffsets` (the first shares its base offset), in the crash-safe order of
   * cleaner/segment-swap.ts (loadSegments completes an interrupted swap). The replaced files are renamed
   * `.deleted` and removed after file.delete.delay.ms, as retention's are.
   */
  async replaceSegments(newBaseOffset: number, oldBaseOffsets: readonly number[]): Promise<void> {
    this.#checkUsable();
    await this.#exclusive(() => this.#guard(async () => {
      const all = this.#segments.all();
      const old = oldBaseOffsets.map((b) => all.find((seg) => seg.baseOffset === b));
      const active = this.#segments.active();
      if (old.length === 0 || old[0]?.baseOffset !== newBaseOffset || old.some((seg) => seg === undefined || seg === active)) {
        throw new StrataError('ERR_STATE', `segments of ${this.dir} changed while they were cleaned`);
      }
      await commitCleanedSegment(this.dir, newBaseOffset);
      const now = this.#clock.now();
      for (const seg of old as LogSegment[]) {
        this.#segments.remove(seg);
        await seg.changeFileSuffix(DELETED_FILE_SUFFIX);
        this.#pendingDeletions.push({ segment: seg, snapshot: undefined, due: now + this.#config.fileDeleteDelayMs });
      }
      await completeSwap(this.dir, newBaseOffset);
      const sizeOf = async (kind: string): Promise<number> => (await fs.stat(segmentFilePath(this.dir, newBaseOffset, kind))).size;
      this.#segments.add(LogSegment.open(this.dir, newBaseOffset, this.#ctx, {
        log: await sizeOf(LOG_FILE_SUFFIX), index: await sizeOf(INDEX_FILE_SUFFIX), timeIndex: await sizeOf(TIME_INDEX_FILE_SUFFIX),
      }));
    }));
  }

  // ------------------------------------------------------------------------------------------------
  // Lifecycle

  /** Clean close: flush everything, write the closing index entries, trim indexes, release files. */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.#exclusive(async () => {
      if (this.#closed) return;
      if (!this.isOffline) {
        await this.#guard(async () => {
          for (const seg of this.#segments.all()) await seg.flush(true);
          if (this.#dirNeedsSync) await fsyncDir(this.dir);
          this.#recoveryPoint = this.#logEndOffset;
          this.#producerState.updateMapEndOffset(this.#logEndOffset);
          await this.#producerState.takeSnapshot();
          for (const seg of this.#segments.all()) await seg.close();
        });
      }
      this.#closed = true;
      this.#releaseHandles();
    });
  }

  /** Closes descriptors without writing (the log dir failed). */
  closeHandles(): void {
    this.#closed = true;
    this.#releaseHandles();
  }

  #releaseHandles(): void {
    for (const seg of this.#segments.all()) seg.closeHandles();
    for (const p of this.#pendingDeletions) p.segment.closeHandles();
  }

  /** Closes without flushing and removes the whole partition directory. */
  async delete(): Promise<void> {
    await this.#exclusive(async () => {
      this.#closed = true;
      this.#releaseHandles();
      await fs.rm(this.dir, { recursive: true, force: true });
    });
  }

  // ------------------------------------------------------------------------------------------------
  // Plumbing

  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    this.#exclusivePending++;
    const run = this.#chain.then(fn, fn);
    this.#chain = run.then(this.#exclusiveDone, this.#exclusiveDone);
    return run;
  }

  readonly #exclusiveDone = (): void => {
    this.#exclusivePending--;
  };

  /** #guard for an operation that completes within the call. */
  #guardNow<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      throw this.#guardedError(e, false);
    }
  }

  #checkUsable(): void {
    if (this.#failure !== undefined) {
      throw new LogError('KAFKA_STORAGE_ERROR', `log ${this.dir} is offline after an I/O error`, { cause: this.#failure });
    }
    if (this.#closed) throw new LogError('LOG_CLOSED', `log ${this.dir} is closed`);
  }

  /** Runs an operation that touches files; an I/O failure takes the log offline. */
  async #guard<T>(fn: () => Promise<T>, missingIsRace = false): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw this.#guardedError(e, missingIsRace);
    }
  }

  /** What a guarded operation that threw `e` throws: an I/O failure takes the log offline. */
  #guardedError(e: unknown, missingIsRace: boolean): unknown {
    if (isLogError(e) && e.kafkaError !== 'KAFKA_STORAGE_ERROR') return e;
    // A read can race the deletion of its segment; the caller retries on the new state.
    if (missingIsRace && (e as NodeJS.ErrnoException).code === 'ENOENT') return e;
    if (isIoFailure(e)) {
      this.#fail(e);
      return new LogError('KAFKA_STORAGE_ERROR', `I/O error in ${this.dir}: ${(e as Error).message}`, { cause: e });
    }
    return e;
  }

  #fail(e: unknown): void {
    if (this.#failure !== undefined || this.#closed) return;
    this.#failure = e;
    this.#logger.warn(`log ${this.dir} is offline: ${(e as Error).message}`);
    this.#onIoError?.(this, e);
  }

  /** Takes the log offline from outside (its log dir failed). */
  markOffline(cause: unknown): void {
    if (this.#failure === undefined) this.#failure = cause;
    this.#releaseHandles();
  }
}

/**
 * Replays the batches from the producer state's map end offset up to `to` into it. Aborted
 * transactions whose marker lies in one of `rebuildTxnIndex` are appended to that segment's txn index
 * (recovery reset those indexes).
 */
async function replayProducerState(state: ProducerStateManager, segments: LogSegments, ctx: SegmentContext, to: number,
  rebuildTxnIndex: ReadonlySet<LogSegment>): Promise<void> {
  const from = state.mapEndOffset;
  if (from >= to) {
    state.updateMapEndOffset(to);
    return;
  }
  for (const seg of segments.range(from, to)) {
    const start = await seg.translateOffset(from);
    if (!start) continue;
    const aborted: AbortedTxn[] = [];
    await scanBatches(ctx.pool, seg.logPath, start.position, seg.size, 'full', (buf, at) => {
      const base = readInt64(buf, at);
      if (base >= to) return false;
      if (readInt64(buf, at + PRODUCER_ID_OFFSET) < 0) return true;
      if (base + buf.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET) < from) return true;
      const done = state.updateFromBatch(producerBatchAt(buf, at));
      if (done?.txn.isAborted && rebuildTxnIndex.has(seg)) aborted.push(abortedTxnOf(done.txn, done.lastStableOffset));
      return true;
    });
    for (const txn of aborted) await seg.txnIndex.append(txn);
  }
  state.updateMapEndOffset(to);
}
