import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { groupPartitionFor } from '../../../src/coordinator/group/partitioner.js';
import { TransactionResult } from '../../../src/coordinator/txn/marker-dispatcher.js';
import { transactionLogRecord } from '../../../src/coordinator/txn/records.js';
import { PartitionSet, TransactionState } from '../../../src/coordinator/txn/transaction-metadata.js';
import { ErrorCode } from '../../../src/protocol/errors.js';
import type { AddPartitionsToTxnRequest } from '../../../src/protocol/generated/messages/add-partitions-to-txn.js';
import { MemoryCoordinatorLog, isPending, settle } from '../memory-log.js';
import type { Harness } from './harness.js';
import { FakeMarkerSender, flush, loggedStates, start, tp } from './harness.js';

const { COMMIT, ABORT } = TransactionResult;

async function beginWith(h: Harness, id: string, partitions = [tp('t', 0), tp('t', 1), tp('u', 0)]): Promise<{ pid: number; epoch: number }> {
  const init = await h.tc.handleInitProducerId(id, 60_000);
  assert.equal(init.errorCode, ErrorCode.NONE);
  assert.equal(await h.tc.handleAddPartitions(id, init.producerId, init.producerEpoch, partitions), ErrorCode.NONE);
  return { pid: init.producerId, epoch: init.producerEpoch };
}

const stateOf = async (h: Harness, id: string): Promise<string> => (await h.tc.describeTransaction(id)).transactionState;

function verifyReq(id: string, pid: number, epoch: number, partitions: number[]): AddPartitionsToTxnRequest {
  return {
    transactions: [{ transactionalId: id, producerId: BigInt(pid), producerEpoch: epoch, verifyOnly: true, topics: [{ name: 't', partitions }] }],
    v3AndBelowTransactionalId: '',
    v3AndBelowProducerId: 0n,
    v3AndBelowProducerEpoch: 0,
    v3AndBelowTopics: [],
  };
}

/** Writes a record for `id` into the log before the coordinator loads it. */
function seed(log: MemoryCoordinatorLog, id: string, over: { state: TransactionState; producerId: number; producerEpoch: number; partitions?: PartitionSet; start?: number; timeoutMs?: number }): void {
  const r = transactionLogRecord(
    id,
    {
      producerId: over.producerId,
      lastProducerId: -1,
      producerEpoch: over.producerEpoch,
      lastProducerEpoch: -1,
      txnTimeoutMs: over.timeoutMs ?? 60_000,
      state: over.state,
      partitions: over.partitions ?? new PartitionSet(),
      txnStartTimestamp: over.start ?? -1,
      txnLastUpdateTimestamp: 1_700_000_000_000,
    },
    0,
  );
  void log.append([r]);
}

describe('transaction coordinator: commit and abort', () => {
  it('commits: Empty → Ongoing → PrepareCommit → markers to every partition → CompleteCommit', async () => {
    const h = await start();
    const { pid, epoch } = await beginWith(h, 'tx');
    assert.deepEqual({ pid, epoch }, { pid: 1000, epoch: 0 });
    const d = await h.tc.describeTransaction('tx');
    assert.equal(d.transactionState, 'Ongoing');
    assert.deepEqual(d.topics, [
      { topic: 't', partitions: [0, 1] },
      { topic: 'u', partitions: [0] },
    ]);
    assert.equal(d.transactionStartTimeMs, BigInt(h.scheduler.now()));

    assert.equal(await h.tc.handleEndTxn('tx', pid, epoch, COMMIT), ErrorCode.NONE);
    await flush();
    assert.deepEqual(h.sender.calls, [{ producerId: 1000, producerEpoch: 0, result: COMMIT, partitions: ['t-0', 't-1', 'u-0'], coordinatorEpoch: 7 }]);
    assert.equal(await stateOf(h, 'tx'), 'CompleteCommit');
    assert.deepEqual((await h.tc.describeTransaction('tx')).topics, []);
    assert.deepEqual(loggedStates(h.log), ['Empty', 'Ongoing', 'PrepareCommit', 'CompleteCommit']);
    // A retried commit of a completed commit succeeds without writing anything.
    assert.equal(await h.tc.handleEndTxn('tx', pid, epoch, COMMIT), ErrorCode.NONE);
    assert.equal(h.log.records.length, 4);
  });

  it('aborts, and the next transaction of the same producer starts afresh', async () => {
    const h = await start();
    const { pid, epoch } = await beginWith(h, 'tx', [tp('t', 0)]);
    assert.equal(await h.tc.handleEndTxn('tx', pid, epoch, ABORT), ErrorCode.NONE);
    await flush();
    assert.equal(h.sender.calls[0]?.result, ABORT);
    assert.equal(await stateOf(h, 'tx'), 'CompleteAbort');
    h.scheduler.advance(5000);
    assert.equal(await h.tc.handleAddPartitions('tx', pid, epoch, [tp('v', 2)]), ErrorCode.NONE);
    const d = await h.tc.describeTransaction('tx');
    assert.equal(d.transactionState, 'Ongoing');
    assert.deepEqual(d.topics, [{ topic: 'v', partitions: [2] }]);
    assert.equal(d.transactionStartTimeMs, BigInt(h.scheduler.now()));
    assert.deepEqual(loggedStates(h.log), ['Empty', 'Ongoing', 'PrepareAbort', 'CompleteAbort', 'Ongoing']);
  });

  it('answers EndTxn only once PrepareCommit is committed, and sends no marker before', async () => {
    const h = await start();
    const { pid, epoch } = await beginWith(h, 'tx', [tp('t', 0)]);
    h.log.autoCommit = false;
    const end = h.tc.handleEndTxn('tx', pid, epoch, COMMIT);
    assert.equal(await isPending(end), true);
    assert.equal(h.sender.calls.length, 0);
    h.log.commit();
    assert.equal(await end, ErrorCode.NONE);
    await flush();
    assert.equal(h.sender.calls.length, 1);
    h.log.commit();
    await flush();
    assert.equal(await stateOf(h, 'tx'), 'CompleteCommit');
  });

  it('adds the group offsets partition for AddOffsetsToTxn', async () => {
    const h = await start({ config: { offsetsTopicNumPartitions: 50 } });
    const { pid, epoch } = await beginWith(h, 'tx', [tp('t', 0)]);
    const r = await h.tc.addOffsetsToTxn(3, { transactionalId: 'tx', producerId: BigInt(pid), producerEpoch: epoch, groupId: 'my-group' });
    assert.equal(r.errorCode, ErrorCode.NONE);
    const d = await h.tc.describeTransaction('tx');
    assert.deepEqual(d.topics[1], { topic: '__consumer_offsets', partitions: [groupPartitionFor('my-group', 50)] });
  });
});

describe('transaction coordinator: InitProducerId', () => {
  it('bumps the epoch on every init of an idle id, and allocates a producer id only once', async () => {
    const h = await start();
    const a = await h.tc.handleInitProducerId('tx', 60_000);
    const b = await h.tc.handleInitProducerId('tx', 60_000);
    assert.deepEqual([a, b], [
      { errorCode: ErrorCode.NONE, producerId: 1000, producerEpoch: 0 },
      { errorCode: ErrorCode.NONE, producerId: 1000, producerEpoch: 1 },
    ]);
    assert.deepEqual(h.allocated, [1000]);
  });

  it('hands idempotent producers (no transactional id) a fresh id at epoch 0 and records nothing', async () => {
    const h = await start();
    const r = await h.tc.initProducerId(4, { transactionalId: null, transactionTimeoutMs: 0, producerId: -1n, producerEpoch: -1 });
    assert.deepEqual(r, { throttleTimeMs: 0, errorCode: ErrorCode.NONE, producerId: 1000n, producerEpoch: 0 });
    assert.equal(h.log.records.length, 0);
  });

  it('refuses an empty id, a half-given producer, and timeouts out of (0, transaction.max.timeout.ms]', async () => {
    const h = await start({ config: { transactionMaxTimeoutMs: 900_000 } });
    assert.equal((await h.tc.handleInitProducerId('', 1000)).errorCode, ErrorCode.INVALID_REQUEST);
    assert.equal((await h.tc.handleInitProducerId('tx', 900_001)).errorCode, ErrorCode.INVALID_TRANSACTION_TIMEOUT);
    assert.equal((await h.tc.handleInitProducerId('tx', 0)).errorCode, ErrorCode.INVALID_TRANSACTION_TIMEOUT);
    assert.equal((await h.tc.handleInitProducerId('tx', 900_000)).errorCode, ErrorCode.NONE);
    const half = await h.tc.initProducerId(4, { transactionalId: 'tx', transactionTimeoutMs: 1000, producerId: -1n, producerEpoch: 3 });
    assert.equal(half.errorCode, ErrorCode.INVALID_REQUEST);
  });

  it('KIP-360: bumps from the given epoch, answers a retry with the same epoch, fences anything else', async () => {
    const h = await start();
    const first = await h.tc.handleInitProducerId('tx', 60_000);
    const bumped = await h.tc.handleInitProducerId('tx', 60_000, { producerId: first.producerId, producerEpoch: 0 });
    assert.deepEqual(bumped, { errorCode: ErrorCode.NONE, producerId: 1000, producerEpoch: 1 });
    // The answer was lost; the producer asks again with its old epoch.
    const retry = await h.tc.handleInitProducerId('tx', 60_000, { producerId: 1000, producerEpoch: 0 });
    assert.deepEqual(retry, { errorCode: ErrorCode.NONE, producerId: 1000, producerEpoch: 1 });
    assert.equal((await h.tc.handleInitProducerId('tx', 60_000, { producerId: 1000, producerEpoch: 5 })).errorCode, ErrorCode.PRODUCER_FENCED);
    assert.equal((await h.tc.handleInitProducerId('tx', 60_000, { producerId: 77, producerEpoch: 1 })).errorCode, ErrorCode.PRODUCER_FENCED);
    // Before v4 the fenced producer hears INVALID_PRODUCER_EPOCH.
    const v3 = await h.tc.initProducerId(3, { transactionalId: 'tx', transactionTimeoutMs: 60_000, producerId: 77n, producerEpoch: 1 });
    assert.equal(v3.errorCode, ErrorCode.INVALID_PRODUCER_EPOCH);
    // A new producer (no epoch yet) may name any id: it gets the freshly allocated one.
    const fresh = await h.tc.handleInitProducerId('other', 60_000, { producerId: 55, producerEpoch: 3 });
    assert.deepEqual(fresh, { errorCode: ErrorCode.NONE, producerId: 1001, producerEpoch: 0 });
  });

  it('another producer initializing a new instance bumps the epoch and clears the last epoch', async () => {
    const h = await start();
    await h.tc.handleInitProducerId('tx', 60_000);
    await h.tc.handleInitProducerId('tx', 60_000, { producerId: 1000, producerEpoch: 0 });
    // A new instance (no KIP-360 fields) takes over at epoch 2; the old instance's retry is now fenced.
    assert.equal((await h.tc.handleInitProducerId('tx', 60_000)).producerEpoch, 2);
    assert.equal((await h.tc.handleInitProducerId('tx', 60_000, { producerId: 1000, producerEpoch: 0 })).errorCode, ErrorCode.PRODUCER_FENCED);
  });

  it('moves to a new producer id when the epochs are exhausted, and accepts the KIP-360 retry of that', async () => {
    const log = new MemoryCoordinatorLog();
    seed(log, 'tx', { state: TransactionState.COMPLETE_COMMIT, producerId: 500, producerEpoch: 32766, start: 1 });
    seed(log, 'plain', { state: TransactionState.EMPTY, producerId: 600, producerEpoch: 32766 });
    const h = await start({ log });
    const rotated = await h.tc.handleInitProducerId('tx', 60_000, { producerId: 500, producerEpoch: 32766 });
    assert.deepEqual(rotated, { errorCode: ErrorCode.NONE, producerId: 1000, producerEpoch: 0 });
    const retry = await h.tc.handleInitProducerId('tx', 60_000, { producerId: 500, producerEpoch: 32766 });
    assert.deepEqual(retry, { errorCode: ErrorCode.NONE, producerId: 1000, producerEpoch: 0 });
    assert.deepEqual(await h.tc.handleInitProducerId('plain', 60_000), { errorCode: ErrorCode.NONE, producerId: 1001, producerEpoch: 0 });
  });

  it('fences the running producer of an ongoing transaction: abort under a bumped epoch, CONCURRENT_TRANSACTIONS, then a further bump', async () => {
    const h = await start();
    const zombie = await beginWith(h, 'tx', [tp('t', 0)]);
    const second = await h.tc.handleInitProducerId('tx', 60_000);
    assert.equal(second.errorCode, ErrorCode.CONCURRENT_TRANSACTIONS);
    await flush();
    assert.deepEqual(h.sender.calls, [{ producerId: 1000, producerEpoch: 1, result: ABORT, partitions: ['t-0'], coordinatorEpoch: 7 }]);
    assert.equal(await stateOf(h, 'tx'), 'CompleteAbort');
    const retried = await h.tc.handleInitProducerId('tx', 60_000);
    assert.deepEqual(retried, { errorCode: ErrorCode.NONE, producerId: 1000, producerEpoch: 2 });
    // The zombie can no longer do anything.
    assert.equal(await h.tc.handleAddPartitions('tx', zombie.pid, zombie.epoch, [tp('t', 1)]), ErrorCode.PRODUCER_FENCED);
    assert.equal(await h.tc.handleEndTxn('tx', zombie.pid, zombie.epoch, COMMIT), ErrorCode.PRODUCER_FENCED);
    const v1 = await h.tc.endTxn(1, { transactionalId: 'tx', producerId: BigInt(zombie.pid), producerEpoch: zombie.epoch, committed: true });
    assert.equal(v1.errorCode, ErrorCode.INVALID_PRODUCER_EPOCH);
    const v0add = await h.tc.addPartitionsToTxn(1, {
      transactions: [],
      v3AndBelowTransactionalId: 'tx',
      v3AndBelowProducerId: BigInt(zombie.pid),
      v3AndBelowProducerEpoch: zombie.epoch,
      v3AndBelowTopics: [{ name: 't', partitions: [1, 2] }],
    });
    assert.deepEqual(v0add.resultsByTopicV3AndBelow, [
      {
        name: 't',
        resultsByPartition: [
          { partitionIndex: 1, partitionErrorCode: ErrorCode.INVALID_PRODUCER_EPOCH },
          { partitionIndex: 2, partitionErrorCode: ErrorCode.INVALID_PRODUCER_EPOCH },
        ],
      },
    ]);
    assert.deepEqual(loggedStates(h.log), ['Empty', 'Ongoing', 'PrepareAbort', 'CompleteAbort', 'Empty']);
  });
});

describe('transaction coordinator: errors and concurrency', () => {
  it('answers with the producer-id source error when no id can be allocated, and writes nothing', async () => {
    const { ManualScheduler } = await import('../../../src/coordinator/scheduler.js');
    const { TransactionCoordinator } = await import('../../../src/coordinator/txn/transaction-coordinator.js');
    const log = new MemoryCoordinatorLog();
    const failures: unknown[] = [Object.assign(new Error('no block'), { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE }), new Error('boom')];
    const tc = new TransactionCoordinator({
      scheduler: new ManualScheduler(),
      logFor: () => log,
      allocateProducerId: () => Promise.reject(failures.shift()),
      markerSender: new FakeMarkerSender(),
      config: { transactionStateLogNumPartitions: 1 },
    });
    await tc.onElection(0, 1);
    assert.equal((await tc.handleInitProducerId('tx', 1000)).errorCode, ErrorCode.COORDINATOR_NOT_AVAILABLE);
    assert.equal((await tc.handleInitProducerId(null, 0)).errorCode, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    assert.equal(log.records.length, 0);
    tc.close();
  });

  it('writes the flexible value version when configured, and loads it back', async () => {
    const h = await start({ config: { transactionLogValueVersion: 1 } });
    const { pid, epoch } = await beginWith(h, 'tx', [tp('t', 0)]);
    assert.ok(h.log.records.every((r) => r.value?.readInt16BE(0) === 1));
    h.tc.close();
    const h2 = await start({ log: h.log, scheduler: h.scheduler, epoch: 8 });
    assert.equal(await h2.tc.handleEndTxn('tx', pid, epoch, COMMIT), ErrorCode.NONE);
    await flush();
    assert.equal(await stateOf(h2, 'tx'), 'CompleteCommit');
  });

  it('maps unknown ids and producers to INVALID_PRODUCER_ID_MAPPING and wrong outcomes to INVALID_TXN_STATE', async () => {
    const h = await start();
    assert.equal(await h.tc.handleAddPartitions('nope', 1, 0, [tp('t', 0)]), ErrorCode.INVALID_PRODUCER_ID_MAPPING);
    assert.equal(await h.tc.handleEndTxn('nope', 1, 0, COMMIT), ErrorCode.INVALID_PRODUCER_ID_MAPPING);
    const init = await h.tc.handleInitProducerId('tx', 60_000);
    assert.equal(await h.tc.handleAddPartitions('tx', 999, 0, [tp('t', 0)]), ErrorCode.INVALID_PRODUCER_ID_MAPPING);
    assert.equal(await h.tc.handleEndTxn('tx', init.producerId, 0, COMMIT), ErrorCode.INVALID_TXN_STATE);
    assert.equal(await h.tc.handleAddPartitions('', 1, 0, []), ErrorCode.INVALID_REQUEST);
    await h.tc.handleAddPartitions('tx', init.producerId, 0, [tp('t', 0)]);
    await h.tc.handleEndTxn('tx', init.producerId, 0, COMMIT);
    await flush();
    assert.equal(await h.tc.handleEndTxn('tx', init.producerId, 0, ABORT), ErrorCode.INVALID_TXN_STATE);
  });

  it('answers CONCURRENT_TRANSACTIONS while markers are being written, INVALID_TXN_STATE for the other outcome', async () => {
    const h = await start();
    const { pid, epoch } = await beginWith(h, 'tx', [tp('t', 0)]);
    h.sender.hold = true;
    assert.equal(await h.tc.handleEndTxn('tx', pid, epoch, COMMIT), ErrorCode.NONE);
    await flush();
    assert.equal(await stateOf(h, 'tx'), 'PrepareCommit');
    assert.equal(await h.tc.handleEndTxn('tx', pid, epoch, COMMIT), ErrorCode.CONCURRENT_TRANSACTIONS);
    assert.equal(await h.tc.handleEndTxn('tx', pid, epoch, ABORT), ErrorCode.INVALID_TXN_STATE);
    assert.equal(await h.tc.handleAddPartitions('tx', pid, epoch, [tp('t', 1)]), ErrorCode.CONCURRENT_TRANSACTIONS);
    assert.equal((await h.tc.handleInitProducerId('tx', 60_000)).errorCode, ErrorCode.CONCURRENT_TRANSACTIONS);
    h.sender.release();
    await flush();
    assert.equal(await stateOf(h, 'tx'), 'CompleteCommit');
    assert.equal((await h.tc.handleInitProducerId('tx', 60_000)).producerEpoch, 1);
  });

  it('answers NOT_COORDINATOR for a partition it does not lead, and when an append fails', async () => {
    const h = await start();
    const { pid, epoch } = await beginWith(h, 'tx', [tp('t', 0)]);
    h.log.failWith = ErrorCode.NOT_LEADER_OR_FOLLOWER;
    assert.equal(await h.tc.handleEndTxn('tx', pid, epoch, COMMIT), ErrorCode.NOT_COORDINATOR);
    assert.equal((await h.tc.describeTransaction('tx')).errorCode, ErrorCode.NOT_COORDINATOR);
    assert.equal((await h.tc.handleInitProducerId('tx', 1000)).errorCode, ErrorCode.NOT_COORDINATOR);
  });

  it('answers COORDINATOR_LOAD_IN_PROGRESS while the partition loads', async () => {
    const log = new MemoryCoordinatorLog();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slowLog = {
      append: (records: Parameters<MemoryCoordinatorLog['append']>[0]) => log.append(records),
      async *replay() {
        await gate;
        yield* log.replay();
      },
    };
    const h = await start({ log });
    h.tc.close();
    const { TransactionCoordinator } = await import('../../../src/coordinator/txn/transaction-coordinator.js');
    const tc = new TransactionCoordinator({
      scheduler: h.scheduler,
      logFor: () => slowLog,
      allocateProducerId: () => Promise.resolve(1),
      markerSender: new FakeMarkerSender(),
      config: { transactionStateLogNumPartitions: 1 },
    });
    const loading = tc.onElection(0, 1);
    assert.equal((await tc.handleInitProducerId('tx', 1000)).errorCode, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    assert.equal((await tc.listTransactions({ stateFilters: [], producerIdFilters: [], durationFilter: -1n })).errorCode, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    release();
    await loading;
    assert.equal((await tc.handleInitProducerId('tx', 1000)).errorCode, ErrorCode.NONE);
  });
});

describe('transaction coordinator: KIP-890 verification', () => {
  it('answers per partition whether it is in the ongoing transaction (TRANSACTION_ABORTABLE from v5, INVALID_TXN_STATE at v4)', async () => {
    const h = await start();
    const { pid, epoch } = await beginWith(h, 'tx', [tp('t', 0)]);
    const v5 = await h.tc.addPartitionsToTxn(5, verifyReq('tx', pid, epoch, [0, 1]));
    assert.deepEqual(v5.resultsByTransaction, [
      {
        transactionalId: 'tx',
        topicResults: [
          {
            name: 't',
            resultsByPartition: [
              { partitionIndex: 0, partitionErrorCode: ErrorCode.NONE },
              { partitionIndex: 1, partitionErrorCode: ErrorCode.TRANSACTION_ABORTABLE },
            ],
          },
        ],
      },
    ]);
    const v4 = await h.tc.addPartitionsToTxn(4, verifyReq('tx', pid, epoch, [1]));
    assert.equal(v4.resultsByTransaction[0]?.topicResults[0]?.resultsByPartition[0]?.partitionErrorCode, ErrorCode.INVALID_TXN_STATE);
    // Verification writes nothing and does not add the partition.
    assert.deepEqual(loggedStates(h.log), ['Empty', 'Ongoing']);
    const errs = async (id: string, p: number, e: number): Promise<number[]> => (await h.tc.handleVerifyPartitions(id, p, e, [tp('t', 0)])).map((x) => x.errorCode);
    assert.deepEqual(await errs('tx', pid, epoch + 1), [ErrorCode.PRODUCER_FENCED]);
    assert.deepEqual(await errs('tx', pid + 1, epoch), [ErrorCode.INVALID_PRODUCER_ID_MAPPING]);
    assert.deepEqual(await errs('nope', pid, epoch), [ErrorCode.INVALID_PRODUCER_ID_MAPPING]);
    assert.deepEqual(await errs('', pid, epoch), [ErrorCode.INVALID_REQUEST]);
    h.sender.hold = true;
    await h.tc.handleEndTxn('tx', pid, epoch, COMMIT);
    assert.deepEqual(await errs('tx', pid, epoch), [ErrorCode.CONCURRENT_TRANSACTIONS]);
    h.sender.release();
    await flush();
    // A late write after the transaction completed is refused.
    assert.deepEqual(await errs('tx', pid, epoch), [ErrorCode.TRANSACTION_ABORTABLE]);
  });

  it('confirms a partition only once the AddPartitions record that added it is committed', async () => {
    const h = await start();
    const init = await h.tc.handleInitProducerId('tx', 60_000);
    h.log.autoCommit = false;
    const add = h.tc.handleAddPartitions('tx', init.producerId, 0, [tp('t', 0)]);
    const verify = h.tc.handleVerifyPartitions('tx', init.producerId, 0, [tp('t', 0)]);
    assert.equal(await isPending(verify), true);
    h.log.commit();
    assert.equal(await add, ErrorCode.NONE);
    assert.deepEqual((await verify).map((e) => e.errorCode), [ErrorCode.NONE]);
  });

  it('adds partitions for v4+ callers that do not ask for verification only', async () => {
    const h = await start();
    const init = await h.tc.handleInitProducerId('tx', 60_000);
    const req = verifyReq('tx', init.producerId, 0, [3]);
    const add = await h.tc.addPartitionsToTxn(5, { ...req, transactions: req.transactions.map((t) => ({ ...t, verifyOnly: false })) });
    assert.equal(add.resultsByTransaction[0]?.topicResults[0]?.resultsByPartition[0]?.partitionErrorCode, ErrorCode.NONE);
    assert.equal(await stateOf(h, 'tx'), 'Ongoing');
  });
});

describe('transaction coordinator: markers', () => {
  it('resends markers only to the partitions that failed, with a growing backoff', async () => {
    const h = await start();
    const { pid, epoch } = await beginWith(h, 'tx', [tp('t', 0), tp('t', 1)]);
    h.sender.script.set('t-1', [ErrorCode.NOT_LEADER_OR_FOLLOWER, ErrorCode.NOT_ENOUGH_REPLICAS]);
    await h.tc.handleEndTxn('tx', pid, epoch, COMMIT);
    await flush();
    assert.deepEqual(h.sender.calls.map((c) => c.partitions), [['t-0', 't-1']]);
    h.scheduler.advance(99);
    await flush();
    assert.equal(h.sender.calls.length, 1);
    h.scheduler.advance(1);
    await flush();
    assert.deepEqual(h.sender.calls.map((c) => c.partitions), [['t-0', 't-1'], ['t-1']]);
    assert.equal(await stateOf(h, 'tx'), 'PrepareCommit');
    h.scheduler.advance(200);
    await flush();
    assert.equal(h.sender.calls.length, 3);
    assert.equal(await stateOf(h, 'tx'), 'CompleteCommit');
  });

  it('gives up when the partition says a newer coordinator or producer epoch took over', async () => {
    const h = await start();
    const { pid, epoch } = await beginWith(h, 'tx', [tp('t', 0)]);
    h.sender.script.set('t-0', [ErrorCode.TRANSACTION_COORDINATOR_FENCED]);
    await h.tc.handleEndTxn('tx', pid, epoch, ABORT);
    await flush();
    h.scheduler.advance(60_000);
    await flush();
    assert.equal(h.sender.calls.length, 1);
    assert.deepEqual(h.abandoned.map((a) => a.errorCode), [ErrorCode.TRANSACTION_COORDINATOR_FENCED]);
    assert.equal(await stateOf(h, 'tx'), 'PrepareAbort');
  });

  it('resumes the markers of a decided transaction after a reload, under the new coordinator epoch', async () => {
    const log = new MemoryCoordinatorLog();
    const h = await start({ log });
    const { pid, epoch } = await beginWith(h, 'tx', [tp('t', 0), tp('u', 1)]);
    h.sender.hold = true;
    await h.tc.handleEndTxn('tx', pid, epoch, COMMIT);
    await flush();
    assert.equal(h.sender.calls.length, 1);
    h.tc.onResignation(0, 7);
    h.sender.release();
    await flush();
    // The deposed coordinator neither completes the transaction nor retries.
    h.scheduler.advance(10_000);
    await flush();
    assert.equal(h.sender.calls.length, 1);
    assert.deepEqual(loggedStates(log), ['Empty', 'Ongoing', 'PrepareCommit']);

    const sender = new FakeMarkerSender();
    const h2 = await start({ log, sender, scheduler: h.scheduler, epoch: 8 });
    await flush();
    assert.deepEqual(sender.calls, [{ producerId: pid, producerEpoch: epoch, result: COMMIT, partitions: ['t-0', 'u-1'], coordinatorEpoch: 8 }]);
    assert.equal(await stateOf(h2, 'tx'), 'CompleteCommit');
    assert.deepEqual(loggedStates(log), ['Empty', 'Ongoing', 'PrepareCommit', 'CompleteCommit']);
  });

  it('completes a transaction with no partitions without sending anything', async () => {
    const h = await start();
    const init = await h.tc.handleInitProducerId('tx', 60_000);
    await h.tc.handleAddPartitions('tx', init.producerId, 0, []);
    assert.equal(await h.tc.handleEndTxn('tx', init.producerId, 0, COMMIT), ErrorCode.NONE);
    await flush();
    assert.equal(await stateOf(h, 'tx'), 'CompleteCommit');
    assert.equal(h.sender.calls.length, 0);
  });
});

describe('transaction coordinator: timers', () => {
  it('aborts a transaction left open past its timeout and fences its producer', async () => {
    const h = await start({ config: { abortTimedOutTransactionsIntervalMs: 10_000 } });
    const init = await h.tc.handleInitProducerId('tx', 15_000);
    await h.tc.handleAddPartitions('tx', init.producerId, 0, [tp('t', 0)]);
    h.scheduler.advance(10_000);
    await flush();
    assert.equal(await stateOf(h, 'tx'), 'Ongoing');
    h.scheduler.advance(10_000);
    await flush();
    assert.deepEqual(h.sender.calls, [{ producerId: init.producerId, producerEpoch: 1, result: ABORT, partitions: ['t-0'], coordinatorEpoch: 7 }]);
    assert.equal(await stateOf(h, 'tx'), 'CompleteAbort');
    assert.equal(await h.tc.handleEndTxn('tx', init.producerId, 0, COMMIT), ErrorCode.PRODUCER_FENCED);
    assert.equal((await h.tc.describeTransaction('tx')).producerEpoch, 1);
  });

  it('forgets idle transactional ids after transactional.id.expiration.ms with a tombstone', async () => {
    const h = await start({ config: { transactionalIdExpirationMs: 60_000, removeExpiredTransactionalIdsIntervalMs: 30_000 } });
    await h.tc.handleInitProducerId('idle', 10_000);
    const busy = await beginWith(h, 'busy', [tp('t', 0)]);
    h.scheduler.advance(90_000);
    await flush();
    assert.equal((await h.tc.describeTransaction('idle')).errorCode, ErrorCode.TRANSACTIONAL_ID_NOT_FOUND);
    assert.deepEqual(loggedStates(h.log, 'idle'), ['Empty', null]);
    // An id active within the expiration time is kept (its transaction timed out and was aborted at ~60 s).
    assert.notEqual((await h.tc.describeTransaction('busy')).errorCode, ErrorCode.TRANSACTIONAL_ID_NOT_FOUND);
    assert.ok(busy.pid > 0);
    // A reload agrees: the id is gone.
    h.tc.close();
    const h2 = await start({ log: h.log, scheduler: h.scheduler, epoch: 8 });
    assert.equal((await h2.tc.describeTransaction('idle')).errorCode, ErrorCode.TRANSACTIONAL_ID_NOT_FOUND);
    // And the id starts over with a new producer id.
    assert.equal((await h2.tc.handleInitProducerId('idle', 10_000)).producerEpoch, 0);
  });
});

describe('transaction coordinator: DescribeTransactions and ListTransactions', () => {
  it('describes and lists with state, producer and duration filters', async () => {
    const h = await start();
    await h.tc.handleInitProducerId('a', 60_000); // Empty, pid 1000
    await beginWith(h, 'b', [tp('t', 0)]); // Ongoing, pid 1001
    h.scheduler.advance(5_000);
    await beginWith(h, 'c', [tp('t', 1)]); // Ongoing since 5 s later, pid 1002
    const list = async (stateFilters: string[], producerIdFilters: bigint[] = [], durationFilter = -1n) => {
      const r = await h.tc.listTransactions({ stateFilters, producerIdFilters, durationFilter });
      return { ids: r.transactionStates.map((s) => s.transactionalId).sort(), unknown: r.unknownStateFilters, errorCode: r.errorCode };
    };
    assert.deepEqual(await list([]), { ids: ['a', 'b', 'c'], unknown: [], errorCode: ErrorCode.NONE });
    assert.deepEqual(await list(['Ongoing']), { ids: ['b', 'c'], unknown: [], errorCode: ErrorCode.NONE });
    assert.deepEqual(await list(['Ongoing'], [1002n]), { ids: ['c'], unknown: [], errorCode: ErrorCode.NONE });
    assert.deepEqual(await list(['Bogus']), { ids: [], unknown: ['Bogus'], errorCode: ErrorCode.NONE });
    h.scheduler.advance(1_000);
    // Running longer than 3 s: b (6 s) and a (no transaction: counts from the epoch), not c (1 s).
    assert.deepEqual(await list([], [], 3_000n), { ids: ['a', 'b'], unknown: [], errorCode: ErrorCode.NONE });

    const d = await h.tc.describeTransactions({ transactionalIds: ['b', 'nope', ''] });
    assert.deepEqual(d.transactionStates[0], {
      errorCode: ErrorCode.NONE,
      transactionalId: 'b',
      transactionState: 'Ongoing',
      transactionTimeoutMs: 60_000,
      transactionStartTimeMs: BigInt(h.scheduler.now() - 6_000),
      producerId: 1001n,
      producerEpoch: 0,
      topics: [{ topic: 't', partitions: [0] }],
    });
    assert.equal(d.transactionStates[1]?.errorCode, ErrorCode.TRANSACTIONAL_ID_NOT_FOUND);
    assert.equal(d.transactionStates[2]?.errorCode, ErrorCode.INVALID_REQUEST);
    const a = await h.tc.describeTransaction('a');
    assert.equal(a.transactionState, 'Empty');
    assert.equal(a.transactionStartTimeMs, -1n);
  });

  it('routes ids to partitions of __transaction_state and lists across them', async () => {
    const logs = new Map<number, MemoryCoordinatorLog>();
    const { ManualScheduler } = await import('../../../src/coordinator/scheduler.js');
    const { TransactionCoordinator } = await import('../../../src/coordinator/txn/transaction-coordinator.js');
    let pid = 1;
    const tc = new TransactionCoordinator({
      scheduler: new ManualScheduler(),
      logFor: (p) => {
        let l = logs.get(p);
        if (l === undefined) logs.set(p, (l = new MemoryCoordinatorLog()));
        return l;
      },
      allocateProducerId: () => Promise.resolve(pid++),
      markerSender: new FakeMarkerSender(),
      config: { transactionStateLogNumPartitions: 50 },
    });
    assert.equal(tc.partitionFor('my-txn'), 45);
    assert.equal(tc.partitionFor('tx'), 16);
    await tc.onElection(45, 1);
    await tc.onElection(16, 1);
    await tc.handleInitProducerId('my-txn', 1000);
    await tc.handleInitProducerId('tx', 1000);
    assert.equal((await tc.handleInitProducerId('transactional-id-1', 1000)).errorCode, ErrorCode.NOT_COORDINATOR);
    assert.equal(logs.get(45)?.records.length, 1);
    assert.equal(logs.get(16)?.records.length, 1);
    const r = await tc.listTransactions({ stateFilters: [], producerIdFilters: [], durationFilter: -1n });
    assert.deepEqual(r.transactionStates.map((s) => s.transactionalId).sort(), ['my-txn', 'tx']);
    tc.close();
    await settle();
  });
});
