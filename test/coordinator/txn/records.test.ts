import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeTransactionRecord, transactionLogKey, transactionLogRecord, transactionLogTombstone } from '../../../src/coordinator/txn/records.js';
import { PartitionSet, TransactionState } from '../../../src/coordinator/txn/transaction-metadata.js';
import type { TxnTransit } from '../../../src/coordinator/txn/transaction-metadata.js';

const hex = (b: Buffer | null): string => (b === null ? 'null' : b.toString('hex'));

function transit(over: Partial<TxnTransit>): TxnTransit {
  return {
    producerId: 1000,
    lastProducerId: 1000,
    producerEpoch: 0,
    lastProducerEpoch: -1,
    txnTimeoutMs: 60_000,
    state: TransactionState.EMPTY,
    partitions: new PartitionSet(),
    txnStartTimestamp: -1,
    txnLastUpdateTimestamp: 1_700_000_000_000,
    ...over,
  };
}

const ongoing = (): TxnTransit =>
  transit({
    state: TransactionState.ONGOING,
    partitions: new PartitionSet([{ topic: 't', partition: 0 }, { topic: 't', partition: 1 }, { topic: 'u', partition: 0 }]),
    txnStartTimestamp: 1_700_000_005_000,
  });

// Field layout from TransactionLogKey / TransactionLogValue (coordinator/transaction/*.json):
// value = int16 version | int64 producer id | int16 epoch | int32 timeout | int8 status |
//         partitions (nullable array of {topic, [int32]}) | int64 last update | int64 start.
const PID = '00000000000003e8';
const EPOCH0 = '0000';
const TIMEOUT = '0000ea60';
const UPDATED = '0000018bcfe56800';

describe('__transaction_state records', () => {
  it('writes the key as version 0 and the transactional id', () => {
    assert.equal(hex(transactionLogKey('tx')), '0000' + '0002' + '7478');
  });

  it('writes an Empty value as version 0 with a null partition list', () => {
    const r = transactionLogRecord('tx', transit({}), 0);
    assert.equal(hex(r.value), '0000' + PID + EPOCH0 + TIMEOUT + '00' + 'ffffffff' + UPDATED + 'ffffffffffffffff');
  });

  it('writes Ongoing partitions grouped by topic (version 0)', () => {
    const r = transactionLogRecord('tx', ongoing(), 0);
    const partitions = '00000002' + '0001' + '74' + '00000002' + '00000000' + '00000001' + '0001' + '75' + '00000001' + '00000000';
    assert.equal(hex(r.value), '0000' + PID + EPOCH0 + TIMEOUT + '01' + partitions + UPDATED + '0000018bcfe57b88');
  });

  it('writes the flexible version 1 with compact arrays and tagged-field sections', () => {
    const r = transactionLogRecord('tx', ongoing(), 1);
    const partitions = '03' + '02' + '74' + '03' + '00000000' + '00000001' + '00' + '02' + '75' + '02' + '00000000' + '00';
    assert.equal(hex(r.value), '0001' + PID + EPOCH0 + TIMEOUT + '01' + partitions + UPDATED + '0000018bcfe57b88' + '00');
  });

  it('writes an empty (not null) partition list for the Complete states', () => {
    const r = transactionLogRecord('tx', transit({ state: TransactionState.COMPLETE_COMMIT, txnStartTimestamp: 1_700_000_005_000 }), 0);
    assert.equal(hex(r.value), '0000' + PID + EPOCH0 + TIMEOUT + '04' + '00000000' + UPDATED + '0000018bcfe57b88');
  });

  it('never writes Dead or PrepareEpochFence, nor an Empty state with partitions', () => {
    assert.throws(() => transactionLogRecord('tx', transit({ state: TransactionState.DEAD }), 0));
    assert.throws(() => transactionLogRecord('tx', transit({ state: TransactionState.PREPARE_EPOCH_FENCE }), 0));
    assert.throws(() => transactionLogRecord('tx', transit({ partitions: new PartitionSet([{ topic: 't', partition: 0 }]) }), 0));
  });

  it('reads both versions back, without the previous producer id and epoch (not in the record)', () => {
    for (const version of [0, 1] as const) {
      const d = decodeTransactionRecord(transactionLogRecord('tx', { ...ongoing(), lastProducerEpoch: 3 }, version));
      assert.equal(d.kind, 'txn');
      if (d.kind !== 'txn' || d.metadata === null) throw new Error('expected metadata');
      const m = d.metadata;
      assert.equal(d.transactionalId, 'tx');
      assert.deepEqual(
        [m.producerId, m.lastProducerId, m.producerEpoch, m.lastProducerEpoch, m.txnTimeoutMs, m.state, m.txnStartTimestamp, m.txnLastUpdateTimestamp],
        [1000, -1, 0, -1, 60_000, TransactionState.ONGOING, 1_700_000_005_000, 1_700_000_000_000],
      );
      assert.deepEqual(m.partitions.byTopic(), [
        { topic: 't', partitions: [0, 1] },
        { topic: 'u', partitions: [0] },
      ]);
    }
  });

  it('reads tombstones, skips unknown key versions, refuses unknown value versions and states', () => {
    assert.deepEqual(decodeTransactionRecord(transactionLogTombstone('tx')), { kind: 'txn', transactionalId: 'tx', metadata: null });
    assert.deepEqual(decodeTransactionRecord({ key: Buffer.from('00050001', 'hex'), value: null }), { kind: 'other' });
    const good = transactionLogRecord('tx', transit({}), 0);
    const v9 = Buffer.from(good.value ?? Buffer.alloc(0));
    v9.writeInt16BE(9, 0);
    assert.throws(() => decodeTransactionRecord({ key: good.key, value: v9 }));
    const badState = Buffer.from(good.value ?? Buffer.alloc(0));
    badState.writeInt8(42, 2 + 8 + 2 + 4);
    assert.throws(() => decodeTransactionRecord({ key: good.key, value: badState }));
  });
});
