import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { FileHandlePool, fsyncDir } from '../../src/storage/file-handles.js';

test('concurrent syncs of one directory all complete, sharing syncs, and later ones start afresh', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'strata-dirsync-'));
  try {
    const settled = await Promise.allSettled(Array.from({ length: 200 }, async (_, i) => {
      await fs.writeFile(path.join(dir, `f${i}`), 'x');
      await fsyncDir(dir);
    }));
    assert.deepEqual(settled.filter((s) => s.status !== 'fulfilled'), []);
    await fsyncDir(dir);
    assert.equal((await fs.readdir(dir)).length, 200);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('a sync of a missing directory fails for every caller sharing it', async () => {
  const missing = path.join(os.tmpdir(), `strata-missing-${process.pid}-${Date.now()}`);
  const results = await Promise.allSettled([fsyncDir(missing), fsyncDir(missing), fsyncDir(missing)]);
  for (const r of results) {
    assert.equal(r.status, 'rejected');
    assert.equal((r as PromiseRejectedResult).reason.code, 'ENOENT');
  }
});

test('a full pool closes an idle descriptor not used lately and keeps the one just used', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'strata-fdpool-'));
  const pool = new FileHandlePool(2);
  const files = ['a', 'b', 'c'].map((n) => path.join(dir, n));
  const touch = (p: string): Promise<void> => pool.use(p, async () => undefined, true);
  try {
    await touch(files[0]!);
    await touch(files[1]!);
    await touch(files[0]!);
    const opens = pool.openCalls;
    await touch(files[2]!);
    assert.equal(pool.openCount, 2);
    await touch(files[0]!);
    assert.equal(pool.openCalls, opens + 1, 'a, used just before, was still open');
    await touch(files[1]!);
    assert.equal(pool.openCalls, opens + 2, 'b, idle the longest, had been closed');
    // Every entry recently used: one still has to go, and does.
    for (const f of files) await touch(f);
    assert.ok(pool.openCount <= 2);
    assert.equal(pool.useNow(files[2]!, () => undefined), true, 'the last used is open');
  } finally {
    pool.closeAll();
    await fs.rm(dir, { recursive: true, force: true });
  }
});
