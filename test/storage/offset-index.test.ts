import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { FileHandlePool } from '../../src/storage/file-handles.js';
import { CorruptIndexError } from '../../src/storage/index-file.js';
import { OffsetIndex } from '../../src/storage/offset-index.js';
import { tempDir } from './helpers.js';

describe('OffsetIndex', () => {
  let root: string;
  let cleanup: () => Promise<void>;
  const pool = new FileHandlePool(16);
  let n = 0;
  const file = (): string => path.join(root, `${n++}.index`);
  before(async () => ({ dir: root, cleanup } = await tempDir()));
  after(() => cleanup());

  it('preallocates while active, trims to its entries, and reloads them', async () => {
    const f = file();
    const idx = new OffsetIndex(f, 100, 1000, pool);
    await idx.reset();
    await idx.makeActive();
    assert.equal((await fs.stat(f)).size, 1000, '1000 is a multiple of 8');
    idx.append(105, 4200);
    idx.append(110, 8500);
    await idx.writePending();
    const raw = await fs.readFile(f);
    assert.deepEqual(raw.subarray(0, 16), Buffer.from([0, 0, 0, 5, 0, 0, 0x10, 0x68, 0, 0, 0, 10, 0, 0, 0x21, 0x34]));
    await idx.becomeInactive();
    assert.equal((await fs.stat(f)).size, 16);
    const again = new OffsetIndex(f, 100, 1000, pool, 16);
    await again.load();
    assert.deepEqual([again.entry(0), again.entry(1)], [{ offset: 105, position: 4200 }, { offset: 110, position: 8500 }]);
    assert.equal(again.maxEntries, 125);
  });

  it('rounds the maximum size down to whole entries and reports full', async () => {
    const idx = new OffsetIndex(file(), 0, 20, pool);
    await idx.reset();
    assert.equal(idx.maxIndexSize, 16);
    idx.append(1, 10);
    idx.append(2, 20);
    assert.equal(idx.isFull(), true);
    assert.throws(() => idx.append(3, 30), CorruptIndexError);
  });

  it('finds floor entries by binary search and truncates', () => fc.assert(fc.asyncProperty(
    fc.uniqueArray(fc.integer({ min: 1, max: 100_000 }), { minLength: 0, maxLength: 200 }),
    fc.integer({ min: -5, max: 100_010 }),
    async (rels, target) => {
      const sorted = [...rels].sort((a, b) => a - b);
      const idx = new OffsetIndex(file(), 1000, 1 << 16, pool);
      await idx.reset();
      sorted.forEach((r, i) => idx.append(1000 + r, (i + 1) * 10));
      const floor = sorted.filter((r) => 1000 + r <= 1000 + target).at(-1);
      const expected = floor === undefined ? { offset: 1000, position: 0 } : { offset: 1000 + floor, position: (sorted.indexOf(floor) + 1) * 10 };
      assert.deepEqual(idx.lookup(1000 + target), expected);
      idx.truncateTo(1000 + target);
      assert.equal(idx.entries, sorted.filter((r) => r < target).length);
      await idx.deleteFile();
    }), { numRuns: 60 }));

  it('refuses non-increasing offsets and flags a corrupt file on load', async () => {
    const idx = new OffsetIndex(file(), 0, 800, pool);
    await idx.reset();
    idx.append(10, 100);
    assert.throws(() => idx.append(10, 200), CorruptIndexError);
    const f = file();
    // Entries out of order: (5, 100) then (3, 200).
    await fs.writeFile(f, Buffer.from([0, 0, 0, 5, 0, 0, 0, 100, 0, 0, 0, 3, 0, 0, 0, 200]));
    await assert.rejects(new OffsetIndex(f, 0, 800, pool, 16).load(), CorruptIndexError);
    // An untrimmed, zero-filled tail (a crash while active) is not mistaken for entries.
    await fs.writeFile(f, Buffer.concat([Buffer.from([0, 0, 0, 5, 0, 0, 0, 100]), Buffer.alloc(24)]));
    await assert.rejects(new OffsetIndex(f, 0, 800, pool, 32).load(), CorruptIndexError);
    await fs.writeFile(f, Buffer.alloc(12));
    await assert.rejects(new OffsetIndex(f, 0, 800, pool, 12).load(), /not a multiple of 8/);
  });
});
