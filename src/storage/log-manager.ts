// All partition logs of a node over one or more log dirs (Kafka's LogManager): loading at start with
// bounded concurrency, creation and deletion, the per-dir checkpoints (recovery points, log start
// offsets), the clean shutdown marker, periodic retention / flush / delayed deletion, one shared
// pool of file descriptors, and taking a failed log dir offline without stopping the process.
import fs from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { writeFileAtomic } from './atomic-file.js';
import {
  CLEAN_SHUTDOWN_FILE,
  LOG_START_OFFSET_CHECKPOINT_FILE,
  OffsetCheckpointFile,
  parseTopicPartitionKey,
  RECOVERY_POINT_CHECKPOINT_FILE,
  topicPartitionKey,
} from './checkpoint-file.js';
import { type Clock, systemClock } from './clock.js';
import { FileHandlePool, openFileLimit } from './file-handles.js';
import { InlineWrites } from './inline-writes.js';
import { TailCache } from './tail-cache.js';
import { IndexLru } from './index-file.js';
import { Log, type StorageLogger } from './log.js';
import { DEFAULT_LOG_CONFIG, hasCompactPolicy, type LogConfig } from './log-config.js';
import { LogError } from './log-errors.js';
import { PartitionMetadataFile } from './partition-metadata.js';

/** What the tail cache may hold across all partitions by default. */
export const DEFAULT_TAIL_CACHE_BYTES = 32 * 1024 * 1024;

/** The KRaft metadata topic; its partition directory is never opened as an ordinary log. */
export const METADATA_TOPIC = '__cluster_metadata';

export interface LogManagerOptions {
  readonly logDirs: readonly string[];
  /** Topic config for a partition (topic defaults plus overrides); the broker's config layer provides it. */
  readonly configFor?: (topic: string) => LogConfig;
  readonly clock?: Clock;
  readonly logger?: StorageLogger;
  /** Open file descriptors shared by all segments (idle ones are closed past this). */
  readonly maxOpenFiles?: number;
  /** Memory for recently appended bytes served to tail consumers without a file read (all logs together). */
  readonly tailCacheBytes?: number;
  /** Which appends are written on the event loop (default an InlineWrites that logs its pauses). */
  readonly inlineWrites?: InlineWrites;
  /** Inactive segment indexes kept in memory. */
  readonly maxLoadedIndexes?: number;
  /** Logs opened at once during start-up and shutdown. */
  readonly loadConcurrency?: number;
  /** `log.retention.check.interval.ms`. */
  readonly retentionCheckIntervalMs?: number;
  /** `log.flush.scheduler.interval.ms` (how often flush.ms is checked). */
  readonly flushCheckIntervalMs?: number;
  /** `log.flush.offset.checkpoint.interval.ms`. */
  readonly recoveryPointCheckpointIntervalMs?: number;
  /** `log.flush.start.offset.checkpoint.interval.ms`. */
  readonly logStartOffsetCheckpointIntervalMs?: number;
  /** `producer.id.expiration.check.interval.ms`. */
  readonly producerIdExpirationCheckIntervalMs?: number;
  /** `producer.id.expiration.ms`. */
  readonly producerIdExpirationMs?: number;
  /** Called before a partition's log is deleted (e.g. so the cleaner stops touching it). */
  readonly beforeDeleteLog?: (log: Log, key: string) => Promise<void>;
  /** Start the background timers (tests drive the periodic work by hand instead). */
  readonly scheduleTimers?: boolean;
  /**
   * A log cleaner is wired and runs retention for logs whose policy includes `compact` itself (as
   * Kafka's LogManager leaves them to the cleaner); periodic retention then skips them.
   */
  readonly cleanerHandlesCompactedLogs?: boolean;
}

export interface LogDirState {
  readonly dir: string;
  readonly online: boolean;
  readonly error?: unknown;
  readonly partitions: number;
  /** Whether the last start found the clean shutdown marker. */
  readonly hadCleanShutdown: boolean;
}

const DELETE_DIR_SUFFIX = '-delete';
const STRAY_DIR_SUFFIX = '-stray';

interface DirState {
  readonly dir: string;
  online: boolean;
  error?: unknown;
  hadCleanShutdown: boolean;
  readonly logs: Map<string, Log>;
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

export class LogManager {
  readonly #opts: LogManagerOptions;
  readonly #clock: Clock;
  readonly #logger: StorageLogger;
  readonly #pool: FileHandlePool;
  readonly #inlineWrites: InlineWrites;
  readonly #indexLru: IndexLru;
  readonly #tailCache: TailCache;
  readonly #dirs: DirState[];
  /** Partition key → its log dir. */
  readonly #where = new Map<string, DirState>();
  readonly #timers: NodeJS.Timeout[] = [];
  readonly #creating = new Map<string, Promise<Log>>();
  #shutdown = false;

  private constructor(opts: LogManagerOptions) {
    this.#opts = opts;
    this.#clock = opts.clock ?? systemClock;
    this.#logger = opts.logger ?? { info: () => undefined, warn: () => undefined };
    const limit = openFileLimit();
    const budget = opts.maxOpenFiles ?? 4096;
    this.#pool = new FileHandlePool(limit === undefined ? budget : Math.min(budget, Math.max(16, Math.floor(limit / 2))));
    this.#inlineWrites = opts.inlineWrites ?? new InlineWrites({
      onPause: (tookMs, bytes, pauseMs) => this.#logger.info(
        `a write of ${bytes} bytes into the page cache took ${tookMs.toFixed(1)} ms: appends are written from the thread pool for ${pauseMs / 1000} s`),
    });
    this.#indexLru = new IndexLru(opts.maxLoadedIndexes ?? 1024);
    this.#tailCache = new TailCache(opts.tailCacheBytes ?? DEFAULT_TAIL_CACHE_BYTES);
    this.#dirs = opts.logDirs.map((dir) => ({ dir: path.resolve(dir), online: true, hadCleanShutdown: false, logs: new Map() }));
  }

  /** Loads every partition of every log dir and starts the background work. */
  static async start(opts: LogManagerOptions): Promise<LogManager> {
    const manager = new LogManager(opts);
    await Promise.all(manager.#dirs.map((d) => manager.#loadDir(d)));
    if (opts.scheduleTimers ?? true) manager.#startTimers();
    return manager;
  }

  get pool(): FileHandlePool {
    return this.#pool;
  }

  #configFor(topic: string): LogConfig {
    return this.#opts.configFor?.(topic) ?? DEFAULT_LOG_CONFIG;
  }

  async #loadDir(d: DirState): Promise<void> {
    try {
      await fs.mkdir(d.dir, { recursive: true });
      const marker = path.join(d.dir, CLEAN_SHUTDOWN_FILE);
      d.hadCleanShutdown = await exists(marker);
      const recoveryPoints = await new OffsetCheckpointFile(path.join(d.dir, RECOVERY_POINT_CHECKPOINT_FILE)).read()
        .catch((e: unknown) => this.#unreadableCheckpoint(e));
      const logStartOffsets = await new OffsetCheckpointFile(path.join(d.dir, LOG_START_OFFSET_CHECKPOINT_FILE)).read()
        .catch((e: unknown) => this.#unreadableCheckpoint(e));
      // A corrupt recovery-point checkpoint means every log recovers from its start, as Kafka does.
      const cleanShutdown = d.hadCleanShutdown && recoveryPoints !== undefined;
      const entries = await fs.readdir(d.dir, { withFileTypes: true });
      const partitions: { key: string; topic: string; partition: number }[] = [];
      for (const e of entries) {
        if (!e.isDirectory()) continue;
        if (e.name.endsWith(DELETE_DIR_SUFFIX)) {
          await fs.rm(path.join(d.dir, e.name), { recursive: true, force: true });
          continue;
        }
        if (e.name.endsWith(STRAY_DIR_SUFFIX)) continue;
        const tp = parseTopicPartitionKey(e.name);
        // The metadata log lives beside the partitions (as in Kafka) but belongs to the Raft layer.
        if (tp && tp.topic !== METADATA_TOPIC) partitions.push({ key: e.name, ...tp });
      }
      await mapLimit(partitions, this.#opts.loadConcurrency ?? 64, async (p) => {
        const log = await this.#openLog(d, p.key, p.topic, {
          cleanShutdown,
          recoveryPoint: recoveryPoints?.get(p.key) ?? 0,
          logStartOffset: logStartOffsets?.get(p.key) ?? 0,
        });
        d.logs.set(p.key, log);
        this.#where.set(p.key, d);
      });
      // The marker goes only once every log is loaded: a crash during loading recovers again.
      await fs.rm(marker, { force: true });
      this.#logger.info(`loaded ${partitions.length} partitions from ${d.dir} (${d.hadCleanShutdown ? 'clean' : 'unclean'} shutdown)`);
    } catch (e) {
      this.#failDir(d, e);
    }
  }

  #unreadableCheckpoint(e: unknown): undefined {
    this.#logger.warn(`ignoring unreadable checkpoint: ${(e as Error).message}`);
    return undefined;
  }

  #openLog(d: DirState, key: string, topic: string, state: { cleanShutdown: boolean; recoveryPoint: number; logStartOffset: number }): Promise<Log> {
    return Log.open({
      dir: path.join(d.dir, key),
      config: this.#configFor(topic),
      clock: this.#clock,
      pool: this.#pool,
      inlineWrites: this.#inlineWrites,
      indexLru: this.#indexLru,
      tailCache: this.#tailCache,
      logger: this.#logger,
      onIoError: (_log, error) => this.#failDir(d, error),
      ...(this.#opts.producerIdExpirationMs !== undefined ? { producerIdExpirationMs: this.#opts.producerIdExpirationMs } : {}),
      ...state,
    });
  }

  // ------------------------------------------------------------------------------------------------
  // Partitions

  /** The log of a partition, undefined when this node has none; throws KAFKA_STORAGE_ERROR when its dir failed. */
  getLog(topic: string, partition: number): Log | undefined {
    const key = topicPartitionKey(topic, partition);
    const d = this.#where.get(key);
    if (!d) return undefined;
    if (!d.online) throw new LogError('KAFKA_STORAGE_ERROR', `log dir ${d.dir} holding ${key} is offline`, { cause: d.error });
    return d.logs.get(key);
  }

  /**
   * The partition's log, created (in the online log dir with the fewest partitions) when missing.
   * With `topicId` (canonical uuid) the partition's `partition.metadata` records it, as Kafka does.
   */
  async getOrCreateLog(topic: string, partition: number, config?: LogConfig, topicId?: string): Promise<Log> {
    const existing = this.getLog(topic, partition);
    if (existing) {
      if (topicId !== undefined) await this.#recordTopicId(existing, topicId);
      return existing;
    }
    const key = topicPartitionKey(topic, partition);
    const pending = this.#creating.get(key);
    if (pending) return pending;
    const create = (async () => {
      const online = this.#dirs.filter((d) => d.online);
      if (online.length === 0) throw new LogError('KAFKA_STORAGE_ERROR', 'no online log dir to create a log in');
      const d = online.reduce((a, b) => (b.logs.size < a.logs.size ? b : a));
      try {
        const log = await Log.open({
          dir: path.join(d.dir, key),
          config: config ?? this.#configFor(topic),
          clock: this.#clock,
          pool: this.#pool,
          inlineWrites: this.#inlineWrites,
          indexLru: this.#indexLru,
          tailCache: this.#tailCache,
          logger: this.#logger,
          onIoError: (_log, error) => this.#failDir(d, error),
          cleanShutdown: true,
          ...(this.#opts.producerIdExpirationMs !== undefined ? { producerIdExpirationMs: this.#opts.producerIdExpirationMs } : {}),
        });
        d.logs.set(key, log);
        this.#where.set(key, d);
        if (topicId !== undefined) await this.#recordTopicId(log, topicId);
        return log;
      } catch (e) {
        this.#failDir(d, e);
        throw new LogError('KAFKA_STORAGE_ERROR', `cannot create log ${key} in ${d.dir}`, { cause: e });
      }
    })();
    this.#creating.set(key, create);
    try {
      return await create;
    } finally {
      this.#creating.delete(key);
    }
  }

  async #recordTopicId(log: Log, topicId: string): Promise<void> {
    const file = new PartitionMetadataFile(log.dir);
    if ((await file.read())?.topicId !== topicId) await file.write(topicId);
  }

  /** The topic id recorded in the partition's `partition.metadata`, if any. */
  async topicIdOf(topic: string, partition: number): Promise<string | undefined> {
    const log = this.getLog(topic, partition);
    return log ? (await new PartitionMetadataFile(log.dir).read())?.topicId : undefined;
  }

  /** A dynamic topic config change: every local partition of `topic` uses `config` from now on. */
  updateTopicConfig(topic: string, config: LogConfig): void {
    for (const [key, log] of this.allLogs()) if (parseTopicPartitionKey(key)?.topic === topic) log.updateConfig(config);
  }

  /**
   * Removes a partition: its directory is renamed `<topic>-<partition>.<id>-delete` at once (so a
   * restart does not load it) and removed in the background.
   */
  async deleteLog(topic: string, partition: number): Promise<boolean> {
    const key = topicPartitionKey(topic, partition);
    const d = this.#where.get(key);
    const log = d?.logs.get(key);
    if (!d || !log) return false;
    await this.#opts.beforeDeleteLog?.(log, key);
    d.logs.delete(key);
    this.#where.delete(key);
    log.closeHandles();
    const doomed = path.join(d.dir, `${key}.${randomUUID().replaceAll('-', '')}${DELETE_DIR_SUFFIX}`);
    await fs.rename(log.dir, doomed);
    await fs.rm(doomed, { recursive: true, force: true });
    return true;
  }

  /** Every online log, keyed by `<topic>-<partition>`. */
  allLogs(): Map<string, Log> {
    const out = new Map<string, Log>();
    for (const d of this.#dirs) if (d.online) for (const [k, log] of d.logs) out.set(k, log);
    return out;
  }

  logDirs(): LogDirState[] {
    return this.#dirs.map((d) => ({
      dir: d.dir,
      online: d.online,
      partitions: d.logs.size,
      hadCleanShutdown: d.hadCleanShutdown,
      ...(d.error !== undefined ? { error: d.error } : {}),
    }));
  }

  // ------------------------------------------------------------------------------------------------
  // Failure

  #failDir(d: DirState, error: unknown): void {
    if (!d.online) return;
    d.online = false;
    d.error = error;
    this.#logger.warn(`log dir ${d.dir} is offline: ${(error as Error).message}; its ${d.logs.size} partitions report KAFKA_STORAGE_ERROR`);
    for (const log of d.logs.values()) log.markOffline(error);
  }

  // ------------------------------------------------------------------------------------------------
  // Periodic work (the timers call these; tests call them directly)

  /** Retention on every log, then removal of `.deleted` files whose delay passed. Returns segments deleted. */
  async runRetention(now = this.#clock.now()): Promise<number> {
    let deleted = 0;
    for (const log of this.allLogs().values()) {
      if (this.#opts.cleanerHandlesCompactedLogs && hasCompactPolicy(log.config)) continue;
      try {
        deleted += await log.deleteOldSegments(now);
      } catch (e) {
        this.#logger.warn(`retention failed for ${log.dir}: ${(e as Error).message}`);
      }
    }
    await this.purgeDeletedSegments(now);
    return deleted;
  }

  async purgeDeletedSegments(now = this.#clock.now()): Promise<number> {
    let purged = 0;
    for (const log of this.allLogs().values()) purged += await log.purgeDeletedSegments(now).catch(() => 0);
    return purged;
  }

  async flushDueLogs(now = this.#clock.now()): Promise<void> {
    for (const log of this.allLogs().values()) await log.flushIfDue(now).catch(() => undefined);
  }

  removeExpiredProducers(now = this.#clock.now()): void {
    for (const log of this.allLogs().values()) log.removeExpiredProducers(now);
  }

  /** Writes `recovery-point-offset-checkpoint` in every online dir. */
  async checkpointRecoveryPoints(): Promise<void> {
    await Promise.all(this.#dirs.filter((d) => d.online).map((d) => this.#checkpoint(d, RECOVERY_POINT_CHECKPOINT_FILE,
      [...d.logs].filter(([, log]) => !log.isOffline).map(([k, log]) => [k, log.recoveryPoint] as const))));
  }

  /** Writes `log-start-offset-checkpoint`: only logs whose start offset is above their first segment's base, as Kafka. */
  async checkpointLogStartOffsets(): Promise<void> {
    await Promise.all(this.#dirs.filter((d) => d.online).map((d) => this.#checkpoint(d, LOG_START_OFFSET_CHECKPOINT_FILE,
      [...d.logs].filter(([, log]) => !log.isOffline && log.logStartOffset > log.localLogStartOffset)
        .map(([k, log]) => [k, log.logStartOffset] as const))));
  }

  async #checkpoint(d: DirState, file: string, entries: (readonly [string, number])[]): Promise<void> {
    try {
      await new OffsetCheckpointFile(path.join(d.dir, file)).write(new Map(entries));
    } catch (e) {
      this.#failDir(d, e);
    }
  }

  #startTimers(): void {
    const every = (ms: number | undefined, fallback: number, fn: () => Promise<unknown> | void): void => {
      const interval = ms ?? fallback;
      if (!Number.isFinite(interval) || interval <= 0 || interval >= 2 ** 31) return;
      let running = false;
      const t = setInterval(() => {
        if (running || this.#shutdown) return;
        running = true;
        Promise.resolve(fn()).catch((e: unknown) => this.#logger.warn(`background task failed: ${(e as Error).message}`))
          .finally(() => { running = false; });
      }, interval);
      t.unref();
      this.#timers.push(t);
    };
    const o = this.#opts;
    every(o.retentionCheckIntervalMs, 300_000, () => this.runRetention());
    every(o.flushCheckIntervalMs, 1_000, () => this.flushDueLogs());
    every(o.recoveryPointCheckpointIntervalMs, 60_000, () => this.checkpointRecoveryPoints());
    every(o.logStartOffsetCheckpointIntervalMs, 60_000, () => this.checkpointLogStartOffsets());
    every(o.producerIdExpirationCheckIntervalMs, 600_000, () => this.removeExpiredProducers());
    // Delayed deletion is checked more often than retention so file.delete.delay.ms is honoured closely.
    every(Math.min(o.retentionCheckIntervalMs ?? 300_000, 10_000), 10_000, () => this.purgeDeletedSegments());
  }

  // ------------------------------------------------------------------------------------------------
  // Shutdown

  /**
   * Clean shutdown: every log flushed and closed, checkpoints written, then the clean shutdown marker
   * in each dir whose logs all closed cleanly.
   */
  async shutdown(): Promise<void> {
    if (this.#shutdown) return;
    this.#shutdown = true;
    for (const t of this.#timers) clearInterval(t);
    await Promise.all(this.#creating.values()).catch(() => undefined);
    await Promise.all(this.#dirs.map(async (d) => {
      if (!d.online) return;
      let clean = true;
      await mapLimit([...d.logs.values()], this.#opts.loadConcurrency ?? 64, async (log) => {
        try {
          await log.close();
        } catch (e) {
          clean = false;
          this.#logger.warn(`closing ${log.dir} failed: ${(e as Error).message}`);
        }
      });
      if (!d.online) return;
      await this.#checkpoint(d, RECOVERY_POINT_CHECKPOINT_FILE, [...d.logs].map(([k, log]) => [k, log.recoveryPoint] as const));
      await this.#checkpoint(d, LOG_START_OFFSET_CHECKPOINT_FILE, [...d.logs]
        .filter(([, log]) => log.logStartOffset > log.localLogStartOffset).map(([k, log]) => [k, log.logStartOffset] as const));
      if (clean && d.online) await writeFileAtomic(path.join(d.dir, CLEAN_SHUTDOWN_FILE), '').catch((e: unknown) => this.#failDir(d, e));
    }));
    this.#pool.closeAll();
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch {
    return false;
  }
}
