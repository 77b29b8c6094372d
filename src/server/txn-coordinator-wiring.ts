// The transaction coordinator inside a node: builds the TransactionCoordinator over the local
// __transaction_state partitions, follows their leadership from the metadata image (a publisher installed
// after the one that opens the partitions), creates __transaction_state through the controller the first
// time a client looks for a transaction coordinator, and delivers the COMMIT / ABORT markers.
//
// Durability: __transaction_state is created with Strata's durable.append=true, so a transaction state
// change (and so an EndTxn answer) is acknowledged only once an fsync covers it. Kafka relies on the ISR
// holding the record in memory; on a single node that would let a power loss forget a decided commit.
//
// Markers: a partition this node leads gets its control batch appended through the ReplicaManager (the
// same path WriteTxnMarkers takes when another coordinator sends them). For a partition of
// __consumer_offsets the transactional offsets (TxnOffsetCommit, see `TxnOffsetLog`) are first turned into
// ordinary offset commits through the group coordinator (COMMIT) or dropped (ABORT), and only then is the
// control batch written, so a marker in the log always means its offsets were dealt with. That step takes
// turns with the partition's TxnOffsetCommit writes (`TxnOffsetLog.exclusive`), which also present a KIP-890
// verification guard: a TxnOffsetCommit whose transaction ended meanwhile is refused, never left dangling.
// Partitions led by other brokers answer NOT_LEADER_OR_FOLLOWER and are retried: this build has no
// inter-broker client to send WriteTxnMarkers with.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { ControllerApi } from '../broker/controller-api.js';
import type { CoordinatorLocation, TransactionCoordinatorLocator } from '../broker/group-handlers.js';
import type { MetadataView } from '../broker/metadata-view.js';
import { ProducerIdManager } from '../broker/producer-id-manager.js';
import type { PendingTransactionalOffsets } from '../coordinator/group/group-shard.js';
import type { GroupCoordinator } from '../coordinator/group/group-coordinator.js';
import type { PendingOffset, PendingOffsetStore } from '../broker/txn-handlers.js';
import { systemScheduler, type Scheduler } from '../coordinator/scheduler.js';
import type { TransactionCoordinatorConfig } from '../coordinator/txn/config.js';
import { TransactionResult, type MarkerPartitionResult, type TxnMarkerSender } from '../coordinator/txn/marker-dispatcher.js';
import type { TopicPartition } from '../coordinator/txn/transaction-metadata.js';
import { TransactionCoordinator, TRANSACTION_STATE_TOPIC_NAME, GROUP_METADATA_TOPIC_NAME } from '../coordinator/txn/transaction-coordinator.js';
import type { MetadataImage } from '../metadata/image.js';
import type { MetadataPublisher, MetadataUpdate } from '../metadata/publisher.js';
import { ErrorCode } from '../protocol/errors.js';
import { buildBatchSync, buildControlBatch } from '../protocol/records/builder.js';
import { isControl, isTransactional, NO_SEQUENCE } from '../protocol/records/batch-header.js';
import { decodeBatchRecords } from '../protocol/records/batch-records.js';
import { iterateBatches } from '../protocol/records/batches.js';
import { appendErrorToCoordinatorError } from '../coordinator/errors.js';
import { decodeGroupRecord, offsetCommitRecord } from '../coordinator/group/records.js';
import { errorCodeOf as replicaErrorCodeOf } from '../replication/errors.js';
import type { PartitionAppendResult, ReplicaManager } from '../replication/replica-manager.js';
import { VerificationGuard } from '../storage/producer-state.js';
import { CoordinatorPartitionLog } from './coordinator-partition-log.js';
import { CoordinatorLeadership } from './coordinator-leadership.js';
import { InternalTopic } from './internal-topic.js';
import type { DataPathDeps } from '../broker/data-path-deps.js';
import type { HandlerRegistry } from '../broker/registry.js';
import { dataPathHandlers, type DataPath } from './data-path.js';

export const TRANSACTION_STATE_TOPIC = TRANSACTION_STATE_TOPIC_NAME;

/** The configs Kafka gives __transaction_state (TransactionLog / TransactionStateManager), plus durability. */
export const TRANSACTION_STATE_TOPIC_CONFIGS: readonly { readonly name: string; readonly value: string }[] = [
  { name: 'cleanup.policy', value: 'compact' },
  { name: 'segment.bytes', value: '104857600' },
  { name: 'compression.type', value: 'uncompressed' },
  { name: 'unclean.leader.election.enable', value: 'false' },
  { name: 'durable.append', value: 'true' },
];

/** How long a marker append may wait for the ISR. */
const MARKER_APPEND_TIMEOUT_MS = 30_000;

/**
 * Transactional offset commits waiting for their transaction's marker, per producer id (Kafka keeps them
 * in the group metadata as `pendingTransactionalOffsetCommits`). The in-memory view; `TxnOffsetLog`
 * keeps it durable and rebuilds it.
 */
export class PendingTxnOffsets implements PendingTransactionalOffsets {
  /** producer id → "group\0topic\0partition" → offset (a later commit of the same partition replaces it). */
  readonly #byProducer = new Map<number, Map<string, PendingOffset>>();

  add(producerId: number, offsets: readonly PendingOffset[]): void {
    let m = this.#byProducer.get(producerId);
    if (m === undefined) this.#byProducer.set(producerId, (m = new Map()));
    for (const o of offsets) m.set(`${o.groupId}\0${o.topic}\0${o.partition}`, o);
  }

  has(groupId: string, topic: string, partition: number): boolean {
    const k = `${groupId}\0${topic}\0${partition}`;
    for (const m of this.#byProducer.values()) if (m.has(k)) return true;
    return false;
  }

  /** The producer's pending offsets of the groups `owns` accepts, removed. */
  take(producerId: number, owns: (groupId: string) => boolean): PendingOffset[] {
    const m = this.#byProducer.get(producerId);
    if (m === undefined) return [];
    const taken: PendingOffset[] = [];
    for (const [k, o] of m) {
      if (!owns(o.groupId)) continue;
      taken.push(o);
      m.delete(k);
    }
    if (m.size === 0) this.#byProducer.delete(producerId);
    return taken;
  }

  /** Puts offsets back (their commit failed; the marker will be resent). */
  restore(producerId: number, offsets: readonly PendingOffset[]): void {
    if (offsets.length > 0) this.add(producerId, offsets);
  }
}

/**
 * The durable side of transactional offsets, as Kafka keeps them: TxnOffsetCommit appends the offsets to
 * the group's __consumer_offsets partition as a transactional batch of the producer, and the marker later
 * closes that transaction with a control batch there. The group coordinator's own replay skips both;
 * this store rescans each __consumer_offsets partition when this node comes to lead it, so offsets whose
 * transaction has no marker yet are pending again after a restart (the transaction coordinator then
 * resends the marker, which applies or drops them).
 */
export class TxnOffsetLog implements PendingOffsetStore {
  readonly pending: PendingTxnOffsets;
  readonly #rm: ReplicaManager;
  readonly #partitionFor: (groupId: string) => number;
  readonly #log: Logger;
  /** __consumer_offsets partition → its scan (at the leader epoch it was started for). */
  readonly #scans = new Map<number, { epoch: number; done: Promise<void> }>();
  /** __consumer_offsets partition → the end of its queue of offset writes and markers (see `exclusive`). */
  readonly #turns = new Map<number, Promise<void>>();

  constructor(opts: { replicaManager: ReplicaManager; pending: PendingTxnOffsets; partitionFor: (groupId: string) => number; log: Logger }) {
    this.#rm = opts.replicaManager;
    this.pending = opts.pending;
    this.#partitionFor = opts.partitionFor;
    this.#log = opts.log;
  }

  async startVerification(producerId: number, producerEpoch: number, groupPartition: number): Promise<{ guard: VerificationGuard } | { errorCode: number }> {
    await this.ready(groupPartition);
    try {
      // Kafka verifies offset writes with no sequence: the lowest-sequence rule is the produce path's.
      return { guard: this.#rm.maybeStartTransactionVerification(GROUP_METADATA_TOPIC_NAME, groupPartition, producerId, NO_SEQUENCE, producerEpoch) };
    } catch (e) {
      return { errorCode: appendErrorToCoordinatorError(replicaErrorCodeOf(e)) };
    }
  }

  async persist(producerId: number, producerEpoch: number, groupPartition: number, offsets: readonly PendingOffset[],
    guard: VerificationGuard = VerificationGuard.SENTINEL): Promise<number> {
    await this.ready(groupPartition);
    const records = offsets.map((o) => offsetCommitRecord(o.groupId, o.topic, o.partition, {
      offset: o.offset, leaderEpoch: o.leaderEpoch, metadata: o.metadata, commitTimestamp: o.commitTimestamp, expireTimestamp: undefined,
    }));
    const batch = buildBatchSync(records.map((r) => ({ key: r.key, value: r.value })), {
      // Sequence 0, as Kafka writes them: the partition checks no sequences of coordinator writes.
      timestamp: Date.now(), producerId, producerEpoch, baseSequence: 0, transactional: true,
    });
    // Write and remember as one step of the partition's queue, which its markers also go through: a marker
    // either sees these offsets pending or comes after them, never in between.
    return this.exclusive(groupPartition, async () => {
      let r: PartitionAppendResult | undefined;
      try {
        [r] = await this.#rm.appendRecords({
          entries: [{ topic: GROUP_METADATA_TOPIC_NAME, partition: groupPartition, records: batch, verificationGuard: guard }],
          requiredAcks: -1,
          timeoutMs: MARKER_APPEND_TIMEOUT_MS,
          origin: 'coordinator',
        });
      } catch {
        return ErrorCode.NOT_COORDINATOR;
      }
      if (r === undefined) return ErrorCode.UNKNOWN_SERVER_ERROR;
      // In the log (even if waiting for the ISR then failed), the batch is part of the transaction: its
      // marker must find the offsets, as a rescan after a restart would.
      if (r.lastOffset >= 0) this.pending.add(producerId, offsets);
      return r.errorCode === ErrorCode.NONE ? ErrorCode.NONE : appendErrorToCoordinatorError(r.errorCode);
    });
  }

  /**
   * Runs `fn` after every earlier operation queued for `partition` has finished: TxnOffsetCommit writes and
   * the partition's transaction markers take turns, so that checking the transaction, writing and
   * updating the pending offsets happen as one step with respect to a marker.
   */
  exclusive<T>(partition: number, fn: () => Promise<T>): Promise<T> {
    const previous = this.#turns.get(partition) ?? Promise.resolve();
    const run = previous.then(fn);
    const tail = run.then(() => undefined, () => undefined);
    this.#turns.set(partition, tail);
    void tail.then(() => {
      if (this.#turns.get(partition) === tail) this.#turns.delete(partition);
    });
    return run;
  }

  /** This node leads `partition` at `epoch`: rescan it for transactional offsets without a marker. */
  follow(partition: number, epoch: number): void {
    const known = this.#scans.get(partition);
    if (known !== undefined && known.epoch >= epoch) return;
    const done = this.#scan(partition).catch((err: unknown) => this.#log.warn({ err, partition }, 'Scanning __consumer_offsets for transactional offsets failed'));
    this.#scans.set(partition, { epoch, done });
  }

  /** Resolves once the partition's scan (if any) finished. */
  async ready(partition: number): Promise<void> {
    await this.#scans.get(partition)?.done;
  }

  async #scan(partition: number): Promise<void> {
    const p = this.#rm.getPartition(GROUP_METADATA_TOPIC_NAME, partition);
    if (p === undefined) return;
    const log = p.log;
    const end = log.logEndOffset;
    let offset = log.logStartOffset;
    const owns = (g: string): boolean => this.#partitionFor(g) === partition;
    while (offset < end) {
      const r = await log.read(offset, 4 * 1024 * 1024, { minOneMessage: true });
      const buf = r.records.length === 1 ? r.records[0]! : Buffer.concat(r.records);
      let next = offset;
      for (const b of iterateBatches(buf)) {
        next = b.header.baseOffset + b.header.lastOffsetDelta + 1;
        const { attributes, producerId } = b.header;
        if (!isTransactional(attributes)) continue;
        if (isControl(attributes)) {
          // The marker: a COMMIT was applied to the group before it was written, an ABORT drops them.
          this.pending.take(producerId, owns);
          continue;
        }
        const found: PendingOffset[] = [];
        for (const rec of await decodeBatchRecords(buf, b)) {
          if (rec.key === null) continue;
          const d = decodeGroupRecord({ key: rec.key, value: rec.value });
          if (d.kind !== 'offset' || d.value === null) continue;
          found.push({ groupId: d.group, topic: d.topic, partition: d.partition, offset: d.value.offset, leaderEpoch: d.value.leaderEpoch,
            metadata: d.value.metadata, commitTimestamp: d.value.commitTimestamp });
        }
        this.pending.add(producerId, found);
      }
      if (next <= offset) break;
      offset = next;
    }
  }
}

/**
 * Writes markers to partitions this node leads: what both the coordinator's own sender and the
 * WriteTxnMarkers handler do.
 */
export class LocalMarkerWriter implements TxnMarkerSender {
  readonly #rm: ReplicaManager;
  readonly #metadata: MetadataView;
  readonly #groups: GroupCoordinator | undefined;
  readonly #offsets: TxnOffsetLog;

  constructor(opts: { replicaManager: ReplicaManager; metadata: MetadataView; groups?: GroupCoordinator; offsets: TxnOffsetLog }) {
    this.#rm = opts.replicaManager;
    this.#metadata = opts.metadata;
    this.#groups = opts.groups;
    this.#offsets = opts.offsets;
  }

  async sendMarkers(
    producerId: number,
    producerEpoch: number,
    result: TransactionResult,
    partitions: readonly TopicPartition[],
    coordinatorEpoch: number,
  ): Promise<readonly MarkerPartitionResult[]> {
    const answers: MarkerPartitionResult[] = [];
    const data: TopicPartition[] = [];
    const offsetPartitions: Promise<MarkerPartitionResult>[] = [];
    const timestamp = Date.now();
    const type = result === TransactionResult.COMMIT ? 'commit' : 'abort';
    const marker = (): Buffer => buildControlBatch({ type, producerId, producerEpoch, coordinatorEpoch, timestamp });
    for (const tp of partitions) {
      if (tp.topic === GROUP_METADATA_TOPIC_NAME) {
        offsetPartitions.push(this.#markOffsetsPartition(producerId, tp, result, marker));
      } else if (this.#metadata.image.topic(tp.topic)?.partitions.has(tp.partition) !== true) {
        // Kafka drops partitions of deleted topics instead of retrying them forever.
        answers.push({ ...tp, errorCode: ErrorCode.NONE });
      } else {
        data.push(tp);
      }
    }
    const [appended, offsetAnswers] = await Promise.all([
      data.length === 0
        ? []
        : this.#rm.appendRecords({
          entries: data.map((tp) => ({ ...tp, records: marker() })),
          requiredAcks: -1,
          timeoutMs: MARKER_APPEND_TIMEOUT_MS,
          origin: 'coordinator',
        }),
      Promise.all(offsetPartitions),
    ]);
    for (const r of appended) answers.push({ topic: r.topic, partition: r.partition, errorCode: markerAnswer(r.errorCode) });
    answers.push(...offsetAnswers);
    return answers;
  }

  /**
   * The marker of a __consumer_offsets partition, taking its turn with that partition's TxnOffsetCommit
   * writes: the pending offsets land or go, then the control batch is written, and no transactional offset
   * write can fall in between (it would be dropped from memory by this marker yet sit in the log after it,
   * or be applied with the producer's next transaction).
   */
  #markOffsetsPartition(producerId: number, tp: TopicPartition, result: TransactionResult, marker: () => Buffer): Promise<MarkerPartitionResult> {
    return this.#offsets.exclusive(tp.partition, async () => {
      const code = await this.#completeOffsets(producerId, tp.partition, result);
      if (code !== ErrorCode.NONE) return { ...tp, errorCode: code };
      const [r] = await this.#rm.appendRecords({
        entries: [{ ...tp, records: marker() }],
        requiredAcks: -1,
        timeoutMs: MARKER_APPEND_TIMEOUT_MS,
        origin: 'coordinator',
      });
      return { ...tp, errorCode: markerAnswer(r?.errorCode ?? ErrorCode.UNKNOWN_SERVER_ERROR) };
    });
  }

  /** The marker of a __consumer_offsets partition: its pending transactional offsets land or go. */
  async #completeOffsets(producerId: number, partition: number, result: TransactionResult): Promise<number> {
    const groups = this.#groups;
    if (groups === undefined) return ErrorCode.NONE;
    await this.#offsets.ready(partition);
    const pending = this.#offsets.pending;
    const offsets = pending.take(producerId, (g) => groups.partitionFor(g) === partition);
    if (result !== TransactionResult.COMMIT || offsets.length === 0) return ErrorCode.NONE;
    const byGroup = new Map<string, PendingOffset[]>();
    for (const o of offsets) {
      const list = byGroup.get(o.groupId);
      if (list === undefined) byGroup.set(o.groupId, [o]);
      else list.push(o);
    }
    for (const [groupId, list] of byGroup) {
      const code = await groups.commitTransactionalOffsets(groupId, list);
      if (code !== ErrorCode.NONE) {
        // Not committed yet: keep what is left, the dispatcher resends this partition's marker.
        pending.restore(producerId, [...byGroup.entries()].filter(([g]) => g >= groupId).flatMap(([, l]) => l));
        return code;
      }
      byGroup.delete(groupId);
    }
    return ErrorCode.NONE;
  }
}

/**
 * Test hook, not a setting: TEST_HOOK_DELAY_TXN_MARKERS_MS holds each marker send of this node's
 * coordinator for that long, so that a test can kill the broker between a durable PrepareCommit /
 * PrepareAbort and its markers (test/integration/txn-restart.test.ts). Unset, the sender is used as is.
 * Not named STRATA_…, which the config loader would take for a broker setting.
 */
function withTestMarkerDelay(sender: TxnMarkerSender): TxnMarkerSender {
  const ms = Number(process.env.TEST_HOOK_DELAY_TXN_MARKERS_MS ?? '');
  if (!Number.isSafeInteger(ms) || ms <= 0) return sender;
  return {
    async sendMarkers(...args) {
      // Unreferenced: a held send must not keep a stopping broker alive.
      await sleep(ms, undefined, { ref: false });
      return sender.sendMarkers(...args);
    },
  };
}

/** Partitions that did not take a marker, at debug level: the dispatcher sends to them again. */
function withMarkerLog(sender: TxnMarkerSender, log: Logger): TxnMarkerSender {
  return {
    async sendMarkers(producerId, producerEpoch, result, partitions, coordinatorEpoch) {
      let answers: readonly MarkerPartitionResult[];
      try {
        answers = await sender.sendMarkers(producerId, producerEpoch, result, partitions, coordinatorEpoch);
      } catch (err) {
        log.debug({ producerId, producerEpoch, result, partitions, err }, 'Transaction markers not written yet');
        throw err;
      }
      if (log.isLevelEnabled('debug')) {
        const refused = answers.filter((a) => a.errorCode !== ErrorCode.NONE);
        if (refused.length > 0) log.debug({ producerId, producerEpoch, result, refused }, 'Transaction markers not written yet');
      }
      return answers;
    },
  };
}

/** A marker for a partition that no longer exists is done with, as in Kafka. */
const markerAnswer = (errorCode: number): number => (errorCode === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION ? ErrorCode.NONE : errorCode);

export interface TxnCoordinatorWiringOptions {
  readonly nodeId: number;
  readonly replicaManager: ReplicaManager;
  readonly controller: ControllerApi;
  readonly metadata: MetadataView;
  readonly config: Partial<TransactionCoordinatorConfig>;
  /** transaction.state.log.replication.factor */
  readonly replicationFactor: number;
  /** The group coordinator, for transactional offsets; without it those markers complete at once. */
  readonly groups?: GroupCoordinator;
  readonly pendingOffsets?: PendingTxnOffsets;
  readonly log: Logger;
  readonly scheduler?: Scheduler;
}

export class TxnCoordinatorWiring implements MetadataPublisher, TransactionCoordinatorLocator {
  readonly name = 'TxnCoordinatorWiring';
  readonly coordinator: TransactionCoordinator;
  readonly markers: LocalMarkerWriter;
  readonly pendingOffsets: PendingTxnOffsets;
  /** TxnOffsetCommit's durable store of pending offsets. */
  readonly offsetLog: TxnOffsetLog;
  readonly #opts: TxnCoordinatorWiringOptions;
  readonly #leadership: CoordinatorLeadership;
  readonly #topic: InternalTopic;
  #closed = false;

  constructor(opts: TxnCoordinatorWiringOptions) {
    this.#opts = opts;
    this.pendingOffsets = opts.pendingOffsets ?? new PendingTxnOffsets();
    const groups = opts.groups;
    this.offsetLog = new TxnOffsetLog({
      replicaManager: opts.replicaManager,
      pending: this.pendingOffsets,
      partitionFor: (g) => (groups !== undefined ? groups.partitionFor(g) : 0),
      log: opts.log,
    });
    this.markers = new LocalMarkerWriter({
      replicaManager: opts.replicaManager,
      metadata: opts.metadata,
      offsets: this.offsetLog,
      ...(opts.groups ? { groups: opts.groups } : {}),
    });
    const producerIds = new ProducerIdManager({
      controller: opts.controller,
      nodeId: opts.nodeId,
      brokerEpoch: () => opts.metadata.brokerEpoch(),
    });
    this.coordinator = new TransactionCoordinator({
      config: opts.config,
      scheduler: opts.scheduler ?? systemScheduler,
      logFor: (partition) => new CoordinatorPartitionLog({ replicaManager: opts.replicaManager, topic: TRANSACTION_STATE_TOPIC, partition }),
      allocateProducerId: () => producerIds.generate(),
      markerSender: withTestMarkerDelay(withMarkerLog(this.markers, opts.log)),
      onShardFailure: (partition, epoch, error) => this.#leadership.onShardFailure(partition, epoch, error),
      onMarkersAbandoned: (job, errorCode) =>
        opts.log.warn({ transactionalId: job.transactionalId, producerId: job.producerId, errorCode }, 'Transaction markers abandoned'),
    });
    this.#leadership = new CoordinatorLeadership({
      topic: TRANSACTION_STATE_TOPIC,
      nodeId: opts.nodeId,
      coordinator: this.coordinator,
      image: () => opts.metadata.image,
      log: opts.log,
    });
    this.#topic = new InternalTopic({
      name: TRANSACTION_STATE_TOPIC,
      numPartitions: this.coordinator.config.transactionStateLogNumPartitions,
      replicationFactor: opts.replicationFactor,
      configs: TRANSACTION_STATE_TOPIC_CONFIGS,
      controller: opts.controller,
      metadata: opts.metadata,
      log: opts.log,
    });
  }

  onMetadataUpdate(update: MetadataUpdate, image: MetadataImage): void {
    if (this.#closed) return;
    // Before the coordinator loads and resends markers, which wait for these scans.
    for (const [partition, reg] of image.topic(GROUP_METADATA_TOPIC_NAME)?.partitions ?? []) {
      if (reg.leader === this.#opts.nodeId) this.offsetLog.follow(partition, reg.leaderEpoch);
    }
    this.#leadership.update(update, image);
  }

  async locateTransactionCoordinator(transactionalId: string, listenerName: string): Promise<CoordinatorLocation> {
    return this.#topic.locate(this.coordinator.partitionFor(transactionalId), listenerName);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#leadership.close();
    this.coordinator.close();
  }
}

/**
 * The coordinator's settings: the typed broker configs given, plus the cleanup intervals and id
 * expiration read from the static config under Kafka's names when set there.
 */
export function txnCoordinatorConfigFrom(raw: ReadonlyMap<string, string>, typed: Partial<TransactionCoordinatorConfig>): Partial<TransactionCoordinatorConfig> {
  const out: { -readonly [K in keyof TransactionCoordinatorConfig]?: TransactionCoordinatorConfig[K] } = { ...typed };
  const positive = (name: string): number | undefined => {
    const s = raw.get(name);
    if (s === undefined) return undefined;
    const n = Number(s);
    return Number.isSafeInteger(n) && n > 0 ? n : undefined;
  };
  const abort = positive('transaction.abort.timed.out.transaction.cleanup.interval.ms');
  if (abort !== undefined) out.abortTimedOutTransactionsIntervalMs = abort;
  const expiration = positive('transactional.id.expiration.ms');
  if (expiration !== undefined) out.transactionalIdExpirationMs = expiration;
  const remove = positive('transaction.remove.expired.transaction.cleanup.interval.ms');
  if (remove !== undefined) out.removeExpiredTransactionalIdsIntervalMs = remove;
  return out;
}

/**
 * Registers the data-path handlers with the partition-side transaction verification (KIP-890 part 1)
 * backed by this node's coordinator. On a single node the coordinator is in-process; a broker without
 * the coordinator would send AddPartitionsToTxn v4+ with verifyOnly instead.
 */
export function registerDataPath(dataPath: DataPath, registry: HandlerRegistry, txns: TxnCoordinatorWiring): HandlerRegistry {
  const deps: DataPathDeps = {
    ...dataPath.deps,
    verifyTransaction: async (transactionalId, producerId, producerEpoch, partitions) =>
      (await txns.coordinator.handleVerifyPartitions(transactionalId, producerId, producerEpoch, partitions)).map((e) => e.errorCode),
  };
  for (const h of dataPathHandlers(deps)) registry.register(h);
  return registry;
}
