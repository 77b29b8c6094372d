// Cleans one log (Kafka's LogCleaner.Cleaner): builds the offset map over the dirty range, then rewrites
// every segment from the start of the log up to the end of what the map covers, in groups that each
// become one `.cleaned` segment, keeping for each key only its latest record (at its original offset).
// Tombstones and transaction markers get a delete horizon the first time they are cleaned and go once it
// has passed; records of aborted transactions go; the last batch of each active producer stays (possibly
// emptied of records) so producer state survives. When the map fills before the dirty range ends, the
// clean stops where the map stops and the rest waits for the next round.
import { CONTROL_FLAG, DELETE_HORIZON_FLAG, RECORD_BATCH_OVERHEAD, compressionOf, type BatchHeader } from '../../protocol/records/batch-header.js';
import { decodeControlRecordKey } from '../../protocol/records/record.js';
import { StrataError } from '../../protocol/strata-error.js';
import { BatchRetention, filterBatch, type BatchDecision, type RecordFilter } from './batch-filter.js';
import type { ActiveProducer, CleanableLog, CleanerSegment } from './cleanable-log.js';
import { CleanedSegmentWriter } from './cleaned-segment.js';
import { defaultRecordsCodec, type RecordsCodec } from './codec.js';
import type { OffsetMap } from './offset-map.js';
import { recordSpans, type RecordSpan } from './record-spans.js';
import { segmentBatches, type SegmentBatch } from './segment-reader.js';
import type { Throttler } from './throttler.js';
import { TransactionTracker } from './transaction-tracker.js';

export interface CleanerOptions {
  readonly offsetMap: OffsetMap;
  /** Read chunk size (Kafka: log.cleaner.io.buffer.size / threads / 2, 256 KiB by default). */
  readonly ioBufferSize?: number;
  readonly throttler?: Throttler;
  readonly codec?: RecordsCodec;
}

export interface CleanerStats {
  bytesRead: number;
  bytesWritten: number;
  mapBytesRead: number;
  mapMessagesRead: number;
  messagesRead: number;
  messagesWritten: number;
  /** Records without a key found in the cleaned range (dropped). */
  invalidMessagesRead: number;
  segmentsCleaned: number;
  groups: number;
}

export interface CleanResult {
  /** The first offset not covered by this clean: the new cleaner checkpoint. */
  readonly endOffset: number;
  readonly stats: CleanerStats;
}

/** Thrown when a clean is aborted (the log is being truncated, deleted or paused). */
export class CleaningAbortedError extends StrataError {
  constructor(name: string) {
    super('ERR_STATE', `cleaning of ${name} was aborted`);
    this.name = 'CleaningAbortedError';
  }
}

const newStats = (): CleanerStats => ({
  bytesRead: 0, bytesWritten: 0, mapBytesRead: 0, mapMessagesRead: 0, messagesRead: 0,
  messagesWritten: 0, invalidMessagesRead: 0, segmentsCleaned: 0, groups: 0,
});

const lastOffsetOf = (h: BatchHeader): number => h.baseOffset + h.lastOffsetDelta;
const isControlBatch = (h: BatchHeader): boolean => (h.attributes & CONTROL_FLAG) !== 0;
const deleteHorizonOf = (h: BatchHeader): number | undefined =>
  (h.attributes & DELETE_HORIZON_FLAG) !== 0 ? h.baseTimestamp : undefined;

export class Cleaner {
  readonly #map: OffsetMap;
  readonly #ioBufferSize: number;
  readonly #throttler: Throttler | undefined;
  readonly #codec: RecordsCodec;

  constructor(options: CleanerOptions) {
    this.#map = options.offsetMap;
    this.#ioBufferSize = options.ioBufferSize ?? 256 * 1024;
    this.#throttler = options.throttler;
    this.#codec = options.codec ?? defaultRecordsCodec;
  }

  /**
   * Cleans `log` from its start up to at most `firstUncleanableOffset` (a segment base offset), with the
   * dirty part starting at `firstDirtyOffset`. `now` is the time delete horizons are measured against;
   * `checkDone` throws CleaningAbortedError when the clean must stop.
   */
  async clean(
    log: CleanableLog,
    firstDirtyOffset: number,
    firstUncleanableOffset: number,
    now: number,
    checkDone: () => void = () => undefined,
  ): Promise<CleanResult> {
    const stats = newStats();
    const endOffset = await this.#buildOffsetMap(log, firstDirtyOffset, firstUncleanableOffset, stats, checkDone);
    const segments = log.segments();
    const active = segments[segments.length - 1];
    const toClean = segments.filter((s) => s !== active && s.baseOffset < endOffset && s.baseOffset < firstUncleanableOffset);
    const groups = groupSegmentsBySize(toClean, log.config.segmentBytes, log.config.segmentIndexBytes, log.config.indexIntervalBytes, firstUncleanableOffset);
    const tracker = new TransactionTracker();
    const producers = log.activeProducers();
    for (const group of groups) {
      checkDone();
      const next = segments[segments.indexOf(group[group.length - 1]!) + 1];
      const upperBound = next?.baseOffset ?? firstUncleanableOffset;
      await this.#cleanSegments(log, group, upperBound, tracker, producers, now, stats, checkDone);
      stats.groups++;
      stats.segmentsCleaned += group.length;
    }
    return { endOffset, stats };
  }

  #readOptions(log: CleanableLog): { bufferSize: number; maxBatchSize: number; onRead: (n: number) => Promise<void> } {
    return {
      bufferSize: this.#ioBufferSize,
      maxBatchSize: Math.max(log.config.maxMessageBytes + RECORD_BATCH_OVERHEAD, this.#ioBufferSize),
      onRead: async (n) => {
        await this.#throttler?.maybeThrottle(n);
      },
    };
  }

  async #records(batch: SegmentBatch): Promise<{ payload: Buffer; spans: RecordSpan[] }> {
    const compression = compressionOf(batch.header.attributes);
    const raw = batch.bytes.subarray(RECORD_BATCH_OVERHEAD);
    const payload = compression === 0 ? raw : await this.#codec.decompress(compression, raw);
    return { payload, spans: recordSpans(payload, batch.header.recordCount) };
  }

  async #controlType(batch: SegmentBatch): Promise<number | undefined> {
    if (batch.header.recordCount < 1) return undefined;
    const { spans } = await this.#records(batch);
    return decodeControlRecordKey(spans[0]!.key).type;
  }

  /** Returns the end offset: one past the last offset the map covers. */
  async #buildOffsetMap(
    log: CleanableLog,
    start: number,
    end: number,
    stats: CleanerStats,
    checkDone: () => void,
  ): Promise<number> {
    const map = this.#map;
    map.clear();
    const segments = log.segments();
    const active = segments[segments.length - 1];
    const dirty = segments.filter((s, i) => s !== active && s.baseOffset < end && (segments[i + 1]?.baseOffset ?? Infinity) > start);
    const tracker = new TransactionTracker(await log.collectAbortedTransactions(start, end));
    outer: for (const segment of dirty) {
      for await (const batch of segmentBatches(segment, this.#readOptions(log))) {
        checkDone();
        const h = batch.header;
        stats.mapBytesRead += batch.bytes.length;
        if (lastOffsetOf(h) < start) continue;
        if (isControlBatch(h)) {
          tracker.onControlBatchRead(h, await this.#controlType(batch));
          stats.mapMessagesRead++;
        } else if (tracker.onBatchRead(h)) {
          stats.mapMessagesRead += h.recordCount;
        } else {
          const { spans } = await this.#records(batch);
          for (const span of spans) {
            const offset = h.baseOffset + span.offsetDelta;
            if (span.key !== null && offset >= start) {
              if (map.isFull) break outer;
              map.put(span.key, offset);
            }
            stats.mapMessagesRead++;
          }
        }
        map.updateLatestOffset(lastOffsetOf(h));
      }
    }
    return Math.min(end, Math.max(start, map.latestOffset + 1));
  }

  async #cleanSegments(
    log: CleanableLog,
    group: readonly CleanerSegment[],
    upperBound: number,
    tracker: TransactionTracker,
    producers: ReadonlyMap<number, ActiveProducer>,
    now: number,
    stats: CleanerStats,
    checkDone: () => void,
  ): Promise<void> {
    const first = group[0]!;
    const writer = await CleanedSegmentWriter.create(log.dir, first.baseOffset, {
      indexIntervalBytes: log.config.indexIntervalBytes,
      maxIndexBytes: log.config.segmentIndexBytes,
    });
    try {
      tracker.addAbortedTransactions(await log.collectAbortedTransactions(first.baseOffset, upperBound));
      tracker.onRetainedAbort = (txn) => writer.appendAbortedTxn(txn);
      for (const segment of group) {
        await this.#cleanInto(log, segment, writer, tracker, producers, now, stats, checkDone);
      }
      await writer.finish(await group[group.length - 1]!.lastModified());
      checkDone();
      await log.replaceSegments(first.baseOffset, group);
    } catch (e) {
      await writer.discard();
      throw e;
    } finally {
      tracker.onRetainedAbort = undefined;
    }
  }

  async #cleanInto(
    log: CleanableLog,
    source: CleanerSegment,
    dest: CleanedSegmentWriter,
    tracker: TransactionTracker,
    producers: ReadonlyMap<number, ActiveProducer>,
    now: number,
    stats: CleanerStats,
    checkDone: () => void,
  ): Promise<void> {
    const map = this.#map;
    let discardBatchRecords = false;
    let controlType: number | undefined;
    const filter: RecordFilter = {
      checkBatch(h): BatchDecision {
        const control = isControlBatch(h);
        let canDiscard: boolean;
        if (control) {
          canDiscard = tracker.onControlBatchRead(h, controlType);
          const horizon = deleteHorizonOf(h);
          discardBatchRecords = canDiscard && horizon !== undefined && horizon <= now;
        } else {
          canDiscard = tracker.onBatchRead(h);
          discardBatchRecords = canDiscard;
        }
        const retention =
          h.producerId >= 0 && isLastBatchOfProducer(h, producers)
            ? BatchRetention.retainEmpty
            : discardBatchRecords
              ? BatchRetention.delete
              : BatchRetention.deleteEmpty;
        return { retention, containsMarkerForEmptyTxn: canDiscard && control };
      },
      shouldRetainRecord(h, span, offset): boolean {
        if (discardBatchRecords) return false;
        if (isControlBatch(h)) return true;
        // Past what the map covers (the tail of a partly mapped segment): nothing newer is known.
        if (offset > map.latestOffset) return true;
        if (span.key === null) {
          stats.invalidMessagesRead++;
          return false;
        }
        const latestForKey = offset >= map.get(span.key);
        const horizon = deleteHorizonOf(h);
        const retainDeletes = horizon === undefined || now < horizon;
        return latestForKey && (span.hasValue || retainDeletes);
      },
    };
    const pending: Buffer[] = [];
    let pendingBytes = 0;
    let pendingLastOffset = -1;
    let pendingMaxTimestamp = -1;
    const flush = async (): Promise<void> => {
      if (pendingBytes === 0) return;
      const bytes = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
      await dest.append(bytes, pendingLastOffset, pendingMaxTimestamp);
      stats.bytesWritten += pendingBytes;
      await this.#throttler?.maybeThrottle(pendingBytes);
      pending.length = 0;
      pendingBytes = 0;
      pendingMaxTimestamp = -1;
    };
    for await (const batch of segmentBatches(source, this.#readOptions(log))) {
      checkDone();
      stats.bytesRead += batch.bytes.length;
      controlType = isControlBatch(batch.header) ? await this.#controlType(batch) : undefined;
      const result = await filterBatch(batch.bytes, batch.header, filter, { currentTime: now, deleteRetentionMs: log.config.deleteRetentionMs }, this.#codec);
      stats.messagesRead += result.recordsRead;
      stats.messagesWritten += result.recordsRetained;
      if (result.output !== null) {
        pending.push(result.output);
        pendingBytes += result.output.length;
        pendingLastOffset = lastOffsetOf(batch.header);
        if (result.maxTimestamp > pendingMaxTimestamp) pendingMaxTimestamp = result.maxTimestamp;
        if (pendingBytes >= this.#ioBufferSize) await flush();
      }
    }
    await flush();
  }
}

/**
 * Whether this batch holds what a still-active producer's state rests on: its last data batch (with
 * its last sequence), or — when its last entry is a marker — the marker carrying its latest epoch.
 */
function isLastBatchOfProducer(h: BatchHeader, producers: ReadonlyMap<number, ActiveProducer>): boolean {
  const p = producers.get(h.producerId);
  if (p === undefined) return false;
  if (p.lastDataOffset >= 0) return lastOffsetOf(h) === p.lastDataOffset;
  return isControlBatch(h) && h.producerEpoch === p.producerEpoch;
}

/**
 * Consecutive segments grouped so each group's data stays within `maxSize` bytes, its indexes within
 * `maxIndexSize`, and its offsets within an int32 of the group's base offset (Kafka's
 * groupSegmentsBySize). Index sizes are estimated from the data size and the index interval.
 */
export function groupSegmentsBySize(
  segments: readonly CleanerSegment[],
  maxSize: number,
  maxIndexSize: number,
  indexIntervalBytes: number,
  firstUncleanableOffset: number,
): CleanerSegment[][] {
  const indexSize = (s: CleanerSegment): number => Math.ceil(s.size / Math.max(indexIntervalBytes, 1)) * 12;
  const groups: CleanerSegment[][] = [];
  let i = 0;
  while (i < segments.length) {
    const group = [segments[i]!];
    let logSize = segments[i]!.size;
    let idxSize = indexSize(segments[i]!);
    i++;
    while (i < segments.length) {
      const s = segments[i]!;
      const lastOffset = (segments[i + 1]?.baseOffset ?? firstUncleanableOffset) - 1;
      if (logSize + s.size > maxSize || idxSize + indexSize(s) > maxIndexSize) break;
      if (s.size > 0 && lastOffset - group[0]!.baseOffset > 0x7fffffff) break;
      group.push(s);
      logSize += s.size;
      idxSize += indexSize(s);
      i++;
    }
    groups.push(group);
  }
  return groups;
}
