import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeFetchedRecords } from '../../src/client/fetch-records.js';
import { buildBatch, buildBatchSync, buildControlBatch } from '../../src/protocol/records/builder.js';
import { Compression, CRC_OFFSET, patchBaseOffset } from '../../src/protocol/records/batch-header.js';
import { buildLegacyMessageSet } from '../../src/protocol/records/legacy.js';
import { isStrataError } from '../../src/protocol/strata-error.js';

const at = (batch: Buffer, baseOffset: number): Buffer => {
  patchBaseOffset(batch, 0, baseOffset);
  return batch;
};
const values = (d: { records: readonly { value: Buffer | null }[] }): string[] => d.records.map((r) => r.value!.toString());
const where = { topic: 't', partition: 2 };

test('records of several batches come back with offsets, keys, headers and timestamps; a partial tail is ignored', async () => {
  const b1 = at(buildBatchSync([{ key: 'k0', value: 'v0', timestamp: 1000 }, { value: 'v1', timestamp: 1001, headers: [{ key: 'h', value: 'x' }] }]), 10);
  const b2 = at(await buildBatch([{ value: 'v2', timestamp: 1002 }], { compression: Compression.gzip }), 12);
  const b3 = at(buildBatchSync([{ value: 'v3' }]), 13);
  const bytes = Buffer.concat([b1, b2, b3.subarray(0, b3.length - 5)]);
  const d = await decodeFetchedRecords(bytes, { ...where, fetchOffset: 10 });
  assert.deepEqual(values(d), ['v0', 'v1', 'v2']);
  assert.deepEqual(d.records.map((r) => r.offset), [10, 11, 12]);
  assert.equal(d.records[0]!.key!.toString(), 'k0');
  assert.equal(d.records[1]!.key, null);
  assert.deepEqual(d.records[1]!.headers.map((h) => [h.key, h.value!.toString()]), [['h', 'x']]);
  assert.deepEqual(d.records.map((r) => r.timestamp), [1000, 1001, 1002]);
  assert.ok(d.records.every((r) => r.topic === 't' && r.partition === 2 && r.timestampType === 'CreateTime'));
  assert.equal(d.nextOffset, 13, 'the next fetch starts at the partial batch');
  assert.equal(d.truncatedBytes, b3.length - 5);
});

test('records before the fetch offset inside the first batch are dropped', async () => {
  const b = at(buildBatchSync([{ value: 'a' }, { value: 'b' }, { value: 'c' }]), 100);
  const d = await decodeFetchedRecords(b, { ...where, fetchOffset: 102 });
  assert.deepEqual(values(d), ['c']);
  assert.equal(d.nextOffset, 103);
});

test('only a partial batch, or nothing: no records and the position stays', async () => {
  const b = at(buildBatchSync([{ value: 'a' }]), 7);
  assert.deepEqual(await decodeFetchedRecords(b.subarray(0, 30), { ...where, fetchOffset: 7 }), { records: [], nextOffset: 7, truncatedBytes: 30 });
  assert.deepEqual(await decodeFetchedRecords(null, { ...where, fetchOffset: 7 }), { records: [], nextOffset: 7, truncatedBytes: 0 });
});

test('control batches are skipped but move the position; read_committed drops aborted transactions', async () => {
  const txn = (pid: number, value: string, base: number): Buffer =>
    at(buildBatchSync([{ value }], { producerId: pid, producerEpoch: 0, baseSequence: 0, transactional: true }), base);
  const bytes = Buffer.concat([
    txn(1, 'aborted', 0),
    txn(2, 'committed', 1),
    at(buildControlBatch({ type: 'abort', producerId: 1, producerEpoch: 0, coordinatorEpoch: 0 }), 2),
    at(buildControlBatch({ type: 'commit', producerId: 2, producerEpoch: 0, coordinatorEpoch: 0 }), 3),
    txn(1, 'later', 4),
  ]);
  const all = await decodeFetchedRecords(bytes, { ...where, fetchOffset: 0 });
  assert.deepEqual(values(all), ['aborted', 'committed', 'later']);
  assert.equal(all.nextOffset, 5);
  const committed = await decodeFetchedRecords(bytes, { ...where, fetchOffset: 0, abortedTransactions: [{ producerId: 1, firstOffset: 0 }] });
  assert.deepEqual(values(committed), ['committed', 'later'], 'the abort marker ends the aborted transaction');
  assert.equal(committed.nextOffset, 5);
});

test('a batch whose CRC does not match is refused', async () => {
  const b = at(buildBatchSync([{ value: 'a' }]), 0);
  b[b.length - 1]! ^= 0xff;
  await assert.rejects(decodeFetchedRecords(b, { ...where, fetchOffset: 0 }), (e: unknown) => isStrataError(e, 'ERR_CORRUPT_RECORD') && /CRC/.test(e.message));
  const c = at(buildBatchSync([{ value: 'a' }]), 0);
  c.writeUInt32BE(0, CRC_OFFSET);
  await assert.rejects(decodeFetchedRecords(c, { ...where, fetchOffset: 0 }), /CRC/);
});

test('legacy message sets (magic 0 and 1) from old brokers are decoded', async () => {
  const v1 = buildLegacyMessageSet([{ key: 'k', value: 'one', timestamp: 5 }, { value: 'two', timestamp: 6 }], { magic: 1 });
  const d = await decodeFetchedRecords(v1, { ...where, fetchOffset: 1 });
  assert.deepEqual(values(d), ['two']);
  assert.equal(d.nextOffset, 2);
  const v0 = buildLegacyMessageSet([{ value: 'zero' }], { magic: 0, compression: Compression.gzip });
  assert.deepEqual(values(await decodeFetchedRecords(v0, { ...where, fetchOffset: 0 })), ['zero']);
});
