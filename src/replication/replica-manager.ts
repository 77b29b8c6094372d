// The partitions this node hosts and the data-path operations over them, as Kafka's ReplicaManager:
// appends with acks (and the acks=all wait), fetches with long polling (the fetch purgatory, woken by
// appends), ListOffsets, OffsetForLeaderEpoch, DeleteRecords, DescribeLogDirs and DescribeProducers.
// Results carry Kafka error codes per partition; nothing here throws for a client's mistake.
//
// Partitions come and go through ensureLeaderPartition / stopPartition, which the metadata publisher
// calls as the metadata image changes.
import fs from 'node:fs/promises';
import path from 'node:path';
import { ErrorCode } from '../protocol/errors.js';
import { NO_TIMESTAMP } from '../protocol/records/batch-header.js';
import { parseTopicPartitionKey } from '../storage/checkpoint-file.js';
import { type Clock, systemClock } from '../storage/clock.js';
import { AppendOrigin, type AppendResult, ListOffsetsTimestamp, type Log, type LogReadResult, type ReadOptions } from '../storage/log.js';
import { hasDeletePolicy } from '../storage/log-config.js';
import type { LogManager } from '../storage/log-manager.js';
import { isCanonicalUuid, PartitionMetadataFile, ZERO_UUID } from '../storage/partition-metadata.js';
import { VerificationGuard } from '../storage/producer-state.js';
import { prepareAppend, prepareAppendNow, type PrepareOptions, type RecordError } from './append-validation.js';
import { Purgatory } from './delayed.js';
import { DelayedCondition, DelayedFetch, DelayedProduce, type FetchWaitStatus, type ProduceWaitStatus } from './delayed-ops.js';
import { errorCodeOf, errorMessageOf, ReplicaError } from './errors.js';
import { FetchIsolation, Partition, partitionKey } from './partition.js';
import type { PartitionConfig } from './partition-config.js';

/** Kafka's fetch.max.bytes default. */
export const DEFAULT_FETCH_MAX_BYTES = 57_671_680;
/** DeleteRecords' "up to the high watermark". */
export const DELETE_TO_HIGH_WATERMARK = -1;
/** ListOffsets' and OffsetForLeaderEpoch's "unknown". */
export const UNKNOWN_OFFSET = -1;
export const UNDEFINED_EPOCH = -1;

export const IsolationLevel = { READ_UNCOMMITTED: 0, READ_COMMITTED: 1 } as const;

export interface ReplicaManagerOptions {
  readonly nodeId: number;
  readonly logManager: LogManager;
  readonly clock?: Clock;
  /** `fetch.max.bytes`: caps a fetch response whatever the client asks for. */
  readonly fetchMaxBytes?: number;
  /** Bound on each compressed batch's records when validating produce requests. */
  readonly maxUncompressedBytes?: number;
  /**
   * Whether the cluster metadata knows a partition. Unknown partitions are UNKNOWN_TOPIC_OR_PARTITION;
   * known but not hosted here, NOT_LEADER_OR_FOLLOWER. Without it, not hosted means unknown.
   */
  readonly partitionExists?: (topic: string, partition: number) => boolean;
  /**
   * `transaction.partition.verification.enable` (KIP-890 part 1). Off by default here: only a broker whose
   * produce path asks the transaction coordinator may turn it on, or every transactional write is refused.
   */
  readonly transactionVerificationEnabled?: boolean;
}

export interface EnsureLeaderOptions {
  readonly topic: string;
  readonly topicId: string;
  readonly partition: number;
  readonly leaderEpoch: number;
  readonly config: PartitionConfig;
  readonly replicas?: readonly number[];
  readonly isr?: readonly number[];
}

export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

// --- produce ---------------------------------------------------------------------------------------

export interface ProduceEntry extends TopicPartition {
  readonly records: Buffer | null;
  /** KIP-890: the guard `maybeStartTransactionVerification` gave for this write, once the coordinator confirmed it. */
  readonly verificationGuard?: VerificationGuard;
}

export interface AppendRecordsOptions {
  readonly entries: readonly ProduceEntry[];
  readonly requiredAcks: number;
  readonly timeoutMs: number;
  /** The Produce version (per-version record rules); undefined for the broker's own writes. */
  readonly produceVersion?: number;
  /** `coordinator` for the broker's own writes (control batches allowed, no sequence checks). */
  readonly origin?: 'client' | 'coordinator';
}

export interface PartitionAppendResult extends TopicPartition {
  readonly errorCode: number;
  readonly errorMessage: string | null;
  readonly baseOffset: number;
  /** Offset of the last record appended (-1 when nothing was). */
  readonly lastOffset: number;
  /** The broker time stamped on LogAppendTime topics, else -1. */
  readonly logAppendTime: number;
  readonly logStartOffset: number;
  readonly recordErrors: readonly RecordError[];
  /** Known leader when the error is about leadership (-1 when unknown). */
  readonly leaderId: number;
  readonly leaderEpoch: number;
}

// --- fetch -----------------------------------------------------------------------------------------

export interface FetchParams {
  /** -1 for consumers (-2 debugging consumers); a broker id for followers. */
  readonly replicaId: number;
  readonly maxWaitMs: number;
  readonly minBytes: number;
  readonly maxBytes: number;
  readonly isolationLevel: number;
  /** Fetch v0–2: maxBytes is hard, even the first batch is not returned whole when larger. */
  readonly hardMaxBytesLimit?: boolean;
}

export interface FetchPartitionRequest extends TopicPartition {
  readonly fetchOffset: number;
  readonly partitionMaxBytes: number;
  readonly currentLeaderEpoch: number;
  /** Fetch v12+ (followers): the epoch of the last batch the fetcher has; -1 when unknown. */
  readonly lastFetchedEpoch?: number;
  /** Fetch v5+ (followers): the fetcher's log start offset; -1 when unknown. */
  readonly logStartOffset?: number;
}

export interface AbortedTransaction {
  readonly producerId: number;
  readonly firstOffset: number;
}

export interface FetchPartitionResult extends TopicPartition {
  readonly errorCode: number;
  readonly highWatermark: number;
  readonly lastStableOffset: number;
  readonly logStartOffset: number;
  /** Whole batches as stored; null when nothing was read. */
  readonly records: Buffer | null;
  /** read_committed only: the aborted transactions overlapping the records; null otherwise. */
  readonly abortedTransactions: AbortedTransaction[] | null;
  readonly leaderId: number;
  readonly leaderEpoch: number;
  /** Set when the fetcher's log diverged from ours: where its epoch ends here (it truncates there). */
  readonly divergingEpoch?: { readonly epoch: number; readonly endOffset: number };
}

// --- others ----------------------------------------------------------------------------------------

export interface OffsetForTimestampResult {
  readonly timestamp: number;
  readonly offset: number;
  readonly leaderEpoch: number;
}

export interface EpochEndOffsetResult {
  readonly errorCode: number;
  readonly leaderEpoch: number;
  readonly endOffset: number;
}

export interface LogDirDescription {
  readonly logDir: string;
  readonly errorCode: number;
  readonly totalBytes: number;
  readonly usableBytes: number;
  readonly partitions: readonly { readonly topic: string; readonly partition: number; readonly size: number; readonly offsetLag: number }[];
}

export interface ProducerDescription {
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly lastSequence: number;
  readonly lastTimestamp: number;
  readonly coordinatorEpoch: number;
  readonly currentTxnStartOffset: number;
}

export class ReplicaManager {
  readonly nodeId: number;
  readonly #logManager: LogManager;
  readonly #clock: Clock;
  readonly #fetchMaxBytes: number;
  readonly #maxUncompressedBytes: number | undefined;
  readonly #partitionExists: ((topic: string, partition: number) => boolean) | undefined;
  #transactionVerification: boolean;
  readonly #partitions = new Map<string, Partition>();
  readonly #creating = new Map<string, Promise<Partition>>();
  /**
   * Per partition, the turn of the append called last. Validation (decompression) of pipelined requests
   * finishes in any order; appends still happen in call order, as Kafka appends one connection's requests.
   */
  // An entry stays once its partition was appended to (undefined when no append is under way): adding and
  // deleting keys of a long-lived Map per append rehashes its table into the old generation each time.
  readonly #appendTurns = new Map<string, Promise<void> | undefined>();
  readonly fetchPurgatory = new Purgatory<DelayedFetch>('Fetch');
  readonly producePurgatory = new Purgatory<DelayedProduce>('Produce');
  readonly deleteRecordsPurgatory = new Purgatory<DelayedCondition>('DeleteRecords');
  #shutdown = false;

  constructor(opts: ReplicaManagerOptions) {
    this.nodeId = opts.nodeId;
    this.#logManager = opts.logManager;
    this.#clock = opts.clock ?? systemClock;
    this.#fetchMaxBytes = opts.fetchMaxBytes ?? DEFAULT_FETCH_MAX_BYTES;
    this.#maxUncompressedBytes = opts.maxUncompressedBytes;
    this.#partitionExists = opts.partitionExists;
    this.#transactionVerification = opts.transactionVerificationEnabled ?? false;
  }

  /** `transaction.partition.verification.enable`: applies to every hosted partition's log at once. */
  get transactionVerificationEnabled(): boolean {
    return this.#transactionVerification;
  }

  set transactionVerificationEnabled(enabled: boolean) {
    this.#transactionVerification = enabled;
    for (const p of this.#partitions.values()) p.log.producerState.transactionVerificationEnabled = enabled;
  }

  get logManager(): LogManager {
    return this.#logManager;
  }

  // ------------------------------------------------------------------------------------------------
  // Partitions

  getPartition(topic: string, partition: number): Partition | undefined {
    return this.#partitions.get(partitionKey(topic, partition));
  }

  partitions(): IterableIterator<Partition> {
    return this.#partitions.values();
  }

  /** The hosted partition, or the error Kafka answers when it is not (unknown, not here, offline). */
  #partitionOrThrow(topic: string, partition: number): Partition {
    const p = this.#partitions.get(partitionKey(topic, partition));
    if (p === undefined) {
      const known = this.#partitionExists?.(topic, partition) ?? false;
      throw new ReplicaError(
        known ? ErrorCode.NOT_LEADER_OR_FOLLOWER : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        known ? `this node does not host ${partitionKey(topic, partition)}` : `unknown partition ${partitionKey(topic, partition)}`,
      );
    }
    if (p.log.isOffline) throw new ReplicaError(ErrorCode.KAFKA_STORAGE_ERROR, `the log of ${p.key} is offline`);
    return p;
  }

  /**
   * Hosts the partition (creating its log when missing) and makes this node its leader at `leaderEpoch`.
   * Idempotent; a later call with a new epoch, ISR or config updates it.
   */
  async ensureLeaderPartition(opts: EnsureLeaderOptions): Promise<Partition> {
    const key = partitionKey(opts.topic, opts.partition);
    let p = this.#partitions.get(key);
    if (p === undefined) {
      let creating = this.#creating.get(key);
      if (creating === undefined) {
        creating = (async () => {
          const log = await this.#logManager.getOrCreateLog(opts.topic, opts.partition, opts.config.log);
          await checkOrSetTopicId(log, opts.topicId);
          log.producerState.transactionVerificationEnabled = this.#transactionVerification;
          const created = new Partition({
            topic: opts.topic,
            partition: opts.partition,
            topicId: opts.topicId,
            localBrokerId: this.nodeId,
            log,
            config: opts.config,
          });
          this.#partitions.set(key, created);
          return created;
        })();
        this.#creating.set(key, creating);
        creating.finally(() => this.#creating.delete(key)).catch(() => undefined);
      }
      p = await creating;
    } else {
      p.updateConfig(opts.config);
    }
    p.makeLeader({
      leaderEpoch: opts.leaderEpoch,
      ...(opts.replicas ? { replicas: opts.replicas } : {}),
      ...(opts.isr ? { isr: opts.isr } : {}),
    }, opts.topicId);
    this.#wake(key);
    return p;
  }

  /** New topic configs for every hosted partition of `topic`. */
  updateTopicConfig(topic: string, config: PartitionConfig): void {
    for (const p of this.#partitions.values()) if (p.topic === topic) p.updateConfig(config);
  }

  /**
   * Stops hosting the partition: waiting requests complete (with NOT_LEADER_OR_FOLLOWER), and with
   * `delete` its log is removed from disk.
   */
  async stopPartition(tp: TopicPartition, opts: { delete: boolean }): Promise<void> {
    const key = partitionKey(tp.topic, tp.partition);
    const p = this.#partitions.get(key);
    // The entry of a partition with no append under way goes with it (a missing key reads as undefined too).
    if (this.#appendTurns.get(key) === undefined) this.#appendTurns.delete(key);
    if (p !== undefined) {
      this.#partitions.delete(key);
      p.makeFollower(-1, p.leaderEpoch);
      this.#wake(key);
    }
    if (opts.delete) await this.#logManager.deleteLog(tp.topic, tp.partition);
  }

  #wake(key: string): void {
    this.producePurgatory.checkAndComplete(key);
    this.fetchPurgatory.checkAndComplete(key);
    this.deleteRecordsPurgatory.checkAndComplete(key);
  }

  // ------------------------------------------------------------------------------------------------
  // Produce

  /**
   * KIP-890 part 1 (Kafka's maybeStartTransactionVerificationForPartition): called before the transaction
   * coordinator is asked whether the partition is in the producer's transaction. The sentinel means there
   * is nothing to ask (verification is off, or the transaction is already open here at `epoch`); any other
   * guard goes with the append in `ProduceEntry.verificationGuard`, which is refused if a marker of the
   * producer (or a newer verification) has overtaken it. Throws a ReplicaError when this node cannot take
   * the write (unknown partition, not the leader, offline log).
   */
  maybeStartTransactionVerification(topic: string, partition: number, producerId: number, sequence: number, epoch: number): VerificationGuard {
    const p = this.#partitionOrThrow(topic, partition);
    if (!this.#transactionVerification) return VerificationGuard.SENTINEL;
    return p.maybeStartTransactionVerification(producerId, sequence, epoch);
  }

  /**
   * Appends each entry to its partition's leader log. acks 0 and 1 answer after the local append; acks
   * -1 waits until the ISR has the records (at once on a single node) or `timeoutMs` passes. Results
   * come back in the order of `entries`.
   */
  async appendRecords(opts: AppendRecordsOptions): Promise<PartitionAppendResult[]> {
    const { entries, requiredAcks } = opts;
    if (requiredAcks !== -1 && requiredAcks !== 0 && requiredAcks !== 1) {
      return entries.map((e) => appendError(e, ErrorCode.INVALID_REQUIRED_ACKS, `acks must be -1, 0 or 1, not ${requiredAcks}`));
    }
    const results = await Promise.all(entries.map((e) => this.#appendOne(e, opts)));
    if (requiredAcks !== -1) return results;
    const waiting: ProduceWaitStatus[] = [];
    results.forEach((r) => {
      if (r.errorCode === ErrorCode.NONE && r.lastOffset >= 0) {
        waiting.push({ topic: r.topic, partition: r.partition, requiredOffset: r.lastOffset + 1, errorCode: ErrorCode.NONE, pending: true });
      }
    });
    if (waiting.length === 0) return results;
    const statuses = await new Promise<readonly ProduceWaitStatus[]>((resolve) => {
      const op = new DelayedProduce(opts.timeoutMs, waiting, (t, i) => this.getPartition(t, i), resolve);
      this.producePurgatory.tryCompleteElseWatch(op, waiting.map((s) => partitionKey(s.topic, s.partition)));
    });
    return results.map((r) => {
      const s = statuses.find((x) => x.topic === r.topic && x.partition === r.partition);
      return s === undefined || s.errorCode === ErrorCode.NONE ? r : { ...r, errorCode: s.errorCode, errorMessage: null };
    });
  }

  /**
   * appendRecords, made within this call for a client's acks=0/1 writes when each partition's append can
   * be (see #appendOneNow): no promise per partition on the produce path. From the first partition that
   * must wait on, the rest go through appendRecords, after what was done here.
   */
  appendRecordsFast(opts: AppendRecordsOptions): PartitionAppendResult[] | Promise<PartitionAppendResult[]> {
    const { entries, requiredAcks } = opts;
    if ((requiredAcks !== 0 && requiredAcks !== 1) || opts.origin === 'coordinator') return this.appendRecords(opts);
    const results: PartitionAppendResult[] = [];
    for (const entry of entries) {
      const r = this.#appendOneNow(entry, opts);
      if (r === undefined) break;
      results.push(r);
    }
    if (results.length === entries.length) return results;
    return this.appendRecords({ ...opts, entries: entries.slice(results.length) }).then((rest) => results.concat(rest));
  }

  /**
   * #appendOne within this call: the partition is led here, no append of it is under way, its records need
   * no decompression or conversion, and the log takes them synchronously. Undefined, having appended
   * nothing, otherwise (errors other than refused records are answered by #appendOne).
   */
  #appendOneNow(entry: ProduceEntry, opts: AppendRecordsOptions): PartitionAppendResult | undefined {
    const records = entry.records;
    if (records === null || records.length === 0) return undefined;
    const p = this.#partitions.get(partitionKey(entry.topic, entry.partition));
    if (p === undefined || !p.isLeader || p.log.isOffline || this.#appendTurns.get(p.key) !== undefined) return undefined;
    // Validation is not done twice for a write the log would take asynchronously anyway (a large batch).
    if (!p.log.mayAppendNow(records.length)) return undefined;
    try {
      const prepared = prepareAppendNow(records, this.#prepareOptions(p, opts));
      if (prepared === undefined) return undefined;
      if (!prepared.ok) return { ...appendError(entry, prepared.errorCode, prepared.message), recordErrors: prepared.recordErrors };
      const r = p.appendRecordsToLeaderNow(prepared.records, opts.requiredAcks, AppendOrigin.client, entry.verificationGuard);
      return r === undefined ? undefined : this.#appended(entry, p, r);
    } catch (e) {
      return appendFailure(entry, p, e);
    }
  }

  async #appendOne(entry: ProduceEntry, opts: AppendRecordsOptions): Promise<PartitionAppendResult> {
    let p: Partition | undefined;
    try {
      p = this.#partitionOrThrow(entry.topic, entry.partition);
      p.checkLeader();
      // Produce v3+ must carry one batch per partition; older versions may send an empty set, which
      // appends nothing (success without an offset), as Kafka.
      if (entry.records === null || (entry.records.length === 0 && (opts.produceVersion ?? 0) >= 3)) {
        throw new ReplicaError(ErrorCode.INVALID_RECORD, `Produce v${opts.produceVersion ?? '-'} needs a record batch for ${p.key}`);
      }
      if (entry.records.length === 0) {
        return { ...entry, errorCode: ErrorCode.NONE, errorMessage: null, baseOffset: -1, lastOffset: -1, logAppendTime: -1,
          logStartOffset: p.log.logStartOffset, recordErrors: [], leaderId: -1, leaderEpoch: -1 };
      }
      // Taken before the first await, so the turn order is the order requests were dispatched in.
      const key = p.key;
      const previous = this.#appendTurns.get(key);
      let release!: () => void;
      const turn = new Promise<void>((resolve) => (release = resolve));
      this.#appendTurns.set(key, turn);
      let r: Awaited<ReturnType<Partition['appendRecordsToLeader']>>;
      try {
        const prepared = await prepareAppend(entry.records, this.#prepareOptions(p, opts));
        if (!prepared.ok) {
          return { ...appendError(entry, prepared.errorCode, prepared.message), recordErrors: prepared.recordErrors };
        }
        if (previous !== undefined) await previous;
        const origin = opts.origin === 'coordinator' ? AppendOrigin.coordinator : AppendOrigin.client;
        r = await p.appendRecordsToLeader(prepared.records, opts.requiredAcks, origin, entry.verificationGuard);
      } finally {
        // A refused request hands its turn on only once the one before it is done, so the chain holds.
        if (previous !== undefined) await previous;
        release();
        if (this.#appendTurns.get(key) === turn) this.#appendTurns.set(key, undefined);
      }
      return this.#appended(entry, p, r);
    } catch (e) {
      return appendFailure(entry, p, e);
    }
  }

  #prepareOptions(p: Partition, opts: AppendRecordsOptions): PrepareOptions {
    return {
      config: p.config,
      now: this.#clock.now(),
      ...(opts.produceVersion !== undefined ? { produceVersion: opts.produceVersion } : {}),
      internal: opts.origin === 'coordinator',
      ...(this.#maxUncompressedBytes !== undefined ? { maxUncompressedBytes: this.#maxUncompressedBytes } : {}),
    };
  }

  /** The answer for records appended to `p`; consumers waiting on it are woken. */
  #appended(entry: ProduceEntry, p: Partition, r: AppendResult): PartitionAppendResult {
    if (!r.duplicate) this.fetchPurgatory.checkAndComplete(p.key);
    return {
      topic: entry.topic,
      partition: entry.partition,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      baseOffset: r.firstOffset,
      lastOffset: r.lastOffset,
      logAppendTime: r.duplicate ? NO_TIMESTAMP : r.logAppendTime,
      logStartOffset: r.logStartOffset,
      recordErrors: [],
      leaderId: -1,
      leaderEpoch: -1,
    };
  }

  // ------------------------------------------------------------------------------------------------
  // Fetch

  /**
   * Reads every requested partition. Answers at once when `maxWaitMs` ≤ 0, when min.bytes are already
   * there or when a partition failed; otherwise waits in the fetch purgatory until appends bring
   * min.bytes, something changes that the client must hear about, or maxWaitMs passes — then reads again.
   */
  async fetchMessages(params: FetchParams, infos: readonly FetchPartitionRequest[]): Promise<FetchPartitionResult[]> {
    const first = await this.#readFromLog(params, infos);
    const bytes = first.reduce((n, r) => n + (r.records?.length ?? 0), 0);
    const failed = first.some((r) => r.errorCode !== ErrorCode.NONE);
    if (this.#shutdown || params.maxWaitMs <= 0 || infos.length === 0 || bytes >= params.minBytes || failed) return first;
    const isolation = fetchIsolation(params);
    const hosted = infos.map((info) => this.getPartition(info.topic, info.partition));
    // A partition that went away during the read: answer what was read; the next fetch sees the change.
    if (hosted.some((p) => p === undefined)) return first;
    const statuses: FetchWaitStatus[] = infos.map((info, i) => {
      const p = hosted[i]!;
      return {
        topic: info.topic,
        partition: info.partition,
        fetchOffset: info.fetchOffset,
        partitionMaxBytes: info.partitionMaxBytes,
        currentLeaderEpoch: info.currentLeaderEpoch,
        leaderEpochAtRead: p.leaderEpoch,
      };
    });
    return new Promise<FetchPartitionResult[]>((resolve) => {
      const op = new DelayedFetch({
        maxWaitMs: params.maxWaitMs,
        minBytes: params.minBytes,
        isolation,
        statuses,
        lookup: (t, i) => this.getPartition(t, i),
        complete: () => {
          let again: FetchPartitionResult[] | Promise<FetchPartitionResult[]>;
          try {
            again = this.#readFromLog(params, infos);
          } catch {
            again = first;
          }
          if (again instanceof Promise) again.then(resolve, () => resolve(first));
          else resolve(again);
        },
      });
      this.fetchPurgatory.tryCompleteElseWatch(op, infos.map((i) => partitionKey(i.topic, i.partition)));
    });
  }

  /**
   * Kafka's readFromLog: partitions in order, sharing maxBytes; the first batch found may exceed it. A
   * consumer's read of a partition is made within this call when the log can answer from memory (nothing
   * new, or new bytes still in the tail cache), so a fetch of many idle partitions costs no promise each;
   * from the first partition that needs the file on, the rest are read asynchronously.
   */
  #readFromLog(params: FetchParams, infos: readonly FetchPartitionRequest[]): FetchPartitionResult[] | Promise<FetchPartitionResult[]> {
    const state: ReadState = {
      isolation: fetchIsolation(params),
      limit: Math.max(0, Math.min(params.maxBytes, this.#fetchMaxBytes)),
      minOneMessage: !(params.hardMaxBytesLimit ?? false),
    };
    const out: FetchPartitionResult[] = [];
    // A follower's read updates its fetch state first, which must happen once: followers read asynchronously.
    if (params.replicaId < 0) {
      for (const info of infos) {
        const r = this.#readPartitionNow(info, state);
        if (r === undefined) break;
        out.push(countRead(state, r));
      }
      if (out.length === infos.length) return out;
    }
    return this.#readRestFromLog(params, infos, state, out);
  }

  async #readRestFromLog(params: FetchParams, infos: readonly FetchPartitionRequest[], state: ReadState,
    out: FetchPartitionResult[]): Promise<FetchPartitionResult[]> {
    for (let i = out.length; i < infos.length; i++) {
      const info = infos[i]!;
      out.push(countRead(state, await this.#readPartition(params, info, state)));
    }
    return out;
  }

  /** A consumer's #readPartition within this call, or undefined (nothing done) when it would have to wait. */
  #readPartitionNow(info: FetchPartitionRequest, state: ReadState): FetchPartitionResult | undefined {
    // A fetcher that names its last epoch gets the divergence check: that is #readPartition's.
    if ((info.lastFetchedEpoch ?? -1) >= 0) return undefined;
    let p: Partition | undefined;
    try {
      p = this.#partitionOrThrow(info.topic, info.partition);
      p.checkLeader(info.currentLeaderEpoch);
      const read = p.log.readNow(info.fetchOffset, Math.min(info.partitionMaxBytes, state.limit), logReadOptions(p, state));
      return read === undefined ? undefined : partitionReadResult(info, read, state);
    } catch (e) {
      return readError(info, p, e);
    }
  }

  async #readPartition(params: FetchParams, info: FetchPartitionRequest, state: ReadState): Promise<FetchPartitionResult> {
    let p: Partition | undefined;
    try {
      p = this.#partitionOrThrow(info.topic, info.partition);
      p.checkLeader(info.currentLeaderEpoch);
      const log = p.log;
      if (params.replicaId >= 0 && !p.isReplica(params.replicaId)) {
        throw new ReplicaError(ErrorCode.NOT_LEADER_OR_FOLLOWER, `replica ${params.replicaId} is not a follower of ${p.key}`);
      }
      const lastFetchedEpoch = info.lastFetchedEpoch ?? -1;
      if (lastFetchedEpoch >= 0) {
        // The fetcher's last epoch ends earlier here, or is unknown: it must truncate before reading on.
        const end = log.leaderEpochCache.endOffsetFor(lastFetchedEpoch, log.logEndOffset);
        if (end.epoch < lastFetchedEpoch || end.endOffset < info.fetchOffset) {
          return {
            topic: info.topic, partition: info.partition, errorCode: ErrorCode.NONE, highWatermark: log.highWatermark,
            lastStableOffset: log.lastStableOffset, logStartOffset: log.logStartOffset, records: null, abortedTransactions: null,
            leaderId: -1, leaderEpoch: -1, divergingEpoch: { epoch: end.epoch, endOffset: end.endOffset },
          };
        }
      }
      if (params.replicaId >= 0) {
        // A follower's fetch offset is its log end offset: it has everything below.
        const lowBefore = this.deleteRecordsPurgatory.delayed > 0 ? p.lowWatermark() : 0;
        const hwMoved = p.updateFollowerFetchState(params.replicaId, info.fetchOffset, info.logStartOffset ?? -1);
        if (hwMoved) this.#wake(p.key);
        else if (this.deleteRecordsPurgatory.delayed > 0 && p.lowWatermark() > lowBefore) this.deleteRecordsPurgatory.checkAndComplete(p.key);
      }
      const read = await log.read(info.fetchOffset, Math.min(info.partitionMaxBytes, state.limit), logReadOptions(p, state));
      return partitionReadResult(info, read, state);
    } catch (e) {
      return readError(info, p, e);
    }
  }

  // ------------------------------------------------------------------------------------------------
  // ListOffsets

  /**
   * The offset for a ListOffsets timestamp (-1 latest, -2 earliest, -3 max timestamp, -4 earliest local,
   * -5 latest tiered, else the first offset with a timestamp ≥ it). `isolationLevel` undefined means a
   * replica asking (no bound). Undefined when no such offset exists. Throws ReplicaError.
   */
  async fetchOffsetForTimestamp(tp: TopicPartition, timestamp: number, isolationLevel: number | undefined,
    currentLeaderEpoch: number, fetchOnlyFromLeader = true): Promise<OffsetForTimestampResult | undefined> {
    const p = this.#partitionOrThrow(tp.topic, tp.partition);
    if (fetchOnlyFromLeader) p.checkLeader(currentLeaderEpoch);
    else p.checkLeaderEpoch(currentLeaderEpoch);
    const log = p.log;
    const lastFetchable = isolationLevel === IsolationLevel.READ_COMMITTED
      ? log.lastStableOffset
      : isolationLevel === IsolationLevel.READ_UNCOMMITTED ? log.highWatermark : log.logEndOffset;
    const withEpoch = (t: { timestamp: number; offset: number; leaderEpoch?: number }): OffsetForTimestampResult =>
      ({ timestamp: t.timestamp, offset: t.offset, leaderEpoch: t.leaderEpoch ?? UNDEFINED_EPOCH });
    // Only clients hear it: a new leader whose HW has not reached its epoch's start might answer offsets
    // older than what consumers already saw.
    const notAvailable = (): ReplicaError | undefined => isolationLevel !== undefined && p.highWatermarkBehindEpochStart
      ? new ReplicaError(ErrorCode.OFFSET_NOT_AVAILABLE, `the high watermark of ${p.key} is behind the start of leader epoch ${p.leaderEpoch}`)
      : undefined;
    let result: OffsetForTimestampResult | undefined;
    try {
      switch (timestamp) {
        case ListOffsetsTimestamp.LATEST: {
          const e = notAvailable();
          if (e) throw e;
          return { timestamp: NO_TIMESTAMP, offset: lastFetchable, leaderEpoch: p.leaderEpoch };
        }
        case ListOffsetsTimestamp.LATEST_TIERED:
          // No tiered storage yet: nothing is tiered.
          return { timestamp: NO_TIMESTAMP, offset: UNKNOWN_OFFSET, leaderEpoch: UNDEFINED_EPOCH };
        case ListOffsetsTimestamp.EARLIEST:
        case ListOffsetsTimestamp.EARLIEST_LOCAL: {
          const found = await log.fetchOffsetByTimestamp(timestamp);
          return found === undefined ? undefined : withEpoch(found);
        }
        default: {
          const found = await log.fetchOffsetByTimestamp(timestamp);
          result = found !== undefined && found.offset < lastFetchable ? withEpoch(found) : undefined;
        }
      }
    } catch (e) {
      throw e instanceof ReplicaError ? e : new ReplicaError(errorCodeOf(e), errorMessageOf(e), { cause: e });
    }
    const e = result === undefined ? notAvailable() : undefined;
    if (e) throw e;
    return result;
  }

  /** ListOffsets v0: up to `maxNumOffsets` offsets, newest first (the latest answer is the high watermark). */
  async legacyOffsets(tp: TopicPartition, timestamp: number, maxNumOffsets: number): Promise<number[]> {
    const p = this.#partitionOrThrow(tp.topic, tp.partition);
    p.checkLeader();
    const log = p.log;
    const hw = log.highWatermark;
    let offsets: number[];
    if (timestamp === ListOffsetsTimestamp.LATEST) {
      offsets = [hw, ...log.segments.map((s) => s.baseOffset).filter((o) => o < hw).reverse()];
    } else if (timestamp === ListOffsetsTimestamp.EARLIEST) {
      offsets = [log.logStartOffset];
    } else {
      const found = await log.fetchOffsetByTimestamp(timestamp);
      offsets = found === undefined ? [] : [Math.min(found.offset, hw)];
    }
    return [...new Set(offsets)].slice(0, Math.max(0, maxNumOffsets));
  }

  // ------------------------------------------------------------------------------------------------
  // OffsetForLeaderEpoch

  lastOffsetForLeaderEpoch(tp: TopicPartition, currentLeaderEpoch: number, leaderEpoch: number,
    fetchOnlyFromLeader: boolean): EpochEndOffsetResult {
    try {
      const p = this.#partitionOrThrow(tp.topic, tp.partition);
      if (fetchOnlyFromLeader) p.checkLeader(currentLeaderEpoch);
      else p.checkLeaderEpoch(currentLeaderEpoch);
      const r = p.log.leaderEpochCache.endOffsetFor(leaderEpoch, p.log.logEndOffset);
      return { errorCode: ErrorCode.NONE, leaderEpoch: r.epoch, endOffset: r.endOffset };
    } catch (e) {
      return { errorCode: errorCodeOf(e), leaderEpoch: UNDEFINED_EPOCH, endOffset: UNKNOWN_OFFSET };
    }
  }

  // ------------------------------------------------------------------------------------------------
  // DeleteRecords

  /**
   * Moves the log start offset to `offset` (-1: the high watermark) and removes segments below it, then
   * waits up to `timeoutMs` until every replica's log start offset got there (at once on a single node).
   * Returns the low watermark: the smallest log start offset among the replicas.
   */
  async deleteRecords(tp: TopicPartition, offset: number, timeoutMs = 30_000): Promise<{ errorCode: number; lowWatermark: number }> {
    try {
      const p = this.#partitionOrThrow(tp.topic, tp.partition);
      p.checkLeader();
      if (!hasDeletePolicy(p.config.log)) {
        throw new ReplicaError(ErrorCode.POLICY_VIOLATION, `records of ${p.key} cannot be deleted: its cleanup.policy is ${p.config.log.cleanupPolicy}`);
      }
      const target = offset === DELETE_TO_HIGH_WATERMARK ? p.log.highWatermark : offset;
      if (target < 0 || target > p.log.highWatermark) {
        throw new ReplicaError(ErrorCode.OFFSET_OUT_OF_RANGE,
          `cannot delete records of ${p.key} before ${offset}: the high watermark is ${p.log.highWatermark}`);
      }
      await p.log.deleteRecordsBefore(target);
      this.#wake(p.key);
      const wanted = p.log.logStartOffset;
      if (p.lowWatermark() >= wanted) return { errorCode: ErrorCode.NONE, lowWatermark: p.lowWatermark() };
      const timedOut = await new Promise<boolean>((resolve) => {
        const op = new DelayedCondition(timeoutMs, () => !p.isLeader || p.lowWatermark() >= wanted, resolve);
        this.deleteRecordsPurgatory.tryCompleteElseWatch(op, [p.key]);
      });
      if (timedOut) return { errorCode: ErrorCode.REQUEST_TIMED_OUT, lowWatermark: -1 };
      if (!p.isLeader) return { errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER, lowWatermark: -1 };
      return { errorCode: ErrorCode.NONE, lowWatermark: p.lowWatermark() };
    } catch (e) {
      return { errorCode: errorCodeOf(e), lowWatermark: -1 };
    }
  }

  // ------------------------------------------------------------------------------------------------
  // DescribeLogDirs / DescribeProducers

  /** Every log dir with its partitions (all, or those `wanted` accepts), sizes and disk space. */
  async describeLogDirs(wanted?: (topic: string, partition: number) => boolean): Promise<LogDirDescription[]> {
    const logsByDir = new Map<string, { topic: string; partition: number; log: Log }[]>();
    for (const [key, log] of this.#logManager.allLogs()) {
      const tp = parseTopicPartitionKey(key);
      if (tp === undefined || (wanted !== undefined && !wanted(tp.topic, tp.partition))) continue;
      const dir = path.dirname(log.dir);
      let list = logsByDir.get(dir);
      if (list === undefined) logsByDir.set(dir, (list = []));
      list.push({ ...tp, log });
    }
    const out: LogDirDescription[] = [];
    for (const d of this.#logManager.logDirs()) {
      if (!d.online) {
        out.push({ logDir: d.dir, errorCode: ErrorCode.KAFKA_STORAGE_ERROR, totalBytes: -1, usableBytes: -1, partitions: [] });
        continue;
      }
      let totalBytes = -1;
      let usableBytes = -1;
      try {
        const st = await fs.statfs(d.dir);
        totalBytes = st.blocks * st.bsize;
        usableBytes = st.bavail * st.bsize;
      } catch {
        // Space unknown: Kafka reports -1 too.
      }
      const partitions = (logsByDir.get(d.dir) ?? []).map(({ topic, partition, log }) => ({
        topic,
        partition,
        size: log.size,
        // Lag of the current (not future) replica: how far its end is behind the high watermark.
        offsetLag: Math.max(0, log.highWatermark - log.logEndOffset),
      }));
      out.push({ logDir: d.dir, errorCode: ErrorCode.NONE, totalBytes, usableBytes, partitions });
    }
    return out;
  }

  /** The producers with state on the partition's leader. Throws ReplicaError. */
  describeProducers(tp: TopicPartition): ProducerDescription[] {
    const p = this.#partitionOrThrow(tp.topic, tp.partition);
    p.checkLeader();
    return [...p.log.activeProducers().values()].map((e) => ({
      producerId: e.producerId,
      producerEpoch: e.producerEpoch,
      lastSequence: e.lastSeq,
      lastTimestamp: e.lastTimestamp,
      coordinatorEpoch: e.coordinatorEpoch,
      currentTxnStartOffset: e.currentTxnFirstOffset ?? -1,
    }));
  }

  // ------------------------------------------------------------------------------------------------

  /** Answers every waiting request now (the node is stopping). Logs stay with the LogManager. */
  shutdown(): void {
    this.#shutdown = true;
    this.producePurgatory.completeAll();
    this.fetchPurgatory.completeAll();
    this.deleteRecordsPurgatory.completeAll();
  }
}

/**
 * Kafka's partition.metadata: the topic id a log belongs to. A log left by an older topic of the same name
 * must not be served as the new one (INCONSISTENT_TOPIC_ID).
 */
async function checkOrSetTopicId(log: Log, topicId: string): Promise<void> {
  if (!isCanonicalUuid(topicId) || topicId === ZERO_UUID) return;
  const file = new PartitionMetadataFile(log.dir);
  const recorded = await file.read();
  if (recorded === undefined) {
    await file.write(topicId);
  } else if (recorded.topicId !== topicId) {
    throw new ReplicaError(ErrorCode.INCONSISTENT_TOPIC_ID,
      `the log in ${log.dir} belongs to topic id ${recorded.topicId}, not ${topicId}`);
  }
}

function appendError(tp: TopicPartition, errorCode: number, message: string | null): PartitionAppendResult {
  return {
    topic: tp.topic,
    partition: tp.partition,
    errorCode,
    errorMessage: message,
    baseOffset: -1,
    lastOffset: -1,
    logAppendTime: -1,
    logStartOffset: -1,
    recordErrors: [],
    leaderId: -1,
    leaderEpoch: -1,
  };
}

/** Kafka's FetchIsolation.of: followers read to the log end, consumers to the HW or (read_committed) LSO. */
export function fetchIsolation(params: Pick<FetchParams, 'replicaId' | 'isolationLevel'>): FetchIsolation {
  if (params.replicaId >= 0) return FetchIsolation.LOG_END;
  return params.isolationLevel === IsolationLevel.READ_COMMITTED ? FetchIsolation.TXN_COMMITTED : FetchIsolation.HIGH_WATERMARK;
}

/** What the partitions of one fetch share as they are read in order. */
interface ReadState {
  readonly isolation: FetchIsolation;
  /** Bytes the response may still take. */
  limit: number;
  /** Whether the next partition with data returns its first batch even past the limit. */
  minOneMessage: boolean;
}

/** Charges a partition's answer to the fetch's byte limit. */
function countRead(state: ReadState, r: FetchPartitionResult): FetchPartitionResult {
  const size = r.records?.length ?? 0;
  if (size > 0) state.minOneMessage = false;
  state.limit = Math.max(0, state.limit - size);
  return r;
}

/** What the log is asked for a partition of the fetch: up to what the isolation may see, aborted transactions for read_committed. */
function logReadOptions(p: Partition, state: ReadState): ReadOptions {
  return {
    upperBound: p.lastFetchableOffset(state.isolation),
    minOneMessage: state.minOneMessage,
    includeAbortedTransactions: state.isolation === FetchIsolation.TXN_COMMITTED,
  };
}

function partitionReadResult(info: FetchPartitionRequest, read: LogReadResult, state: ReadState): FetchPartitionResult {
  const readCommitted = state.isolation === FetchIsolation.TXN_COMMITTED;
  const records = read.records.length === 0 ? null : read.records.length === 1 ? read.records[0]! : Buffer.concat(read.records);
  return {
    topic: info.topic,
    partition: info.partition,
    errorCode: ErrorCode.NONE,
    highWatermark: read.highWatermark,
    lastStableOffset: read.lastStableOffset,
    logStartOffset: read.logStartOffset,
    records,
    abortedTransactions: readCommitted
      ? (read.abortedTransactions ?? []).map((t) => ({ producerId: t.producerId, firstOffset: t.firstOffset }))
      : null,
    leaderId: -1,
    leaderEpoch: -1,
  };
}

function readError(info: FetchPartitionRequest, p: Partition | undefined, e: unknown): FetchPartitionResult {
  const code = errorCodeOf(e);
  const leaderKnown = p !== undefined && (code === ErrorCode.NOT_LEADER_OR_FOLLOWER || code === ErrorCode.FENCED_LEADER_EPOCH);
  return {
    topic: info.topic,
    partition: info.partition,
    errorCode: code,
    highWatermark: -1,
    lastStableOffset: -1,
    logStartOffset: -1,
    records: null,
    abortedTransactions: null,
    leaderId: leaderKnown ? p!.leaderId : -1,
    leaderEpoch: leaderKnown ? p!.leaderEpoch : -1,
  };
}

function appendFailure(entry: ProduceEntry, p: Partition | undefined, e: unknown): PartitionAppendResult {
  const code = errorCodeOf(e);
  const leader = code === ErrorCode.NOT_LEADER_OR_FOLLOWER && p !== undefined ? { leaderId: p.leaderId, leaderEpoch: p.leaderEpoch } : {};
  return { ...appendError(entry, code, errorMessageOf(e)), ...leader };
}
