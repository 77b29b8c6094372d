// Coordinator records ↔ record batches, for the CoordinatorLog over a real partition: Kafka writes each
// coordinator write as one v2 batch (CreateTime, no producer id, `offsets.topic.compression.codec`), and
// loading reads the batches back in offset order.
import { isControl, isTransactional } from '../protocol/records/batch-header.js';
import { decodeBatchRecords } from '../protocol/records/batch-records.js';
import { iterateBatches } from '../protocol/records/batches.js';
import { buildBatch } from '../protocol/records/builder.js';
import type { CoordinatorRecord } from './runtime.js';

export interface CoordinatorBatchOptions {
  /** Record and batch timestamp (the broker's clock). */
  readonly timestamp: number;
  /** A `Compression` code; none by default, as Kafka's offsets.topic.compression.codec. */
  readonly compression?: number;
}

/** One batch holding `records`, ready for the partition's leader append (offsets assigned there). */
export function coordinatorBatch(records: readonly CoordinatorRecord[], opts: CoordinatorBatchOptions): Promise<Buffer> {
  return buildBatch(
    records.map((r) => ({ key: r.key, value: r.value })),
    { timestamp: opts.timestamp, compression: opts.compression },
  );
}

/**
 * The records of the batches in `buf` (log bytes), in order. Control batches (transaction markers) and
 * transactional batches are skipped: transactional offset commits are not replayed until the
 * transaction coordinator work gives them a home; nothing writes them before then. Records without a
 * key cannot belong to a coordinator topic and are skipped too.
 */
export async function* coordinatorRecordsOf(buf: Buffer): AsyncGenerator<CoordinatorRecord> {
  for (const batch of iterateBatches(buf)) {
    const { attributes } = batch.header;
    if (isControl(attributes) || isTransactional(attributes)) continue;
    for (const r of await decodeBatchRecords(buf, batch)) {
      if (r.key !== null) yield { key: r.key, value: r.value };
    }
  }
}
