import { test } from 'node:test';
import assert from 'node:assert/strict';
import fsp from 'node:fs/promises';
import { join } from 'node:path';
import { Compression, DELETE_HORIZON_FLAG, computeBatchCrc, CRC_OFFSET } from '../../../src/protocol/records/batch-header.js';
import { ManualClock } from '../../../src/storage/clock.js';
import { Cleaner } from '../../../src/storage/cleaner/cleaner.js';
import { CleanerManager, logToClean } from '../../../src/storage/cleaner/cleaner-manager.js';
import { LogCleaner } from '../../../src/storage/cleaner/log-cleaner.js';
import { OffsetMap } from '../../../src/storage/cleaner/offset-map.js';
import { DirLog } from './dir-log.js';
import {
  appendRandom,
  assertOffsetsIncrease,
  compactConfig,
  flatten,
  keyedBatch,
  latestByKey,
  marker,
  prng,
  tempLogDir,
  type AppendedRecord,
} from './fixtures.js';

const T0 = 1_700_000_000_000;
const DAY = 86_400_000;

function bigCleaner(): Cleaner {
  return new Cleaner({ offsetMap: new OffsetMap({ memory: 24 * 100_000 }), ioBufferSize: 8192 });
}

/** Checks the compaction contract for everything below `end`, and that nothing at or above it changed. */
async function assertCompacted(log: DirLog, appended: readonly AppendedRecord[], end: number, opts: { tombstonesKept: boolean }): Promise<void> {
  const batches = await log.batches();
  assertOffsetsIncrease(batches);
  const stored = flatten(batches);
  const latest = latestByKey(appended, end);
  const below = stored.filter((r) => r.offset < end);
  const seen = new Set<string>();
  for (const r of below) {
    assert.ok(r.key !== null, 'a record without a key survived');
    const want = latest.get(r.key)!;
    assert.equal(r.offset, want.offset, `key ${r.key}: offset ${r.offset} is not its latest (${want.offset})`);
    assert.equal(r.value, want.value);
    assert.ok(!seen.has(r.key), `key ${r.key} appears twice`);
    seen.add(r.key);
  }
  for (const [key, want] of latest) {
    if (want.value === null && !opts.tombstonesKept) assert.ok(!seen.has(key), `tombstone of ${key} outlived its horizon`);
    else assert.ok(seen.has(key), `latest record of ${key} (offset ${want.offset}) was lost`);
  }
  const above = stored.filter((r) => r.offset >= end).map((r) => ({ offset: r.offset, key: r.key, value: r.value }));
  assert.deepEqual(above, appended.filter((r) => r.offset >= end).map((r) => ({ offset: r.offset, key: r.key, value: r.value })));
  for (const b of batches) assert.equal(b.bytes.readUInt32BE(CRC_OFFSET), computeBatchCrc(b.bytes, 0, b.bytes.length));
}

/** Every offset index entry of the cleaned segments points at a batch whose last offset it names; time entries grow. */
async function assertIndexesMatch(dir: string, bases: readonly number[]): Promise<void> {
  let entries = 0;
  for (const base of bases) {
    const name = (ext: string): string => join(dir, `${String(base).padStart(20, '0')}${ext}`);
    const data = await fsp.readFile(name('.log'));
    const index = await fsp.readFile(name('.index'));
    assert.equal(index.length % 8, 0);
    for (let p = 0; p < index.length; p += 8) {
      const rel = index.readInt32BE(p);
      const pos = index.readInt32BE(p + 4);
      assert.equal(Number(data.readBigInt64BE(pos)) + data.readInt32BE(pos + 23), base + rel, `index entry ${p / 8} of ${base}`);
      entries++;
    }
    const time = await fsp.readFile(name('.timeindex'));
    assert.equal(time.length % 12, 0);
    for (let p = 12; p < time.length; p += 12) assert.ok(time.readBigInt64BE(p) > time.readBigInt64BE(p - 12));
  }
  assert.ok(entries > 0, 'no index entries written');
}

test('randomized: every key keeps exactly its latest record at its original offset, across codecs', async () => {
  for (const seed of [1, 2, 3]) {
    const { dir, cleanup } = await tempLogDir();
    try {
      const random = prng(seed);
      const log = await DirLog.open(dir, compactConfig({ segmentBytes: 2048 }));
      let ts = T0;
      const appended = await appendRandom(log, random, {
        batches: 200, keys: 40, tombstoneRate: 0.1, timestamp: () => (ts += 10),
        compressions: [Compression.none, Compression.gzip, Compression.snappy, Compression.lz4, Compression.zstd],
      });
      const segmentsBefore = log.segments().length;
      assert.ok(segmentsBefore > 8, `only ${segmentsBefore} segments`);
      const activeBase = log.segmentBases.at(-1)!;
      const activeBefore = await fsp.readFile(join(dir, `${String(activeBase).padStart(20, '0')}.log`));
      const result = await bigCleaner().clean(log, 0, activeBase, T0 + DAY);
      assert.equal(result.endOffset, activeBase);
      await assertCompacted(log, appended, activeBase, { tombstonesKept: true });
      assert.deepEqual(await fsp.readFile(join(dir, `${String(activeBase).padStart(20, '0')}.log`)), activeBefore);
      assert.ok(result.stats.messagesWritten < result.stats.messagesRead);
      // Tombstones kept by this pass carry their delete horizon in the batch.
      for (const b of await log.batches()) {
        if (b.header.baseOffset < activeBase && b.records.some((r) => r.value === null)) {
          assert.ok((b.header.attributes & DELETE_HORIZON_FLAG) !== 0);
          assert.equal(b.header.baseTimestamp, T0 + DAY + log.config.deleteRetentionMs);
        }
      }
      await assertIndexesMatch(dir, log.segmentBases.slice(0, -1));
      // Cleaning again changes no batch, but the now small segments are merged (grouped by size).
      const before = (await log.batches()).map((b) => b.bytes.toString('hex'));
      await bigCleaner().clean(log, activeBase, activeBase, T0 + DAY);
      assert.deepEqual((await log.batches()).map((b) => b.bytes.toString('hex')), before);
      assert.ok(log.segments().length < segmentsBefore / 2, `segments were not merged: ${log.segmentBases.join(',')}`);
    } finally {
      await cleanup();
    }
  }
});

test('tombstones disappear only once delete.retention.ms has passed since they were first cleaned', async () => {
  const { dir, cleanup } = await tempLogDir();
  try {
    const retention = 10 * 60_000;
    const log = await DirLog.open(dir, compactConfig({ deleteRetentionMs: retention }));
    const appended: AppendedRecord[] = [];
    const add = async (key: string, value: string | null, ts: number): Promise<void> => {
      const offset = await log.append(await keyedBatch([{ key, value, timestamp: ts }]));
      appended.push({ offset, key, value });
    };
    await add('a', 'a1', T0);
    await add('b', 'b1', T0);
    await add('a', null, T0 + 1);
    await log.roll();
    await add('c', 'c1', T0 + 2);
    await log.roll();
    const cleaner = bigCleaner();
    const now = T0 + 1000;
    let r = await cleaner.clean(log, 0, log.logEndOffset, now);
    await assertCompacted(log, appended, r.endOffset, { tombstonesKept: true });
    const keys = flatten(await log.batches()).map((x) => `${x.key}=${x.value}`);
    assert.deepEqual(keys, ['b=b1', 'a=null', 'c=c1']);

    // New dirty data, cleaned just before the horizon: the tombstone stays.
    await add('d', 'd1', T0 + 3);
    await log.roll();
    r = await cleaner.clean(log, r.endOffset, log.logEndOffset, now + retention - 1);
    assert.ok(flatten(await log.batches()).some((x) => x.key === 'a' && x.value === null));

    // After the horizon it goes, and nothing of key `a` remains.
    await add('e', 'e1', T0 + 4);
    await log.roll();
    r = await cleaner.clean(log, r.endOffset, log.logEndOffset, now + retention + 1);
    await assertCompacted(log, appended, r.endOffset, { tombstonesKept: false });
    assert.deepEqual(flatten(await log.batches()).map((x) => x.key), ['b', 'c', 'd', 'e']);
  } finally {
    await cleanup();
  }
});

test('records without a key are dropped by the cleaner', async () => {
  const { dir, cleanup } = await tempLogDir();
  try {
    const log = await DirLog.open(dir, compactConfig());
    await log.append(await keyedBatch([{ key: 'k', value: '1', timestamp: T0 }, { key: null, value: 'orphan', timestamp: T0 }, { key: 'k', value: '2', timestamp: T0 }]));
    await log.roll();
    const r = await bigCleaner().clean(log, 0, log.logEndOffset, T0);
    assert.equal(r.stats.invalidMessagesRead, 1);
    const stored = flatten(await log.batches());
    assert.deepEqual(stored.map((x) => [x.offset, x.key, x.value]), [[2, 'k', '2']]);
    // The batch kept its offsets: base 0, last offset delta 2.
    const [batch] = await log.batches();
    assert.equal(batch!.header.baseOffset, 0);
    assert.equal(batch!.header.lastOffsetDelta, 2);
    assert.equal(batch!.header.recordCount, 1);
  } finally {
    await cleanup();
  }
});

test('a small offset map cleans in several passes and reaches the same result', async () => {
  const { dir, cleanup } = await tempLogDir();
  try {
    const random = prng(42);
    const log = await DirLog.open(dir, compactConfig({ segmentBytes: 2048 }));
    let ts = T0;
    const appended = await appendRandom(log, random, { batches: 120, keys: 60, tombstoneRate: 0.05, timestamp: () => (ts += 1) });
    await log.roll();
    const end = log.logEndOffset;
    const clock = new ManualClock(T0 + DAY);
    const events: number[] = [];
    const cleaner = new LogCleaner({
      config: { dedupeBufferSize: 24 * 20, ioBufferLoadFactor: 0.9, ioBufferSize: 16384 },
      logs: () => [log],
      clock,
      onEvent: (e) => {
        if (e.kind === 'failed') throw e.error;
        if (e.endOffset !== undefined) events.push(e.endOffset);
      },
    });
    let rounds = 0;
    while (await cleaner.cleanOnce()) {
      rounds++;
      if (rounds > 200) assert.fail('cleaning does not converge');
      if (events.at(-1) === end) break;
    }
    assert.ok(events.length > 3, `only ${events.length} passes: ${events.join(',')}`);
    assert.ok(events.every((e, i) => i === 0 || e > events[i - 1]!), 'each pass moves the checkpoint forward');
    assert.equal(events.at(-1), end);
    assert.equal(await cleaner.manager.checkpointOf(log), end);
    await assertCompacted(log, appended, end, { tombstonesKept: true });
    const checkpoint = await fsp.readFile(join(dir, '..', 'cleaner-offset-checkpoint'), 'utf8');
    assert.equal(checkpoint, `0\n1\ntopic 0 ${end}\n`);
  } finally {
    await cleanup();
  }
});

test('nothing newer than min.compaction.lag.ms is touched', async () => {
  const { dir, cleanup } = await tempLogDir();
  try {
    const lag = 60 * 60_000;
    const log = await DirLog.open(dir, compactConfig({ minCompactionLagMs: lag }));
    const random = prng(7);
    let ts = T0;
    const old = await appendRandom(log, random, { batches: 40, keys: 10, timestamp: () => (ts += 10) });
    await log.roll();
    const boundary = log.logEndOffset;
    ts = T0 + 2 * lag;
    const recent = await appendRandom(log, random, { batches: 40, keys: 10, timestamp: () => (ts += 10) });
    await log.roll();
    const now = T0 + 2 * lag + 10_000; // the second half is younger than the lag
    const manager = new CleanerManager(new ManualClock(now));
    const ltc = await manager.measure(log, now);
    assert.equal(ltc.firstUncleanableOffset, boundary);
    const recentBefore = flatten(await log.batches()).filter((r) => r.offset >= boundary).map((r) => r.batch.bytes.toString('hex'));
    const r = await bigCleaner().clean(log, ltc.firstDirtyOffset, ltc.firstUncleanableOffset, now);
    assert.equal(r.endOffset, boundary);
    await assertCompacted(log, [...old, ...recent], boundary, { tombstonesKept: true });
    const recentAfter = flatten(await log.batches()).filter((r) => r.offset >= boundary).map((r) => r.batch.bytes.toString('hex'));
    assert.deepEqual(recentAfter, recentBefore);
  } finally {
    await cleanup();
  }
});

test('the last stable offset bounds the clean to the segments before it', async () => {
  const { dir, cleanup } = await tempLogDir();
  try {
    const log = await DirLog.open(dir, compactConfig({ segmentBytes: 1024 }));
    let ts = T0;
    await appendRandom(log, prng(3), { batches: 60, keys: 5, timestamp: () => (ts += 1) });
    await log.roll();
    const bases = log.segmentBases;
    log.lso = bases[3]! + 1; // inside the fourth segment
    const manager = new CleanerManager(new ManualClock(T0));
    const ltc = await manager.measure(log, T0);
    assert.equal(ltc.firstUncleanableOffset, bases[3]);
  } finally {
    await cleanup();
  }
});

test('aborted transactions lose their records; markers go once their data is gone and the horizon passed', async () => {
  const { dir, cleanup } = await tempLogDir();
  try {
    const log = await DirLog.open(dir, compactConfig({ deleteRetentionMs: 1000 }));
    const t = T0;
    // Producer 7 aborts a transaction, producer 8 commits one, plain records in between.
    await log.append(await keyedBatch([{ key: 'x', value: 'aborted-1', timestamp: t }, { key: 'y', value: 'aborted-2', timestamp: t }], { producerId: 7, transactional: true }));
    await log.append(await keyedBatch([{ key: 'p', value: 'plain', timestamp: t }]));
    await log.append(await keyedBatch([{ key: 'z', value: 'committed', timestamp: t }], { producerId: 8, transactional: true }));
    await log.append(marker('abort', 7, t));
    await log.append(marker('commit', 8, t));
    await log.append(await keyedBatch([{ key: 'x', value: 'x-plain', timestamp: t }]));
    await log.roll();
    const end = log.logEndOffset;
    const cleaner = bigCleaner();
    let r = await cleaner.clean(log, 0, end, T0 + 10);
    let stored = flatten(await log.batches());
    assert.deepEqual(stored.filter((s) => !s.batch.header.attributes || (s.batch.header.attributes & 0x20) === 0).map((s) => `${s.key}=${s.value}`), ['p=plain', 'z=committed', 'x=x-plain']);
    // The abort marker stays this round (its data was only just removed); the commit marker too
    // (its transaction still has data). Both are control batches at their original offsets.
    let markers = (await log.batches()).filter((b) => (b.header.attributes & 0x20) !== 0).map((b) => b.header.baseOffset);
    assert.deepEqual(markers, [4, 5]);
    // The retained abort marker's transaction is still in the cleaned segment's txn index.
    assert.deepEqual((await log.collectAbortedTransactions(0, end)).map((a) => a.producerId), [7]);

    // Next round (new dirty data): the abort marker has no data left; it gets its delete horizon now and
    // goes after it. The commit marker's transaction still has a record, so it stays.
    await log.append(await keyedBatch([{ key: 'q', value: 'q', timestamp: t }]));
    await log.roll();
    r = await cleaner.clean(log, r.endOffset, log.logEndOffset, T0 + 20);
    markers = (await log.batches()).filter((b) => (b.header.attributes & 0x20) !== 0).map((b) => b.header.baseOffset);
    assert.deepEqual(markers, [4, 5]);
    await log.append(await keyedBatch([{ key: 'r', value: 'r', timestamp: t }]));
    await log.roll();
    await cleaner.clean(log, r.endOffset, log.logEndOffset, T0 + 20 + 2000);
    markers = (await log.batches()).filter((b) => (b.header.attributes & 0x20) !== 0).map((b) => b.header.baseOffset);
    assert.deepEqual(markers, [5]);
    stored = flatten(await log.batches());
    assert.ok(!stored.some((s) => s.value === 'aborted-1' || s.value === 'aborted-2'));
    assertOffsetsIncrease(await log.batches());
  } finally {
    await cleanup();
  }
});

test("an active producer's last batch stays as an empty batch with its offsets and sequence", async () => {
  const { dir, cleanup } = await tempLogDir();
  try {
    const log = await DirLog.open(dir, compactConfig());
    await log.append(await keyedBatch([{ key: 'a', value: '1', timestamp: T0 }, { key: 'b', value: '1', timestamp: T0 }], { producerId: 5, producerEpoch: 2, baseSequence: 10 }));
    await log.append(await keyedBatch([{ key: 'a', value: '2', timestamp: T0 + 5 }, { key: 'b', value: '2', timestamp: T0 + 5 }]));
    await log.roll();
    log.producers.set(5, { lastDataOffset: 1, producerEpoch: 2 });
    await bigCleaner().clean(log, 0, log.logEndOffset, T0);
    const batches = await log.batches();
    assert.equal(batches.length, 2);
    const kept = batches[0]!.header;
    assert.deepEqual(
      [kept.baseOffset, kept.lastOffsetDelta, kept.recordCount, kept.producerId, kept.producerEpoch, kept.baseSequence],
      [0, 1, 0, 5, 2, 10],
    );
    assert.equal(batches[0]!.bytes.length, 61);
    // Without the producer, the batch goes entirely.
    log.producers.clear();
    await log.append(await keyedBatch([{ key: 'c', value: '1', timestamp: T0 }]));
    await log.roll();
    await bigCleaner().clean(log, 2, log.logEndOffset, T0);
    assert.deepEqual((await log.batches()).map((b) => b.header.baseOffset), [2, 4]);
  } finally {
    await cleanup();
  }
});

test('the dirty ratio and max.compaction.lag.ms decide which log is cleaned', async () => {
  const { root, cleanup } = await tempLogDir();
  try {
    const mk = async (name: string, cfg: Parameters<typeof compactConfig>[0]): Promise<DirLog> => DirLog.open(join(root, name), compactConfig(cfg));
    const dirty = await mk('dirty-0', { minCleanableDirtyRatio: 0.5 });
    const lagging = await mk('lagging-0', { minCleanableDirtyRatio: 0.99, maxCompactionLagMs: 60_000 });
    const deleteOnly = await mk('plain-0', { cleanupPolicy: 'delete' });
    let ts = T0;
    for (const log of [dirty, lagging, deleteOnly]) {
      await appendRandom(log, prng(5), { batches: 30, keys: 5, timestamp: () => (ts += 1) });
      await log.roll();
    }
    const clock = new ManualClock(T0 + 1000);
    const manager = new CleanerManager(clock);
    // Everything is dirty: ratio 1 for both compacted logs; the plain log is never a candidate.
    const first = await manager.grabFilthiestCompactedLog([deleteOnly, dirty, lagging]);
    assert.ok(first !== undefined && first.log.name !== 'plain-0');
    await manager.doneCleaning(first.log, first.firstUncleanableOffset);
    const second = await manager.grabFilthiestCompactedLog([deleteOnly, dirty, lagging]);
    assert.ok(second !== undefined && second.log !== first.log);
    await manager.doneCleaning(second.log, second.firstUncleanableOffset);
    // Now a little new data: ratio below both thresholds, and nothing is old enough to force a clean.
    for (const log of [dirty, lagging]) {
      await log.append(await keyedBatch([{ key: 'n', value: 'n', timestamp: T0 + 1000 }]));
      await log.roll();
    }
    assert.equal(await manager.grabFilthiestCompactedLog([dirty, lagging]), undefined);
    // Past max.compaction.lag.ms the lagging log must be cleaned whatever its ratio.
    clock.advance(120_000);
    const forced = await manager.grabFilthiestCompactedLog([dirty, lagging]);
    assert.equal(forced?.log.name, 'lagging-0');
    assert.ok(forced!.needCompactionNow);
    assert.ok(forced!.cleanableRatio < 0.99);
    const ltc = logToClean(lagging, forced!.firstDirtyOffset, forced!.firstUncleanableOffset, 0);
    assert.equal(ltc.cleanBytes + ltc.cleanableBytes, ltc.totalBytes);
  } finally {
    await cleanup();
  }
});
