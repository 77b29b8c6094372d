// Applies committed metadata to the local data path: partitions this node leads are opened (or their
// leader epoch and config updated), partitions of deleted topics are removed from disk, and config
// changes reach the logs. This is the only place where the metadata image drives the ReplicaManager.
import type { Logger } from 'pino';
import type { BrokerConfigLayers } from '../config/topic-config.js';
import type { MetadataImage, PartitionRegistration, TopicImage } from '../metadata/image.js';
import type { MetadataPublisher, MetadataUpdate } from '../metadata/publisher.js';
import { ConfigResourceType } from '../metadata/records.js';
import type { ReplicaManager } from '../replication/replica-manager.js';
import { mapLimit } from '../storage/log-manager.js';
import { partitionConfigFor } from './data-path.js';

/** Logs created at once when a topic appears (see onMetadataUpdate). */
const PARTITION_CREATION_CONCURRENCY = 32;

export interface BrokerMetadataPublisherOptions {
  readonly nodeId: number;
  readonly replicaManager: ReplicaManager;
  /** server.properties and overrides as given: the lowest broker layer of topic configs. */
  readonly staticConfig: ReadonlyMap<string, string>;
  readonly log: Logger;
}

export class BrokerMetadataPublisher implements MetadataPublisher {
  readonly name = 'BrokerMetadataPublisher';
  readonly #nodeId: number;
  readonly #replicaManager: ReplicaManager;
  readonly #staticConfig: ReadonlyMap<string, string>;
  readonly #log: Logger;

  constructor(opts: BrokerMetadataPublisherOptions) {
    this.#nodeId = opts.nodeId;
    this.#replicaManager = opts.replicaManager;
    this.#staticConfig = opts.staticConfig;
    this.#log = opts.log;
  }

  async onMetadataUpdate(update: MetadataUpdate, image: MetadataImage): Promise<void> {
    const { changes } = update;
    for (const topic of changes.topicsDeleted.values()) {
      for (const partition of topic.partitions.keys()) {
        await this.#replicaManager.stopPartition({ topic: topic.name, partition }, { delete: true });
      }
      this.#log.info({ topic: topic.name, topicId: topic.id }, 'Deleted the logs of a removed topic');
    }

    // A broker-level config change can alter every topic's effective config, so it reapplies them all.
    const brokerConfigsChanged = [...changes.configsChanged].some((key) => key.startsWith(`${ConfigResourceType.BROKER}:`));
    const topics = new Set<TopicImage>();
    for (const topicId of changes.partitionsChanged.keys()) {
      const t = image.topics.byId.get(topicId);
      if (t !== undefined) topics.add(t);
    }
    for (const t of image.topics.byName.values()) {
      if (brokerConfigsChanged || changes.configsChanged.has(`${ConfigResourceType.TOPIC}:${t.name}`)) topics.add(t);
    }

    const layers = this.#brokerLayers(image);
    for (const topic of topics) {
      const config = partitionConfigFor(image.topicConfigs(topic.name), layers);
      const changed = changes.partitionsChanged.get(topic.id);
      const led: { partition: number; reg: PartitionRegistration }[] = [];
      for (const [partition, reg] of topic.partitions) {
        if (reg.leader === this.#nodeId) {
          if (changed?.has(partition) || this.#replicaManager.getPartition(topic.name, partition) === undefined) led.push({ partition, reg });
        } else if (reg.leader >= 0 && changed?.has(partition)) {
          // Led elsewhere: a later issue makes this node a follower; until then it stops serving it.
          await this.#replicaManager.stopPartition({ topic: topic.name, partition }, { delete: false });
        }
      }
      // A new topic's logs are created side by side: each costs a few file creations and fsyncs, which
      // one at a time made a 1,000-partition topic take seconds.
      await mapLimit(led, PARTITION_CREATION_CONCURRENCY, ({ partition, reg }) => this.#replicaManager.ensureLeaderPartition({
        topic: topic.name,
        topicId: topic.id,
        partition,
        leaderEpoch: reg.leaderEpoch,
        replicas: reg.replicas,
        isr: reg.isr,
        config,
      }));
      this.#replicaManager.updateTopicConfig(topic.name, config);
    }
  }

  #brokerLayers(image: MetadataImage): BrokerConfigLayers {
    return {
      dynamicBroker: image.brokerConfigs(this.#nodeId),
      dynamicDefault: image.clusterDefaultConfigs(),
      static: this.#staticConfig,
    };
  }
}
