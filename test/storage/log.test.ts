import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { NO_PARTITION_LEADER_EPOCH, PARTITION_LEADER_EPOCH_OFFSET, readInt64 } from '../../src/protocol/records/batch-header.js';
import { ManualClock } from '../../src/storage/clock.js';
import { isLogError } from '../../src/storage/log-errors.js';
import { ListOffsetsTimestamp } from '../../src/storage/log.js';
import { Compression } from '../../src/protocol/records/batch-header.js';
import { buildBatchSync, buildControlBatch } from '../../src/protocol/records/builder.js';
import { batch, openLog, readAll, summarize, tempDir } from './helpers.js';

describe('Log', () => {
  let root: string;
  let cleanup: () => Promise<void>;
  let n = 0;
  const fresh = (): string => path.join(root, `t-${n++}`);
  before(async () => ({ dir: root, cleanup } = await tempDir()));
  after(() => cleanup());

  it('assigns contiguous offsets and reads back exactly what was appended', async () => {
    const log = await openLog(fresh());
    const sent: Buffer[] = [];
    for (let i = 0; i < 10; i++) {
      const b = batch(i + 1, 50, { seed: i });
      const r = await log.append(b, { leaderEpoch: 3 });
      sent.push(Buffer.from(b));
      assert.equal(r.firstOffset, sent.length === 1 ? 0 : summarize(Buffer.concat(sent.slice(0, -1))).at(-1)!.lastOffset + 1);
      assert.equal(r.lastOffset - r.firstOffset, i);
      assert.equal(r.duplicate, false);
    }
    assert.equal(log.logEndOffset, 55);
    const back = await readAll(log);
    assert.deepEqual(back, sent);
    assert.equal(back[0]!.readInt32BE(PARTITION_LEADER_EPOCH_OFFSET), 3);
    assert.equal(log.leaderEpochCache.latestEpoch(), 3);
    await log.close();
  });

  it('an append issued while another operation is queued waits its turn; the ones after it keep their order', async () => {
    const log = await openLog(fresh());
    await log.append(batch(2, 50, { seed: 1 }));
    // Issued without waiting: the roll is queued, so the appends behind it must not complete first (in the old
    // segment), and the second append, whose path would be free again later, must not overtake the first.
    const rolled = log.roll();
    const first = log.append(batch(3, 50, { seed: 2 }));
    const second = log.append(batch(1, 50, { seed: 3 }));
    await rolled;
    const [a, b] = await Promise.all([first, second]);
    assert.deepEqual([a.firstOffset, a.lastOffset, b.firstOffset, b.lastOffset], [2, 4, 5, 5]);
    assert.deepEqual(log.segments.map((seg) => seg.baseOffset), [0, 2]);
    // With the log idle, an append completes without the queue and lands in order after those.
    const third = await log.append(batch(2, 50, { seed: 4 }));
    assert.deepEqual([third.firstOffset, third.lastOffset], [6, 7]);
    assert.deepEqual(summarize(Buffer.concat(await readAll(log))).map((x) => x.baseOffset), [0, 2, 5, 6]);
    await log.close();
  });

  it('honours maxBytes, minOneMessage and the upper bound, returning whole batches only', async () => {
    const log = await openLog(fresh());
    for (let i = 0; i < 5; i++) await log.append(batch(2, 400, { seed: i }));
    const one = summarize((await log.read(0, 10_000, {})).records[0]!);
    assert.equal(one.length, 5);
    const size = one[0]!.size;
    // maxBytes smaller than a batch: nothing without minOneMessage, exactly one batch with it.
    assert.equal((await log.read(0, size - 1, {})).records.length, 0);
    const min = await log.read(0, size - 1, { minOneMessage: true });
    assert.deepEqual(summarize(min.records[0]!).map((b) => b.baseOffset), [0]);
    // maxBytes covering 2.5 batches returns 2 whole batches.
    const partial = await log.read(0, Math.floor(size * 2.5), {});
    assert.deepEqual(summarize(partial.records[0]!).map((b) => b.baseOffset), [0, 2]);
    // Reading from the middle of a batch starts at that batch; the upper bound (e.g. HW=6) excludes batches at or past it.
    const bounded = await log.read(3, 10_000, { upperBound: 6 });
    assert.deepEqual(summarize(bounded.records[0]!).map((b) => b.baseOffset), [2, 4]);
    assert.equal(bounded.firstEntryOffset, 2);
    // At the end: empty, not an error.
    assert.equal((await log.read(10, 1000, {})).records.length, 0);
    await assert.rejects(log.read(11, 1000, {}), (e) => isLogError(e, 'OFFSET_OUT_OF_RANGE'));
    await log.close();
  });

  it('rolls by size and reads across segments', async () => {
    const log = await openLog(fresh(), { segmentBytes: 2000 });
    for (let i = 0; i < 12; i++) await log.append(batch(1, 500, { seed: i }));
    assert.ok(log.segments.length >= 4, `segments: ${log.segments.length}`);
    for (const seg of log.segments.slice(0, -1)) assert.ok(seg.size <= 2000);
    const back = await readAll(log, 100_000);
    assert.deepEqual(back.map((b) => readInt64(b, 0)), Array.from({ length: 12 }, (_, i) => i));
    // Every segment's base offset is the offset of its first batch.
    for (const seg of log.segments) {
      const first = (await seg.batchLocations())[0];
      if (first) assert.equal(first.baseOffset, seg.baseOffset);
    }
    await log.close();
  });

  it('rolls by time from the first batch timestamp (segment.ms) and refuses a larger-than-segment append', async () => {
    const clock = new ManualClock(1_000_000);
    const log = await openLog(fresh(), { segmentMs: 1000 }, { clock });
    await log.append(batch(1, 10, { timestamp: 5_000 }));
    await log.append(batch(1, 10, { timestamp: 5_900 }));
    assert.equal(log.segments.length, 1);
    await log.append(batch(1, 10, { timestamp: 6_001 }));
    assert.deepEqual(log.segments.map((s) => s.baseOffset), [0, 2]);
    await log.close();
    const small = await openLog(fresh(), { segmentBytes: 100 });
    await assert.rejects(small.append(batch(1, 200)), (e) => isLogError(e, 'RECORD_BATCH_TOO_LARGE'));
    await small.close();
  });

  it('rolls when the offset index is full', async () => {
    // 40 bytes: 5 offset index entries; the constant timestamp keeps the time index at one entry.
    const log = await openLog(fresh(), { segmentIndexBytes: 40, indexIntervalBytes: 0 });
    for (let i = 0; i < 8; i++) await log.append(batch(1, 10));
    // Batches 1..5 of the first segment are indexed (the first never is); the 7th append rolls.
    assert.deepEqual(log.segments.map((s) => s.baseOffset), [0, 6]);
    assert.equal(log.segments[0]!.offsetIndex.entries, 5);
    await log.close();
  });

  it('rolls before a relative offset would overflow (replication path keeps offsets)', async () => {
    const log = await openLog(fresh());
    await log.append(batch(1, 10, { baseOffset: 0 }), { origin: 'replication' });
    const far = 2 ** 31 + 5;
    await log.append(batch(2, 10, { baseOffset: far }), { origin: 'replication' });
    assert.deepEqual(log.segments.map((s) => s.baseOffset), [0, far]);
    assert.equal(log.logEndOffset, far + 2);
    await assert.rejects(log.append(batch(1, 10, { baseOffset: 3 }), { origin: 'replication' }), (e) => isLogError(e, 'INVALID_RECORD'));
    const r = await log.read(far, 1000, {});
    assert.deepEqual(summarize(r.records[0]!).map((b) => b.baseOffset), [far]);
    await log.close();
  });

  it('finds offsets by timestamp, earliest, latest and max timestamp', async () => {
    const log = await openLog(fresh(), { indexIntervalBytes: 1 });
    const ts = [100, 200, 200, 300, 250, 400];
    for (const [i, t] of ts.entries()) await log.append(batch(2, 20, { timestamp: t, seed: i }));
    assert.deepEqual(await log.fetchOffsetByTimestamp(150), { timestamp: 200, offset: 2 });
    assert.deepEqual(await log.fetchOffsetByTimestamp(260), { timestamp: 300, offset: 6 });
    assert.deepEqual(await log.fetchOffsetByTimestamp(400), { timestamp: 400, offset: 10 });
    assert.equal(await log.fetchOffsetByTimestamp(401), undefined);
    assert.equal((await log.fetchOffsetByTimestamp(ListOffsetsTimestamp.EARLIEST))!.offset, 0);
    assert.equal((await log.fetchOffsetByTimestamp(ListOffsetsTimestamp.LATEST))!.offset, 12);
    // The first record carrying the largest timestamp (all records of a batch share it here).
    assert.deepEqual(await log.fetchOffsetByTimestamp(ListOffsetsTimestamp.MAX_TIMESTAMP), { timestamp: 400, offset: 10 });
    await log.close();
  });

  it('finds the exact record by timestamp inside batches, compressed ones included', async () => {
    const log = await openLog(fresh(), { retentionMs: -1 });
    const rec = (ts: number): { key: string; value: string; timestamp: number } => ({ key: `k${ts}`, value: `v${ts}`, timestamp: ts });
    await log.append(buildBatchSync([rec(100), rec(150), rec(120)], {}));
    await log.append(buildBatchSync([rec(200), rec(180)], { compression: Compression.gzip }));
    await log.append(buildBatchSync([rec(170), rec(175)], { compression: Compression.lz4 }));
    assert.deepEqual(await log.fetchOffsetByTimestamp(121), { timestamp: 150, offset: 1 });
    assert.deepEqual(await log.fetchOffsetByTimestamp(160), { timestamp: 200, offset: 3 });
    assert.deepEqual(await log.fetchOffsetByTimestamp(176), { timestamp: 200, offset: 3 });
    assert.deepEqual(await log.fetchOffsetByTimestamp(50), { timestamp: 100, offset: 0 });
    assert.equal(await log.fetchOffsetByTimestamp(201), undefined);
    assert.deepEqual(await log.fetchOffsetByTimestamp(ListOffsetsTimestamp.MAX_TIMESTAMP), { timestamp: 200, offset: 3 });
    // DeleteRecords past the first records: the search starts at the log start offset.
    log.updateHighWatermark(log.logEndOffset);
    await log.deleteRecordsBefore(2);
    assert.equal(log.logStartOffset, 2);
    assert.deepEqual(await log.fetchOffsetByTimestamp(110), { timestamp: 120, offset: 2 });
    assert.deepEqual(await log.fetchOffsetByTimestamp(121), { timestamp: 200, offset: 3 });
    await log.close();
  });

  it('truncates to an offset (dropping later segments) and fully restarts at an offset', async () => {
    const log = await openLog(fresh(), { segmentBytes: 1500 });
    for (let i = 0; i < 10; i++) await log.append(batch(2, 300, { seed: i }), { leaderEpoch: i < 5 ? 1 : 2 });
    assert.ok(log.segments.length > 2);
    assert.equal(await log.truncateTo(7), true);
    // Truncation keeps whole batches below the target: batch [6,7] goes entirely.
    assert.equal(log.logEndOffset, 6);
    assert.equal(log.segments.at(-1)!.baseOffset <= 6, true);
    assert.deepEqual((await readAll(log)).map((b) => readInt64(b, 0)), [0, 2, 4]);
    assert.equal(log.leaderEpochCache.latestEpoch(), 1);
    const r = await log.append(batch(1, 10));
    assert.equal(r.firstOffset, 6);
    await log.truncateFullyAndStartAt(100);
    assert.equal(log.logStartOffset, 100);
    assert.equal(log.logEndOffset, 100);
    assert.deepEqual(log.segments.map((s) => s.baseOffset), [100]);
    assert.equal((await log.append(batch(1, 10))).firstOffset, 100);
    await log.close();
  });

  it('DeleteRecords moves the log start offset and removes segments below it after the delay', async () => {
    const clock = new ManualClock();
    const dir = fresh();
    const log = await openLog(dir, { segmentBytes: 1000, fileDeleteDelayMs: 5000 }, { clock });
    for (let i = 0; i < 10; i++) await log.append(batch(1, 400, { seed: i }));
    await assert.rejects(log.deleteRecordsBefore(5), (e) => isLogError(e, 'OFFSET_OUT_OF_RANGE'));
    log.updateHighWatermark(log.logEndOffset);
    await log.deleteRecordsBefore(5);
    assert.equal(log.logStartOffset, 5);
    assert.ok(log.segments[0]!.baseOffset <= 5 && log.segments[0]!.baseOffset > 0);
    await assert.rejects(log.read(4, 1000, {}), (e) => isLogError(e, 'OFFSET_OUT_OF_RANGE'));
    assert.equal(readInt64((await log.read(5, 1000, {})).records[0]!, 0), 5);
    const deleted = (await fs.readdir(dir)).filter((f) => f.endsWith('.deleted'));
    assert.ok(deleted.some((f) => f === '00000000000000000000.log.deleted'));
    clock.advance(4999);
    assert.equal(await log.purgeDeletedSegments(), 0);
    clock.advance(1);
    assert.ok((await log.purgeDeletedSegments()) > 0);
    assert.deepEqual((await fs.readdir(dir)).filter((f) => f.endsWith('.deleted')), []);
    await log.close();
  });

  it('retention by time deletes old segments, including a full active segment after rolling', async () => {
    const clock = new ManualClock(1_000_000);
    const log = await openLog(fresh(), { segmentBytes: 1000, retentionMs: 10_000 }, { clock });
    for (let i = 0; i < 6; i++) await log.append(batch(1, 400, { timestamp: 1_000_000 + i * 1000, seed: i }));
    log.updateHighWatermark(log.logEndOffset);
    const segs = log.segments.map((s) => s.baseOffset);
    assert.deepEqual(segs, [0, 2, 4]);
    clock.set(1_000_000 + 1000 + 10_001); // segment 0's newest record (ts +1000) is now past retention
    assert.equal(await log.deleteOldSegments(), 1);
    assert.equal(log.logStartOffset, 2);
    clock.set(1_000_000 + 100_000);
    assert.equal(await log.deleteOldSegments(), 2);
    // Everything expired: an empty active segment at the log end offset remains.
    assert.deepEqual(log.segments.map((s) => [s.baseOffset, s.size]), [[6, 0]]);
    assert.equal(log.logStartOffset, 6);
    assert.equal(log.logEndOffset, 6);
    await log.close();
  });

  it('retention by size keeps at least retention.bytes and never deletes above the high watermark', async () => {
    const log = await openLog(fresh(), { segmentBytes: 1000, retentionBytes: 1500, retentionMs: -1 });
    for (let i = 0; i < 8; i++) await log.append(batch(1, 400, { seed: i }));
    const sizes = log.segments.map((s) => s.size);
    assert.equal(await log.deleteOldSegments(), 0, 'nothing is deletable below HW 0');
    log.updateHighWatermark(log.logEndOffset);
    const deleted = await log.deleteOldSegments();
    assert.ok(deleted > 0);
    const total = sizes.reduce((a, b) => a + b, 0);
    const removed = sizes.slice(0, deleted).reduce((a, b) => a + b, 0);
    assert.ok(total - removed >= 1500, 'at least retention.bytes remain');
    assert.ok(total - removed - sizes[deleted]! < 1500, 'one more deletion would go below retention.bytes');
    await log.close();
  });

  it('stamps LogAppendTime and reports it', async () => {
    const clock = new ManualClock(42_000);
    const log = await openLog(fresh(), { messageTimestampType: 'LogAppendTime' }, { clock });
    const r = await log.append(batch(2, 10, { timestamp: 5 }));
    assert.equal(r.logAppendTime, 42_000);
    assert.equal(r.maxTimestamp, 42_000);
    const back = (await readAll(log))[0]!;
    assert.equal(readInt64(back, 35), 42_000);
    await log.close();
  });

  it('answers a retried idempotent batch with its original offsets and refuses a sequence gap', async () => {
    const log = await openLog(fresh());
    const p = { producerId: 7, producerEpoch: 0 };
    const first = await log.append(batch(3, 10, { ...p, baseSequence: 0 }));
    await log.append(batch(1, 10, { seed: 9 }));
    const retry = await log.append(batch(3, 10, { ...p, baseSequence: 0 }));
    assert.equal(retry.duplicate, true);
    assert.equal(retry.firstOffset, first.firstOffset);
    assert.equal(retry.lastOffset, first.lastOffset);
    assert.equal(log.logEndOffset, 4);
    await assert.rejects(log.append(batch(1, 10, { ...p, baseSequence: 5 })), (e) => isLogError(e, 'OUT_OF_ORDER_SEQUENCE_NUMBER'));
    await log.close();
  });

  it('refuses corrupt input before touching the log', async () => {
    const log = await openLog(fresh());
    const b = batch(2, 50);
    b[b.length - 1]! ^= 0xff;
    await assert.rejects(log.append(b), (e) => isLogError(e, 'CORRUPT_MESSAGE'));
    await assert.rejects(log.append(batch(2, 50).subarray(0, 70)), (e) => isLogError(e, 'CORRUPT_MESSAGE'));
    await assert.rejects(openLog(fresh(), { maxMessageBytes: 100 }).then((l) => l.append(batch(2, 200))),
      (e) => isLogError(e, 'RECORD_TOO_LARGE'));
    assert.equal(log.logEndOffset, 0);
    assert.equal(log.segments[0]!.size, 0);
    await log.close();
  });

  it('durable mode acknowledges concurrent appends with shared fsyncs', async () => {
    const log = await openLog(fresh(), { durableAppend: true });
    const results = await Promise.all(Array.from({ length: 64 }, (_, i) => log.append(batch(1, 100, { seed: i }))));
    const offsets = results.map((r) => r.firstOffset).sort((a, b) => a - b);
    assert.deepEqual(offsets, Array.from({ length: 64 }, (_, i) => i));
    assert.ok(log.groupCommitSyncs < 64, `fsyncs: ${log.groupCommitSyncs}`);
    assert.equal(log.recoveryPoint, 64);
    await log.close();
  });

  it('reopens after a clean shutdown without scanning, and recovers from the recovery point otherwise', async () => {
    const dir = fresh();
    const log = await openLog(dir, { segmentBytes: 1000 });
    for (let i = 0; i < 10; i++) await log.append(batch(1, 300, { seed: i }), { leaderEpoch: NO_PARTITION_LEADER_EPOCH });
    const before = await readAll(log);
    await log.close();
    const clean = await openLog(dir, { segmentBytes: 1000 }, { cleanShutdown: true });
    assert.equal(clean.recoveryReport.segmentsScanned, 0);
    assert.equal(clean.recoveryReport.batchesScanned, 0);
    assert.equal(clean.logEndOffset, 10);
    assert.deepEqual(await readAll(clean), before);
    await clean.close();
    const unclean = await openLog(dir, { segmentBytes: 1000 }, { cleanShutdown: false, recoveryPoint: 7 });
    const seg7 = unclean.segments.filter((s) => s.baseOffset <= 7).at(-1)!.baseOffset;
    assert.equal(unclean.recoveryReport.segmentsScanned, unclean.segments.filter((s) => s.baseOffset >= seg7).length);
    assert.equal(unclean.logEndOffset, 10);
    assert.deepEqual(await readAll(unclean), before);
    await unclean.close();
  });
  it('tracks transactions: LSO, the aborted-transaction index (Kafka bytes) and its rebuild by recovery', async () => {
    const dir = fresh();
    const log = await openLog(dir);
    const txn = { producerId: 5, producerEpoch: 0, transactional: true };
    await log.append(batch(3, 10, { ...txn, baseSequence: 0 }));
    await log.append(batch(1, 10, { seed: 1 }));
    log.updateHighWatermark(log.logEndOffset);
    assert.equal(log.lastStableOffset, 0, 'the open transaction holds the LSO at its first offset');
    const marker = buildControlBatch({ type: 'abort', producerId: 5, producerEpoch: 0, coordinatorEpoch: 2, timestamp: 1_700_000_000_000 });
    const m = await log.append(marker, { origin: 'coordinator' });
    assert.equal(m.firstOffset, 4);
    assert.equal(log.lastStableOffset, 0, 'unstable until the high watermark passes the marker');
    log.updateHighWatermark(log.logEndOffset);
    assert.equal(log.lastStableOffset, 5);
    const expected = [{ producerId: 5, firstOffset: 0, lastOffset: 4, lastStableOffset: 5 }];
    const r = await log.read(0, 100_000, { includeAbortedTransactions: true });
    assert.deepEqual(r.abortedTransactions, expected);
    // .txnindex entry: int16 version 0, int64 producerId, int64 firstOffset, int64 lastOffset, int64 lastStableOffset.
    const entry = Buffer.alloc(34);
    entry.writeBigInt64BE(5n, 2);
    entry.writeBigInt64BE(0n, 10);
    entry.writeBigInt64BE(4n, 18);
    entry.writeBigInt64BE(5n, 26);
    await log.flush();
    assert.deepEqual(await fs.readFile(path.join(dir, '00000000000000000000.txnindex')), entry);
    log.closeHandles();
    // Unclean reopen: recovery resets and rebuilds the transaction index from the markers.
    const again = await openLog(dir, {}, { recoveryPoint: 0 });
    assert.equal(again.recoveryReport.segmentsScanned, 1);
    assert.deepEqual(await fs.readFile(path.join(dir, '00000000000000000000.txnindex')), entry);
    again.updateHighWatermark(again.logEndOffset);
    assert.deepEqual((await again.read(0, 100_000, { includeAbortedTransactions: true })).abortedTransactions, expected);
    assert.equal(again.lastStableOffset, 5);
    await again.close();
  });
  it('rolls by wall-clock age when batches carry no timestamp, minus the per-segment jitter', async () => {
    const clock = new ManualClock(1_000_000);
    const log = await openLog(fresh(), { segmentMs: 1000, segmentJitterMs: 400 }, { clock, random: () => 0.5 });
    assert.equal(log.segments[0]!.rollJitterMs, 200);
    await log.append(batch(1, 10, { timestamp: -1 }));
    clock.advance(800);
    await log.append(batch(1, 10, { timestamp: -1 }));
    assert.equal(log.segments.length, 1, 'age 800 is not above 1000 - 200');
    clock.advance(1);
    await log.append(batch(1, 10, { timestamp: -1 }));
    assert.deepEqual(log.segments.map((s) => s.baseOffset), [0, 2]);
    await log.close();
  });
});
