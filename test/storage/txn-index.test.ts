import { test } from 'node:test';
import assert from 'node:assert/strict';
import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ABORTED_TXN_SIZE,
  TransactionIndex,
  decodeAbortedTxn,
  encodeAbortedTxn,
  type AbortedTxn,
} from '../../src/storage/txn-index.js';
import { isStrataError } from '../../src/protocol/strata-error.js';

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'strata-txnidx-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const exists = (p: string): Promise<boolean> => access(p).then(() => true, () => false);
const txn = (producerId: number, firstOffset: number, lastOffset: number, lastStableOffset: number): AbortedTxn => ({
  producerId,
  firstOffset,
  lastOffset,
  lastStableOffset,
});

test('an entry is 34 bytes exactly as Kafka lays it out', () => {
  const bytes = encodeAbortedTxn(txn(0x0102030405, 0x10, 0x2000000001, 7));
  assert.equal(bytes.length, ABORTED_TXN_SIZE);
  const expected = Buffer.from(
    '0000' + // version 0
      '0000000102030405' + // producerId
      '0000000000000010' + // firstOffset
      '0000002000000001' + // lastOffset
      '0000000000000007', // lastStableOffset
    'hex',
  );
  assert.deepEqual(bytes, expected);
  assert.deepEqual(decodeAbortedTxn(expected, 0), txn(0x0102030405, 0x10, 0x2000000001, 7));
});

test('the file is created on first append; entries read back in order', () =>
  withDir(async (dir) => {
    const path = join(dir, '00000000000000000000.txnindex');
    const idx = new TransactionIndex(0, path);
    assert.deepEqual(await idx.allAbortedTxns(), []);
    assert.equal(await exists(path), false);
    const entries = [txn(1, 0, 10, 11), txn(2, 5, 20, 21), txn(1, 30, 40, 41)];
    for (const e of entries) await idx.append(e);
    assert.equal((await readFile(path)).length, 3 * ABORTED_TXN_SIZE);
    assert.deepEqual(await idx.allAbortedTxns(), entries);
    assert.equal(await idx.sizeInBytes(), 102);
    // A fresh instance reads the same from disk.
    assert.deepEqual(await new TransactionIndex(0, path).allAbortedTxns(), entries);
  }));

test('appends must increase the last offset', () =>
  withDir(async (dir) => {
    const path = join(dir, 'x.txnindex');
    const idx = new TransactionIndex(0, path);
    await idx.append(txn(1, 0, 10, 11));
    await assert.rejects(idx.append(txn(2, 0, 10, 11)), (e) => isStrataError(e, 'ERR_STATE'));
    await assert.rejects(idx.append(txn(2, 0, 9, 11)), (e) => isStrataError(e, 'ERR_STATE'));
    // Also checked against what was on disk before this instance existed.
    await assert.rejects(new TransactionIndex(0, path).append(txn(2, 0, 5, 6)), (e) => isStrataError(e, 'ERR_STATE'));
    await idx.append(txn(2, 0, 11, 12));
    assert.equal((await idx.allAbortedTxns()).length, 2);
  }));

test('collectAbortedTxns returns overlapping transactions and whether the search is complete', () =>
  withDir(async (dir) => {
    const idx = new TransactionIndex(100, join(dir, 'a.txnindex'));
    // producer 1 aborted [90, 110] with LSO 95 (producer 2's transaction was still open at 95)
    await idx.append(txn(1, 90, 110, 95));
    // producer 2 aborted [95, 120] with LSO 121
    await idx.append(txn(2, 95, 120, 121));
    // producer 3 aborted [130, 140] with LSO 141
    await idx.append(txn(3, 130, 140, 141));

    let r = await idx.collectAbortedTxns(100, 115);
    // Both first entries overlap [100, 115); the second has LSO 121 ≥ 115: nothing later can overlap.
    assert.deepEqual(r.abortedTransactions.map((t) => t.producerId), [1, 2]);
    assert.equal(r.isComplete, true);

    r = await idx.collectAbortedTxns(111, 125);
    assert.deepEqual(r.abortedTransactions.map((t) => t.producerId), [2]);
    // The third entry does not overlap (it starts at 130) but its LSO 141 ≥ 125 ends the search.
    assert.equal(r.isComplete, true);
  }));

test('collectAbortedTxns completeness: an upper bound past every LSO continues to the next segment', () =>
  withDir(async (dir) => {
    const idx = new TransactionIndex(0, join(dir, 'b.txnindex'));
    await idx.append(txn(1, 0, 10, 11));
    await idx.append(txn(2, 12, 20, 21));
    let r = await idx.collectAbortedTxns(0, 100);
    assert.deepEqual(r.abortedTransactions.map((t) => t.producerId), [1, 2]);
    assert.equal(r.isComplete, false);
    r = await idx.collectAbortedTxns(11, 100);
    assert.deepEqual(r.abortedTransactions.map((t) => t.producerId), [2]);
    r = await idx.collectAbortedTxns(0, 11);
    assert.deepEqual(r.abortedTransactions.map((t) => t.producerId), [1]);
    assert.equal(r.isComplete, true);
    r = await idx.collectAbortedTxns(21, 30);
    assert.deepEqual(r, { abortedTransactions: [], isComplete: false });
  }));

test('truncateTo drops entries whose marker is at or after the offset', () =>
  withDir(async (dir) => {
    const path = join(dir, 'c.txnindex');
    const idx = new TransactionIndex(0, path);
    for (const e of [txn(1, 0, 10, 11), txn(2, 5, 20, 21), txn(3, 25, 30, 31)]) await idx.append(e);
    await idx.truncateTo(21);
    assert.deepEqual((await idx.allAbortedTxns()).map((t) => t.lastOffset), [10, 20]);
    await idx.truncateTo(20);
    assert.deepEqual((await idx.allAbortedTxns()).map((t) => t.lastOffset), [10]);
    assert.equal((await readFile(path)).length, ABORTED_TXN_SIZE);
    await idx.append(txn(4, 12, 15, 16)); // appending after truncation continues from the new end
    assert.deepEqual((await new TransactionIndex(0, path).allAbortedTxns()).map((t) => t.lastOffset), [10, 15]);
    await idx.reset();
    assert.deepEqual(await idx.allAbortedTxns(), []);
    assert.equal((await readFile(path)).length, 0);
  }));

test('sanityCheck: a partial entry, a bad version or an entry before the segment is corrupt', () =>
  withDir(async (dir) => {
    const path = join(dir, 'd.txnindex');
    await writeFile(path, Buffer.concat([encodeAbortedTxn(txn(1, 0, 10, 11)), Buffer.alloc(5)]));
    await assert.rejects(new TransactionIndex(0, path).sanityCheck(), (e) => isStrataError(e, 'ERR_CORRUPT_FILE'));
    const badVersion = encodeAbortedTxn(txn(1, 0, 10, 11));
    badVersion.writeInt16BE(1, 0);
    await writeFile(path, badVersion);
    await assert.rejects(new TransactionIndex(0, path).sanityCheck(), (e) => isStrataError(e, 'ERR_CORRUPT_FILE'));
    await assert.rejects(new TransactionIndex(0, path).allAbortedTxns(), (e) => isStrataError(e, 'ERR_CORRUPT_FILE'));
    await writeFile(path, encodeAbortedTxn(txn(1, 0, 10, 11)));
    await assert.rejects(new TransactionIndex(50, path).sanityCheck(), (e) => isStrataError(e, 'ERR_CORRUPT_FILE'));
    // A transaction that started in an earlier segment but ended in this one is fine.
    await new TransactionIndex(5, path).sanityCheck();
    await new TransactionIndex(0, join(dir, 'missing.txnindex')).sanityCheck();
  }));

test('rename, flush and delete follow the file; a never-created index renames and deletes quietly', () =>
  withDir(async (dir) => {
    const path = join(dir, 'e.txnindex');
    const idx = new TransactionIndex(0, path);
    await idx.flush();
    await idx.renameTo(path + '.deleted');
    assert.equal(idx.path, path + '.deleted');
    assert.equal(await idx.deleteIfExists(), false);

    const live = new TransactionIndex(0, path);
    await live.append(txn(1, 0, 10, 11));
    await live.flush();
    await live.renameTo(path + '.swap');
    assert.equal(await exists(path), false);
    assert.equal(await exists(path + '.swap'), true);
    await live.append(txn(1, 12, 14, 15));
    assert.equal((await readFile(path + '.swap')).length, 2 * ABORTED_TXN_SIZE);
    await live.close();
    assert.equal((await live.allAbortedTxns()).length, 2);
    assert.equal(await live.deleteIfExists(), true);
    assert.equal(await exists(path + '.swap'), false);
  }));

test('operations issued without waiting apply in call order', () =>
  withDir(async (dir) => {
    const idx = new TransactionIndex(0, join(dir, 'f.txnindex'));
    const ops: Promise<unknown>[] = [];
    for (let i = 0; i < 20; i++) ops.push(idx.append(txn(i, i * 10, i * 10 + 5, i * 10 + 6)));
    ops.push(idx.truncateTo(100));
    const collected = idx.collectAbortedTxns(0, 1000);
    await Promise.all(ops);
    assert.equal((await collected).abortedTransactions.length, 10);
  }));

test('collectAbortedTxnsNow answers as collectAbortedTxns once the entries are in memory, and not while an operation is queued', () =>
  withDir(async (dir) => {
    const idx = new TransactionIndex(100, join(dir, 'a.txnindex'));
    assert.equal(idx.collectAbortedTxnsNow(100, 115), undefined, 'nothing loaded yet');
    await idx.append(txn(1, 90, 110, 95));
    await idx.append(txn(2, 95, 120, 121));
    for (const [from, to] of [[100, 115], [111, 125], [0, 200], [121, 130]] as const) {
      assert.deepEqual(idx.collectAbortedTxnsNow(from, to), await idx.collectAbortedTxns(from, to));
    }
    const appending = idx.append(txn(3, 130, 140, 141));
    assert.equal(idx.collectAbortedTxnsNow(100, 200), undefined, 'an append is under way');
    await appending;
    assert.deepEqual(idx.collectAbortedTxnsNow(0, 200)?.abortedTransactions.map((t) => t.producerId), [1, 2, 3]);
  }));
