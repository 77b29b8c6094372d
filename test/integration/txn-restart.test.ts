// A broker killed (SIGKILL) while transactions are decided but not complete, and while one is still open:
// after the restart the coordinator reloads __transaction_state and finishes each one. The markers of a
// durable PrepareCommit / PrepareAbort are held back by the test hook TEST_HOOK_DELAY_TXN_MARKERS_MS
// (src/server/txn-coordinator-wiring.ts), so the kill lands between the decision and the markers every time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { startStrata, type StrataProcess } from './helpers/strata-process.js';
import { WireClient } from './helpers/wire.js';
import { DescribeTransactionsApi, ListOffsetsApi } from '../../src/protocol/generated/apis.js';
import { ErrorCode } from '../../src/protocol/errors.js';

const run = promisify(execFile);
const PY = '/usr/bin/python3';
const APP = join(dirname(fileURLToPath(import.meta.url)), 'helpers/eos_app.py');
const ARGS = [
  '--set', 'transaction.state.log.num.partitions=3',
  '--set', 'offsets.topic.num.partitions=3',
  '--set', 'transaction.abort.timed.out.transaction.cleanup.interval.ms=500',
  '--set', 'group.initial.rebalance.delay.ms=0',
];

async function py(bootstrap: string, ...args: string[]): Promise<Record<string, unknown>> {
  const { stdout } = await run(PY, [APP, bootstrap, ...args], { timeout: 120_000, maxBuffer: 16 << 20 });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
}

/** Starts the broker with the given extra environment (the hook is read once, at start). */
async function startWithEnv(env: Record<string, string>, dataDir?: string): Promise<StrataProcess> {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    return await startStrata(ARGS, dataDir === undefined ? {} : { dataDir });
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

async function describe(port: number, ids: string[]): Promise<Map<string, string>> {
  const c = await WireClient.connect(port);
  try {
    const r = (await c.request(DescribeTransactionsApi, 0, { transactionalIds: ids })).body;
    return new Map(r.transactionStates.map((s) => [s.transactionalId, s.errorCode === ErrorCode.NONE ? s.transactionState : `error ${s.errorCode}`]));
  } finally {
    c.close();
  }
}

/** Latest offsets of `topic`'s partitions: isolation 0 = high watermark, 1 = last stable offset. */
async function latest(port: number, topic: string, partitions: number, isolationLevel: 0 | 1): Promise<number[]> {
  const c = await WireClient.connect(port);
  try {
    const r = (await c.request(ListOffsetsApi, 7, {
      replicaId: -1,
      isolationLevel,
      topics: [{ name: topic, partitions: Array.from({ length: partitions }, (_, p) => ({ partitionIndex: p, currentLeaderEpoch: -1, timestamp: -1n, maxNumOffsets: 1 })) }],
    })).body;
    return r.topics[0]!.partitions.sort((a, b) => a.partitionIndex - b.partitionIndex).map((p) => {
      assert.equal(p.errorCode, ErrorCode.NONE);
      return Number(p.offset);
    });
  } finally {
    c.close();
  }
}

async function until<T>(what: string, attempt: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let v: T | undefined;
    try {
      v = await attempt();
      if (ok(v)) return v;
    } catch (e) {
      if (Date.now() > deadline) throw e;
    }
    if (Date.now() > deadline) assert.fail(`${what}: still ${JSON.stringify(v, (_, x: unknown) => (x instanceof Map ? [...x] : x))}`);
    await sleep(200);
  }
}

test('kill -9 after PrepareCommit / PrepareAbort and during Ongoing: the restarted coordinator completes every transaction', { timeout: 180_000 }, async () => {
  let broker = await startWithEnv({ TEST_HOOK_DELAY_TXN_MARKERS_MS: '3600000' });
  try {
    let bootstrap = `127.0.0.1:${broker.port}`;
    {
      const kafka = new Kafka({ clientId: 'txn-restart', brokers: [bootstrap], logLevel: logLevel.NOTHING });
      const admin = kafka.admin();
      await admin.connect();
      await admin.createTopics({ topics: [
        { topic: 'held-commit', numPartitions: 2 }, { topic: 'held-abort', numPartitions: 1 }, { topic: 'held-open', numPartitions: 1 }, { topic: 'held-src', numPartitions: 1 },
      ] });
      await admin.disconnect();
    }
    // EndTxn is answered once the decision is durable; the held markers leave the transactions in Prepare….
    assert.deepEqual(await py(bootstrap, 'end', 'held-commit', 'held-c', 'commit', '4', 'held-group', 'held-src', '17'), { ok: true });
    assert.deepEqual(await py(bootstrap, 'end', 'held-abort', 'held-a', 'abort', '3'), { ok: true });
    assert.deepEqual(await py(bootstrap, 'end', 'held-open', 'held-o', 'open', '2'), { ok: true });
    const ids = ['held-c', 'held-a', 'held-o'];
    assert.deepEqual(await describe(broker.port, ids), new Map([['held-c', 'PrepareCommit'], ['held-a', 'PrepareAbort'], ['held-o', 'Ongoing']]));
    // No marker yet: the last stable offset is still the first offset of each transaction.
    assert.deepEqual(await latest(broker.port, 'held-commit', 2, 0), [2, 2]);
    assert.deepEqual(await latest(broker.port, 'held-commit', 2, 1), [0, 0]);
    assert.deepEqual(await latest(broker.port, 'held-abort', 1, 1), [0]);
    assert.deepEqual(await latest(broker.port, 'held-open', 1, 1), [0]);

    broker.child.kill('SIGKILL');
    await broker.exited;
    broker = await startWithEnv({}, broker.dataDir);
    bootstrap = `127.0.0.1:${broker.port}`;

    // The decided transactions complete (markers resent from the reloaded Prepare… records); the open one
    // is aborted once its timeout (10 s, counted from its last update) has passed.
    await until('completion after the restart', () => describe(broker.port, ids),
      (s) => s.get('held-c') === 'CompleteCommit' && s.get('held-a') === 'CompleteAbort' && s.get('held-o') === 'CompleteAbort', 60_000);
    // Each marker moved the last stable offset to the end of the log: nothing is left hanging. (The end is
    // not asserted exactly: a marker may be written twice, as Kafka allows, when the coordinator's load
    // is restarted at a newer leader epoch before it recorded the completion.)
    for (const [topic, partitions, data] of [['held-commit', 2, 2], ['held-abort', 1, 3], ['held-open', 1, 2]] as const) {
      const hw = await latest(broker.port, topic, partitions, 0);
      assert.ok(hw.every((o) => o > data), `${topic}: a marker follows the ${data} records (${hw.join(',')})`);
      assert.deepEqual(await latest(broker.port, topic, partitions, 1), hw, `${topic}: the last stable offset is the high watermark`);
    }

    const committed = (await py(bootstrap, 'read', 'held-commit', 'read_committed', '4')).records as [number, string][];
    assert.deepEqual(committed.map(([, v]) => v).sort(), ['held-c-0', 'held-c-1', 'held-c-2', 'held-c-3']);
    const abortedCommitted = (await py(bootstrap, 'read', 'held-abort', 'read_committed', '0')).records as [number, string][];
    assert.deepEqual(abortedCommitted, []);
    const openCommitted = (await py(bootstrap, 'read', 'held-open', 'read_committed', '0')).records as [number, string][];
    assert.deepEqual(openCommitted, []);
    const openAll = (await py(bootstrap, 'read', 'held-open', 'read_uncommitted', '2')).records as [number, string][];
    assert.equal(openAll.length, 2, 'the open transaction\'s records are in the log, aborted');

    // The offsets sent in the committed transaction reached the group once its marker was written.
    const kafka = new Kafka({ clientId: 'txn-restart', brokers: [bootstrap], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    try {
      const offsets = await admin.fetchOffsets({ groupId: 'held-group', topics: ['held-src'] });
      assert.equal(offsets[0]!.partitions[0]!.offset, '17');
    } finally {
      await admin.disconnect();
    }
  } finally {
    await broker.stop();
    await broker.cleanup();
  }
});
