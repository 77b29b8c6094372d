// One partition hosted by this node, as Kafka's cluster.Partition: leadership (epoch, ISR, replicas), the
// high watermark computed from the ISR's log end offsets, the min.insync.replicas rule for acks=all, and
// leader-side appends and reads over the partition's Log. On a single node the ISR is this node alone, so
// the high watermark follows the log end offset after each append; followers plug into
// updateFollowerFetchState() later without changing the rule.
import { ErrorCode } from '../protocol/errors.js';
import type { AppendOptions, AppendOrigin, AppendResult, Log } from '../storage/log.js';
import type { VerificationGuard } from '../storage/producer-state.js';
import { AppendHistory } from './append-history.js';
import { ReplicaError } from './errors.js';
import type { PartitionConfig } from './partition-config.js';

/** How far a reader may read: Kafka's FetchIsolation. */
export const FetchIsolation = {
  /** Followers read up to the log end offset. */
  LOG_END: 'log-end',
  /** read_uncommitted consumers read up to the high watermark. */
  HIGH_WATERMARK: 'high-watermark',
  /** read_committed consumers read up to the last stable offset. */
  TXN_COMMITTED: 'txn-committed',
} as const;
export type FetchIsolation = (typeof FetchIsolation)[keyof typeof FetchIsolation];

/** Appends remembered for estimating how many bytes lie between two offsets (delayed fetch min.bytes). */
const APPEND_HISTORY = 4096;

export interface PartitionOptions {
  readonly topic: string;
  readonly partition: number;
  readonly topicId: string;
  readonly localBrokerId: number;
  readonly log: Log;
  readonly config: PartitionConfig;
}

export interface LeaderState {
  readonly leaderEpoch: number;
  /** Every assigned replica (default: this node). */
  readonly replicas?: readonly number[];
  /** The in-sync replicas (default: this node). */
  readonly isr?: readonly number[];
}

export class Partition {
  readonly topic: string;
  readonly partition: number;
  readonly key: string;
  readonly localBrokerId: number;
  #topicId: string;
  readonly #log: Log;
  #config: PartitionConfig;
  #leaderId = -1;
  #leaderEpoch = -1;
  /** The log end offset when this node became leader in its epoch (Kafka's leaderEpochStartOffsetOpt). */
  #leaderEpochStartOffset = -1;
  #replicas: number[];
  #isr: Set<number>;
  /** Followers' log end offsets, as their fetches report them. */
  readonly #followerLeo = new Map<number, number>();
  /** Followers' log start offsets, as their fetches report them (DeleteRecords waits for these). */
  readonly #followerLogStart = new Map<number, number>();
  readonly #history: AppendHistory;
  #appendedBytes = 0;

  constructor(opts: PartitionOptions) {
    this.topic = opts.topic;
    this.partition = opts.partition;
    this.key = partitionKey(opts.topic, opts.partition);
    this.localBrokerId = opts.localBrokerId;
    this.#topicId = opts.topicId;
    this.#log = opts.log;
    this.#config = opts.config;
    this.#replicas = [opts.localBrokerId];
    this.#isr = new Set([opts.localBrokerId]);
    this.#history = new AppendHistory(APPEND_HISTORY, opts.log.logEndOffset, 0);
  }

  get log(): Log {
    return this.#log;
  }

  get topicId(): string {
    return this.#topicId;
  }

  get config(): PartitionConfig {
    return this.#config;
  }

  updateConfig(config: PartitionConfig): void {
    this.#config = config;
    this.#log.updateConfig(config.log);
  }

  get leaderEpoch(): number {
    return this.#leaderEpoch;
  }

  get leaderId(): number {
    return this.#leaderId;
  }

  /**
   * Whether a new leader's high watermark still lags the start of its epoch: until the ISR catches up,
   * offsets it answers could be behind what the previous leader already exposed (OFFSET_NOT_AVAILABLE).
   */
  get highWatermarkBehindEpochStart(): boolean {
    return this.#leaderEpochStartOffset > this.#log.highWatermark;
  }

  get isLeader(): boolean {
    return this.#leaderId === this.localBrokerId;
  }

  get isr(): readonly number[] {
    return [...this.#isr];
  }

  get replicas(): readonly number[] {
    return this.#replicas;
  }

  get isOffline(): boolean {
    return this.#log.isOffline || this.#log.isClosed;
  }

  /**
   * Makes this node the leader at `leaderEpoch` (a new epoch, or the same one with a new ISR). Returns
   * whether the high watermark moved, so the caller can wake waiting requests.
   */
  makeLeader(state: LeaderState, topicId?: string): boolean {
    if (topicId !== undefined) this.#topicId = topicId;
    if (!this.isLeader || state.leaderEpoch !== this.#leaderEpoch) this.#leaderEpochStartOffset = this.#log.logEndOffset;
    this.#leaderId = this.localBrokerId;
    this.#leaderEpoch = state.leaderEpoch;
    this.#replicas = [...(state.replicas ?? [this.localBrokerId])];
    this.#isr = new Set(state.isr ?? [this.localBrokerId]);
    this.#isr.add(this.localBrokerId);
    for (const id of [...this.#followerLeo.keys()]) if (!this.#replicas.includes(id)) this.#followerLeo.delete(id);
    for (const id of [...this.#followerLogStart.keys()]) if (!this.#replicas.includes(id)) this.#followerLogStart.delete(id);
    return this.maybeIncrementHighWatermark();
  }

  /** This node stops leading (another leader, or the partition is going away). */
  makeFollower(leaderId: number, leaderEpoch: number): void {
    this.#leaderId = leaderId;
    this.#leaderEpoch = leaderEpoch;
    this.#isr = new Set();
    this.#followerLeo.clear();
    this.#followerLogStart.clear();
  }

  isReplica(brokerId: number): boolean {
    return this.#replicas.includes(brokerId);
  }

  /** Throws unless this node leads the partition (and, when given, at exactly `currentLeaderEpoch`). */
  checkLeader(currentLeaderEpoch = -1): void {
    this.checkLeaderEpoch(currentLeaderEpoch);
    if (!this.isLeader) {
      throw new ReplicaError(ErrorCode.NOT_LEADER_OR_FOLLOWER, `node ${this.localBrokerId} is not the leader of ${this.key}`);
    }
  }

  /** A client's view of the leader epoch: older is fenced, newer is not known here yet; -1 skips the check. */
  checkLeaderEpoch(currentLeaderEpoch: number): void {
    if (currentLeaderEpoch < 0) return;
    if (currentLeaderEpoch < this.#leaderEpoch) {
      throw new ReplicaError(ErrorCode.FENCED_LEADER_EPOCH, `leader epoch ${currentLeaderEpoch} of ${this.key} is older than ${this.#leaderEpoch}`);
    }
    if (currentLeaderEpoch > this.#leaderEpoch) {
      throw new ReplicaError(ErrorCode.UNKNOWN_LEADER_EPOCH, `leader epoch ${currentLeaderEpoch} of ${this.key} is newer than ${this.#leaderEpoch}`);
    }
  }

  /**
   * KIP-890 part 1, before asking the transaction coordinator about a transactional write: the sentinel
   * when the producer's transaction is already open here at `epoch` (nothing to verify), else the guard
   * the append must present. Only the leader verifies.
   */
  maybeStartTransactionVerification(producerId: number, sequence: number, epoch: number): VerificationGuard {
    this.checkLeader();
    return this.#log.producerState.maybeStartTransactionVerification(producerId, sequence, epoch);
  }

  /**
   * Appends as leader. acks=all refuses the write up front when the ISR is smaller than
   * min.insync.replicas (NOT_ENOUGH_REPLICAS), as Kafka does; the caller waits for the ISR afterwards.
   * `verificationGuard`: what `maybeStartTransactionVerification` handed out for this write, if anything.
   */
  async appendRecordsToLeader(records: Buffer, requiredAcks: number, origin: AppendOrigin,
    verificationGuard?: VerificationGuard): Promise<AppendResult> {
    this.#checkAppend(requiredAcks);
    return this.#appendedToLeader(records, await this.#log.append(records, this.#appendOptions(origin, verificationGuard)));
  }

  /** appendRecordsToLeader within this call when the log can take it so; undefined, having done nothing, otherwise. */
  appendRecordsToLeaderNow(records: Buffer, requiredAcks: number, origin: AppendOrigin,
    verificationGuard?: VerificationGuard): AppendResult | undefined {
    this.#checkAppend(requiredAcks);
    const result = this.#log.appendNow(records, this.#appendOptions(origin, verificationGuard));
    return result === undefined ? undefined : this.#appendedToLeader(records, result);
  }

  #checkAppend(requiredAcks: number): void {
    this.checkLeader();
    if (requiredAcks === -1 && this.#isr.size < this.#config.minInsyncReplicas) {
      throw new ReplicaError(
        ErrorCode.NOT_ENOUGH_REPLICAS,
        `the ISR of ${this.key} has ${this.#isr.size} replica(s), below min.insync.replicas ${this.#config.minInsyncReplicas}`,
      );
    }
  }

  #appendOptions(origin: AppendOrigin, verificationGuard: VerificationGuard | undefined): AppendOptions {
    return { origin, leaderEpoch: this.#leaderEpoch, verifyCrc: false, ...(verificationGuard ? { verificationGuard } : {}) };
  }

  #appendedToLeader(records: Buffer, result: AppendResult): AppendResult {
    if (!result.duplicate) this.#recordAppend(this.#log.logEndOffset, records.length);
    this.maybeIncrementHighWatermark();
    return result;
  }

  #recordAppend(endOffset: number, bytes: number): void {
    this.#appendedBytes += bytes;
    this.#history.record(endOffset, this.#appendedBytes);
  }

  /**
   * About how many bytes of batches lie between offsets `from` and `to` (whole appends only). Infinity
   * when `from` is older than what is remembered: the caller should just read.
   */
  bytesBetween(from: number, to: number): number {
    if (to <= from) return 0;
    const a = this.#history.bytesAt(from);
    const b = this.#history.bytesAt(to);
    if (a === undefined || b === undefined) return Number.POSITIVE_INFINITY;
    return b - a;
  }

  /** The high watermark becomes the smallest log end offset among the ISR. Returns whether it moved. */
  maybeIncrementHighWatermark(): boolean {
    if (!this.isLeader) return false;
    let hw = this.#log.logEndOffset;
    for (const id of this.#isr) {
      if (id === this.localBrokerId) continue;
      hw = Math.min(hw, this.#followerLeo.get(id) ?? 0);
    }
    const old = this.#log.highWatermark;
    if (hw <= old) return false;
    this.#log.updateHighWatermark(hw);
    return this.#log.highWatermark > old;
  }

  /**
   * A follower fetched from `logEndOffset` on (it has everything below) and reported its log start
   * offset (-1 when unknown). Returns whether the HW moved.
   */
  updateFollowerFetchState(replicaId: number, logEndOffset: number, logStartOffset = -1): boolean {
    if (!this.isReplica(replicaId) || replicaId === this.localBrokerId) {
      throw new ReplicaError(ErrorCode.NOT_LEADER_OR_FOLLOWER, `replica ${replicaId} is not a follower of ${this.key}`);
    }
    this.#followerLeo.set(replicaId, logEndOffset);
    this.#followerLogStart.set(replicaId, logStartOffset);
    return this.maybeIncrementHighWatermark();
  }

  /**
   * The low watermark: the smallest log start offset among all replicas (a follower not heard from yet
   * counts as -1). DeleteRecords is acknowledged once it reaches the requested offset.
   */
  lowWatermark(): number {
    let low = this.#log.logStartOffset;
    for (const id of this.#replicas) {
      if (id === this.localBrokerId) continue;
      low = Math.min(low, this.#followerLogStart.get(id) ?? -1);
    }
    return low;
  }

  /** For acks=all: whether the ISR has everything below `requiredOffset`, and the error if the ISR shrank. */
  checkEnoughReplicasReachOffset(requiredOffset: number): { done: boolean; errorCode: number } {
    if (!this.isLeader) return { done: true, errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER };
    if (this.#log.highWatermark < requiredOffset) return { done: false, errorCode: ErrorCode.NONE };
    const errorCode = this.#isr.size >= this.#config.minInsyncReplicas ? ErrorCode.NONE : ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND;
    return { done: true, errorCode };
  }

  /** The exclusive offset a reader with `isolation` may read up to. */
  lastFetchableOffset(isolation: FetchIsolation): number {
    switch (isolation) {
      case FetchIsolation.LOG_END:
        return this.#log.logEndOffset;
      case FetchIsolation.TXN_COMMITTED:
        return this.#log.lastStableOffset;
      default:
        return this.#log.highWatermark;
    }
  }

  /** Forget the append history (the log was truncated or replaced). */
  resetAppendHistory(): void {
    this.#history.reset(this.#log.logEndOffset, this.#appendedBytes);
  }
}

export const partitionKey = (topic: string, partition: number): string => `${topic}-${partition}`;
