// The group coordinator's settings, under Kafka's config names, with Kafka 3.9's defaults.

export interface GroupCoordinatorConfig {
  /** offsets.topic.num.partitions */
  readonly offsetsTopicNumPartitions: number;
  /** group.min.session.timeout.ms */
  readonly groupMinSessionTimeoutMs: number;
  /** group.max.session.timeout.ms */
  readonly groupMaxSessionTimeoutMs: number;
  /** group.initial.rebalance.delay.ms */
  readonly groupInitialRebalanceDelayMs: number;
  /** group.max.size */
  readonly groupMaxSize: number;
  /** offset.metadata.max.bytes (counted, as Kafka does, in UTF-16 code units) */
  readonly offsetMetadataMaxBytes: number;
  /** offsets.retention.minutes, in ms */
  readonly offsetsRetentionMs: number;
  /** offsets.retention.check.interval.ms */
  readonly offsetsRetentionCheckIntervalMs: number;
  /** How long a new member's pending JoinGroup may wait before it is dropped (Kafka's internal 5 min). */
  readonly newMemberJoinTimeoutMs: number;
}

export const DEFAULT_GROUP_COORDINATOR_CONFIG: GroupCoordinatorConfig = {
  offsetsTopicNumPartitions: 50,
  groupMinSessionTimeoutMs: 6000,
  groupMaxSessionTimeoutMs: 1_800_000,
  groupInitialRebalanceDelayMs: 3000,
  groupMaxSize: 2_147_483_647,
  offsetMetadataMaxBytes: 4096,
  offsetsRetentionMs: 10080 * 60_000,
  offsetsRetentionCheckIntervalMs: 600_000,
  newMemberJoinTimeoutMs: 300_000,
};

export function groupCoordinatorConfig(overrides: Partial<GroupCoordinatorConfig> = {}): GroupCoordinatorConfig {
  return { ...DEFAULT_GROUP_COORDINATOR_CONFIG, ...overrides };
}
