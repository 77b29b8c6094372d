// Down-conversion for Fetch v0–3 clients, which read only magic 0/1 message sets: each record of the
// stored v2 batches becomes one uncompressed legacy message at its own offset. Transaction markers and
// record headers have no legacy form and are dropped, as Kafka drops them.
import { CONTROL_FLAG, isLogAppendTime, LOG_OVERHEAD, writeInt64 } from '../protocol/records/batch-header.js';
import { iterateBatches } from '../protocol/records/batches.js';
import { decodeBatchRecords } from '../protocol/records/batch-records.js';
import { crc32 } from '../protocol/records/legacy.js';

/** magic(1) + attributes(1) + key length(4) + value length(4) after the CRC; magic 1 adds a timestamp. */
const HEADER_V0 = 4 + 1 + 1 + 4 + 4;
const HEADER_V1 = HEADER_V0 + 8;
const TIMESTAMP_TYPE_LOG_APPEND = 0x08;

function message(offset: number, magic: 0 | 1, logAppendTime: boolean, timestamp: number, key: Buffer | null, value: Buffer | null): Buffer {
  const size = (magic === 1 ? HEADER_V1 : HEADER_V0) + (key?.length ?? 0) + (value?.length ?? 0);
  const buf = Buffer.allocUnsafe(LOG_OVERHEAD + size);
  writeInt64(buf, 0, offset);
  buf.writeInt32BE(size, 8);
  let p = LOG_OVERHEAD + 4;
  buf.writeInt8(magic, p++);
  buf.writeInt8(magic === 1 && logAppendTime ? TIMESTAMP_TYPE_LOG_APPEND : 0, p++);
  if (magic === 1) {
    writeInt64(buf, p, timestamp);
    p += 8;
  }
  for (const b of [key, value]) {
    buf.writeInt32BE(b === null ? -1 : b.length, p);
    p += 4;
    if (b !== null) p += b.copy(buf, p);
  }
  buf.writeUInt32BE(crc32(buf.subarray(LOG_OVERHEAD + 4)), LOG_OVERHEAD);
  return buf;
}

/** The records of `buf` (whole v2 batches) as a magic `magic` message set; null when nothing remains. */
export async function downConvert(buf: Buffer, magic: 0 | 1): Promise<Buffer | null> {
  const parts: Buffer[] = [];
  for (const b of iterateBatches(buf)) {
    if ((b.header.attributes & CONTROL_FLAG) !== 0) continue;
    const logAppendTime = isLogAppendTime(b.header.attributes);
    for (const r of await decodeBatchRecords(buf, b)) {
      parts.push(message(r.offset, magic, logAppendTime, r.timestamp, r.key, r.value));
    }
  }
  return parts.length === 0 ? null : Buffer.concat(parts);
}
