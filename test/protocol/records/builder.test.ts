import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Compression, readBatchHeader } from '../../../src/protocol/records/batch-header.js';
import { decodeBatchRecords, decodeBatchRecordsSync, readTxnMarker } from '../../../src/protocol/records/batch-records.js';
import { iterateBatches, validateBatches, validateBatchesForAppend } from '../../../src/protocol/records/batches.js';
import { buildBatch, buildBatchSync, buildControlBatch, type BatchRecordInput } from '../../../src/protocol/records/builder.js';

const bytes = fc.option(
  fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
  { nil: null },
);
const recordArb: fc.Arbitrary<BatchRecordInput> = fc.record({
  key: bytes,
  value: bytes,
  headers: fc.array(fc.record({ key: fc.string({ maxLength: 10 }), value: bytes }), { maxLength: 3 }),
  timestamp: fc.integer({ min: 0, max: 2 ** 42 }),
});

describe('builder → validate → iterate → decode', () => {
  it('round-trips random records through every codec', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(recordArb, { minLength: 1, maxLength: 20 }),
        fc.constantFrom(Compression.none, Compression.gzip, Compression.snappy, Compression.lz4, Compression.zstd),
        fc.record({
          baseOffset: fc.integer({ min: 0, max: 2 ** 50 }),
          partitionLeaderEpoch: fc.integer({ min: -1, max: 1000 }),
          producerId: fc.integer({ min: 0, max: 2 ** 50 }),
          producerEpoch: fc.integer({ min: 0, max: 32767 }),
          baseSequence: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
          transactional: fc.boolean(),
        }),
        async (records, compression, opts) => {
          const batch = await buildBatch(records, { ...opts, compression });
          const v = await validateBatchesForAppend(batch);
          assert.equal(v.status, 'ok', v.status === 'invalid' ? v.message : '');
          const [info] = [...iterateBatches(batch)];
          const h = info!.header;
          assert.equal(h.baseOffset, opts.baseOffset);
          assert.equal(h.partitionLeaderEpoch, opts.partitionLeaderEpoch);
          assert.equal(h.producerId, opts.producerId);
          assert.equal(h.producerEpoch, opts.producerEpoch);
          assert.equal(h.baseSequence, opts.baseSequence);
          assert.equal(h.recordCount, records.length);
          assert.equal(h.lastOffsetDelta, records.length - 1);
          assert.equal(h.attributes & 7, compression);
          assert.equal((h.attributes & 0x10) !== 0, opts.transactional);
          assert.equal(h.baseTimestamp, records[0]!.timestamp);
          assert.equal(h.maxTimestamp, Math.max(...records.map((r) => r.timestamp!)));
          const decoded = await decodeBatchRecords(batch, info!);
          decoded.forEach((d, i) => {
            const r = records[i]!;
            assert.equal(d.offset, opts.baseOffset + i);
            assert.equal(d.timestamp, r.timestamp);
            assert.deepEqual(d.key, r.key);
            assert.deepEqual(d.value, r.value);
            assert.deepEqual(
              d.headers.map((x) => [x.key, x.value]),
              r.headers!.map((x) => [x.key, x.value]),
            );
          });
        },
      ),
      { numRuns: 80 },
    );
  });

  it('builds synchronously for every codec but zstd', () => {
    for (const c of [Compression.none, Compression.gzip, Compression.snappy, Compression.lz4]) {
      const b = buildBatchSync([{ key: 'k', value: 'v' }], { compression: c, timestamp: 42 });
      const [info] = [...iterateBatches(b)];
      assert.equal(decodeBatchRecordsSync(b, info!)[0]!.value!.toString(), 'v');
    }
    assert.throws(() => buildBatchSync([{ value: 'v' }], { compression: Compression.zstd }), /zstd/);
  });

  it('builds LogAppendTime batches whose records read the append time', async () => {
    const b = buildBatchSync([{ value: 'a', timestamp: 1 }, { value: 'b', timestamp: 2 }], { logAppendTime: 99 });
    const h = readBatchHeader(b, 0);
    assert.equal(h.attributes & 0x08, 0x08);
    assert.equal(h.maxTimestamp, 99);
    const [info] = [...iterateBatches(b)];
    assert.deepEqual(
      (await decodeBatchRecords(b, info!)).map((r) => r.timestamp),
      [99, 99],
    );
  });

  it('builds transaction markers that read back as such', () => {
    for (const type of ['commit', 'abort'] as const) {
      const m = buildControlBatch({ type, producerId: 77, producerEpoch: 3, coordinatorEpoch: 12, baseOffset: 500 });
      const v = validateBatches(m, { source: 'internal' });
      assert.equal(v.status, 'ok');
      if (v.status !== 'ok') continue;
      const h = v.batches[0]!.header;
      assert.equal(h.attributes & 0x30, 0x30, 'control and transactional');
      assert.equal(h.baseSequence, -1);
      assert.deepEqual(readTxnMarker(m, v.batches[0]!), { type, producerId: 77, producerEpoch: 3, coordinatorEpoch: 12, offset: 500 });
    }
    const data = buildBatchSync([{ value: 'x' }]);
    assert.equal(readTxnMarker(data, [...iterateBatches(data)][0]!), undefined);
  });
});

// kafkajs is an independent implementation of the same format: batches must pass between us unchanged.
describe('interoperability with kafkajs', () => {
  const require = createRequire(import.meta.url);
  type KRecord = { offset: string; timestamp: string; key: Buffer | null; value: Buffer | null; headers: Record<string, Buffer> };
  const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js') as {
    RecordBatch: (o: Record<string, unknown>) => Promise<{ buffer: Buffer }>;
  };
  const Record = require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as (o: Record<string, unknown>) => unknown;
  const decodeKafkajs = require('kafkajs/src/protocol/recordBatch/v0/decoder.js') as (d: unknown) => Promise<{
    firstOffset: string;
    records: KRecord[];
  }>;
  const Decoder = require('kafkajs/src/protocol/decoder.js') as new (b: Buffer) => unknown;
  const Long = require('kafkajs/src/utils/long.js') as { fromNumber(n: number): unknown };

  it('validates and decodes batches kafkajs encodes (none, gzip)', async () => {
    for (const compression of [0, 1]) {
      const enc = await RecordBatch({
        compression,
        firstOffset: Long.fromNumber(0),
        firstTimestamp: 1_700_000_000_000,
        maxTimestamp: 1_700_000_000_002,
        lastOffsetDelta: 2,
        producerId: Long.fromNumber(-1),
        records: [0, 1, 2].map((i) =>
          Record({ offsetDelta: i, timestampDelta: i, key: Buffer.from(`k${i}`), value: Buffer.from(`v${i}`), headers: { h: Buffer.from('x') } }),
        ),
      });
      const buf = enc.buffer;
      const v = await validateBatchesForAppend(buf);
      assert.equal(v.status, 'ok', v.status === 'invalid' ? v.message : '');
      if (v.status !== 'ok') continue;
      const decoded = await decodeBatchRecords(buf, v.batches[0]!);
      assert.deepEqual(
        decoded.map((r) => [r.offset, r.timestamp, r.key!.toString(), r.value!.toString(), r.headers[0]!.key]),
        [0, 1, 2].map((i) => [i, 1_700_000_000_000 + i, `k${i}`, `v${i}`, 'h']),
      );
    }
  });

  it('produces batches kafkajs decodes (none, gzip)', async () => {
    for (const compression of [Compression.none, Compression.gzip]) {
      const b = await buildBatch(
        [
          { key: 'a', value: 'one', timestamp: 1000, headers: [{ key: 'hk', value: 'hv' }] },
          { key: null, value: 'two', timestamp: 1005 },
        ],
        { compression, baseOffset: 40 },
      );
      const out = await decodeKafkajs(new Decoder(b));
      assert.equal(out.firstOffset, '40');
      assert.deepEqual(
        out.records.map((r) => [r.offset, r.timestamp, r.key?.toString() ?? null, r.value!.toString()]),
        [
          ['40', '1000', 'a', 'one'],
          ['41', '1005', null, 'two'],
        ],
      );
      assert.equal(out.records[0]!.headers.hk!.toString(), 'hv');
    }
  });
});
