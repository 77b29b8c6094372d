// The group coordinator inside a node: builds the GroupCoordinator over the local __consumer_offsets
// partitions, follows their leadership from the metadata image (a publisher installed after the one
// that opens the partitions), locates coordinators for FindCoordinator, and creates __consumer_offsets
// through the controller the first time a client asks for a coordinator.
//
// Durability: __consumer_offsets is created with Strata's durable.append=true, so a commit is answered
// only once an fsync covers it. Kafka answers a commit once the ISR has it in memory and relies on
// replication; here a single node is the whole ISR, and without the fsync a power loss (not a kill -9:
// the page cache survives that) could lose acknowledged commits and move a group's offsets backwards.
import type { Logger } from 'pino';
import type { ControllerApi } from '../broker/controller-api.js';
import type { CoordinatorLocation, GroupCoordinatorLocator } from '../broker/group-handlers.js';
import type { MetadataView } from '../broker/metadata-view.js';
import { GroupCoordinator } from '../coordinator/group/group-coordinator.js';
import type { GroupCoordinatorConfig } from '../coordinator/group/config.js';
import type { PendingTransactionalOffsets } from '../coordinator/group/group-shard.js';
import { systemScheduler, type Scheduler } from '../coordinator/scheduler.js';
import type { MetadataImage } from '../metadata/image.js';
import type { MetadataPublisher, MetadataUpdate } from '../metadata/publisher.js';
import type { ReplicaManager } from '../replication/replica-manager.js';
import { CoordinatorPartitionLog } from './coordinator-partition-log.js';
import { CoordinatorLeadership } from './coordinator-leadership.js';
import { InternalTopic } from './internal-topic.js';

export const OFFSETS_TOPIC = '__consumer_offsets';

/** The configs Kafka gives __consumer_offsets (GroupCoordinator.offsetsTopicConfigs), plus durability. */
export const OFFSETS_TOPIC_CONFIGS: readonly { readonly name: string; readonly value: string }[] = [
  { name: 'cleanup.policy', value: 'compact' },
  { name: 'segment.bytes', value: '104857600' },
  { name: 'compression.type', value: 'producer' },
  { name: 'durable.append', value: 'true' },
];

export interface GroupCoordinatorWiringOptions {
  readonly nodeId: number;
  readonly replicaManager: ReplicaManager;
  readonly controller: ControllerApi;
  readonly metadata: MetadataView;
  readonly config: Partial<GroupCoordinatorConfig>;
  /** offsets.topic.replication.factor */
  readonly replicationFactor: number;
  readonly log: Logger;
  readonly scheduler?: Scheduler;
  /** Transactional offsets waiting for their marker (the transaction coordinator's wiring keeps them). */
  readonly pendingTransactionalOffsets?: PendingTransactionalOffsets;
}

export class GroupCoordinatorWiring implements MetadataPublisher, GroupCoordinatorLocator {
  readonly name = 'GroupCoordinatorWiring';
  readonly coordinator: GroupCoordinator;
  readonly #opts: GroupCoordinatorWiringOptions;
  /** Partitions this node coordinates, with the leader epoch they were loaded at. */
  readonly #leadership: CoordinatorLeadership;
  readonly #topic: InternalTopic;
  #closed = false;

  constructor(opts: GroupCoordinatorWiringOptions) {
    this.#opts = opts;
    this.coordinator = new GroupCoordinator({
      config: opts.config,
      scheduler: opts.scheduler ?? systemScheduler,
      logFor: (partition) => new CoordinatorPartitionLog({ replicaManager: opts.replicaManager, topic: OFFSETS_TOPIC, partition }),
      onShardFailure: (partition, epoch, error) => this.#leadership.onShardFailure(partition, epoch, error),
      ...(opts.pendingTransactionalOffsets ? { pendingTransactionalOffsets: opts.pendingTransactionalOffsets } : {}),
    });
    this.#leadership = new CoordinatorLeadership({
      topic: OFFSETS_TOPIC,
      nodeId: opts.nodeId,
      coordinator: this.coordinator,
      image: () => opts.metadata.image,
      log: opts.log,
    });
    this.#topic = new InternalTopic({
      name: OFFSETS_TOPIC,
      numPartitions: this.coordinator.config.offsetsTopicNumPartitions,
      replicationFactor: opts.replicationFactor,
      configs: OFFSETS_TOPIC_CONFIGS,
      controller: opts.controller,
      metadata: opts.metadata,
      log: opts.log,
    });
  }

  // ---- leadership ----------------------------------------------------------------------------------

  onMetadataUpdate(update: MetadataUpdate, image: MetadataImage): void {
    if (this.#closed) return;
    // topicsDeleted is keyed by topic id; offsets are kept by name.
    const deleted = [...update.changes.topicsDeleted.values()].map((t) => t.name);
    const others = deleted.filter((t) => t !== OFFSETS_TOPIC);
    if (others.length > 0) {
      // Offsets of deleted topics go as a coordinator write; the metadata loader need not wait for it.
      this.coordinator.onTopicsDeleted(others).catch((err: unknown) => this.#opts.log.warn({ err, topics: others }, 'Removing offsets of deleted topics failed'));
    }
    this.#leadership.update(update, image);
  }

  // ---- FindCoordinator -----------------------------------------------------------------------------

  async locateGroupCoordinator(groupId: string, listenerName: string): Promise<CoordinatorLocation> {
    return this.#topic.locate(this.coordinator.partitionFor(groupId), listenerName);
  }

  /** Unloads every partition (waiting clients get NOT_COORDINATOR) and stops the timers. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#leadership.close();
    this.coordinator.close();
  }
}
