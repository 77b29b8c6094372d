import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FileHandlePool } from '../../src/storage/file-handles.js';
import { CorruptIndexError } from '../../src/storage/index-file.js';
import { TimeIndex } from '../../src/storage/time-index.js';
import { tempDir } from './helpers.js';

describe('TimeIndex', () => {
  let root: string;
  let cleanup: () => Promise<void>;
  const pool = new FileHandlePool(16);
  let n = 0;
  const file = (): string => path.join(root, `${n++}.timeindex`);
  before(async () => ({ dir: root, cleanup } = await tempDir()));
  after(() => cleanup());

  it('appends only growing timestamps, looks up floor entries and writes 12-byte entries', async () => {
    const f = file();
    const idx = new TimeIndex(f, 50, 10485760, pool);
    await idx.reset();
    await idx.makeActive();
    assert.equal((await fs.stat(f)).size, 10485756);
    idx.maybeAppend(1000, 52);
    idx.maybeAppend(1000, 53); // same timestamp: not added
    idx.maybeAppend(2000, 60);
    assert.throws(() => idx.maybeAppend(1500, 61), CorruptIndexError);
    assert.throws(() => idx.maybeAppend(3000, 59), CorruptIndexError);
    assert.equal(idx.entries, 2);
    assert.deepEqual(idx.lookup(999), { timestamp: -1, offset: 50 });
    assert.deepEqual(idx.lookup(1999), { timestamp: 1000, offset: 52 });
    assert.deepEqual(idx.lookup(5000), { timestamp: 2000, offset: 60 });
    await idx.becomeInactive();
    const expected = Buffer.alloc(24);
    expected.writeUInt32BE(0, 0);
    expected.writeUInt32BE(1000, 4);
    expected.writeInt32BE(2, 8);
    expected.writeUInt32BE(0, 12);
    expected.writeUInt32BE(2000, 16);
    expected.writeInt32BE(10, 20);
    assert.deepEqual(await fs.readFile(f), expected);
    const peek = new TimeIndex(f, 50, 10485760, pool, 24);
    assert.deepEqual(await peek.readLastEntry(), { timestamp: 2000, offset: 60 });
    assert.equal(peek.isLoaded, false, 'the last entry is read without loading the index');
  });

  it('keeps one slot for the roll entry and truncates by offset', async () => {
    const idx = new TimeIndex(file(), 0, 36, pool);
    await idx.reset();
    idx.maybeAppend(10, 1);
    idx.maybeAppend(20, 2);
    assert.equal(idx.isFull(), true, '3 slots, one reserved');
    assert.throws(() => idx.maybeAppend(30, 3), CorruptIndexError);
    idx.maybeAppend(30, 3, true);
    assert.equal(idx.entries, 3);
    idx.truncateTo(2);
    assert.equal(idx.entries, 1);
    assert.deepEqual(idx.lastEntry, { timestamp: 10, offset: 1 });
  });

  it('flags decreasing timestamps (e.g. a zero-filled tail) on load', async () => {
    const f = file();
    const buf = Buffer.alloc(24);
    buf.writeUInt32BE(5000, 4);
    await fs.writeFile(f, buf);
    await assert.rejects(new TimeIndex(f, 0, 1200, pool, 24).load(), CorruptIndexError);
  });
});
