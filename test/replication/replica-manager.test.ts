import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../src/protocol/errors.js';
import { Compression, CRC_OFFSET, readBatchHeader } from '../../src/protocol/records/batch-header.js';
import { buildBatchSync, buildControlBatch } from '../../src/protocol/records/builder.js';
import { buildLegacyMessageSet } from '../../src/protocol/records/legacy.js';
import { iterateBatches } from '../../src/protocol/records/batches.js';
import { ManualClock } from '../../src/storage/clock.js';
import { logConfig } from '../../src/storage/log-config.js';
import { PartitionMetadataFile } from '../../src/storage/partition-metadata.js';
import { partitionConfig } from '../../src/replication/partition-config.js';
import { IsolationLevel, type FetchParams, type FetchPartitionRequest } from '../../src/replication/replica-manager.js';
import { decodeAll, fixture, lead, records, TOPIC_ID, values } from './helpers.js';

const consumer = (over: Partial<FetchParams> = {}): FetchParams => ({
  replicaId: -1, maxWaitMs: 0, minBytes: 1, maxBytes: 1 << 20, isolationLevel: IsolationLevel.READ_UNCOMMITTED, ...over,
});
const at = (topic: string, fetchOffset: number, partition = 0, partitionMaxBytes = 1 << 20): FetchPartitionRequest =>
  ({ topic, partition, fetchOffset, partitionMaxBytes, currentLeaderEpoch: -1 });

/** The promise's value if it settles within `ms` (far below the waits these tests set), else undefined. */
async function settledWithin<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<undefined>((r) => { timer = setTimeout(() => r(undefined), ms); })]);
  } finally {
    clearTimeout(timer);
  }
}

test('appends assign offsets, move the high watermark and read back', async () => {
  const f = await fixture();
  try {
    await lead(f.rm, 't');
    const r1 = await f.rm.appendRecords({ entries: [{ topic: 't', partition: 0, records: records(['a', 'b']) }], requiredAcks: -1, timeoutMs: 1000 });
    const r2 = await f.rm.appendRecords({ entries: [{ topic: 't', partition: 0, records: records(['c']) }], requiredAcks: 1, timeoutMs: 1000 });
    assert.deepEqual([r1[0]!.errorCode, r1[0]!.baseOffset, r2[0]!.baseOffset], [ErrorCode.NONE, 0, 2]);
    assert.equal(r1[0]!.logAppendTime, -1);
    assert.equal(r1[0]!.logStartOffset, 0);
    const [fetched] = await f.rm.fetchMessages(consumer(), [at('t', 0)]);
    assert.equal(fetched!.errorCode, ErrorCode.NONE);
    assert.equal(fetched!.highWatermark, 3);
    assert.equal(fetched!.lastStableOffset, 3);
    assert.equal(fetched!.abortedTransactions, null);
    const rs = await decodeAll(fetched!.records);
    assert.deepEqual(values(rs), ['a', 'b', 'c']);
    assert.deepEqual(rs.map((r) => r.offset), [0, 1, 2]);
    const [mid] = await f.rm.fetchMessages(consumer(), [at('t', 2)]);
    assert.deepEqual(values(await decodeAll(mid!.records)), ['c']);
    const [end] = await f.rm.fetchMessages(consumer(), [at('t', 3)]);
    assert.equal(end!.records, null);
  } finally {
    await f.close();
  }
});

test('unknown partitions, bad acks and offsets out of range get their Kafka errors', async () => {
  const f = await fixture({ partitionExists: (t) => t === 'elsewhere' });
  try {
    await lead(f.rm, 't');
    const res = await f.rm.appendRecords({
      entries: [
        { topic: 'nope', partition: 0, records: records(['x']) },
        { topic: 'elsewhere', partition: 0, records: records(['x']) },
        { topic: 't', partition: 0, records: records(['x']) },
      ],
      requiredAcks: 1, timeoutMs: 1000,
    });
    assert.deepEqual(res.map((r) => r.errorCode), [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, ErrorCode.NOT_LEADER_OR_FOLLOWER, ErrorCode.NONE]);
    assert.deepEqual(res.map((r) => r.baseOffset), [-1, -1, 0]);
    for (const acks of [2, -2, 5]) {
      const bad = await f.rm.appendRecords({ entries: [{ topic: 't', partition: 0, records: records(['x']) }], requiredAcks: acks, timeoutMs: 1000 });
      assert.equal(bad[0]!.errorCode, ErrorCode.INVALID_REQUIRED_ACKS);
    }
    const empty = (produceVersion: number, records: Buffer | null) =>
      f.rm.appendRecords({ entries: [{ topic: 't', partition: 0, records }], requiredAcks: 1, timeoutMs: 1000, produceVersion });
    assert.deepEqual((await empty(2, Buffer.alloc(0))).map((r) => [r.errorCode, r.baseOffset]), [[ErrorCode.NONE, -1]]);
    assert.equal((await empty(9, Buffer.alloc(0)))[0]!.errorCode, ErrorCode.INVALID_RECORD);
    assert.equal((await empty(2, null))[0]!.errorCode, ErrorCode.INVALID_RECORD);
    const [oor] = await f.rm.fetchMessages(consumer(), [at('t', 5)]);
    assert.deepEqual([oor!.errorCode, oor!.highWatermark, oor!.logStartOffset], [ErrorCode.OFFSET_OUT_OF_RANGE, -1, -1]);
    const [unknown] = await f.rm.fetchMessages(consumer(), [at('nope', 0)]);
    assert.equal(unknown!.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  } finally {
    await f.close();
  }
});

test('acks=all with min.insync.replicas above the ISR is refused; acks=1 is not', async () => {
  const f = await fixture();
  try {
    await lead(f.rm, 't', 0, { minInsyncReplicas: 2 });
    const all = await f.rm.appendRecords({ entries: [{ topic: 't', partition: 0, records: records(['x']) }], requiredAcks: -1, timeoutMs: 1000 });
    assert.equal(all[0]!.errorCode, ErrorCode.NOT_ENOUGH_REPLICAS);
    assert.equal(f.rm.getPartition('t', 0)!.log.logEndOffset, 0, 'nothing was appended');
    const one = await f.rm.appendRecords({ entries: [{ topic: 't', partition: 0, records: records(['x']) }], requiredAcks: 1, timeoutMs: 1000 });
    assert.equal(one[0]!.errorCode, ErrorCode.NONE);
  } finally {
    await f.close();
  }
});

test('oversized, corrupt, invalid and badly timestamped batches are refused per partition', async () => {
  const clock = new ManualClock(1_700_000_000_000);
  const f = await fixture({ clock });
  try {
    await lead(f.rm, 'small', 0, { log: logConfig({ maxMessageBytes: 200 }) });
    await lead(f.rm, 'strict', 0, { timestampBeforeMaxMs: 60_000, timestampAfterMaxMs: 1_000 });
    await lead(f.rm, 'plain');
    const corrupt = records(['x'], { timestamp: clock.now() });
    corrupt.writeUInt32BE((corrupt.readUInt32BE(CRC_OFFSET) + 1) >>> 0, CRC_OFFSET);
    const twoBatches = Buffer.concat([records(['a'], { timestamp: clock.now() }), records(['b'], { timestamp: clock.now() })]);
    const res = await f.rm.appendRecords({
      entries: [
        { topic: 'small', partition: 0, records: records(['x'.repeat(500)], { timestamp: clock.now() }) },
        { topic: 'plain', partition: 0, records: corrupt },
        { topic: 'strict', partition: 0, records: records(['old'], { timestamp: clock.now() - 120_000 }) },
        { topic: 'strict', partition: 0, records: records(['future'], { timestamp: clock.now() + 5_000 }) },
        { topic: 'strict', partition: 0, records: records(['fine'], { timestamp: clock.now() - 30_000 }) },
      ],
      requiredAcks: 1, timeoutMs: 1000, produceVersion: 9,
    });
    assert.deepEqual(res.map((r) => r.errorCode), [
      ErrorCode.MESSAGE_TOO_LARGE, ErrorCode.CORRUPT_MESSAGE, ErrorCode.INVALID_TIMESTAMP, ErrorCode.INVALID_TIMESTAMP, ErrorCode.NONE,
    ]);
    const multi = await f.rm.appendRecords({ entries: [{ topic: 'plain', partition: 0, records: twoBatches }], requiredAcks: 1, timeoutMs: 1000, produceVersion: 9 });
    assert.equal(multi[0]!.errorCode, ErrorCode.INVALID_RECORD, 'Produce v3+ allows one batch per partition');
    const old = await f.rm.appendRecords({ entries: [{ topic: 'plain', partition: 0, records: twoBatches }], requiredAcks: 1, timeoutMs: 1000, produceVersion: 2 });
    assert.equal(old[0]!.errorCode, ErrorCode.NONE);
    const compacted = await lead(f.rm, 'compacted', 0, { log: logConfig({ cleanupPolicy: 'compact' }) });
    const keyed = records(['v'], { timestamp: clock.now() });
    const keyless = buildBatchSync([{ key: 'k', value: 'v' }, { key: null, value: 'v2' }], { timestamp: clock.now() });
    const r = await f.rm.appendRecords({ entries: [{ topic: 'compacted', partition: 0, records: keyless }], requiredAcks: 1, timeoutMs: 1000, produceVersion: 9 });
    assert.equal(r[0]!.errorCode, ErrorCode.INVALID_RECORD);
    assert.deepEqual(r[0]!.recordErrors.map((e) => e.batchIndex), [1]);
    const ok = await f.rm.appendRecords({ entries: [{ topic: 'compacted', partition: 0, records: keyed }], requiredAcks: 1, timeoutMs: 1000 });
    assert.equal(ok[0]!.errorCode, ErrorCode.NONE);
    assert.equal(compacted.log.logEndOffset, 1);
  } finally {
    await f.close();
  }
});

test('LogAppendTime topics stamp the broker time and report it', async () => {
  const clock = new ManualClock(1_800_000_000_000);
  const f = await fixture({ clock });
  try {
    await lead(f.rm, 't', 0, { log: logConfig({ messageTimestampType: 'LogAppendTime' }) });
    const res = await f.rm.appendRecords({ entries: [{ topic: 't', partition: 0, records: records(['a', 'b'], { timestamp: 5 }) }], requiredAcks: 1, timeoutMs: 1000 });
    assert.equal(res[0]!.logAppendTime, clock.now());
    const [fetched] = await f.rm.fetchMessages(consumer(), [at('t', 0)]);
    const rs = await decodeAll(fetched!.records);
    assert.deepEqual(rs.map((r) => r.timestamp), [clock.now(), clock.now()]);
  } finally {
    await f.close();
  }
});

test('compression.type recompresses batches whose codec differs; producer keeps them', async () => {
  const f = await fixture();
  try {
    await lead(f.rm, 'gz', 0, { compressionType: 'gzip' });
    await lead(f.rm, 'plain', 0, { compressionType: 'uncompressed' });
    await lead(f.rm, 'asis');
    const snappy = records(['one', 'two', 'three'], { compression: Compression.snappy, producerId: 7, producerEpoch: 0, baseSequence: 0 });
    const res = await f.rm.appendRecords({
      entries: [
        { topic: 'gz', partition: 0, records: records(['one', 'two', 'three']) },
        { topic: 'plain', partition: 0, records: snappy },
        { topic: 'asis', partition: 0, records: Buffer.from(snappy) },
      ],
      requiredAcks: 1, timeoutMs: 1000,
    });
    assert.deepEqual(res.map((r) => r.errorCode), [0, 0, 0]);
    const fetched = await f.rm.fetchMessages(consumer(), [at('gz', 0), at('plain', 0), at('asis', 0)]);
    const codecs = fetched.map((r) => [...iterateBatches(r.records!)].map((b) => b.header.attributes & 7));
    assert.deepEqual(codecs, [[Compression.gzip], [Compression.none], [Compression.snappy]]);
    for (const r of fetched) assert.deepEqual(values(await decodeAll(r.records)), ['one', 'two', 'three']);
    const h = readBatchHeader(fetched[1]!.records!, 0);
    assert.deepEqual([h.producerId, h.producerEpoch, h.baseSequence], [7, 0, 0], 'producer fields survive recompression');
  } finally {
    await f.close();
  }
});

test('idempotent producers: duplicates return the first offsets, gaps and stale epochs are refused', async () => {
  const f = await fixture();
  try {
    await lead(f.rm, 't');
    const send = (buf: Buffer) => f.rm.appendRecords({ entries: [{ topic: 't', partition: 0, records: buf }], requiredAcks: -1, timeoutMs: 1000, produceVersion: 9 });
    const b0 = records(['a', 'b'], { producerId: 42, producerEpoch: 1, baseSequence: 0 });
    const first = await send(Buffer.from(b0));
    const again = await send(Buffer.from(b0));
    assert.deepEqual([first[0]!.baseOffset, again[0]!.baseOffset, again[0]!.errorCode], [0, 0, ErrorCode.NONE]);
    assert.equal(f.rm.getPartition('t', 0)!.log.logEndOffset, 2);
    const gap = await send(records(['c'], { producerId: 42, producerEpoch: 1, baseSequence: 5 }));
    assert.equal(gap[0]!.errorCode, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    const stale = await send(records(['c'], { producerId: 42, producerEpoch: 0, baseSequence: 2 }));
    assert.equal(stale[0]!.errorCode, ErrorCode.INVALID_PRODUCER_EPOCH);
    const producers = f.rm.describeProducers({ topic: 't', partition: 0 });
    assert.deepEqual(producers.map((p) => [p.producerId, p.producerEpoch, p.lastSequence, p.currentTxnStartOffset]), [[42, 1, 1, -1]]);
  } finally {
    await f.close();
  }
});

test('a fetch at the end waits and is woken by an append', { timeout: 15_000 }, async () => {
  const f = await fixture();
  try {
    await lead(f.rm, 't');
    const pending = f.rm.fetchMessages(consumer({ maxWaitMs: 30_000 }), [at('t', 0)]);
    await new Promise((r) => setImmediate(r));
    assert.equal(f.rm.fetchPurgatory.delayed, 1);
    await f.rm.appendRecords({ entries: [{ topic: 't', partition: 0, records: records(['wake']) }], requiredAcks: 1, timeoutMs: 1000 });
    const [r] = await pending;
    assert.deepEqual(values(await decodeAll(r!.records)), ['wake']);
    assert.equal(f.rm.fetchPurgatory.delayed, 0);
  } finally {
    await f.close();
  }
});

test('records appended while a fetch is reading still wake it once it waits', { timeout: 15_000 }, async () => {
  const f = await fixture();
  try {
    await lead(f.rm, 't');
    await f.rm.appendRecords({ entries: [{ topic: 't', partition: 0, records: records(['before']) }], requiredAcks: 1, timeoutMs: 1000 });
    // The fetch reads (finding nothing past offset 1), and the append lands before the fetch decides to wait:
    // it is already past what the fetch read, so no later append may be needed to wake it.
    const pending = f.rm.fetchMessages(consumer({ maxWaitMs: 60_000 }), [at('t', 1)]);
    const appended = f.rm.appendRecordsFast({ entries: [{ topic: 't', partition: 0, records: records(['during']) }], requiredAcks: 1, timeoutMs: 1000 });
    assert.ok(Array.isArray(appended), 'the append is made within the call, while the fetch is between its read and its wait');
    const answered = await settledWithin(pending, 5_000);
    assert.ok(answered !== undefined, 'the fetch was answered without waiting out its max wait');
    assert.deepEqual(values(await decodeAll(answered[0]!.records)), ['during']);
    assert.equal(f.rm.fetchPurgatory.delayed, 0);
  } finally {
    await f.close();
  }
});

test('a fetch naming a leader epoch that changed before it waits is answered at once', { timeout: 15_000 }, async () => {
  const f = await fixture();
  try {
    await lead(f.rm, 't');
    const pending = f.rm.fetchMessages(consumer({ maxWaitMs: 60_000 }), [{ ...at('t', 0), currentLeaderEpoch: 0 }]);
    // A new epoch between the fetch's read and its wait: the wait must not outlive the epoch it names.
    const leading = lead(f.rm, 't', 0, {}, 1);
    const answered = await settledWithin(pending, 5_000);
    await leading;
    assert.ok(answered !== undefined, 'the fetch was answered without waiting out its max wait');
    assert.equal(answered[0]!.errorCode, ErrorCode.FENCED_LEADER_EPOCH);
  } finally {
    await f.close();
  }
});

test('min.bytes: a small append does not complete the wait, enough bytes do; maxWait ends it empty', { timeout: 15_000 }, async () => {
  const f = await fixture();
  try {
    await lead(f.rm, 't');
    const one = records(['x'.repeat(100)]);
    const pending = f.rm.fetchMessages(consumer({ maxWaitMs: 30_000, minBytes: one.length * 3 }), [at('t', 0)]);
    await new Promise((r) => setImmediate(r));
    await f.rm.appendRecords({ entries: [{ topic: 't', partition: 0, records: Buffer.from(one) }], requiredAcks: 1, timeoutMs: 1000 });
    assert.equal(f.rm.fetchPurgatory.delayed, 1, 'one batch is below min.bytes');
    await f.rm.appendRecords({ entries: [{ topic: 't', partition: 0, records: records(['y'.repeat(100)]) }], requiredAcks: 1, timeoutMs: 1000 });
    await f.rm.appendRecords({ entries: [{ topic: 't', partition: 0, records: records(['z'.repeat(100)]) }], requiredAcks: 1, timeoutMs: 1000 });
    const [r] = await pending;
    assert.equal((await decodeAll(r!.records)).length, 3);
    const [expired] = await f.rm.fetchMessages(consumer({ maxWaitMs: 50, minBytes: 1 << 20 }), [at('t', 3)]);
    assert.deepEqual([expired!.errorCode, expired!.records, expired!.highWatermark], [ErrorCode.NONE, null, 3]);
  } finally {
    await f.close();
  }
});

test('max.bytes: the first batch is returned whole, later partitions only within the budget', async () => {
  const f = await fixture();
  try {
    await lead(f.rm, 'a');
    await lead(f.rm, 'b');
    const big = records(['x'.repeat(1000)]);
    await f.rm.appendRecords({ entries: [{ topic: 'a', partition: 0, records: Buffer.from(big) }, { topic: 'b', partition: 0, records: Buffer.from(big) }], requiredAcks: 1, timeoutMs: 1000 });
    const small = await f.rm.fetchMessages(consumer({ maxBytes: 10 }), [at('a', 0), at('b', 0)]);
    assert.equal(small[0]!.records!.length, big.length, 'first batch whole despite maxBytes');
    assert.equal(small[1]!.records, null, 'budget spent');
    const perPartition = await f.rm.fetchMessages(consumer(), [at('a', 0, 0, 10), at('b', 0, 0, 10)]);
    assert.equal(perPartition[0]!.records!.length, big.length);
    assert.equal(perPartition[1]!.records, null);
    const emptyFirst = await f.rm.fetchMessages(consumer({ maxBytes: 10 }), [at('a', 1), at('b', 0)]);
    assert.equal(emptyFirst[1]!.records!.length, big.length, 'the first partition with data gets the exemption');
    const hard = await f.rm.fetchMessages(consumer({ maxBytes: 10, hardMaxBytesLimit: true }), [at('a', 0)]);
    assert.equal(hard[0]!.records, null, 'fetch v0-2: no exemption');
  } finally {
    await f.close();
  }
});

test('read_committed stops at the last stable offset and lists aborted transactions', async () => {
  const f = await fixture();
  try {
    await lead(f.rm, 't');
    const txn = { producerId: 9, producerEpoch: 0, transactional: true };
    await f.rm.appendRecords({ entries: [{ topic: 't', partition: 0, records: records(['plain']) }], requiredAcks: 1, timeoutMs: 1000 });
    await f.rm.appendRecords({ entries: [{ topic: 't', partition: 0, records: records(['t1', 't2'], { ...txn, baseSequence: 0 }) }], requiredAcks: 1, timeoutMs: 1000 });
    const committed = await f.rm.fetchMessages(consumer({ isolationLevel: IsolationLevel.READ_COMMITTED }), [at('t', 0)]);
    assert.equal(committed[0]!.lastStableOffset, 1);
    assert.deepEqual(values(await decodeAll(committed[0]!.records)), ['plain']);
    assert.deepEqual(committed[0]!.abortedTransactions, []);
    const uncommitted = await f.rm.fetchMessages(consumer(), [at('t', 0)]);
    assert.deepEqual(values(await decodeAll(uncommitted[0]!.records)), ['plain', 't1', 't2']);
    assert.equal((await f.rm.fetchOffsetForTimestamp({ topic: 't', partition: 0 }, -1, IsolationLevel.READ_COMMITTED, -1))!.offset, 1);
    assert.equal((await f.rm.fetchOffsetForTimestamp({ topic: 't', partition: 0 }, -1, IsolationLevel.READ_UNCOMMITTED, -1))!.offset, 3);
    const marker = buildControlBatch({ type: 'abort', producerId: 9, producerEpoch: 0, coordinatorEpoch: 0 });
    const m = await f.rm.appendRecords({ entries: [{ topic: 't', partition: 0, records: marker }], requiredAcks: -1, timeoutMs: 1000, origin: 'coordinator' });
    assert.equal(m[0]!.errorCode, ErrorCode.NONE);
    const after = await f.rm.fetchMessages(consumer({ isolationLevel: IsolationLevel.READ_COMMITTED }), [at('t', 0)]);
    assert.equal(after[0]!.lastStableOffset, 4);
    assert.deepEqual(after[0]!.abortedTransactions, [{ producerId: 9, firstOffset: 1 }]);
    const client = await f.rm.appendRecords({ entries: [{ topic: 't', partition: 0, records: buildControlBatch({ type: 'commit', producerId: 9, producerEpoch: 0, coordinatorEpoch: 0 }) }], requiredAcks: 1, timeoutMs: 1000 });
    assert.equal(client[0]!.errorCode, ErrorCode.INVALID_RECORD, 'clients may not write markers');
  } finally {
    await f.close();
  }
});

test('ListOffsets: earliest, latest, max timestamp, by timestamp, leader epochs', async () => {
  const f = await fixture();
  try {
    await lead(f.rm, 't', 0, {}, 3);
    const tp = { topic: 't', partition: 0 };
    await f.rm.appendRecords({ entries: [{ topic: 't', partition: 0, records: records(['a'], { timestamp: 1000 }) }], requiredAcks: 1, timeoutMs: 1000 });
    await f.rm.appendRecords({ entries: [{ topic: 't', partition: 0, records: records(['b'], { timestamp: 3000 }) }], requiredAcks: 1, timeoutMs: 1000 });
    await f.rm.appendRecords({ entries: [{ topic: 't', partition: 0, records: records(['c'], { timestamp: 2000 }) }], requiredAcks: 1, timeoutMs: 1000 });
    const ask = (ts: number) => f.rm.fetchOffsetForTimestamp(tp, ts, IsolationLevel.READ_UNCOMMITTED, -1);
    assert.deepEqual(await ask(-2), { timestamp: -1, offset: 0, leaderEpoch: 3 });
    assert.deepEqual(await ask(-1), { timestamp: -1, offset: 3, leaderEpoch: 3 });
    assert.deepEqual(await ask(-3), { timestamp: 3000, offset: 1, leaderEpoch: 3 });
    assert.deepEqual(await ask(1500), { timestamp: 3000, offset: 1, leaderEpoch: 3 });
    assert.equal(await ask(5000), undefined);
    assert.deepEqual(await ask(-4), { timestamp: -1, offset: 0, leaderEpoch: 3 });
    assert.deepEqual(await ask(-5), { timestamp: -1, offset: -1, leaderEpoch: -1 });
    await assert.rejects(f.rm.fetchOffsetForTimestamp(tp, -1, 0, 2), (e: { errorCode: number }) => e.errorCode === ErrorCode.FENCED_LEADER_EPOCH);
    await assert.rejects(f.rm.fetchOffsetForTimestamp(tp, -1, 0, 4), (e: { errorCode: number }) => e.errorCode === ErrorCode.UNKNOWN_LEADER_EPOCH);
    assert.deepEqual(await f.rm.legacyOffsets(tp, -1, 10), [3, 0]);
    assert.deepEqual(await f.rm.legacyOffsets(tp, -2, 10), [0]);
  } finally {
    await f.close();
  }
});

test('OffsetForLeaderEpoch answers from the epoch cache', async () => {
  const f = await fixture();
  try {
    await lead(f.rm, 't', 0, {}, 0);
    await f.rm.appendRecords({ entries: [{ topic: 't', partition: 0, records: records(['a', 'b']) }], requiredAcks: 1, timeoutMs: 1000 });
    await lead(f.rm, 't', 0, {}, 2);
    await f.rm.appendRecords({ entries: [{ topic: 't', partition: 0, records: records(['c']) }], requiredAcks: 1, timeoutMs: 1000 });
    const tp = { topic: 't', partition: 0 };
    assert.deepEqual(f.rm.lastOffsetForLeaderEpoch(tp, -1, 0, true), { errorCode: 0, leaderEpoch: 0, endOffset: 2 });
    assert.deepEqual(f.rm.lastOffsetForLeaderEpoch(tp, -1, 1, true), { errorCode: 0, leaderEpoch: 0, endOffset: 2 });
    assert.deepEqual(f.rm.lastOffsetForLeaderEpoch(tp, 2, 2, true), { errorCode: 0, leaderEpoch: 2, endOffset: 3 });
    assert.deepEqual(f.rm.lastOffsetForLeaderEpoch(tp, -1, 7, true), { errorCode: 0, leaderEpoch: -1, endOffset: -1 });
    assert.equal(f.rm.lastOffsetForLeaderEpoch(tp, 1, 0, true).errorCode, ErrorCode.FENCED_LEADER_EPOCH);
    assert.equal(f.rm.lastOffsetForLeaderEpoch({ topic: 'x', partition: 0 }, -1, 0, true).errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  } finally {
    await f.close();
  }
});

test('DeleteRecords moves the log start offset within the high watermark, not on compacted topics', async () => {
  const f = await fixture();
  try {
    await lead(f.rm, 't');
    await lead(f.rm, 'c', 0, { log: logConfig({ cleanupPolicy: 'compact' }) });
    await f.rm.appendRecords({ entries: [{ topic: 't', partition: 0, records: records(['a', 'b', 'c', 'd']) }], requiredAcks: 1, timeoutMs: 1000 });
    const tp = { topic: 't', partition: 0 };
    assert.deepEqual(await f.rm.deleteRecords(tp, 2), { errorCode: 0, lowWatermark: 2 });
    assert.deepEqual(await f.rm.deleteRecords(tp, 9), { errorCode: ErrorCode.OFFSET_OUT_OF_RANGE, lowWatermark: -1 });
    assert.deepEqual(await f.rm.deleteRecords(tp, -1), { errorCode: 0, lowWatermark: 4 });
    assert.equal((await f.rm.deleteRecords({ topic: 'c', partition: 0 }, -1)).errorCode, ErrorCode.POLICY_VIOLATION);
    const [below] = await f.rm.fetchMessages(consumer(), [at('t', 1)]);
    assert.equal(below!.errorCode, ErrorCode.OFFSET_OUT_OF_RANGE);
    assert.deepEqual(await f.rm.fetchOffsetForTimestamp(tp, -2, 0, -1), { timestamp: -1, offset: 4, leaderEpoch: 0 });
  } finally {
    await f.close();
  }
});

test('stopping a partition answers the fetches waiting on it', { timeout: 15_000 }, async () => {
  const f = await fixture();
  try {
    await lead(f.rm, 't');
    const pending = f.rm.fetchMessages(consumer({ maxWaitMs: 30_000 }), [at('t', 0)]);
    await new Promise((r) => setImmediate(r));
    await f.rm.stopPartition({ topic: 't', partition: 0 }, { delete: true });
    const [r] = await pending;
    assert.equal(r!.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    assert.equal(f.logManager.getLog('t', 0), undefined);
  } finally {
    await f.close();
  }
});

test('legacy magic 0/1 message sets are up-converted on old Produce versions, refused on v3+', async () => {
  const f = await fixture();
  try {
    await lead(f.rm, 't');
    const v1 = buildLegacyMessageSet([{ key: 'a', value: 'one', timestamp: 1234 }, { value: 'two', timestamp: 1235 }], { magic: 1 });
    const v0 = buildLegacyMessageSet([{ value: 'three' }], { magic: 0, compression: Compression.gzip });
    const res = await f.rm.appendRecords({ entries: [{ topic: 't', partition: 0, records: v1 }], requiredAcks: 1, timeoutMs: 1000, produceVersion: 2 });
    const res0 = await f.rm.appendRecords({ entries: [{ topic: 't', partition: 0, records: v0 }], requiredAcks: 1, timeoutMs: 1000, produceVersion: 0 });
    assert.deepEqual([res[0]!.errorCode, res[0]!.baseOffset, res0[0]!.baseOffset], [0, 0, 2]);
    const refused = await f.rm.appendRecords({ entries: [{ topic: 't', partition: 0, records: v1 }], requiredAcks: 1, timeoutMs: 1000, produceVersion: 3 });
    assert.equal(refused[0]!.errorCode, ErrorCode.INVALID_RECORD);
    const [r] = await f.rm.fetchMessages(consumer(), [at('t', 0)]);
    const rs = await decodeAll(r!.records);
    assert.deepEqual(values(rs), ['one', 'two', 'three']);
    assert.deepEqual(rs.slice(0, 2).map((x) => x.timestamp), [1234, 1235]);
  } finally {
    await f.close();
  }
});

test('DescribeLogDirs lists partitions with sizes and disk space', async () => {
  const f = await fixture();
  try {
    await lead(f.rm, 't', 0);
    await lead(f.rm, 't', 1);
    await f.rm.appendRecords({ entries: [{ topic: 't', partition: 1, records: records(['abc']) }], requiredAcks: 1, timeoutMs: 1000 });
    const dirs = await f.rm.describeLogDirs();
    assert.equal(dirs.length, 1);
    const d = dirs[0]!;
    assert.equal(d.errorCode, 0);
    assert.ok(d.totalBytes > 0 && d.usableBytes > 0 && d.usableBytes <= d.totalBytes);
    const sizes = Object.fromEntries(d.partitions.map((p) => [p.partition, p.size]));
    assert.equal(sizes[0], 0);
    assert.equal(sizes[1], f.rm.getPartition('t', 1)!.log.size);
    assert.ok(sizes[1]! > 0);
    const only = await f.rm.describeLogDirs((t, p) => t === 't' && p === 1);
    assert.deepEqual(only[0]!.partitions.map((p) => p.partition), [1]);
  } finally {
    await f.close();
  }
});

test('partition.metadata records the topic id; a log of another topic id is refused', async () => {
  const f = await fixture();
  try {
    const p = await lead(f.rm, 't');
    assert.equal((await new PartitionMetadataFile(p.log.dir).read())!.topicId, TOPIC_ID);
    await f.rm.stopPartition({ topic: 't', partition: 0 }, { delete: false });
    await assert.rejects(
      f.rm.ensureLeaderPartition({ topic: 't', topicId: '0b9c6f4e-1a2b-4c3d-8e9f-0123456789ab', partition: 0, leaderEpoch: 1, config: partitionConfig() }),
      (e: { errorCode: number }) => e.errorCode === ErrorCode.INCONSISTENT_TOPIC_ID,
    );
    assert.equal(f.rm.getPartition('t', 0), undefined);
    assert.ok(await lead(f.rm, 't', 0, {}, 1), 'the right id is accepted again');
  } finally {
    await f.close();
  }
});
