import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readInt64 } from '../../src/protocol/records/batch-header.js';
import { ManualClock } from '../../src/storage/clock.js';
import { logConfig } from '../../src/storage/log-config.js';
import { isLogError } from '../../src/storage/log-errors.js';
import { LogManager } from '../../src/storage/log-manager.js';
import { batch, readAll, tempDir } from './helpers.js';

describe('LogManager', () => {
  let root: string;
  let cleanup: () => Promise<void>;
  before(async () => ({ dir: root, cleanup } = await tempDir()));
  after(() => cleanup());

  it('spreads partitions over log dirs and reloads them all after a restart', async () => {
    const dirs = [path.join(root, 'a'), path.join(root, 'b')];
    const m = await LogManager.start({ logDirs: dirs, scheduleTimers: false, loadConcurrency: 8 });
    for (let p = 0; p < 40; p++) {
      const log = await m.getOrCreateLog('spread', p);
      await log.append(batch(p % 5 + 1, 20, { seed: p }));
    }
    assert.deepEqual(m.logDirs().map((d) => d.partitions), [20, 20]);
    await m.shutdown();
    const again = await LogManager.start({ logDirs: dirs, scheduleTimers: false, loadConcurrency: 8 });
    assert.equal(again.allLogs().size, 40);
    for (let p = 0; p < 40; p++) assert.equal(again.getLog('spread', p)!.logEndOffset, p % 5 + 1);
    assert.ok(again.logDirs().every((d) => d.hadCleanShutdown));
    assert.equal(again.getLog('spread', 99), undefined);
    // Deleting a partition renames its directory away at once; a leftover "-delete" dir goes at start.
    assert.equal(await again.deleteLog('spread', 3), true);
    assert.equal(again.getLog('spread', 3), undefined);
    await fs.mkdir(path.join(dirs[0]!, 'spread-77.abc-delete'));
    await again.shutdown();
    const third = await LogManager.start({ logDirs: dirs, scheduleTimers: false });
    assert.equal(third.allLogs().size, 39);
    assert.ok(!(await fs.readdir(dirs[0]!)).some((n) => n.endsWith('-delete')));
    await third.shutdown();
  });

  it('keeps the number of open descriptors bounded and reopens idle ones on demand', async () => {
    const m = await LogManager.start({ logDirs: [path.join(root, 'fd')], scheduleTimers: false, maxOpenFiles: 8 });
    const sent = new Map<number, Buffer>();
    for (let p = 0; p < 30; p++) {
      const b = batch(2, 50, { seed: p });
      await (await m.getOrCreateLog('fd', p)).append(b);
      sent.set(p, Buffer.from(b));
      assert.ok(m.pool.openCount <= 8, `open: ${m.pool.openCount}`);
    }
    const opensBefore = m.pool.openCalls;
    for (let p = 0; p < 30; p++) assert.deepEqual((await readAll(m.getLog('fd', p)!))[0], sent.get(p));
    assert.ok(m.pool.openCalls > opensBefore, 'evicted descriptors were reopened');
    assert.ok(m.pool.openCount <= 8);
    await m.shutdown();
  });

  it('takes a failed log dir offline while the other dir keeps serving', async () => {
    const good = path.join(root, 'good');
    const bad = path.join(root, 'bad');
    const lines: string[] = [];
    const m = await LogManager.start({ logDirs: [good, bad], scheduleTimers: false,
      logger: { info: () => undefined, warn: (l) => lines.push(l) }, configFor: () => logConfig({ segmentBytes: 1000 }) });
    const g = await m.getOrCreateLog('t', 0);
    const b = await m.getOrCreateLog('t', 1);
    assert.equal(path.dirname(b.dir), path.resolve(bad));
    await b.append(batch(1, 100));
    // The partition directory vanishes under the broker (a failed mount behaves alike): the next roll
    // cannot create its segment.
    await fs.rm(b.dir, { recursive: true, force: true });
    await assert.rejects(b.append(batch(1, 900)), (e) => isLogError(e, 'KAFKA_STORAGE_ERROR'));
    assert.throws(() => m.getLog('t', 1), (e) => isLogError(e, 'KAFKA_STORAGE_ERROR'));
    await assert.rejects(b.read(0, 100), (e) => isLogError(e, 'KAFKA_STORAGE_ERROR'));
    assert.deepEqual(m.logDirs().map((d) => d.online), [true, false]);
    assert.ok(lines.some((l) => l.includes('is offline')));
    // The good dir is unaffected, and new partitions go there.
    await g.append(batch(1, 10));
    const c = await m.getOrCreateLog('t', 2);
    assert.equal(path.dirname(c.dir), path.resolve(good));
    await m.checkpointRecoveryPoints();
    await m.shutdown();
    assert.ok((await fs.readdir(good)).includes('.kafka_cleanshutdown'));
    assert.ok(!(await fs.readdir(bad)).includes('.kafka_cleanshutdown'));
  });

  it('a checkpoint that cannot be written takes its dir offline', async () => {
    const d = path.join(root, 'ckpt');
    const m = await LogManager.start({ logDirs: [d], scheduleTimers: false });
    const log = await m.getOrCreateLog('c', 0);
    await log.append(batch(1, 10));
    await fs.mkdir(path.join(d, 'recovery-point-offset-checkpoint.tmp'));
    await m.checkpointRecoveryPoints();
    assert.equal(m.logDirs()[0]!.online, false);
    await assert.rejects(log.append(batch(1, 10)), (e) => isLogError(e, 'KAFKA_STORAGE_ERROR'));
    await m.shutdown();
  });

  it('runs retention and delayed deletion for every log', async () => {
    const clock = new ManualClock(10_000_000);
    const m = await LogManager.start({ logDirs: [path.join(root, 'ret')], scheduleTimers: false, clock,
      configFor: () => logConfig({ segmentBytes: 600, retentionMs: 60_000, fileDeleteDelayMs: 1000 }) });
    const log = await m.getOrCreateLog('r', 0);
    for (let i = 0; i < 6; i++) await log.append(batch(1, 300, { timestamp: clock.now(), seed: i }));
    log.updateHighWatermark(log.logEndOffset);
    clock.advance(60_001);
    assert.equal(await m.runRetention(), 6);
    assert.equal(log.logStartOffset, 6);
    assert.equal(log.pendingDeletions, 6);
    clock.advance(1000);
    assert.equal(await m.purgeDeletedSegments(), 6);
    assert.deepEqual((await fs.readdir(log.dir)).filter((f) => f.includes('.deleted')), []);
    assert.equal(readInt64((await log.append(batch(1, 10))) && (await readAll(log))[0]!, 0), 6);
    await m.shutdown();
  });
  it('records the topic id in partition.metadata and applies topic config changes', async () => {
    const d = path.join(root, 'meta');
    const m = await LogManager.start({ logDirs: [d], scheduleTimers: false });
    const id = '5f0c3a1e-8c4b-4b7e-9a52-1d2e3f405162';
    const log = await m.getOrCreateLog('meta', 0, undefined, id);
    const text = await fs.readFile(path.join(log.dir, 'partition.metadata'), 'utf8');
    assert.equal(text, `version: 0\ntopic_id: ${Buffer.from(id.replaceAll('-', ''), 'hex').toString('base64url')}`);
    assert.equal(await m.topicIdOf('meta', 0), id);
    m.updateTopicConfig('meta', logConfig({ segmentBytes: 300 }));
    await log.append(batch(1, 200));
    await log.append(batch(1, 200));
    assert.equal(log.segments.length, 2, 'the new segment.bytes applies');
    await m.shutdown();
  });
  it('adapts its descriptor budget to a low process limit (ulimit -n) instead of failing', async () => {
    const child = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fd-limit-child.ts');
    const dir = path.join(root, 'fdlimit');
    const out = await new Promise<string>((resolve, reject) => {
      execFile('sh', ['-c', `ulimit -n 128 && exec "${process.execPath}" --import tsx "${child}" "${dir}" 150`],
        { cwd: path.join(path.dirname(child), '..', '..') }, (err, stdout, stderr) => (err ? reject(new Error(stderr || err.message)) : resolve(stdout)));
    });
    assert.equal(out.trim(), 'ok 150');
  });
});
