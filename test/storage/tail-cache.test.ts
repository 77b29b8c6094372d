import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it, test } from 'node:test';
import fc from 'fast-check';
import { TailCache } from '../../src/storage/tail-cache.js';
import { sharedBufferPool } from '../../src/protocol/buffer-pool.js';
import { batch, openLog, readAll, tempDir } from './helpers.js';

describe('TailCache', () => {
  it('answers exactly the bytes appended, within one chunk or across several', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ minLength: 1, maxLength: 64 }), { minLength: 1, maxLength: 20 }), fc.nat(), fc.nat(), (chunks, a, b) => {
        const tail = new TailCache(1 << 20).forSegment();
        const all = Buffer.concat(chunks.map((c) => Buffer.from(c)));
        let at = 100;
        for (const c of chunks) {
          tail.add(at, Buffer.from(c));
          at += c.length;
        }
        const from = a % all.length;
        const length = 1 + (b % (all.length - from));
        assert.deepEqual(tail.read(100 + from, length), all.subarray(from, from + length));
        assert.equal(tail.read(99, 2), undefined, 'bytes before the cached range are not claimed');
        assert.equal(tail.read(100 + from, all.length - from + 1), undefined, 'bytes past the end are not claimed');
      }),
    );
  });

  it('keeps to its budget by dropping the oldest bytes of any segment first', () => {
    // Appends above the packing size are chunks of their own, counted at their length.
    const K = 20 * 1024;
    const cache = new TailCache(5 * K);
    const a = cache.forSegment();
    const b = cache.forSegment();
    a.add(0, Buffer.alloc(K, 1));
    b.add(0, Buffer.alloc(K, 2));
    a.add(K, Buffer.alloc(K, 3));
    b.add(K, Buffer.alloc(K, 4));
    a.add(2 * K, Buffer.alloc(K, 5));
    assert.equal(cache.usedBytes, 5 * K);
    b.add(2 * K, Buffer.alloc(K, 6));
    assert.equal(cache.usedBytes, 5 * K);
    assert.equal(a.read(0, 10), undefined, "a's oldest chunk went first");
    assert.deepEqual(b.read(0, 10), Buffer.alloc(10, 2));
    a.clear();
    assert.equal(cache.usedBytes, 3 * K);
  });

  it('packs small appends into blocks counted at their capacity, growing while a segment is busy', () => {
    const cache = new TailCache(1 << 20);
    const t = cache.forSegment();
    const sent: Buffer[] = [];
    for (let i = 0; i < 400; i++) {
      const rec = Buffer.alloc(100, i % 251);
      t.add(i * 100, rec);
      sent.push(rec);
    }
    const all = Buffer.concat(sent);
    // 40,000 bytes in blocks of 4, 8, 16 and 32 KiB (the last one part-filled).
    assert.equal(cache.usedBytes, (4 + 8 + 16 + 32) * 1024);
    assert.deepEqual(t.read(0, all.length), all);
    const view = t.read(4096, 4000)!;
    assert.deepEqual(view, all.subarray(4096, 8096));
    // Later appends fill the rest of a block and never touch bytes already handed out.
    for (let i = 400; i < 700; i++) t.add(i * 100, Buffer.alloc(100, 0xaa));
    assert.deepEqual(view, all.subarray(4096, 8096));
    t.clear();
    assert.equal(cache.usedBytes, 0);
  });

  it('evicts packed blocks as a whole, oldest first, under a small budget', () => {
    const cache = new TailCache(12 * 1024);
    const t = cache.forSegment();
    for (let i = 0; i < 200; i++) t.add(i * 100, Buffer.alloc(100, i % 251));
    assert.ok(cache.usedBytes <= 12 * 1024);
    assert.equal(t.read(0, 100), undefined, 'the first block is gone');
    assert.deepEqual(t.read(199 * 100, 100), Buffer.alloc(100, 199 % 251), 'the newest bytes are still served');
  });

  it('forgets what is not contiguous and does not cache appends larger than a quarter of the budget', () => {
    const cache = new TailCache(1000);
    const t = cache.forSegment();
    t.add(0, Buffer.alloc(100, 1));
    t.add(500, Buffer.alloc(100, 2));
    assert.equal(t.read(0, 10), undefined);
    assert.deepEqual(t.read(500, 100), Buffer.alloc(100, 2));
    t.add(600, Buffer.alloc(300, 3));
    assert.equal(t.read(600, 1), undefined);
    assert.equal(cache.usedBytes, 0);
  });
});

describe('Log with a tail cache', () => {
  let root: string;
  let cleanup: () => Promise<void>;
  before(async () => ({ dir: root, cleanup } = await tempDir()));
  after(() => cleanup());

  it('serves a tail consumer from memory: what was just appended is not read from the file again', async () => {
    const dir = path.join(root, 'tail');
    const log = await openLog(dir, {}, { tailCache: new TailCache(1 << 20) });
    const first = batch(10, 100);
    await log.append(first, { leaderEpoch: 0 });
    // The consumer reads what is there, and then waits at the end of the log…
    assert.equal((await log.read(0, 1 << 20, { minOneMessage: true })).records[0]!.length, first.length);
    const next = batch(10, 100, { seed: 7 });
    await log.append(next, { leaderEpoch: 0 });
    const appended = Buffer.from(next);
    // …and the new bytes on disk are overwritten: a read that went to the file would return garbage.
    const file = await fs.open(path.join(dir, '00000000000000000000.log'), 'r+');
    await file.write(Buffer.alloc(appended.length, 0xee), 0, appended.length, first.length);
    await file.close();
    const r = await log.read(10, 1 << 20, { minOneMessage: true });
    assert.deepEqual(r.records[0], appended);
    await log.close();
  });

  it('still reads from the file what is no longer cached, and truncation drops the cached bytes', async () => {
    const dir = path.join(root, 'evicted');
    const cache = new TailCache(4096);
    const log = await openLog(dir, {}, { tailCache: cache });
    const sent: Buffer[] = [];
    for (let i = 0; i < 20; i++) {
      const b = batch(5, 100, { seed: i });
      await log.append(b, { leaderEpoch: 0 });
      sent.push(Buffer.from(b));
    }
    assert.ok(cache.usedBytes <= 4096);
    assert.deepEqual(await readAll(log), sent);
    await log.truncateTo(50);
    assert.deepEqual(await readAll(log), sent.slice(0, 10));
    const again = batch(5, 100, { seed: 99 });
    await log.append(again, { leaderEpoch: 0 });
    assert.deepEqual(await readAll(log), [...sent.slice(0, 10), Buffer.from(again)]);
    await log.close();
    assert.equal(cache.usedBytes, 0, 'closing a log releases its cached bytes');
  });

  it('readNow answers from memory what read answers for a reader going on, and declines where the file must be read', async () => {
    const log = await openLog(path.join(root, 'now'), {}, { tailCache: new TailCache(1 << 20) });
    await log.append(batch(10, 100), { leaderEpoch: 0 });
    assert.equal(log.readNow(0, 1 << 20, { minOneMessage: true }), undefined, 'no read ended at offset 0: its position is not known');
    await log.read(0, 1 << 20, { minOneMessage: true });
    const atEnd = log.readNow(10, 1 << 20, { minOneMessage: true });
    assert.deepEqual([atEnd?.records, atEnd?.logEndOffset], [[], 10], 'nothing new: answered at once');
    await log.append(batch(10, 100, { seed: 3 }), { leaderEpoch: 0 });
    await log.append(batch(5, 100, { seed: 4 }), { leaderEpoch: 0 });
    const now = log.readNow(10, 1 << 20, { minOneMessage: true, upperBound: 20 });
    const later = await log.read(10, 1 << 20, { minOneMessage: true, upperBound: 20 });
    assert.ok(now !== undefined);
    assert.deepEqual(now, later, 'the same batches and state as read');
    assert.equal(now.firstEntryOffset, 10);
    assert.throws(() => log.readNow(26, 100), /out of range/);
    await log.close();
  });

  it('readNow declines without a tail cache; for read_committed it answers the aborted transactions too', async () => {
    const plain = await openLog(path.join(root, 'plain'));
    await plain.append(batch(10, 100), { leaderEpoch: 0 });
    await plain.read(0, 1 << 20, { minOneMessage: true });
    await plain.append(batch(10, 100, { seed: 5 }), { leaderEpoch: 0 });
    assert.equal(plain.readNow(10, 1 << 20, { minOneMessage: true }), undefined);
    await plain.close();

    const log = await openLog(path.join(root, 'committed'), {}, { tailCache: new TailCache(1 << 20) });
    await log.append(batch(10, 100), { leaderEpoch: 0 });
    await log.read(0, 1 << 20, { minOneMessage: true });
    await log.append(batch(10, 100, { seed: 6 }), { leaderEpoch: 0 });
    const committed = { minOneMessage: true, includeAbortedTransactions: true } as const;
    const now = log.readNow(10, 1 << 20, committed);
    assert.deepEqual(now?.abortedTransactions, []);
    assert.deepEqual(now, await log.read(10, 1 << 20, committed));
    await log.close();
  });
});

test('a pooled request buffer stays out of the pool while the cache or a reader holds a view of it', () => {
  const cache = new TailCache(1024 * 1024);
  const seg = cache.forSegment();
  const frame = sharedBufferPool.allocate(256 * 1024);
  frame.fill(9);
  // A sixth of the request: a plain buffer would be copied, a pooled one is kept as a view.
  const records = frame.subarray(1000, 1000 + 40 * 1024);
  seg.add(0, records);
  sharedBufferPool.release(frame);
  assert.equal(sharedBufferPool.isPooled(frame), true, 'the cache keeps a reference');
  const slice = seg.read(100, 200);
  assert.ok(slice !== undefined && slice.buffer === frame.buffer, 'a view, not a copy');
  seg.clear();
  assert.equal(sharedBufferPool.isPooled(frame), true, 'the reader keeps a reference');
  assert.deepEqual(slice, Buffer.alloc(200, 9));
  sharedBufferPool.release(slice);
  assert.equal(sharedBufferPool.isPooled(frame), false, 'back in the pool once nobody holds it');
});

test('packed blocks come from the pool: an evicted block is reused only once every reader released its views', () => {
  const cache = new TailCache(64 * 1024);
  const seg = cache.forSegment();
  for (let i = 0; i < 30; i++) seg.add(i * 100, Buffer.alloc(100, i + 1));
  const view = seg.read(0, 100)!;
  assert.equal(sharedBufferPool.isPooled(view), true, 'the first block is pooled memory');
  // Blocks of 4, 8, 16, 16… KiB: enough appends to push the first block out of the budget.
  for (let i = 30; i < 1000; i++) seg.add(i * 100, Buffer.alloc(100, 0xab));
  assert.equal(seg.read(0, 100), undefined, 'the first block was evicted');
  assert.equal(sharedBufferPool.isPooled(view), true, 'the reader still holds it: not back in the pool');
  assert.deepEqual(view, Buffer.alloc(100, 1));
  sharedBufferPool.release(view);
  assert.equal(sharedBufferPool.isPooled(view), false, 'back in the pool once released');
  seg.clear();
  assert.equal(cache.usedBytes, 0);
});
