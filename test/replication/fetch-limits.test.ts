// Property: a fetch over several partitions returns exactly what Kafka's budget rules give — whole
// batches from the one holding the fetch offset, within min(partition max bytes, what is left of max
// bytes), except that the first partition with data returns its first batch even when it is larger.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { iterateBatches } from '../../src/protocol/records/batches.js';
import { IsolationLevel } from '../../src/replication/replica-manager.js';
import { fixture, lead, records } from './helpers.js';

interface Stored { base: number; last: number; size: number }

function expected(batches: readonly Stored[][], offsets: readonly number[], pmb: readonly number[], maxBytes: number): number[] {
  let limit = maxBytes;
  let minOne = true;
  return batches.map((bs, i) => {
    const from = bs.findIndex((b) => b.last >= offsets[i]!);
    const avail = from < 0 ? [] : bs.slice(from);
    const cap = Math.min(pmb[i]!, limit);
    let size = 0;
    for (const b of avail) {
      if (size + b.size > cap) break;
      size += b.size;
    }
    if (size === 0 && minOne && avail.length > 0) size = avail[0]!.size;
    if (size > 0) minOne = false;
    limit = Math.max(0, limit - size);
    return size;
  });
}

test('fetch budgets follow Kafka rules for any max bytes, partition max bytes and offsets', { timeout: 120_000 }, async () => {
  const f = await fixture();
  try {
    const partitions = 3;
    const stored: Stored[][] = [];
    let seed = 7;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
    for (let p = 0; p < partitions; p++) {
      await lead(f.rm, 'p', p);
      stored.push([]);
      for (let b = 0; b < 12; b++) {
        const count = 1 + rand(4);
        const vs = Array.from({ length: count }, () => 'x'.repeat(rand(300)));
        const [r] = await f.rm.appendRecords({ entries: [{ topic: 'p', partition: p, records: records(vs) }], requiredAcks: 1, timeoutMs: 1000 });
        const log = f.rm.getPartition('p', p)!.log;
        stored[p]!.push({ base: r!.baseOffset, last: log.logEndOffset - 1, size: log.size - stored[p]!.reduce((n, s) => n + s.size, 0) });
      }
    }
    const ends = stored.map((bs) => bs[bs.length - 1]!.last + 1);
    // A read that ends at a batch boundary lets the next one from there be answered from memory, within
    // the call: reading every batch once makes fetches below mix such partitions with file reads.
    for (let p = 0; p < partitions; p++) {
      for (const b of stored[p]!) {
        await f.rm.fetchMessages(
          { replicaId: -1, maxWaitMs: 0, minBytes: 1, maxBytes: 1, isolationLevel: IsolationLevel.READ_UNCOMMITTED },
          [{ topic: 'p', partition: p, fetchOffset: b.base, partitionMaxBytes: 1, currentLeaderEpoch: -1 }],
        );
      }
    }
    await fc.assert(fc.asyncProperty(
      fc.integer({ min: 0, max: 6000 }),
      fc.tuple(...ends.map(() => fc.integer({ min: 0, max: 4000 }))),
      fc.tuple(...ends.map((end) => fc.integer({ min: 0, max: end }))),
      async (maxBytes, pmb, offsets) => {
        const res = await f.rm.fetchMessages(
          { replicaId: -1, maxWaitMs: 0, minBytes: 1, maxBytes, isolationLevel: IsolationLevel.READ_UNCOMMITTED },
          offsets.map((o, i) => ({ topic: 'p', partition: i, fetchOffset: o, partitionMaxBytes: pmb[i]!, currentLeaderEpoch: -1 })),
        );
        assert.deepEqual(res.map((r) => r.records?.length ?? 0), expected(stored, offsets, pmb, maxBytes));
        res.forEach((r, i) => {
          if (r.records === null) return;
          const batches = [...iterateBatches(r.records)];
          assert.equal(batches.reduce((n, b) => n + b.size, 0), r.records.length, 'whole batches only');
          const first = batches[0]!.header;
          assert.ok(first.baseOffset <= offsets[i]! && offsets[i]! <= first.baseOffset + first.lastOffsetDelta, 'starts at the batch holding the offset');
        });
      },
    ), { numRuns: 150 });
  } finally {
    await f.close();
  }
});
