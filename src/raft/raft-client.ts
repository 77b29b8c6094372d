// The consensus seam between the metadata log and its users (the controller, the metadata loader).
// Shaped after Kafka's RaftClient (KIP-595): records are appended by the leader and become visible to
// listeners only once committed, in log order. The single-voter client implements it today; a
// multi-voter client (Vote, BeginQuorumEpoch, Fetch...) can replace it behind the same interface.

export interface LeaderAndEpoch {
  /** -1 while no leader is known. */
  readonly leaderId: number;
  readonly epoch: number;
}

export interface CommittedBatch<T> {
  readonly baseOffset: number;
  readonly lastOffset: number;
  /** The leader epoch the batch was written in. */
  readonly epoch: number;
  readonly appendTimestamp: number;
  readonly sizeInBytes: number;
  readonly records: readonly T[];
}

/** A snapshot's identity: the state of the log below `endOffset`, whose last record has `epoch`. */
export interface SnapshotId {
  readonly endOffset: number;
  readonly epoch: number;
}

export interface LoadedSnapshot<T> {
  readonly id: SnapshotId;
  /** Records that rebuild the state from nothing. */
  readonly records: readonly T[];
}

export interface RaftListener<T> {
  /**
   * The state as of a snapshot: the listener replaces its state with it. Delivered before the batches
   * that follow the snapshot; a listener without this method cannot follow a log that has snapshots.
   */
  handleLoadSnapshot?(snapshot: LoadedSnapshot<T>): void | Promise<void>;
  /** A committed batch, delivered in offset order; the client waits for a returned promise. */
  handleCommit(batch: CommittedBatch<T>): void | Promise<void>;
  /** Every batch committed before the client started has been delivered (start-up replay is over). */
  handleCatchUpComplete?(): void | Promise<void>;
  handleLeaderChange?(leader: LeaderAndEpoch): void;
}

export interface RaftClient<T> {
  /** Listeners registered before start() see the whole log replayed; later ones see it from the start too. */
  register(listener: RaftListener<T>): Promise<void>;
  readonly leaderAndEpoch: LeaderAndEpoch;
  /** The first offset not yet committed. */
  readonly highWatermark: number;
  /** The offset the first record of the next append will get (meaningful on the leader only). */
  readonly nextOffset: number;
  /** Whether this node is the leader and appends are accepted. */
  readonly isLeader: boolean;
  /**
   * Appends `records` atomically as one batch in the current epoch. Resolves with the last offset once
   * the batch is committed and every listener has handled it; rejects if the batch cannot be written.
   */
  append(records: readonly T[]): Promise<number>;
  /**
   * Stores `records` as the snapshot `id` (committed state up to, excluding, id.endOffset, which must not
   * exceed the high watermark); the log before it may then be removed. Resolves once durable.
   */
  createSnapshot(id: SnapshotId, records: readonly T[]): Promise<void>;
  /** The newest snapshot taken or loaded, if any. */
  readonly latestSnapshot: SnapshotId | undefined;
  start(): Promise<void>;
  close(): Promise<void>;
}

/** How records become record values in the log and back. */
export interface RecordSerde<T> {
  write(record: T): Buffer;
  read(value: Buffer): T;
}
