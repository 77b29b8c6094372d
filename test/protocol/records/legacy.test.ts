import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { ErrorCode } from '../../../src/protocol/errors.js';
import { Compression, readBatchHeader } from '../../../src/protocol/records/batch-header.js';
import { decodeBatchRecords } from '../../../src/protocol/records/batch-records.js';
import { validateBatches, validateBatchesForAppend } from '../../../src/protocol/records/batches.js';
import { decompressSync } from '../../../src/protocol/records/compression.js';
import {
  LegacyFormatError,
  buildLegacyMessageSet,
  convertLegacyToV2,
  crc32,
  crc32Portable,
  decodeLegacyMessages,
} from '../../../src/protocol/records/legacy.js';

const require = createRequire(import.meta.url);
const MessageSet = require('kafkajs/src/protocol/messageSet/index.js') as (o: {
  messageVersion: number;
  compression?: number;
  entries: { key: Buffer | null; value: Buffer; timestamp?: number }[];
}) => { buffer: Buffer };

const msgs = [
  { key: 'a', value: 'first', timestamp: 1_600_000_000_000 },
  { key: null, value: 'second', timestamp: 1_600_000_000_005 },
  { key: 'c', value: null, timestamp: 1_600_000_000_003 },
];

function expectCode(fn: () => unknown, code: number): void {
  assert.throws(fn, (e) => e instanceof LegacyFormatError && e.errorCode === code);
}

describe('legacy CRC-32', () => {
  it('matches the IEEE check value, natively and portably', () => {
    assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
    assert.equal(crc32Portable(Buffer.from('123456789')), 0xcbf43926);
    const r = Buffer.from(Array.from({ length: 999 }, (_, i) => (i * 31) & 0xff));
    assert.equal(crc32Portable(r), crc32(r));
  });
});

describe('legacy message sets', () => {
  it('decode magic 0 and 1 message sets written by kafkajs', () => {
    for (const messageVersion of [0, 1]) {
      const set = MessageSet({
        messageVersion,
        entries: [
          { key: Buffer.from('k1'), value: Buffer.from('v1'), timestamp: 1234 },
          { key: null, value: Buffer.from('v2'), timestamp: 1240 },
        ],
      }).buffer;
      assert.deepEqual(validateBatches(set), { status: 'legacy', magic: messageVersion });
      const out = decodeLegacyMessages(set);
      assert.deepEqual(
        out.map((m) => [m.magic, m.timestamp, m.key?.toString() ?? null, m.value?.toString()]),
        [
          [messageVersion, messageVersion === 1 ? 1234 : -1, 'k1', 'v1'],
          [messageVersion, messageVersion === 1 ? 1240 : -1, null, 'v2'],
        ],
      );
    }
  });

  it('decode compressed wrappers (gzip, snappy, lz4) for both magics, resolving inner offsets', () => {
    for (const magic of [0, 1] as const) {
      for (const compression of [Compression.gzip, Compression.snappy, Compression.lz4]) {
        const set = buildLegacyMessageSet(msgs, { magic, compression });
        const out = decodeLegacyMessages(set);
        assert.deepEqual(
          out.map((m) => [m.offset, m.key?.toString() ?? null, m.value?.toString() ?? null]),
          [
            [0, 'a', 'first'],
            [1, null, 'second'],
            [2, 'c', null],
          ],
          `magic ${magic} codec ${compression}`,
        );
        if (magic === 1) assert.deepEqual(out.map((m) => m.timestamp), msgs.map((m) => m.timestamp));
      }
    }
  });

  it('read magic 0 lz4 wrappers with the pre-KIP-57 header checksum', () => {
    const set = buildLegacyMessageSet(msgs, { magic: 0, compression: Compression.lz4, brokenLz4Checksum: true });
    assert.equal(decodeLegacyMessages(set).length, 3);
    // The frame inside really carries the wrong checksum: a plain frame decoder refuses it.
    const frame = set.subarray(12 + 4 + 1 + 1 + 4 + 4);
    assert.throws(() => decompressSync(Compression.lz4, frame, 1 << 20), /lz4/);
  });

  it('refuse damaged or malformed sets with Kafka codes', () => {
    const good = buildLegacyMessageSet(msgs, { magic: 1 });
    const badCrc = Buffer.from(good);
    badCrc[good.length - 1] ^= 1;
    expectCode(() => decodeLegacyMessages(badCrc), ErrorCode.CORRUPT_MESSAGE);
    expectCode(() => decodeLegacyMessages(good.subarray(0, good.length - 2)), ErrorCode.CORRUPT_MESSAGE);
    assert.equal(decodeLegacyMessages(good.subarray(0, good.length - 2), { allowTruncatedTail: true }).length, 2);
    const tiny = Buffer.from(good);
    tiny.writeInt32BE(5, 8);
    expectCode(() => decodeLegacyMessages(tiny), ErrorCode.CORRUPT_MESSAGE);
    const zstd = buildLegacyMessageSet(msgs, { magic: 1, compression: Compression.gzip });
    zstd[17] = (zstd[17]! & ~7) | Compression.zstd; // CRC now wrong too; fix it
    zstd.writeUInt32BE(crc32(zstd.subarray(16)), 12);
    expectCode(() => decodeLegacyMessages(zstd), ErrorCode.UNSUPPORTED_COMPRESSION_TYPE);
  });

  it('bound wrapper decompression', () => {
    const big = buildLegacyMessageSet([{ value: Buffer.alloc(1 << 20) }], { magic: 1, compression: Compression.gzip });
    expectCode(() => decodeLegacyMessages(big, { maxUncompressedBytes: 1000 }), ErrorCode.MESSAGE_TOO_LARGE);
  });
});

describe('convertLegacyToV2', () => {
  it('up-converts to one valid v2 batch keeping keys, values and magic 1 timestamps', async () => {
    for (const magic of [0, 1] as const) {
      for (const compression of [Compression.none, Compression.gzip, Compression.lz4]) {
        const set = buildLegacyMessageSet(msgs, { magic, compression });
        const r = await convertLegacyToV2(set);
        assert.equal(r.status, 'ok');
        if (r.status !== 'ok') continue;
        assert.equal(r.recordCount, 3);
        assert.equal(r.magic, magic);
        const v = await validateBatchesForAppend(r.batch);
        assert.equal(v.status, 'ok', v.status === 'invalid' ? v.message : '');
        const h = readBatchHeader(r.batch, 0);
        assert.equal(h.attributes & 7, compression, 'keeps the producer codec');
        assert.equal(h.producerId, -1);
        const recs = await decodeBatchRecords(r.batch, { position: 0, size: r.batch.length, header: h });
        assert.deepEqual(
          recs.map((x) => [x.offset, x.timestamp, x.key?.toString() ?? null, x.value?.toString() ?? null]),
          msgs.map((m, i) => [i, magic === 1 ? m.timestamp : -1, m.key, m.value]),
        );
      }
    }
  });

  it('recompresses to the requested codec and reports failures as data', async () => {
    const r = await convertLegacyToV2(buildLegacyMessageSet(msgs, { magic: 1 }), { compression: Compression.zstd });
    assert.equal(r.status, 'ok');
    if (r.status === 'ok') assert.equal(readBatchHeader(r.batch, 0).attributes & 7, Compression.zstd);
    const broken = Buffer.from(buildLegacyMessageSet(msgs, { magic: 1 }));
    broken[broken.length - 1] ^= 1;
    const f = await convertLegacyToV2(broken);
    assert.equal(f.status, 'invalid');
    if (f.status === 'invalid') assert.equal(f.errorCode, ErrorCode.CORRUPT_MESSAGE);
  });
});
