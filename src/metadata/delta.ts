// Applies metadata records to an image. A delta starts from one image, takes records in log order
// (`replay`), and produces the next image (`apply`) plus a summary of what changed, which is what
// publishers act on (create a partition's log, drop a deleted topic, reload a config).
//
// A record that contradicts the image (a partition of an unknown topic, a fence with a stale broker
// epoch) means the log is not the one this image came from; replay throws ERR_STATE, as Kafka's
// replay throws, instead of guessing.
import type { BrokerRegistrationChangeRecord } from '../protocol/generated/metadata/broker-registration-change-record.js';
import type { ConfigRecord } from '../protocol/generated/metadata/config-record.js';
import type { PartitionChangeRecord } from '../protocol/generated/metadata/partition-change-record.js';
import type { PartitionRecord } from '../protocol/generated/metadata/partition-record.js';
import type { RegisterBrokerRecord } from '../protocol/generated/metadata/register-broker-record.js';
import { StrataError } from '../protocol/strata-error.js';
import {
  type BrokerRegistration,
  configResourceKey,
  type MetadataProvenance,
  MetadataImage,
  type PartitionRegistration,
  type TopicImage,
} from './image.js';
import {
  ConfigResourceType,
  ControlledShutdownChange,
  FencingChange,
  LeaderRecoveryState,
  METADATA_VERSION_FEATURE,
  type MetadataRecord,
  MetadataRecordType,
  NO_LEADER_CHANGE,
  uuidToKafkaString,
} from './records.js';

/** What one delta changed, for publishers. Topic ids are canonical uuids. */
export interface MetadataChanges {
  readonly featuresChanged: boolean;
  /** Brokers registered, fenced, unfenced, changed or unregistered. */
  readonly brokersChanged: ReadonlySet<number>;
  /** Topics that did not exist in the base image and exist in the new one. */
  readonly topicsCreated: ReadonlySet<string>;
  /** Topics of the base image that are gone, with their last image (names and partitions to clean up). */
  readonly topicsDeleted: ReadonlyMap<string, TopicImage>;
  /** Per surviving or new topic id, the partitions created or changed. */
  readonly partitionsChanged: ReadonlyMap<string, ReadonlySet<number>>;
  /** Config resources (configResourceKey) whose entries changed. */
  readonly configsChanged: ReadonlySet<string>;
  readonly producerIdsChanged: boolean;
}

interface TopicWork {
  readonly name: string;
  readonly id: string;
  readonly partitions: Map<number, PartitionRegistration>;
}

const freezeList = <T>(xs: readonly T[] | null | undefined): readonly T[] => Object.freeze([...(xs ?? [])]);

function stateError(message: string): StrataError {
  return new StrataError('ERR_STATE', `metadata replay: ${message}`);
}

export class MetadataDelta {
  readonly image: MetadataImage;
  #metadataVersion: number;
  #finalized: Map<string, number> | undefined;
  #brokers: Map<number, BrokerRegistration> | undefined;
  /** Topics touched by this delta (created or with changed partitions), by id. */
  readonly #topics = new Map<string, TopicWork>();
  /** Ids of base-image topics removed by this delta. */
  readonly #removed = new Set<string>();
  readonly #changedConfigs = new Map<string, Map<string, string>>();
  #nextProducerId: number;
  #featuresChanged = false;
  #producerIdsChanged = false;
  readonly #brokersChanged = new Set<number>();
  readonly #partitionsChanged = new Map<string, Set<number>>();
  #records = 0;

  constructor(image: MetadataImage) {
    this.image = image;
    this.#metadataVersion = image.features.metadataVersion;
    this.#nextProducerId = image.producerIds.nextProducerId;
  }

  /** Records replayed so far. */
  get recordCount(): number {
    return this.#records;
  }

  replay(record: MetadataRecord): void {
    this.#records++;
    switch (record.type) {
      case MetadataRecordType.FeatureLevel:
        this.#replayFeature(record.data.name, record.data.featureLevel);
        return;
      case MetadataRecordType.RegisterBroker:
        this.#replayRegisterBroker(record.data);
        return;
      case MetadataRecordType.UnregisterBroker: {
        const b = this.#brokerOrThrow(record.data.brokerId, Number(record.data.brokerEpoch), 'unregister');
        this.#brokerMap().delete(b.id);
        this.#brokersChanged.add(b.id);
        return;
      }
      case MetadataRecordType.FenceBroker:
        this.#updateBroker(record.data.id, Number(record.data.epoch), 'fence', { fenced: true });
        return;
      case MetadataRecordType.UnfenceBroker:
        this.#updateBroker(record.data.id, Number(record.data.epoch), 'unfence', { fenced: false });
        return;
      case MetadataRecordType.BrokerRegistrationChange:
        this.#replayRegistrationChange(record.data);
        return;
      case MetadataRecordType.Topic:
        this.#replayTopic(record.data.name, record.data.topicId);
        return;
      case MetadataRecordType.Partition:
        this.#replayPartition(record.data);
        return;
      case MetadataRecordType.PartitionChange:
        this.#replayPartitionChange(record.data);
        return;
      case MetadataRecordType.RemoveTopic:
        this.#replayRemoveTopic(record.data.topicId);
        return;
      case MetadataRecordType.Config:
        this.#replayConfig(record.data);
        return;
      case MetadataRecordType.ProducerIds: {
        const next = Number(record.data.nextProducerId);
        if (next < this.#nextProducerId) {
          throw stateError(`ProducerIdsRecord moves the next producer id back from ${this.#nextProducerId} to ${next}`);
        }
        this.#nextProducerId = next;
        this.#producerIdsChanged = true;
        return;
      }
      default:
        // ACLs, SCRAM credentials, quotas, delegation tokens, transactions markers of the metadata log,
        // controller registrations, ZK migration state and NoOp records do not shape this image yet.
        return;
    }
  }

  // ---- features ----------------------------------------------------------------------------------

  #replayFeature(name: string, level: number): void {
    this.#featuresChanged = true;
    if (name === METADATA_VERSION_FEATURE) {
      this.#metadataVersion = level;
      return;
    }
    const m = (this.#finalized ??= new Map(this.image.features.finalized));
    // Level 0 removes a feature, as Kafka's FeaturesDelta does.
    if (level === 0) m.delete(name);
    else m.set(name, level);
  }

  // ---- brokers -----------------------------------------------------------------------------------

  #brokerMap(): Map<number, BrokerRegistration> {
    return (this.#brokers ??= new Map(this.image.cluster.brokers));
  }

  #currentBroker(id: number): BrokerRegistration | undefined {
    return (this.#brokers ?? this.image.cluster.brokers).get(id);
  }

  #brokerOrThrow(id: number, epoch: number, what: string): BrokerRegistration {
    const b = this.#currentBroker(id);
    if (b === undefined) throw stateError(`cannot ${what} broker ${id}: it is not registered`);
    if (b.epoch !== epoch) throw stateError(`cannot ${what} broker ${id}: epoch ${epoch} does not match ${b.epoch}`);
    return b;
  }

  #updateBroker(id: number, epoch: number, what: string, patch: Partial<BrokerRegistration>): void {
    const b = this.#brokerOrThrow(id, epoch, what);
    this.#brokerMap().set(id, Object.freeze({ ...b, ...patch }));
    this.#brokersChanged.add(id);
  }

  #replayRegisterBroker(r: RegisterBrokerRecord): void {
    const reg: BrokerRegistration = Object.freeze({
      id: r.brokerId,
      epoch: Number(r.brokerEpoch),
      incarnationId: r.incarnationId,
      listeners: Object.freeze(r.endPoints.map((e) => Object.freeze({ name: e.name, host: e.host, port: e.port, securityProtocol: e.securityProtocol }))),
      supportedFeatures: Object.freeze(r.features.map((f) => Object.freeze({
        name: f.name, minSupportedVersion: f.minSupportedVersion, maxSupportedVersion: f.maxSupportedVersion,
      }))),
      rack: r.rack,
      fenced: r.fenced,
      inControlledShutdown: r.inControlledShutdown,
      logDirs: freezeList(r.logDirs),
    });
    this.#brokerMap().set(reg.id, reg);
    this.#brokersChanged.add(reg.id);
  }

  #replayRegistrationChange(r: BrokerRegistrationChangeRecord): void {
    const patch: { fenced?: boolean; inControlledShutdown?: boolean; logDirs?: readonly string[] } = {};
    if (r.fenced === FencingChange.FENCE) patch.fenced = true;
    else if (r.fenced === FencingChange.UNFENCE) patch.fenced = false;
    else if (r.fenced !== FencingChange.NONE) throw stateError(`BrokerRegistrationChangeRecord.fenced ${r.fenced}`);
    if (r.inControlledShutdown === ControlledShutdownChange.IN_CONTROLLED_SHUTDOWN) patch.inControlledShutdown = true;
    else if (r.inControlledShutdown !== ControlledShutdownChange.NONE) {
      throw stateError(`BrokerRegistrationChangeRecord.inControlledShutdown ${r.inControlledShutdown}`);
    }
    if (r.logDirs.length > 0) patch.logDirs = freezeList(r.logDirs);
    this.#updateBroker(r.brokerId, Number(r.brokerEpoch), 'change', patch);
  }

  // ---- topics and partitions ---------------------------------------------------------------------

  #topicExists(id: string): boolean {
    return this.#topics.has(id) || (this.image.topics.byId.has(id) && !this.#removed.has(id));
  }

  /** The topic, made writable in this delta. */
  #workTopic(id: string, what: string): TopicWork {
    let w = this.#topics.get(id);
    if (w !== undefined) return w;
    const base = this.#removed.has(id) ? undefined : this.image.topics.byId.get(id);
    if (base === undefined) throw stateError(`${what}: no topic with id ${uuidToKafkaString(id)}`);
    w = { name: base.name, id, partitions: new Map(base.partitions) };
    this.#topics.set(id, w);
    return w;
  }

  #nameTaken(name: string): boolean {
    for (const w of this.#topics.values()) if (w.name === name) return true;
    const base = this.image.topics.byName.get(name);
    return base !== undefined && !this.#removed.has(base.id) && !this.#topics.has(base.id);
  }

  #replayTopic(name: string, id: string): void {
    if (this.#topicExists(id)) throw stateError(`TopicRecord ${name}: topic id ${uuidToKafkaString(id)} exists already`);
    if (this.#nameTaken(name)) throw stateError(`TopicRecord ${name}: a topic with this name exists already`);
    this.#topics.set(id, { name, id, partitions: new Map() });
    this.#partitionsChanged.set(id, new Set());
  }

  #markPartition(topicId: string, partition: number): void {
    let s = this.#partitionsChanged.get(topicId);
    if (s === undefined) this.#partitionsChanged.set(topicId, (s = new Set()));
    s.add(partition);
  }

  #replayPartition(r: PartitionRecord): void {
    const w = this.#workTopic(r.topicId, `PartitionRecord ${r.partitionId}`);
    w.partitions.set(r.partitionId, Object.freeze({
      replicas: freezeList(r.replicas),
      isr: freezeList(r.isr),
      removingReplicas: freezeList(r.removingReplicas),
      addingReplicas: freezeList(r.addingReplicas),
      leader: r.leader,
      leaderRecoveryState: r.leaderRecoveryState,
      leaderEpoch: r.leaderEpoch,
      partitionEpoch: r.partitionEpoch,
      directories: freezeList(r.directories),
      elr: freezeList(r.eligibleLeaderReplicas),
      lastKnownElr: freezeList(r.lastKnownElr),
    }));
    this.#markPartition(r.topicId, r.partitionId);
  }

  /** Kafka's PartitionRegistration.merge: a leader change bumps the leader epoch; every change bumps the partition epoch. */
  #replayPartitionChange(r: PartitionChangeRecord): void {
    const w = this.#workTopic(r.topicId, `PartitionChangeRecord ${r.partitionId}`);
    const p = w.partitions.get(r.partitionId);
    if (p === undefined) throw stateError(`PartitionChangeRecord: no partition ${w.name}-${r.partitionId}`);
    const leaderChanged = r.leader !== NO_LEADER_CHANGE;
    w.partitions.set(r.partitionId, Object.freeze({
      replicas: r.replicas === null ? p.replicas : freezeList(r.replicas),
      isr: r.isr === null ? p.isr : freezeList(r.isr),
      removingReplicas: r.removingReplicas === null ? p.removingReplicas : freezeList(r.removingReplicas),
      addingReplicas: r.addingReplicas === null ? p.addingReplicas : freezeList(r.addingReplicas),
      leader: leaderChanged ? r.leader : p.leader,
      leaderRecoveryState: r.leaderRecoveryState === LeaderRecoveryState.NO_CHANGE ? p.leaderRecoveryState : r.leaderRecoveryState,
      leaderEpoch: leaderChanged ? p.leaderEpoch + 1 : p.leaderEpoch,
      partitionEpoch: p.partitionEpoch + 1,
      directories: r.directories === null ? p.directories : freezeList(r.directories),
      elr: r.eligibleLeaderReplicas === null ? p.elr : freezeList(r.eligibleLeaderReplicas),
      lastKnownElr: r.lastKnownElr === null ? p.lastKnownElr : freezeList(r.lastKnownElr),
    }));
    this.#markPartition(r.topicId, r.partitionId);
  }

  #replayRemoveTopic(id: string): void {
    const w = this.#topics.get(id);
    let name: string;
    if (w !== undefined) {
      name = w.name;
      this.#topics.delete(id);
    } else {
      const base = this.#removed.has(id) ? undefined : this.image.topics.byId.get(id);
      if (base === undefined) throw stateError(`RemoveTopicRecord: no topic with id ${uuidToKafkaString(id)}`);
      name = base.name;
    }
    if (this.image.topics.byId.has(id)) this.#removed.add(id);
    this.#partitionsChanged.delete(id);
    // The topic's configs go with it, as in Kafka's MetadataDelta.
    const key = configResourceKey(ConfigResourceType.TOPIC, name);
    if (this.#currentConfigs(key).size > 0) this.#setConfigs(key, new Map());
  }

  // ---- configs -----------------------------------------------------------------------------------

  #currentConfigs(key: string): ReadonlyMap<string, string> {
    return this.#changedConfigs.get(key) ?? this.image.configs.get(key) ?? new Map<string, string>();
  }

  #setConfigs(key: string, m: Map<string, string>): void {
    this.#changedConfigs.set(key, m);
  }

  #replayConfig(r: ConfigRecord): void {
    const key = configResourceKey(r.resourceType, r.resourceName);
    const m = this.#changedConfigs.get(key) ?? new Map(this.#currentConfigs(key));
    if (r.value === null) m.delete(r.name);
    else m.set(r.name, r.value);
    this.#setConfigs(key, m);
  }

  // ---- result ------------------------------------------------------------------------------------

  get changes(): MetadataChanges {
    const created = new Set<string>();
    for (const id of this.#topics.keys()) if (!this.image.topics.byId.has(id) || this.#removed.has(id)) created.add(id);
    const deleted = new Map<string, TopicImage>();
    for (const id of this.#removed) deleted.set(id, this.image.topics.byId.get(id)!);
    const configs = new Set<string>();
    for (const [key, m] of this.#changedConfigs) if (!sameEntries(m, this.image.configs.get(key))) configs.add(key);
    return {
      featuresChanged: this.#featuresChanged,
      brokersChanged: new Set(this.#brokersChanged),
      topicsCreated: created,
      topicsDeleted: deleted,
      partitionsChanged: new Map([...this.#partitionsChanged].map(([id, s]) => [id, new Set(s)])),
      configsChanged: configs,
      producerIdsChanged: this.#producerIdsChanged,
    };
  }

  /** The image with every replayed record applied; parts this delta did not touch are shared with the base. */
  apply(provenance: MetadataProvenance = this.image.provenance): MetadataImage {
    const base = this.image;
    const features = this.#featuresChanged
      ? Object.freeze({ metadataVersion: this.#metadataVersion, finalized: this.#finalized ?? base.features.finalized })
      : base.features;
    const cluster = this.#brokers === undefined ? base.cluster : Object.freeze({ brokers: this.#brokers });
    let topics = base.topics;
    if (this.#topics.size > 0 || this.#removed.size > 0) {
      const byId = new Map(base.topics.byId);
      const byName = new Map(base.topics.byName);
      for (const id of this.#removed) {
        const old = base.topics.byId.get(id)!;
        byId.delete(id);
        if (byName.get(old.name)?.id === id) byName.delete(old.name);
      }
      for (const w of this.#topics.values()) {
        const t: TopicImage = Object.freeze({ name: w.name, id: w.id, partitions: w.partitions });
        byId.set(w.id, t);
        byName.set(w.name, t);
      }
      topics = Object.freeze({ byId, byName });
    }
    let configs = base.configs;
    if (this.#changedConfigs.size > 0) {
      const m = new Map(base.configs);
      for (const [key, entries] of this.#changedConfigs) {
        if (entries.size === 0) m.delete(key);
        else m.set(key, entries);
      }
      configs = m;
    }
    const producerIds = this.#producerIdsChanged ? Object.freeze({ nextProducerId: this.#nextProducerId }) : base.producerIds;
    return new MetadataImage({
      provenance: Object.freeze({ ...provenance }),
      clusterId: base.clusterId,
      features,
      cluster,
      topics,
      configs,
      producerIds,
    });
  }
}

function sameEntries(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string> | undefined): boolean {
  const bs = b?.size ?? 0;
  if (a.size !== bs) return false;
  for (const [k, v] of a) if (b!.get(k) !== v) return false;
  return true;
}

/** Changes describing a whole image as new: what a publisher installed late is told first. */
export function changesOfWholeImage(image: MetadataImage): MetadataChanges {
  const partitions = new Map<string, ReadonlySet<number>>();
  for (const t of image.topics.byId.values()) partitions.set(t.id, new Set(t.partitions.keys()));
  return {
    featuresChanged: image.features.metadataVersion !== 0 || image.features.finalized.size > 0,
    brokersChanged: new Set(image.cluster.brokers.keys()),
    topicsCreated: new Set(image.topics.byId.keys()),
    topicsDeleted: new Map(),
    partitionsChanged: partitions,
    configsChanged: new Set(image.configs.keys()),
    producerIdsChanged: image.producerIds.nextProducerId !== 0,
  };
}
