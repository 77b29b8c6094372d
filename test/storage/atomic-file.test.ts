import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  deleteIfExists,
  readFileIfExists,
  readFileIfExistsSync,
  writeFileAtomic,
  writeFileAtomicSync,
} from '../../src/storage/atomic-file.js';
import { isStrataError } from '../../src/protocol/strata-error.js';

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'strata-atomic-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('writes, replaces and reads a file, leaving no temporary file behind', () =>
  withDir(async (dir) => {
    const path = join(dir, 'state');
    assert.equal(await readFileIfExists(path), undefined);
    await writeFileAtomic(path, 'first');
    assert.equal((await readFileIfExists(path))!.toString(), 'first');
    await writeFileAtomic(path, Buffer.from([1, 2, 3]), { fsync: false });
    assert.deepEqual([...(await readFile(path))], [1, 2, 3]);
    assert.deepEqual(await readdir(dir), ['state']);
  }));

test('a stale .tmp left by a crash is overwritten, not appended to', () =>
  withDir(async (dir) => {
    const path = join(dir, 'state');
    await writeFile(path + '.tmp', 'garbage from a torn write that is longer than the new content');
    await writeFileAtomic(path, 'new');
    assert.equal(await readFile(path, 'utf8'), 'new');
    assert.deepEqual(await readdir(dir), ['state']);
  }));

test('concurrent writes to one path are serialized: the last call wins', () =>
  withDir(async (dir) => {
    const path = join(dir, 'state');
    const writes = Array.from({ length: 20 }, (_, i) => writeFileAtomic(path, `content ${i}`.repeat(100)));
    await Promise.all(writes);
    assert.equal(await readFile(path, 'utf8'), 'content 19'.repeat(100));
    assert.deepEqual(await readdir(dir), ['state']);
  }));

test('a failed write rejects with ERR_STORAGE and does not block later writes', () =>
  withDir(async (dir) => {
    const bad = join(dir, 'missing-dir', 'state');
    await assert.rejects(writeFileAtomic(bad, 'x'), (e) => isStrataError(e, 'ERR_STORAGE'));
    const path = join(dir, 'state');
    await writeFileAtomic(path, 'ok');
    assert.equal(await readFile(path, 'utf8'), 'ok');
  }));

test('sync variants and deleteIfExists', () =>
  withDir(async (dir) => {
    const path = join(dir, 'state');
    assert.equal(readFileIfExistsSync(path), undefined);
    writeFileAtomicSync(path, 'sync');
    assert.equal(readFileIfExistsSync(path)!.toString(), 'sync');
    assert.equal(await deleteIfExists(path), true);
    assert.equal(await deleteIfExists(path), false);
    assert.throws(() => writeFileAtomicSync(join(dir, 'nope', 'x'), 'x'), (e) => isStrataError(e, 'ERR_STORAGE'));
  }));

test('a process killed with SIGKILL mid-rewrite leaves either the old or the new content, whole', () =>
  withDir(async (dir) => {
    const path = join(dir, 'state');
    // Two large, distinguishable contents; a torn write would show a mix or a short file.
    const size = 256 * 1024;
    const moduleUrl = pathToFileURL(resolve('src/storage/atomic-file.ts')).href;
    const child = `
      import { writeFileAtomic } from ${JSON.stringify(moduleUrl)};
      const a = Buffer.alloc(${size}, 0x61), b = Buffer.alloc(${size}, 0x62);
      for (let i = 0; ; i++) {
        await writeFileAtomic(${JSON.stringify(path)}, i % 2 ? b : a, { fsync: i % 4 === 0 });
        if (i === 3) process.stdout.write('running\\n');
      }`;
    for (let round = 0; round < 5; round++) {
      const proc = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', child], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      await new Promise<void>((resolveStarted, reject) => {
        proc.stdout.once('data', () => resolveStarted());
        proc.once('exit', (code) => reject(new Error(`child exited early with ${code}`)));
      });
      await new Promise((r) => setTimeout(r, 5 + round * 7));
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGKILL');
      await exited;
      const bytes = await readFile(path);
      assert.equal(bytes.length, size);
      assert.ok(bytes.every((x) => x === bytes[0]) && (bytes[0] === 0x61 || bytes[0] === 0x62));
    }
  }));
