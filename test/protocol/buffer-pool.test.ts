import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BufferPool } from '../../src/protocol/buffer-pool.js';

const KiB = 1024;

test('small and huge requests are plain allocations, never pooled', () => {
  const pool = new BufferPool({ minBytes: 64 * KiB, maxBytes: 1024 * KiB });
  const small = pool.allocate(1000);
  const huge = pool.allocate(2048 * KiB);
  assert.equal(small.length, 1000);
  assert.equal(huge.length, 2048 * KiB);
  assert.equal(pool.isPooled(small), false);
  assert.equal(pool.isPooled(huge), false);
  pool.release(small);
  assert.equal(pool.stats.allocations, 0);
});

test('a released buffer is handed out again for the same size class, and only once free', () => {
  const pool = new BufferPool({ minBytes: 64 * KiB });
  const a = pool.allocate(100 * KiB);
  assert.equal(a.length, 100 * KiB);
  assert.equal(a.buffer.byteLength, 128 * KiB, 'rounded up to a power of two');
  assert.equal(pool.isPooled(a), true);
  const b = pool.allocate(120 * KiB);
  assert.notEqual(b.buffer, a.buffer, 'a buffer in use is not handed out twice');
  pool.release(a);
  assert.equal(pool.isPooled(a), false);
  const c = pool.allocate(70 * KiB);
  assert.equal(c.buffer, a.buffer, 'the free buffer of that class is reused');
  assert.deepEqual(pool.stats, { allocations: 2, reuses: 1, freeBytes: 0 });
  const d = pool.allocate(300 * KiB);
  assert.notEqual(d.buffer, b.buffer, 'another class does not reuse it');
});

test('retained views keep the buffer out of the pool until every reference is released', () => {
  const pool = new BufferPool({ minBytes: 64 * KiB });
  const frame = pool.allocate(200 * KiB);
  const partA = frame.subarray(0, 1000);
  const partB = frame.subarray(5000, 9000);
  pool.retain(partA);
  pool.retain(partB);
  pool.release(frame);
  assert.equal(pool.isPooled(partA), true);
  assert.notEqual(pool.allocate(200 * KiB).buffer, frame.buffer, 'still referenced');
  pool.release(partA);
  assert.equal(pool.stats.freeBytes, 0);
  pool.release(partB);
  assert.equal(pool.stats.freeBytes, 256 * KiB);
  assert.equal(pool.allocate(150 * KiB).buffer, frame.buffer);
});

test('retain and release of a buffer the pool never handed out do nothing', () => {
  const pool = new BufferPool({ minBytes: 64 * KiB });
  const foreign = Buffer.alloc(256 * KiB);
  pool.retain(foreign);
  pool.release(foreign);
  pool.release(foreign);
  assert.equal(pool.isPooled(foreign), false);
  assert.deepEqual(pool.stats, { allocations: 0, reuses: 0, freeBytes: 0 });
});

test('free memory kept for reuse is bounded; the rest is left to the collector', () => {
  const pool = new BufferPool({ minBytes: 64 * KiB, maxFreeBytes: 256 * KiB });
  const held = [pool.allocate(128 * KiB), pool.allocate(128 * KiB), pool.allocate(128 * KiB)];
  for (const b of held) pool.release(b);
  assert.equal(pool.stats.freeBytes, 256 * KiB);
  pool.allocate(128 * KiB);
  pool.allocate(128 * KiB);
  pool.allocate(128 * KiB);
  assert.deepEqual(pool.stats, { allocations: 4, reuses: 2, freeBytes: 0 });
});

test('poisoning fills a buffer as it returns to the pool, not before', () => {
  const pool = new BufferPool({ minBytes: 64 * KiB });
  pool.poisonOnRelease = true;
  const a = pool.allocate(100 * KiB).fill(1);
  const view = a.subarray(10, 20);
  pool.retain(view);
  pool.release(a);
  assert.deepEqual(view, Buffer.alloc(10, 1), 'still referenced: untouched');
  pool.release(view);
  assert.deepEqual(view, Buffer.alloc(10, 0xee), 'released: poisoned');
});
