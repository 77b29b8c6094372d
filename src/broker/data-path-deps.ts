// What the data-path handlers (Produce, Fetch, ListOffsets, ...) are built with.
import type { ReplicaManager } from '../replication/replica-manager.js';
import type { FetchSessionCache } from './fetch-sessions.js';
import type { TopicLookup } from './topic-lookup.js';

export interface DataPathDeps {
  readonly replicaManager: ReplicaManager;
  readonly topics: TopicLookup;
  /** Fetch sessions (KIP-227); without it every fetch is sessionless. */
  readonly fetchSessions?: FetchSessionCache;
}
