import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PendingTxnOffsets, txnCoordinatorConfigFrom } from '../../src/server/txn-coordinator-wiring.js';
import type { PendingOffset } from '../../src/broker/txn-handlers.js';

const offset = (groupId: string, topic: string, partition: number, value: number): PendingOffset =>
  ({ groupId, topic, partition, offset: value, leaderEpoch: -1, metadata: '', commitTimestamp: 0 });

test('pending transactional offsets: visible as pending, taken per producer and group partition, the latest per partition', () => {
  const p = new PendingTxnOffsets();
  p.add(1, [offset('g1', 't', 0, 5), offset('g2', 't', 0, 6)]);
  p.add(1, [offset('g1', 't', 0, 7)]);
  p.add(2, [offset('g1', 't', 1, 8)]);
  assert.ok(p.has('g1', 't', 0));
  assert.ok(p.has('g1', 't', 1));
  assert.ok(!p.has('g3', 't', 0));
  // Producer 1's marker for the partition of g1 takes only g1's offsets, the later commit having won.
  assert.deepEqual(p.take(1, (g) => g === 'g1').map((o) => o.offset), [7]);
  assert.ok(!p.has('g1', 't', 0));
  assert.ok(p.has('g2', 't', 0));
  assert.ok(p.has('g1', 't', 1), 'another producer\'s offsets stay');
  p.restore(1, [offset('g1', 't', 0, 7)]);
  assert.ok(p.has('g1', 't', 0));
});

test('pending transactional offsets: whatever is added is taken exactly once', () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ producer: fc.integer({ min: 0, max: 3 }), group: fc.constantFrom('a', 'b', 'c'), partition: fc.integer({ min: 0, max: 3 }), value: fc.nat() })),
      (adds) => {
        const p = new PendingTxnOffsets();
        const latest = new Map<string, number>();
        for (const a of adds) {
          p.add(a.producer, [offset(a.group, 't', a.partition, a.value)]);
          latest.set(`${a.producer}/${a.group}/${a.partition}`, a.value);
        }
        const taken = new Map<string, number>();
        for (let producer = 0; producer <= 3; producer++) {
          for (const o of p.take(producer, () => true)) taken.set(`${producer}/${o.groupId}/${o.partition}`, o.offset);
          assert.deepEqual(p.take(producer, () => true), []);
        }
        assert.deepEqual(taken, latest);
        for (const a of adds) assert.ok(!p.has(a.group, 't', a.partition));
      },
    ),
  );
});

test('coordinator settings: cleanup intervals and id expiration from the static config under Kafka\'s names', () => {
  const raw = new Map([
    ['transaction.abort.timed.out.transaction.cleanup.interval.ms', '500'],
    ['transactional.id.expiration.ms', '60000'],
    ['transaction.remove.expired.transaction.cleanup.interval.ms', 'nonsense'],
  ]);
  const c = txnCoordinatorConfigFrom(raw, { transactionStateLogNumPartitions: 3 });
  assert.equal(c.abortTimedOutTransactionsIntervalMs, 500);
  assert.equal(c.transactionalIdExpirationMs, 60_000);
  assert.equal(c.removeExpiredTransactionalIdsIntervalMs, undefined, 'an invalid value keeps the default');
  assert.equal(c.transactionStateLogNumPartitions, 3);
});
