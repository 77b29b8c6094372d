// The single-node data path, assembled: a LogManager over the log dirs, the ReplicaManager on top, the
// fetch session cache, and the handlers of Produce, Fetch, ListOffsets, OffsetForLeaderEpoch,
// DeleteRecords, DescribeLogDirs and DescribeProducers. Topics are looked up through the TopicLookup it is
// given (the metadata view, whose publisher opens partitions with ensureLeaderPartition); without one, a
// map is used and createTopic() stands in for the controller (this node leads every partition, epoch 0).
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { ErrorCode } from '../protocol/errors.js';
import { StrataError } from '../protocol/strata-error.js';
import { longToNumber } from '../config/config-def.js';
import { type BrokerConfigLayers, resolveTopicConfig, timestampBounds, toLogConfig } from '../config/topic-config.js';
import type { HandlerRegistry, ApiHandler } from '../broker/registry.js';
import type { DataPathDeps } from '../broker/data-path-deps.js';
import { DEFAULT_SESSION_CACHE_SLOTS, FetchSessionCache } from '../broker/fetch-sessions.js';
import { MapTopicLookup, type TopicLookup } from '../broker/topic-lookup.js';
import { produceHandler } from '../broker/handlers/produce.js';
import { fetchHandler } from '../broker/handlers/fetch.js';
import { listOffsetsHandler } from '../broker/handlers/list-offsets.js';
import { offsetForLeaderEpochHandler } from '../broker/handlers/offset-for-leader-epoch.js';
import { deleteRecordsHandler } from '../broker/handlers/delete-records.js';
import { describeLogDirsHandler } from '../broker/handlers/describe-log-dirs.js';
import { describeProducersHandler } from '../broker/handlers/describe-producers.js';
import { LogManager } from '../storage/log-manager.js';
import type { LogConfig } from '../storage/log-config.js';
import { LogCleaner, type CleanerConfig } from '../storage/cleaner/log-cleaner.js';
import { cleanableLog } from '../storage/cleaner/log-adapter.js';
import { systemClock } from '../storage/clock.js';
import { ReplicaManager } from '../replication/replica-manager.js';
import { randomTopicId } from '../storage/partition-metadata.js';
import type { PartitionConfig, TopicCompressionType } from '../replication/partition-config.js';

type StringMap = ReadonlyMap<string, string> | Readonly<Record<string, string>>;

/** A topic's PartitionConfig from its overrides over the broker's layers (Kafka's names and defaults). */
export function partitionConfigFor(overrides: StringMap = {}, broker: BrokerConfigLayers = {}): PartitionConfig {
  const effective = resolveTopicConfig(overrides, broker);
  const bounds = timestampBounds(effective);
  return {
    log: toLogConfig(effective),
    minInsyncReplicas: effective.get('min.insync.replicas')!.value as number,
    compressionType: effective.get('compression.type')!.value as TopicCompressionType,
    timestampBeforeMaxMs: longToNumber(bounds.beforeMaxMs),
    timestampAfterMaxMs: longToNumber(bounds.afterMaxMs),
  };
}

/** The handlers of the data path, built over `deps`. */
export function dataPathHandlers(deps: DataPathDeps): ApiHandler[] {
  return [
    produceHandler(deps),
    fetchHandler(deps),
    listOffsetsHandler(deps),
    offsetForLeaderEpochHandler(deps),
    deleteRecordsHandler(deps),
    describeLogDirsHandler(deps),
    describeProducersHandler(deps),
  ] as ApiHandler[];
}

export interface DataPathOptions {
  readonly nodeId: number;
  readonly logDirs: readonly string[];
  readonly log?: Logger;
  /** The broker's config layers that topic configs fall back to. */
  readonly brokerLayers?: BrokerConfigLayers;
  /** `max.incremental.fetch.session.cache.slots`. */
  readonly fetchSessionCacheSlots?: number;
  /** `fetch.max.bytes`. */
  readonly fetchMaxBytes?: number;
  /** Each topic's log config when its log is opened at start (before the metadata publisher runs). */
  readonly configFor?: (topic: string) => LogConfig;
  /** `log.retention.check.interval.ms`. */
  readonly retentionCheckIntervalMs?: number;
  /** `producer.id.expiration.ms`. */
  readonly producerIdExpirationMs?: number;
  /** The log cleaner's settings (`log.cleaner.*`); compaction is off when `enable` is false. */
  readonly cleaner?: Partial<CleanerConfig>;
  /** Run retention, flush and checkpoint timers (default true). */
  readonly scheduleTimers?: boolean;
  /** Where topics are looked up (the metadata view); default a map filled by createTopic(). */
  readonly topics?: TopicLookup;
}

interface LocalTopic {
  readonly id: string;
  readonly partitions: number;
  readonly overrides: StringMap;
}

export class DataPath {
  readonly logManager: LogManager;
  readonly replicaManager: ReplicaManager;
  readonly topics: TopicLookup;
  readonly fetchSessions: FetchSessionCache;
  readonly #brokerLayers: BrokerConfigLayers;
  /** Compaction of cleanup.policy=compact logs; undefined when log.cleaner.enable=false. */
  readonly cleaner: LogCleaner | undefined;
  /** Set when no TopicLookup was given: the topics createTopic() made. */
  readonly #map: MapTopicLookup | undefined;
  readonly #local = new Map<string, LocalTopic>();

  private constructor(logManager: LogManager, replicaManager: ReplicaManager, topics: TopicLookup, sessions: FetchSessionCache,
    brokerLayers: BrokerConfigLayers, cleaner: LogCleaner | undefined) {
    this.cleaner = cleaner;
    this.logManager = logManager;
    this.replicaManager = replicaManager;
    this.topics = topics;
    this.#map = topics instanceof MapTopicLookup ? topics : undefined;
    this.fetchSessions = sessions;
    this.#brokerLayers = brokerLayers;
  }

  static async start(opts: DataPathOptions): Promise<DataPath> {
    const log = opts.log;
    // The cleaner is created once the logs are loaded; deletion asks it to let go of a log first.
    let cleaner: LogCleaner | undefined;
    const logManager = await LogManager.start({
      cleanerHandlesCompactedLogs: opts.cleaner?.enable !== false,
      beforeDeleteLog: async (doomed, key) => {
        if (cleaner === undefined) return;
        await cleaner.abortCleaning(key);
        await cleaner.manager.updateCheckpointIn(dirname(doomed.dir), key, undefined);
      },
      logDirs: opts.logDirs,
      ...(log ? { logger: { info: (m: string) => log.info(m), warn: (m: string) => log.warn(m) } } : {}),
      ...(opts.scheduleTimers !== undefined ? { scheduleTimers: opts.scheduleTimers } : {}),
      ...(opts.configFor ? { configFor: opts.configFor } : {}),
      ...(opts.retentionCheckIntervalMs !== undefined ? { retentionCheckIntervalMs: opts.retentionCheckIntervalMs } : {}),
      ...(opts.producerIdExpirationMs !== undefined ? { producerIdExpirationMs: opts.producerIdExpirationMs } : {}),
    });
    const topics = opts.topics ?? new MapTopicLookup();
    const replicaManager = new ReplicaManager({
      nodeId: opts.nodeId,
      logManager,
      partitionExists: (t, p) => (topics.partitionCount(t) ?? 0) > p,
      ...(opts.fetchMaxBytes !== undefined ? { fetchMaxBytes: opts.fetchMaxBytes } : {}),
    });
    const sessions = new FetchSessionCache({ maxSlots: opts.fetchSessionCacheSlots ?? DEFAULT_SESSION_CACHE_SLOTS });
    if (opts.cleaner?.enable !== false) {
      cleaner = new LogCleaner({
        config: opts.cleaner ?? {},
        logs: () => [...logManager.allLogs()].map(([key, l]) => cleanableLog(l, key)),
        clock: systemClock,
        deleteOldSegments: (l) => logManager.allLogs().get(l.name)?.deleteOldSegments() ?? Promise.resolve(0),
        onEvent: (e) => {
          if (e.kind === 'failed') log?.warn({ log: e.log }, 'Log cleaning failed');
        },
      });
      if (opts.scheduleTimers !== false) cleaner.start();
    }
    return new DataPath(logManager, replicaManager, topics, sessions, opts.brokerLayers ?? {}, cleaner);
  }

  get deps(): DataPathDeps {
    return { replicaManager: this.replicaManager, topics: this.topics, fetchSessions: this.fetchSessions };
  }

  /** Adds the data-path handlers to `registry`. */
  register(registry: HandlerRegistry): HandlerRegistry {
    for (const h of dataPathHandlers(this.deps)) registry.register(h);
    return registry;
  }

  /**
   * Creates a topic led by this node (epoch 0), or grows it to `partitions`; a local stand-in for the
   * controller until the metadata image publishes topics. Returns the topic id.
   */
  async createTopic(name: string, partitions: number, overrides: StringMap = {}): Promise<string> {
    const map = this.#map;
    if (map === undefined) throw new StrataError('ERR_STATE', 'topics come from the metadata image: create them through the controller');
    if (!Number.isInteger(partitions) || partitions < 1) {
      throw new StrataError('ERR_CONFIG', `a topic needs at least one partition (error ${ErrorCode.INVALID_PARTITIONS})`);
    }
    const existing = this.#local.get(name);
    const id = existing?.id ?? randomTopicId();
    const config = partitionConfigFor(overrides, this.#brokerLayers);
    for (let p = 0; p < partitions; p++) {
      await this.replicaManager.ensureLeaderPartition({ topic: name, topicId: id, partition: p, leaderEpoch: 0, config });
    }
    const count = Math.max(partitions, existing?.partitions ?? 0);
    this.#local.set(name, { id, partitions: count, overrides });
    map.set(name, id, count);
    return id;
  }

  /** Removes a topic and its logs. */
  async deleteTopic(name: string): Promise<boolean> {
    const t = this.#local.get(name);
    if (t === undefined) return false;
    this.#local.delete(name);
    this.#map?.delete(name);
    for (let p = 0; p < t.partitions; p++) await this.replicaManager.stopPartition({ topic: name, partition: p }, { delete: true });
    return true;
  }

  /** Answers waiting requests, then closes every log cleanly. */
  async shutdown(): Promise<void> {
    await this.cleaner?.shutdown();
    this.replicaManager.shutdown();
    await this.logManager.shutdown();
  }
}
