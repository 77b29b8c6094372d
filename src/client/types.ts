// The client's public data shapes. Offsets and timestamps are JS numbers (exact to 2^53, which covers every
// offset and millisecond timestamp a broker hands out); the wire's bigints stop at the request codecs.
import type { KafkaResponseError } from './errors.js';

export interface BrokerInfo {
  readonly nodeId: number;
  readonly host: string;
  readonly port: number;
  readonly rack: string | null;
}

export interface PartitionInfo {
  readonly partition: number;
  /** -1 when the partition has no leader. */
  readonly leader: number;
  readonly leaderEpoch: number;
  readonly replicas: readonly number[];
  readonly isr: readonly number[];
  readonly offlineReplicas: readonly number[];
  readonly errorCode: number;
}

export interface TopicInfo {
  readonly name: string;
  /** The all-zero UUID when the broker does not report topic ids. */
  readonly topicId: string;
  readonly isInternal: boolean;
  /** Sorted by partition. */
  readonly partitions: readonly PartitionInfo[];
}

export interface ClusterInfo {
  readonly clusterId: string | null;
  /** -1 when unknown. */
  readonly controllerId: number;
  readonly brokers: readonly BrokerInfo[];
}

export interface NewTopic {
  readonly name: string;
  /** -1 (the default) lets the broker use num.partitions (CreateTopics v4+). */
  readonly numPartitions?: number;
  /** -1 (the default) lets the broker use default.replication.factor (CreateTopics v4+). */
  readonly replicationFactor?: number;
  /** Explicit replica assignment: partition index → broker ids. Excludes numPartitions/replicationFactor. */
  readonly assignments?: ReadonlyMap<number, readonly number[]>;
  readonly configs?: Readonly<Record<string, string>>;
}

export interface CreateTopicResult {
  readonly name: string;
  readonly topicId: string | null;
  /** As created (CreateTopics v5+), else -1. */
  readonly numPartitions: number;
  readonly replicationFactor: number;
  readonly error: KafkaResponseError | null;
}

export interface TopicResult {
  readonly name: string;
  readonly error: KafkaResponseError | null;
}

export const ConfigResourceType = { topic: 2, broker: 4, brokerLogger: 8 } as const;
export type ConfigResourceTypeName = keyof typeof ConfigResourceType;

/** Kafka's ConfigSource numbers, by name. */
export const CONFIG_SOURCES: readonly string[] = [
  'UNKNOWN',
  'DYNAMIC_TOPIC_CONFIG',
  'DYNAMIC_BROKER_CONFIG',
  'DYNAMIC_DEFAULT_BROKER_CONFIG',
  'STATIC_BROKER_CONFIG',
  'DEFAULT_CONFIG',
  'DYNAMIC_BROKER_LOGGER_CONFIG',
  'CLIENT_METRICS_CONFIG',
  'GROUP_CONFIG',
];

export interface ConfigResource {
  readonly type: ConfigResourceTypeName;
  /** Topic name, broker id as a string ('' for the cluster-wide broker default). */
  readonly name: string;
}

export interface ConfigEntry {
  readonly name: string;
  readonly value: string | null;
  readonly readOnly: boolean;
  readonly isDefault: boolean;
  /** A name from CONFIG_SOURCES. */
  readonly source: string;
  readonly isSensitive: boolean;
  readonly synonyms: readonly { readonly name: string; readonly value: string | null; readonly source: string }[];
}

export interface DescribeConfigsResult extends ConfigResource {
  readonly configs: readonly ConfigEntry[];
  readonly error: KafkaResponseError | null;
}

export const AlterConfigOp = { set: 0, delete: 1, append: 2, subtract: 3 } as const;
export type AlterConfigOpName = keyof typeof AlterConfigOp;

export interface ConfigAlteration {
  readonly name: string;
  readonly op: AlterConfigOpName;
  readonly value?: string | null;
}

export interface AlterConfigsResult extends ConfigResource {
  readonly error: KafkaResponseError | null;
}

/** Where ListOffsets looks: the first offset, the next offset to be written, or the first at or after a time. */
export type OffsetSpec = 'earliest' | 'latest' | 'max-timestamp' | { readonly timestamp: number };

export interface PartitionOffset {
  readonly partition: number;
  /** -1 when no record has a timestamp at or after the one asked for. */
  readonly offset: number;
  readonly timestamp: number;
  readonly leaderEpoch: number;
}

export type Bytes = Buffer | string | null;

export interface RecordHeaderInput {
  readonly key: string;
  readonly value: Bytes;
}

export interface ProduceRecord {
  readonly key?: Bytes;
  readonly value: Bytes;
  readonly headers?: readonly RecordHeaderInput[];
  /** Chosen by the partitioner when absent. */
  readonly partition?: number;
  /** CreateTime; defaults to now. */
  readonly timestamp?: number;
}

export interface ProduceOptions {
  /** 0 (no response), 1 (leader) or -1 (all in-sync replicas; the default). */
  readonly acks?: 0 | 1 | -1;
  /** none, gzip, snappy, lz4 or zstd. */
  readonly compression?: CompressionName;
  /** How long the broker may wait for replication (acks=-1). */
  readonly timeoutMs?: number;
}

export type CompressionName = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';

export interface ProducedPartition {
  readonly partition: number;
  /** Offset of the first record written; -1 with acks=0. */
  readonly baseOffset: number;
  readonly recordCount: number;
  /** The broker's append time for LogAppendTime topics, else -1. */
  readonly logAppendTime: number;
}

export interface ProduceResult {
  readonly topic: string;
  readonly partitions: readonly ProducedPartition[];
  /** Each input record's partition and offset, in input order (offset -1 with acks=0). */
  readonly records: readonly { readonly partition: number; readonly offset: number }[];
}

export interface ConsumedRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly timestamp: number;
  readonly timestampType: 'CreateTime' | 'LogAppendTime';
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: readonly { readonly key: string; readonly value: Buffer | null }[];
}

export interface FetchPosition {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

export interface FetchOptions {
  readonly maxWaitMs?: number;
  readonly minBytes?: number;
  readonly maxBytes?: number;
  readonly partitionMaxBytes?: number;
  /** 'read_uncommitted' (default) or 'read_committed' (skips records of aborted transactions). */
  readonly isolationLevel?: 'read_uncommitted' | 'read_committed';
}

export interface FetchResult {
  readonly topic: string;
  readonly partition: number;
  readonly records: readonly ConsumedRecord[];
  /** Where the next fetch of this partition should start. */
  readonly nextOffset: number;
  readonly highWatermark: number;
  readonly lastStableOffset: number;
  readonly logStartOffset: number;
  /** Set when the partition could not be read; `error.retriable` says whether trying again may help. */
  readonly error: KafkaResponseError | null;
}
