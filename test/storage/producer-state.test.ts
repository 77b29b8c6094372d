import { test } from 'node:test';
import assert from 'node:assert/strict';
import { access, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { buildBatchSync, buildControlBatch } from '../../src/protocol/records/builder.js';
import { crc32c } from '../../src/protocol/records/crc32c.js';
import { CorruptFileError } from '../../src/storage/checkpoint-file.js';
import {
  AppendOrigin,
  ProducerStateEntry,
  ProducerStateError,
  ProducerStateManager,
  abortedTxnOf,
  batchLastSequence,
  decodeProducerSnapshot,
  decrementSequence,
  encodeProducerSnapshot,
  incrementSequence,
  offsetOfSnapshotFile,
  producerBatchAt,
  producerBatchesIn,
  snapshotFileName,
  type CompletedTxnWithLso,
  type ProducerBatch,
  type ProducerStateManagerOptions,
  VerificationGuard,
} from '../../src/storage/producer-state.js';
import { ManualClock } from '../../src/storage/clock.js';
import { isStrataError } from '../../src/protocol/strata-error.js';
import { TransactionIndex, type AbortedTxn } from '../../src/storage/txn-index.js';

const INT32_MAX = 0x7fffffff;
const T0 = 1_700_000_000_000;

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'strata-pstate-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const exists = (p: string): Promise<boolean> => access(p).then(() => true, () => false);

interface DataOpts {
  pid: number;
  epoch?: number;
  seq: number;
  base: number;
  count?: number;
  txn?: boolean;
  ts?: number;
}
const data = (o: DataOpts): ProducerBatch => ({
  producerId: o.pid,
  producerEpoch: o.epoch ?? 0,
  baseSequence: o.seq,
  baseOffset: o.base,
  lastOffsetDelta: (o.count ?? 1) - 1,
  maxTimestamp: o.ts ?? T0,
  isTransactional: o.txn ?? false,
  isControl: false,
});
const marker = (pid: number, offset: number, type: 'commit' | 'abort', o: { epoch?: number; coord?: number; ts?: number } = {}): ProducerBatch => ({
  producerId: pid,
  producerEpoch: o.epoch ?? 0,
  baseSequence: -1,
  baseOffset: offset,
  lastOffsetDelta: 0,
  maxTimestamp: o.ts ?? T0,
  isTransactional: true,
  isControl: true,
  endTxnMarker: { type: type === 'abort' ? 0 : 1, coordinatorEpoch: o.coord ?? 0, timestamp: o.ts ?? T0 },
});

/** The Log's leader path: analyze, then apply when not a duplicate. */
function append(psm: ProducerStateManager, batches: ProducerBatch[], origin: AppendOrigin = AppendOrigin.client) {
  const analysis = psm.analyze(batches, origin);
  if (analysis.duplicate !== undefined) return { duplicate: analysis.duplicate, completed: [] as CompletedTxnWithLso[] };
  const last = batches[batches.length - 1]!;
  const completed = psm.applyAppend(analysis, last.baseOffset + last.lastOffsetDelta + 1);
  return { duplicate: undefined, completed };
}

const rejectsWith = (fn: () => unknown, kafkaError: string): void => {
  assert.throws(fn, (e: unknown) => e instanceof ProducerStateError && e.kafkaError === kafkaError && e.code === 'ERR_STATE');
};

const open = (dir: string, options: ProducerStateManagerOptions = {}): Promise<ProducerStateManager> =>
  ProducerStateManager.open(dir, { clock: new ManualClock(T0), ...options });

test('sequence arithmetic wraps at Int32.MAX', () => {
  assert.equal(incrementSequence(5, 3), 8);
  assert.equal(incrementSequence(INT32_MAX, 1), 0);
  assert.equal(incrementSequence(INT32_MAX - 1, 3), 1);
  assert.equal(decrementSequence(1, 3), INT32_MAX - 1);
  assert.equal(decrementSequence(0, 1), INT32_MAX);
  assert.equal(decrementSequence(10, 4), 6);
  assert.equal(batchLastSequence(data({ pid: 1, seq: INT32_MAX - 1, base: 0, count: 4 })), 1);
  assert.equal(batchLastSequence({ ...data({ pid: 1, seq: 0, base: 0, count: 4 }), baseSequence: -1 }), -1);
});

test('an unknown producer may start at any sequence; then sequences must follow on', () =>
  withDir(async (dir) => {
    const psm = await open(dir);
    append(psm, [data({ pid: 7, seq: 42, base: 0, count: 3 })]);
    assert.equal(psm.lastEntry(7)!.lastSeq, 44);
    append(psm, [data({ pid: 7, seq: 45, base: 3, count: 2 })]);
    rejectsWith(() => psm.analyze([data({ pid: 7, seq: 48, base: 5 })], AppendOrigin.client), 'OUT_OF_ORDER_SEQUENCE_NUMBER');
    rejectsWith(() => psm.analyze([data({ pid: 7, seq: 46, base: 5 })], AppendOrigin.client), 'OUT_OF_ORDER_SEQUENCE_NUMBER');
    // A refused append leaves no trace.
    assert.equal(psm.lastEntry(7)!.lastSeq, 46);
    assert.equal(psm.mapEndOffset, 5);
  }));

test('each of the last five batches is detected as a duplicate with its original offsets; the sixth is out of order', () =>
  withDir(async (dir) => {
    const psm = await open(dir);
    const batches: ProducerBatch[] = [];
    let offset = 100;
    for (let i = 0; i < 6; i++) {
      const b = data({ pid: 1, epoch: 2, seq: i * 10, base: offset, count: 10, ts: T0 + i });
      batches.push(b);
      append(psm, [b]);
      offset += 10 + 5; // other producers' data between them
    }
    assert.equal(psm.lastEntry(1)!.batchMetadata.length, 5);
    for (let i = 1; i < 6; i++) {
      // The retry carries new (wrong) offsets; the answer must be the original ones.
      const retry = { ...batches[i]!, baseOffset: 999 };
      const analysis = psm.analyze([retry], AppendOrigin.client);
      assert.ok(analysis.duplicate, `batch ${i}`);
      assert.equal(analysis.duplicate.lastOffset - analysis.duplicate.offsetDelta, batches[i]!.baseOffset);
      assert.equal(analysis.duplicate.lastOffset, batches[i]!.baseOffset + 9);
      assert.equal(analysis.duplicate.timestamp, T0 + i);
    }
    // Kafka keeps five: a retry of the sixth-newest is neither a duplicate nor in sequence.
    rejectsWith(() => psm.analyze([{ ...batches[0]!, baseOffset: 999 }], AppendOrigin.client), 'OUT_OF_ORDER_SEQUENCE_NUMBER');
    // Same first sequence but a different range is not a duplicate either.
    rejectsWith(
      () => psm.analyze([data({ pid: 1, epoch: 2, seq: 50, base: 999, count: 3 })], AppendOrigin.client),
      'OUT_OF_ORDER_SEQUENCE_NUMBER',
    );
    // Duplicates are a client concern: a replica appends what the leader wrote.
    assert.equal(psm.analyze([{ ...batches[5]!, baseOffset: 999 }], AppendOrigin.replication).duplicate, undefined);
  }));

test('a new epoch must start at sequence 0 and forgets the old epoch; a stale epoch is INVALID_PRODUCER_EPOCH', () =>
  withDir(async (dir) => {
    const psm = await open(dir);
    append(psm, [data({ pid: 3, epoch: 0, seq: 0, base: 0, count: 5 })]);
    rejectsWith(() => psm.analyze([data({ pid: 3, epoch: 1, seq: 5, base: 5 })], AppendOrigin.client), 'OUT_OF_ORDER_SEQUENCE_NUMBER');
    append(psm, [data({ pid: 3, epoch: 1, seq: 0, base: 5, count: 2 })]);
    const entry = psm.lastEntry(3)!;
    assert.equal(entry.producerEpoch, 1);
    assert.deepEqual(
      entry.batchMetadata.map((b) => b.lastOffset),
      [6],
    );
    // The old epoch's batch is not a duplicate any more; its epoch is stale.
    rejectsWith(() => psm.analyze([data({ pid: 3, epoch: 0, seq: 0, base: 7, count: 5 })], AppendOrigin.client), 'INVALID_PRODUCER_EPOCH');
    rejectsWith(() => psm.analyze([data({ pid: 3, epoch: 0, seq: 5, base: 7 })], AppendOrigin.coordinator), 'INVALID_PRODUCER_EPOCH');
    // Replication follows the leader whatever the epoch.
    append(psm, [data({ pid: 3, epoch: 0, seq: 5, base: 7 })], AppendOrigin.replication);
    assert.equal(psm.lastEntry(3)!.producerEpoch, 0);
  }));

test('sequences wrap from Int32.MAX to 0', () =>
  withDir(async (dir) => {
    const psm = await open(dir);
    append(psm, [data({ pid: 9, seq: INT32_MAX - 2, base: 0, count: 3 })]);
    assert.equal(psm.lastEntry(9)!.lastSeq, INT32_MAX);
    append(psm, [data({ pid: 9, seq: 0, base: 3, count: 2 })]);
    append(psm, [data({ pid: 9, seq: 2, base: 5, count: 4 })]);
    // A batch spanning the wrap.
    const psm2 = await open(dir);
    append(psm2, [data({ pid: 9, seq: INT32_MAX - 5, base: 0, count: 4 })]);
    append(psm2, [data({ pid: 9, seq: INT32_MAX - 1, base: 4, count: 4 })]);
    assert.equal(psm2.lastEntry(9)!.lastSeq, 1);
    const dup = psm2.analyze([data({ pid: 9, seq: INT32_MAX - 1, base: 50, count: 4 })], AppendOrigin.client).duplicate;
    assert.equal(dup?.lastOffset, 7);
    rejectsWith(() => psm2.analyze([data({ pid: 9, seq: 3, base: 8 })], AppendOrigin.client), 'OUT_OF_ORDER_SEQUENCE_NUMBER');
    append(psm2, [data({ pid: 9, seq: 2, base: 8 })]);
  }));

test('several batches of one producer in one append are validated against each other', () =>
  withDir(async (dir) => {
    const psm = await open(dir);
    append(psm, [data({ pid: 1, seq: 0, base: 0, count: 2 }), data({ pid: 1, seq: 2, base: 2, count: 2 }), data({ pid: 2, seq: 0, base: 4 })]);
    assert.equal(psm.lastEntry(1)!.lastSeq, 3);
    assert.equal(psm.lastEntry(1)!.batchMetadata.length, 2);
    rejectsWith(
      () => psm.analyze([data({ pid: 1, seq: 4, base: 5 }), data({ pid: 1, seq: 6, base: 6 })], AppendOrigin.client),
      'OUT_OF_ORDER_SEQUENCE_NUMBER',
    );
    assert.equal(psm.lastEntry(1)!.lastSeq, 3);
  }));

test('coordinator appends check epochs but not sequences', () =>
  withDir(async (dir) => {
    const psm = await open(dir);
    append(psm, [data({ pid: 4, epoch: 2, seq: 0, base: 0 })], AppendOrigin.coordinator);
    append(psm, [data({ pid: 4, epoch: 2, seq: 77, base: 1 })], AppendOrigin.coordinator);
    rejectsWith(() => psm.analyze([data({ pid: 4, epoch: 1, seq: 78, base: 2 })], AppendOrigin.coordinator), 'INVALID_PRODUCER_EPOCH');
  }));

test('batches without a producer id only move the map end offset', () =>
  withDir(async (dir) => {
    const psm = await open(dir);
    const plain = data({ pid: -1, seq: -1, base: 0, count: 10 });
    const { completed } = append(psm, [plain]);
    assert.deepEqual(completed, []);
    assert.equal(psm.producerIdCount, 0);
    assert.equal(psm.mapEndOffset, 10);
    psm.updateFromBatch(data({ pid: -1, seq: -1, base: 10, count: 5 }));
    assert.equal(psm.mapEndOffset, 15);
  }));

test('transactions: first unstable offset, LSO per completed transaction, markers and the high watermark', () =>
  withDir(async (dir) => {
    const psm = await open(dir);
    append(psm, [data({ pid: 1, seq: 0, base: 0, count: 2, txn: true })]); // txn A [0..
    append(psm, [data({ pid: 2, seq: 0, base: 2, count: 2, txn: true })]); // txn B [2..
    append(psm, [data({ pid: 1, seq: 2, base: 4, count: 1, txn: true })]);
    assert.equal(psm.firstUnstableOffset(), 0);
    assert.deepEqual(psm.ongoingTransactions().map((t) => t.firstOffset), [0, 2]);
    rejectsWith(() => psm.analyze([data({ pid: 1, seq: 3, base: 5 })], AppendOrigin.client), 'INVALID_TXN_STATE');

    // Abort A at 5: B is still open, so the LSO recorded with A is B's first offset.
    let r = append(psm, [marker(1, 5, 'abort')], AppendOrigin.coordinator);
    assert.deepEqual(r.completed, [{ txn: { producerId: 1, firstOffset: 0, lastOffset: 5, isAborted: true }, lastStableOffset: 2 }]);
    assert.deepEqual(abortedTxnOf(r.completed[0]!.txn, r.completed[0]!.lastStableOffset), {
      producerId: 1,
      firstOffset: 0,
      lastOffset: 5,
      lastStableOffset: 2,
    });
    // A is decided but its marker is not below the high watermark yet.
    assert.equal(psm.firstUnstableOffset(), 0);
    assert.equal(psm.firstUndecidedOffset(), 2);
    psm.onHighWatermarkUpdated(5);
    assert.equal(psm.firstUnstableOffset(), 0);
    psm.onHighWatermarkUpdated(6);
    assert.equal(psm.firstUnstableOffset(), 2);

    // Commit B at 6: nothing else open, LSO is right after the marker.
    r = append(psm, [marker(2, 6, 'commit')], AppendOrigin.coordinator);
    assert.deepEqual(r.completed, [{ txn: { producerId: 2, firstOffset: 2, lastOffset: 6, isAborted: false }, lastStableOffset: 7 }]);
    assert.equal(psm.firstUnstableOffset(), 2);
    psm.onHighWatermarkUpdated(7);
    assert.equal(psm.firstUnstableOffset(), undefined);
    assert.equal(psm.lastEntry(2)!.currentTxnFirstOffset, undefined);

    // A marker with no open transaction completes nothing; the producer may go on non-transactionally.
    r = append(psm, [marker(2, 7, 'commit')], AppendOrigin.coordinator);
    assert.deepEqual(r.completed, []);
    append(psm, [data({ pid: 2, seq: 2, base: 8 })]);
  }));

test('a marker from an older coordinator epoch is TRANSACTION_COORDINATOR_FENCED (except on replicas)', () =>
  withDir(async (dir) => {
    const psm = await open(dir);
    append(psm, [data({ pid: 1, seq: 0, base: 0, txn: true })]);
    append(psm, [marker(1, 1, 'commit', { coord: 5 })], AppendOrigin.coordinator);
    assert.equal(psm.lastEntry(1)!.coordinatorEpoch, 5);
    append(psm, [data({ pid: 1, seq: 1, base: 2, txn: true })]);
    rejectsWith(() => psm.analyze([marker(1, 3, 'abort', { coord: 4 })], AppendOrigin.coordinator), 'TRANSACTION_COORDINATOR_FENCED');
    rejectsWith(() => psm.analyze([marker(1, 3, 'abort', { epoch: -1, coord: 5 })], AppendOrigin.coordinator), 'INVALID_PRODUCER_EPOCH');
    const r = append(psm, [marker(1, 3, 'abort', { coord: 4 })], AppendOrigin.replication);
    assert.equal(r.completed.length, 1);
  }));

test('real batches: producer fields and transaction markers are read from the bytes', () => {
  const dataBytes = buildBatchSync([{ value: 'a' }, { value: 'b' }, { value: 'c' }], {
    baseOffset: 40,
    producerId: 12345678901,
    producerEpoch: 3,
    baseSequence: 17,
    transactional: true,
    timestamp: T0,
  });
  const abort = buildControlBatch({ type: 'abort', producerId: 12345678901, producerEpoch: 3, coordinatorEpoch: 8, baseOffset: 43, timestamp: T0 + 5 });
  const commit = buildControlBatch({ type: 'commit', producerId: 5, producerEpoch: 0, coordinatorEpoch: 2, baseOffset: 44, timestamp: T0 + 6 });
  const all = Buffer.concat([dataBytes, abort, commit]);
  const batches = [...producerBatchesIn(all)];
  assert.equal(batches.length, 3);
  assert.deepEqual(batches[0], {
    producerId: 12345678901,
    producerEpoch: 3,
    baseSequence: 17,
    baseOffset: 40,
    lastOffsetDelta: 2,
    maxTimestamp: T0,
    isTransactional: true,
    isControl: false,
    endTxnMarker: undefined,
  });
  assert.deepEqual(batches[1]!.endTxnMarker, { type: 0, coordinatorEpoch: 8, timestamp: T0 + 5 });
  assert.equal(batches[1]!.isControl, true);
  assert.deepEqual(batches[2]!.endTxnMarker, { type: 1, coordinatorEpoch: 2, timestamp: T0 + 6 });
  assert.deepEqual(producerBatchAt(abort, 0), batches[1]);
  // A control batch emptied by compaction has no marker and completes nothing.
  const empty = buildBatchSync([], { producerId: 5, producerEpoch: 0, control: true, transactional: true, baseOffset: 50 });
  assert.equal(producerBatchAt(empty, 0).endTxnMarker, undefined);
  // A control record that is not a transaction marker is refused.
  const leaderChange = buildBatchSync([{ key: Buffer.from([0, 0, 0, 2]), value: Buffer.alloc(6) }], {
    producerId: 5,
    producerEpoch: 0,
    control: true,
  });
  assert.throws(() => producerBatchAt(leaderChange, 0), (e) => isStrataError(e, 'ERR_CORRUPT_RECORD'));
});

test('recovery replay with updateFromBatch rebuilds the same state and the aborted transactions', () =>
  withDir(async (dir) => {
    const log = Buffer.concat([
      buildBatchSync([{ value: 'x' }, { value: 'y' }], { baseOffset: 0, producerId: 1, producerEpoch: 0, baseSequence: 0, transactional: true, timestamp: T0 }),
      buildBatchSync([{ value: 'z' }], { baseOffset: 2, producerId: 2, producerEpoch: 0, baseSequence: 0, transactional: true, timestamp: T0 }),
      buildBatchSync([{ value: 'p' }], { baseOffset: 3, timestamp: T0 }),
      buildControlBatch({ type: 'abort', producerId: 1, producerEpoch: 0, coordinatorEpoch: 1, baseOffset: 4, timestamp: T0 }),
      buildControlBatch({ type: 'commit', producerId: 2, producerEpoch: 0, coordinatorEpoch: 1, baseOffset: 5, timestamp: T0 }),
      buildBatchSync([{ value: 'q' }], { baseOffset: 6, producerId: 1, producerEpoch: 0, baseSequence: 2, timestamp: T0 }),
    ]);
    const leader = await open(dir);
    const leaderAborted = [];
    for (const b of producerBatchesIn(log)) {
      const origin = b.isControl ? AppendOrigin.coordinator : AppendOrigin.client;
      for (const c of append(leader, [b], origin).completed) if (c.txn.isAborted) leaderAborted.push(abortedTxnOf(c.txn, c.lastStableOffset));
    }
    const replay = await open(dir);
    const replayAborted = [];
    for (const b of producerBatchesIn(log)) {
      const c = replay.updateFromBatch(b);
      if (c?.txn.isAborted) replayAborted.push(abortedTxnOf(c.txn, c.lastStableOffset));
    }
    assert.deepEqual(replayAborted, [{ producerId: 1, firstOffset: 0, lastOffset: 4, lastStableOffset: 2 }]);
    assert.deepEqual(replayAborted, leaderAborted);
    assert.equal(replay.mapEndOffset, 7);
    const snap = (p: ProducerStateManager) => encodeProducerSnapshot([...p.activeProducers().values()].map((e) => ({
      producerId: e.producerId, producerEpoch: e.producerEpoch, lastSequence: e.lastSeq, lastOffset: e.lastDataOffset,
      offsetDelta: e.lastOffsetDelta, timestamp: e.lastTimestamp, coordinatorEpoch: e.coordinatorEpoch,
      currentTxnFirstOffset: e.currentTxnFirstOffset ?? -1,
    })));
    assert.deepEqual(snap(replay), snap(leader));
  }));

test('snapshot bytes match the format definition exactly', () => {
  const bytes = encodeProducerSnapshot([
    {
      producerId: 1000,
      producerEpoch: 3,
      lastSequence: 9,
      lastOffset: 150,
      offsetDelta: 4,
      timestamp: T0,
      coordinatorEpoch: -1,
      currentTxnFirstOffset: -1,
    },
  ]);
  const body = Buffer.from(
    '00000001' + // one entry
      '00000000000003e8' + // producerId 1000
      '0003' + // epoch
      '00000009' + // last sequence
      '0000000000000096' + // last offset 150
      '00000004' + // offset delta
      T0.toString(16).padStart(16, '0') + // timestamp
      'ffffffff' + // coordinator epoch -1
      'ffffffffffffffff', // no ongoing transaction
    'hex',
  );
  const header = Buffer.alloc(6);
  header.writeInt16BE(1, 0); // version 1
  header.writeUInt32BE(crc32c(body), 2); // CRC32C of everything after the CRC field
  assert.deepEqual(bytes, Buffer.concat([header, body]));
  assert.equal(bytes.length, 2 + 4 + 4 + 46);
  assert.deepEqual(decodeProducerSnapshot(bytes), [
    { producerId: 1000, producerEpoch: 3, lastSequence: 9, lastOffset: 150, offsetDelta: 4, timestamp: T0, coordinatorEpoch: -1, currentTxnFirstOffset: -1 },
  ]);
  // An empty state.
  const empty = encodeProducerSnapshot([]);
  assert.deepEqual(empty, Buffer.from([0, 1, ...[0, 0, 0, 0].map((_, i) => (crc32c(Buffer.alloc(4)) >>> (24 - 8 * i)) & 0xff), 0, 0, 0, 0]));
});

test('snapshot decoding refuses bad versions, CRCs and sizes', () => {
  const good = encodeProducerSnapshot([
    { producerId: 1, producerEpoch: 0, lastSequence: 0, lastOffset: 0, offsetDelta: 0, timestamp: T0, coordinatorEpoch: 0, currentTxnFirstOffset: -1 },
  ]);
  const badVersion = Buffer.from(good);
  badVersion.writeInt16BE(2, 0);
  const badCrc = Buffer.from(good);
  badCrc[20] = badCrc[20]! ^ 1;
  const truncated = good.subarray(0, good.length - 1);
  const extra = Buffer.concat([good, Buffer.alloc(1)]);
  for (const [name, buf] of [['version', badVersion], ['crc', badCrc], ['truncated', truncated], ['extra', extra], ['tiny', good.subarray(0, 5)]] as const) {
    assert.throws(() => decodeProducerSnapshot(buf, 'f'), (e: unknown) => e instanceof CorruptFileError && e.file === 'f', name);
  }
});

test('takeSnapshot writes <offset>.snapshot; a reload restores producers and open transactions', () =>
  withDir(async (dir) => {
    const psm = await open(dir);
    append(psm, [data({ pid: 1, epoch: 2, seq: 0, base: 0, count: 3, ts: T0 + 1 })]);
    append(psm, [data({ pid: 2, seq: 0, base: 3, count: 2, txn: true, ts: T0 + 2 })]);
    append(psm, [marker(3, 5, 'commit', { coord: 9, ts: T0 + 3 })], AppendOrigin.coordinator); // marker only
    const path = await psm.takeSnapshot();
    assert.equal(path, join(dir, '00000000000000000006.snapshot'));
    assert.equal(await psm.takeSnapshot(), undefined); // nothing new
    assert.equal(psm.latestSnapshotOffset(), 6);
    assert.equal(offsetOfSnapshotFile('00000000000000000006.snapshot'), 6);
    assert.equal(snapshotFileName(6), '00000000000000000006.snapshot');

    const reloaded = await open(dir);
    assert.deepEqual(reloaded.snapshotOffsets(), [6]);
    await reloaded.truncateAndReload(0, 6);
    assert.equal(reloaded.mapEndOffset, 6);
    const p1 = reloaded.lastEntry(1)!;
    assert.equal(p1.producerEpoch, 2);
    assert.equal(p1.lastSeq, 2);
    assert.equal(p1.lastDataOffset, 2);
    assert.equal(p1.firstDataOffset, 0);
    assert.equal(p1.lastTimestamp, T0 + 1);
    assert.equal(reloaded.lastEntry(2)!.currentTxnFirstOffset, 3);
    assert.equal(reloaded.firstUnstableOffset(), 3);
    const p3 = reloaded.lastEntry(3)!;
    assert.equal(p3.isEmpty, true);
    assert.equal(p3.coordinatorEpoch, 9);
    // After the reload, the restored state validates as before: a retry of the last batch is a duplicate.
    assert.equal(reloaded.analyze([data({ pid: 1, epoch: 2, seq: 0, base: 9, count: 3 })], AppendOrigin.client).duplicate?.lastOffset, 2);
    append(reloaded, [data({ pid: 1, epoch: 2, seq: 3, base: 6 })]);
    // The marker-only producer has no batch: its next batch in the same epoch must follow "no sequence" (-1).
    append(reloaded, [data({ pid: 3, epoch: 0, seq: 0, base: 7 })]);
  }));

test('a corrupt latest snapshot is reported, deleted, and the previous one is used', () =>
  withDir(async (dir) => {
    const psm = await open(dir);
    append(psm, [data({ pid: 1, seq: 0, base: 0, count: 5 })]);
    await psm.takeSnapshot(); // at 5
    append(psm, [data({ pid: 1, seq: 5, base: 5, count: 5 })]);
    await psm.takeSnapshot(); // at 10
    const latest = join(dir, snapshotFileName(10));
    const bytes = await readFile(latest);
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0xff;
    await writeFile(latest, bytes);

    const seen: CorruptFileError[] = [];
    const reloaded = await open(dir, { onCorruptSnapshot: (e) => seen.push(e) });
    await reloaded.truncateAndReload(0, 10);
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.file, latest);
    assert.equal(seen[0]!.code, 'ERR_CORRUPT_FILE');
    assert.equal(await exists(latest), false);
    assert.equal(reloaded.mapEndOffset, 5); // the Log replays from here
    assert.equal(reloaded.lastEntry(1)!.lastSeq, 4);
    assert.deepEqual(reloaded.snapshotOffsets(), [5]);
  }));

test('truncateAndReload drops snapshots outside (logStart, logEnd] and starts empty without one', () =>
  withDir(async (dir) => {
    const psm = await open(dir);
    for (let i = 0; i < 4; i++) {
      append(psm, [data({ pid: 1, seq: i * 10, base: i * 10, count: 10 })]);
      await psm.takeSnapshot();
    }
    assert.deepEqual(psm.snapshotOffsets(), [10, 20, 30, 40]);
    await psm.truncateAndReload(10, 25); // log truncated to 25, start at 10
    assert.deepEqual(psm.snapshotOffsets(), [20]);
    assert.deepEqual((await readdir(dir)).sort(), [snapshotFileName(20)]);
    assert.equal(psm.mapEndOffset, 20);
    assert.equal(psm.lastEntry(1)!.lastSeq, 19);
    await psm.truncateAndReload(20, 20); // already there: nothing reloaded
    assert.equal(psm.mapEndOffset, 20);
    assert.deepEqual(psm.snapshotOffsets(), []);
    await psm.truncateAndReload(0, 5);
    assert.equal(psm.mapEndOffset, 0);
    assert.equal(psm.producerIdCount, 0);
  }));

test('snapshot housekeeping: delete before, mark for deletion, stray removal, truncate fully', () =>
  withDir(async (dir) => {
    const psm = await open(dir);
    for (let i = 1; i <= 5; i++) {
      append(psm, [data({ pid: 1, seq: (i - 1) * 10, base: (i - 1) * 10, count: 10 })]);
      await psm.takeSnapshot();
    }
    assert.equal(psm.oldestSnapshotOffset(), 10);
    await psm.deleteSnapshotsBefore(30);
    assert.deepEqual(psm.snapshotOffsets(), [30, 40, 50]);
    assert.equal(psm.fetchSnapshot(40), join(dir, snapshotFileName(40)));
    assert.equal(psm.fetchSnapshot(41), undefined);
    const marked = await psm.removeAndMarkSnapshotForDeletion(30);
    assert.equal(marked, join(dir, snapshotFileName(30) + '.deleted'));
    assert.equal(await exists(marked!), true);
    assert.equal(await psm.removeAndMarkSnapshotForDeletion(30), undefined);
    assert.deepEqual(psm.snapshotOffsets(), [40, 50]);
    // `.deleted` files are not snapshots for a new manager.
    assert.deepEqual((await open(dir)).snapshotOffsets(), [40, 50]);

    // Segments at 0 and 40: 50 is a stray above every segment (a clean-shutdown snapshot) and stays;
    // an extra stray at 45 below it goes.
    await writeFile(join(dir, snapshotFileName(45)), encodeProducerSnapshot([]));
    await psm.removeStraySnapshots([0, 40]);
    assert.deepEqual(psm.snapshotOffsets(), [40, 50]);
    await psm.removeStraySnapshots([0, 40, 60]);
    assert.deepEqual(psm.snapshotOffsets(), [40]);

    await psm.truncateFullyAndStartAt(100);
    assert.deepEqual(psm.snapshotOffsets(), []);
    assert.equal(psm.mapEndOffset, 100);
    assert.equal(psm.producerIdCount, 0);
    assert.deepEqual((await readdir(dir)).filter((n) => n.endsWith('.snapshot')), []);
  }));

test('expiration removes idle producers but keeps those with an open transaction', () =>
  withDir(async (dir) => {
    const clock = new ManualClock(T0);
    const psm = await ProducerStateManager.open(dir, { clock, producerIdExpirationMs: 1000 });
    append(psm, [data({ pid: 1, seq: 0, base: 0, ts: T0 })]);
    append(psm, [data({ pid: 2, seq: 0, base: 1, ts: T0, txn: true })]);
    append(psm, [data({ pid: 3, seq: 0, base: 2, ts: T0 + 500 })]);
    assert.deepEqual(psm.removeExpiredProducers(T0 + 999), []);
    assert.deepEqual(psm.removeExpiredProducers(T0 + 1000), [1]);
    await psm.takeSnapshot();
    clock.set(T0 + 1500);
    const reloaded = await ProducerStateManager.open(dir, { clock, producerIdExpirationMs: 1000 });
    await reloaded.truncateAndReload(0, 3);
    // Producer 3 expired by the time of the load; 2 is kept for its transaction.
    assert.deepEqual([...reloaded.activeProducers().keys()], [2]);
    // An unknown (expired) producer may resume at any sequence, as Kafka allows.
    append(reloaded, [data({ pid: 3, seq: 1, base: 3 })]);
  }));

test('hasLateTransaction flags a transaction open longer than the maximum timeout plus slack', () =>
  withDir(async (dir) => {
    const psm = await ProducerStateManager.open(dir, { maxTransactionTimeoutMs: 60_000 });
    assert.equal(psm.hasLateTransaction(T0), false);
    append(psm, [data({ pid: 1, seq: 0, base: 0, ts: T0, txn: true })]);
    assert.equal(psm.hasLateTransaction(T0 + 60_000 + 300_000), false);
    assert.equal(psm.hasLateTransaction(T0 + 60_000 + 300_001), true);
  }));

test('ProducerStateEntry keeps the five most recent batches and forgets them on a new epoch', () => {
  const e = ProducerStateEntry.empty(1);
  for (let i = 0; i < 7; i++) e.addBatch(0, i, i * 2 + 1, 1, T0);
  assert.deepEqual(e.batchMetadata.map((b) => b.lastSeq), [2, 3, 4, 5, 6]);
  assert.equal(e.firstSeq, 1);
  assert.equal(e.firstDataOffset, 4);
  e.addBatch(1, 0, 20, 0, T0);
  assert.deepEqual(e.batchMetadata.map((b) => b.lastSeq), [0]);
});

test('property: the leader path and a replay of the same log always agree', () =>
  withDir(async (dir) => {
    type Op = { pid: number; kind: 'data' | 'txn' | 'commit' | 'abort' | 'bump'; count: number };
    const op = fc.record({
      pid: fc.integer({ min: 1, max: 3 }),
      kind: fc.constantFrom('data', 'txn', 'commit', 'abort', 'bump') as fc.Arbitrary<Op['kind']>,
      count: fc.integer({ min: 1, max: 4 }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 60 }), async (ops) => {
        const leader = await ProducerStateManager.open(dir);
        const state = new Map<number, { epoch: number; seq: number; inTxn: boolean }>();
        const log: ProducerBatch[] = [];
        const leaderAborted: unknown[] = [];
        let offset = 0;
        for (const o of ops) {
          const s = state.get(o.pid) ?? { epoch: 0, seq: 0, inTxn: false };
          state.set(o.pid, s);
          let batch: ProducerBatch;
          let origin: AppendOrigin = AppendOrigin.client;
          if (o.kind === 'commit' || o.kind === 'abort') {
            batch = marker(o.pid, offset, o.kind, { epoch: s.epoch });
            origin = AppendOrigin.coordinator;
            s.inTxn = false;
          } else {
            if (o.kind === 'bump') {
              if (s.inTxn) continue;
              s.epoch++;
              s.seq = 0;
            }
            const txn = o.kind === 'txn' || s.inTxn;
            batch = data({ pid: o.pid, epoch: s.epoch, seq: s.seq, base: offset, count: o.count, txn });
            s.seq = incrementSequence(s.seq, o.count);
            s.inTxn = txn;
          }
          for (const c of append(leader, [batch], origin).completed) {
            if (c.txn.isAborted) leaderAborted.push(abortedTxnOf(c.txn, c.lastStableOffset));
          }
          log.push(batch);
          offset += batch.lastOffsetDelta + 1;
        }
        const replay = await ProducerStateManager.open(dir);
        const replayAborted: unknown[] = [];
        for (const b of log) {
          const c = replay.updateFromBatch(b);
          if (c?.txn.isAborted) replayAborted.push(abortedTxnOf(c.txn, c.lastStableOffset));
        }
        assert.deepEqual(replayAborted, leaderAborted);
        assert.equal(replay.mapEndOffset, leader.mapEndOffset);
        assert.equal(replay.firstUnstableOffset(), leader.firstUnstableOffset());
        for (const [pid, e] of leader.activeProducers()) {
          const r = replay.lastEntry(pid)!;
          assert.deepEqual(
            { epoch: r.producerEpoch, batches: r.batchMetadata, txn: r.currentTxnFirstOffset },
            { epoch: e.producerEpoch, batches: e.batchMetadata, txn: e.currentTxnFirstOffset },
          );
        }
        // The model's sequences are always accepted: no error was thrown above. LSO sanity:
        const fuo = leader.firstUnstableOffset();
        if (fuo !== undefined) assert.ok(fuo < offset);
      }),
      { numRuns: 60 },
    );
  }));

test('transaction verification: a transactional batch that starts a transaction needs the current guard', () =>
  withDir(async (dir) => {
    const clock = new ManualClock(T0);
    const psm = await ProducerStateManager.open(dir, { clock, transactionVerificationEnabled: true, producerIdExpirationMs: 1000 });
    const first = data({ pid: 1, seq: 0, base: 0, txn: true });
    // No verification: refused.
    rejectsWith(() => psm.analyze([first], AppendOrigin.client), 'INVALID_TXN_STATE');
    const guard = psm.maybeStartTransactionVerification(1, 0, 0);
    assert.notEqual(guard, VerificationGuard.SENTINEL);
    // A retry of the verification hands out the same guard; a foreign guard does not verify.
    assert.equal(psm.maybeStartTransactionVerification(1, 0, 0), guard);
    rejectsWith(() => psm.analyze([first], AppendOrigin.client, { verificationGuard: new VerificationGuard() }), 'INVALID_TXN_STATE');
    rejectsWith(() => psm.analyze([first], AppendOrigin.client, { verificationGuard: VerificationGuard.SENTINEL }), 'INVALID_TXN_STATE');
    const analysis = psm.analyze([first], AppendOrigin.client, { verificationGuard: guard });
    psm.applyAppend(analysis, 1);
    // The guard is spent; the transaction is ongoing, so later batches need none.
    assert.equal(psm.verificationStateEntry(1), undefined);
    assert.equal(psm.hasOngoingTransaction(1), true);
    assert.equal(psm.maybeStartTransactionVerification(1, 1, 0), VerificationGuard.SENTINEL);
    append(psm, [data({ pid: 1, seq: 1, base: 1, txn: true })]);
    // Markers are never refused for want of a guard.
    append(psm, [marker(1, 2, 'abort')], AppendOrigin.coordinator);
    assert.equal(psm.hasOngoingTransaction(1), false);

    // A marker landing between the verification and the append spends the guard (the ABA case).
    const stale = psm.maybeStartTransactionVerification(1, 2, 0);
    append(psm, [marker(1, 3, 'abort')], AppendOrigin.coordinator);
    rejectsWith(
      () => psm.analyze([data({ pid: 1, seq: 2, base: 4, txn: true })], AppendOrigin.client, { verificationGuard: stale }),
      'INVALID_TXN_STATE',
    );
    // Non-transactional batches and replicas are not subject to verification.
    append(psm, [data({ pid: 5, seq: 0, base: 4 })]);
    append(psm, [data({ pid: 6, seq: 0, base: 5, txn: true })], AppendOrigin.replication);
  }));

test('transaction verification: sequences above the lowest pending one are out of order; entries expire', () =>
  withDir(async (dir) => {
    const clock = new ManualClock(T0);
    const psm = await ProducerStateManager.open(dir, { clock, transactionVerificationEnabled: true, producerIdExpirationMs: 1000 });
    append(psm, [data({ pid: 1, seq: 0, base: 0, count: 5 })]);
    const guard = psm.maybeStartTransactionVerification(1, 7, 0);
    psm.maybeStartTransactionVerification(1, 5, 0); // a lower sequence lowers the bar
    assert.equal(psm.verificationStateEntry(1)!.lowestSequence, 5);
    psm.maybeStartTransactionVerification(1, 6, 0);
    assert.equal(psm.verificationStateEntry(1)!.lowestSequence, 5);
    // 5 is the next sequence and still awaits verification: 6 may not overtake it.
    rejectsWith(
      () => psm.analyze([data({ pid: 1, seq: 6, base: 5, txn: true })], AppendOrigin.client, { verificationGuard: guard }),
      'OUT_OF_ORDER_SEQUENCE_NUMBER',
    );
    psm.maybeStartTransactionVerification(1, 0, 1); // a new epoch restarts the lowest sequence
    assert.equal(psm.verificationStateEntry(1)!.lowestSequence, 0);
    assert.equal(psm.verificationStateEntry(1)!.epoch, 1);
    // Unverified entries expire with producer.id.expiration.ms.
    psm.removeExpiredProducers(T0 + 999);
    assert.notEqual(psm.verificationStateEntry(1), undefined);
    psm.removeExpiredProducers(T0 + 1000);
    assert.equal(psm.verificationStateEntry(1), undefined);
  }));

test('transaction verification is off by default: transactional batches append without a guard', () =>
  withDir(async (dir) => {
    const psm = await open(dir);
    append(psm, [data({ pid: 1, seq: 0, base: 0, txn: true })]);
    assert.equal(psm.hasOngoingTransaction(1), true);
  }));

test('aborted transactions flow into segment txn indexes and a read_committed search stops when complete', () =>
  withDir(async (dir) => {
    const psm = await open(dir);
    // Two segments: [0, 10) and [10, ...). Transaction of producer 1 spans both and is aborted in the second.
    const segments = [new TransactionIndex(0, join(dir, '0.txnindex')), new TransactionIndex(10, join(dir, '10.txnindex'))];
    const segmentOf = (offset: number) => segments[offset < 10 ? 0 : 1]!;
    const record = async (r: ReturnType<typeof append>, offset: number) => {
      for (const c of r.completed) if (c.txn.isAborted) await segmentOf(offset).append(abortedTxnOf(c.txn, c.lastStableOffset));
    };
    await record(append(psm, [data({ pid: 2, seq: 0, base: 0, count: 2, txn: true })]), 0); // 0-1 producer 2
    await record(append(psm, [marker(2, 2, 'abort')], AppendOrigin.coordinator), 2); // abort [0,2], LSO 3
    await record(append(psm, [data({ pid: 1, seq: 0, base: 3, count: 4, txn: true })]), 3); // 3-6 producer 1
    await record(append(psm, [data({ pid: 3, seq: 0, base: 7, count: 5, txn: true })]), 7); // 7-11 producer 3
    await record(append(psm, [marker(1, 12, 'abort')], AppendOrigin.coordinator), 12); // abort [3,12], LSO 7 (3 open)
    await record(append(psm, [marker(3, 13, 'commit')], AppendOrigin.coordinator), 13);
    assert.deepEqual(await segments[0]!.allAbortedTxns(), [{ producerId: 2, firstOffset: 0, lastOffset: 2, lastStableOffset: 3 }]);
    assert.deepEqual(await segments[1]!.allAbortedTxns(), [{ producerId: 1, firstOffset: 3, lastOffset: 12, lastStableOffset: 7 }]);

    // Kafka's collection: from the segment holding the fetch offset on, until a search is complete.
    const collect = async (fetchOffset: number, upperBound: number): Promise<AbortedTxn[]> => {
      const out: AbortedTxn[] = [];
      for (const seg of segments.slice(fetchOffset < 10 ? 0 : 1)) {
        const r = await seg.collectAbortedTxns(fetchOffset, upperBound);
        out.push(...r.abortedTransactions);
        if (r.isComplete) break;
      }
      return out;
    };
    assert.deepEqual((await collect(0, 3)).map((t) => t.producerId), [2]);
    assert.deepEqual((await collect(0, 14)).map((t) => t.producerId), [2, 1]);
    assert.deepEqual((await collect(4, 14)).map((t) => t.producerId), [1]);
    assert.deepEqual((await collect(13, 14)).map((t) => t.producerId), []);
    psm.onHighWatermarkUpdated(14);
    assert.equal(psm.firstUnstableOffset(), undefined);
  }));
