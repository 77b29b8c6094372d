// What the cleaner needs from a partition log. The storage Log implements it (see log-adapter notes in
// the cleaner README); tests implement it over a plain directory of segment files.
import type { LogConfig } from '../log-config.js';
import type { AbortedTxn } from './cleaned-segment.js';

export interface CleanerSegment {
  readonly baseOffset: number;
  /** Bytes in the segment's `.log`. */
  readonly size: number;
  /** Largest record timestamp in the segment (its last-modified time when it has none). */
  largestTimestamp(): Promise<number>;
  /** Max timestamp of the segment's first batch (-1 when empty), for max.compaction.lag.ms. */
  firstBatchTimestamp(): Promise<number>;
  /** Last-modified time of the `.log` in ms; the cleaned segment inherits it. */
  lastModified(): Promise<number>;
  /** Up to `length` bytes of the `.log` from `position` (fewer at the end of the file). */
  read(position: number, length: number): Promise<Buffer>;
}

/** A producer the log still tracks: the cleaner keeps its last batch so its state survives compaction. */
export interface ActiveProducer {
  /** Last offset of its last data batch, or -1 when its last entry is a transaction marker. */
  readonly lastDataOffset: number;
  readonly producerEpoch: number;
}

export interface CleanableLog {
  /** `<topic>-<partition>`, the key of the cleaner checkpoint. */
  readonly name: string;
  readonly dir: string;
  readonly config: LogConfig;
  readonly logStartOffset: number;
  readonly logEndOffset: number;
  /** min(first unstable offset, high watermark): nothing at or past it is cleaned. */
  readonly lastStableOffset: number;
  /** All segments in offset order; the last one is the active segment. */
  segments(): readonly CleanerSegment[];
  /** Aborted transactions overlapping [startOffset, upperBoundOffset), from the transaction indexes. */
  collectAbortedTransactions(startOffset: number, upperBoundOffset: number): Promise<AbortedTxn[]>;
  activeProducers(): ReadonlyMap<number, ActiveProducer>;
  /**
   * Puts the finished `.cleaned` segment at `newBaseOffset` in place of `old` (whose first member has the
   * same base offset), crash-safely — see segment-swap.ts — and updates the log's segment list.
   */
  replaceSegments(newBaseOffset: number, old: readonly CleanerSegment[]): Promise<void>;
}
