import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Compression, CRC_OFFSET, DELETE_HORIZON_FLAG, computeBatchCrc, readBatchHeader } from '../../../src/protocol/records/batch-header.js';
import { decodeBatchRecords } from '../../../src/protocol/records/batch-records.js';
import { buildBatch } from '../../../src/protocol/records/builder.js';
import { BatchRetention, emptyHeader, filterBatch, type RecordFilter } from '../../../src/storage/cleaner/batch-filter.js';
import { defaultRecordsCodec } from '../../../src/storage/cleaner/codec.js';

const T = 1_700_000_000_000;

const keepKeys = (keys: readonly string[], retention: BatchRetention = BatchRetention.deleteEmpty): RecordFilter => ({
  checkBatch: () => ({ retention, containsMarkerForEmptyTxn: false }),
  shouldRetainRecord: (_h, span) => span.key !== null && keys.includes(span.key.toString()),
});

async function records(batch: Buffer): Promise<{ offset: number; key: string | null; value: string | null; timestamp: number }[]> {
  const header = readBatchHeader(batch, 0);
  return (await decodeBatchRecords(batch, { position: 0, size: batch.length, header })).map((r) => ({
    offset: r.offset, key: r.key?.toString() ?? null, value: r.value?.toString() ?? null, timestamp: r.timestamp,
  }));
}

for (const [name, compression] of Object.entries(Compression)) {
  test(`a rebuilt ${name} batch keeps its codec, offsets, last offset delta and record timestamps`, async () => {
    const batch = await buildBatch(
      [
        { key: 'a', value: '1', timestamp: T + 5 },
        { key: 'b', value: '2', timestamp: T + 1 },
        { key: 'c', value: '3', timestamp: T + 9 },
        { key: 'd', value: '4', timestamp: T + 3 },
      ],
      { baseOffset: 100, compression, producerId: 3, producerEpoch: 1, baseSequence: 40, partitionLeaderEpoch: 6 },
    );
    const out = await filterBatch(batch, readBatchHeader(batch, 0), keepKeys(['b', 'd']), { currentTime: T, deleteRetentionMs: 1 }, defaultRecordsCodec);
    const h = readBatchHeader(out.output!, 0);
    assert.equal(h.attributes & 0x07, compression);
    assert.deepEqual([h.baseOffset, h.lastOffsetDelta, h.recordCount, h.producerId, h.producerEpoch, h.baseSequence, h.partitionLeaderEpoch], [100, 3, 2, 3, 1, 40, 6]);
    assert.equal(h.baseTimestamp, T + 1);
    assert.equal(h.maxTimestamp, T + 3);
    assert.equal(out.output!.readUInt32BE(CRC_OFFSET), computeBatchCrc(out.output!, 0, out.output!.length));
    assert.deepEqual(await records(out.output!), [
      { offset: 101, key: 'b', value: '2', timestamp: T + 1 },
      { offset: 103, key: 'd', value: '4', timestamp: T + 3 },
    ]);
  });
}

test('a batch whose records all stay is returned byte for byte', async () => {
  const batch = await buildBatch([{ key: 'a', value: '1', timestamp: T }], { baseOffset: 7 });
  const out = await filterBatch(batch, readBatchHeader(batch, 0), keepKeys(['a']), { currentTime: T, deleteRetentionMs: 1 }, defaultRecordsCodec);
  assert.equal(out.output, batch);
});

test('a kept tombstone sets the delete horizon as the base timestamp, keeping record timestamps', async () => {
  const batch = await buildBatch([{ key: 'a', value: null, timestamp: T + 2 }, { key: 'b', value: 'x', timestamp: T + 4 }], { baseOffset: 0 });
  const out = await filterBatch(batch, readBatchHeader(batch, 0), keepKeys(['a', 'b']), { currentTime: T + 1000, deleteRetentionMs: 500 }, defaultRecordsCodec);
  const h = readBatchHeader(out.output!, 0);
  assert.ok((h.attributes & DELETE_HORIZON_FLAG) !== 0);
  assert.equal(h.baseTimestamp, T + 1500);
  assert.equal(h.maxTimestamp, T + 4);
  assert.deepEqual((await records(out.output!)).map((r) => r.timestamp), [T + 2, T + 4]);
  // A second pass keeps the horizon it found.
  const again = await filterBatch(out.output!, h, keepKeys(['a']), { currentTime: T + 1200, deleteRetentionMs: 500 }, defaultRecordsCodec);
  const h2 = readBatchHeader(again.output!, 0);
  assert.equal(h2.baseTimestamp, T + 1500);
  assert.deepEqual((await records(again.output!)).map((r) => [r.key, r.timestamp]), [['a', T + 2]]);
});

test('a LogAppendTime batch keeps its append time as max timestamp', async () => {
  const batch = await buildBatch([{ key: 'a', value: '1', timestamp: T }, { key: 'b', value: '2', timestamp: T + 1 }], { logAppendTime: T + 99 });
  const out = await filterBatch(batch, readBatchHeader(batch, 0), keepKeys(['a']), { currentTime: T, deleteRetentionMs: 1 }, defaultRecordsCodec);
  assert.equal(readBatchHeader(out.output!, 0).maxTimestamp, T + 99);
});

test('retain-empty keeps an empty header; delete drops without looking at records', async () => {
  const batch = await buildBatch([{ key: 'a', value: '1', timestamp: T }, { key: 'b', value: '2', timestamp: T + 7 }], { baseOffset: 50, compression: Compression.gzip, producerId: 9, producerEpoch: 2, baseSequence: 5 });
  const kept = await filterBatch(batch, readBatchHeader(batch, 0), keepKeys([], BatchRetention.retainEmpty), { currentTime: T, deleteRetentionMs: 1 }, defaultRecordsCodec);
  assert.deepEqual(kept.output, emptyHeader(batch, readBatchHeader(batch, 0)));
  const h = readBatchHeader(kept.output!, 0);
  assert.deepEqual([h.baseOffset, h.lastOffsetDelta, h.recordCount, h.attributes & 7, h.producerId, h.baseSequence, h.baseTimestamp], [50, 1, 0, 0, 9, 5, T + 7]);
  assert.equal(kept.output!.readUInt32BE(CRC_OFFSET), computeBatchCrc(kept.output!, 0, kept.output!.length));
  let looked = false;
  const dropAll: RecordFilter = {
    checkBatch: () => ({ retention: BatchRetention.delete, containsMarkerForEmptyTxn: false }),
    shouldRetainRecord: () => (looked = true),
  };
  const dropped = await filterBatch(batch, readBatchHeader(batch, 0), dropAll, { currentTime: T, deleteRetentionMs: 1 }, defaultRecordsCodec);
  assert.equal(dropped.output, null);
  assert.equal(looked, false);
});

test('property: the rebuilt batch holds exactly the retained records, unchanged', async () => {
  const record = fc.record({
    key: fc.option(fc.string({ maxLength: 8 }), { nil: null }),
    value: fc.option(fc.string({ maxLength: 30 }), { nil: null }),
    timestamp: fc.integer({ min: T - 1_000_000, max: T + 1_000_000 }),
    headers: fc.array(fc.record({ key: fc.string({ maxLength: 5 }), value: fc.option(fc.string({ maxLength: 5 }), { nil: null }) }), { maxLength: 2 }),
  });
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.tuple(record, fc.boolean()), { minLength: 1, maxLength: 20 }),
      fc.constantFrom(Compression.none, Compression.gzip, Compression.snappy, Compression.lz4),
      fc.integer({ min: 0, max: 1_000_000 }),
      fc.boolean(),
      async (input, compression, baseOffset, horizon) => {
        const batch = await buildBatch(input.map(([r]) => r), { baseOffset, compression });
        const header = readBatchHeader(batch, 0);
        const filter: RecordFilter = {
          checkBatch: () => ({ retention: BatchRetention.deleteEmpty, containsMarkerForEmptyTxn: false }),
          shouldRetainRecord: (_h, span) => input[span.offsetDelta]![1],
        };
        const now = T + 5_000_000;
        const out = await filterBatch(batch, header, filter, { currentTime: now, deleteRetentionMs: horizon ? 1 : 1000 }, defaultRecordsCodec);
        const kept = input.map(([r, keep], i) => ({ r, keep, i })).filter((x) => x.keep);
        if (kept.length === 0) {
          assert.equal(out.output, null);
          return;
        }
        const h = readBatchHeader(out.output!, 0);
        assert.equal(h.baseOffset, baseOffset);
        assert.equal(h.lastOffsetDelta, input.length - 1);
        assert.equal(h.recordCount, kept.length);
        assert.equal(out.output!.readUInt32BE(CRC_OFFSET), computeBatchCrc(out.output!, 0, out.output!.length));
        const tombstone = kept.some((x) => x.r.value === null);
        assert.equal((h.attributes & DELETE_HORIZON_FLAG) !== 0, tombstone);
        const decoded = await decodeBatchRecords(out.output!, { position: 0, size: out.output!.length, header: h });
        assert.deepEqual(
          decoded.map((d) => ({ offset: d.offset, key: d.key?.toString() ?? null, value: d.value?.toString() ?? null, timestamp: d.timestamp, headers: d.headers.map((x) => ({ key: x.key, value: x.value?.toString() ?? null })) })),
          kept.map((x) => ({ offset: baseOffset + x.i, key: x.r.key, value: x.r.value, timestamp: x.r.timestamp, headers: x.r.headers.map((hd) => ({ key: hd.key, value: hd.value })) })),
        );
      },
    ),
    { numRuns: 150 },
  );
});
