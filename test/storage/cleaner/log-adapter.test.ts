// The cleaner on the storage Log itself: compaction through Log.replaceSegments, reads through Log.read,
// a reopen that finds the swapped segments, and compact,delete where retention and compaction both apply.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fsp from 'node:fs/promises';
import { decodeBatchRecords } from '../../../src/protocol/records/batch-records.js';
import { iterateBatches } from '../../../src/protocol/records/batches.js';
import { Compression } from '../../../src/protocol/records/batch-header.js';
import { ManualClock } from '../../../src/storage/clock.js';
import { cleanableLog } from '../../../src/storage/cleaner/log-adapter.js';
import { LogCleaner } from '../../../src/storage/cleaner/log-cleaner.js';
import { Log } from '../../../src/storage/log.js';
import type { LogConfig } from '../../../src/storage/log-config.js';
import { compactConfig, keyedBatch, prng, tempLogDir, type AppendedRecord } from './fixtures.js';

const T0 = 1_700_000_000_000;

async function readAll(log: Log): Promise<AppendedRecord[]> {
  const out: AppendedRecord[] = [];
  let next = log.logStartOffset;
  while (next < log.logEndOffset) {
    const r = await log.read(next, 1 << 20, { upperBound: log.logEndOffset });
    if (r.records.length === 0) break;
    const buf = Buffer.concat(r.records);
    for (const info of iterateBatches(buf)) {
      for (const rec of await decodeBatchRecords(buf, info)) {
        out.push({ offset: rec.offset, key: rec.key?.toString() ?? null, value: rec.value?.toString() ?? null });
      }
      next = info.header.baseOffset + info.header.lastOffsetDelta + 1;
    }
  }
  return out;
}

async function appendKeys(log: Log, random: () => number, n: number, keys: number, ts: () => number): Promise<AppendedRecord[]> {
  const out: AppendedRecord[] = [];
  for (let i = 0; i < n; i++) {
    const key = `k${Math.floor(random() * keys)}`;
    const value = `v${i}-${'y'.repeat(Math.floor(random() * 50))}`;
    const r = await log.append(await keyedBatch([{ key, value, timestamp: ts() }], { compression: i % 3 === 0 ? Compression.gzip : Compression.none }));
    out.push({ offset: r.firstOffset, key, value });
  }
  log.updateHighWatermark(log.logEndOffset);
  return out;
}

function latest(records: readonly AppendedRecord[], end: number): AppendedRecord[] {
  const m = new Map<string, AppendedRecord>();
  for (const r of records) if (r.offset < end) m.set(r.key!, r);
  return [...m.values()].sort((a, b) => a.offset - b.offset);
}

test('compaction through the storage Log, surviving a reopen', async () => {
  const { dir, cleanup } = await tempLogDir('log');
  const clock = new ManualClock(T0);
  const config: LogConfig = compactConfig({ segmentBytes: 2048, fileDeleteDelayMs: 1000 });
  try {
    let log = await Log.open({ dir, config, clock });
    let ts = T0;
    const appended = await appendKeys(log, prng(9), 300, 25, () => (ts += 1));
    const segmentsBefore = log.segments.length;
    assert.ok(segmentsBefore > 5);
    const activeBase = log.segments.at(-1)!.baseOffset;
    const view = cleanableLog(log);
    const cleaner = new LogCleaner({ logs: () => [view], clock, onEvent: (e) => { if (e.kind === 'failed') throw e.error; } });
    assert.equal(await cleaner.cleanOnce(), true);
    assert.equal(await cleaner.manager.checkpointOf(view), activeBase);
    const expected = [...latest(appended, activeBase), ...appended.filter((r) => r.offset >= activeBase)];
    assert.deepEqual(await readAll(log), expected);
    // Replaced segments wait as .deleted files for file.delete.delay.ms.
    assert.ok((await fsp.readdir(dir)).some((n) => n.endsWith('.deleted')));
    clock.advance(1000);
    await log.purgeDeletedSegments();
    assert.ok(!(await fsp.readdir(dir)).some((n) => n.endsWith('.deleted')));
    // A reopen (clean, then unclean) sees the same log.
    await log.close();
    log = await Log.open({ dir, config, clock, cleanShutdown: true });
    log.updateHighWatermark(log.logEndOffset);
    assert.deepEqual(await readAll(log), expected);
    await log.close();
    log = await Log.open({ dir, config, clock, cleanShutdown: false });
    log.updateHighWatermark(log.logEndOffset);
    assert.deepEqual(await readAll(log), expected);
    // Appending after cleaning continues from the same log end offset.
    const r = await log.append(await keyedBatch([{ key: 'new', value: 'after', timestamp: ts + 1 }]));
    assert.equal(r.firstOffset, appended.at(-1)!.offset + 1);
    await log.close();
  } finally {
    await cleanup();
  }
});

test('compact,delete: retention removes old segments and compaction the superseded records', async () => {
  const { dir, cleanup } = await tempLogDir('log');
  const retentionMs = 60 * 60_000;
  const clock = new ManualClock(T0 + 10 * retentionMs);
  const config: LogConfig = compactConfig({ cleanupPolicy: 'compact,delete', segmentBytes: 2048, retentionMs });
  try {
    const log = await Log.open({ dir, config, clock });
    // The first half is far older than retention.ms, the second half recent.
    let ts = T0;
    const old = await appendKeys(log, prng(4), 150, 20, () => (ts += 1));
    await log.roll();
    const boundary = log.logEndOffset;
    ts = clock.now() - 1000;
    const recent = await appendKeys(log, prng(5), 150, 20, () => (ts += 1));
    // As if the old half had been written long ago: a segment emptied by compaction keeps the
    // modification time of what it replaced, and retention measures an empty segment by it.
    for (const seg of log.segments) {
      if (seg.baseOffset < boundary) await fsp.utimes(seg.logPath, new Date(T0 + 1000), new Date(T0 + 1000));
    }
    const view = cleanableLog(log);
    const retentionRuns: string[] = [];
    const cleaner = new LogCleaner({
      logs: () => [view],
      clock,
      deleteOldSegments: (l) => {
        retentionRuns.push(l.name);
        return log.deleteOldSegments();
      },
      onEvent: (e) => { if (e.kind === 'failed') throw e.error; },
    });
    assert.equal(await cleaner.cleanOnce(), true);
    assert.deepEqual(retentionRuns, ['topic-0']);
    // Retention moved the start to the recent half; compaction kept only the latest of each key there.
    assert.equal(log.logStartOffset, boundary);
    const activeBase = log.segments.at(-1)!.baseOffset;
    const records = await readAll(log);
    assert.ok(records.every((r) => r.offset >= boundary));
    assert.deepEqual(records, [...latest(recent, activeBase), ...recent.filter((r) => r.offset >= activeBase)]);
    assert.ok(old.length > 0);
    await log.close();
  } finally {
    await cleanup();
  }
});

test('pausing a partition stops its cleaning until it is resumed', async () => {
  const { dir, cleanup } = await tempLogDir('log');
  const clock = new ManualClock(T0);
  try {
    const log = await Log.open({ dir, config: compactConfig({ segmentBytes: 2048 }), clock });
    let ts = T0;
    await appendKeys(log, prng(1), 100, 5, () => (ts += 1));
    const view = cleanableLog(log);
    const cleaner = new LogCleaner({ logs: () => [view], clock });
    await cleaner.abortAndPauseCleaning(view.name);
    assert.equal(await cleaner.cleanOnce(), false);
    cleaner.resumeCleaning(view.name);
    assert.equal(await cleaner.cleanOnce(), true);
    await log.close();
  } finally {
    await cleanup();
  }
});
