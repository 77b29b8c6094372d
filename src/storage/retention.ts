// Which segments retention may delete (Kafka's UnifiedLog.deletableSegments and the three
// retention predicates). Segments are taken oldest first while the predicate holds; a segment is
// only deletable once the high watermark has passed its end, and the active segment only when it
// holds data (the Log then rolls first so an empty active segment remains).
import type { LogSegments } from './log-segments.js';
import type { LogSegment } from './segment.js';

export type DeletionPredicate = (segment: LogSegment, next: LogSegment | undefined) => Promise<boolean> | boolean;

export type DeletionReason = 'retention-ms' | 'retention-bytes' | 'log-start-offset';

export async function deletableSegments(segments: LogSegments, highWatermark: number, logEndOffset: number,
  predicate: DeletionPredicate): Promise<LogSegment[]> {
  const out: LogSegment[] = [];
  const all = segments.all();
  for (let i = 0; i < all.length; i++) {
    const seg = all[i]!;
    const next = all[i + 1];
    const upperBound = next ? next.baseOffset : logEndOffset;
    const lastAndEmpty = next === undefined && seg.size === 0;
    if (highWatermark >= upperBound && !lastAndEmpty && (await predicate(seg, next))) out.push(seg);
    else break;
  }
  return out;
}

/** Segments whose newest record is older than `retentionMs` (Kafka: now - largestTimestamp > retention.ms). */
export function retentionMsBreached(now: number, retentionMs: number): DeletionPredicate {
  return async (seg) => now - (await seg.largestTimestamp()) > retentionMs;
}

/** The oldest segments whose removal still leaves at least `retentionBytes` in the log. */
export function retentionSizeBreached(totalSize: number, retentionBytes: number): DeletionPredicate {
  let excess = totalSize - retentionBytes;
  return (seg) => {
    if (excess - seg.size < 0) return false;
    excess -= seg.size;
    return true;
  };
}

/** Segments entirely below the log start offset (after DeleteRecords or a start offset move). */
export function logStartOffsetBreached(logStartOffset: number): DeletionPredicate {
  return (_seg, next) => next !== undefined && next.baseOffset <= logStartOffset;
}
