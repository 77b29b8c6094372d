// The KIP-890 races, replayed deterministically on an in-process node (real coordinators, real logs): the
// transaction coordinator confirms a partition, then the transaction is aborted and its markers land, and
// only then does the write arrive (a delayed answer, a retry). Produce and TxnOffsetCommit must refuse it
// rather than open a transaction nobody will end; TxnOffsetCommit writes and markers must take turns.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';
import { ApiKey } from '../../../src/protocol/generated/apis.js';
import { ErrorCode } from '../../../src/protocol/errors.js';
import { buildBatchSync } from '../../../src/protocol/records/builder.js';
import { produceHandler } from '../../../src/broker/handlers/produce.js';
import { txnOffsetCommitHandler } from '../../../src/broker/handlers/txn-offset-commit.js';
import { GROUP_METADATA_TOPIC_NAME } from '../../../src/coordinator/txn/transaction-coordinator.js';
import { VerificationGuard } from '../../../src/storage/producer-state.js';
import type { DataPathDeps } from '../../../src/broker/data-path-deps.js';
import type { TopicPartition } from '../../../src/coordinator/txn/transaction-metadata.js';
import { call } from './admin-harness.js';
import { startGroupNode, whenLoaded, type GroupNode } from './group-harness.js';

const RETRY = [ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, ErrorCode.NOT_COORDINATOR, ErrorCode.COORDINATOR_NOT_AVAILABLE, ErrorCode.CONCURRENT_TRANSACTIONS];
const TOPIC = 'orders';
const GROUP = 'g1';

interface Txn {
  readonly id: string;
  readonly producerId: bigint;
  readonly epoch: number;
}

async function setUp(): Promise<{ g: GroupNode; txn: Txn }> {
  // One partition each for the coordinator topics, so both coordinators' partition is 0.
  const g = await startGroupNode({ 'transaction.state.log.num.partitions': '1', 'offsets.topic.num.partitions': '1' });
  await g.call(ApiKey.CreateTopics, 5, { topics: [{ name: TOPIC, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 10_000, validateOnly: false });
  await g.call(ApiKey.FindCoordinator, 4, { key: '', keyType: 0, coordinatorKeys: [GROUP] });
  await g.call(ApiKey.FindCoordinator, 4, { key: '', keyType: 1, coordinatorKeys: ['tx'] });
  const init = await whenLoaded(() => g.call(ApiKey.InitProducerId, 4, { transactionalId: 'tx', transactionTimeoutMs: 60_000, producerId: -1n, producerEpoch: -1 }), RETRY);
  assert.equal(init.errorCode, ErrorCode.NONE);
  return { g, txn: { id: 'tx', producerId: init.producerId, epoch: init.producerEpoch } };
}

const addPartition = async (g: GroupNode, t: Txn): Promise<void> => {
  const r = await whenLoaded(async () => {
    const res = await g.call(ApiKey.AddPartitionsToTxn, 3, {
      transactions: [], v3AndBelowTransactionalId: t.id, v3AndBelowProducerId: t.producerId, v3AndBelowProducerEpoch: t.epoch,
      v3AndBelowTopics: [{ name: TOPIC, partitions: [0] }],
    });
    return { errorCode: res.resultsByTopicV3AndBelow[0]!.resultsByPartition[0]!.partitionErrorCode };
  }, RETRY);
  assert.equal(r.errorCode, ErrorCode.NONE);
};

const addOffsets = async (g: GroupNode, t: Txn): Promise<void> => {
  const r = await whenLoaded(() => g.call(ApiKey.AddOffsetsToTxn, 3, { transactionalId: t.id, producerId: t.producerId, producerEpoch: t.epoch, groupId: GROUP }), RETRY);
  assert.equal(r.errorCode, ErrorCode.NONE);
};

/** EndTxn, then waits until every marker is written (the transaction is complete). */
async function endTxn(g: GroupNode, t: Txn, committed: boolean): Promise<void> {
  const r = await whenLoaded(() => g.call(ApiKey.EndTxn, 3, { transactionalId: t.id, producerId: t.producerId, producerEpoch: t.epoch, committed }), RETRY);
  assert.equal(r.errorCode, ErrorCode.NONE);
  await completion(g, t);
}

async function completion(g: GroupNode, t: Txn): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const d = await g.call(ApiKey.DescribeTransactions, 0, { transactionalIds: [t.id] });
    if (['CompleteAbort', 'CompleteCommit', 'Empty'].includes(d.transactionStates[0]!.transactionState)) return;
    await new Promise((res) => setTimeout(res, 10));
  }
  assert.fail('the transaction never completed');
}

const txnBatch = (t: Txn, seq: number): Buffer =>
  buildBatchSync([{ key: null, value: Buffer.from(`v${seq}`) }], { timestamp: Date.now(), producerId: Number(t.producerId), producerEpoch: t.epoch, baseSequence: seq, transactional: true });

/** Asserts the partition has no open transaction of the producer and its LSO is not held back. */
function assertSettled(g: GroupNode, topic: string, t: Txn): void {
  const p = g.node.dataPath.replicaManager.getPartition(topic, 0)!;
  assert.equal(p.log.producerState.hasOngoingTransaction(Number(t.producerId)), false, `no transaction is open in ${topic}-0`);
  assert.equal(p.log.highWatermark, p.log.logEndOffset);
  assert.equal(p.log.lastStableOffset, p.log.highWatermark, `the LSO of ${topic}-0 is not stuck`);
}

test('Produce: a coordinator answer delivered after the abort cannot open a transaction; the fast path skips the coordinator', { timeout: 60_000 }, async () => {
  const { g, txn } = await setUp();
  try {
    const coordinator = g.node.transactions.coordinator;
    let verifications = 0;
    let abortBeforeAnswering = true;
    const deps: DataPathDeps = {
      ...g.node.dataPath.deps,
      verifyTransaction: async (id, pid, epoch, partitions) => {
        verifications++;
        const codes = (await coordinator.handleVerifyPartitions(id, pid, epoch, partitions)).map((e) => e.errorCode);
        // The answer is on its way when the transaction is aborted and its markers are written.
        if (abortBeforeAnswering) await endTxn(g, txn, false);
        return codes;
      },
    };
    const produce = produceHandler(deps);
    const send = async (seq: number): Promise<number> => {
      const r = await call(produce, 9, {
        transactionalId: txn.id, acks: -1, timeoutMs: 10_000,
        topicData: [{ name: TOPIC, partitionData: [{ index: 0, records: txnBatch(txn, seq) }] }],
      });
      return r.responses[0]!.partitionResponses[0]!.errorCode;
    };

    await addPartition(g, txn);
    assert.equal(await send(0), ErrorCode.INVALID_TXN_STATE, 'the late write is refused');
    assert.equal(verifications, 1);
    assertSettled(g, TOPIC, txn);

    // The next transaction is verified afresh and works; once it is open here, no more round trips.
    abortBeforeAnswering = false;
    await addPartition(g, txn);
    assert.equal(await send(0), ErrorCode.NONE);
    assert.equal(verifications, 2);
    assert.equal(await send(1), ErrorCode.NONE);
    assert.equal(verifications, 2, 'an open transaction at the epoch needs no verification');
    const p = g.node.dataPath.replicaManager.getPartition(TOPIC, 0)!;
    assert.ok(p.log.lastStableOffset < p.log.highWatermark, 'the open transaction holds the LSO');
    await endTxn(g, txn, true);
    assertSettled(g, TOPIC, txn);
  } finally {
    await g.close();
  }
});

test('TxnOffsetCommit: an abort between the coordinator\'s answer and the write leaves no offsets behind', { timeout: 60_000 }, async () => {
  const { g, txn } = await setUp();
  try {
    const txns = g.node.transactions;
    const handler = txnOffsetCommitHandler({
      groups: g.node.groups.coordinator,
      pendingOffsets: txns.offsetLog,
      coordinator: {
        handleVerifyPartitions: async (id: string, pid: number, epoch: number, partitions: readonly TopicPartition[]) => {
          const answer = await txns.coordinator.handleVerifyPartitions(id, pid, epoch, partitions);
          await endTxn(g, txn, false);
          return answer;
        },
      },
    });
    await addOffsets(g, txn);
    const r = await call(handler, 3, {
      transactionalId: txn.id, groupId: GROUP, producerId: txn.producerId, producerEpoch: txn.epoch, generationId: -1, memberId: '', groupInstanceId: null,
      topics: [{ name: TOPIC, partitions: [{ partitionIndex: 0, committedOffset: 42n, committedLeaderEpoch: -1, committedMetadata: '' }] }],
    });
    assert.equal(r.topics[0]!.partitions[0]!.errorCode, ErrorCode.INVALID_TXN_STATE);
    assert.equal(txns.pendingOffsets.has(GROUP, TOPIC, 0), false, 'nothing is left pending for a later marker to apply');
    assertSettled(g, GROUP_METADATA_TOPIC_NAME, txn);
    const fetched = await g.call(ApiKey.OffsetFetch, 7, { groupId: GROUP, topics: [{ name: TOPIC, partitionIndexes: [0] }], requireStable: true, groups: [] });
    assert.equal(fetched.topics[0]!.partitions[0]!.errorCode, ErrorCode.NONE, 'not UNSTABLE_OFFSET_COMMIT forever');
    assert.equal(fetched.topics[0]!.partitions[0]!.committedOffset, -1n);
  } finally {
    await g.close();
  }
});

test('TxnOffsetCommit writes and markers take turns: a marker queued behind a write applies it; a write behind a marker is refused', { timeout: 60_000 }, async () => {
  const { g, txn } = await setUp();
  try {
    const txns = g.node.transactions;
    const commitOffset = (offset: bigint) => whenLoaded(async () => {
      const r = await g.call(ApiKey.TxnOffsetCommit, 3, {
        transactionalId: txn.id, groupId: GROUP, producerId: txn.producerId, producerEpoch: txn.epoch, generationId: -1, memberId: '', groupInstanceId: null,
        topics: [{ name: TOPIC, partitions: [{ partitionIndex: 0, committedOffset: offset, committedLeaderEpoch: -1, committedMetadata: '' }] }],
      });
      return { errorCode: r.topics[0]!.partitions[0]!.errorCode };
    }, RETRY);
    await addOffsets(g, txn);
    assert.equal((await commitOffset(42n)).errorCode, ErrorCode.NONE);
    const offsetsLog = g.node.dataPath.replicaManager.getPartition(GROUP_METADATA_TOPIC_NAME, 0)!.log;
    assert.equal(offsetsLog.producerState.hasOngoingTransaction(Number(txn.producerId), txn.epoch), true);

    // Hold the partition's queue, queue a second write of the transaction, then let EndTxn send its marker.
    let release!: () => void;
    const held = txns.offsetLog.exclusive(0, () => new Promise<void>((res) => (release = res)));
    const pendingOffset = (offset: number) => [{ groupId: GROUP, topic: TOPIC, partition: 0, offset, leaderEpoch: -1, metadata: '', commitTimestamp: Date.now() }];
    const write = txns.offsetLog.persist(Number(txn.producerId), txn.epoch, 0, pendingOffset(43), VerificationGuard.SENTINEL);
    await tick();
    const ended = whenLoaded(() => g.call(ApiKey.EndTxn, 3, { transactionalId: txn.id, producerId: txn.producerId, producerEpoch: txn.epoch, committed: true }), RETRY);
    for (let i = 0; i < 500; i++) {
      const d = await g.call(ApiKey.DescribeTransactions, 0, { transactionalIds: [txn.id] });
      if (d.transactionStates[0]!.transactionState === 'PrepareCommit') break;
      await new Promise((res) => setTimeout(res, 5));
    }
    release();
    await held;
    assert.equal(await write, ErrorCode.NONE);
    assert.equal((await ended).errorCode, ErrorCode.NONE);
    await completion(g, txn);
    // The marker came after the write: it found and committed the later offset.
    assert.equal(txns.pendingOffsets.has(GROUP, TOPIC, 0), false);
    const fetched = await g.call(ApiKey.OffsetFetch, 7, { groupId: GROUP, topics: [{ name: TOPIC, partitionIndexes: [0] }], requireStable: true, groups: [] });
    assert.equal(fetched.topics[0]!.partitions[0]!.committedOffset, 43n);
    assertSettled(g, GROUP_METADATA_TOPIC_NAME, txn);

    // A write of the finished transaction arriving after its marker (its sentinel taken while it was open).
    assert.equal(await txns.offsetLog.persist(Number(txn.producerId), txn.epoch, 0, pendingOffset(44), VerificationGuard.SENTINEL), ErrorCode.INVALID_TXN_STATE);
    assert.equal(txns.pendingOffsets.has(GROUP, TOPIC, 0), false);
    assertSettled(g, GROUP_METADATA_TOPIC_NAME, txn);
  } finally {
    await g.close();
  }
});
