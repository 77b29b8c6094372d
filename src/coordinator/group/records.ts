// The __consumer_offsets records of classic groups, written exactly as Kafka 3.9 writes them so that
// the topic is byte-compatible: GroupMetadata (key version 2, value version 3) and OffsetCommit (key
// version 1, value version 3, or version 1 when the commit carries an explicit expire timestamp).
import type { GroupMetadataValue } from '../../protocol/generated/coordinator/group-metadata-value.js';
import type { OffsetCommitValue } from '../../protocol/generated/coordinator/offset-commit-value.js';
import {
  decodeGroupCoordinatorKey,
  decodeGroupCoordinatorValue,
  encodeGroupCoordinatorKey,
  encodeGroupCoordinatorValue,
  groupCoordinatorTypeOf,
} from '../../protocol/generated/group-coordinator-records.js';
import { Reader } from '../../protocol/reader.js';
import { Writer } from '../../protocol/writer.js';
import type { CoordinatorRecord } from '../runtime.js';

export const OFFSET_COMMIT_KEY_VERSION = 1;
export const GROUP_METADATA_KEY_VERSION = 2;
/** Kafka 3.9 writes the highest non-flexible versions. */
export const GROUP_METADATA_VALUE_VERSION = 3;
export const OFFSET_COMMIT_VALUE_VERSION = 3;
/** The only version that carries an expire timestamp (OffsetCommit v2–v4 with a retention time). */
export const OFFSET_COMMIT_VALUE_VERSION_WITH_EXPIRY = 1;

export interface OffsetAndMetadata {
  readonly offset: number;
  /** -1 when unknown. */
  readonly leaderEpoch: number;
  readonly metadata: string;
  readonly commitTimestamp: number;
  /** Absent unless the commit asked for a retention time of its own. */
  readonly expireTimestamp: number | undefined;
}

export type DecodedGroupRecord =
  | { kind: 'offset'; group: string; topic: string; partition: number; value: OffsetAndMetadata | null }
  | { kind: 'group'; group: string; value: GroupMetadataValue | null }
  | { kind: 'other' };

function bytesOf(write: (w: Writer) => void): Buffer {
  const w = new Writer(64);
  write(w);
  return w.toBuffer();
}

export function offsetCommitKey(group: string, topic: string, partition: number): Buffer {
  return bytesOf((w) =>
    encodeGroupCoordinatorKey(w, { type: 'OffsetCommit', version: OFFSET_COMMIT_KEY_VERSION, key: { group, topic, partition } }),
  );
}

export function groupMetadataKey(group: string): Buffer {
  return bytesOf((w) => encodeGroupCoordinatorKey(w, { type: 'GroupMetadata', version: GROUP_METADATA_KEY_VERSION, key: { group } }));
}

export function offsetCommitRecord(group: string, topic: string, partition: number, o: OffsetAndMetadata): CoordinatorRecord {
  const version = o.expireTimestamp !== undefined ? OFFSET_COMMIT_VALUE_VERSION_WITH_EXPIRY : OFFSET_COMMIT_VALUE_VERSION;
  const value: OffsetCommitValue = {
    offset: BigInt(o.offset),
    leaderEpoch: o.leaderEpoch,
    metadata: o.metadata,
    commitTimestamp: BigInt(o.commitTimestamp),
    expireTimestamp: BigInt(o.expireTimestamp ?? -1),
  };
  return {
    key: offsetCommitKey(group, topic, partition),
    value: bytesOf((w) => encodeGroupCoordinatorValue(w, { type: 'OffsetCommit', version, value })),
  };
}

export function offsetTombstone(group: string, topic: string, partition: number): CoordinatorRecord {
  return { key: offsetCommitKey(group, topic, partition), value: null };
}

export function groupMetadataRecord(group: string, value: GroupMetadataValue): CoordinatorRecord {
  return {
    key: groupMetadataKey(group),
    value: bytesOf((w) => encodeGroupCoordinatorValue(w, { type: 'GroupMetadata', version: GROUP_METADATA_VALUE_VERSION, value })),
  };
}

export function groupTombstone(group: string): CoordinatorRecord {
  return { key: groupMetadataKey(group), value: null };
}

/**
 * Decodes a record of __consumer_offsets. Records of the new consumer-group protocol (KIP-848) and
 * share groups are reported as 'other': this coordinator serves classic groups only.
 */
export function decodeGroupRecord(record: CoordinatorRecord): DecodedGroupRecord {
  // Record types from later Kafka versions are skipped, not fatal: the partition must stay loadable.
  if (record.key.length >= 2 && groupCoordinatorTypeOf(record.key.readInt16BE(0)) === undefined) return { kind: 'other' };
  const kr = new Reader(record.key);
  const key = decodeGroupCoordinatorKey(kr);
  kr.ensureEnd('record key');
  if (key.type !== 'OffsetCommit' && key.type !== 'GroupMetadata') return { kind: 'other' };
  if (record.value === null) {
    return key.type === 'OffsetCommit'
      ? { kind: 'offset', group: key.key.group, topic: key.key.topic, partition: key.key.partition, value: null }
      : { kind: 'group', group: key.key.group, value: null };
  }
  const vr = new Reader(record.value);
  const value = decodeGroupCoordinatorValue(vr, key.type);
  // Newer value versions may append fields we do not know; Kafka tolerates them too.
  if (value.type === 'OffsetCommit' && key.type === 'OffsetCommit') {
    const v = value.value;
    return {
      kind: 'offset',
      group: key.key.group,
      topic: key.key.topic,
      partition: key.key.partition,
      value: {
        offset: Number(v.offset),
        leaderEpoch: v.leaderEpoch,
        metadata: v.metadata,
        commitTimestamp: Number(v.commitTimestamp),
        expireTimestamp: value.version === OFFSET_COMMIT_VALUE_VERSION_WITH_EXPIRY && v.expireTimestamp >= 0n ? Number(v.expireTimestamp) : undefined,
      },
    };
  }
  if (value.type === 'GroupMetadata' && key.type === 'GroupMetadata') return { kind: 'group', group: key.key.group, value: value.value };
  return { kind: 'other' };
}
