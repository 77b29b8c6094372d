// The storage Log seen through the cleaner's CleanableLog interface. The Log provides the two hooks the
// cleaner needs beyond its public reads — activeProducers() and replaceSegments() — and this adapter
// maps segments to what the cleaner reads: sizes, timestamps, and raw bytes by file position.
import fsp from 'node:fs/promises';
import { basename } from 'node:path';
import type { Log } from '../log.js';
import type { LogConfig } from '../log-config.js';
import type { LogSegment } from '../segment.js';
import type { ActiveProducer, CleanableLog, CleanerSegment } from './cleanable-log.js';
import type { AbortedTxn } from './cleaned-segment.js';

class SegmentView implements CleanerSegment {
  readonly baseOffset: number;
  readonly size: number;
  readonly #segment: LogSegment;

  constructor(segment: LogSegment) {
    this.#segment = segment;
    this.baseOffset = segment.baseOffset;
    // The size when the cleaner looked: inactive segments do not grow, and the cleaner reads no further.
    this.size = segment.size;
  }

  largestTimestamp(): Promise<number> {
    return this.#segment.largestTimestamp();
  }

  firstBatchTimestamp(): Promise<number> {
    return this.#segment.firstBatchTimestamp();
  }

  lastModified(): Promise<number> {
    return this.#segment.lastModified();
  }

  async read(position: number, length: number): Promise<Buffer> {
    const n = Math.max(0, Math.min(length, this.size - position));
    const buf = Buffer.allocUnsafe(n);
    // The path is read at call time: it follows the segment if the log renamed it meanwhile.
    const handle = await fsp.open(this.#segment.logPath, 'r');
    try {
      let done = 0;
      while (done < n) {
        const { bytesRead } = await handle.read(buf, done, n - done, position + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      return buf.subarray(0, done);
    } finally {
      await handle.close();
    }
  }
}

/** `log` as the cleaner sees it; `name` is the partition key `<topic>-<partition>` (default: the dir name). */
export function cleanableLog(log: Log, name: string = basename(log.dir)): CleanableLog {
  return {
    name,
    dir: log.dir,
    get config(): LogConfig {
      return log.config;
    },
    get logStartOffset(): number {
      return log.logStartOffset;
    },
    get logEndOffset(): number {
      return log.logEndOffset;
    },
    get lastStableOffset(): number {
      return log.lastStableOffset;
    },
    segments: (): readonly CleanerSegment[] => log.segments.map((s) => new SegmentView(s)),
    collectAbortedTransactions: (start: number, upper: number): Promise<AbortedTxn[]> => log.collectAbortedTransactions(start, upper),
    activeProducers: (): ReadonlyMap<number, ActiveProducer> => log.activeProducers(),
    replaceSegments: (newBaseOffset: number, old: readonly CleanerSegment[]): Promise<void> =>
      log.replaceSegments(newBaseOffset, old.map((s) => s.baseOffset)),
  };
}
