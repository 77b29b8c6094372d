// Facts about the metadata records that every layer above `metadata` shares: the record versions we
// write at metadata.version 3.9-IV0, the sentinel values the records use, and Kafka's Uuid rendering
// (base64url) for messages. The codecs themselves are generated in protocol/generated/metadata.
import { ZERO_UUID } from '../protocol/codec-runtime.js';

export { MetadataRecordType, type MetadataRecord } from '../protocol/generated/metadata-records.js';

/** metadata.version feature levels (Kafka's MetadataVersion enum). */
export const MetadataVersion = {
  /** The lowest level a KRaft cluster may run. */
  IBP_3_0_IV1: 1,
  IBP_3_7_IV2: 17,
  IBP_3_8_IV0: 20,
  /** Kafka 3.9's latest production level: what a new cluster is bootstrapped with. */
  IBP_3_9_IV0: 21,
} as const;

export const METADATA_VERSION_FEATURE = 'metadata.version';
export const LATEST_METADATA_VERSION = MetadataVersion.IBP_3_9_IV0;

/** Record versions written at metadata.version 3.9-IV0 (directories on partitions, log dirs on brokers). */
export const RecordVersion = {
  RegisterBroker: 3,
  UnregisterBroker: 0,
  Topic: 0,
  Partition: 1,
  Config: 0,
  PartitionChange: 1,
  FenceBroker: 0,
  UnfenceBroker: 0,
  RemoveTopic: 0,
  FeatureLevel: 0,
  ProducerIds: 0,
  BrokerRegistrationChange: 2,
  NoOp: 0,
} as const;

/** PartitionRecord / PartitionChangeRecord leader sentinels. */
export const NO_LEADER = -1;
export const NO_LEADER_CHANGE = -2;

/** LeaderRecoveryState: RECOVERED 0, RECOVERING 1; PartitionChangeRecord uses -1 for "no change". */
export const LeaderRecoveryState = { RECOVERED: 0, RECOVERING: 1, NO_CHANGE: -1 } as const;

/** ConfigResource.Type ids as they appear in ConfigRecord.resourceType and the admin APIs. */
export const ConfigResourceType = {
  UNKNOWN: 0,
  TOPIC: 2,
  BROKER: 4,
  BROKER_LOGGER: 8,
  CLIENT_METRICS: 16,
  GROUP: 32,
} as const;
export type ConfigResourceType = (typeof ConfigResourceType)[keyof typeof ConfigResourceType];

/** BrokerRegistrationChangeRecord.fenced. */
export const FencingChange = { FENCE: 1, NONE: 0, UNFENCE: -1 } as const;
/** BrokerRegistrationChangeRecord.inControlledShutdown. */
export const ControlledShutdownChange = { NONE: 0, IN_CONTROLLED_SHUTDOWN: 1 } as const;

/** DirectoryId.UNASSIGNED: the replica's directory is not known (yet). */
export const UNASSIGNED_DIRECTORY = ZERO_UUID;

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Kafka's `Uuid.toString()`: the 16 bytes in unpadded base64url ("AAAAAAAAAAAAAAAAAAAAAA" for zero). */
export function uuidToKafkaString(uuid: string): string {
  return Buffer.from(uuid.replaceAll('-', ''), 'hex').toString('base64url');
}

/** The canonical 8-4-4-4-12 form of a Kafka base64url Uuid, or undefined when it is not one. */
export function kafkaStringToUuid(s: string): string | undefined {
  if (UUID_PATTERN.test(s)) return s.toLowerCase();
  if (!/^[A-Za-z0-9_-]{22}$/.test(s)) return undefined;
  const hex = Buffer.from(s, 'base64url').toString('hex');
  if (hex.length !== 32) return undefined;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Uuids Kafka never hands out as ids: zero and the reserved metadata topic id (Uuid(0, 1)). */
export function isReservedUuid(uuid: string): boolean {
  return uuid === ZERO_UUID || uuid === '00000000-0000-0000-0000-000000000001';
}
