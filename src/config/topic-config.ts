// Every topic-level configuration of Kafka 3.9 (plus Strata's durable.append): names, types,
// defaults and validators as Kafka's LogConfig defines them, the broker keys each one falls back to
// (Kafka's ServerTopicConfigSynonyms, in priority order), validation of a CreateTopics/AlterConfigs
// map including Kafka's cross-key rules, resolution to the effective value of every key with its
// source and synonyms for DescribeConfigs, and the mapping onto the storage layer's LogConfig.
import { logConfig, type CleanupPolicy, type LogConfig } from '../storage/log-config.js';
import {
  atLeast,
  between,
  ConfigDefTable,
  ConfigError,
  ConfigSource,
  expectation,
  formatValue,
  Importance,
  invalidValue,
  isSensitive,
  longToNumber,
  parseValue,
  UpdateMode,
  validator,
  validList,
  validString,
  type ConfigDef,
  type ConfigValue,
} from './config-def.js';

const LONG_MAX = 2n ** 63n - 1n;
const HOUR_MS = 3_600_000n;
const MINUTE_MS = 60_000n;

/** A broker key a topic key falls back to; `unit` converts the broker value to milliseconds. */
export interface BrokerSynonym {
  readonly name: string;
  readonly unit?: 'minutes' | 'hours';
}

/** A topic key with its broker fallbacks, highest priority first (empty: no broker default). */
export type TopicConfigDef = ConfigDef & { readonly synonyms: readonly BrokerSynonym[] };

// ---------------------------------------------------------------------------------------------
// Validators specific to topic keys

/** Kafka's ThrottledReplicaListValidator: '*' or "partition:broker" pairs. */
const throttledReplicas = validator(
  (value) =>
    Array.isArray(value) &&
    (value.join('') === '*' || value.every((v: string) => /^(?:\d+:\d+)?$/.test(v.trim()))),
  "must be '*' or a list of [partitionId]:[brokerId] pairs",
  '[partitionId]:[brokerId],[partitionId]:[brokerId],...',
);

/** gzip accepts 1..9 or -1 (zlib's own default). */
const gzipLevel = validator(
  (value) => typeof value === 'number' && ((value >= 1 && value <= 9) || value === -1),
  'must be an integer in [1, 9] or -1',
  '[1,...,9] or -1',
);

// The inter-broker protocol versions Kafka 3.9 knows. message.format.version is deprecated and
// ignored since 3.0, but Kafka still refuses a value it cannot parse, and so do we.
const IBP_VERSIONS: readonly string[] = [
  '0.8.0', '0.8.1', '0.8.2', '0.9.0',
  '0.10.0-IV0', '0.10.0-IV1', '0.10.1-IV0', '0.10.1-IV1', '0.10.1-IV2', '0.10.2-IV0',
  '0.11.0-IV0', '0.11.0-IV1', '0.11.0-IV2', '1.0-IV0', '1.1-IV0', '2.0-IV0', '2.0-IV1',
  '2.1-IV0', '2.1-IV1', '2.1-IV2', '2.2-IV0', '2.2-IV1', '2.3-IV0', '2.3-IV1', '2.4-IV0', '2.4-IV1',
  '2.5-IV0', '2.6-IV0', '2.7-IV0', '2.7-IV1', '2.7-IV2', '2.8-IV0', '2.8-IV1', '3.0-IV0', '3.0-IV1',
  '3.1-IV0', '3.2-IV0', '3.3-IV0', '3.3-IV1', '3.3-IV2', '3.3-IV3', '3.4-IV0', '3.5-IV0', '3.5-IV1',
  '3.5-IV2', '3.6-IV0', '3.6-IV1', '3.6-IV2', '3.7-IV0', '3.7-IV1', '3.7-IV2', '3.7-IV3', '3.7-IV4',
  '3.8-IV0', '3.9-IV0',
];
const KNOWN_VERSIONS = new Set<string>(IBP_VERSIONS);
for (const v of IBP_VERSIONS) KNOWN_VERSIONS.add(v.replace(/-IV\d+$/, '')); // "2.8" = latest 2.8

/** As Kafka's MetadataVersion.fromVersionString: "3.0", "3.0-IV1", "3.0.1" (patch ignored), "0.10.2". */
export function isKnownMessageFormatVersion(version: string): boolean {
  const segments = version.split('.');
  const significant = version.startsWith('0.') ? 3 : 2;
  const key = segments.length <= significant ? version : segments.slice(0, significant).join('.');
  return KNOWN_VERSIONS.has(key);
}

const messageFormatVersion = validator(
  (value) => typeof value === 'string' && isKnownMessageFormatVersion(value),
  `must be a Kafka version such as 2.8 or 3.0-IV1 (one of [${IBP_VERSIONS.join(', ')}])`,
  `[${IBP_VERSIONS.join(', ')}]`,
);

/** compression.type values, in Kafka's BrokerCompressionType order. */
export const COMPRESSION_TYPES = ['uncompressed', 'zstd', 'lz4', 'snappy', 'gzip', 'producer'] as const;
export type TopicCompressionType = (typeof COMPRESSION_TYPES)[number];

// ---------------------------------------------------------------------------------------------
// The topic keys, in Kafka's LogConfig order.

const M = Importance.MEDIUM;

export const TOPIC_CONFIG_DEFS: ConfigDefTable<TopicConfigDef> = new ConfigDefTable<TopicConfigDef>([
  {
    name: 'segment.bytes', type: 'int', default: 1073741824, validator: atLeast(14), importance: M,
    doc: 'Size in bytes at which the active segment is closed and a new one started.',
    synonyms: [{ name: 'log.segment.bytes' }],
  },
  {
    name: 'segment.ms', type: 'long', default: 604800000n, validator: atLeast(1), importance: M,
    doc: 'Age after which the active segment is rolled even when it is not full, so that retention and compaction can act on it.',
    synonyms: [{ name: 'log.roll.ms' }, { name: 'log.roll.hours', unit: 'hours' }],
  },
  {
    name: 'segment.jitter.ms', type: 'long', default: 0n, validator: atLeast(0), importance: M,
    doc: 'Upper bound of a random amount taken off segment.ms for each segment, so that many partitions do not roll at once.',
    synonyms: [{ name: 'log.roll.jitter.ms' }, { name: 'log.roll.jitter.hours', unit: 'hours' }],
  },
  {
    name: 'segment.index.bytes', type: 'int', default: 10485760, validator: atLeast(4), importance: M,
    doc: "Bytes preallocated for each segment's offset and time index; a full index rolls the segment.",
    synonyms: [{ name: 'log.index.size.max.bytes' }],
  },
  {
    name: 'flush.messages', type: 'long', default: LONG_MAX, validator: atLeast(1), importance: M,
    doc: 'Messages appended between two forced fsyncs; the default leaves flushing to the OS.',
    synonyms: [{ name: 'log.flush.interval.messages' }],
  },
  {
    name: 'flush.ms', type: 'long', default: LONG_MAX, validator: atLeast(0), importance: M,
    doc: 'Longest time appended data may stay unflushed before an fsync is forced; the default leaves flushing to the OS.',
    synonyms: [{ name: 'log.flush.interval.ms' }, { name: 'log.flush.scheduler.interval.ms' }],
  },
  {
    name: 'retention.bytes', type: 'long', default: -1n, importance: M,
    doc: 'Size a partition may reach before its oldest segments are deleted (delete policy); -1 means no size limit.',
    synonyms: [{ name: 'log.retention.bytes' }],
  },
  {
    name: 'retention.ms', type: 'long', default: 604800000n, validator: atLeast(-1), importance: M,
    doc: 'How long data is kept before its segment may be deleted (delete policy); -1 keeps it forever.',
    synonyms: [
      { name: 'log.retention.ms' },
      { name: 'log.retention.minutes', unit: 'minutes' },
      { name: 'log.retention.hours', unit: 'hours' },
    ],
  },
  {
    name: 'max.message.bytes', type: 'int', default: 1048588, validator: atLeast(0), importance: M,
    doc: 'Largest record batch, in bytes, that the topic accepts.',
    synonyms: [{ name: 'message.max.bytes' }],
  },
  {
    name: 'index.interval.bytes', type: 'int', default: 4096, validator: atLeast(0), importance: M,
    doc: 'Bytes of log written between two offset index entries; smaller means finer lookups and bigger indexes.',
    synonyms: [{ name: 'log.index.interval.bytes' }],
  },
  {
    name: 'delete.retention.ms', type: 'long', default: 86400000n, validator: atLeast(0), importance: M,
    doc: 'How long tombstones of a compacted topic stay readable, giving consumers time to see deletions.',
    synonyms: [{ name: 'log.cleaner.delete.retention.ms' }],
  },
  {
    name: 'min.compaction.lag.ms', type: 'long', default: 0n, validator: atLeast(0), importance: M,
    doc: 'Minimum age of a record before compaction may remove it.',
    synonyms: [{ name: 'log.cleaner.min.compaction.lag.ms' }],
  },
  {
    name: 'max.compaction.lag.ms', type: 'long', default: LONG_MAX, validator: atLeast(1), importance: M,
    doc: 'Longest time a record may stay uncompacted before the cleaner must process it.',
    synonyms: [{ name: 'log.cleaner.max.compaction.lag.ms' }],
  },
  {
    name: 'file.delete.delay.ms', type: 'long', default: 60000n, validator: atLeast(0), importance: M,
    doc: "Delay between a segment's removal from the log and the deletion of its files.",
    synonyms: [{ name: 'log.segment.delete.delay.ms' }],
  },
  {
    name: 'min.cleanable.dirty.ratio', type: 'double', default: 0.5, validator: between(0, 1), importance: M,
    doc: 'Share of not-yet-compacted log above which the cleaner compacts the partition.',
    synonyms: [{ name: 'log.cleaner.min.cleanable.ratio' }],
  },
  {
    name: 'cleanup.policy', type: 'list', default: ['delete'], validator: validList('compact', 'delete'), importance: M,
    doc: 'What happens to old data: delete whole segments, compact to the latest record per key, or both.',
    synonyms: [{ name: 'log.cleanup.policy' }],
  },
  {
    name: 'unclean.leader.election.enable', type: 'boolean', default: false, importance: M,
    doc: 'Whether a replica outside the ISR may become leader when no in-sync replica is left, at the cost of losing data.',
    synonyms: [{ name: 'unclean.leader.election.enable' }],
  },
  {
    name: 'min.insync.replicas', type: 'int', default: 1, validator: atLeast(1), importance: M,
    doc: 'In-sync replicas required for an acks=all write to succeed.',
    synonyms: [{ name: 'min.insync.replicas' }],
  },
  {
    name: 'compression.type', type: 'string', default: 'producer', validator: validString(...COMPRESSION_TYPES),
    importance: M,
    doc: "Codec the broker stores batches with; 'producer' keeps what the producer sent, 'uncompressed' stores none.",
    synonyms: [{ name: 'compression.type' }],
  },
  {
    name: 'compression.gzip.level', type: 'int', default: -1, validator: gzipLevel, importance: M,
    doc: 'gzip level used when the broker recompresses with gzip.',
    synonyms: [{ name: 'compression.gzip.level' }],
  },
  {
    name: 'compression.lz4.level', type: 'int', default: 9, validator: between(1, 17), importance: M,
    doc: 'lz4 level used when the broker recompresses with lz4.',
    synonyms: [{ name: 'compression.lz4.level' }],
  },
  {
    name: 'compression.zstd.level', type: 'int', default: 3, validator: between(-131072, 22), importance: M,
    doc: 'zstd level used when the broker recompresses with zstd.',
    synonyms: [{ name: 'compression.zstd.level' }],
  },
  {
    name: 'preallocate', type: 'boolean', default: false, importance: M,
    doc: 'Whether a new segment file is allocated at its full size up front.',
    synonyms: [{ name: 'log.preallocate' }],
  },
  {
    name: 'message.format.version', type: 'string', default: '3.0-IV1', validator: messageFormatVersion,
    importance: M,
    doc: 'Deprecated and ignored (record batches are always v2); accepted so that existing configurations still apply.',
    synonyms: [{ name: 'log.message.format.version' }],
  },
  {
    name: 'message.timestamp.type', type: 'string', default: 'CreateTime',
    validator: validString('CreateTime', 'LogAppendTime'), importance: M,
    doc: "Whether record timestamps are the producer's (CreateTime) or the broker's append time (LogAppendTime).",
    synonyms: [{ name: 'log.message.timestamp.type' }],
  },
  {
    name: 'message.timestamp.difference.max.ms', type: 'long', default: LONG_MAX, validator: atLeast(0), importance: M,
    doc: 'Deprecated: largest allowed distance between a CreateTime timestamp and the broker clock, used when the before/after keys are unset.',
    synonyms: [{ name: 'log.message.timestamp.difference.max.ms' }],
  },
  {
    name: 'message.timestamp.before.max.ms', type: 'long', default: LONG_MAX, validator: atLeast(0), importance: M,
    doc: 'How far in the past a CreateTime timestamp may be, relative to the broker clock, for the batch to be accepted.',
    synonyms: [{ name: 'log.message.timestamp.before.max.ms' }],
  },
  {
    name: 'message.timestamp.after.max.ms', type: 'long', default: LONG_MAX, validator: atLeast(0), importance: M,
    doc: 'How far in the future a CreateTime timestamp may be, relative to the broker clock, for the batch to be accepted.',
    synonyms: [{ name: 'log.message.timestamp.after.max.ms' }],
  },
  {
    name: 'leader.replication.throttled.replicas', type: 'list', default: [], validator: throttledReplicas,
    importance: M,
    doc: "Replicas whose replication is throttled on the leader side, as partition:broker pairs, or '*' for all.",
    synonyms: [],
  },
  {
    name: 'follower.replication.throttled.replicas', type: 'list', default: [], validator: throttledReplicas,
    importance: M,
    doc: "Replicas whose replication is throttled on the follower side, as partition:broker pairs, or '*' for all.",
    synonyms: [],
  },
  {
    name: 'message.downconversion.enable', type: 'boolean', default: true, importance: Importance.LOW,
    doc: 'Whether fetches from old clients that need an older record format are served by converting batches.',
    synonyms: [{ name: 'log.message.downconversion.enable' }],
  },
  {
    name: 'remote.storage.enable', type: 'boolean', default: false, importance: M,
    doc: 'Whether rolled segments are copied to tiered (remote) storage.',
    synonyms: [],
  },
  {
    name: 'local.retention.ms', type: 'long', default: -2n, validator: atLeast(-2), importance: M,
    doc: 'With tiered storage, how long segments stay on local disk after being copied; -2 means use retention.ms.',
    synonyms: [{ name: 'log.local.retention.ms' }],
  },
  {
    name: 'local.retention.bytes', type: 'long', default: -2n, validator: atLeast(-2), importance: M,
    doc: 'With tiered storage, how many bytes of copied segments stay on local disk; -2 means use retention.bytes.',
    synonyms: [{ name: 'log.local.retention.bytes' }],
  },
  {
    name: 'remote.log.copy.disable', type: 'boolean', default: false, importance: M,
    doc: 'With tiered storage, stop copying new segments while keeping the remote ones readable.',
    synonyms: [],
  },
  {
    name: 'remote.log.delete.on.disable', type: 'boolean', default: false, importance: M,
    doc: 'Confirms that turning remote.storage.enable off deletes the remote segments.',
    synonyms: [],
  },
  {
    name: 'durable.append', type: 'boolean', default: false, importance: M,
    doc: 'Strata: acknowledge an append only after it is fsynced; concurrent appends share one fsync.',
    synonyms: [{ name: 'log.durable.append' }],
  },
]);

// ---------------------------------------------------------------------------------------------
// The broker keys topic keys fall back to, with Kafka 3.9's broker defaults. The later broker
// configuration table includes these rows rather than defining them again.

const H = Importance.HIGH;
const CW = UpdateMode.CLUSTER_WIDE;
const RO = UpdateMode.READ_ONLY;

export const BROKER_LOG_CONFIG_DEFS: ConfigDefTable = new ConfigDefTable([
  { name: 'log.segment.bytes', type: 'int', default: 1073741824, validator: atLeast(14), importance: H, updateMode: CW, doc: 'Default segment.bytes for topics.' },
  { name: 'log.roll.ms', type: 'long', default: null, importance: H, updateMode: CW, doc: 'Default segment.ms for topics; when unset, log.roll.hours applies.' },
  { name: 'log.roll.hours', type: 'int', default: 168, validator: atLeast(1), importance: H, updateMode: RO, doc: 'Default segment.ms for topics, in hours, used when log.roll.ms is unset.' },
  { name: 'log.roll.jitter.ms', type: 'long', default: null, importance: H, updateMode: CW, doc: 'Default segment.jitter.ms for topics; when unset, log.roll.jitter.hours applies.' },
  { name: 'log.roll.jitter.hours', type: 'int', default: 0, validator: atLeast(0), importance: H, updateMode: RO, doc: 'Default segment.jitter.ms for topics, in hours, used when log.roll.jitter.ms is unset.' },
  { name: 'log.index.size.max.bytes', type: 'int', default: 10485760, validator: atLeast(4), importance: M, updateMode: CW, doc: 'Default segment.index.bytes for topics.' },
  { name: 'log.flush.interval.messages', type: 'long', default: LONG_MAX, validator: atLeast(1), importance: H, updateMode: CW, doc: 'Default flush.messages for topics.' },
  { name: 'log.flush.interval.ms', type: 'long', default: null, importance: H, updateMode: CW, doc: 'Default flush.ms for topics; when unset, log.flush.scheduler.interval.ms applies.' },
  { name: 'log.flush.scheduler.interval.ms', type: 'long', default: LONG_MAX, importance: H, updateMode: RO, doc: 'How often the flusher checks logs for a due flush; also the flush.ms default when log.flush.interval.ms is unset.' },
  { name: 'log.retention.bytes', type: 'long', default: -1n, importance: H, updateMode: CW, doc: 'Default retention.bytes for topics.' },
  { name: 'log.retention.ms', type: 'long', default: null, importance: H, updateMode: CW, doc: 'Default retention.ms for topics; when unset, log.retention.minutes then log.retention.hours apply.' },
  { name: 'log.retention.minutes', type: 'int', default: null, importance: H, updateMode: RO, doc: 'Default retention.ms for topics, in minutes, used when log.retention.ms is unset.' },
  { name: 'log.retention.hours', type: 'int', default: 168, importance: H, updateMode: RO, doc: 'Default retention.ms for topics, in hours, used when the ms and minutes keys are unset.' },
  { name: 'message.max.bytes', type: 'int', default: 1048588, validator: atLeast(0), importance: H, updateMode: CW, doc: 'Default max.message.bytes for topics.' },
  { name: 'log.index.interval.bytes', type: 'int', default: 4096, validator: atLeast(0), importance: M, updateMode: CW, doc: 'Default index.interval.bytes for topics.' },
  { name: 'log.cleaner.delete.retention.ms', type: 'long', default: 86400000n, validator: atLeast(0), importance: M, updateMode: CW, doc: 'Default delete.retention.ms for topics.' },
  { name: 'log.cleaner.min.compaction.lag.ms', type: 'long', default: 0n, validator: atLeast(0), importance: M, updateMode: CW, doc: 'Default min.compaction.lag.ms for topics.' },
  { name: 'log.cleaner.max.compaction.lag.ms', type: 'long', default: LONG_MAX, validator: atLeast(1), importance: M, updateMode: CW, doc: 'Default max.compaction.lag.ms for topics.' },
  { name: 'log.segment.delete.delay.ms', type: 'long', default: 60000n, validator: atLeast(0), importance: H, updateMode: CW, doc: 'Default file.delete.delay.ms for topics.' },
  { name: 'log.cleaner.min.cleanable.ratio', type: 'double', default: 0.5, validator: between(0, 1), importance: M, updateMode: CW, doc: 'Default min.cleanable.dirty.ratio for topics.' },
  { name: 'log.cleanup.policy', type: 'list', default: ['delete'], validator: validList('compact', 'delete'), importance: M, updateMode: CW, doc: 'Default cleanup.policy for topics.' },
  { name: 'unclean.leader.election.enable', type: 'boolean', default: false, importance: H, updateMode: CW, doc: 'Default unclean.leader.election.enable for topics.' },
  { name: 'min.insync.replicas', type: 'int', default: 1, validator: atLeast(1), importance: H, updateMode: CW, doc: 'Default min.insync.replicas for topics.' },
  { name: 'compression.type', type: 'string', default: 'producer', validator: validString(...COMPRESSION_TYPES), importance: H, updateMode: CW, doc: 'Default compression.type for topics.' },
  { name: 'compression.gzip.level', type: 'int', default: -1, validator: gzipLevel, importance: M, updateMode: CW, doc: 'Default compression.gzip.level for topics.' },
  { name: 'compression.lz4.level', type: 'int', default: 9, validator: between(1, 17), importance: M, updateMode: CW, doc: 'Default compression.lz4.level for topics.' },
  { name: 'compression.zstd.level', type: 'int', default: 3, validator: between(-131072, 22), importance: M, updateMode: CW, doc: 'Default compression.zstd.level for topics.' },
  { name: 'log.preallocate', type: 'boolean', default: false, importance: M, updateMode: CW, doc: 'Default preallocate for topics.' },
  { name: 'log.message.format.version', type: 'string', default: '3.0-IV1', validator: messageFormatVersion, importance: M, updateMode: RO, doc: 'Deprecated and ignored; default message.format.version for topics.' },
  { name: 'log.message.timestamp.type', type: 'string', default: 'CreateTime', validator: validString('CreateTime', 'LogAppendTime'), importance: M, updateMode: CW, doc: 'Default message.timestamp.type for topics.' },
  { name: 'log.message.timestamp.difference.max.ms', type: 'long', default: LONG_MAX, validator: atLeast(0), importance: M, updateMode: CW, doc: 'Deprecated; default message.timestamp.difference.max.ms for topics.' },
  { name: 'log.message.timestamp.before.max.ms', type: 'long', default: LONG_MAX, validator: atLeast(0), importance: M, updateMode: CW, doc: 'Default message.timestamp.before.max.ms for topics.' },
  { name: 'log.message.timestamp.after.max.ms', type: 'long', default: LONG_MAX, validator: atLeast(0), importance: M, updateMode: CW, doc: 'Default message.timestamp.after.max.ms for topics.' },
  { name: 'log.message.downconversion.enable', type: 'boolean', default: true, importance: Importance.LOW, updateMode: CW, doc: 'Default message.downconversion.enable for topics.' },
  { name: 'log.local.retention.ms', type: 'long', default: -2n, validator: atLeast(-2), importance: M, updateMode: CW, doc: 'Default local.retention.ms for topics.' },
  { name: 'log.local.retention.bytes', type: 'long', default: -2n, validator: atLeast(-2), importance: M, updateMode: CW, doc: 'Default local.retention.bytes for topics.' },
  { name: 'log.durable.append', type: 'boolean', default: false, importance: M, updateMode: CW, doc: 'Strata: default durable.append for topics.' },
]);

// ---------------------------------------------------------------------------------------------
// Broker configuration as seen by topic resolution

type StringMap = ReadonlyMap<string, string> | Readonly<Record<string, string>>;

function lookup(map: StringMap | undefined, key: string): string | undefined {
  if (map === undefined) return undefined;
  if (map instanceof Map) return map.get(key);
  const rec = map as Readonly<Record<string, string>>;
  return Object.prototype.hasOwnProperty.call(rec, key) ? rec[key] : undefined;
}

/**
 * The broker's own configuration in Kafka's layers, highest priority first: dynamic per-broker,
 * dynamic cluster-wide default, static (server.properties). Values are the strings as configured;
 * the built-in defaults of BROKER_LOG_CONFIG_DEFS form the last layer.
 */
export interface BrokerConfigLayers {
  readonly dynamicBroker?: StringMap;
  readonly dynamicDefault?: StringMap;
  readonly static?: StringMap;
}

const BROKER_LAYERS = [
  ['dynamicBroker', ConfigSource.DYNAMIC_BROKER_CONFIG],
  ['dynamicDefault', ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG],
  ['static', ConfigSource.STATIC_BROKER_CONFIG],
] as const;

/** One entry of DescribeConfigs' synonym list. */
export interface ConfigSynonymEntry {
  readonly name: string;
  /** The value as configured; null for sensitive keys. */
  readonly value: string | null;
  readonly source: ConfigSource;
}

/** The effective value of one topic key. */
export interface ResolvedTopicConfig {
  readonly name: string;
  readonly def: TopicConfigDef;
  readonly value: ConfigValue | null;
  /** The value as DescribeConfigs shows it (Kafka's rendering); null for sensitive keys. */
  readonly valueString: string | null;
  readonly source: ConfigSource;
  /** Topic override first, then broker synonyms in Kafka's order; see resolveTopicConfig. */
  readonly synonyms: readonly ConfigSynonymEntry[];
}

export type EffectiveTopicConfig = ReadonlyMap<string, ResolvedTopicConfig>;

/** The broker keys `topicKey` falls back to, highest priority first. */
export function brokerSynonymsOf(topicKey: string): readonly BrokerSynonym[] {
  return TOPIC_CONFIG_DEFS.get(topicKey)?.synonyms ?? [];
}

/** Topic key → its first broker synonym (Kafka's TOPIC_CONFIG_SYNONYMS); keys without one are absent. */
export function topicConfigSynonyms(): Map<string, string> {
  const out = new Map<string, string>();
  for (const def of TOPIC_CONFIG_DEFS.defs()) if (def.synonyms.length > 0) out.set(def.name, def.synonyms[0]!.name);
  return out;
}

function parseBroker(name: string, raw: string): ConfigValue {
  const def = BROKER_LOG_CONFIG_DEFS.get(name);
  if (def === undefined) throw new ConfigError(`Unknown broker configuration ${name}`, name);
  return parseValue(def, raw);
}

/** A broker synonym's value converted to the topic key's type and unit. */
function brokerToTopicValue(def: TopicConfigDef, synonym: BrokerSynonym, value: ConfigValue): ConfigValue {
  if (def.type !== 'long' || (typeof value !== 'number' && typeof value !== 'bigint')) return value;
  let v = BigInt(value);
  if (synonym.unit === 'hours') v *= HOUR_MS;
  else if (synonym.unit === 'minutes') v *= MINUTE_MS;
  // Kafka's KafkaConfig.logRetentionTimeMillis turns any negative retention into -1 (infinite).
  if (def.name === 'retention.ms' && v < 0n) v = -1n;
  return v;
}

interface BrokerCandidate extends ConfigSynonymEntry {
  readonly synonym: BrokerSynonym;
  readonly raw: string;
}

/**
 * The topic value a broker synonym gives. Some broker keys are looser than their topic key (Kafka's
 * log.roll.ms has no lower bound, segment.ms must be ≥ 1); Kafka then fails when it builds the
 * topic's LogConfig, and so do we, naming the broker key.
 */
function fromBroker(def: TopicConfigDef, candidate: BrokerCandidate): ConfigValue {
  const value = brokerToTopicValue(def, candidate.synonym, parseBroker(candidate.name, candidate.raw));
  if (def.validator !== undefined && !def.validator.accepts(value, def.type)) {
    throw invalidValue(candidate.name, candidate.raw, `as the default of ${def.name} it ${expectation(def)}`);
  }
  return value;
}

/**
 * Effective value, source and synonyms of every topic key for a topic with `overrides`, on a broker
 * configured as `broker`.
 *
 * Value: a topic override wins; otherwise the first broker synonym (in priority order) that is set in
 * any broker layer, taken from its highest layer; otherwise the first synonym with a built-in default;
 * otherwise the topic key's own default. This is how Kafka's KafkaConfig derives a topic default
 * (e.g. log.retention.ms, else log.retention.minutes, else log.retention.hours).
 *
 * Synonyms: Kafka lists the override, then for each layer (dynamic broker, dynamic default, static,
 * default) each synonym set in it, and drops leading entries until the first one named like the
 * primary synonym. When the primary synonym is set nowhere (the usual case for retention.ms, whose
 * primary log.retention.ms has no default) Kafka's rule drops every entry and reports DEFAULT_CONFIG
 * even if log.retention.hours was set in server.properties. We drop leading entries only until the
 * entry the value actually came from, which is identical whenever Kafka's answer is right and names
 * the real source when it is not.
 *
 * Unknown override keys are ignored here (as Kafka's LogConfig ignores them); validateTopicConfigs is
 * where they are refused.
 */
export function resolveTopicConfig(overrides: StringMap = {}, broker: BrokerConfigLayers = {}): EffectiveTopicConfig {
  const out = new Map<string, ResolvedTopicConfig>();
  for (const def of TOPIC_CONFIG_DEFS.defs()) {
    const sensitive = isSensitive(def);
    const shown = (s: string | null): string | null => (sensitive ? null : s);

    const candidates: BrokerCandidate[] = [];
    for (const [layer, source] of BROKER_LAYERS) {
      for (const synonym of def.synonyms) {
        const raw = lookup(broker[layer], synonym.name);
        if (raw !== undefined) candidates.push({ name: synonym.name, value: shown(raw), source, synonym, raw });
      }
    }
    for (const synonym of def.synonyms) {
      const brokerDef = BROKER_LOG_CONFIG_DEFS.get(synonym.name);
      const dflt = brokerDef === undefined ? null : formatValue(brokerDef.type, BROKER_LOG_CONFIG_DEFS.defaultValue(synonym.name));
      if (dflt !== null) {
        candidates.push({ name: synonym.name, value: shown(dflt), source: ConfigSource.DEFAULT_CONFIG, synonym, raw: dflt });
      }
    }
    // The winner: the highest-priority synonym present anywhere, from its highest layer.
    let winner: BrokerCandidate | undefined;
    for (const synonym of def.synonyms) {
      winner = candidates.find((c) => c.synonym === synonym);
      if (winner !== undefined) break;
    }

    const overrideRaw = lookup(overrides, def.name);
    let value: ConfigValue | null;
    if (overrideRaw !== undefined) value = parseValue(def, overrideRaw);
    else if (winner !== undefined) value = fromBroker(def, winner);
    else value = def.default === null || typeof def.default === 'symbol' ? null : def.default;

    const brokerEntries: ConfigSynonymEntry[] =
      winner === undefined ? [] : candidates.slice(candidates.indexOf(winner)).map(({ name, value: v, source }) => ({ name, value: v, source }));
    const synonyms: ConfigSynonymEntry[] =
      overrideRaw === undefined
        ? brokerEntries
        : [{ name: def.name, value: shown(formatValue(def.type, value)), source: ConfigSource.TOPIC_CONFIG }, ...brokerEntries];

    out.set(def.name, {
      name: def.name,
      def,
      value,
      valueString: shown(formatValue(def.type, value)),
      source: synonyms[0]?.source ?? ConfigSource.DEFAULT_CONFIG,
      synonyms,
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Validation of a topic's configuration (CreateTopics, AlterConfigs, IncrementalAlterConfigs)

export interface ValidateTopicConfigsOptions {
  /** The broker's configuration, for the cross-key rules that read effective values. */
  readonly broker?: BrokerConfigLayers;
  /** The topic's current overrides (AlterConfigs): needed to notice tiered storage being turned off. */
  readonly existing?: StringMap;
  /** The broker's remote.log.storage.system.enable (Kafka's default: false). */
  readonly remoteStorageSystemEnabled?: boolean;
}

type ConfigInput = ReadonlyMap<string, string | null> | Readonly<Record<string, string | null>>;

const longOf = (effective: EffectiveTopicConfig, key: string): bigint => effective.get(key)!.value as bigint;
const boolOf = (effective: EffectiveTopicConfig, key: string): boolean => effective.get(key)!.value === true;

/**
 * Checks a topic's override map as Kafka's broker does before accepting it. `configs` is the complete
 * set of overrides the topic will have: for CreateTopics the requested configs, for AlterConfigs the
 * new set, for IncrementalAlterConfigs the current overrides with the operations applied. Rules: no null values, no
 * unknown keys, every value parses and passes its validator, and the cross-key rules hold
 * (compaction lags ordered; tiered storage only when the broker has it, never with compaction, local
 * retention within total retention, equal retentions when copying is disabled, and no silent
 * turning-off of tiered storage). Returns the parsed overrides; throws the first ConfigError.
 */
export function validateTopicConfigs(configs: ConfigInput, options: ValidateTopicConfigsOptions = {}): Map<string, ConfigValue> {
  const entries: [string, string | null][] = configs instanceof Map ? [...configs.entries()] : Object.entries(configs);
  const nulls = entries.filter(([, v]) => v === null).map(([k]) => k);
  if (nulls.length > 0) throw new ConfigError(`Null value not supported for topic configs: ${nulls.join(',')}`, nulls[0]);
  for (const [name] of entries) {
    if (!TOPIC_CONFIG_DEFS.has(name)) throw new ConfigError(`Unknown topic config name: ${name}`, name);
  }
  const parsed = new Map<string, ConfigValue>();
  const raw = new Map<string, string>();
  for (const [name, value] of entries) {
    parsed.set(name, parseValue(TOPIC_CONFIG_DEFS.get(name)!, value!));
    raw.set(name, value!);
  }

  const effective = resolveTopicConfig(raw, options.broker ?? {});
  const minLag = longOf(effective, 'min.compaction.lag.ms');
  const maxLag = longOf(effective, 'max.compaction.lag.ms');
  if (minLag > maxLag) {
    throw new ConfigError(
      `Conflicting topic configs: min.compaction.lag.ms (${minLag}) must not be greater than max.compaction.lag.ms (${maxLag})`,
      'min.compaction.lag.ms',
    );
  }

  if (boolOf(effective, 'remote.storage.enable')) {
    validateRemoteStorage(effective, options.remoteStorageSystemEnabled ?? false);
  } else {
    const wasEnabled = lookup(options.existing, 'remote.storage.enable');
    if (wasEnabled !== undefined && wasEnabled.trim().toLowerCase() === 'true' && !boolOf(effective, 'remote.log.delete.on.disable')) {
      throw new ConfigError(
        'Turning off remote.storage.enable would lose the remote data: set remote.log.delete.on.disable=true to ' +
          'delete it, or keep remote.storage.enable=true with remote.log.copy.disable=true to keep it read-only',
        'remote.storage.enable',
      );
    }
  }
  return parsed;
}

function validateRemoteStorage(effective: EffectiveTopicConfig, systemEnabled: boolean): void {
  if (!systemEnabled) {
    throw new ConfigError(
      'Tiered storage is disabled on the broker (remote.log.storage.system.enable=false): a topic cannot set remote.storage.enable=true',
      'remote.storage.enable',
    );
  }
  const policy = effective.get('cleanup.policy')!.value as readonly string[];
  if (policy.some((p) => p.toLowerCase().includes('compact'))) {
    throw new ConfigError('Tiered storage is not supported for compacted topics (cleanup.policy includes compact)', 'remote.storage.enable');
  }
  for (const [total, local, unlimited] of [
    ['retention.bytes', 'local.retention.bytes', (v: bigint) => v <= -1n],
    ['retention.ms', 'local.retention.ms', (v: bigint) => v === -1n],
  ] as const) {
    const totalValue = longOf(effective, total);
    const localValue = longOf(effective, local);
    if (unlimited(totalValue) || localValue === -2n) continue;
    if (localValue === -1n) throw invalidValue(local, '-1', `must not be -1 while ${total} is limited (${totalValue})`);
    if (localValue > totalValue) throw invalidValue(local, String(localValue), `must not be more than ${total} (${totalValue})`);
  }
  if (boolOf(effective, 'remote.log.copy.disable')) {
    for (const [total, local] of [['retention.bytes', 'local.retention.bytes'], ['retention.ms', 'local.retention.ms']] as const) {
      const localValue = longOf(effective, local);
      if (localValue !== -2n && localValue !== longOf(effective, total)) {
        throw new ConfigError(
          `With remote.log.copy.disable=true, ${local} must equal ${total}: nothing more is copied to remote storage`,
          local,
        );
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Mapping onto storage

/**
 * Kafka's before/after timestamp bounds fall back to the deprecated difference bound while they are
 * at their Long.MAX_VALUE default.
 */
export function timestampBounds(effective: EffectiveTopicConfig): { beforeMaxMs: bigint; afterMaxMs: bigint } {
  const difference = longOf(effective, 'message.timestamp.difference.max.ms');
  const before = longOf(effective, 'message.timestamp.before.max.ms');
  const after = longOf(effective, 'message.timestamp.after.max.ms');
  return { beforeMaxMs: before === LONG_MAX ? difference : before, afterMaxMs: after === LONG_MAX ? difference : after };
}

const num = (effective: EffectiveTopicConfig, key: string): number => {
  const v = effective.get(key)!.value;
  return typeof v === 'bigint' ? longToNumber(v) : (v as number);
};

/**
 * The storage LogConfig for a resolved topic. Kafka's empty cleanup.policy (neither compaction nor
 * retention) has no LogConfig spelling; it maps to 'delete' with unlimited retention, which deletes
 * nothing but what DeleteRecords asks for — the same behaviour.
 */
export function toLogConfig(effective: EffectiveTopicConfig): LogConfig {
  const policy = effective.get('cleanup.policy')!.value as readonly string[];
  const compact = policy.includes('compact');
  const del = policy.includes('delete');
  const cleanupPolicy: CleanupPolicy = compact && del ? 'compact,delete' : compact ? 'compact' : 'delete';
  const keepAll = !compact && !del;
  return logConfig({
    segmentBytes: num(effective, 'segment.bytes'),
    segmentMs: num(effective, 'segment.ms'),
    segmentJitterMs: num(effective, 'segment.jitter.ms'),
    segmentIndexBytes: num(effective, 'segment.index.bytes'),
    indexIntervalBytes: num(effective, 'index.interval.bytes'),
    retentionMs: keepAll ? -1 : num(effective, 'retention.ms'),
    retentionBytes: keepAll ? -1 : num(effective, 'retention.bytes'),
    cleanupPolicy,
    deleteRetentionMs: num(effective, 'delete.retention.ms'),
    minCleanableDirtyRatio: num(effective, 'min.cleanable.dirty.ratio'),
    minCompactionLagMs: num(effective, 'min.compaction.lag.ms'),
    maxCompactionLagMs: num(effective, 'max.compaction.lag.ms'),
    fileDeleteDelayMs: num(effective, 'file.delete.delay.ms'),
    flushMessages: num(effective, 'flush.messages'),
    flushMs: num(effective, 'flush.ms'),
    maxMessageBytes: num(effective, 'max.message.bytes'),
    messageTimestampType: effective.get('message.timestamp.type')!.value as 'CreateTime' | 'LogAppendTime',
    preallocate: boolOf(effective, 'preallocate'),
    durableAppend: boolOf(effective, 'durable.append'),
  });
}

/** Convenience for callers holding a broker's layers and a topic's overrides. */
export function topicLogConfig(overrides: StringMap = {}, broker: BrokerConfigLayers = {}): LogConfig {
  return toLogConfig(resolveTopicConfig(overrides, broker));
}

/** Every broker key that some topic key falls back to (what the broker table must define). */
export function topicSynonymBrokerKeys(): string[] {
  return [...new Set([...TOPIC_CONFIG_DEFS.defs()].flatMap((d) => d.synonyms.map((s) => s.name)))];
}
