import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuSeconds, ProcSampler } from '../../../bench/lib/proc-stats.js';
import { runFloor } from '../../../bench/lib/raw-floor.js';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

test('the raw floor streams the exact byte volume into the file and back out', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'strata-floor-test-'));
  try {
    const file = join(dir, 'sink.bin');
    const bytes = 8 * 1024 * 1024 + 123;
    const written = await runFloor(repoRoot, { bytes, file });
    assert.equal(written.bytes, bytes);
    assert.equal((await stat(file)).size, bytes);
    assert.ok(written.mbPerSec > 0);
    assert.ok(written.usage.peakRssBytes > 0, 'the sink process was sampled');
    const read = await runFloor(repoRoot, { bytes, file, fromFile: true });
    assert.equal(read.bytes, bytes);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the sampler reads CPU seconds and resident memory from /proc', async () => {
  const sampler = new ProcSampler(process.pid).start();
  const before = cpuSeconds(process.pid)!;
  let x = 0;
  const until = Date.now() + 200;
  while (Date.now() < until) x += Math.sqrt(x + 1);
  const usage = sampler.stop();
  assert.ok(x > 0);
  assert.ok(cpuSeconds(process.pid)! >= before);
  assert.ok(usage.cpuSeconds > 0, `cpu ${usage.cpuSeconds}`);
  assert.ok(usage.peakRssBytes > 10 * 1024 * 1024);
  assert.equal(cpuSeconds(2 ** 22 + 12345), undefined);
});
