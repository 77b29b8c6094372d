// Down-conversion for Fetch v0–3 clients, which read only magic 0/1 message sets: each record of the
// stored v2 batches becomes one uncompressed legacy message at its own offset. Transaction markers and
// record headers have no legacy form and are dropped, as Kafka drops them.
import { CONTROL_FLAG, isLogAppendTime } from '../protocol/records/batch-header.js';
import { iterateBatches } from '../protocol/records/batches.js';
import { decodeBatchRecords } from '../protocol/records/batch-records.js';
import { encodeMessage, TIMESTAMP_TYPE_BIT } from '../protocol/records/legacy.js';

/** The records of `buf` (whole v2 batches) as a magic `magic` message set; null when nothing remains. */
export async function downConvert(buf: Buffer, magic: 0 | 1): Promise<Buffer | null> {
  const parts: Buffer[] = [];
  for (const b of iterateBatches(buf)) {
    if ((b.header.attributes & CONTROL_FLAG) !== 0) continue;
    const attributes = magic === 1 && isLogAppendTime(b.header.attributes) ? TIMESTAMP_TYPE_BIT : 0;
    for (const r of await decodeBatchRecords(buf, b)) {
      parts.push(encodeMessage(r.offset, magic, attributes, r.timestamp, r.key, r.value));
    }
  }
  return parts.length === 0 ? null : Buffer.concat(parts);
}
