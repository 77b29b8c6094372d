import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureMetaProperties, randomKafkaUuid } from '../../src/server/meta-properties.js';
import { isStrataError } from '../../src/protocol/strata-error.js';

test('random cluster ids look like Kafka\'s: 22 base64url characters, never starting with a dash', () => {
  for (let i = 0; i < 2000; i++) {
    const id = randomKafkaUuid();
    assert.match(id, /^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
    assert.equal(Buffer.from(id, 'base64url').length, 16);
  }
});

test('meta.properties is created once, then reused; mismatches are refused', async () => {
  const root = await mkdtemp(join(tmpdir(), 'strata-meta-'));
  try {
    const dirs = [join(root, 'a'), join(root, 'b', 'nested')];
    const first = await ensureMetaProperties(dirs, 5);
    const text = await readFile(join(dirs[0]!, 'meta.properties'), 'utf8');
    assert.match(text, new RegExp(`^cluster\\.id=${first.clusterId}$`, 'm'));
    assert.match(text, /^node\.id=5$/m);
    assert.match(text, /^version=1$/m);
    assert.match(text, /^directory\.id=[A-Za-z0-9_-]{22}$/m);
    const other = await readFile(join(dirs[1]!, 'meta.properties'), 'utf8');
    assert.match(other, new RegExp(`^cluster\\.id=${first.clusterId}$`, 'm'));

    const again = await ensureMetaProperties(dirs, 5);
    assert.deepEqual(again, first);

    await assert.rejects(ensureMetaProperties(dirs, 6), (e) => isStrataError(e, 'ERR_CONFIG') && /node id 5/.test(e.message));

    // A directory added later joins the existing cluster.
    const third = join(root, 'c');
    assert.equal((await ensureMetaProperties([...dirs, third], 5)).clusterId, first.clusterId);

    // Directories of different clusters cannot be mixed.
    const foreign = join(root, 'foreign');
    await ensureMetaProperties([foreign], 5);
    await assert.rejects(ensureMetaProperties([dirs[0]!, foreign], 5), (e) => isStrataError(e, 'ERR_STORAGE'));

    await writeFile(join(third, 'meta.properties'), 'version=0\nnode.id=5\ncluster.id=x\n');
    await assert.rejects(ensureMetaProperties([third], 5), /unsupported version 0/);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
