// The transaction coordinator's settings, under Kafka's config names, with Kafka 3.9's defaults.

export interface TransactionCoordinatorConfig {
  /** transaction.state.log.num.partitions */
  readonly transactionStateLogNumPartitions: number;
  /** transaction.max.timeout.ms: the longest `transaction.timeout.ms` a producer may ask for. */
  readonly transactionMaxTimeoutMs: number;
  /** transactional.id.expiration.ms: an idle transactional id is forgotten after this long. */
  readonly transactionalIdExpirationMs: number;
  /** transaction.abort.timed.out.transaction.cleanup.interval.ms */
  readonly abortTimedOutTransactionsIntervalMs: number;
  /** transaction.remove.expired.transaction.cleanup.interval.ms */
  readonly removeExpiredTransactionalIdsIntervalMs: number;
  /** offsets.topic.num.partitions: AddOffsetsToTxn adds the group's __consumer_offsets partition. */
  readonly offsetsTopicNumPartitions: number;
  /** First wait before markers are resent to partitions that could not take them (doubles up to the max). */
  readonly markerRetryBackoffMs: number;
  readonly markerRetryBackoffMaxMs: number;
  /**
   * TransactionLogValue version written: 0 (Kafka 3.9 with transaction.version 0, the default) or 1
   * (flexible, written by Kafka once transaction.version ≥ 1).
   */
  readonly transactionLogValueVersion: 0 | 1;
}

export const DEFAULT_TRANSACTION_COORDINATOR_CONFIG: TransactionCoordinatorConfig = {
  transactionStateLogNumPartitions: 50,
  transactionMaxTimeoutMs: 900_000,
  transactionalIdExpirationMs: 604_800_000,
  abortTimedOutTransactionsIntervalMs: 10_000,
  removeExpiredTransactionalIdsIntervalMs: 3_600_000,
  offsetsTopicNumPartitions: 50,
  markerRetryBackoffMs: 100,
  markerRetryBackoffMaxMs: 5_000,
  transactionLogValueVersion: 0,
};

export function transactionCoordinatorConfig(overrides: Partial<TransactionCoordinatorConfig> = {}): TransactionCoordinatorConfig {
  return { ...DEFAULT_TRANSACTION_COORDINATOR_CONFIG, ...overrides };
}
