import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ErrorCode } from '../../../src/protocol/errors.js';
import {
  ATTRIBUTES_OFFSET,
  Compression,
  CRC_OFFSET,
  LAST_OFFSET_DELTA_OFFSET,
  LENGTH_OFFSET,
  MAGIC_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  PRODUCER_EPOCH_OFFSET,
  RECORD_BATCH_OVERHEAD,
  RECORDS_COUNT_OFFSET,
  computeBatchCrc,
  readBatchHeader,
  writeInt64,
} from '../../../src/protocol/records/batch-header.js';
import {
  assignOffsets,
  iterateBatches,
  validateBatches,
  validateBatchesForAppend,
  type BatchValidation,
  type ValidateOptions,
} from '../../../src/protocol/records/batches.js';
import { decodeBatchRecords } from '../../../src/protocol/records/batch-records.js';
import { buildBatch, buildBatchSync, buildControlBatch, type BatchRecordInput } from '../../../src/protocol/records/builder.js';

const recs = (n: number, ts = 1_700_000_000_000): BatchRecordInput[] =>
  Array.from({ length: n }, (_, i) => ({ key: `k${i}`, value: `value-${i}`, timestamp: ts + i }));

/** Recomputes the CRC of the batch at 0 after a test has tampered with it. */
function recrc(b: Buffer): Buffer {
  b.writeUInt32BE(computeBatchCrc(b, 0, b.length), CRC_OFFSET);
  return b;
}

/** Replaces a batch's records section with `body` and sets the codec (the CRC is made right). */
function rebatch(batch: Buffer, codec: number, body: Buffer): Buffer {
  const out = Buffer.concat([batch.subarray(0, RECORD_BATCH_OVERHEAD), body]);
  out.writeInt32BE(out.length - 12, LENGTH_OFFSET);
  out.writeInt16BE((out.readInt16BE(ATTRIBUTES_OFFSET) & ~7) | codec, ATTRIBUTES_OFFSET);
  return recrc(out);
}

function expectInvalid(v: BatchValidation, code: number, pattern?: RegExp): void {
  assert.equal(v.status, 'invalid', `expected a failure, got ${v.status}`);
  if (v.status !== 'invalid') return;
  assert.equal(v.errorCode, code, v.message);
  if (pattern) assert.match(v.message, pattern);
}

const check = (b: Buffer, opts?: ValidateOptions): BatchValidation => validateBatches(b, opts);

describe('iterateBatches', () => {
  it('yields each batch in place and stops at a partial tail', () => {
    const a = buildBatchSync(recs(3), { baseOffset: 0 });
    const b = buildBatchSync(recs(2), { baseOffset: 3 });
    const buf = Buffer.concat([a, b, b.subarray(0, 30)]);
    const seen = [...iterateBatches(buf)];
    assert.deepEqual(
      seen.map((s) => [s.position, s.size, s.header.baseOffset, s.header.recordCount]),
      [
        [0, a.length, 0, 3],
        [a.length, b.length, 3, 2],
      ],
    );
  });

  it('throws on a magic other than 2 and on a length below the minimum', () => {
    const a = buildBatchSync(recs(1));
    const m = Buffer.from(a);
    m[MAGIC_OFFSET] = 3;
    assert.throws(() => [...iterateBatches(m)], /magic 3/);
    const l = Buffer.from(a);
    l.writeInt32BE(10, LENGTH_OFFSET);
    assert.throws(() => [...iterateBatches(l)], /length 10/);
  });
});

describe('validateBatches: well-formed input', () => {
  it('accepts a producer batch and reports what it found', () => {
    const b = buildBatchSync(recs(5), { producerId: 9, producerEpoch: 0, baseSequence: 0 });
    const v = check(b);
    assert.equal(v.status, 'ok');
    if (v.status !== 'ok') return;
    assert.equal(v.validBytes, b.length);
    assert.equal(v.recordCount, 5);
    assert.equal(v.batches[0]!.recordsChecked, true);
    assert.equal(v.batches[0]!.maxTimestamp, 1_700_000_000_004);
    assert.equal(v.batches[0]!.offsetDeltaOfMaxTimestamp, 4);
  });

  it('accepts a partial tail only when asked, reporting the bytes of complete batches', () => {
    const a = buildBatchSync(recs(2));
    const buf = Buffer.concat([a, a.subarray(0, 40)]);
    expectInvalid(check(buf), ErrorCode.CORRUPT_MESSAGE, /overruns/);
    const v = check(buf, { allowTruncatedTail: true });
    assert.equal(v.status, 'ok');
    if (v.status === 'ok') assert.equal(v.validBytes, a.length);
    const tiny = Buffer.concat([a, Buffer.alloc(5)]);
    expectInvalid(check(tiny), ErrorCode.CORRUPT_MESSAGE, /too few/);
    assert.equal(check(tiny, { allowTruncatedTail: true }).status, 'ok');
  });

  it('accepts compacted log batches (gaps, and no records at all) only from a log', () => {
    const gappy = buildBatchSync(
      [
        { key: 'a', value: '1', offsetDelta: 0 },
        { key: 'b', value: '2', offsetDelta: 4 },
      ],
      { lastOffsetDelta: 6 },
    );
    assert.equal(check(gappy, { source: 'log' }).status, 'ok');
    expectInvalid(check(gappy), ErrorCode.INVALID_RECORD, /does not match record count/);
    const empty = buildBatchSync([], { lastOffsetDelta: 3, producerId: 4, producerEpoch: 0, baseSequence: 0 });
    assert.equal(check(empty, { source: 'log' }).status, 'ok');
    expectInvalid(check(empty), ErrorCode.INVALID_RECORD, /no records/);
  });

  it('reports the valid prefix when a later batch is damaged (log recovery)', () => {
    const a = buildBatchSync(recs(2), { baseOffset: 0 });
    const b = buildBatchSync(recs(2), { baseOffset: 2 });
    const buf = Buffer.concat([a, b]);
    buf[buf.length - 1] ^= 0xff;
    const v = check(buf, { source: 'log', allowTruncatedTail: true });
    expectInvalid(v, ErrorCode.CORRUPT_MESSAGE, /CRC/);
    if (v.status === 'invalid') {
      assert.equal(v.validBytes, a.length);
      assert.equal(v.batches.length, 1);
      assert.equal(v.batchIndex, 1);
      assert.equal(v.position, a.length);
    }
  });

  it('hands magic 0/1 input to the legacy path', () => {
    const a = Buffer.from(buildBatchSync(recs(1)));
    a[MAGIC_OFFSET] = 1;
    assert.deepEqual(check(a), { status: 'legacy', magic: 1 });
    a[MAGIC_OFFSET] = 0;
    assert.deepEqual(check(a), { status: 'legacy', magic: 0 });
  });

  it('accepts a transaction marker from the broker itself', () => {
    const m = buildControlBatch({ type: 'abort', producerId: 3, producerEpoch: 1, coordinatorEpoch: 2 });
    assert.equal(check(m, { source: 'internal' }).status, 'ok');
    assert.equal(check(m, { source: 'log' }).status, 'ok');
  });
});

describe('validateBatches: malformed input', () => {
  const good = (): Buffer => Buffer.from(buildBatchSync(recs(3), { producerId: 1, producerEpoch: 0, baseSequence: 0 }));

  it('bad CRC → CORRUPT_MESSAGE', () => {
    const b = good();
    b[b.length - 2] ^= 1;
    expectInvalid(check(b), ErrorCode.CORRUPT_MESSAGE, /CRC/);
  });

  it('short batch, length beyond the buffer, negative or tiny length → CORRUPT_MESSAGE', () => {
    expectInvalid(check(good().subarray(0, 11)), ErrorCode.CORRUPT_MESSAGE);
    const beyond = good();
    beyond.writeInt32BE(beyond.length, LENGTH_OFFSET);
    expectInvalid(check(beyond), ErrorCode.CORRUPT_MESSAGE, /overruns/);
    const negative = good();
    negative.writeInt32BE(-5, LENGTH_OFFSET);
    expectInvalid(check(negative), ErrorCode.CORRUPT_MESSAGE, /below the minimum/);
    const tiny = good();
    tiny.writeInt32BE(48, LENGTH_OFFSET);
    expectInvalid(check(tiny), ErrorCode.CORRUPT_MESSAGE, /below the minimum/);
    expectInvalid(check(Buffer.alloc(0)), ErrorCode.INVALID_RECORD, /no record batch/);
  });

  it('unknown magic → CORRUPT_MESSAGE; legacy magic after a v2 batch too', () => {
    for (const magic of [3, -1, 0x7f]) {
      const b = good();
      b.writeInt8(magic, MAGIC_OFFSET);
      expectInvalid(check(b), ErrorCode.CORRUPT_MESSAGE, /magic/);
    }
    const second = good();
    second[MAGIC_OFFSET] = 1;
    expectInvalid(check(Buffer.concat([good(), second])), ErrorCode.CORRUPT_MESSAGE, /magic 1/);
  });

  it('compression codes 5–7 → UNSUPPORTED_COMPRESSION_TYPE; zstd when not allowed too', () => {
    for (const codec of [5, 6, 7]) {
      const b = good();
      b.writeInt16BE(codec, ATTRIBUTES_OFFSET);
      expectInvalid(check(recrc(b)), ErrorCode.UNSUPPORTED_COMPRESSION_TYPE, new RegExp(`code ${codec}`));
    }
  });

  it('zstd refused when the request version predates it', async () => {
    const z = await buildBatch(recs(2), { compression: Compression.zstd });
    expectInvalid(check(z, { allowZstd: false }), ErrorCode.UNSUPPORTED_COMPRESSION_TYPE, /zstd/);
  });

  it('control batches: refused from clients, exactly one record from the broker', () => {
    const two = buildBatchSync(recs(2), { control: true, transactional: true, producerId: 1, producerEpoch: 0 });
    expectInvalid(check(two, { source: 'internal' }), ErrorCode.INVALID_RECORD, /exactly one record/);
    expectInvalid(check(two, { source: 'log' }), ErrorCode.CORRUPT_MESSAGE, /several records/);
    const marker = buildControlBatch({ type: 'commit', producerId: 1, producerEpoch: 0, coordinatorEpoch: 0 });
    expectInvalid(check(marker), ErrorCode.INVALID_RECORD, /control/);
  });

  it('record count inconsistent with lastOffsetDelta, or negative → INVALID_RECORD / CORRUPT_MESSAGE', () => {
    const b = good();
    b.writeInt32BE(5, LAST_OFFSET_DELTA_OFFSET);
    expectInvalid(check(recrc(b)), ErrorCode.INVALID_RECORD, /last offset delta 5/);
    const c = good();
    c.writeInt32BE(-1, RECORDS_COUNT_OFFSET);
    expectInvalid(check(recrc(c)), ErrorCode.CORRUPT_MESSAGE, /record count -1/);
    const d = good();
    d.writeInt32BE(4, RECORDS_COUNT_OFFSET);
    d.writeInt32BE(3, LAST_OFFSET_DELTA_OFFSET);
    const v = check(recrc(d));
    expectInvalid(v, ErrorCode.INVALID_RECORD);
  });

  it('producer id / epoch / sequence consistency → INVALID_RECORD', () => {
    const noEpoch = good();
    noEpoch.writeInt16BE(-1, PRODUCER_EPOCH_OFFSET);
    expectInvalid(check(recrc(noEpoch)), ErrorCode.INVALID_RECORD, /epoch/);
    const noSeq = Buffer.from(buildBatchSync(recs(1), { producerId: 5, producerEpoch: 0 }));
    expectInvalid(check(noSeq), ErrorCode.INVALID_RECORD, /sequence/);
    const txnNoPid = buildBatchSync(recs(1), { transactional: true });
    expectInvalid(check(txnNoPid), ErrorCode.INVALID_RECORD, /transactional/);
    const negativePid = buildBatchSync(recs(1), { producerId: -7 });
    expectInvalid(check(negativePid), ErrorCode.INVALID_RECORD, /producer id -7/);
  });

  it('record length past the end, over-long varint in a record → INVALID_RECORD with the record index', () => {
    const b = good();
    // The second record starts right after the first; make its length point past the batch.
    const firstLen = b[RECORD_BATCH_OVERHEAD]! >> 1;
    b[RECORD_BATCH_OVERHEAD + 1 + firstLen] = 0x7e;
    const v = check(recrc(b));
    expectInvalid(v, ErrorCode.INVALID_RECORD, /record 1/);
    if (v.status === 'invalid') assert.equal(v.recordIndex, 1);
    const o = good();
    // Overwrite the first record's attributes..offsetDelta with an over-long varint.
    Buffer.from('ffffffffff', 'hex').copy(o, RECORD_BATCH_OVERHEAD + 2);
    expectInvalid(check(recrc(o)), ErrorCode.INVALID_RECORD, /record 0/);
  });

  it('batch larger than max.message.bytes → MESSAGE_TOO_LARGE; a second batch where one is allowed → INVALID_RECORD', () => {
    const b = good();
    expectInvalid(check(b, { maxBatchSize: b.length - 1 }), ErrorCode.MESSAGE_TOO_LARGE);
    assert.equal(check(b, { maxBatchSize: b.length }).status, 'ok');
    expectInvalid(check(Buffer.concat([b, good()]), { requireSingleBatch: true }), ErrorCode.INVALID_RECORD, /one batch/);
  });

  it('timestamps outside the bounds → INVALID_TIMESTAMP; null keys on a compacted topic → INVALID_RECORD', () => {
    const now = 1_700_000_000_000;
    const b = buildBatchSync([{ value: 'x', timestamp: now - 10_000 }, { key: 'k', value: 'y', timestamp: now }]);
    const bounds = { now, beforeMaxMs: 5_000, afterMaxMs: 5_000 };
    expectInvalid(check(b, { timestampBounds: bounds }), ErrorCode.INVALID_TIMESTAMP);
    assert.equal(check(b, { timestampBounds: { ...bounds, beforeMaxMs: 10_000 } }).status, 'ok');
    const v = check(b, { requireKeys: true });
    expectInvalid(v, ErrorCode.INVALID_RECORD, /null key/);
    if (v.status === 'invalid') assert.equal(v.recordIndex, 0);
  });
});

describe('validateBatchesForAppend (compressed batches)', () => {
  it('checks the records inside compressed batches', async () => {
    const plain = Buffer.from(buildBatchSync(recs(3), { producerId: 1, producerEpoch: 0, baseSequence: 0 }));
    const section = Buffer.from(plain.subarray(RECORD_BATCH_OVERHEAD));
    section[0] = 0x7e; // first record's length now runs past the section
    const bad = rebatch(plain, Compression.gzip, gzipSync(section));
    assert.equal(validateBatches(bad).status, 'ok', 'the synchronous pass cannot see inside');
    const v = await validateBatchesForAppend(bad);
    expectInvalid(v, ErrorCode.INVALID_RECORD, /record 0/);
    const notGzip = rebatch(plain, Compression.gzip, Buffer.from('not gzip at all'));
    expectInvalid(await validateBatchesForAppend(notGzip), ErrorCode.INVALID_RECORD, /gzip/);
  });

  it('refuses a batch whose records decompress beyond the bound → MESSAGE_TOO_LARGE', async () => {
    const big = await buildBatch([{ value: Buffer.alloc(1 << 20) }], { compression: Compression.gzip });
    assert.ok(big.length < 4096);
    expectInvalid(await validateBatchesForAppend(big, { maxUncompressedBytes: 64 * 1024 }), ErrorCode.MESSAGE_TOO_LARGE);
    assert.equal((await validateBatchesForAppend(big, { maxUncompressedBytes: 2 << 20 })).status, 'ok');
  });

  it('fills in the max timestamp found inside compressed batches', async () => {
    for (const codec of [Compression.gzip, Compression.snappy, Compression.lz4, Compression.zstd]) {
      const b = await buildBatch(
        [
          { value: 'a', timestamp: 50 },
          { value: 'b', timestamp: 90 },
          { value: 'c', timestamp: 70 },
        ],
        { compression: codec },
      );
      const v = await validateBatchesForAppend(b);
      assert.equal(v.status, 'ok');
      if (v.status !== 'ok') continue;
      assert.equal(v.batches[0]!.recordsChecked, true);
      assert.equal(v.batches[0]!.maxTimestamp, 90);
      assert.equal(v.batches[0]!.offsetDeltaOfMaxTimestamp, 1);
    }
  });
});

describe('assignOffsets', () => {
  it('assigns offsets and the leader epoch in place; the CRC stays valid', async () => {
    const a = buildBatchSync(recs(3));
    const b = await buildBatch(recs(2, 1_800_000_000_000), { compression: Compression.lz4 });
    const buf = Buffer.concat([a, b]);
    const v = await validateBatchesForAppend(buf);
    assert.equal(v.status, 'ok');
    if (v.status !== 'ok') return;
    const r = assignOffsets(buf, v.batches, { firstOffset: 1000, partitionLeaderEpoch: 7 });
    assert.equal(r.firstOffset, 1000);
    assert.equal(r.lastOffset, 1004);
    assert.equal(r.recordCount, 5);
    assert.equal(r.maxTimestamp, 1_800_000_000_001);
    assert.equal(r.offsetOfMaxTimestamp, 1004);
    assert.deepEqual(
      r.batches.map((x) => [x.baseOffset, x.lastOffset]),
      [
        [1000, 1002],
        [1003, 1004],
      ],
    );
    const again = validateBatches(buf, { source: 'log' });
    assert.equal(again.status, 'ok', 'patched batches still pass CRC validation');
    const h0 = readBatchHeader(buf, 0);
    const h1 = readBatchHeader(buf, a.length);
    assert.deepEqual([h0.baseOffset, h0.partitionLeaderEpoch, h1.baseOffset, h1.partitionLeaderEpoch], [1000, 7, 1003, 7]);
    const decoded = await decodeBatchRecords(buf, { position: a.length, size: b.length, header: h1 });
    assert.deepEqual(
      decoded.map((d) => d.offset),
      [1003, 1004],
    );
  });

  it('applies LogAppendTime: type bit, maxTimestamp, CRC recomputed, records read the append time', async () => {
    const b = buildBatchSync(recs(3));
    const v = validateBatches(b);
    assert.equal(v.status, 'ok');
    if (v.status !== 'ok') return;
    const r = assignOffsets(b, v.batches, { firstOffset: 0, partitionLeaderEpoch: 1, logAppendTime: 1_234_567 });
    assert.equal(r.maxTimestamp, 1_234_567);
    assert.equal(r.offsetOfMaxTimestamp, 0);
    const h = readBatchHeader(b, 0);
    assert.equal(h.attributes & 0x08, 0x08);
    assert.equal(h.maxTimestamp, 1_234_567);
    assert.equal(validateBatches(b, { source: 'log' }).status, 'ok');
    const decoded = await decodeBatchRecords(b, { position: 0, size: b.length, header: h });
    assert.deepEqual(
      decoded.map((d) => d.timestamp),
      [1_234_567, 1_234_567, 1_234_567],
    );
  });

  it('corrects a producer-written maxTimestamp that disagrees with the records (CreateTime)', () => {
    const b = Buffer.from(buildBatchSync(recs(3)));
    writeInt64(b, MAX_TIMESTAMP_OFFSET, 5);
    recrc(b);
    const v = validateBatches(b);
    assert.equal(v.status, 'ok');
    if (v.status !== 'ok') return;
    assignOffsets(b, v.batches, { firstOffset: 0, partitionLeaderEpoch: 0 });
    assert.equal(readBatchHeader(b, 0).maxTimestamp, 1_700_000_000_002);
    assert.equal(validateBatches(b, { source: 'log' }).status, 'ok');
  });
});

describe('hostile input never crashes the validator', () => {
  const fcOpts = { numRuns: 150 };

  it('arbitrary bytes give a typed result under every option set', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 400 }),
        fc.constantFrom<ValidateOptions>({}, { source: 'log', allowTruncatedTail: true }, { source: 'internal' }),
        (arr, opts) => {
          const v = validateBatches(Buffer.from(arr), opts);
          assert.ok(['ok', 'invalid', 'legacy'].includes(v.status));
        },
      ),
      fcOpts,
    );
  });

  it('batches damaged anywhere (CRC made right again) give a typed result, compressed or not', async () => {
    const originals = await Promise.all(
      [Compression.none, Compression.gzip, Compression.snappy, Compression.lz4, Compression.zstd].map((compression) =>
        buildBatch(recs(6), { compression, producerId: 2, producerEpoch: 0, baseSequence: 0 }),
      ),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.nat(originals.length - 1),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }),
        async (which, flips) => {
          const b = Buffer.from(originals[which]!);
          for (const [at, x] of flips) b[ATTRIBUTES_OFFSET + (at % (b.length - ATTRIBUTES_OFFSET))] ^= x;
          const v = await validateBatchesForAppend(recrc(b), { maxUncompressedBytes: 1 << 20 });
          assert.ok(v.status === 'ok' || v.status === 'invalid');
        },
      ),
      fcOpts,
    );
  });
});
