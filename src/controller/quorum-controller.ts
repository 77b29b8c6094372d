// The controller: turns administrative requests (create/delete topics, add partitions, alter configs,
// register brokers, allocate producer ids) into metadata records, appends them to the metadata log and
// answers once they are committed. Results carry Kafka error codes and messages as data.
//
// One operation at a time: each operation reads the controller's image, decides its records and hands
// them to the Raft client before the next operation starts, so operations never see each other half
// done. The image already includes records appended but not yet committed (as Kafka's controller keeps
// uncommitted state in its timeline structures); the caller only gets its answer after the commit, and
// several operations can share one fsync. Operations that write nothing still wait for the writes
// before them, so an answer never reflects state that could still be lost.
import { randomUUID } from 'node:crypto';
import { MetadataDelta } from '../metadata/delta.js';
import { configResourceKey, MetadataImage, type PartitionRegistration } from '../metadata/image.js';
import {
  ConfigResourceType,
  ControlledShutdownChange,
  FencingChange,
  isReservedUuid,
  LATEST_METADATA_VERSION,
  LeaderRecoveryState,
  METADATA_VERSION_FEATURE,
  type MetadataRecord,
  MetadataRecordType,
  NO_LEADER,
  NO_LEADER_CHANGE,
  RecordVersion,
  UNASSIGNED_DIRECTORY,
  uuidToKafkaString,
} from '../metadata/records.js';
import { ErrorCode } from '../protocol/errors.js';
import { ZERO_UUID } from '../protocol/codec-runtime.js';
import { StrataError } from '../protocol/strata-error.js';
import type { RaftClient } from '../raft/raft-client.js';
import { type ConfigContext, type ConfigOutcome, incrementalAlterConfigRecords, legacyAlterConfigRecords } from './config-changes.js';
import { PlacementError, placeReplicas } from './placement.js';
import {
  AlterConfigOp,
  type AlterConfigsResult,
  type ApiError,
  apiError,
  type BrokerRegistrationReply,
  type BrokerRegistrationRequest,
  type CreatableTopic,
  type CreatePartitionsResult,
  type CreatePartitionsTopic,
  type CreateTopicResult,
  type DeletableTopic,
  type DeleteTopicResult,
  type IncrementalConfigResource,
  type LegacyConfigResource,
  NONE,
  type ProducerIdsBlock,
} from './results.js';
import { hasCollisionChars, invalidTopicNameReason, unifyCollisionChars } from './topic-names.js';

/** Kafka's ProducerIdControlManager block size. */
export const PRODUCER_ID_BLOCK_SIZE = 1000;
/** Kafka's text for UNKNOWN_TOPIC_OR_PARTITION, which its ApiError carries when no message is given. */
const UNKNOWN_TOPIC_MESSAGE = 'This server does not host this topic-partition.';
/** The metadata log's own name, which no topic may take. */
const CLUSTER_METADATA_TOPIC = '__cluster_metadata';
/** Kafka's QuorumController.MAX_RECORDS_PER_USER_OP: the most records one request may produce. */
export const MAX_RECORDS_PER_USER_OP = 10000;

export interface ControllerLogger {
  info(msg: string): void;
  warn(msg: string): void;
}

export interface QuorumControllerOptions {
  readonly nodeId: number;
  readonly clusterId: string;
  readonly raft: RaftClient<MetadataRecord>;
  /** num.partitions (Kafka's default 1). */
  readonly defaultNumPartitions?: number;
  /** default.replication.factor (Kafka's default 1). */
  readonly defaultReplicationFactor?: number;
  /** The static broker configuration, for topic config validation against broker defaults. */
  readonly staticBrokerConfig?: ReadonlyMap<string, string>;
  /** remote.log.storage.system.enable. */
  readonly remoteStorageSystemEnabled?: boolean;
  /** metadata.version a new cluster starts with (default: 3.9-IV0 = 21). */
  readonly bootstrapMetadataVersion?: number;
  /** Topic ids (canonical uuids); replace for deterministic tests. */
  readonly newUuid?: () => string;
  readonly logger?: ControllerLogger;
}

interface Generated<T> {
  readonly records: MetadataRecord[];
  readonly result: T;
}

const silent: ControllerLogger = { info: () => undefined, warn: () => undefined };

const rec = <R extends MetadataRecord>(r: R): MetadataRecord => r;

export class QuorumController {
  readonly #nodeId: number;
  readonly #raft: RaftClient<MetadataRecord>;
  readonly #defaultNumPartitions: number;
  readonly #defaultReplicationFactor: number;
  readonly #staticBrokerConfig: ReadonlyMap<string, string>;
  readonly #remoteStorageSystemEnabled: boolean;
  readonly #bootstrapMetadataVersion: number;
  readonly #newUuid: () => string;
  readonly #logger: ControllerLogger;
  /** The latest state, including records appended but not yet committed. */
  #image: MetadataImage;
  /** The last log offset reflected in #image. */
  #appliedUpTo = -1;
  /** Operations run one after the other on this chain (generation and append only, not the commit wait). */
  #queue: Promise<unknown> = Promise.resolve();
  /** The commit of the last append (operations without records wait for it). */
  #lastWrite: Promise<unknown> = Promise.resolve();
  /** Brokers registered with this controller since it started, by incarnation (a broker's live session). */
  readonly #sessions = new Map<number, string>();
  #state: 'new' | 'active' | 'failed' | 'closed' = 'new';
  #failure: unknown;

  constructor(opts: QuorumControllerOptions) {
    this.#nodeId = opts.nodeId;
    this.#raft = opts.raft;
    this.#defaultNumPartitions = opts.defaultNumPartitions ?? 1;
    this.#defaultReplicationFactor = opts.defaultReplicationFactor ?? 1;
    this.#staticBrokerConfig = opts.staticBrokerConfig ?? new Map();
    this.#remoteStorageSystemEnabled = opts.remoteStorageSystemEnabled ?? false;
    this.#bootstrapMetadataVersion = opts.bootstrapMetadataVersion ?? LATEST_METADATA_VERSION;
    this.#newUuid = opts.newUuid ?? randomTopicUuid;
    this.#logger = opts.logger ?? silent;
    this.#image = MetadataImage.empty(opts.clusterId);
  }

  /** The controller's view (may include records not yet committed). */
  get image(): MetadataImage {
    return this.#image;
  }

  get isActive(): boolean {
    return this.#state === 'active';
  }

  /**
   * Registers with the Raft client (replaying the log into the controller's state), starts the client if
   * it is not leading yet, and bootstraps a new cluster: metadata.version is finalized at the bootstrap
   * level when the log holds none.
   */
  async start(): Promise<void> {
    if (this.#state !== 'new') throw new StrataError('ERR_STATE', `controller cannot start in state ${this.#state}`);
    await this.#raft.register({
      handleLoadSnapshot: (snapshot) => {
        const delta = new MetadataDelta(MetadataImage.empty(this.#image.clusterId));
        for (const r of snapshot.records) delta.replay(r);
        this.#image = delta.apply({ offset: snapshot.id.endOffset - 1, epoch: snapshot.id.epoch });
        this.#appliedUpTo = snapshot.id.endOffset - 1;
      },
      handleCommit: (batch) => {
        if (batch.lastOffset <= this.#appliedUpTo) return;
        const delta = new MetadataDelta(this.#image);
        for (const r of batch.records) delta.replay(r);
        this.#image = delta.apply({ offset: batch.lastOffset, epoch: batch.epoch });
        this.#appliedUpTo = batch.lastOffset;
      },
      handleLeaderChange: (leader) => {
        if (leader.leaderId !== this.#nodeId && this.#state === 'active') this.#fail(new StrataError('ERR_STATE', 'lost leadership of the metadata log'));
      },
    });
    if (!this.#raft.isLeader) await this.#raft.start();
    this.#state = 'active';
    if (this.#image.features.metadataVersion === 0) {
      // As Kafka's activation of an empty log: the bootstrap features, and "no ZooKeeper migration".
      await this.#submit(() => ({
        records: [
          rec({
            type: MetadataRecordType.FeatureLevel,
            version: RecordVersion.FeatureLevel,
            data: { name: METADATA_VERSION_FEATURE, featureLevel: this.#bootstrapMetadataVersion },
          }),
          rec({ type: MetadataRecordType.ZkMigrationState, version: 0, data: { zkMigrationState: 0 } }),
        ],
        result: undefined,
      }));
      this.#logger.info(`bootstrapped the cluster metadata with metadata.version ${this.#bootstrapMetadataVersion}`);
    }
  }

  /** Stops taking operations; waits for those already queued. The Raft client is closed by its owner. */
  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    await this.#queue.catch(() => undefined);
    await this.#lastWrite.catch(() => undefined);
  }

  // ---- the operation loop ------------------------------------------------------------------------

  #submit<T>(generate: (image: MetadataImage) => Generated<T>): Promise<T> {
    const scheduled = this.#queue.then(() => this.#generateAndAppend(generate));
    this.#queue = scheduled.catch(() => undefined);
    return scheduled.then(async ({ commit, result }) => {
      await commit;
      return result;
    });
  }

  #generateAndAppend<T>(generate: (image: MetadataImage) => Generated<T>): { commit: Promise<unknown>; result: T } {
    if (this.#state !== 'active') {
      const why = this.#state === 'failed' ? `failed: ${(this.#failure as Error)?.message ?? String(this.#failure)}` : this.#state;
      throw new StrataError('ERR_STATE', `the controller is not active (${why})`, { cause: this.#failure });
    }
    const { records, result } = generate(this.#image);
    if (records.length === 0) return { commit: this.#lastWrite.catch(() => undefined), result };
    // Replayed first: records the image would refuse must never reach the log.
    const delta = new MetadataDelta(this.#image);
    for (const r of records) delta.replay(r);
    const base = this.#raft.nextOffset;
    const commit = this.#raft.append(records);
    // Refused before taking offsets (a batch over the size limit): this operation fails, nothing else does.
    if (this.#raft.nextOffset === base) return { commit, result };
    const last = base + records.length - 1;
    this.#image = delta.apply({ offset: last, epoch: this.#raft.leaderAndEpoch.epoch });
    this.#appliedUpTo = last;
    this.#lastWrite = commit;
    commit.catch((e: unknown) => this.#fail(e));
    return { commit, result };
  }

  #fail(e: unknown): void {
    if (this.#state !== 'active') return;
    this.#state = 'failed';
    this.#failure = e;
    this.#logger.warn(`controller failed: ${(e as Error)?.message ?? String(e)}`);
  }

  #configContext(image: MetadataImage): ConfigContext {
    return {
      image,
      staticBrokerConfig: this.#staticBrokerConfig,
      nodeId: this.#nodeId,
      remoteStorageSystemEnabled: this.#remoteStorageSystemEnabled,
    };
  }

  // ---- topics ------------------------------------------------------------------------------------

  createTopics(topics: readonly CreatableTopic[], opts: { validateOnly?: boolean } = {}): Promise<CreateTopicResult[]> {
    return this.#submit((image) => this.#createTopics(image, topics, opts.validateOnly ?? false));
  }

  #createTopics(image: MetadataImage, topics: readonly CreatableTopic[], validateOnly: boolean): Generated<CreateTopicResult[]> {
    const counts = new Map<string, number>();
    for (const t of topics) counts.set(t.name, (counts.get(t.name) ?? 0) + 1);
    const unique = [...new Map(topics.map((t) => [t.name, t])).values()].filter((t) => counts.get(t.name) === 1);
    const errors = new Map<string, ApiError>();
    for (const [name, n] of counts) if (n > 1) errors.set(name, apiError(ErrorCode.INVALID_REQUEST, 'Duplicate topic name.'));
    if (counts.get(CLUSTER_METADATA_TOPIC) === 1) {
      errors.set(CLUSTER_METADATA_TOPIC, apiError(ErrorCode.INVALID_REQUEST, `Creation of internal topic ${CLUSTER_METADATA_TOPIC} is prohibited.`));
    }

    const total = unique.reduce((sum, t) => sum + (t.assignments?.length ? t.assignments.length : t.numPartitions === -1 ? this.#defaultNumPartitions : Math.max(t.numPartitions, 0)), 0);
    if (total > MAX_RECORDS_PER_USER_OP) {
      const e = apiError(ErrorCode.POLICY_VIOLATION, 'Excessively large number of partitions per request.');
      return { records: [], result: [...counts.keys()].map((name) => ({ name, ...(errors.get(name) ?? e) })) };
    }

    // Names: legal, not colliding with an existing topic through '.' / '_', not existing already.
    const collisions = new Map<string, string>();
    for (const name of [...image.topics.byName.keys()].sort()) {
      if (hasCollisionChars(name) && !collisions.has(unifyCollisionChars(name))) collisions.set(unifyCollisionChars(name), name);
    }
    for (const t of unique) {
      if (errors.has(t.name)) continue;
      const invalid = invalidTopicNameReason(t.name);
      if (invalid !== undefined) errors.set(t.name, apiError(ErrorCode.INVALID_TOPIC_EXCEPTION, invalid));
      if (hasCollisionChars(t.name)) {
        const other = collisions.get(unifyCollisionChars(t.name));
        if (other !== undefined) {
          errors.set(t.name, apiError(ErrorCode.INVALID_TOPIC_EXCEPTION, `Topic '${t.name}' collides with existing topic: ${other}`));
        }
      }
      if (image.topic(t.name) !== undefined) errors.set(t.name, apiError(ErrorCode.TOPIC_ALREADY_EXISTS, `Topic '${t.name}' already exists.`));
    }

    const records: MetadataRecord[] = [];
    const successes = new Map<string, CreateTopicResult>();
    const ctx = this.#configContext(image);
    for (const t of unique) {
      if (errors.has(t.name)) continue;
      const configs = t.configs ?? [];
      const nulls = configs.filter((c) => c.value === null).map((c) => c.name);
      if (nulls.length > 0) {
        errors.set(t.name, apiError(ErrorCode.INVALID_CONFIG, `Null value not supported for topic configs: ${nulls.join(',')}`));
        continue;
      }
      let configRecords: MetadataRecord[] = [];
      if (configs.length > 0) {
        const outcome = incrementalAlterConfigRecords(ctx, ConfigResourceType.TOPIC, t.name,
          configs.map((c) => ({ name: c.name, configOperation: AlterConfigOp.SET, value: c.value })), true);
        if ('error' in outcome) {
          errors.set(t.name, outcome.error);
          continue;
        }
        configRecords = outcome.records;
      }
      const placed = this.#placeNewTopic(image, t);
      if ('error' in placed) {
        errors.set(t.name, placed.error);
        continue;
      }
      const topicId = this.#freshTopicId(image);
      records.push(rec({ type: MetadataRecordType.Topic, version: RecordVersion.Topic, data: { name: t.name, topicId } }));
      records.push(...configRecords);
      placed.partitions.forEach((p, i) => records.push(partitionRecord(topicId, i, p)));
      successes.set(t.name, {
        ...NONE,
        name: t.name,
        topicId,
        numPartitions: placed.partitions.length,
        replicationFactor: placed.partitions[0]!.replicas.length,
        configs: new Map(configs.map((c) => [c.name, c.value!])),
      });
    }
    const result = [...counts.keys()].map((name): CreateTopicResult => {
      const e = errors.get(name);
      return e !== undefined ? { name, ...e } : successes.get(name)!;
    });
    if (successes.size > 0) this.#logger.info(`${validateOnly ? 'validated' : 'creating'} topic(s) ${[...successes.keys()].join(', ')}`);
    return { records: validateOnly ? [] : records, result };
  }

  #freshTopicId(image: MetadataImage): string {
    for (;;) {
      const id = this.#newUuid();
      if (!isReservedUuid(id) && image.topicById(id) === undefined) return id;
    }
  }

  /** Kafka's createTopic placement part: manual assignments or placement, ISR from active brokers. */
  #placeNewTopic(image: MetadataImage, t: CreatableTopic): { error: ApiError } | { partitions: NewPartition[] } {
    const assignments = t.assignments ?? [];
    if (assignments.length > 0) {
      if (t.replicationFactor !== -1) {
        return { error: apiError(ErrorCode.INVALID_REQUEST, 'A manual partition assignment was specified, but replication factor was not set to -1.') };
      }
      if (t.numPartitions !== -1) {
        return { error: apiError(ErrorCode.INVALID_REQUEST, 'A manual partition assignment was specified, but numPartitions was not set to -1.') };
      }
      const parts = new Map<number, NewPartition>();
      let rf: number | undefined;
      for (const a of assignments) {
        if (parts.has(a.partitionIndex)) {
          return { error: apiError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `Found multiple manual partition assignments for partition ${a.partitionIndex}`) };
        }
        const invalid = validateManualAssignment(image, a.brokerIds, rf);
        if (invalid !== undefined) return { error: apiError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, invalid) };
        rf = a.brokerIds.length;
        const isr = a.brokerIds.filter((id) => isActive(image, id));
        if (isr.length === 0) {
          return { error: apiError(ErrorCode.INVALID_REPLICA_ASSIGNMENT,
            `All brokers specified in the manual partition assignment for partition ${a.partitionIndex} are fenced or in controlled shutdown.`) };
        }
        parts.set(a.partitionIndex, newPartition(image, a.brokerIds, isr));
      }
      for (let i = 0; i < parts.size; i++) {
        if (!parts.has(i)) return { error: apiError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, 'partitions should be a consecutive 0-based integer sequence') };
      }
      return { partitions: [...parts.keys()].sort((a, b) => a - b).map((i) => parts.get(i)!) };
    }
    if (t.replicationFactor < -1 || t.replicationFactor === 0) {
      return { error: apiError(ErrorCode.INVALID_REPLICATION_FACTOR, 'Replication factor must be larger than 0, or -1 to use the default value.') };
    }
    if (t.numPartitions < -1 || t.numPartitions === 0) {
      return { error: apiError(ErrorCode.INVALID_PARTITIONS, 'Number of partitions was set to an invalid non-positive value.') };
    }
    const numPartitions = t.numPartitions === -1 ? this.#defaultNumPartitions : t.numPartitions;
    const rf = t.replicationFactor === -1 ? this.#defaultReplicationFactor : t.replicationFactor;
    let replicaLists: number[][];
    try {
      replicaLists = placeReplicas({ startPartition: 0, numPartitions, replicationFactor: rf }, placementBrokers(image));
    } catch (e) {
      if (!(e instanceof PlacementError)) throw e;
      return { error: apiError(ErrorCode.INVALID_REPLICATION_FACTOR, `Unable to replicate the partition ${rf} time(s): ${e.message}`) };
    }
    const partitions: NewPartition[] = [];
    for (const replicas of replicaLists) {
      const isr = replicas.filter((id) => isActive(image, id));
      if (isr.length === 0) {
        return { error: apiError(ErrorCode.INVALID_REPLICATION_FACTOR,
          `Unable to replicate the partition ${rf} time(s): All brokers are currently fenced or in controlled shutdown.`) };
      }
      partitions.push(newPartition(image, replicas, isr));
    }
    return { partitions };
  }

  deleteTopics(topics: readonly DeletableTopic[]): Promise<DeleteTopicResult[]> {
    return this.#submit((image) => {
      const records: MetadataRecord[] = [];
      const names = new Map<string, number>();
      const ids = new Map<string, number>();
      for (const t of topics) {
        if (t.name != null) names.set(t.name, (names.get(t.name) ?? 0) + 1);
        else if (t.topicId != null) ids.set(t.topicId, (ids.get(t.topicId) ?? 0) + 1);
      }
      const removing = new Set<string>();
      const result = topics.map((t): DeleteTopicResult => {
        if (t.name != null) {
          if (names.get(t.name)! > 1) return { name: t.name, topicId: null, ...apiError(ErrorCode.INVALID_REQUEST, 'Duplicate topic name.') };
          const topic = image.topic(t.name);
          if (topic === undefined) return { name: t.name, topicId: null, ...apiError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, UNKNOWN_TOPIC_MESSAGE) };
          return this.#removeTopic(topic.id, topic.name, removing, records);
        }
        const id = t.topicId ?? ZERO_UUID;
        if (ids.get(id)! > 1) return { name: null, topicId: id, ...apiError(ErrorCode.INVALID_REQUEST, 'Duplicate topic id.') };
        if (id === ZERO_UUID) {
          return { name: null, topicId: id, ...apiError(ErrorCode.INVALID_REQUEST, `Attempt to find topic with invalid topicId ${uuidToKafkaString(id)}`) };
        }
        const topic = image.topicById(id);
        if (topic === undefined) return { name: null, topicId: id, ...apiError(ErrorCode.UNKNOWN_TOPIC_ID, 'This server does not host this topic ID.') };
        return this.#removeTopic(id, topic.name, removing, records);
      });
      return { records, result };
    });
  }

  #removeTopic(id: string, name: string, removing: Set<string>, records: MetadataRecord[]): DeleteTopicResult {
    // The same topic named once by name and once by id is removed once.
    if (!removing.has(id)) {
      removing.add(id);
      records.push(rec({ type: MetadataRecordType.RemoveTopic, version: RecordVersion.RemoveTopic, data: { topicId: id } }));
    }
    return { name, topicId: id, ...NONE };
  }

  createPartitions(topics: readonly CreatePartitionsTopic[], opts: { validateOnly?: boolean } = {}): Promise<CreatePartitionsResult[]> {
    return this.#submit((image) => {
      const counts = new Map<string, number>();
      for (const t of topics) counts.set(t.name, (counts.get(t.name) ?? 0) + 1);
      const records: MetadataRecord[] = [];
      const done = new Set<string>();
      const result: CreatePartitionsResult[] = [];
      for (const t of topics) {
        if (done.has(t.name)) continue;
        done.add(t.name);
        if (counts.get(t.name)! > 1) {
          result.push({ name: t.name, ...apiError(ErrorCode.INVALID_REQUEST, 'Duplicate topic name.') });
          continue;
        }
        const out: MetadataRecord[] = [];
        const error = this.#createPartitions(image, t, out);
        if (error.errorCode === ErrorCode.NONE) records.push(...out);
        result.push({ name: t.name, ...error });
      }
      return { records: opts.validateOnly ? [] : records, result };
    });
  }

  #createPartitions(image: MetadataImage, t: CreatePartitionsTopic, records: MetadataRecord[]): ApiError {
    const topic = image.topic(t.name);
    if (topic === undefined) return apiError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, UNKNOWN_TOPIC_MESSAGE);
    const current = topic.partitions.size;
    if (t.count === current) return apiError(ErrorCode.INVALID_PARTITIONS, `Topic already has ${current} partition(s).`);
    if (t.count < current) {
      return apiError(ErrorCode.INVALID_PARTITIONS, `The topic ${t.name} currently has ${current} partition(s); ${t.count} would not be an increase.`);
    }
    const additional = t.count - current;
    if (additional > MAX_RECORDS_PER_USER_OP) return apiError(ErrorCode.POLICY_VIOLATION, 'Excessively large number of partitions per request.');
    if (t.assignments !== null && t.assignments.length !== additional) {
      return apiError(ErrorCode.INVALID_REPLICA_ASSIGNMENT,
        `Attempted to add ${additional} additional partition(s), but only ${t.assignments.length} assignment(s) were specified.`);
    }
    const rf = [...topic.partitions.values()][0]?.replicas.length ?? 1;
    let replicaLists: readonly (readonly number[])[];
    if (t.assignments !== null) {
      for (let i = 0; i < t.assignments.length; i++) {
        const invalid = validateManualAssignment(image, t.assignments[i]!, rf);
        if (invalid !== undefined) return apiError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, invalid);
        if (!t.assignments[i]!.some((id) => isActive(image, id))) {
          return apiError(ErrorCode.INVALID_REPLICA_ASSIGNMENT,
            `All brokers specified in the manual partition assignment for partition ${current + i} are fenced or in controlled shutdown.`);
        }
      }
      replicaLists = t.assignments;
    } else {
      try {
        replicaLists = placeReplicas({ startPartition: current, numPartitions: additional, replicationFactor: rf }, placementBrokers(image));
      } catch (e) {
        if (!(e instanceof PlacementError)) throw e;
        return apiError(ErrorCode.INVALID_REPLICATION_FACTOR, e.message);
      }
    }
    for (let i = 0; i < replicaLists.length; i++) {
      const replicas = replicaLists[i]!;
      const isr = replicas.filter((id) => isActive(image, id));
      if (isr.length === 0) {
        return apiError(ErrorCode.INVALID_REPLICATION_FACTOR, `Unable to replicate the partition ${rf} time(s): All brokers are currently fenced or in controlled shutdown.`);
      }
      records.push(partitionRecord(topic.id, current + i, newPartition(image, replicas, isr)));
    }
    return NONE;
  }

  // ---- configs -----------------------------------------------------------------------------------

  incrementalAlterConfigs(resources: readonly IncrementalConfigResource[], opts: { validateOnly?: boolean } = {}): Promise<AlterConfigsResult[]> {
    return this.#alterConfigs(resources, opts, (ctx, r) => incrementalAlterConfigRecords(ctx, r.resourceType, r.resourceName, r.configs));
  }

  alterConfigs(resources: readonly LegacyConfigResource[], opts: { validateOnly?: boolean } = {}): Promise<AlterConfigsResult[]> {
    return this.#alterConfigs(resources, opts, (ctx, r) => legacyAlterConfigRecords(ctx, r.resourceType, r.resourceName, r.configs));
  }

  /** Both config APIs: a resource named twice is refused, the others become ConfigRecords (unless validateOnly). */
  #alterConfigs<R extends { readonly resourceType: number; readonly resourceName: string }>(
    resources: readonly R[],
    opts: { validateOnly?: boolean },
    recordsFor: (ctx: ConfigContext, resource: R) => ConfigOutcome,
  ): Promise<AlterConfigsResult[]> {
    return this.#submit((image) => {
      const ctx = this.#configContext(image);
      const records: MetadataRecord[] = [];
      const duplicates = duplicateResources(resources);
      const result = resources.map((r): AlterConfigsResult => {
        const head = { resourceType: r.resourceType, resourceName: r.resourceName };
        if (duplicates.has(configResourceKey(r.resourceType, r.resourceName))) {
          return { ...head, ...apiError(ErrorCode.INVALID_REQUEST, 'Duplicate resource.') };
        }
        const outcome = recordsFor(ctx, r);
        if ('error' in outcome) return { ...head, ...outcome.error };
        records.push(...outcome.records);
        return { ...head, ...NONE };
      });
      return { records: opts.validateOnly ? [] : records, result };
    });
  }

  // ---- producer ids ------------------------------------------------------------------------------

  /** Hands out the next block of 1000 producer ids (Kafka's AllocateProducerIds). */
  allocateProducerIds(brokerId: number, brokerEpoch: number): Promise<ProducerIdsBlock> {
    return this.#submit((image) => {
      const stale = checkBrokerEpoch(image, brokerId, brokerEpoch);
      if (stale !== undefined) return { records: [], result: { ...stale, producerIdStart: -1, producerIdLen: 0 } };
      const first = image.producerIds.nextProducerId;
      if (first > Number.MAX_SAFE_INTEGER - PRODUCER_ID_BLOCK_SIZE) {
        return { records: [], result: { ...apiError(ErrorCode.UNKNOWN_SERVER_ERROR, 'Exhausted all demand-driven producer IDs'), producerIdStart: -1, producerIdLen: 0 } };
      }
      return {
        records: [rec({
          type: MetadataRecordType.ProducerIds,
          version: RecordVersion.ProducerIds,
          data: { brokerId, brokerEpoch: BigInt(brokerEpoch), nextProducerId: BigInt(first + PRODUCER_ID_BLOCK_SIZE) },
        })],
        result: { ...NONE, producerIdStart: first, producerIdLen: PRODUCER_ID_BLOCK_SIZE },
      };
    });
  }

  // ---- broker lifecycle --------------------------------------------------------------------------

  /**
   * Registers a broker (fenced). A broker process registering again with the same incarnation gets its
   * current epoch back. A new incarnation replaces the registration; its partitions lose it as leader
   * until it is unfenced, so leader epochs move past the previous incarnation's.
   */
  registerBroker(req: BrokerRegistrationRequest): Promise<BrokerRegistrationReply> {
    return this.#submit((image) => {
      const existing = image.broker(req.brokerId);
      const session = this.#sessions.get(req.brokerId);
      if (session !== undefined && session !== req.incarnationId) {
        return { records: [], result: { ...apiError(ErrorCode.DUPLICATE_BROKER_REGISTRATION, 'Another broker is registered with that broker id.'), brokerEpoch: -1 } };
      }
      if (existing !== undefined && existing.incarnationId === req.incarnationId) {
        this.#sessions.set(req.brokerId, req.incarnationId);
        return { records: [], result: { ...NONE, brokerEpoch: existing.epoch } };
      }
      const mv = req.features?.find((f) => f.name === METADATA_VERSION_FEATURE);
      const level = image.features.metadataVersion;
      if (mv !== undefined && (level < mv.minSupportedVersion || level > mv.maxSupportedVersion)) {
        return { records: [], result: { ...apiError(ErrorCode.UNSUPPORTED_VERSION,
          `Unable to register because the broker does not support finalized version ${level} of metadata.version. ` +
          `The broker wants a version between ${mv.minSupportedVersion} and ${mv.maxSupportedVersion}, inclusive.`), brokerEpoch: -1 } };
      }
      const records: MetadataRecord[] = [];
      // A new incarnation of a known broker: its previous process is gone (Kafka's unclean-shutdown handling).
      if (existing !== undefined) records.push(...brokerRemovalChanges(image, req.brokerId));
      const brokerEpoch = this.#raft.nextOffset + records.length;
      records.push(rec({
        type: MetadataRecordType.RegisterBroker,
        version: RecordVersion.RegisterBroker,
        data: {
          brokerId: req.brokerId,
          isMigratingZkBroker: false,
          incarnationId: req.incarnationId,
          brokerEpoch: BigInt(brokerEpoch),
          endPoints: req.listeners.map((l) => ({ name: l.name, host: l.host, port: l.port, securityProtocol: l.securityProtocol })),
          features: (req.features ?? []).map((f) => ({ name: f.name, minSupportedVersion: f.minSupportedVersion, maxSupportedVersion: f.maxSupportedVersion })),
          rack: req.rack,
          fenced: true,
          inControlledShutdown: false,
          logDirs: [...(req.logDirs ?? [])],
        },
      }));
      this.#sessions.set(req.brokerId, req.incarnationId);
      return { records, result: { ...NONE, brokerEpoch } };
    });
  }

  /** Unfences a registered broker (what a heartbeat from a caught-up broker does) and elects it where no leader is. */
  unfenceBroker(brokerId: number, brokerEpoch: number): Promise<ApiError> {
    return this.#submit((image) => {
      const stale = checkBrokerEpoch(image, brokerId, brokerEpoch);
      if (stale !== undefined) return { records: [], result: stale };
      if (!image.broker(brokerId)!.fenced) return { records: [], result: NONE };
      const records: MetadataRecord[] = [registrationChange(brokerId, brokerEpoch, FencingChange.UNFENCE)];
      records.push(...leaderChanges(image, (p) => p.leader === NO_LEADER && p.isr.includes(brokerId), () => brokerId));
      return { records, result: NONE };
    });
  }

  /** Fences a broker (controlled shutdown or a lost session): it stops leading; others in the ISR take over. */
  fenceBroker(brokerId: number, brokerEpoch: number): Promise<ApiError> {
    return this.#submit((image) => {
      const stale = checkBrokerEpoch(image, brokerId, brokerEpoch);
      if (stale !== undefined) return { records: [], result: stale };
      if (image.broker(brokerId)!.fenced) return { records: [], result: NONE };
      const records = brokerRemovalChanges(image, brokerId);
      records.push(registrationChange(brokerId, brokerEpoch, FencingChange.FENCE));
      this.#sessions.delete(brokerId);
      return { records, result: NONE };
    });
  }

  /** Registers this node's broker and unfences it: the combined-mode start-up. Returns the broker epoch. */
  async registerLocalBroker(req: BrokerRegistrationRequest): Promise<number> {
    const reply = await this.registerBroker(req);
    if (reply.errorCode !== ErrorCode.NONE) {
      throw new StrataError('ERR_STATE', `cannot register broker ${req.brokerId}: ${reply.errorMessage ?? reply.errorCode}`);
    }
    const unfence = await this.unfenceBroker(req.brokerId, reply.brokerEpoch);
    if (unfence.errorCode !== ErrorCode.NONE) {
      throw new StrataError('ERR_STATE', `cannot unfence broker ${req.brokerId}: ${unfence.errorMessage ?? unfence.errorCode}`);
    }
    return reply.brokerEpoch;
  }
}

// ---- helpers -------------------------------------------------------------------------------------

interface NewPartition {
  readonly replicas: readonly number[];
  readonly isr: readonly number[];
  readonly directories: readonly string[];
}

/** Resources named more than once in one request (Kafka answers each with "Duplicate resource."). */
function duplicateResources(resources: readonly { readonly resourceType: number; readonly resourceName: string }[]): Set<string> {
  const seen = new Set<string>();
  const dup = new Set<string>();
  for (const r of resources) {
    const key = configResourceKey(r.resourceType, r.resourceName);
    if (seen.has(key)) dup.add(key);
    seen.add(key);
  }
  return dup;
}

/** Kafka's Uuid.randomUuid as a canonical uuid. */
function randomTopicUuid(): string {
  return randomUUID();
}

const isActive = (image: MetadataImage, id: number): boolean => {
  const b = image.broker(id);
  return b !== undefined && !b.fenced && !b.inControlledShutdown;
};

const placementBrokers = (image: MetadataImage) =>
  [...image.cluster.brokers.values()].map((b) => ({ id: b.id, rack: b.rack, fenced: b.fenced || b.inControlledShutdown }));

/** A replica's directory: the broker's only log dir, or UNASSIGNED when it has several (or none). */
function newPartition(image: MetadataImage, replicas: readonly number[], isr: readonly number[]): NewPartition {
  const directories = replicas.map((id) => {
    const dirs = image.broker(id)?.logDirs ?? [];
    return dirs.length === 1 ? dirs[0]! : UNASSIGNED_DIRECTORY;
  });
  return { replicas, isr, directories };
}

function partitionRecord(topicId: string, partitionId: number, p: NewPartition): MetadataRecord {
  return {
    type: MetadataRecordType.Partition,
    version: RecordVersion.Partition,
    data: {
      partitionId,
      topicId,
      replicas: [...p.replicas],
      isr: [...p.isr],
      removingReplicas: [],
      addingReplicas: [],
      leader: p.isr[0]!,
      leaderRecoveryState: LeaderRecoveryState.RECOVERED,
      leaderEpoch: 0,
      partitionEpoch: 0,
      directories: [...p.directories],
      eligibleLeaderReplicas: null,
      lastKnownElr: null,
    },
  };
}

/** Kafka's validateManualPartitionAssignment; the message when invalid. */
function validateManualAssignment(image: MetadataImage, brokerIds: readonly number[], rf: number | undefined): string | undefined {
  if (brokerIds.length === 0) return 'The manual partition assignment includes an empty replica list.';
  const sorted = [...brokerIds].sort((a, b) => a - b);
  let prev: number | undefined;
  for (const id of sorted) {
    if (image.broker(id) === undefined) return `The manual partition assignment includes broker ${id}, but no such broker is registered.`;
    if (id === prev) return `The manual partition assignment includes the broker ${prev} more than once.`;
    prev = id;
  }
  if (rf !== undefined && sorted.length !== rf) {
    return `The manual partition assignment includes a partition with ${sorted.length} replica(s), but this is not consistent with previous partitions, which have ${rf} replica(s).`;
  }
  return undefined;
}

/** Kafka's ClusterControlManager.checkBrokerEpoch. */
function checkBrokerEpoch(image: MetadataImage, brokerId: number, brokerEpoch: number): ApiError | undefined {
  const b = image.broker(brokerId);
  if (b === undefined) return apiError(ErrorCode.STALE_BROKER_EPOCH, `No broker registration found for broker ${brokerId}`);
  if (b.epoch !== brokerEpoch) return apiError(ErrorCode.STALE_BROKER_EPOCH, `Expected broker epoch ${b.epoch}, but got broker epoch ${brokerEpoch}`);
  return undefined;
}

function registrationChange(brokerId: number, brokerEpoch: number, fenced: number): MetadataRecord {
  return {
    type: MetadataRecordType.BrokerRegistrationChange,
    version: RecordVersion.BrokerRegistrationChange,
    data: { brokerId, brokerEpoch: BigInt(brokerEpoch), fenced, inControlledShutdown: ControlledShutdownChange.NONE, logDirs: [] },
  };
}

/** A broker leaving: it stops leading (another active ISR member takes over, else no leader) and leaves ISRs it is not alone in. */
function brokerRemovalChanges(image: MetadataImage, brokerId: number): MetadataRecord[] {
  return leaderChanges(image, (p) => p.leader === brokerId || (p.isr.includes(brokerId) && p.isr.length > 1), (p) => {
    if (p.leader !== brokerId) return p.leader;
    return p.isr.find((id) => id !== brokerId && isActive(image, id)) ?? NO_LEADER;
  }, brokerId);
}

/**
 * PartitionChangeRecords for every partition matching `select`: the new leader from `leaderOf`, and
 * `removeFromIsr` taken out of the ISR unless it is the last member (Kafka never empties an ISR).
 */
function leaderChanges(image: MetadataImage, select: (p: PartitionRegistration) => boolean,
  leaderOf: (p: PartitionRegistration) => number, removeFromIsr?: number): MetadataRecord[] {
  const out: MetadataRecord[] = [];
  const topics = [...image.topics.byId.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const topic of topics) {
    for (const [partitionId, p] of [...topic.partitions].sort((a, b) => a[0] - b[0])) {
      if (!select(p)) continue;
      const leader = leaderOf(p);
      const isr = removeFromIsr !== undefined && p.isr.length > 1 ? p.isr.filter((id) => id !== removeFromIsr) : null;
      if (leader === p.leader && isr === null) continue;
      out.push({
        type: MetadataRecordType.PartitionChange,
        version: RecordVersion.PartitionChange,
        data: {
          partitionId,
          topicId: topic.id,
          isr,
          leader: leader === p.leader ? NO_LEADER_CHANGE : leader,
          replicas: null,
          removingReplicas: null,
          addingReplicas: null,
          leaderRecoveryState: LeaderRecoveryState.NO_CHANGE,
          directories: null,
          eligibleLeaderReplicas: null,
          lastKnownElr: null,
        },
      });
    }
  }
  return out;
}
