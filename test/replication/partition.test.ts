import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../src/protocol/errors.js';
import { partitionConfig } from '../../src/replication/partition-config.js';
import { IsolationLevel } from '../../src/replication/replica-manager.js';
import { decodeAll, fixture, NODE_ID, records, TOPIC_ID, values } from './helpers.js';

const FOLLOWER = 2;

async function leadWithFollower(f: Awaited<ReturnType<typeof fixture>>, minInsyncReplicas = 1) {
  return f.rm.ensureLeaderPartition({
    topic: 't', topicId: TOPIC_ID, partition: 0, leaderEpoch: 1, config: partitionConfig({ minInsyncReplicas }),
    replicas: [NODE_ID, FOLLOWER], isr: [NODE_ID, FOLLOWER],
  });
}

const followerFetch = (f: Awaited<ReturnType<typeof fixture>>, fetchOffset: number, maxWaitMs = 0) =>
  f.rm.fetchMessages({ replicaId: FOLLOWER, maxWaitMs, minBytes: 1, maxBytes: 1 << 20, isolationLevel: 0 },
    [{ topic: 't', partition: 0, fetchOffset, partitionMaxBytes: 1 << 20, currentLeaderEpoch: 1 }]);

test('the high watermark is the smallest LEO of the ISR; acks=all waits for the follower', { timeout: 15_000 }, async () => {
  const f = await fixture();
  try {
    const p = await leadWithFollower(f, 2);
    const produced = f.rm.appendRecords({ entries: [{ topic: 't', partition: 0, records: records(['a', 'b']) }], requiredAcks: -1, timeoutMs: 30_000 });
    // acks=1 answers at once although the follower has nothing.
    const one = await f.rm.appendRecords({ entries: [{ topic: 't', partition: 0, records: records(['c']) }], requiredAcks: 1, timeoutMs: 30_000 });
    assert.equal(one[0]!.baseOffset, 2);
    assert.equal(p.log.highWatermark, 0);
    assert.equal(f.rm.producePurgatory.delayed, 1);
    // Consumers see nothing above the high watermark; the follower reads to the log end.
    const [c] = await f.rm.fetchMessages({ replicaId: -1, maxWaitMs: 0, minBytes: 1, maxBytes: 1 << 20, isolationLevel: IsolationLevel.READ_UNCOMMITTED },
      [{ topic: 't', partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20, currentLeaderEpoch: -1 }]);
    assert.equal(c!.records, null);
    const [fr] = await followerFetch(f, 0);
    assert.deepEqual(values(await decodeAll(fr!.records)), ['a', 'b', 'c']);
    // The follower's next fetch at 2 acknowledges offsets 0-1: the acks=all produce completes.
    await followerFetch(f, 2);
    assert.equal(p.log.highWatermark, 2);
    const [r] = await produced;
    assert.deepEqual([r!.errorCode, r!.baseOffset], [ErrorCode.NONE, 0]);
    await followerFetch(f, 3);
    assert.equal(p.log.highWatermark, 3);
  } finally {
    await f.close();
  }
});

test('an acks=all produce times out when the follower never catches up', { timeout: 15_000 }, async () => {
  const f = await fixture();
  try {
    await leadWithFollower(f);
    const [r] = await f.rm.appendRecords({ entries: [{ topic: 't', partition: 0, records: records(['a']) }], requiredAcks: -1, timeoutMs: 50 });
    assert.equal(r!.errorCode, ErrorCode.REQUEST_TIMED_OUT);
    assert.equal(f.rm.producePurgatory.delayed, 0);
  } finally {
    await f.close();
  }
});

test('a consumer waiting at the high watermark is woken when a follower moves it', { timeout: 15_000 }, async () => {
  const f = await fixture();
  try {
    await leadWithFollower(f);
    await f.rm.appendRecords({ entries: [{ topic: 't', partition: 0, records: records(['a']) }], requiredAcks: 1, timeoutMs: 1000 });
    const waiting = f.rm.fetchMessages({ replicaId: -1, maxWaitMs: 30_000, minBytes: 1, maxBytes: 1 << 20, isolationLevel: 0 },
      [{ topic: 't', partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20, currentLeaderEpoch: -1 }]);
    await new Promise((r) => setImmediate(r));
    assert.equal(f.rm.fetchPurgatory.delayed, 1);
    await followerFetch(f, 1);
    const [r] = await waiting;
    assert.deepEqual(values(await decodeAll(r!.records)), ['a']);
  } finally {
    await f.close();
  }
});

test('replicas outside the assignment and stale epochs are refused', async () => {
  const f = await fixture();
  try {
    await leadWithFollower(f);
    const [stranger] = await f.rm.fetchMessages({ replicaId: 9, maxWaitMs: 0, minBytes: 1, maxBytes: 1 << 20, isolationLevel: 0 },
      [{ topic: 't', partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20, currentLeaderEpoch: -1 }]);
    assert.equal(stranger!.errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER);
    const [stale] = await f.rm.fetchMessages({ replicaId: FOLLOWER, maxWaitMs: 0, minBytes: 1, maxBytes: 1 << 20, isolationLevel: 0 },
      [{ topic: 't', partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20, currentLeaderEpoch: 0 }]);
    assert.equal(stale!.errorCode, ErrorCode.FENCED_LEADER_EPOCH);
  } finally {
    await f.close();
  }
});

test('a follower whose last fetched epoch diverged is told where that epoch ends here', async () => {
  const f = await fixture();
  try {
    await leadWithFollower(f);
    await f.rm.appendRecords({ entries: [{ topic: 't', partition: 0, records: records(['a', 'b']) }], requiredAcks: 1, timeoutMs: 1000 });
    await f.rm.ensureLeaderPartition({
      topic: 't', topicId: TOPIC_ID, partition: 0, leaderEpoch: 3, config: partitionConfig(), replicas: [NODE_ID, FOLLOWER], isr: [NODE_ID, FOLLOWER],
    });
    await f.rm.appendRecords({ entries: [{ topic: 't', partition: 0, records: records(['c']) }], requiredAcks: 1, timeoutMs: 1000 });
    const fetch = (fetchOffset: number, lastFetchedEpoch: number) =>
      f.rm.fetchMessages({ replicaId: FOLLOWER, maxWaitMs: 0, minBytes: 1, maxBytes: 1 << 20, isolationLevel: 0 },
        [{ topic: 't', partition: 0, fetchOffset, partitionMaxBytes: 1 << 20, currentLeaderEpoch: 3, lastFetchedEpoch }]);
    // The follower has offsets 0-3 from an epoch 2 that this leader never had: epoch 1 ends at 2 here.
    const [diverged] = await fetch(4, 2);
    assert.deepEqual([diverged!.errorCode, diverged!.records, diverged!.divergingEpoch], [ErrorCode.NONE, null, { epoch: 1, endOffset: 2 }]);
    assert.equal(f.rm.getPartition('t', 0)!.log.highWatermark, 0, 'a diverged fetch acknowledges nothing');
    const [fine] = await fetch(2, 1);
    assert.equal(fine!.divergingEpoch, undefined);
    assert.deepEqual(values(await decodeAll(fine!.records)), ['c']);
  } finally {
    await f.close();
  }
});

test('ListOffsets answers OFFSET_NOT_AVAILABLE to clients until a new leader’s HW reaches its epoch start', async () => {
  const f = await fixture();
  try {
    await leadWithFollower(f);
    await f.rm.appendRecords({ entries: [{ topic: 't', partition: 0, records: records(['a', 'b']) }], requiredAcks: 1, timeoutMs: 1000 });
    await f.rm.ensureLeaderPartition({
      topic: 't', topicId: TOPIC_ID, partition: 0, leaderEpoch: 2, config: partitionConfig(), replicas: [NODE_ID, FOLLOWER], isr: [NODE_ID, FOLLOWER],
    });
    const tp = { topic: 't', partition: 0 };
    await assert.rejects(f.rm.fetchOffsetForTimestamp(tp, -1, IsolationLevel.READ_UNCOMMITTED, -1),
      (e: { errorCode: number }) => e.errorCode === ErrorCode.OFFSET_NOT_AVAILABLE);
    assert.equal((await f.rm.fetchOffsetForTimestamp(tp, -1, undefined, -1))!.offset, 2, 'replicas are answered');
    const [r] = await f.rm.fetchMessages({ replicaId: FOLLOWER, maxWaitMs: 0, minBytes: 1, maxBytes: 1 << 20, isolationLevel: 0 },
      [{ topic: 't', partition: 0, fetchOffset: 2, partitionMaxBytes: 1 << 20, currentLeaderEpoch: 2 }]);
    assert.equal(r!.errorCode, ErrorCode.NONE);
    assert.deepEqual(await f.rm.fetchOffsetForTimestamp(tp, -1, IsolationLevel.READ_UNCOMMITTED, -1), { timestamp: -1, offset: 2, leaderEpoch: 2 });
  } finally {
    await f.close();
  }
});

test('DeleteRecords waits until every replica moved its log start offset', { timeout: 15_000 }, async () => {
  const f = await fixture();
  try {
    await leadWithFollower(f);
    await f.rm.appendRecords({ entries: [{ topic: 't', partition: 0, records: records(['a', 'b', 'c', 'd']) }], requiredAcks: 1, timeoutMs: 1000 });
    const fetchWith = (logStartOffset: number) => f.rm.fetchMessages({ replicaId: FOLLOWER, maxWaitMs: 0, minBytes: 1, maxBytes: 1 << 20, isolationLevel: 0 },
      [{ topic: 't', partition: 0, fetchOffset: 4, partitionMaxBytes: 1 << 20, currentLeaderEpoch: 1, logStartOffset }]);
    await fetchWith(0);
    const tp = { topic: 't', partition: 0 };
    const pending = f.rm.deleteRecords(tp, 2, 30_000);
    while (f.rm.deleteRecordsPurgatory.delayed === 0) await new Promise((r) => setTimeout(r, 5));
    assert.equal(f.rm.getPartition('t', 0)!.log.logStartOffset, 2, 'the leader moved at once');
    await fetchWith(2);
    assert.deepEqual(await pending, { errorCode: ErrorCode.NONE, lowWatermark: 2 });
    assert.deepEqual(await f.rm.deleteRecords(tp, 3, 50), { errorCode: ErrorCode.REQUEST_TIMED_OUT, lowWatermark: -1 });
  } finally {
    await f.close();
  }
});
