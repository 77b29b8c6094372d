import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { PlacementError, placeReplicas } from '../../src/controller/placement.js';
import { invalidTopicNameReason, unifyCollisionChars } from '../../src/controller/topic-names.js';

const brokers = (ids: number[], fenced: number[] = []) => ids.map((id) => ({ id, rack: null, fenced: fenced.includes(id) }));

describe('placeReplicas', () => {
  test('round-robin with a moving start spreads leaders evenly', () => {
    assert.deepEqual(placeReplicas({ startPartition: 0, numPartitions: 4, replicationFactor: 3 }, brokers([3, 1, 2])),
      [[1, 2, 3], [2, 3, 1], [3, 1, 2], [1, 2, 3]]);
    assert.deepEqual(placeReplicas({ startPartition: 2, numPartitions: 1, replicationFactor: 1 }, brokers([1, 2])), [[1]]);
  });

  test('fenced brokers are used only when the replication factor needs them', () => {
    assert.deepEqual(placeReplicas({ startPartition: 0, numPartitions: 2, replicationFactor: 2 }, brokers([1, 2, 3], [2])), [[1, 3], [3, 1]]);
    assert.deepEqual(placeReplicas({ startPartition: 0, numPartitions: 1, replicationFactor: 3 }, brokers([1, 2, 3], [2])), [[1, 3, 2]]);
  });

  test("errors carry Kafka's messages", () => {
    const cases: [number, number[], number[], string][] = [
      [0, [1], [], 'Invalid replication factor 0: the replication factor must be positive.'],
      [1, [1, 2], [1, 2], 'All brokers are currently fenced.'],
      [3, [1, 2], [], 'The target replication factor of 3 cannot be reached because only 2 broker(s) are registered.'],
    ];
    for (const [rf, ids, fenced, message] of cases) {
      assert.throws(() => placeReplicas({ startPartition: 0, numPartitions: 1, replicationFactor: rf }, brokers(ids, fenced)),
        (e) => e instanceof PlacementError && e.message === message);
    }
  });

  test('property: replicas are distinct registered brokers, leaders unfenced when any is', () => {
    fc.assert(fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 20 }), { minLength: 1, maxLength: 8 }), fc.integer({ min: 0, max: 255 }),
      fc.integer({ min: 1, max: 8 }), fc.integer({ min: 0, max: 10 }), fc.integer({ min: 1, max: 6 }), (ids, mask, rf, start, n) => {
        const fenced = ids.filter((_, i) => (mask >> i) & 1);
        if (fenced.length === ids.length || rf > ids.length) return;
        const out = placeReplicas({ startPartition: start, numPartitions: n, replicationFactor: rf }, brokers(ids, fenced));
        assert.equal(out.length, n);
        for (const replicas of out) {
          assert.equal(replicas.length, rf);
          assert.equal(new Set(replicas).size, rf);
          assert.ok(replicas.every((id) => ids.includes(id)));
          assert.ok(!fenced.includes(replicas[0]!));
        }
      }));
  });
});

describe('topic names', () => {
  test('legal names pass; collisions unify dots and underscores', () => {
    for (const ok of ['a', 'A-b_c.d', '0', 'x'.repeat(249), '__consumer_offsets']) assert.equal(invalidTopicNameReason(ok), undefined, ok);
    assert.equal(unifyCollisionChars('a.b_c'), 'a_b_c');
    assert.equal(invalidTopicNameReason('é'), "Topic name is invalid: 'é' contains one or more characters other than ASCII alphanumerics, '.', '_' and '-'");
  });
});
