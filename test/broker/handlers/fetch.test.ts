import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FetchApi } from '../../../src/protocol/generated/apis.js';
import type { FetchRequest, FetchRequestFetchPartition, FetchResponse } from '../../../src/protocol/generated/messages/fetch.js';
import { ZERO_UUID } from '../../../src/protocol/codec-runtime.js';
import { ErrorCode } from '../../../src/protocol/errors.js';
import { decodeLegacyMessages } from '../../../src/protocol/records/legacy.js';
import { buildControlBatch } from '../../../src/protocol/records/builder.js';
import { fetchHandler } from '../../../src/broker/handlers/fetch.js';
import { partitionConfig } from '../../../src/replication/partition-config.js';
import { dataPathFixture, decodeAll, records, roundTrip, values, type DataPathFixture } from '../../replication/helpers.js';

const part = (partition: number, fetchOffset: number, over: Partial<FetchRequestFetchPartition> = {}): FetchRequestFetchPartition => ({
  partition, currentLeaderEpoch: -1, fetchOffset: BigInt(fetchOffset), lastFetchedEpoch: -1, logStartOffset: -1n,
  partitionMaxBytes: 1 << 20, replicaDirectoryId: ZERO_UUID, ...over,
});

const req = (topics: FetchRequest['topics'], over: Partial<FetchRequest> = {}): FetchRequest => ({
  clusterId: null, replicaId: -1, replicaState: { replicaId: -1, replicaEpoch: -1n }, maxWaitMs: 0, minBytes: 1, maxBytes: 1 << 20,
  isolationLevel: 0, sessionId: 0, sessionEpoch: -1, topics, forgottenTopicsData: [], rackId: '', ...over,
});

/** A topic entry naming the topic the way `version` does. */
const topic = (version: number, name: string, id: string, partitions: FetchRequestFetchPartition[]) =>
  ({ topic: version >= 13 ? '' : name, topicId: version >= 13 ? id : ZERO_UUID, partitions });

async function produce(f: DataPathFixture, name: string, vs: string[], partition = 0): Promise<void> {
  const r = await f.rm.appendRecords({ entries: [{ topic: name, partition, records: records(vs) }], requiredAcks: 1, timeoutMs: 1000 });
  assert.equal(r[0]!.errorCode, ErrorCode.NONE);
}

/** Record values as the version carries them: legacy message sets up to v3, batches after. */
async function valuesIn(version: number, buf: Buffer | null): Promise<string[]> {
  if (buf === null) return [];
  if (version <= 3) return decodeLegacyMessages(buf).map((m) => m.value?.toString() ?? '<null>');
  return values(await decodeAll(buf));
}

test('every version reads the records with its fields (down-converted up to v3)', async () => {
  const f = await dataPathFixture();
  try {
    const id = await f.topic('t');
    await produce(f, 't', ['a', 'b']);
    await produce(f, 't', ['c']);
    const handler = fetchHandler(f.deps);
    for (let v = 0; v <= 17; v++) {
      const res = (await roundTrip(FetchApi, handler, v, req([topic(v, 't', id, [part(0, 1)])])))!;
      assert.equal(res.responses.length, 1, `v${v}`);
      const t = res.responses[0]!;
      if (v >= 13) assert.equal(t.topicId, id);
      else assert.equal(t.topic, 't');
      const p = t.partitions[0]!;
      assert.equal(p.errorCode, ErrorCode.NONE, `v${v}`);
      assert.equal(p.highWatermark, 3n);
      assert.equal(p.lastStableOffset, v >= 4 ? 3n : -1n);
      assert.equal(p.logStartOffset, v >= 5 ? 0n : -1n);
      const vs = await valuesIn(v, p.records);
      // Whole batches are returned, so the batch holding offset 1 starts at 0.
      assert.deepEqual(vs, ['a', 'b', 'c'], `v${v}`);
      if (v <= 3) assert.deepEqual(decodeLegacyMessages(p.records!).map((m) => m.offset), [0, 1, 2]);
      if (v >= 7) assert.equal(res.sessionId, 0, 'sessionless request');
    }
  } finally {
    await f.close();
  }
});

test('unknown topics, topic ids and out-of-range offsets; followers that are not replicas', async () => {
  const f = await dataPathFixture();
  try {
    const id = await f.topic('t');
    await produce(f, 't', ['a']);
    const handler = fetchHandler(f.deps);
    const byName = (await roundTrip(FetchApi, handler, 12, req([
      topic(12, 'nope', '', [part(0, 0)]), topic(12, 't', id, [part(0, 5), part(3, 0)]),
    ])))!;
    assert.deepEqual(byName.responses.map((t) => [t.topic, t.partitions.map((p) => [p.partitionIndex, p.errorCode, p.highWatermark])]), [
      ['nope', [[0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, -1n]]],
      ['t', [[0, ErrorCode.OFFSET_OUT_OF_RANGE, -1n], [3, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, -1n]]],
    ]);
    const unknownId = '11111111-2222-4333-8444-555555555555';
    const byId = (await roundTrip(FetchApi, handler, 13, req([topic(13, '', unknownId, [part(0, 0)])])))!;
    assert.deepEqual(byId.responses.map((t) => [t.topicId, t.partitions[0]!.errorCode]), [[unknownId, ErrorCode.UNKNOWN_TOPIC_ID]]);
    for (const v of [14, 15]) {
      const follower = (await roundTrip(FetchApi, handler, v, req([topic(v, 't', id, [part(0, 0)])],
        { replicaId: v < 15 ? 7 : -1, replicaState: { replicaId: v >= 15 ? 7 : -1, replicaEpoch: v >= 15 ? 1n : -1n } })))!;
      assert.equal(follower.responses[0]!.partitions[0]!.errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER, `v${v}`);
    }
    f.rm.getPartition('t', 0)!.makeFollower(2, 4);
    for (const v of [4, 11, 12]) {
      const moved = (await roundTrip(FetchApi, handler, v, req([topic(v, 't', id, [part(0, 0)])])))!;
      const p = moved.responses[0]!.partitions[0]!;
      assert.equal(p.errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER);
      assert.deepEqual([p.currentLeader.leaderId, p.currentLeader.leaderEpoch], v >= 12 ? [2, 4] : [-1, -1], `v${v}`);
    }
    f.rm.getPartition('t', 0)!.makeLeader({ leaderEpoch: 4 });
    const fenced = (await roundTrip(FetchApi, handler, 12, req([topic(12, 't', id, [part(0, 0, { currentLeaderEpoch: 5 })])])))!;
    assert.equal(fenced.responses[0]!.partitions[0]!.errorCode, ErrorCode.UNKNOWN_LEADER_EPOCH);
  } finally {
    await f.close();
  }
});

test('fetch sessions: full, incremental with only changes, forgotten partitions, epochs, close', async () => {
  const f = await dataPathFixture();
  try {
    await f.topic('t', 2);
    await produce(f, 't', ['a'], 0);
    await produce(f, 't', ['b'], 1);
    const handler = fetchHandler(f.deps);
    const v = 12;
    const full = (await roundTrip(FetchApi, handler, v, req([topic(v, 't', '', [part(0, 0), part(1, 0)])], { sessionEpoch: 0 })))!;
    assert.ok(full.sessionId > 0);
    assert.equal(full.responses[0]!.partitions.length, 2);
    const sessionId = full.sessionId;
    // The client moves its positions; nothing new → an empty answer.
    const inc1 = (await roundTrip(FetchApi, handler, v, req([topic(v, 't', '', [part(0, 1), part(1, 1)])], { sessionId, sessionEpoch: 1 })))!;
    assert.equal(inc1.sessionId, sessionId);
    assert.deepEqual(inc1.responses, []);
    // New data on partition 1 only: the partition list can be empty, the session remembers.
    await produce(f, 't', ['c'], 1);
    const inc2 = (await roundTrip(FetchApi, handler, v, req([], { sessionId, sessionEpoch: 2 })))!;
    assert.deepEqual(inc2.responses.map((t) => t.partitions.map((p) => p.partitionIndex)), [[1]]);
    assert.deepEqual(values(await decodeAll(inc2.responses[0]!.partitions[0]!.records)), ['c']);
    // Forget partition 1; new data there is no longer reported.
    const inc3 = (await roundTrip(FetchApi, handler, v, req([topic(v, 't', '', [part(1, 2)])], {
      sessionId, sessionEpoch: 3, forgottenTopicsData: [{ topic: 't', topicId: ZERO_UUID, partitions: [1] }],
    })))!;
    assert.deepEqual(inc3.responses, []);
    await produce(f, 't', ['d'], 1);
    await produce(f, 't', ['e'], 0);
    const inc4 = (await roundTrip(FetchApi, handler, v, req([], { sessionId, sessionEpoch: 4 })))!;
    assert.deepEqual(inc4.responses.map((t) => t.partitions.map((p) => p.partitionIndex)), [[0]]);
    // Wrong epoch, unknown session.
    const stale = (await roundTrip(FetchApi, handler, v, req([], { sessionId, sessionEpoch: 4 })))!;
    assert.deepEqual([stale.errorCode, stale.sessionId, stale.responses.length], [ErrorCode.INVALID_FETCH_SESSION_EPOCH, 0, 0]);
    const unknown = (await roundTrip(FetchApi, handler, v, req([], { sessionId: sessionId + 1, sessionEpoch: 1 })))!;
    assert.equal(unknown.errorCode, ErrorCode.FETCH_SESSION_ID_NOT_FOUND);
    // Topic ids in a session opened by name.
    const mixed = (await roundTrip(FetchApi, handler, 13, req([], { sessionId, sessionEpoch: 5 })))!;
    assert.equal(mixed.errorCode, ErrorCode.FETCH_SESSION_TOPIC_ID_ERROR);
    // Epoch -1 closes the session and fetches without one.
    const close = (await roundTrip(FetchApi, handler, v, req([topic(v, 't', '', [part(0, 0)])], { sessionId, sessionEpoch: -1 })))!;
    assert.equal(close.sessionId, 0);
    assert.equal(close.responses[0]!.partitions.length, 1);
    assert.equal(f.sessions.get(sessionId), undefined);
  } finally {
    await f.close();
  }
});

test('the session cache holds max slots; a full cache answers without a session', async () => {
  const f = await dataPathFixture({ sessionSlots: 1 });
  try {
    await f.topic('t');
    const handler = fetchHandler(f.deps);
    const first = (await roundTrip(FetchApi, handler, 12, req([topic(12, 't', '', [part(0, 0)])], { sessionEpoch: 0 })))!;
    const second = (await roundTrip(FetchApi, handler, 12, req([topic(12, 't', '', [part(0, 0)])], { sessionEpoch: 0 })))!;
    assert.ok(first.sessionId > 0);
    assert.equal(second.sessionId, 0);
    assert.equal(second.responses[0]!.partitions[0]!.errorCode, ErrorCode.NONE);
    assert.equal(f.sessions.size, 1);
  } finally {
    await f.close();
  }
});

test('a long poll is answered when records arrive; read_committed gets aborted transactions', { timeout: 15_000 }, async () => {
  const f = await dataPathFixture();
  try {
    const id = await f.topic('t');
    const handler = fetchHandler(f.deps);
    const pending = roundTrip(FetchApi, handler, 16, req([topic(16, 't', id, [part(0, 0)])], { maxWaitMs: 30_000 }));
    await new Promise((r) => setImmediate(r));
    await produce(f, 't', ['late']);
    const res = (await pending) as FetchResponse;
    assert.deepEqual(values(await decodeAll(res.responses[0]!.partitions[0]!.records)), ['late']);

    const txn = { producerId: 3, producerEpoch: 0, transactional: true };
    await f.rm.appendRecords({ entries: [{ topic: 't', partition: 0, records: records(['t1'], { ...txn, baseSequence: 0 }) }], requiredAcks: 1, timeoutMs: 1000 });
    await f.rm.appendRecords({ entries: [{ topic: 't', partition: 0, records: buildControlBatch({ type: 'abort', ...txn, coordinatorEpoch: 0 }) }], requiredAcks: 1, timeoutMs: 1000, origin: 'coordinator' });
    const committed = (await roundTrip(FetchApi, handler, 11, req([topic(11, 't', id, [part(0, 0)])], { isolationLevel: 1 })))!;
    const p = committed.responses[0]!.partitions[0]!;
    assert.deepEqual(p.abortedTransactions, [{ producerId: 3n, firstOffset: 1n }]);
    assert.equal(p.lastStableOffset, 3n);
    const uncommitted = (await roundTrip(FetchApi, handler, 11, req([topic(11, 't', id, [part(0, 0)])])))!;
    assert.equal(uncommitted.responses[0]!.partitions[0]!.abortedTransactions, null);
  } finally {
    await f.close();
  }
});

test('a follower fetch (v12+) carries the diverging epoch', async () => {
  const f = await dataPathFixture();
  try {
    const id = await f.topic('t');
    const lead = (leaderEpoch: number) => f.rm.ensureLeaderPartition({ topic: 't', topicId: id, partition: 0, leaderEpoch, config: partitionConfig(), replicas: [1, 2], isr: [1, 2] });
    await lead(1);
    await produce(f, 't', ['a', 'b']);
    await lead(4);
    await produce(f, 't', ['c']);
    const handler = fetchHandler(f.deps);
    for (const v of [12, 17]) {
      const res = (await roundTrip(FetchApi, handler, v, req([topic(v, 't', id, [part(0, 3, { lastFetchedEpoch: 3, currentLeaderEpoch: 4 })])],
        v >= 15 ? { replicaState: { replicaId: 2, replicaEpoch: 1n } } : { replicaId: 2 })))!;
      const p = res.responses[0]!.partitions[0]!;
      assert.deepEqual([p.errorCode, p.divergingEpoch.epoch, p.divergingEpoch.endOffset, p.records!.length], [ErrorCode.NONE, 1, 2n, 0], `v${v}`);
    }
  } finally {
    await f.close();
  }
});
