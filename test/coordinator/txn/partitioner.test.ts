import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { transactionPartitionFor } from '../../../src/coordinator/txn/partitioner.js';

describe('transactional id partitioner', () => {
  it("matches Kafka's abs(String.hashCode) % partitions", () => {
    // Expected values computed from Java's String.hashCode (31-polynomial, 32-bit wrap).
    assert.equal(transactionPartitionFor('my-txn', 50), 45); // hashCode -1061187895
    assert.equal(transactionPartitionFor('transactional-id-1', 50), 41); // 1051133891
    assert.equal(transactionPartitionFor('tx', 50), 16); // 3716
    // hashCode is Integer.MIN_VALUE, which Kafka's Utils.abs maps to 0.
    assert.equal(transactionPartitionFor('polygenelubricants', 50), 0);
    assert.equal(transactionPartitionFor('', 50), 0);
  });
});
