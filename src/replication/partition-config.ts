// What a partition needs beyond storage's LogConfig: the topic configs that the produce path applies
// (min.insync.replicas, compression.type, timestamp bounds). The config layer builds it from Kafka's keys.
import { DEFAULT_LOG_CONFIG, type LogConfig } from '../storage/log-config.js';
import { Compression } from '../protocol/records/batch-header.js';

/** `compression.type` values (Kafka's BrokerCompressionType). */
export type TopicCompressionType = 'producer' | 'uncompressed' | 'gzip' | 'snappy' | 'lz4' | 'zstd';

export interface PartitionConfig {
  readonly log: LogConfig;
  readonly minInsyncReplicas: number;
  readonly compressionType: TopicCompressionType;
  /** `message.timestamp.before.max.ms` (or the deprecated difference bound); MAX_SAFE_INTEGER = unbounded. */
  readonly timestampBeforeMaxMs: number;
  /** `message.timestamp.after.max.ms`. */
  readonly timestampAfterMaxMs: number;
}

export const DEFAULT_PARTITION_CONFIG: PartitionConfig = Object.freeze({
  log: DEFAULT_LOG_CONFIG,
  minInsyncReplicas: 1,
  compressionType: 'producer',
  timestampBeforeMaxMs: Number.MAX_SAFE_INTEGER,
  timestampAfterMaxMs: Number.MAX_SAFE_INTEGER,
});

export function partitionConfig(overrides: Partial<PartitionConfig> = {}): PartitionConfig {
  return Object.freeze({ ...DEFAULT_PARTITION_CONFIG, ...overrides });
}

/** The batch codec a topic's compression.type asks for, or undefined for `producer` (keep the producer's). */
export function targetCompression(type: TopicCompressionType): number | undefined {
  switch (type) {
    case 'producer':
      return undefined;
    case 'uncompressed':
      return Compression.none;
    default:
      return Compression[type];
  }
}
