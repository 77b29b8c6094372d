import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { groupPartitionFor, javaStringHashCode, kafkaAbs } from '../../../src/coordinator/group/partitioner.js';

describe('group partitioner', () => {
  it('computes Java String.hashCode (known answers worked by hand)', () => {
    assert.equal(javaStringHashCode(''), 0);
    assert.equal(javaStringHashCode('a'), 97);
    // 'a'*31 + 'b' = 97*31 + 98
    assert.equal(javaStringHashCode('ab'), 3105);
    // The classic collision: 'A'*31 + 'a' = 65*31 + 97 = 2112 = 66*31 + 66 = 'B'*31 + 'B'
    assert.equal(javaStringHashCode('Aa'), 2112);
    assert.equal(javaStringHashCode('BB'), 2112);
    // Outside the BMP Java hashes the two UTF-16 surrogates: 0xD83D*31 + 0xDE00 = 1716067 + 56832
    assert.equal(javaStringHashCode('\u{1F600}'), 1772899);
    // Wraps at 32 bits like Java's int arithmetic.
    assert.equal(javaStringHashCode('group'), 98629247);
    assert.equal(javaStringHashCode('my-group'), -1906497762);
    assert.equal(javaStringHashCode('polygenelubricants'), -2147483648);
  });

  it("uses Kafka's Utils.abs, which maps Integer.MIN_VALUE to 0", () => {
    assert.equal(kafkaAbs(-2147483648), 0);
    assert.equal(kafkaAbs(-5), 5);
    assert.equal(kafkaAbs(7), 7);
  });

  it('picks the __consumer_offsets partition as Kafka does', () => {
    assert.equal(groupPartitionFor('', 50), 0);
    assert.equal(groupPartitionFor('a', 50), 47);
    assert.equal(groupPartitionFor('ab', 50), 5);
    assert.equal(groupPartitionFor('my-group', 50), 12); // 1906497762 % 50
    assert.equal(groupPartitionFor('polygenelubricants', 50), 0);
    assert.equal(groupPartitionFor('\u{1F600}', 50), 49);
  });

  it('always lands in range', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.integer({ min: 1, max: 1000 }), (s, n) => {
        const p = groupPartitionFor(s, n);
        return Number.isInteger(p) && p >= 0 && p < n;
      }),
    );
  });
});
