// Bad input is refused with a Kafka error code, never a crash, and never reaches the log.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ErrorCode } from '../../src/protocol/errors.js';
import { Compression } from '../../src/protocol/records/batch-header.js';
import { buildBatchSync } from '../../src/protocol/records/builder.js';
import { validateBatches } from '../../src/protocol/records/batches.js';
import { prepareAppend } from '../../src/replication/append-validation.js';
import { partitionConfig } from '../../src/replication/partition-config.js';
import { decodeAll, fixture, lead, records } from './helpers.js';

const KNOWN_REFUSALS = new Set<number>([
  ErrorCode.CORRUPT_MESSAGE, ErrorCode.INVALID_RECORD, ErrorCode.MESSAGE_TOO_LARGE, ErrorCode.UNSUPPORTED_COMPRESSION_TYPE,
  ErrorCode.INVALID_TIMESTAMP, ErrorCode.RECORD_LIST_TOO_LARGE, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, ErrorCode.INVALID_PRODUCER_EPOCH,
]);

test('random and damaged record sets get a Kafka error and leave the log readable', { timeout: 120_000 }, async () => {
  const f = await fixture();
  try {
    await lead(f.rm, 't');
    const good = [
      records(['a', 'bb', 'ccc']),
      records(['x'.repeat(200), 'y'], { compression: Compression.gzip }),
      records(['p', 'q'], { compression: Compression.snappy, producerId: 3, producerEpoch: 0, baseSequence: 0 }),
    ];
    const damaged = fc.tuple(fc.constantFrom(...good), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }))
      .map(([base, flips]) => {
        const b = Buffer.from(base);
        for (const [at, v] of flips) b[at % b.length] = v;
        return b;
      });
    const truncated = fc.tuple(fc.constantFrom(...good), fc.nat()).map(([b, n]) => b.subarray(0, n % b.length));
    const noise = fc.uint8Array({ minLength: 0, maxLength: 300 }).map((a) => Buffer.from(a));
    await fc.assert(fc.asyncProperty(fc.oneof(damaged, truncated, noise), fc.constantFrom(2, 3, 9), async (buf, version) => {
      const [r] = await f.rm.appendRecords({ entries: [{ topic: 't', partition: 0, records: buf }], requiredAcks: 1, timeoutMs: 1000, produceVersion: version });
      assert.ok(r!.errorCode === ErrorCode.NONE || KNOWN_REFUSALS.has(r!.errorCode), `unexpected error ${r!.errorCode}`);
      if (r!.errorCode !== ErrorCode.NONE) assert.equal(r!.baseOffset, -1);
    }), { numRuns: 300 });
    // Whatever was accepted is well-formed in the log.
    const log = f.rm.getPartition('t', 0)!.log;
    const read = await log.read(0, 1 << 24, { minOneMessage: true });
    const all = read.records[0] ?? Buffer.alloc(0);
    const v = validateBatches(all, { source: 'log' });
    assert.equal(v.status, 'ok');
    await decodeAll(all.length > 0 ? all : null);
  } finally {
    await f.close();
  }
});

test('recompression keeps keys, values, headers, timestamps and producer fields', async () => {
  const batch = buildBatchSync(
    [
      { key: 'k1', value: 'v1', timestamp: 1000, headers: [{ key: 'h', value: 'x' }] },
      { key: null, value: null, timestamp: 1005 },
    ],
    { producerId: 9, producerEpoch: 2, baseSequence: 40, transactional: true, compression: Compression.lz4 },
  );
  const r = await prepareAppend(batch, { config: partitionConfig({ compressionType: 'gzip' }), now: 2000, produceVersion: 9 });
  assert.ok(r.ok);
  if (!r.ok) return;
  assert.ok(r.recompressed);
  const rs = await decodeAll(r.records);
  assert.deepEqual(rs.map((x) => [x.key?.toString() ?? null, x.value?.toString() ?? null, x.timestamp, x.headers.map((h) => [h.key, h.value?.toString()])]), [
    ['k1', 'v1', 1000, [['h', 'x']]],
    [null, null, 1005, []],
  ]);
  const v = validateBatches(r.records, { source: 'client' });
  assert.equal(v.status, 'ok');
  if (v.status !== 'ok') return;
  const h = v.batches[0]!.header;
  assert.deepEqual([h.attributes & 7, h.producerId, h.producerEpoch, h.baseSequence, (h.attributes & 0x10) !== 0], [Compression.gzip, 9, 2, 40, true]);
  const same = await prepareAppend(Buffer.from(batch), { config: partitionConfig({ compressionType: 'lz4' }), now: 2000, produceVersion: 9 });
  assert.ok(same.ok && !same.recompressed && same.records.equals(batch), 'same codec: the bytes are kept');
});
