// Transactions end to end against `strata start`: confluent-kafka-python (librdkafka) and kafkajs
// producers commit and abort, read_committed and read_uncommitted consumers read the result, zombies are
// fenced, abandoned transactions time out, and a restart mid-transaction completes it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { startStrata, type StrataProcess } from './helpers/strata-process.js';
import { WireClient } from './helpers/wire.js';
import { AddOffsetsToTxnApi, AddPartitionsToTxnApi, DescribeTransactionsApi, FindCoordinatorApi, TxnOffsetCommitApi, EndTxnApi, InitProducerIdApi, ListTransactionsApi, ProduceApi } from '../../src/protocol/generated/apis.js';
import type { InitProducerIdResponse } from '../../src/protocol/generated/messages/init-producer-id.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { buildBatchSync } from '../../src/protocol/records/builder.js';

const run = promisify(execFile);
const PY = '/usr/bin/python3';
const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'helpers/txn_client.py');
// Small coordinator topics and a short abort sweep keep start-up and the timeout test quick.
const ARGS = [
  '--set', 'transaction.state.log.num.partitions=3',
  '--set', 'offsets.topic.num.partitions=3',
  '--set', 'transaction.abort.timed.out.transaction.cleanup.interval.ms=500',
  '--set', 'group.initial.rebalance.delay.ms=0',
];

interface Rec { topic: string; partition: number; offset: number; value: string }

async function py(bootstrap: string, scenario: string, ...args: string[]): Promise<Record<string, unknown>> {
  const { stdout } = await run(PY, [SCRIPT, bootstrap, scenario, ...args], { timeout: 120_000, maxBuffer: 16 << 20 });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
}

let strata: StrataProcess;
let bootstrap: string;
let kafka: Kafka;
let admin: Admin;

before(async () => {
  strata = await startStrata(ARGS);
  bootstrap = `127.0.0.1:${strata.port}`;
  kafka = new Kafka({ clientId: 'txn-it', brokers: [bootstrap], logLevel: logLevel.NOTHING });
  admin = kafka.admin();
  await admin.connect();
});

after(async () => {
  await admin?.disconnect();
  await strata?.stop();
  await strata?.cleanup();
});

const values = (rs: readonly Rec[]): string[] => rs.map((r) => r.value);

test('confluent-kafka-python: commit, abort, send_offsets_to_transaction; read_committed sees exactly the commits', { timeout: 180_000 }, async () => {
  await admin.createTopics({ topics: [{ topic: 'ta', numPartitions: 3 }, { topic: 'tb', numPartitions: 2 }, { topic: 'src', numPartitions: 1 }] });
  const r = await py(bootstrap, 'commit-abort', 'ta', 'tb', 'g-py', 'src');
  assert.equal(r.committedOffset, 42, 'the offsets sent in the committed transaction are the group\'s committed offsets');
  const committed = r.committed as Rec[];
  const uncommitted = r.uncommitted as Rec[];
  const cv = values(committed);
  assert.equal(cv.filter((v) => v.startsWith('a-')).length, 0, 'no aborted record is visible to read_committed');
  assert.equal(cv.filter((v) => v.startsWith('c1-')).length, 12);
  assert.equal(cv.filter((v) => v.startsWith('c2-')).length, 3);
  assert.equal(cv.length, 15);
  // Per partition, the first transaction's records all come before the second's.
  for (const tp of new Set(committed.map((x) => `${x.topic}/${x.partition}`))) {
    const seq = committed.filter((x) => `${x.topic}/${x.partition}` === tp).map((x) => x.value);
    const lastC1 = seq.findLastIndex((v) => v.startsWith('c1-'));
    const firstC2 = seq.findIndex((v) => v.startsWith('c2-'));
    assert.ok(firstC2 === -1 || firstC2 > lastC1, `order in ${tp}: ${seq.join(',')}`);
  }
  const uv = values(uncommitted);
  assert.equal(uv.filter((v) => v.startsWith('a-')).length, 4, 'read_uncommitted sees the aborted records too');
  assert.equal(uv.length, 19);
});

test('confluent-kafka-python: a second producer with the same transactional.id fences the first', { timeout: 120_000 }, async () => {
  await admin.createTopics({ topics: [{ topic: 'fence', numPartitions: 1 }] });
  const r = await py(bootstrap, 'fence', 'fence');
  const zombie = r.zombie as { name: string; fatal: boolean };
  assert.notEqual(zombie, 'committed');
  assert.match(zombie.name, /FENCED|INVALID_PRODUCER_EPOCH/);
  assert.deepEqual(values(r.committed as Rec[]), ['winner']);
});

test('kafkajs: transactions with sendOffsets commit and abort', { timeout: 120_000 }, async () => {
  await admin.createTopics({ topics: [{ topic: 'kjs', numPartitions: 2 }, { topic: 'kjs-src', numPartitions: 1 }] });
  const producer = kafka.producer({ transactionalId: 'kjs-txn', maxInFlightRequests: 1, idempotent: true });
  await producer.connect();
  const t1 = await producer.transaction();
  await t1.send({ topic: 'kjs', messages: [{ value: 'k1', partition: 0 }, { value: 'k2', partition: 1 }] });
  await t1.sendOffsets({ consumerGroupId: 'kjs-group', topics: [{ topic: 'kjs-src', partitions: [{ partition: 0, offset: '7' }] }] });
  await t1.commit();
  const t2 = await producer.transaction();
  await t2.send({ topic: 'kjs', messages: [{ value: 'kx', partition: 0 }] });
  await t2.sendOffsets({ consumerGroupId: 'kjs-group', topics: [{ topic: 'kjs-src', partitions: [{ partition: 0, offset: '9' }] }] });
  await t2.abort();
  await producer.disconnect();

  const offsets = await admin.fetchOffsets({ groupId: 'kjs-group', topics: ['kjs-src'] });
  assert.equal(offsets[0]!.partitions[0]!.offset, '7', 'offsets sent in the aborted transaction are dropped');
  const r = await py(bootstrap, 'read', 'kjs', 'read_committed', '2');
  assert.deepEqual(values(r.records as Rec[]).sort(), ['k1', 'k2']);
  const u = await py(bootstrap, 'read', 'kjs', 'read_uncommitted', '3');
  assert.deepEqual(values(u.records as Rec[]).sort(), ['k1', 'k2', 'kx']);
});

test('a transaction left open past its timeout is aborted by the coordinator', { timeout: 120_000 }, async () => {
  await admin.createTopics({ topics: [{ topic: 'tmo', numPartitions: 1 }] });
  const r = await py(bootstrap, 'timeout', 'tmo', '6');
  const late = r.late as { name: string };
  assert.notEqual(late, 'committed');
  assert.match(late.name, /FENCED|INVALID_PRODUCER_EPOCH|INVALID_TXN_STATE|_STATE/);
  const read = await py(bootstrap, 'read', 'tmo', 'read_committed', '0');
  assert.deepEqual(read.records, []);
  // The abort marker closed the transaction: read_committed is not stuck behind it (the LSO moved).
  const offsets = await admin.fetchTopicOffsets('tmo');
  assert.ok(Number(offsets[0]!.high) >= 2);
});

// ---- bad input over the wire ----------------------------------------------------------------------

async function initTxn(c: WireClient, transactionalId: string, transactionTimeoutMs = 60_000): Promise<InitProducerIdResponse> {
  for (let i = 0; ; i++) {
    // As a client does: FindCoordinator first (it creates __transaction_state on first use).
    await c.request(FindCoordinatorApi, 4, { key: '', keyType: 1, coordinatorKeys: [transactionalId] }, 1000 + i);
    const r = (await c.request(InitProducerIdApi, 4, { transactionalId, transactionTimeoutMs, producerId: -1n, producerEpoch: -1 }, i)).body;
    const retriable: number[] = [ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, ErrorCode.NOT_COORDINATOR, ErrorCode.COORDINATOR_NOT_AVAILABLE, ErrorCode.CONCURRENT_TRANSACTIONS];
    if (!retriable.includes(r.errorCode) || i > 100) return r;
    await new Promise((res) => setTimeout(res, 100));
  }
}

const addParts = (c: WireClient, id: string, pid: bigint, epoch: number, topic: string, partitions: number[]) =>
  c.request(AddPartitionsToTxnApi, 3, {
    transactions: [],
    v3AndBelowTransactionalId: id,
    v3AndBelowProducerId: pid,
    v3AndBelowProducerEpoch: epoch,
    v3AndBelowTopics: [{ name: topic, partitions }],
  }).then((r) => r.body.resultsByTopicV3AndBelow.flatMap((t) => t.resultsByPartition.map((p) => p.partitionErrorCode)));

function txnBatch(pid: bigint, epoch: number, value: string): Buffer {
  return buildBatchSync([{ key: null, value: Buffer.from(value) }], {
    baseOffset: 0, partitionLeaderEpoch: -1, timestamp: Date.now(), producerId: Number(pid), producerEpoch: epoch, baseSequence: 0, transactional: true,
  });
}

test('bad input: timeout over the maximum, stale epochs, concurrent transactions, writes outside the transaction', { timeout: 120_000 }, async () => {
  await admin.createTopics({ topics: [{ topic: 'bad', numPartitions: 2 }] });
  const c = await WireClient.connect(strata.port);
  try {
    const tooLong = await initTxn(c, 'bad-1', 900_001);
    assert.equal(tooLong.errorCode, ErrorCode.INVALID_TRANSACTION_TIMEOUT);

    const first = await initTxn(c, 'bad-1');
    assert.equal(first.errorCode, ErrorCode.NONE);
    // A write to a partition never added to the transaction is refused (KIP-890 part 1).
    const produce = (pid: bigint, epoch: number, partition: number, value: string) =>
      c.request(ProduceApi, 9, {
        transactionalId: 'bad-1', acks: -1, timeoutMs: 10_000,
        topicData: [{ name: 'bad', partitionData: [{ index: partition, records: txnBatch(pid, epoch, value) }] }],
      }).then((r) => r.body.responses[0]!.partitionResponses[0]!.errorCode);
    assert.equal(await produce(first.producerId, first.producerEpoch, 1, 'outside'), ErrorCode.INVALID_TXN_STATE);
    assert.deepEqual(await addParts(c, 'bad-1', first.producerId, first.producerEpoch, 'bad', [0]), [ErrorCode.NONE]);
    assert.equal(await produce(first.producerId, first.producerEpoch, 0, 'inside'), ErrorCode.NONE);
    assert.equal(await produce(first.producerId, first.producerEpoch, 1, 'outside'), ErrorCode.INVALID_TXN_STATE);

    // A new InitProducerId while the transaction is open fences it: the abort has to finish first.
    const again = (await c.request(InitProducerIdApi, 4, { transactionalId: 'bad-1', transactionTimeoutMs: 60_000, producerId: -1n, producerEpoch: -1 })).body;
    assert.ok(([ErrorCode.CONCURRENT_TRANSACTIONS, ErrorCode.NONE] as number[]).includes(again.errorCode), `got ${again.errorCode}`);
    const second = await initTxn(c, 'bad-1');
    assert.equal(second.errorCode, ErrorCode.NONE);
    assert.ok(second.producerEpoch > first.producerEpoch);

    // The old epoch is fenced everywhere.
    assert.deepEqual(await addParts(c, 'bad-1', first.producerId, first.producerEpoch, 'bad', [1]), [ErrorCode.PRODUCER_FENCED]);
    const endOld = (await c.request(EndTxnApi, 3, { transactionalId: 'bad-1', producerId: first.producerId, producerEpoch: first.producerEpoch, committed: true })).body;
    assert.equal(endOld.errorCode, ErrorCode.PRODUCER_FENCED);
    const endOldV1 = (await c.request(EndTxnApi, 1, { transactionalId: 'bad-1', producerId: first.producerId, producerEpoch: first.producerEpoch, committed: true })).body;
    assert.equal(endOldV1.errorCode, ErrorCode.INVALID_PRODUCER_EPOCH);
    assert.equal(await produce(first.producerId, first.producerEpoch, 0, 'zombie'), ErrorCode.INVALID_PRODUCER_EPOCH);

    // DescribeTransactions and ListTransactions see it.
    assert.deepEqual(await addParts(c, 'bad-1', second.producerId, second.producerEpoch, 'bad', [1]), [ErrorCode.NONE]);
    const described = (await c.request(DescribeTransactionsApi, 0, { transactionalIds: ['bad-1'] })).body.transactionStates[0]!;
    assert.equal(described.transactionState, 'Ongoing');
    assert.deepEqual(described.topics.map((t) => [t.topic, t.partitions]), [['bad', [1]]]);
    const listed = (await c.request(ListTransactionsApi, 1, { stateFilters: ['Ongoing'], producerIdFilters: [], durationFilter: -1n })).body;
    assert.ok(listed.transactionStates.some((t) => t.transactionalId === 'bad-1'));
  } finally {
    c.close();
  }
});

test('a broker restart mid-transaction: the reloaded coordinator aborts the open transaction after its timeout', { timeout: 180_000 }, async () => {
  await admin.createTopics({ topics: [{ topic: 'restart', numPartitions: 1 }] });
  await py(bootstrap, 'open', 'restart');
  await admin.disconnect();
  await strata.stop();
  strata = await startStrata(ARGS, { dataDir: strata.dataDir });
  bootstrap = `127.0.0.1:${strata.port}`;
  kafka = new Kafka({ clientId: 'txn-it', brokers: [bootstrap], logLevel: logLevel.NOTHING });
  admin = kafka.admin();
  await admin.connect();
  // read_committed returns nothing of it, and is not blocked forever: the transaction gets aborted.
  const c = await WireClient.connect(strata.port);
  try {
    let state = '';
    for (let i = 0; i < 100 && state !== 'CompleteAbort'; i++) {
      await new Promise((res) => setTimeout(res, 200));
      state = (await c.request(DescribeTransactionsApi, 0, { transactionalIds: ['py-open'] })).body.transactionStates[0]!.transactionState;
    }
    assert.equal(state, 'CompleteAbort');
  } finally {
    c.close();
  }
  const read = await py(bootstrap, 'read', 'restart', 'read_committed', '0');
  assert.deepEqual(read.records, []);
  const all = await py(bootstrap, 'read', 'restart', 'read_uncommitted', '3');
  assert.equal((all.records as Rec[]).length, 3);
});

// ---- strata txn ------------------------------------------------------------------------------------

const REPO = join(dirname(fileURLToPath(import.meta.url)), '../..');

async function cli(...args: string[]): Promise<unknown> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', join(REPO, 'src/cli/main.ts'), 'txn', ...args, '--bootstrap-server', bootstrap, '--json'],
    { timeout: 60_000 });
  return JSON.parse(stdout) as unknown;
}

test('strata txn list, describe, describe-producers, find-hanging and abort', { timeout: 120_000 }, async () => {
  await admin.createTopics({ topics: [{ topic: 'cli-txn', numPartitions: 1 }] });
  const c = await WireClient.connect(strata.port);
  try {
    const init = await initTxn(c, 'cli-1');
    assert.equal(init.errorCode, ErrorCode.NONE);
    assert.deepEqual(await addParts(c, 'cli-1', init.producerId, init.producerEpoch, 'cli-txn', [0]), [ErrorCode.NONE]);
    const produced = (await c.request(ProduceApi, 9, {
      transactionalId: 'cli-1', acks: -1, timeoutMs: 10_000,
      topicData: [{ name: 'cli-txn', partitionData: [{ index: 0, records: txnBatch(init.producerId, init.producerEpoch, 'open') }] }],
    })).body.responses[0]!.partitionResponses[0]!;
    assert.equal(produced.errorCode, ErrorCode.NONE);
    const start = Number(produced.baseOffset);

    const listed = (await cli('list', '--state', 'Ongoing')) as { transactionalId: string; producerId: number }[];
    assert.ok(listed.some((t) => t.transactionalId === 'cli-1' && t.producerId === Number(init.producerId)));
    const described = (await cli('describe', 'cli-1')) as { state: string; partitions: { topic: string; partition: number }[] };
    assert.equal(described.state, 'Ongoing');
    assert.deepEqual(described.partitions, [{ topic: 'cli-txn', partition: 0 }]);
    const producers = (await cli('describe-producers', '--topic', 'cli-txn', '--partition', '0')) as { producerId: number; currentTxnStartOffset: number }[];
    assert.deepEqual(producers.map((p) => [p.producerId, p.currentTxnStartOffset]), [[Number(init.producerId), start]]);
    // Open but known to its coordinator, which includes the partition: not hanging.
    assert.deepEqual(await cli('find-hanging', '--topic', 'cli-txn', '--max-transaction-timeout', '0'), []);

    const aborted = (await cli('abort', '--topic', 'cli-txn', '--partition', '0', '--start-offset', String(start))) as { aborted: boolean; producerId: number };
    assert.equal(aborted.aborted, true);
    assert.equal(aborted.producerId, Number(init.producerId));
    const after = (await cli('describe-producers', '--topic', 'cli-txn', '--partition', '0')) as { currentTxnStartOffset: number }[];
    assert.deepEqual(after.map((p) => p.currentTxnStartOffset), [-1]);
    const read = await py(bootstrap, 'read', 'cli-txn', 'read_committed', '0');
    assert.deepEqual(read.records, []);
  } finally {
    c.close();
  }
});

// Consume–transform–produce under kill -9 of the application and of the broker: eos-chaos.test.ts.

test('transactional offsets survive kill -9 of the broker between TxnOffsetCommit and the commit', { timeout: 180_000 }, async () => {
  await admin.createTopics({ topics: [{ topic: 'dur-src', numPartitions: 1 }] });
  const retriable: number[] = [ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, ErrorCode.NOT_COORDINATOR, ErrorCode.COORDINATOR_NOT_AVAILABLE, ErrorCode.CONCURRENT_TRANSACTIONS];
  async function until<T>(attempt: () => Promise<T>, codeOf: (r: T) => number): Promise<T> {
    for (let i = 0; ; i++) {
      const r = await attempt();
      if (!retriable.includes(codeOf(r)) || i > 150) return r;
      await new Promise((res) => setTimeout(res, 100));
    }
  }
  let c = await WireClient.connect(strata.port);
  let init: InitProducerIdResponse;
  try {
    init = await initTxn(c, 'dur-1');
    assert.equal(init.errorCode, ErrorCode.NONE);
    await c.request(FindCoordinatorApi, 4, { key: '', keyType: 0, coordinatorKeys: ['dur-g'] });
    const added = await until(() => c.request(AddOffsetsToTxnApi, 3, { transactionalId: 'dur-1', producerId: init.producerId, producerEpoch: init.producerEpoch, groupId: 'dur-g' }),
      (r) => r.body.errorCode);
    assert.equal(added.body.errorCode, ErrorCode.NONE);
    const committed = await until(() => c.request(TxnOffsetCommitApi, 3, {
      transactionalId: 'dur-1', groupId: 'dur-g', producerId: init.producerId, producerEpoch: init.producerEpoch,
      generationId: -1, memberId: '', groupInstanceId: null,
      topics: [{ name: 'dur-src', partitions: [{ partitionIndex: 0, committedOffset: 11n, committedLeaderEpoch: -1, committedMetadata: '' }] }],
    }), (r) => r.body.topics[0]!.partitions[0]!.errorCode);
    assert.equal(committed.body.topics[0]!.partitions[0]!.errorCode, ErrorCode.NONE);
  } finally {
    c.close();
  }

  await admin.disconnect();
  strata.child.kill('SIGKILL');
  await strata.exited;
  strata = await startStrata(ARGS, { dataDir: strata.dataDir });
  bootstrap = `127.0.0.1:${strata.port}`;
  kafka = new Kafka({ clientId: 'txn-it', brokers: [bootstrap], logLevel: logLevel.NOTHING });
  admin = kafka.admin();
  await admin.connect();

  c = await WireClient.connect(strata.port);
  try {
    await c.request(FindCoordinatorApi, 4, { key: '', keyType: 1, coordinatorKeys: ['dur-1'] });
    const end = await until(() => c.request(EndTxnApi, 3, { transactionalId: 'dur-1', producerId: init.producerId, producerEpoch: init.producerEpoch, committed: true }),
      (r) => r.body.errorCode);
    assert.equal(end.body.errorCode, ErrorCode.NONE);
  } finally {
    c.close();
  }
  let offset = '';
  for (let i = 0; i < 100 && offset !== '11'; i++) {
    const o = await admin.fetchOffsets({ groupId: 'dur-g', topics: ['dur-src'] });
    offset = o[0]!.partitions[0]!.offset;
    if (offset !== '11') await new Promise((res) => setTimeout(res, 100));
  }
  assert.equal(offset, '11', 'the offset committed in the transaction reached the group after the restart');
});
