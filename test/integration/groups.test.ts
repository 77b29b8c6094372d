// Consumer groups end to end against a real `strata start`: a kafkajs group whose members join and leave
// (every record consumed once; after a broker restart the group resumes from its committed offsets), the
// `strata group` commands on it, Kafka's error codes for bad group requests (without disturbing another
// group), and committed offsets that never go backwards across a kill -9 of the broker.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { KafkaClient } from '../../src/client/kafka-client.js';
import { commitOffsets, describeGroup, fetchCommittedOffsets, findCoordinator, groupLag } from '../../src/client/groups.js';
import { ApiKey } from '../../src/protocol/generated/apis.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { startStrata, type StrataProcess } from './helpers/strata-process.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** Fast groups: no initial rebalance delay, short sessions allowed, few offsets partitions. */
const BROKER_ARGS = ['--set', 'group.initial.rebalance.delay.ms=0', '--set', 'group.min.session.timeout.ms=500', '--set', 'offsets.topic.num.partitions=4'];

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

function kafkaFor(s: StrataProcess, clientId = 'groups-test'): Kafka {
  return new Kafka({ clientId, brokers: [`127.0.0.1:${s.port}`], logLevel: logLevel.NOTHING, retry: { retries: 20, initialRetryTime: 100, maxRetryTime: 1000 } });
}

interface Consumed {
  readonly member: string;
  readonly partition: number;
  readonly offset: number;
}

/** A kafkajs group member committing after every record (so a clean leave leaves nothing uncommitted). */
async function startMember(kafka: Kafka, groupId: string, topic: string, name: string, sink: Consumed[]): Promise<Consumer> {
  const c = kafka.consumer({ groupId, sessionTimeout: 6000, rebalanceTimeout: 6000, heartbeatInterval: 300, maxWaitTimeInMs: 100 });
  await c.connect();
  await c.subscribe({ topic, fromBeginning: true });
  await c.run({
    autoCommitThreshold: 1,
    eachMessage: async ({ partition, message }) => {
      sink.push({ member: name, partition, offset: Number(message.offset) });
    },
  });
  return c;
}

async function produce(kafka: Kafka, topic: string, count: number, tag: string): Promise<void> {
  const p = kafka.producer();
  await p.connect();
  try {
    await p.send({ topic, messages: Array.from({ length: count }, (_, i) => ({ key: `${tag}-${i}`, value: `${tag}-${i}` })) });
  } finally {
    await p.disconnect();
  }
}

async function stableWith(client: KafkaClient, groupId: string, members: number): Promise<void> {
  await until(`group ${groupId} Stable with ${members} members`, async () => {
    const g = await describeGroup(client, groupId).catch(() => undefined);
    return g !== undefined && g.state === 'Stable' && g.members.length === members && g.members.every((m) => m.assignment.length > 0);
  });
}

async function noLag(client: KafkaClient, groupId: string): Promise<void> {
  await until(`group ${groupId} to have committed everything`, async () => {
    const { partitions } = await groupLag(client, groupId);
    return partitions.length > 0 && partitions.every((p) => p.lag === 0);
  });
}

function cli(port: number, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((res) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'src/cli/main.ts'), ...args, '--bootstrap-server', `127.0.0.1:${port}`], { cwd: REPO });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => res({ code, stdout, stderr }));
  });
}

test('kafkajs: 3 members over 12 partitions joining and leaving consume every record once; after a restart the group resumes from its committed offsets', async () => {
  const topic = 'orders';
  const groupId = 'order-processors';
  let s = await startStrata(BROKER_ARGS);
  const dataDir = s.dataDir;
  const consumed: Consumed[] = [];
  const members = new Map<string, Consumer>();
  let client = new KafkaClient({ bootstrapServers: `127.0.0.1:${s.port}` });
  try {
    let kafka = kafkaFor(s);
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 12 }] });
    await admin.disconnect();

    // Phase 1: one member takes all 12 partitions.
    members.set('a', await startMember(kafka, groupId, topic, 'a', consumed));
    await stableWith(client, groupId, 1);
    await produce(kafka, topic, 240, 'p1');
    await until('phase 1 consumed', () => consumed.length >= 240);
    await noLag(client, groupId);

    // Phase 2: two more join; the 12 partitions are spread over three members.
    members.set('b', await startMember(kafka, groupId, topic, 'b', consumed));
    members.set('c', await startMember(kafka, groupId, topic, 'c', consumed));
    await stableWith(client, groupId, 3);
    const spread = await describeGroup(client, groupId);
    assert.deepEqual(spread.members.map((m) => m.assignment.length).sort(), [4, 4, 4], 'each of 3 members owns 4 of the 12 partitions');
    const before2 = consumed.length;
    await produce(kafka, topic, 240, 'p2');
    await until('phase 2 consumed', () => consumed.length >= before2 + 240);
    assert.deepEqual(new Set(consumed.slice(before2).map((c) => c.member)), new Set(['a', 'b', 'c']), 'all three members consumed');
    await noLag(client, groupId);

    // Phase 3: one leaves cleanly.
    await members.get('b')!.disconnect();
    members.delete('b');
    await stableWith(client, groupId, 2);
    const before3 = consumed.length;
    await produce(kafka, topic, 240, 'p3');
    await until('phase 3 consumed', () => consumed.length >= before3 + 240);
    assert.ok(consumed.slice(before3).every((c) => c.member !== 'b'));
    await noLag(client, groupId);

    // Phase 4: a new member joins.
    members.set('d', await startMember(kafka, groupId, topic, 'd', consumed));
    await stableWith(client, groupId, 3);
    const before4 = consumed.length;
    await produce(kafka, topic, 240, 'p4');
    await until('phase 4 consumed', () => consumed.length >= before4 + 240);
    await noLag(client, groupId);
    await sleep(300);

    const seen = new Set<string>();
    for (const c of consumed) {
      const key = `${c.partition}:${c.offset}`;
      assert.ok(!seen.has(key), `record ${key} consumed twice`);
      seen.add(key);
    }
    assert.equal(seen.size, 960, 'every record consumed exactly once');

    // Everyone leaves; the CLI shows the group Empty with no lag.
    for (const m of members.values()) await m.disconnect();
    members.clear();
    const described = await cli(s.port, ['group', 'describe', groupId, '--json']);
    assert.equal(described.code, 0, described.stderr);
    const [lag] = JSON.parse(described.stdout) as [{ group: { state: string }; partitions: { lag: number; logEndOffset: number }[] }];
    assert.equal(lag.group.state, 'Empty');
    assert.equal(lag.partitions.length, 12);
    assert.ok(lag.partitions.every((p) => p.lag === 0));
    assert.equal(lag.partitions.reduce((n, p) => n + p.logEndOffset, 0), 960);
    const committedBefore = await fetchCommittedOffsets(client, groupId);

    // More records while the group is away, then a broker restart.
    await produce(kafka, topic, 120, 'p5');
    await client.close();
    await s.stop();
    s = await startStrata(BROKER_ARGS, { dataDir });
    client = new KafkaClient({ bootstrapServers: `127.0.0.1:${s.port}` });
    assert.deepEqual(await fetchCommittedOffsets(client, groupId), committedBefore, 'committed offsets survive the restart');

    kafka = kafkaFor(s);
    const resumed: Consumed[] = [];
    members.set('e', await startMember(kafka, groupId, topic, 'e', resumed));
    await until('the records produced while away', () => resumed.length >= 120);
    await noLag(client, groupId);
    await sleep(300);
    assert.equal(resumed.length, 120, 'only the new records: the group resumed from its committed offsets');
    for (const r of resumed) assert.ok(!seen.has(`${r.partition}:${r.offset}`), `record ${r.partition}:${r.offset} consumed again`);
    await members.get('e')!.disconnect();
    members.clear();

    // strata group reset-offsets: a dry run changes nothing; --execute moves the group back to the start.
    const dry = await cli(s.port, ['group', 'reset-offsets', groupId, '--topic', `${topic}:0,1`, '--to-earliest', '--json']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.equal((JSON.parse(dry.stdout) as { executed: boolean }).executed, false);
    const p0 = (await fetchCommittedOffsets(client, groupId)).find((c) => c.partition === 0)!;
    assert.ok(p0.offset > 0);
    const exec = await cli(s.port, ['group', 'reset-offsets', groupId, '--topic', `${topic}:0,1`, '--to-earliest', '--execute']);
    assert.equal(exec.code, 0, exec.stderr);
    const after = await fetchCommittedOffsets(client, groupId);
    assert.deepEqual(after.filter((c) => c.partition <= 1).map((c) => c.offset), [0, 0]);
    const shifted = await cli(s.port, ['group', 'reset-offsets', groupId, '--topic', `${topic}:2`, '--shift-by', '-5', '--execute', '--json']);
    assert.equal(shifted.code, 0, shifted.stderr);
    const [planned] = (JSON.parse(shifted.stdout) as { offsets: { current: number; target: number }[] }).offsets;
    assert.equal(planned!.target, Math.max(0, planned!.current - 5));
    const deleted = await cli(s.port, ['group', 'delete', groupId]);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.deepEqual(await fetchCommittedOffsets(client, groupId), []);
  } finally {
    for (const m of members.values()) await m.disconnect().catch(() => undefined);
    await client.close();
    await s.stop();
    await s.cleanup();
  }
});

test('bad group requests get Kafka\'s error codes and leave another group undisturbed', async () => {
  const s = await startStrata([...BROKER_ARGS, '--set', 'offset.metadata.max.bytes=100']);
  const client = new KafkaClient({ bootstrapServers: `127.0.0.1:${s.port}` });
  let healthy: Consumer | undefined;
  try {
    const kafka = kafkaFor(s);
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'healthy', numPartitions: 3 }] });
    await admin.disconnect();
    const consumed: Consumed[] = [];
    let joins = 0;
    healthy = kafka.consumer({ groupId: 'healthy-group', sessionTimeout: 6000, heartbeatInterval: 300, maxWaitTimeInMs: 100 });
    healthy.on(healthy.events.GROUP_JOIN, () => joins++);
    await healthy.connect();
    await healthy.subscribe({ topic: 'healthy', fromBeginning: true });
    await healthy.run({ autoCommitThreshold: 1, eachMessage: async ({ partition, message }) => void consumed.push({ member: 'h', partition, offset: Number(message.offset) }) });
    await stableWith(client, 'healthy-group', 1);
    await produce(kafka, 'healthy', 30, 'before');

    const coordinator = { nodeId: await findCoordinator(client, 'bad-group') };
    const join = (over: Record<string, unknown>) => client.send(coordinator, ApiKey.JoinGroup, {
      groupId: 'bad-group', sessionTimeoutMs: 6000, rebalanceTimeoutMs: 6000, memberId: '', groupInstanceId: null,
      protocolType: 'consumer', protocols: [{ name: 'range', metadata: Buffer.alloc(0) }], reason: null, ...over,
    });
    const heartbeat = (over: Record<string, unknown>) => client.send(coordinator, ApiKey.Heartbeat, { groupId: 'bad-group', generationId: 1, memberId: '', groupInstanceId: null, ...over });
    const commit = (over: Record<string, unknown>, metadata = '') => client.send(coordinator, ApiKey.OffsetCommit, {
      groupId: 'bad-group', generationIdOrMemberEpoch: 1, memberId: '', groupInstanceId: null, retentionTimeMs: -1n,
      topics: [{ name: 'healthy', partitions: [{ partitionIndex: 0, committedOffset: 5n, committedLeaderEpoch: -1, commitTimestamp: -1n, committedMetadata: metadata }] }],
      ...over,
    });
    const commitError = (r: Awaited<ReturnType<typeof commit>>): number => r.response.topics[0]!.partitions[0]!.errorCode;

    // INVALID_SESSION_TIMEOUT: below group.min.session.timeout.ms and above group.max.session.timeout.ms.
    assert.equal((await join({ sessionTimeoutMs: 100 })).response.errorCode, ErrorCode.INVALID_SESSION_TIMEOUT);
    assert.equal((await join({ sessionTimeoutMs: 1_800_001 })).response.errorCode, ErrorCode.INVALID_SESSION_TIMEOUT);
    // INVALID_GROUP_ID: an empty group id.
    assert.equal((await join({ groupId: '' })).response.errorCode, ErrorCode.INVALID_GROUP_ID);
    assert.equal((await heartbeat({ groupId: '' })).response.errorCode, ErrorCode.INVALID_GROUP_ID);

    // A real member: MEMBER_ID_REQUIRED first (KIP-394), then generation 1 with itself as leader.
    const first = await join({});
    assert.equal(first.response.errorCode, ErrorCode.MEMBER_ID_REQUIRED);
    const joined = await join({ memberId: first.response.memberId });
    assert.equal(joined.response.errorCode, ErrorCode.NONE);
    const { memberId, generationId } = joined.response;
    assert.equal(joined.response.leader, memberId);
    const synced = await client.send(coordinator, ApiKey.SyncGroup, { groupId: 'bad-group', generationId, memberId, groupInstanceId: null, protocolType: 'consumer', protocolName: 'range', assignments: [{ memberId, assignment: Buffer.alloc(0) }] });
    assert.equal(synced.response.errorCode, ErrorCode.NONE);
    assert.equal((await heartbeat({ memberId, generationId })).response.errorCode, ErrorCode.NONE);

    // ILLEGAL_GENERATION and UNKNOWN_MEMBER_ID, on heartbeats and commits.
    assert.equal((await heartbeat({ memberId, generationId: generationId + 7 })).response.errorCode, ErrorCode.ILLEGAL_GENERATION);
    assert.equal((await heartbeat({ memberId: 'nobody', generationId })).response.errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
    assert.equal(commitError(await commit({ memberId, generationIdOrMemberEpoch: generationId + 7 })), ErrorCode.ILLEGAL_GENERATION);
    assert.equal(commitError(await commit({ memberId: 'nobody', generationIdOrMemberEpoch: generationId })), ErrorCode.UNKNOWN_MEMBER_ID);
    // OFFSET_METADATA_TOO_LARGE: metadata over offset.metadata.max.bytes (100 here).
    assert.equal(commitError(await commit({ memberId, generationIdOrMemberEpoch: generationId }, 'x'.repeat(101))), ErrorCode.OFFSET_METADATA_TOO_LARGE);
    assert.equal(commitError(await commit({ memberId, generationIdOrMemberEpoch: generationId }, 'ok')), ErrorCode.NONE);
    assert.deepEqual((await fetchCommittedOffsets(client, 'bad-group')).map((c) => [c.partition, c.offset, c.metadata]), [[0, 5, 'ok']]);

    // FENCED_INSTANCE_ID: a static member replaced by a newer instance with the same group.instance.id.
    const staticJoin = (memberIdArg: string) => join({ groupId: 'bad-static', memberId: memberIdArg, groupInstanceId: 'instance-1' });
    const old = await staticJoin('');
    assert.equal(old.response.errorCode, ErrorCode.NONE);
    await client.send(coordinator, ApiKey.SyncGroup, { groupId: 'bad-static', generationId: old.response.generationId, memberId: old.response.memberId, groupInstanceId: 'instance-1', protocolType: 'consumer', protocolName: 'range', assignments: [{ memberId: old.response.memberId, assignment: Buffer.alloc(0) }] });
    const replacement = await staticJoin('');
    assert.equal(replacement.response.errorCode, ErrorCode.NONE);
    assert.notEqual(replacement.response.memberId, old.response.memberId);
    const fenced = await heartbeat({ groupId: 'bad-static', memberId: old.response.memberId, generationId: old.response.generationId, groupInstanceId: 'instance-1' });
    assert.equal(fenced.response.errorCode, ErrorCode.FENCED_INSTANCE_ID);

    // The other group never noticed: it keeps consuming and never rebalanced.
    await produce(kafka, 'healthy', 30, 'after');
    await until('the healthy group to consume everything', () => consumed.length >= 60);
    assert.equal(new Set(consumed.map((c) => `${c.partition}:${c.offset}`)).size, 60);
    assert.equal(joins, 1, 'the healthy group joined once and never rebalanced');
  } finally {
    await healthy?.disconnect().catch(() => undefined);
    await client.close();
    await s.stop();
    await s.cleanup();
  }
});

test('kill -9 of the broker during a stream of commits: after restart, no committed offset went backwards', async () => {
  let s = await startStrata(BROKER_ARGS);
  const dataDir = s.dataDir;
  const groups = ['crash-a', 'crash-b', 'crash-c', 'crash-d'];
  const acked = new Map<string, number>();
  let client = new KafkaClient({ bootstrapServers: `127.0.0.1:${s.port}`, retries: 0, requestTimeoutMs: 5000 });
  try {
    await client.createTopics([{ name: 'crash', numPartitions: 3 }]);
    for (const g of groups) await findCoordinator(client, g);
    // Each group commits ever larger offsets to its 3 partitions, several commits in flight per group.
    let stop = false;
    const committers = groups.flatMap((g) => [0, 1].map(async (lane) => {
      for (let n = 1 + lane; !stop; n += 2) {
        const offsets = [0, 1, 2].map((partition) => ({ topic: 'crash', partition, offset: n }));
        try {
          const results = await commitOffsets(client, g, offsets, undefined, { attempts: 1 });
          if (results.every((r) => r.errorCode === ErrorCode.NONE)) {
            for (const r of results) {
              const key = `${g}/${r.partition}`;
              acked.set(key, Math.max(acked.get(key) ?? 0, n));
            }
          }
        } catch {
          return; // the broker is gone
        }
      }
    }));
    await until('a good number of commits', () => [...acked.values()].some((v) => v >= 200));
    s.child.kill('SIGKILL');
    await s.exited;
    stop = true;
    await Promise.all(committers);
    await client.close();
    assert.ok(acked.size === groups.length * 3, 'every group committed before the crash');

    s = await startStrata(BROKER_ARGS, { dataDir });
    client = new KafkaClient({ bootstrapServers: `127.0.0.1:${s.port}` });
    for (const g of groups) {
      const committed = await fetchCommittedOffsets(client, g);
      assert.equal(committed.length, 3);
      for (const c of committed) {
        const ack = acked.get(`${g}/${c.partition}`)!;
        assert.ok(c.offset >= ack, `${g} partition ${c.partition}: committed ${c.offset} < acknowledged ${ack}`);
      }
    }
  } finally {
    await client.close();
    await s.stop();
    await s.cleanup();
  }
});
