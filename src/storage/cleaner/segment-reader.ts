// Walks the record batches of a segment for the cleaner: reads the `.log` in chunks of the cleaner's I/O
// buffer size (a larger read only for a batch bigger than the buffer) and checks every batch before it is
// used, so a corrupt batch stops the clean instead of being rewritten under a fresh CRC.
import { LENGTH_OFFSET, LOG_OVERHEAD, MIN_BATCH_LENGTH, readBatchHeader, type BatchHeader } from '../../protocol/records/batch-header.js';
import { StrataError } from '../../protocol/strata-error.js';
import { batchProblem } from '../batch-scan.js';
import type { CleanerSegment } from './cleanable-log.js';

export interface SegmentBatch {
  /** The whole batch (a view of a chunk that is not reused). */
  readonly bytes: Buffer;
  readonly header: BatchHeader;
  readonly position: number;
}

export interface ReadOptions {
  readonly bufferSize: number;
  /** The largest batch accepted (max.message.bytes plus the log overhead, or the I/O buffer cap). */
  readonly maxBatchSize: number;
  /** Called with the byte count of every chunk read (the I/O throttle). */
  readonly onRead?: (bytes: number) => Promise<void>;
}

export async function* segmentBatches(segment: CleanerSegment, options: ReadOptions): AsyncGenerator<SegmentBatch> {
  let position = 0;
  const end = segment.size;
  while (position < end) {
    let chunk = await segment.read(position, Math.min(options.bufferSize, end - position));
    await options.onRead?.(chunk.length);
    if (chunk.length < LOG_OVERHEAD) throw corrupt(segment, position, 'truncated batch');
    let at = 0;
    let yielded = false;
    while (chunk.length - at >= LOG_OVERHEAD) {
      const length = chunk.readInt32BE(at + LENGTH_OFFSET);
      if (length < MIN_BATCH_LENGTH) throw corrupt(segment, position + at, `batch length ${length}`);
      const size = LOG_OVERHEAD + length;
      if (at + size > chunk.length) {
        if (yielded) break;
        // The first batch is larger than the buffer: read exactly that batch.
        if (size > options.maxBatchSize) throw corrupt(segment, position, `batch of ${size} bytes exceeds ${options.maxBatchSize}`);
        if (position + size > end) throw corrupt(segment, position, 'batch runs past the segment end');
        chunk = await segment.read(position, size);
        await options.onRead?.(chunk.length);
        if (chunk.length < size) throw corrupt(segment, position, 'short read');
        at = 0;
        continue;
      }
      const problem = batchProblem(chunk, at, size);
      if (problem !== undefined) throw corrupt(segment, position + at, problem);
      yield { bytes: chunk.subarray(at, at + size), header: readBatchHeader(chunk, at), position: position + at };
      yielded = true;
      at += size;
    }
    if (!yielded) throw corrupt(segment, position, 'no complete batch');
    position += at;
  }
}

function corrupt(segment: CleanerSegment, position: number, what: string): StrataError {
  return new StrataError('ERR_CORRUPT_RECORD', `segment ${segment.baseOffset} position ${position}: ${what}`);
}
