// Producer state of one partition (Kafka's ProducerStateManager, ProducerStateEntry, ProducerAppendInfo):
// for every producer id, its epoch, the metadata of its last five batches (to answer a retried batch
// with its original offsets), the coordinator epoch of its last transaction marker, its last
// timestamp and the first offset of its ongoing transaction. Ongoing transactions give the first
// unstable offset, from which the Log computes the last stable offset (LSO).
//
// How the Log uses it:
// - open: `ProducerStateManager.open(dir, options)` lists the `<offset>.snapshot` files; then
//   `truncateAndReload(logStartOffset, recoveryPointOrLogEndOffset)` loads the latest usable snapshot
//   (corrupt ones are deleted and the next older one tried) and the Log replays every batch from
//   `mapEndOffset` up to the log end offset through `updateFromBatch` (recovery also writes the
//   returned aborted transactions to the segment's txn index).
// - leader/follower append, after offsets are assigned and before the bytes are written:
//   `analyze(batches, origin)` validates sequences and epochs (throws `ProducerStateError` carrying
//   the Kafka error name) and finds duplicates (`duplicate` set → do not append; answer with the
//   duplicate's offsets). After the bytes are written: `applyAppend(analysis, lastOffset + 1)`; it
//   returns the completed transactions with their LSO; append the aborted ones to the active
//   segment's txn index (`abortedTxnOf`).
// - `firstUnstableOffset()` / `onHighWatermarkUpdated(hw)` for the LSO; `takeSnapshot()` at segment
//   roll and clean shutdown; `deleteSnapshotsBefore` / `removeAndMarkSnapshotForDeletion` as segments
//   go; `onLogStartOffsetIncremented`; `truncateAndReload` on truncation; `truncateFullyAndStartAt`;
//   `removeExpiredProducers(now)` on the producer-expiration timer.
// - transaction verification (KIP-890 part 1, `transaction.partition.verification.enable`): before a
//   transactional produce that may start a transaction, the broker calls
//   `maybeStartTransactionVerification` and asks the transaction coordinator whether the partition is
//   in the producer's transaction; the append then passes the guard it got (`analyze(..., { verificationGuard })`)
//   and is refused with INVALID_TXN_STATE unless the guard is still the current one. Any transactional
//   batch or marker of the producer clears the guard, so a stale verification cannot start a transaction.
//
// Snapshot file, byte for byte as Kafka 3.9 writes it:
//   version int16 (1) | crc uint32 (CRC32C of everything after this field) | count int32 |
//   count × { producerId int64 | epoch int16 | lastSequence int32 | lastOffset int64 |
//             offsetDelta int32 | timestamp int64 | coordinatorEpoch int32 | currentTxnFirstOffset int64 (-1: none) }
// Only the last batch of each producer is kept in a snapshot, as in Kafka.
import { readdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import {
  RECORD_BATCH_OVERHEAD,
  batchSizeAt,
  compressionOf,
  isControl,
  isLogAppendTime,
  isTransactional,
  readBatchHeader,
  readInt64,
  writeInt64,
  type BatchHeader,
} from '../protocol/records/batch-header.js';
import { iterateBatches } from '../protocol/records/batches.js';
import { crc32c } from '../protocol/records/crc32c.js';
import {
  ControlRecordType,
  decodeControlRecordKey,
  decodeEndTxnMarker,
  decodeRecords,
} from '../protocol/records/record.js';
import type { ErrorCodeName } from '../protocol/errors.js';
import { StrataError } from '../protocol/strata-error.js';
import { deleteIfExists, isNotFound, readFileIfExists, writeFileAtomic } from './atomic-file.js';
import { CorruptFileError } from './checkpoint-file.js';
import type { AbortedTxn } from './txn-index.js';

export const NUM_BATCHES_TO_RETAIN = 5;
export const PRODUCER_SNAPSHOT_VERSION = 1;
export const SNAPSHOT_FILE_SUFFIX = '.snapshot';
export const DELETED_FILE_SUFFIX = '.deleted';
/** Kafka's default `producer.id.expiration.ms`. */
export const DEFAULT_PRODUCER_ID_EXPIRATION_MS = 86_400_000;
/** Kafka's default `transaction.max.timeout.ms`. */
export const DEFAULT_MAX_TRANSACTION_TIMEOUT_MS = 900_000;
/** Slack before an open transaction counts as hanging (Kafka's LATE_TRANSACTION_BUFFER_MS). */
export const LATE_TRANSACTION_BUFFER_MS = 5 * 60 * 1000;

const NO_PRODUCER_ID = -1;
const NO_PRODUCER_EPOCH = -1;
const NO_SEQUENCE = -1;
const NO_TIMESTAMP = -1;
const INT32_MAX = 0x7fff_ffff;

const SNAPSHOT_CRC_OFFSET = 2;
const SNAPSHOT_ENTRIES_OFFSET = 6;
const SNAPSHOT_ENTRY_SIZE = 46;

/** Who is appending; it decides how much is validated. */
export const AppendOrigin = {
  /** A produce request: epochs and sequences are checked, duplicates detected. */
  client: 'client',
  /** Our own coordinators and transaction markers: epochs checked, sequences not. */
  coordinator: 'coordinator',
  /** Follower fetches and log recovery: nothing refused, state just follows the log. */
  replication: 'replication',
} as const;
export type AppendOrigin = (typeof AppendOrigin)[keyof typeof AppendOrigin];

/** The Kafka errors producer-state validation can raise; the broker turns them into error codes. */
export type ProducerStateKafkaError = Extract<
  ErrorCodeName,
  'OUT_OF_ORDER_SEQUENCE_NUMBER' | 'INVALID_PRODUCER_EPOCH' | 'INVALID_TXN_STATE' | 'TRANSACTION_COORDINATOR_FENCED'
>;

export class ProducerStateError extends StrataError {
  readonly kafkaError: ProducerStateKafkaError;
  readonly producerId: number;

  constructor(kafkaError: ProducerStateKafkaError, producerId: number, message: string) {
    super('ERR_STATE', message);
    this.name = 'ProducerStateError';
    this.kafkaError = kafkaError;
    this.producerId = producerId;
  }
}

// ---------------------------------------------------------------------------------------------------
// Transaction verification (KIP-890 part 1)

/** A token for one verification of one producer on one partition; compared by identity. */
export class VerificationGuard {
  static readonly SENTINEL = new VerificationGuard();

  /** Whether `presented` is this guard (the sentinel verifies nothing). */
  verify(presented: VerificationGuard): boolean {
    return presented !== VerificationGuard.SENTINEL && presented === this;
  }
}

/** A verification in progress for a producer: its guard and the lowest sequence it may append. */
export class VerificationStateEntry {
  readonly timestamp: number;
  readonly verificationGuard = new VerificationGuard();
  #lowestSequence: number;
  #epoch: number;

  constructor(timestamp: number, lowestSequence: number, epoch: number) {
    this.timestamp = timestamp;
    this.#lowestSequence = lowestSequence;
    this.#epoch = epoch;
  }

  get lowestSequence(): number {
    return this.#lowestSequence;
  }

  get epoch(): number {
    return this.#epoch;
  }

  /**
   * While verification is pending, later sequences must not slip in first: remember the lowest
   * sequence seen in the current epoch (a new epoch restarts it).
   */
  maybeUpdateLowestSequenceAndEpoch(sequence: number, epoch: number): void {
    if (epoch === this.#epoch && sequence < this.#lowestSequence) this.#lowestSequence = sequence;
    if (epoch > this.#epoch) {
      this.#epoch = epoch;
      this.#lowestSequence = sequence;
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// Sequences

/** `seq + increment` with the producer's wrap from Int32.MAX to 0. */
export function incrementSequence(sequence: number, increment: number): number {
  if (sequence > INT32_MAX - increment) return increment - (INT32_MAX - sequence) - 1;
  return sequence + increment;
}

/** `seq - decrement`, wrapping below 0 to Int32.MAX. */
export function decrementSequence(sequence: number, decrement: number): number {
  if (sequence < decrement) return INT32_MAX - (decrement - sequence) + 1;
  return sequence - decrement;
}

/** Kafka treats every negative producer id as "none". */
export const hasProducerId = (producerId: number): boolean => producerId > NO_PRODUCER_ID;

const inSequence = (lastSeq: number, nextSeq: number): boolean =>
  nextSeq === lastSeq + 1 || (nextSeq === 0 && lastSeq === INT32_MAX);

// ---------------------------------------------------------------------------------------------------
// What producer state needs of a batch

export interface EndTxnMarkerInfo {
  /** `ControlRecordType.ABORT` or `ControlRecordType.COMMIT`. */
  readonly type: number;
  readonly coordinatorEpoch: number;
  /** The marker record's timestamp. */
  readonly timestamp: number;
}

/** The fields of a batch (offsets already assigned) that producer state looks at. */
export interface ProducerBatch {
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly baseSequence: number;
  readonly baseOffset: number;
  readonly lastOffsetDelta: number;
  readonly maxTimestamp: number;
  readonly isTransactional: boolean;
  readonly isControl: boolean;
  /** For a control batch: its transaction marker; undefined when the batch has no records left (compaction). */
  readonly endTxnMarker?: EndTxnMarkerInfo | undefined;
}

export const batchLastOffset = (b: ProducerBatch): number => b.baseOffset + b.lastOffsetDelta;

export const batchLastSequence = (b: ProducerBatch): number =>
  b.baseSequence === NO_SEQUENCE ? NO_SEQUENCE : incrementSequence(b.baseSequence, b.lastOffsetDelta);

/**
 * Reads what producer state needs from the batch at `buf[pos]` (its CRC and sizes already checked).
 * For a control batch with a producer id the first record is decoded: a transaction marker must be
 * an ABORT or COMMIT record (key: version int16, type int16; value: version int16, coordinatorEpoch int32).
 */
export function producerBatchAt(buf: Buffer, pos: number, header: BatchHeader = readBatchHeader(buf, pos)): ProducerBatch {
  const control = isControl(header.attributes);
  let endTxnMarker: EndTxnMarkerInfo | undefined;
  if (control && hasProducerId(header.producerId) && header.recordCount > 0) {
    endTxnMarker = readEndTxnMarker(buf, pos, header);
  }
  return {
    producerId: header.producerId,
    producerEpoch: header.producerEpoch,
    baseSequence: header.baseSequence,
    baseOffset: header.baseOffset,
    lastOffsetDelta: header.lastOffsetDelta,
    maxTimestamp: header.maxTimestamp,
    isTransactional: isTransactional(header.attributes),
    isControl: control,
    endTxnMarker,
  };
}

/** The producer view of every batch in `buf[start, end)`; call after offsets are assigned (headers are read fresh). */
export function* producerBatchesIn(buf: Buffer, start = 0, end = buf.length): Generator<ProducerBatch> {
  for (const b of iterateBatches(buf, start, end)) yield producerBatchAt(buf, b.position, b.header);
}

/** The transaction marker of the control batch at `buf[pos]`; throws `ERR_CORRUPT_RECORD` when it is not one. */
export function readEndTxnMarker(buf: Buffer, pos: number, header: BatchHeader = readBatchHeader(buf, pos)): EndTxnMarkerInfo {
  if (compressionOf(header.attributes) !== 0) {
    // Markers are written uncompressed by every coordinator; a compressed one is not something we accept.
    throw new StrataError('ERR_CORRUPT_RECORD', `control batch at offset ${header.baseOffset} is compressed`);
  }
  const end = pos + batchSizeAt(buf, pos);
  const [record] = decodeRecords(buf, pos + RECORD_BATCH_OVERHEAD, end, header.recordCount, {
    baseOffset: header.baseOffset,
    baseTimestamp: header.baseTimestamp,
    logAppendTime: isLogAppendTime(header.attributes) ? header.maxTimestamp : undefined,
  });
  const key = decodeControlRecordKey(record!.key);
  if (key.type !== ControlRecordType.ABORT && key.type !== ControlRecordType.COMMIT) {
    throw new StrataError('ERR_CORRUPT_RECORD', `control record type ${key.type} is not a transaction marker`);
  }
  const value = decodeEndTxnMarker(record!.value);
  return { type: key.type, coordinatorEpoch: value.coordinatorEpoch, timestamp: record!.timestamp };
}

// ---------------------------------------------------------------------------------------------------
// Per-producer state

export interface BatchMetadata {
  readonly lastSeq: number;
  readonly lastOffset: number;
  readonly offsetDelta: number;
  readonly timestamp: number;
}

export const batchMetadataFirstSeq = (b: BatchMetadata): number => decrementSequence(b.lastSeq, b.offsetDelta);
export const batchMetadataFirstOffset = (b: BatchMetadata): number => b.lastOffset - b.offsetDelta;

export class ProducerStateEntry {
  readonly producerId: number;
  producerEpoch: number;
  coordinatorEpoch: number;
  lastTimestamp: number;
  /** First offset of the producer's ongoing transaction, if one is open. */
  currentTxnFirstOffset: number | undefined;
  /** The last batches, oldest first, at most NUM_BATCHES_TO_RETAIN. */
  readonly batchMetadata: BatchMetadata[] = [];

  constructor(
    producerId: number,
    producerEpoch: number,
    coordinatorEpoch: number,
    lastTimestamp: number,
    currentTxnFirstOffset: number | undefined,
    firstBatch?: BatchMetadata,
  ) {
    this.producerId = producerId;
    this.producerEpoch = producerEpoch;
    this.coordinatorEpoch = coordinatorEpoch;
    this.lastTimestamp = lastTimestamp;
    this.currentTxnFirstOffset = currentTxnFirstOffset;
    if (firstBatch !== undefined) this.batchMetadata.push(firstBatch);
  }

  static empty(producerId: number): ProducerStateEntry {
    return new ProducerStateEntry(producerId, NO_PRODUCER_EPOCH, -1, NO_TIMESTAMP, undefined);
  }

  get isEmpty(): boolean {
    return this.batchMetadata.length === 0;
  }

  get firstSeq(): number {
    return this.isEmpty ? NO_SEQUENCE : batchMetadataFirstSeq(this.batchMetadata[0]!);
  }

  get lastSeq(): number {
    return this.isEmpty ? NO_SEQUENCE : this.batchMetadata[this.batchMetadata.length - 1]!.lastSeq;
  }

  get firstDataOffset(): number {
    return this.isEmpty ? -1 : batchMetadataFirstOffset(this.batchMetadata[0]!);
  }

  get lastDataOffset(): number {
    return this.isEmpty ? -1 : this.batchMetadata[this.batchMetadata.length - 1]!.lastOffset;
  }

  get lastOffsetDelta(): number {
    return this.isEmpty ? 0 : this.batchMetadata[this.batchMetadata.length - 1]!.offsetDelta;
  }

  /** A copy with the same epoch, coordinator epoch, timestamp and transaction but no batches. */
  withoutBatches(): ProducerStateEntry {
    return new ProducerStateEntry(
      this.producerId,
      this.producerEpoch,
      this.coordinatorEpoch,
      this.lastTimestamp,
      this.currentTxnFirstOffset,
    );
  }

  /** A new epoch forgets the previous epoch's batches. */
  maybeUpdateProducerEpoch(producerEpoch: number): boolean {
    if (this.producerEpoch === producerEpoch) return false;
    this.batchMetadata.length = 0;
    this.producerEpoch = producerEpoch;
    return true;
  }

  addBatch(producerEpoch: number, lastSeq: number, lastOffset: number, offsetDelta: number, timestamp: number): void {
    this.maybeUpdateProducerEpoch(producerEpoch);
    this.#addBatchMetadata({ lastSeq, lastOffset, offsetDelta, timestamp });
    this.lastTimestamp = timestamp;
  }

  #addBatchMetadata(batch: BatchMetadata): void {
    if (this.batchMetadata.length === NUM_BATCHES_TO_RETAIN) this.batchMetadata.shift();
    this.batchMetadata.push(batch);
  }

  /** Merges the state an append built (`next`) into this entry. */
  update(next: ProducerStateEntry): void {
    this.maybeUpdateProducerEpoch(next.producerEpoch);
    for (const b of next.batchMetadata) this.#addBatchMetadata(b);
    this.coordinatorEpoch = next.coordinatorEpoch;
    this.currentTxnFirstOffset = next.currentTxnFirstOffset;
    this.lastTimestamp = next.lastTimestamp;
  }

  /** A transaction marker: the transaction is over. */
  updateForMarker(producerEpoch: number, coordinatorEpoch: number, lastTimestamp: number): void {
    this.maybeUpdateProducerEpoch(producerEpoch);
    this.coordinatorEpoch = coordinatorEpoch;
    this.currentTxnFirstOffset = undefined;
    this.lastTimestamp = lastTimestamp;
  }

  /** The retained batch with exactly this epoch and sequence range, if any: a retry of it is a duplicate. */
  findDuplicateBatch(producerEpoch: number, firstSeq: number, lastSeq: number): BatchMetadata | undefined {
    if (producerEpoch !== this.producerEpoch) return undefined;
    return this.batchMetadata.find((b) => batchMetadataFirstSeq(b) === firstSeq && b.lastSeq === lastSeq);
  }
}

// ---------------------------------------------------------------------------------------------------
// Transactions

export interface CompletedTxn {
  readonly producerId: number;
  readonly firstOffset: number;
  /** The marker's offset. */
  readonly lastOffset: number;
  readonly isAborted: boolean;
}

export interface TxnMetadata {
  readonly producerId: number;
  readonly firstOffset: number;
  /** The marker's offset, once the transaction is complete. */
  lastOffset: number | undefined;
}

/** A completed transaction and the LSO right after it, as the Log records it. */
export interface CompletedTxnWithLso {
  readonly txn: CompletedTxn;
  readonly lastStableOffset: number;
}

export const abortedTxnOf = (txn: CompletedTxn, lastStableOffset: number): AbortedTxn => ({
  producerId: txn.producerId,
  firstOffset: txn.firstOffset,
  lastOffset: txn.lastOffset,
  lastStableOffset,
});

/** A list kept sorted by first offset (transactions mostly arrive in offset order: inserts are appends). */
class TxnList {
  readonly items: TxnMetadata[] = [];

  #indexOf(firstOffset: number): number {
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.items[mid]!.firstOffset < firstOffset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  put(txn: TxnMetadata): void {
    const i = this.#indexOf(txn.firstOffset);
    if (this.items[i]?.firstOffset === txn.firstOffset) this.items[i] = txn;
    else this.items.splice(i, 0, txn);
  }

  remove(firstOffset: number): TxnMetadata | undefined {
    const i = this.#indexOf(firstOffset);
    if (this.items[i]?.firstOffset !== firstOffset) return undefined;
    return this.items.splice(i, 1)[0];
  }

  first(): TxnMetadata | undefined {
    return this.items[0];
  }

  clear(): void {
    this.items.length = 0;
  }

  removeWhere(pred: (t: TxnMetadata) => boolean): void {
    let w = 0;
    for (const t of this.items) if (!pred(t)) this.items[w++] = t;
    this.items.length = w;
  }
}

// ---------------------------------------------------------------------------------------------------
// Validation of one producer's batches within an append

/**
 * The state one append builds for one producer: validated batch by batch against the producer's
 * current entry, applied to the manager with `ProducerStateManager.update` once the append is written.
 */
export class ProducerAppendInfo {
  readonly producerId: number;
  readonly origin: AppendOrigin;
  readonly #currentEntry: ProducerStateEntry;
  readonly #updatedEntry: ProducerStateEntry;
  readonly #transactions: TxnMetadata[] = [];
  readonly #label: string;
  readonly #verification: VerificationStateEntry | undefined;

  constructor(
    producerId: number,
    currentEntry: ProducerStateEntry,
    origin: AppendOrigin,
    label = '',
    verification?: VerificationStateEntry,
  ) {
    this.producerId = producerId;
    this.origin = origin;
    this.#currentEntry = currentEntry;
    this.#updatedEntry = currentEntry.withoutBatches();
    this.#label = label;
    this.#verification = verification;
  }

  /** Validates and records one batch; returns the transaction a marker completes, if any. */
  append(batch: ProducerBatch): CompletedTxn | undefined {
    if (batch.isControl) {
      // A control batch emptied by compaction: the whole transaction is gone already.
      if (batch.endTxnMarker === undefined) return undefined;
      return this.appendEndTxnMarker(batch.endTxnMarker, batch.producerEpoch, batch.baseOffset);
    }
    this.appendDataBatch(
      batch.producerEpoch,
      batch.baseSequence,
      batchLastSequence(batch),
      batch.maxTimestamp,
      batch.baseOffset,
      batchLastOffset(batch),
      batch.isTransactional,
    );
    return undefined;
  }

  appendDataBatch(
    epoch: number,
    firstSeq: number,
    lastSeq: number,
    lastTimestamp: number,
    firstOffset: number,
    lastOffset: number,
    isTransactional: boolean,
  ): void {
    this.#checkProducerEpoch(epoch, firstOffset);
    if (this.origin === AppendOrigin.client) this.#checkSequence(epoch, firstSeq, firstOffset);
    this.#updatedEntry.addBatch(epoch, lastSeq, lastOffset, lastOffset - firstOffset, lastTimestamp);
    const txnFirst = this.#updatedEntry.currentTxnFirstOffset;
    if (txnFirst !== undefined && !isTransactional) {
      throw this.#error(
        'INVALID_TXN_STATE',
        `expected a transactional write from producer ${this.producerId} at offset ${firstOffset}${this.#label}`,
      );
    }
    if (txnFirst === undefined && isTransactional) {
      this.#updatedEntry.currentTxnFirstOffset = firstOffset;
      this.#transactions.push({ producerId: this.producerId, firstOffset, lastOffset: undefined });
    }
  }

  appendEndTxnMarker(marker: EndTxnMarkerInfo, producerEpoch: number, offset: number): CompletedTxn | undefined {
    this.#checkProducerEpoch(producerEpoch, offset);
    if (this.#updatedEntry.coordinatorEpoch > marker.coordinatorEpoch && this.origin !== AppendOrigin.replication) {
      throw this.#error(
        'TRANSACTION_COORDINATOR_FENCED',
        `coordinator epoch ${marker.coordinatorEpoch} of the marker for producer ${this.producerId} at offset ${offset} ` +
          `is below the current ${this.#updatedEntry.coordinatorEpoch}${this.#label}`,
      );
    }
    // A marker without data in this partition leaves nothing to complete (and no LSO effect).
    const first = this.#updatedEntry.currentTxnFirstOffset;
    const completed =
      first === undefined
        ? undefined
        : { producerId: this.producerId, firstOffset: first, lastOffset: offset, isAborted: marker.type === ControlRecordType.ABORT };
    this.#updatedEntry.updateForMarker(producerEpoch, marker.coordinatorEpoch, marker.timestamp);
    return completed;
  }

  /** The producer's entry after this append (merged into the manager's by `update`). */
  toEntry(): ProducerStateEntry {
    return this.#updatedEntry;
  }

  startedTransactions(): readonly TxnMetadata[] {
    return this.#transactions;
  }

  #checkProducerEpoch(producerEpoch: number, offset: number): void {
    const current = this.#updatedEntry.producerEpoch;
    if (producerEpoch >= current) return;
    // Followers and recovery take the leader's word for it. Kafka logs a warning here.
    if (this.origin === AppendOrigin.replication) return;
    // Since Kafka 2.7 a stale epoch on produce is INVALID_PRODUCER_EPOCH (abortable) rather than the
    // fatal PRODUCER_FENCED; fencing proper is the transaction coordinator's answer.
    throw this.#error(
      'INVALID_PRODUCER_EPOCH',
      `epoch ${producerEpoch} of producer ${this.producerId} at offset ${offset} is below the last seen epoch ${current}${this.#label}`,
    );
  }

  #checkSequence(producerEpoch: number, appendFirstSeq: number, offset: number): void {
    if (this.#verification !== undefined && appendFirstSeq > this.#verification.lowestSequence) {
      throw this.#error(
        'OUT_OF_ORDER_SEQUENCE_NUMBER',
        `sequence ${appendFirstSeq} of producer ${this.producerId} at offset ${offset} is above the lowest sequence ` +
          `${this.#verification.lowestSequence} awaiting transaction verification${this.#label}`,
      );
    }
    if (producerEpoch !== this.#updatedEntry.producerEpoch) {
      // A new epoch restarts its sequences at 0; an unknown producer (no epoch yet) may start anywhere,
      // since its earlier state can have been removed by retention, DeleteRecords or expiration.
      if (appendFirstSeq !== 0 && this.#updatedEntry.producerEpoch !== NO_PRODUCER_EPOCH) {
        throw this.#error(
          'OUT_OF_ORDER_SEQUENCE_NUMBER',
          `sequence ${appendFirstSeq} for the new epoch ${producerEpoch} of producer ${this.producerId} at offset ${offset} ` +
            `is not 0 (current epoch ${this.#updatedEntry.producerEpoch})${this.#label}`,
        );
      }
      return;
    }
    let currentLastSeq: number;
    if (!this.#updatedEntry.isEmpty) currentLastSeq = this.#updatedEntry.lastSeq;
    else if (producerEpoch === this.#currentEntry.producerEpoch) currentLastSeq = this.#currentEntry.lastSeq;
    else currentLastSeq = NO_SEQUENCE;
    if (this.#currentEntry.producerEpoch !== NO_PRODUCER_EPOCH && !inSequence(currentLastSeq, appendFirstSeq)) {
      throw this.#error(
        'OUT_OF_ORDER_SEQUENCE_NUMBER',
        `sequence ${appendFirstSeq} of producer ${this.producerId} at offset ${offset} does not follow ` +
          `the last sequence ${currentLastSeq}${this.#label}`,
      );
    }
  }

  #error(kafkaError: ProducerStateKafkaError, message: string): ProducerStateError {
    return new ProducerStateError(kafkaError, this.producerId, message);
  }
}

// ---------------------------------------------------------------------------------------------------
// Snapshots

export interface SnapshotEntry {
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly lastSequence: number;
  readonly lastOffset: number;
  readonly offsetDelta: number;
  readonly timestamp: number;
  readonly coordinatorEpoch: number;
  /** -1 when no transaction is open. */
  readonly currentTxnFirstOffset: number;
}

export const snapshotFileName = (offset: number): string => `${String(offset).padStart(20, '0')}${SNAPSHOT_FILE_SUFFIX}`;

/** The offset a snapshot file name stands for, or undefined when the name is not a snapshot's. */
export function offsetOfSnapshotFile(name: string): number | undefined {
  if (!name.endsWith(SNAPSHOT_FILE_SUFFIX)) return undefined;
  const stem = name.slice(0, -SNAPSHOT_FILE_SUFFIX.length);
  if (!/^\d+$/.test(stem)) return undefined;
  const offset = Number(stem);
  return Number.isSafeInteger(offset) ? offset : undefined;
}

export function snapshotEntryOf(entry: ProducerStateEntry): SnapshotEntry {
  return {
    producerId: entry.producerId,
    producerEpoch: entry.producerEpoch,
    lastSequence: entry.lastSeq,
    lastOffset: entry.lastDataOffset,
    offsetDelta: entry.lastOffsetDelta,
    timestamp: entry.lastTimestamp,
    coordinatorEpoch: entry.coordinatorEpoch,
    currentTxnFirstOffset: entry.currentTxnFirstOffset ?? -1,
  };
}

export function encodeProducerSnapshot(entries: readonly SnapshotEntry[]): Buffer {
  const buf = Buffer.alloc(SNAPSHOT_ENTRIES_OFFSET + 4 + entries.length * SNAPSHOT_ENTRY_SIZE);
  buf.writeInt16BE(PRODUCER_SNAPSHOT_VERSION, 0);
  buf.writeInt32BE(entries.length, SNAPSHOT_ENTRIES_OFFSET);
  let p = SNAPSHOT_ENTRIES_OFFSET + 4;
  for (const e of entries) {
    writeInt64(buf, p, e.producerId);
    buf.writeInt16BE(e.producerEpoch, p + 8);
    buf.writeInt32BE(e.lastSequence, p + 10);
    writeInt64(buf, p + 14, e.lastOffset);
    buf.writeInt32BE(e.offsetDelta, p + 22);
    writeInt64(buf, p + 26, e.timestamp);
    buf.writeInt32BE(e.coordinatorEpoch, p + 34);
    writeInt64(buf, p + 38, e.currentTxnFirstOffset);
    p += SNAPSHOT_ENTRY_SIZE;
  }
  buf.writeUInt32BE(crc32c(buf.subarray(SNAPSHOT_ENTRIES_OFFSET)), SNAPSHOT_CRC_OFFSET);
  return buf;
}

/** Parses a snapshot; anything off (version, CRC, sizes) is a `CorruptFileError` naming `file`. */
export function decodeProducerSnapshot(buf: Buffer, file = 'snapshot'): SnapshotEntry[] {
  if (buf.length < SNAPSHOT_ENTRIES_OFFSET + 4) throw new CorruptFileError(file, `snapshot of ${buf.length} bytes is truncated`);
  const version = buf.readInt16BE(0);
  if (version !== PRODUCER_SNAPSHOT_VERSION) throw new CorruptFileError(file, `unknown snapshot version ${version}`);
  const stored = buf.readUInt32BE(SNAPSHOT_CRC_OFFSET);
  const computed = crc32c(buf.subarray(SNAPSHOT_ENTRIES_OFFSET));
  if (stored !== computed) {
    throw new CorruptFileError(file, `snapshot CRC mismatch (stored ${stored}, computed ${computed})`);
  }
  const count = buf.readInt32BE(SNAPSHOT_ENTRIES_OFFSET);
  if (count < 0 || SNAPSHOT_ENTRIES_OFFSET + 4 + count * SNAPSHOT_ENTRY_SIZE !== buf.length) {
    throw new CorruptFileError(file, `snapshot declares ${count} entries but holds ${buf.length} bytes`);
  }
  const out: SnapshotEntry[] = [];
  for (let i = 0, p = SNAPSHOT_ENTRIES_OFFSET + 4; i < count; i++, p += SNAPSHOT_ENTRY_SIZE) {
    out.push({
      producerId: readInt64(buf, p),
      producerEpoch: buf.readInt16BE(p + 8),
      lastSequence: buf.readInt32BE(p + 10),
      lastOffset: readInt64(buf, p + 14),
      offsetDelta: buf.readInt32BE(p + 22),
      timestamp: readInt64(buf, p + 26),
      coordinatorEpoch: buf.readInt32BE(p + 34),
      currentTxnFirstOffset: readInt64(buf, p + 38),
    });
  }
  return out;
}

/** Reads a snapshot file; a missing file is `ERR_STORAGE`, a corrupt one `ERR_CORRUPT_FILE`. */
export async function readProducerSnapshot(path: string): Promise<SnapshotEntry[]> {
  const bytes = await readFileIfExists(path);
  if (bytes === undefined) throw new StrataError('ERR_STORAGE', `snapshot ${path} does not exist`);
  return decodeProducerSnapshot(bytes, path);
}

function entryFromSnapshot(e: SnapshotEntry): ProducerStateEntry {
  const batch =
    e.lastOffset >= 0
      ? { lastSeq: e.lastSequence, lastOffset: e.lastOffset, offsetDelta: e.offsetDelta, timestamp: e.timestamp }
      : undefined;
  return new ProducerStateEntry(
    e.producerId,
    e.producerEpoch,
    e.coordinatorEpoch,
    e.timestamp,
    e.currentTxnFirstOffset >= 0 ? e.currentTxnFirstOffset : undefined,
    batch,
  );
}

// ---------------------------------------------------------------------------------------------------
// The manager

export interface ProducerStateManagerOptions {
  /** `producer.id.expiration.ms`. */
  readonly producerIdExpirationMs?: number;
  /** `transaction.max.timeout.ms`, for `hasLateTransaction`. */
  readonly maxTransactionTimeoutMs?: number;
  readonly clock?: { now(): number };
  /** fsync snapshots when written (default true). */
  readonly fsyncSnapshots?: boolean;
  /** Names the partition in error messages, e.g. "orders-3". */
  readonly partitionName?: string;
  /** Told about each snapshot skipped as corrupt during a reload (the file is deleted). */
  readonly onCorruptSnapshot?: (error: CorruptFileError) => void;
  /**
   * `transaction.partition.verification.enable`. Kafka's default is true, but the check only makes
   * sense once the broker verifies transactional produces with the coordinator (and passes the guard
   * to `analyze`), so storage defaults to false and the broker turns it on.
   */
  readonly transactionVerificationEnabled?: boolean;
}

export interface AnalyzeOptions {
  /** The guard `maybeStartTransactionVerification` returned for this produce (default: the sentinel). */
  readonly verificationGuard?: VerificationGuard;
}

/** The outcome of `analyze` for the batches of one append. */
export interface ProducerAppendAnalysis {
  readonly updatedProducers: ReadonlyMap<number, ProducerAppendInfo>;
  readonly completedTxns: readonly CompletedTxn[];
  /** A retried batch: nothing is to be appended; answer with this batch's original offsets. */
  readonly duplicate: BatchMetadata | undefined;
}

export class ProducerStateManager {
  readonly dir: string;
  readonly #expirationMs: number;
  readonly #maxTxnTimeoutMs: number;
  readonly #clock: { now(): number };
  readonly #fsync: boolean;
  readonly #label: string;
  readonly #onCorrupt: ((error: CorruptFileError) => void) | undefined;
  #verificationEnabled: boolean;
  readonly #verificationStates = new Map<number, VerificationStateEntry>();

  readonly #producers = new Map<number, ProducerStateEntry>();
  /** Open transactions by first offset. */
  readonly #ongoingTxns = new TxnList();
  /** Completed transactions whose marker is not yet below the high watermark. */
  readonly #unreplicatedTxns = new TxnList();
  /** Snapshot offsets on disk, ascending. */
  #snapshots: number[];
  #lastMapOffset = 0;
  #lastSnapOffset = 0;
  #oldestTxnLastTimestamp = -1;

  private constructor(dir: string, snapshots: number[], options: ProducerStateManagerOptions) {
    this.dir = dir;
    this.#snapshots = snapshots;
    this.#expirationMs = options.producerIdExpirationMs ?? DEFAULT_PRODUCER_ID_EXPIRATION_MS;
    this.#maxTxnTimeoutMs = options.maxTransactionTimeoutMs ?? DEFAULT_MAX_TRANSACTION_TIMEOUT_MS;
    this.#clock = options.clock ?? { now: () => Date.now() };
    this.#fsync = options.fsyncSnapshots ?? true;
    this.#label = options.partitionName === undefined ? '' : ` in ${options.partitionName}`;
    this.#onCorrupt = options.onCorruptSnapshot;
    this.#verificationEnabled = options.transactionVerificationEnabled ?? false;
  }

  /** A manager for the partition directory `dir`, knowing its snapshot files but with no state loaded yet. */
  static async open(dir: string, options: ProducerStateManagerOptions = {}, fileNames?: readonly string[]): Promise<ProducerStateManager> {
    // `fileNames`: the directory listing the Log already has (S1), saving a readdir per partition at start-up.
    const snapshots = fileNames
      ? fileNames.map(offsetOfSnapshotFile).filter((o): o is number => o !== undefined).sort((a, b) => a - b)
      : await listSnapshotOffsets(dir);
    return new ProducerStateManager(dir, snapshots, options);
  }

  // --- reading state ---

  /** The offset up to which (exclusive) the state reflects the log. */
  get mapEndOffset(): number {
    return this.#lastMapOffset;
  }

  get producerIdCount(): number {
    return this.#producers.size;
  }

  get isEmpty(): boolean {
    return this.#producers.size === 0 && this.#unreplicatedTxns.items.length === 0;
  }

  activeProducers(): ReadonlyMap<number, ProducerStateEntry> {
    return this.#producers;
  }

  lastEntry(producerId: number): ProducerStateEntry | undefined {
    return this.#producers.get(producerId);
  }

  /**
   * The first offset that is not yet stable: the first offset of the earliest transaction that is
   * still open or whose marker is not yet replicated below the high watermark. The LSO is
   * min(this, high watermark); undefined means the high watermark.
   */
  firstUnstableOffset(): number | undefined {
    const unreplicated = this.#unreplicatedTxns.first()?.firstOffset;
    const undecided = this.#ongoingTxns.first()?.firstOffset;
    if (unreplicated === undefined) return undecided;
    if (undecided === undefined) return unreplicated;
    return Math.min(undecided, unreplicated);
  }

  /** The first offset of the earliest open transaction, replicated or not. */
  firstUndecidedOffset(): number | undefined {
    return this.#ongoingTxns.first()?.firstOffset;
  }

  /** Open transactions, by first offset. */
  ongoingTransactions(): readonly TxnMetadata[] {
    return this.#ongoingTxns.items;
  }

  /** Whether the oldest open transaction has been silent for longer than any transaction may last. */
  hasLateTransaction(now: number = this.#clock.now()): boolean {
    const ts = this.#oldestTxnLastTimestamp;
    return ts > 0 && now - ts > this.#maxTxnTimeoutMs + LATE_TRANSACTION_BUFFER_MS;
  }

  // --- appends ---

  /** Starts validating an append by `producerId`. */
  prepareUpdate(producerId: number, origin: AppendOrigin): ProducerAppendInfo {
    const current = this.#producers.get(producerId) ?? ProducerStateEntry.empty(producerId);
    return new ProducerAppendInfo(producerId, current, origin, this.#label, this.#verificationStates.get(producerId));
  }

  /**
   * Validates the batches of one append (offsets assigned, not yet written) against the producer
   * state. Throws `ProducerStateError` when one is refused; returns `duplicate` when a client batch
   * repeats one of the producer's last five. Nothing changes until `applyAppend`.
   */
  analyze(batches: Iterable<ProducerBatch>, origin: AppendOrigin, options: AnalyzeOptions = {}): ProducerAppendAnalysis {
    const updatedProducers = new Map<number, ProducerAppendInfo>();
    const completedTxns: CompletedTxn[] = [];
    const guard = options.verificationGuard ?? VerificationGuard.SENTINEL;
    for (const batch of batches) {
      if (!hasProducerId(batch.producerId)) continue;
      if (origin === AppendOrigin.client) {
        const last = this.#producers.get(batch.producerId);
        const duplicate = last?.findDuplicateBatch(batch.producerEpoch, batch.baseSequence, batchLastSequence(batch));
        if (duplicate !== undefined) return { updatedProducers, completedTxns, duplicate };
      }
      // A transactional batch may start a transaction only with a verification the coordinator
      // confirmed and no marker has overtaken since (the guard is still current).
      if (
        origin !== AppendOrigin.replication &&
        batch.isTransactional &&
        !this.hasOngoingTransaction(batch.producerId) &&
        this.#verificationEnabled &&
        !batch.isControl &&
        !this.verificationGuard(batch.producerId).verify(guard)
      ) {
        throw new ProducerStateError(
          'INVALID_TXN_STATE',
          batch.producerId,
          `a transactional batch of producer ${batch.producerId} is not part of a verified or ongoing transaction${this.#label}`,
        );
      }
      let info = updatedProducers.get(batch.producerId);
      if (info === undefined) {
        info = this.prepareUpdate(batch.producerId, origin);
        updatedProducers.set(batch.producerId, info);
      }
      const completed = info.append(batch);
      // Data starts the transaction (it is now ongoing) and a marker ends it: either way the guard is spent.
      if (batch.isTransactional) this.#verificationStates.delete(batch.producerId);
      if (completed !== undefined) completedTxns.push(completed);
    }
    return { updatedProducers, completedTxns, duplicate: undefined };
  }

  /** `transaction.partition.verification.enable`; the broker may change it at any time (a dynamic config in Kafka). */
  get transactionVerificationEnabled(): boolean {
    return this.#verificationEnabled;
  }

  set transactionVerificationEnabled(enabled: boolean) {
    this.#verificationEnabled = enabled;
    // Guards handed out while enabled mean nothing once disabled; a later re-enable starts afresh.
    if (!enabled) this.#verificationStates.clear();
  }

  /** Whether the producer has an open transaction on this partition (at `producerEpoch`, when given). */
  hasOngoingTransaction(producerId: number, producerEpoch?: number): boolean {
    const entry = this.#producers.get(producerId);
    if (entry?.currentTxnFirstOffset === undefined) return false;
    return producerEpoch === undefined || entry.producerEpoch === producerEpoch;
  }

  /**
   * Starts (or continues) verifying a transactional produce: the sentinel when the producer already
   * has an ongoing transaction at this epoch (nothing to verify), else the guard of its verification
   * entry. A transaction open at another epoch is verified again (as Kafka 4 does): its coordinator
   * must confirm the partition for the epoch the write carries.
   */
  maybeStartTransactionVerification(producerId: number, sequence: number, epoch: number): VerificationGuard {
    if (this.hasOngoingTransaction(producerId, epoch)) return VerificationGuard.SENTINEL;
    return this.maybeCreateVerificationStateEntry(producerId, sequence, epoch).verificationGuard;
  }

  /** The producer's verification entry, created if missing, with its lowest sequence and epoch updated. */
  maybeCreateVerificationStateEntry(producerId: number, sequence: number, epoch: number): VerificationStateEntry {
    let entry = this.#verificationStates.get(producerId);
    if (entry === undefined) {
      entry = new VerificationStateEntry(this.#clock.now(), sequence, epoch);
      this.#verificationStates.set(producerId, entry);
    }
    entry.maybeUpdateLowestSequenceAndEpoch(sequence, epoch);
    return entry;
  }

  verificationStateEntry(producerId: number): VerificationStateEntry | undefined {
    return this.#verificationStates.get(producerId);
  }

  /** The current guard of the producer's verification, or the sentinel. */
  verificationGuard(producerId: number): VerificationGuard {
    return this.#verificationStates.get(producerId)?.verificationGuard ?? VerificationGuard.SENTINEL;
  }

  clearVerificationStateEntry(producerId: number): void {
    this.#verificationStates.delete(producerId);
  }

  /**
   * Applies an analysed append once its bytes are in the log: producers are updated, completed
   * transactions closed, and the map end offset moved to `nextOffset` (the append's last offset + 1).
   * Returns the completed transactions with the LSO to record for each (aborted ones go to the txn index).
   */
  applyAppend(analysis: ProducerAppendAnalysis, nextOffset: number): CompletedTxnWithLso[] {
    if (analysis.duplicate !== undefined) throw new StrataError('ERR_STATE', 'a duplicate append is not applied');
    for (const info of analysis.updatedProducers.values()) this.update(info);
    const out: CompletedTxnWithLso[] = [];
    for (const txn of analysis.completedTxns) {
      const lastStableOffset = this.lastStableOffset(txn);
      this.completeTxn(txn);
      out.push({ txn, lastStableOffset });
    }
    this.updateMapEndOffset(nextOffset);
    return out;
  }

  /**
   * Replays one batch already in the log (recovery, rebuilding state after a snapshot): no
   * validation. Batches without a producer id only move the map end offset. Returns the transaction
   * a marker completed, with its LSO, so recovery can rebuild the txn index.
   */
  updateFromBatch(batch: ProducerBatch): CompletedTxnWithLso | undefined {
    let result: CompletedTxnWithLso | undefined;
    if (hasProducerId(batch.producerId)) {
      const info = this.prepareUpdate(batch.producerId, AppendOrigin.replication);
      const completed = info.append(batch);
      if (batch.isTransactional) this.#verificationStates.delete(batch.producerId);
      this.update(info);
      if (completed !== undefined) {
        result = { txn: completed, lastStableOffset: this.lastStableOffset(completed) };
        this.completeTxn(completed);
      }
    }
    this.updateMapEndOffset(batchLastOffset(batch) + 1);
    return result;
  }

  /** Merges one producer's append into the state. */
  update(info: ProducerAppendInfo): void {
    if (!hasProducerId(info.producerId)) throw new StrataError('ERR_STATE', `invalid producer id ${info.producerId}${this.#label}`);
    const updated = info.toEntry();
    const current = this.#producers.get(info.producerId);
    if (current !== undefined) current.update(updated);
    else this.#producers.set(info.producerId, updated);
    for (const txn of info.startedTransactions()) this.#ongoingTxns.put({ ...txn });
    this.#updateOldestTxnTimestamp();
  }

  /**
   * The LSO to record with a completed transaction: the first offset of the earliest open transaction
   * of another producer, else the offset after the marker. Call before `completeTxn`.
   */
  lastStableOffset(txn: CompletedTxn): number {
    for (const t of this.#ongoingTxns.items) if (t.producerId !== txn.producerId) return t.firstOffset;
    return txn.lastOffset + 1;
  }

  /** Closes a transaction; it stays unstable until the high watermark passes its marker. */
  completeTxn(txn: CompletedTxn): void {
    const meta = this.#ongoingTxns.remove(txn.firstOffset);
    if (meta === undefined) {
      throw new StrataError('ERR_STATE', `cannot complete transaction at ${txn.firstOffset}${this.#label}: it was not started`);
    }
    meta.lastOffset = txn.lastOffset;
    this.#unreplicatedTxns.put(meta);
    this.#updateOldestTxnTimestamp();
  }

  /** Completed transactions whose marker is below the new high watermark become stable. */
  onHighWatermarkUpdated(highWatermark: number): void {
    this.#removeUnreplicatedTransactions(highWatermark);
  }

  updateMapEndOffset(offset: number): void {
    this.#lastMapOffset = offset;
  }

  /**
   * Forgets idle producers (no open transaction, silent for `producer.id.expiration.ms`) and
   * verifications left pending that long. Returns the producer ids removed.
   */
  removeExpiredProducers(now: number = this.#clock.now()): number[] {
    const removed: number[] = [];
    for (const [id, entry] of this.#producers) {
      if (this.#isExpired(now, entry)) {
        this.#producers.delete(id);
        removed.push(id);
      }
    }
    for (const [id, v] of this.#verificationStates) {
      if (now - v.timestamp >= this.#expirationMs) this.#verificationStates.delete(id);
    }
    return removed;
  }

  /** Installs an entry as it is (snapshot loading, tests). */
  loadProducerEntry(entry: ProducerStateEntry): void {
    this.#producers.set(entry.producerId, entry);
    if (entry.currentTxnFirstOffset !== undefined) {
      this.#ongoingTxns.put({ producerId: entry.producerId, firstOffset: entry.currentTxnFirstOffset, lastOffset: undefined });
    }
  }

  // --- log start / truncation ---

  /** The log start offset moved up: drop what is now below it. */
  onLogStartOffsetIncremented(logStartOffset: number): void {
    this.#removeUnreplicatedTransactions(logStartOffset);
    if (this.#lastMapOffset < logStartOffset) this.#lastMapOffset = logStartOffset;
    this.#lastSnapOffset = this.latestSnapshotOffset() ?? logStartOffset;
  }

  /**
   * Keeps only snapshots in (logStartOffset, logEndOffset] and, unless the state already ends at
   * `logEndOffset`, reloads it from the latest of them (corrupt snapshots are deleted and the next
   * older one tried; with none the state starts empty at `logStartOffset`). The Log then replays
   * from `mapEndOffset`. Assumes `logEndOffset` ≤ high watermark, as Kafka does.
   */
  async truncateAndReload(logStartOffset: number, logEndOffset: number, now: number = this.#clock.now()): Promise<void> {
    for (const offset of [...this.#snapshots]) {
      if (offset > logEndOffset || offset <= logStartOffset) await this.#removeAndDeleteSnapshot(offset);
    }
    if (logEndOffset !== this.#lastMapOffset) {
      this.#producers.clear();
      this.#ongoingTxns.clear();
      this.#unreplicatedTxns.clear();
      this.#updateOldestTxnTimestamp();
      await this.#loadFromSnapshot(logStartOffset, now);
    } else {
      this.onLogStartOffsetIncremented(logStartOffset);
    }
  }

  /** Forgets all state and every snapshot; the state starts empty at `offset`. */
  async truncateFullyAndStartAt(offset: number): Promise<void> {
    this.#producers.clear();
    this.#ongoingTxns.clear();
    this.#unreplicatedTxns.clear();
    for (const s of [...this.#snapshots]) await this.#removeAndDeleteSnapshot(s);
    this.#lastSnapOffset = 0;
    this.#lastMapOffset = offset;
    this.#updateOldestTxnTimestamp();
  }

  // --- snapshots ---

  /**
   * Writes `<mapEndOffset>.snapshot` if the state moved since the last snapshot. Called at segment
   * roll (the new segment's base offset is the map end offset) and at clean shutdown.
   * Returns the snapshot's path, or undefined when none was needed.
   */
  async takeSnapshot(): Promise<string | undefined> {
    const offset = this.#lastMapOffset;
    if (offset <= this.#lastSnapOffset) return undefined;
    // Encode now: appends may change the state while the file is written.
    const bytes = encodeProducerSnapshot([...this.#producers.values()].map(snapshotEntryOf));
    const path = this.snapshotPath(offset);
    await writeFileAtomic(path, bytes, { fsync: this.#fsync });
    this.#addSnapshot(offset);
    this.#lastSnapOffset = Math.max(this.#lastSnapOffset, offset);
    return path;
  }

  snapshotPath(offset: number): string {
    return join(this.dir, snapshotFileName(offset));
  }

  /** Snapshot offsets on disk, ascending. */
  snapshotOffsets(): readonly number[] {
    return this.#snapshots;
  }

  latestSnapshotOffset(): number | undefined {
    return this.#snapshots[this.#snapshots.length - 1];
  }

  oldestSnapshotOffset(): number | undefined {
    return this.#snapshots[0];
  }

  /** The path of the snapshot at exactly `offset`, if there is one (tiered storage copies it). */
  fetchSnapshot(offset: number): string | undefined {
    return this.#snapshots.includes(offset) ? this.snapshotPath(offset) : undefined;
  }

  /** Deletes snapshots below `offset`. */
  async deleteSnapshotsBefore(offset: number): Promise<void> {
    for (const s of [...this.#snapshots]) if (s < offset) await this.#removeAndDeleteSnapshot(s);
  }

  /**
   * Forgets the snapshot at `offset` and renames its file with the `.deleted` suffix, for the Log's
   * delayed deletion with the segment it belongs to. Returns the new path, or undefined when there
   * was no such snapshot (or its file was already gone).
   */
  async removeAndMarkSnapshotForDeletion(offset: number): Promise<string | undefined> {
    if (!this.#removeSnapshot(offset)) return undefined;
    const path = this.snapshotPath(offset);
    try {
      await rename(path, path + DELETED_FILE_SUFFIX);
      return path + DELETED_FILE_SUFFIX;
    } catch (cause) {
      if (isNotFound(cause)) return undefined;
      throw new StrataError('ERR_STORAGE', `cannot rename ${path}: ${(cause as Error).message}`, { cause });
    }
  }

  /**
   * At load: deletes snapshots that belong to no segment (`segmentBaseOffsets`), except the latest
   * stray one when it is above every segment's base offset (the one a clean shutdown writes).
   */
  async removeStraySnapshots(segmentBaseOffsets: Iterable<number>): Promise<void> {
    const bases = new Set(segmentBaseOffsets);
    const maxBase = bases.size === 0 ? undefined : Math.max(...bases);
    const onDisk = await listSnapshotOffsets(this.dir);
    this.#snapshots = onDisk;
    let latestStray: number | undefined;
    for (const offset of onDisk.slice()) {
      if (bases.has(offset)) continue;
      if (latestStray !== undefined) await this.#removeAndDeleteSnapshot(latestStray);
      latestStray = offset;
    }
    if (latestStray !== undefined && maxBase !== undefined && latestStray < maxBase) {
      await this.#removeAndDeleteSnapshot(latestStray);
    }
  }

  // --- internals ---

  async #loadFromSnapshot(logStartOffset: number, now: number): Promise<void> {
    for (;;) {
      const latest = this.latestSnapshotOffset();
      if (latest === undefined) {
        this.#lastSnapOffset = logStartOffset;
        this.#lastMapOffset = logStartOffset;
        return;
      }
      try {
        const entries = await readProducerSnapshot(this.snapshotPath(latest));
        for (const e of entries) {
          const entry = entryFromSnapshot(e);
          if (!this.#isExpired(now, entry)) this.loadProducerEntry(entry);
        }
        this.#lastSnapOffset = latest;
        this.#lastMapOffset = latest;
        this.#updateOldestTxnTimestamp();
        return;
      } catch (e) {
        if (!(e instanceof CorruptFileError)) throw e;
        this.#onCorrupt?.(e);
        this.#producers.clear();
        this.#ongoingTxns.clear();
        await this.#removeAndDeleteSnapshot(latest);
      }
    }
  }

  #isExpired(now: number, entry: ProducerStateEntry): boolean {
    return entry.currentTxnFirstOffset === undefined && now - entry.lastTimestamp >= this.#expirationMs;
  }

  #removeUnreplicatedTransactions(offset: number): void {
    this.#unreplicatedTxns.removeWhere((t) => t.lastOffset !== undefined && t.lastOffset < offset);
  }

  #updateOldestTxnTimestamp(): void {
    const first = this.#ongoingTxns.first();
    this.#oldestTxnLastTimestamp = first === undefined ? -1 : (this.#producers.get(first.producerId)?.lastTimestamp ?? -1);
  }

  #addSnapshot(offset: number): void {
    if (this.#snapshots.includes(offset)) return;
    this.#snapshots.push(offset);
    this.#snapshots.sort((a, b) => a - b);
  }

  #removeSnapshot(offset: number): boolean {
    const i = this.#snapshots.indexOf(offset);
    if (i < 0) return false;
    this.#snapshots.splice(i, 1);
    return true;
  }

  async #removeAndDeleteSnapshot(offset: number): Promise<void> {
    if (this.#removeSnapshot(offset)) await deleteIfExists(this.snapshotPath(offset));
  }
}

async function listSnapshotOffsets(dir: string): Promise<number[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (cause) {
    if (isNotFound(cause)) return [];
    throw new StrataError('ERR_STORAGE', `cannot list ${dir}: ${(cause as Error).message}`, { cause });
  }
  const offsets: number[] = [];
  for (const name of names) {
    const offset = offsetOfSnapshotFile(name);
    if (offset !== undefined) offsets.push(offset);
  }
  return offsets.sort((a, b) => a - b);
}
