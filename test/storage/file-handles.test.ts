import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fsyncDir } from '../../src/storage/file-handles.js';

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
