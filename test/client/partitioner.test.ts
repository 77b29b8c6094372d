import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { murmur2, partitionForKey, stickyPartition } from '../../src/client/partitioner.js';

// kafkajs's port of Kafka's murmur2 serves as an independent oracle.
const kafkajsMurmur2 = createRequire(import.meta.url)('kafkajs/src/producer/partitioners/default/murmur2.js') as (key: Buffer) => number;

test("murmur2 matches the values in Kafka's own unit tests", () => {
  const cases: [string, number][] = [
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ['abc', 479470107],
  ];
  for (const [key, expected] of cases) assert.equal(murmur2(Buffer.from(key)), expected, key);
});

test('murmur2 agrees with an independent implementation on any bytes', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => murmur2(bytes) === kafkajsMurmur2(Buffer.from(bytes))));
});

test('keys map to a stable partition in range', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 32 }), fc.integer({ min: 1, max: 1000 }), (key, n) => {
      const p = partitionForKey(key, n);
      return p >= 0 && p < n && Number.isInteger(p) && p === partitionForKey(Buffer.from(key), n);
    }),
  );
  // The same answer as Kafka: toPositive(murmur2("foobar")) % 12.
  assert.equal(partitionForKey(Buffer.from('foobar'), 12), (-790332482 & 0x7fffffff) % 12);
});

test('keyless records go to a partition with a leader when there is one', () => {
  assert.equal(stickyPartition([4], 8, () => 0.99), 4);
  assert.equal(stickyPartition([1, 5], 8, () => 0.6), 5);
  assert.equal(stickyPartition([], 8, () => 0.5), 4);
});
