// Turns the records bytes of one partition in a Fetch response into records, as a consumer sees them.
//
//  - A response may end in a partial batch (the broker cuts at the size limit): it is ignored, and the next
//    fetch starts at the first offset not yet returned.
//  - A batch can begin before the offset asked for (the broker returns whole batches), so records below it
//    are dropped.
//  - Control batches (transaction markers) are never returned but do move the position past them.
//  - With read_committed, records of aborted transactions are skipped, using the response's aborted
//    transaction list as Kafka's consumer does.
//  - Old brokers may return magic 0/1 message sets; those are decoded too.
// Every v2 batch's CRC32C is checked (Kafka's check.crcs, on by default).
import { StrataError } from '../protocol/strata-error.js';
import {
  CONTROL_FLAG,
  LENGTH_OFFSET,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  MIN_BATCH_LENGTH,
  TIMESTAMP_TYPE_MASK,
  TRANSACTIONAL_FLAG,
  computeBatchCrc,
  readBatchHeader,
} from '../protocol/records/batch-header.js';
import { decodeBatchRecords, readTxnMarker } from '../protocol/records/batch-records.js';
import { decodeLegacyMessages } from '../protocol/records/legacy.js';
import type { ConsumedRecord } from './types.js';

export interface AbortedTransaction {
  readonly producerId: number;
  readonly firstOffset: number;
}

export interface DecodeFetchOptions {
  readonly topic: string;
  readonly partition: number;
  /** The offset the fetch asked for. */
  readonly fetchOffset: number;
  /** Present for read_committed. */
  readonly abortedTransactions?: readonly AbortedTransaction[] | null;
}

export interface DecodedFetch {
  readonly records: ConsumedRecord[];
  /** The offset after the last complete batch, or fetchOffset when there was none. */
  readonly nextOffset: number;
  /** Bytes of a trailing partial batch, ignored. */
  readonly truncatedBytes: number;
}

export async function decodeFetchedRecords(buf: Buffer | null, opts: DecodeFetchOptions): Promise<DecodedFetch> {
  const records: ConsumedRecord[] = [];
  let nextOffset = opts.fetchOffset;
  if (buf === null || buf.length === 0) return { records, nextOffset, truncatedBytes: 0 };
  const readCommitted = opts.abortedTransactions !== undefined;
  const pendingAborts = [...(opts.abortedTransactions ?? [])].sort((a, b) => a.firstOffset - b.firstOffset);
  const abortedProducers = new Set<number>();
  let pos = 0;
  while (buf.length - pos >= LOG_OVERHEAD) {
    const length = buf.readInt32BE(pos + LENGTH_OFFSET);
    const size = LOG_OVERHEAD + length;
    if (size > buf.length - pos || buf.length - pos <= MAGIC_OFFSET) break;
    const magic = buf.readInt8(pos + MAGIC_OFFSET);
    if (magic === 0 || magic === 1) {
      for (const m of decodeLegacyMessages(buf.subarray(pos, pos + size))) {
        if (m.offset >= opts.fetchOffset) {
          records.push({
            topic: opts.topic,
            partition: opts.partition,
            offset: m.offset,
            timestamp: m.timestamp,
            timestampType: m.logAppendTime ? 'LogAppendTime' : 'CreateTime',
            key: m.key,
            value: m.value,
            headers: [],
          });
        }
        nextOffset = Math.max(nextOffset, m.offset + 1);
      }
      pos += size;
      continue;
    }
    if (magic !== 2) throw new StrataError('ERR_CORRUPT_RECORD', `${where(opts)}: record batch at byte ${pos} has magic ${magic}`);
    if (length < MIN_BATCH_LENGTH) throw new StrataError('ERR_CORRUPT_RECORD', `${where(opts)}: record batch at byte ${pos} declares length ${length}`);
    const header = readBatchHeader(buf, pos);
    if (computeBatchCrc(buf, pos, size) !== header.crc) {
      throw new StrataError('ERR_CORRUPT_RECORD', `${where(opts)}: record batch at offset ${header.baseOffset} fails its CRC check`);
    }
    const lastOffset = header.baseOffset + header.lastOffsetDelta;
    const batch = { position: pos, size, header };
    pos += size;
    if (lastOffset < opts.fetchOffset) continue;
    nextOffset = Math.max(nextOffset, lastOffset + 1);
    if (readCommitted) {
      while (pendingAborts.length > 0 && pendingAborts[0]!.firstOffset <= lastOffset) abortedProducers.add(pendingAborts.shift()!.producerId);
    }
    if ((header.attributes & CONTROL_FLAG) !== 0) {
      if (readCommitted) {
        const marker = readTxnMarker(buf, batch);
        if (marker?.type === 'abort') abortedProducers.delete(header.producerId);
      }
      continue;
    }
    if (readCommitted && (header.attributes & TRANSACTIONAL_FLAG) !== 0 && abortedProducers.has(header.producerId)) continue;
    const timestampType = (header.attributes & TIMESTAMP_TYPE_MASK) !== 0 ? 'LogAppendTime' : 'CreateTime';
    for (const r of await decodeBatchRecords(buf, batch)) {
      if (r.offset < opts.fetchOffset) continue;
      records.push({
        topic: opts.topic,
        partition: opts.partition,
        offset: r.offset,
        timestamp: r.timestamp,
        timestampType,
        key: r.key,
        value: r.value,
        headers: r.headers,
      });
    }
  }
  return { records, nextOffset, truncatedBytes: buf.length - pos };
}

const where = (opts: DecodeFetchOptions): string => `topic '${opts.topic}' partition ${opts.partition}`;
