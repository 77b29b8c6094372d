// The per-partition settings storage needs, as a plain typed object. Names follow Kafka's topic
// configs (segment.bytes → segmentBytes ...); the config layer maps Kafka's keys onto this shape, so
// storage itself never parses configuration files.
import { StrataError } from '../protocol/strata-error.js';

export type CleanupPolicy = 'delete' | 'compact' | 'compact,delete';
export type TimestampType = 'CreateTime' | 'LogAppendTime';

export interface LogConfig {
  readonly segmentBytes: number;
  readonly segmentMs: number;
  readonly segmentJitterMs: number;
  readonly segmentIndexBytes: number;
  readonly indexIntervalBytes: number;
  /** -1 = keep forever. */
  readonly retentionMs: number;
  /** -1 = no size limit. */
  readonly retentionBytes: number;
  readonly cleanupPolicy: CleanupPolicy;
  readonly deleteRetentionMs: number;
  readonly minCleanableDirtyRatio: number;
  readonly minCompactionLagMs: number;
  readonly maxCompactionLagMs: number;
  readonly fileDeleteDelayMs: number;
  /** Kafka's Long.MAX_VALUE default (leave flushing to the OS) is Number.MAX_SAFE_INTEGER here. */
  readonly flushMessages: number;
  readonly flushMs: number;
  readonly maxMessageBytes: number;
  readonly messageTimestampType: TimestampType;
  readonly preallocate: boolean;
  /** Strata's `durable.append`: an append resolves only after an fsync covering it (group commit). */
  readonly durableAppend: boolean;
}

export const DEFAULT_LOG_CONFIG: LogConfig = Object.freeze({
  segmentBytes: 1073741824,
  segmentMs: 604800000,
  segmentJitterMs: 0,
  segmentIndexBytes: 10485760,
  indexIntervalBytes: 4096,
  retentionMs: 604800000,
  retentionBytes: -1,
  cleanupPolicy: 'delete',
  deleteRetentionMs: 86400000,
  minCleanableDirtyRatio: 0.5,
  minCompactionLagMs: 0,
  maxCompactionLagMs: Number.MAX_SAFE_INTEGER,
  fileDeleteDelayMs: 60000,
  flushMessages: Number.MAX_SAFE_INTEGER,
  flushMs: Number.MAX_SAFE_INTEGER,
  maxMessageBytes: 1048588,
  messageTimestampType: 'CreateTime',
  preallocate: false,
  durableAppend: false,
});

/** Kafka's smallest allowed segment.bytes (LegacyRecord.RECORD_OVERHEAD_V0 = 14). */
const MIN_SEGMENT_BYTES = 14;
/** Kafka's smallest segment.index.bytes: room for at least one entry of either index. */
const MIN_INDEX_BYTES = 4;

/** The defaults overlaid with `overrides`, checked for values Kafka would reject. */
export function logConfig(overrides: Partial<LogConfig> = {}): LogConfig {
  const c: LogConfig = Object.freeze({ ...DEFAULT_LOG_CONFIG, ...overrides });
  const check = (ok: boolean, what: string): void => {
    if (!ok) throw new StrataError('ERR_CONFIG', `invalid log config: ${what}`);
  };
  check(Number.isInteger(c.segmentBytes) && c.segmentBytes >= MIN_SEGMENT_BYTES, `segment.bytes ${c.segmentBytes}`);
  check(c.segmentMs >= 1, `segment.ms ${c.segmentMs}`);
  check(c.segmentJitterMs >= 0, `segment.jitter.ms ${c.segmentJitterMs}`);
  check(c.segmentIndexBytes >= MIN_INDEX_BYTES, `segment.index.bytes ${c.segmentIndexBytes}`);
  check(c.indexIntervalBytes >= 0, `index.interval.bytes ${c.indexIntervalBytes}`);
  check(c.retentionMs >= -1, `retention.ms ${c.retentionMs}`);
  check(c.fileDeleteDelayMs >= 0, `file.delete.delay.ms ${c.fileDeleteDelayMs}`);
  check(c.flushMessages >= 1, `flush.messages ${c.flushMessages}`);
  check(c.flushMs >= 0, `flush.ms ${c.flushMs}`);
  check(c.maxMessageBytes >= 0, `max.message.bytes ${c.maxMessageBytes}`);
  return c;
}

export const hasDeletePolicy = (c: LogConfig): boolean => c.cleanupPolicy.includes('delete');
export const hasCompactPolicy = (c: LogConfig): boolean => c.cleanupPolicy.includes('compact');

/** A per-segment roll jitter in [0, min(segmentJitterMs, segmentMs)), as Kafka's randomSegmentJitter. */
export function randomSegmentJitter(c: LogConfig, random: () => number = Math.random): number {
  if (c.segmentJitterMs === 0) return 0;
  return Math.floor(random() * Math.min(c.segmentJitterMs, c.segmentMs));
}
