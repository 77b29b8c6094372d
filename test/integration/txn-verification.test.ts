// KIP-890 part 1 against a real `strata start`, over the raw protocol: a delayed transactional write of a
// transaction that has ended is refused and opens nothing, and writes racing their transaction's abort
// (Produce and TxnOffsetCommit sent at the same instant as EndTxn, on other connections) never leave a
// hanging transaction behind: whatever the interleaving, once the abort is complete no transaction of the
// producer is open, the last stable offset has caught up with the high watermark, and no transactional
// offset is left pending.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';
import { startStrata, type StrataProcess } from './helpers/strata-process.js';
import { WireClient } from './helpers/wire.js';
import {
  AddOffsetsToTxnApi, AddPartitionsToTxnApi, CreateTopicsApi, DescribeProducersApi, DescribeTransactionsApi, EndTxnApi, FindCoordinatorApi,
  InitProducerIdApi, ListOffsetsApi, OffsetFetchApi, ProduceApi, TxnOffsetCommitApi,
} from '../../src/protocol/generated/apis.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { buildBatchSync } from '../../src/protocol/records/builder.js';

const ARGS = ['--set', 'transaction.state.log.num.partitions=1', '--set', 'offsets.topic.num.partitions=1'];
const RETRY: number[] = [ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, ErrorCode.NOT_COORDINATOR, ErrorCode.COORDINATOR_NOT_AVAILABLE, ErrorCode.CONCURRENT_TRANSACTIONS];
const TOPIC = 'race';
const GROUP = 'race-g';

let strata: StrataProcess;
const clients: WireClient[] = [];

before(async () => {
  strata = await startStrata(ARGS);
  for (let i = 0; i < 4; i++) clients.push(await WireClient.connect(strata.port));
  const [c] = clients;
  const created = await c!.request(CreateTopicsApi, 5, {
    topics: [{ name: TOPIC, numPartitions: 2, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 10_000, validateOnly: false,
  });
  assert.equal(created.body.topics[0]!.errorCode, ErrorCode.NONE);
});

after(async () => {
  for (const c of clients) c.close();
  await strata?.stop();
  await strata?.cleanup();
});

async function retrying<T>(attempt: () => Promise<T>, codeOf: (r: T) => number): Promise<T> {
  for (let i = 0; ; i++) {
    const r = await attempt();
    if (!RETRY.includes(codeOf(r)) || i > 200) return r;
    await new Promise((res) => setTimeout(res, 20));
  }
}

interface Txn { readonly id: string; readonly pid: bigint; readonly epoch: number }

async function init(c: WireClient, id: string): Promise<Txn> {
  await c.request(FindCoordinatorApi, 4, { key: '', keyType: 1, coordinatorKeys: [id] });
  await c.request(FindCoordinatorApi, 4, { key: '', keyType: 0, coordinatorKeys: [GROUP] });
  const r = await retrying(() => c.request(InitProducerIdApi, 4, { transactionalId: id, transactionTimeoutMs: 60_000, producerId: -1n, producerEpoch: -1 }), (x) => x.body.errorCode);
  assert.equal(r.body.errorCode, ErrorCode.NONE);
  return { id, pid: r.body.producerId, epoch: r.body.producerEpoch };
}

const addPartition = (c: WireClient, t: Txn, partition: number) => retrying(() => c.request(AddPartitionsToTxnApi, 3, {
  transactions: [], v3AndBelowTransactionalId: t.id, v3AndBelowProducerId: t.pid, v3AndBelowProducerEpoch: t.epoch,
  v3AndBelowTopics: [{ name: TOPIC, partitions: [partition] }],
}), (r) => r.body.resultsByTopicV3AndBelow[0]!.resultsByPartition[0]!.partitionErrorCode)
  .then((r) => r.body.resultsByTopicV3AndBelow[0]!.resultsByPartition[0]!.partitionErrorCode);

const addOffsets = (c: WireClient, t: Txn) =>
  retrying(() => c.request(AddOffsetsToTxnApi, 3, { transactionalId: t.id, producerId: t.pid, producerEpoch: t.epoch, groupId: GROUP }), (r) => r.body.errorCode)
    .then((r) => r.body.errorCode);

const produce = (c: WireClient, t: Txn, partition: number, seq: number) => c.request(ProduceApi, 9, {
  transactionalId: t.id, acks: -1, timeoutMs: 10_000,
  topicData: [{ name: TOPIC, partitionData: [{ index: partition, records: buildBatchSync([{ key: null, value: Buffer.from(`v${seq}`) }], {
    timestamp: Date.now(), producerId: Number(t.pid), producerEpoch: t.epoch, baseSequence: seq, transactional: true,
  }) }] }],
}).then((r) => r.body.responses[0]!.partitionResponses[0]!.errorCode);

const txnOffsetCommit = (c: WireClient, t: Txn, offset: bigint) => c.request(TxnOffsetCommitApi, 3, {
  transactionalId: t.id, groupId: GROUP, producerId: t.pid, producerEpoch: t.epoch, generationId: -1, memberId: '', groupInstanceId: null,
  topics: [{ name: TOPIC, partitions: [{ partitionIndex: 0, committedOffset: offset, committedLeaderEpoch: -1, committedMetadata: '' }] }],
}).then((r) => r.body.topics[0]!.partitions[0]!.errorCode);

const endTxn = (c: WireClient, t: Txn, committed: boolean) =>
  retrying(() => c.request(EndTxnApi, 3, { transactionalId: t.id, producerId: t.pid, producerEpoch: t.epoch, committed }), (r) => r.body.errorCode)
    .then((r) => r.body.errorCode);

async function completed(c: WireClient, t: Txn): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    const d = await c.request(DescribeTransactionsApi, 0, { transactionalIds: [t.id] });
    if (['CompleteAbort', 'CompleteCommit', 'Empty'].includes(d.body.transactionStates[0]!.transactionState)) return;
    await new Promise((res) => setTimeout(res, 10));
  }
  assert.fail(`transaction ${t.id} never completed`);
}

/** The partition's latest offset under read_uncommitted (the HW) and read_committed (the LSO). */
async function hwAndLso(c: WireClient, partition: number): Promise<[bigint, bigint]> {
  const at = async (isolationLevel: number) => (await c.request(ListOffsetsApi, 5, {
    replicaId: -1, isolationLevel, topics: [{ name: TOPIC, partitions: [{ partitionIndex: partition, currentLeaderEpoch: -1, timestamp: -1n, maxNumOffsets: 1 }] }],
  })).body.topics[0]!.partitions[0]!.offset;
  return [await at(0), await at(1)];
}

/** The start offset of the producer's open transaction on the partition, or -1. */
async function openTxnStart(c: WireClient, t: Txn, partition: number): Promise<bigint> {
  const r = await c.request(DescribeProducersApi, 0, { topics: [{ name: TOPIC, partitionIndexes: [partition] }] });
  return r.body.topics[0]!.partitions[0]!.activeProducers.find((p) => p.producerId === t.pid)?.currentTxnStartOffset ?? -1n;
}

async function assertNothingHangs(c: WireClient, t: Txn, partition: number, what: string): Promise<void> {
  assert.equal(await openTxnStart(c, t, partition), -1n, `${what}: no transaction is open on ${TOPIC}-${partition}`);
  const [hw, lso] = await hwAndLso(c, partition);
  assert.equal(lso, hw, `${what}: the LSO of ${TOPIC}-${partition} is not stuck`);
}

test('a delayed write of an aborted transaction is refused and opens nothing, also once a new transaction runs elsewhere', { timeout: 60_000 }, async () => {
  const [c] = clients as [WireClient];
  const t = await init(c, 'delayed');
  assert.equal(await addPartition(c, t, 0), ErrorCode.NONE);
  assert.equal(await endTxn(c, t, false), ErrorCode.NONE);
  await completed(c, t);
  // The write of the aborted transaction, delayed in the network, arrives now.
  assert.equal(await produce(c, t, 0, 0), ErrorCode.INVALID_TXN_STATE);
  await assertNothingHangs(c, t, 0, 'after the abort');
  // The same producer (same epoch) starts a transaction on the other partition; the old write comes again.
  assert.equal(await addPartition(c, t, 1), ErrorCode.NONE);
  assert.equal(await produce(c, t, 1, 0), ErrorCode.NONE);
  assert.equal(await produce(c, t, 0, 0), ErrorCode.INVALID_TXN_STATE, 'a partition outside the new transaction stays closed');
  await assertNothingHangs(c, t, 0, 'during the next transaction');
  assert.equal(await endTxn(c, t, true), ErrorCode.NONE);
  await completed(c, t);
  await assertNothingHangs(c, t, 1, 'after the commit');
});

test('Produce and TxnOffsetCommit racing their transaction\'s abort never leave a hanging transaction or pending offsets', { timeout: 120_000 }, async () => {
  const [c, a, b, o] = clients as [WireClient, WireClient, WireClient, WireClient];
  const t = await init(c, 'racer');
  let seq = 0;
  const outcomes = new Map<string, number>();
  for (let i = 0; i < 25; i++) {
    assert.equal(await addPartition(c, t, 0), ErrorCode.NONE);
    assert.equal(await addOffsets(c, t), ErrorCode.NONE);
    // The transaction's first writes and its abort leave on three connections, in an order that shifts
    // from round to round (abort first, together, writes first), so that the rounds sweep the interleavings.
    const shift = i % 3;
    const ending = shift === 0 ? endTxn(a, t, false) : undefined;
    if (shift === 0) await tick();
    const writes = [produce(b, t, 0, seq), txnOffsetCommit(o, t, BigInt(1000 + i))] as const;
    if (shift === 2) await new Promise((res) => setTimeout(res, 1));
    const [ended, produced, committed] = await Promise.all([ending ?? endTxn(a, t, false), ...writes]);
    assert.equal(ended, ErrorCode.NONE);
    if (produced === ErrorCode.NONE) seq++;
    else assert.ok(([ErrorCode.INVALID_TXN_STATE, ErrorCode.CONCURRENT_TRANSACTIONS] as number[]).includes(produced), `produce answered ${produced}`);
    const key = `produce=${produced} offsets=${committed}`;
    outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
    await completed(c, t);
    await assertNothingHangs(c, t, 0, `round ${i} (${key})`);
    // Aborted: the group has no committed offset, and nothing pending makes it unstable.
    const fetched = await c.request(OffsetFetchApi, 7, { groupId: GROUP, topics: [{ name: TOPIC, partitionIndexes: [0] }], requireStable: true, groups: [] });
    const p = fetched.body.topics[0]!.partitions[0]!;
    assert.equal(p.errorCode, ErrorCode.NONE, `round ${i} (${key}): offsets left pending`);
    assert.equal(p.committedOffset, -1n);
  }
  // Every record written was aborted: read_committed sees the end, and nothing is open.
  const [hw, lso] = await hwAndLso(c, 0);
  assert.equal(lso, hw, `outcomes: ${JSON.stringify([...outcomes])}`);
});
