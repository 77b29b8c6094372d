// What the data-path handlers (Produce, Fetch, ListOffsets, ...) are built with.
import type { ReplicaManager } from '../replication/replica-manager.js';
import type { FetchSessionCache } from './fetch-sessions.js';
import type { TopicLookup } from './topic-lookup.js';

export interface DataPathDeps {
  readonly replicaManager: ReplicaManager;
  readonly topics: TopicLookup;
  /** Fetch sessions (KIP-227); without it every fetch is sessionless. */
  readonly fetchSessions?: FetchSessionCache;
  /**
   * KIP-890 part 1: asks the transaction coordinator whether each partition is in the producer's ongoing
   * transaction (one error code per partition, in order). Only consulted when the ReplicaManager has
   * `transactionVerificationEnabled`; then, without it, a transactional write that would start a
   * transaction on its partition is refused (INVALID_TXN_STATE), since nothing can verify it.
   */
  verifyTransaction?: (transactionalId: string, producerId: number, producerEpoch: number, partitions: readonly { topic: string; partition: number }[]) => Promise<readonly number[]>;
}
