// The cluster metadata as one immutable value: what every reader (request handlers, the replica
// manager, coordinators) looks at. An image is never changed; a MetadataDelta replays records on top
// of one and produces the next, sharing every part it did not touch (topics, partitions and config
// maps that did not change are the same objects in both images).
import { ConfigResourceType, METADATA_VERSION_FEATURE } from './records.js';

export interface BrokerEndpoint {
  /** Listener name, e.g. PLAINTEXT. */
  readonly name: string;
  readonly host: string;
  readonly port: number;
  /** SecurityProtocol id: PLAINTEXT 0, SSL 1, SASL_PLAINTEXT 2, SASL_SSL 3. */
  readonly securityProtocol: number;
}

export interface SupportedFeatureRange {
  readonly name: string;
  readonly minSupportedVersion: number;
  readonly maxSupportedVersion: number;
}

export interface BrokerRegistration {
  readonly id: number;
  /** The offset of the RegisterBrokerRecord that created this registration. */
  readonly epoch: number;
  /** Canonical uuid; a new one per broker process start. */
  readonly incarnationId: string;
  readonly listeners: readonly BrokerEndpoint[];
  readonly supportedFeatures: readonly SupportedFeatureRange[];
  readonly rack: string | null;
  readonly fenced: boolean;
  readonly inControlledShutdown: boolean;
  /** Canonical uuids of the broker's log directories. */
  readonly logDirs: readonly string[];
}

export interface PartitionRegistration {
  readonly replicas: readonly number[];
  readonly isr: readonly number[];
  readonly removingReplicas: readonly number[];
  readonly addingReplicas: readonly number[];
  /** -1 when the partition has no leader. */
  readonly leader: number;
  readonly leaderRecoveryState: number;
  readonly leaderEpoch: number;
  readonly partitionEpoch: number;
  /** One directory per replica (same order), or empty when the records carried none. */
  readonly directories: readonly string[];
  readonly elr: readonly number[];
  readonly lastKnownElr: readonly number[];
}

export interface TopicImage {
  readonly name: string;
  /** Canonical uuid. */
  readonly id: string;
  readonly partitions: ReadonlyMap<number, PartitionRegistration>;
}

export interface TopicsImage {
  readonly byId: ReadonlyMap<string, TopicImage>;
  readonly byName: ReadonlyMap<string, TopicImage>;
}

export interface FeaturesImage {
  /** The metadata.version level; 0 until the bootstrap FeatureLevelRecord has been replayed. */
  readonly metadataVersion: number;
  /** Finalized levels of the other features (kraft.version is a control record, not here). */
  readonly finalized: ReadonlyMap<string, number>;
}

export interface ClusterImage {
  readonly brokers: ReadonlyMap<number, BrokerRegistration>;
}

export interface ProducerIdsImage {
  /** The first producer id not yet handed out in a block (0 on a new cluster). */
  readonly nextProducerId: number;
}

/** Where an image comes from in the log: the last offset and epoch it includes (-1 when none). */
export interface MetadataProvenance {
  readonly offset: number;
  readonly epoch: number;
}

/** Configs are grouped by resource; the key is `configResourceKey(type, name)`. */
export type ConfigsImage = ReadonlyMap<string, ReadonlyMap<string, string>>;

export const configResourceKey = (type: number, name: string): string => `${type}:${name}`;

/** The inverse of configResourceKey. */
export function parseConfigResourceKey(key: string): { type: number; name: string } {
  const at = key.indexOf(':');
  return { type: Number(key.slice(0, at)), name: key.slice(at + 1) };
}

const EMPTY_MAP: ReadonlyMap<never, never> = new Map<never, never>();

export interface MetadataImageFields {
  readonly provenance: MetadataProvenance;
  readonly clusterId: string;
  readonly features: FeaturesImage;
  readonly cluster: ClusterImage;
  readonly topics: TopicsImage;
  readonly configs: ConfigsImage;
  readonly producerIds: ProducerIdsImage;
}

export class MetadataImage implements MetadataImageFields {
  readonly provenance: MetadataProvenance;
  readonly clusterId: string;
  readonly features: FeaturesImage;
  readonly cluster: ClusterImage;
  readonly topics: TopicsImage;
  readonly configs: ConfigsImage;
  readonly producerIds: ProducerIdsImage;

  constructor(fields: MetadataImageFields) {
    this.provenance = fields.provenance;
    this.clusterId = fields.clusterId;
    this.features = fields.features;
    this.cluster = fields.cluster;
    this.topics = fields.topics;
    this.configs = fields.configs;
    this.producerIds = fields.producerIds;
    Object.freeze(this);
  }

  static empty(clusterId = ''): MetadataImage {
    return new MetadataImage({
      provenance: Object.freeze({ offset: -1, epoch: -1 }),
      clusterId,
      features: Object.freeze({ metadataVersion: 0, finalized: EMPTY_MAP }),
      cluster: Object.freeze({ brokers: EMPTY_MAP }),
      topics: Object.freeze({ byId: EMPTY_MAP, byName: EMPTY_MAP }),
      configs: EMPTY_MAP,
      producerIds: Object.freeze({ nextProducerId: 0 }),
    });
  }

  /** True before any record has been replayed. */
  get isEmpty(): boolean {
    return this.provenance.offset < 0 && this.features.metadataVersion === 0 && this.topics.byId.size === 0 &&
      this.cluster.brokers.size === 0 && this.configs.size === 0;
  }

  topic(name: string): TopicImage | undefined {
    return this.topics.byName.get(name);
  }

  topicById(id: string): TopicImage | undefined {
    return this.topics.byId.get(id);
  }

  partition(topic: string, partition: number): PartitionRegistration | undefined {
    return this.topics.byName.get(topic)?.partitions.get(partition);
  }

  broker(id: number): BrokerRegistration | undefined {
    return this.cluster.brokers.get(id);
  }

  /** Registered brokers that are neither fenced nor shutting down, by id. */
  activeBrokers(): BrokerRegistration[] {
    return [...this.cluster.brokers.values()].filter((b) => !b.fenced && !b.inControlledShutdown).sort((a, b) => a.id - b.id);
  }

  /** The level of a finalized feature (metadata.version included), or 0 when it is not finalized. */
  featureLevel(name: string): number {
    if (name === METADATA_VERSION_FEATURE) return this.features.metadataVersion;
    return this.features.finalized.get(name) ?? 0;
  }

  configsOf(type: number, name: string): ReadonlyMap<string, string> {
    return this.configs.get(configResourceKey(type, name)) ?? EMPTY_MAP;
  }

  /** A topic's config overrides (only what was set; defaults come from the broker config). */
  topicConfigs(topic: string): ReadonlyMap<string, string> {
    return this.configsOf(ConfigResourceType.TOPIC, topic);
  }

  /** Dynamic configs of one broker. */
  brokerConfigs(brokerId: number): ReadonlyMap<string, string> {
    return this.configsOf(ConfigResourceType.BROKER, String(brokerId));
  }

  /** Dynamic cluster-wide broker defaults (the BROKER resource with an empty name). */
  clusterDefaultConfigs(): ReadonlyMap<string, string> {
    return this.configsOf(ConfigResourceType.BROKER, '');
  }
}
