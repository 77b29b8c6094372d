import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  PartitionSet,
  TRANSACTION_STATE_NAMES,
  TransactionMetadata,
  TransactionState,
  isEpochExhausted,
  isValidTransition,
  transactionStateFromName,
} from '../../../src/coordinator/txn/transaction-metadata.js';
import { ErrorCode } from '../../../src/protocol/errors.js';

const S = TransactionState;

// Kafka 3.9's TransactionState.validPreviousStates, written out as the expected table.
const EXPECTED: Record<string, string[]> = {
  Empty: ['Empty', 'CompleteCommit', 'CompleteAbort'],
  Ongoing: ['Ongoing', 'Empty', 'CompleteCommit', 'CompleteAbort'],
  PrepareCommit: ['Ongoing'],
  PrepareAbort: ['Ongoing', 'PrepareEpochFence'],
  CompleteCommit: ['PrepareCommit'],
  CompleteAbort: ['PrepareAbort'],
  Dead: ['Empty', 'CompleteAbort', 'CompleteCommit'],
  PrepareEpochFence: ['Ongoing'],
};

const all = Object.values(S);

function meta(state: TransactionState, producerEpoch = 3): TransactionMetadata {
  return new TransactionMetadata('tx', {
    producerId: 10,
    lastProducerId: -1,
    producerEpoch,
    lastProducerEpoch: -1,
    txnTimeoutMs: 1000,
    state,
    partitions: state === S.ONGOING || state === S.PREPARE_COMMIT || state === S.PREPARE_ABORT ? new PartitionSet([{ topic: 't', partition: 0 }]) : new PartitionSet(),
    txnStartTimestamp: state === S.EMPTY ? -1 : 50,
    txnLastUpdateTimestamp: 50,
  });
}

describe('transaction metadata', () => {
  it('allows exactly the transitions Kafka allows, with Kafka state ids and names', () => {
    for (const to of all) {
      for (const from of all) {
        assert.equal(isValidTransition(from, to), EXPECTED[TRANSACTION_STATE_NAMES[to]]?.includes(TRANSACTION_STATE_NAMES[from]), `${TRANSACTION_STATE_NAMES[from]} → ${TRANSACTION_STATE_NAMES[to]}`);
      }
    }
    assert.deepEqual(all, [0, 1, 2, 3, 4, 5, 6, 7]);
    assert.equal(transactionStateFromName('PrepareEpochFence'), S.PREPARE_EPOCH_FENCE);
    assert.equal(transactionStateFromName('ongoing'), undefined);
  });

  it('treats epochs from Short.MAX_VALUE - 1 as exhausted', () => {
    assert.equal(isEpochExhausted(32765), false);
    assert.equal(isEpochExhausted(32766), true);
    assert.equal(isEpochExhausted(32767), true);
  });

  it('refuses illegal transitions without changing anything', () => {
    const m = meta(S.EMPTY);
    assert.throws(() => m.prepareAbortOrCommit(S.PREPARE_COMMIT, 60));
    assert.throws(() => m.prepareFenceProducerEpoch());
    const p = meta(S.PREPARE_COMMIT);
    assert.throws(() => p.prepareAddPartitions([{ topic: 't', partition: 1 }], 60));
    assert.throws(() => p.prepareIncrementProducerEpoch(1000, undefined, 60));
    // A transit that does not fit the current metadata is refused by apply.
    const o = meta(S.ONGOING);
    const commit = o.prepareAbortOrCommit(S.PREPARE_COMMIT, 60);
    assert.throws(() => o.apply({ ...commit, producerEpoch: 9 }));
    assert.throws(() => o.apply({ ...commit, partitions: new PartitionSet() }));
    assert.equal(o.state, S.ONGOING);
    o.apply(commit);
    assert.equal(o.state, S.PREPARE_COMMIT);
  });

  it('fences through PrepareEpochFence into PrepareAbort with the epoch bumped and the last epoch cleared', () => {
    const m = meta(S.ONGOING);
    m.apply(m.prepareFenceProducerEpoch());
    assert.deepEqual([m.state, m.producerEpoch, m.lastProducerEpoch, m.txnLastUpdateTimestamp], [S.PREPARE_EPOCH_FENCE, 4, -1, 50]);
    m.apply(m.prepareAbortOrCommit(S.PREPARE_ABORT, 70));
    assert.deepEqual([m.state, m.producerEpoch, m.txnLastUpdateTimestamp], [S.PREPARE_ABORT, 4, 70]);
    m.apply(m.prepareComplete(80));
    assert.deepEqual([m.state, m.partitions.size, m.txnStartTimestamp], [S.COMPLETE_ABORT, 0, 50]);
    assert.throws(() => meta(S.ONGOING, 32767).prepareFenceProducerEpoch());
  });

  it('computes KIP-360 epoch bumps like Kafka', () => {
    const m = meta(S.EMPTY);
    const r = (expected: number | undefined) => {
      const p = m.prepareIncrementProducerEpoch(1000, expected, 60);
      return p.ok ? [p.transit.producerEpoch, p.transit.lastProducerEpoch] : p.errorCode;
    };
    assert.deepEqual(r(undefined), [4, -1]);
    assert.deepEqual(r(3), [4, 3]);
    assert.equal(r(1), ErrorCode.PRODUCER_FENCED);
    const bump = m.prepareIncrementProducerEpoch(1000, 3, 60);
    assert.ok(bump.ok);
    m.apply(bump.transit);
    assert.deepEqual([m.producerEpoch, m.lastProducerEpoch], [4, 3]);
    assert.deepEqual(r(3), [4, 3]);
    assert.throws(() => meta(S.EMPTY, 32766).prepareIncrementProducerEpoch(1000, undefined, 60));
    const rotated = meta(S.COMPLETE_COMMIT, 32766).prepareProducerIdRotation(11, 1000, 60, true);
    assert.deepEqual([rotated.producerId, rotated.lastProducerId, rotated.producerEpoch, rotated.lastProducerEpoch], [11, 10, 0, 32766]);
    assert.throws(() => meta(S.ONGOING).prepareProducerIdRotation(11, 1000, 60, false));
  });
});
