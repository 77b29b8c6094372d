import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ZERO_UUID } from '../../src/protocol/codec-runtime.js';
import { FetchSessionCache, nextEpoch, type FetchRequestPartition, type NewContextRequest } from '../../src/broker/fetch-sessions.js';

const part = (topic: string, partition: number, fetchOffset = 0): FetchRequestPartition => ({
  topic, topicId: ZERO_UUID, partition, fetchOffset, partitionMaxBytes: 1024, currentLeaderEpoch: -1, lastFetchedEpoch: -1, logStartOffset: -1,
});
const request = (over: Partial<NewContextRequest>): NewContextRequest => ({
  sessionId: 0, sessionEpoch: 0, partitions: [], forgotten: [], usesTopicIds: false, privileged: false, ...over,
});
const ok = { errorCode: 0, highWatermark: 10, lastStableOffset: 10, logStartOffset: 0, recordBytes: 0 };

test('epochs advance and wrap to 1; the final and initial epochs do not move', () => {
  assert.equal(nextEpoch(0), 1);
  assert.equal(nextEpoch(41), 42);
  assert.equal(nextEpoch(0x7fffffff), 1);
  assert.equal(nextEpoch(-1), -1);
});

test('incremental contexts add, update and forget partitions; answers list only changes', () => {
  let now = 0;
  const cache = new FetchSessionCache({ now: () => now });
  const full = cache.newContext(request({ partitions: [part('a', 0), part('a', 1)] }));
  assert.equal(full.kind, 'full');
  if (full.kind !== 'full') return;
  const id = full.session!.id;
  assert.deepEqual(FetchSessionCache.settle(full, [ok, ok]), [true, true]);
  now = 10;
  const inc = cache.newContext(request({ sessionId: id, sessionEpoch: 1, partitions: [part('b', 0, 5), part('a', 1, 7)], forgotten: [{ topic: 'a', topicId: ZERO_UUID, partition: 0 }] }));
  assert.equal(inc.kind, 'incremental');
  if (inc.kind !== 'incremental') return;
  assert.deepEqual(inc.partitions.map((p) => [p.topic, p.partition, p.fetchOffset]), [['a', 1, 7], ['b', 0, 5]]);
  assert.equal(inc.session.epoch, 2);
  assert.equal(inc.session.lastUsedMs, 10);
  // a-1 unchanged, b-0 is new (its high watermark was never sent), then only b-0's new records.
  assert.deepEqual(FetchSessionCache.settle(inc, [ok, ok]), [false, true]);
  const again = cache.newContext(request({ sessionId: id, sessionEpoch: 2 }));
  assert.equal(again.kind, 'incremental');
  if (again.kind !== 'incremental') return;
  assert.deepEqual(FetchSessionCache.settle(again, [ok, { ...ok, recordBytes: 5 }]), [false, true]);
  // An error always goes out, and the next good answer too.
  const e1 = cache.newContext(request({ sessionId: id, sessionEpoch: 3 }));
  if (e1.kind !== 'incremental') return assert.fail();
  assert.deepEqual(FetchSessionCache.settle(e1, [{ ...ok, errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER, highWatermark: -1 }, ok]), [true, false]);
  const e2 = cache.newContext(request({ sessionId: id, sessionEpoch: 4 }));
  if (e2.kind !== 'incremental') return assert.fail();
  assert.deepEqual(FetchSessionCache.settle(e2, [ok, ok]), [true, false]);
});

test('errors: unknown session, wrong epoch, topic-id mode; epoch -1 closes', () => {
  const cache = new FetchSessionCache();
  const full = cache.newContext(request({ partitions: [part('a', 0)] }));
  if (full.kind !== 'full') return assert.fail();
  const id = full.session!.id;
  assert.deepEqual(cache.newContext(request({ sessionId: id + 1, sessionEpoch: 1 })), { kind: 'error', errorCode: ErrorCode.FETCH_SESSION_ID_NOT_FOUND });
  assert.deepEqual(cache.newContext(request({ sessionId: id, sessionEpoch: 2 })), { kind: 'error', errorCode: ErrorCode.INVALID_FETCH_SESSION_EPOCH });
  assert.deepEqual(cache.newContext(request({ sessionId: id, sessionEpoch: 1, usesTopicIds: true })), { kind: 'error', errorCode: ErrorCode.FETCH_SESSION_TOPIC_ID_ERROR });
  const close = cache.newContext(request({ sessionId: id, sessionEpoch: -1, partitions: [part('a', 0)] }));
  assert.equal(close.kind, 'full');
  if (close.kind === 'full') assert.equal(close.session, undefined);
  assert.equal(cache.size, 0);
  // A sessionless request never opens one.
  const sessionless = cache.newContext(request({ sessionEpoch: -1, partitions: [part('a', 0)] }));
  if (sessionless.kind === 'full') assert.equal(sessionless.session, undefined);
  assert.equal(cache.size, 0);
});

test('a full cache evicts a stale session, lets a follower displace a consumer, else answers without one', () => {
  let now = 0;
  const cache = new FetchSessionCache({ maxSlots: 2, evictionMs: 1000, now: () => now });
  const open = (privileged = false) => {
    const c = cache.newContext(request({ partitions: [part('a', 0)], privileged }));
    return c.kind === 'full' ? c.session : undefined;
  };
  const s1 = open()!;
  now = 500;
  const s2 = open()!;
  assert.equal(open(), undefined, 'full, nothing stale');
  now = 1200;
  const s3 = open()!;
  assert.equal(cache.get(s1.id), undefined, 's1 was stale');
  assert.ok(cache.get(s2.id) && cache.get(s3.id));
  const follower = open(true)!;
  assert.ok(follower.privileged);
  assert.equal(cache.get(s2.id), undefined, 'the least recently used consumer session made room');
  const other = open(true);
  assert.ok(other !== undefined && cache.get(s3.id) === undefined);
  assert.equal(open(true), undefined, 'followers do not displace followers');
});
