// Consumer-group figures against a real `strata start` (npm run bench:groups):
//   join       50 members over 500 partitions joining at once (group.initial.rebalance.delay.ms=0): time
//              until every member holds its share in one generation, and the broker's share of the last
//              rebalance (last JoinGroup sent → JoinGroup responses out, plus the leader's SyncGroup sent →
//              every SyncGroup response out; the leader's own assignment work excluded). Members speak the
//              protocol directly (src/client), so client libraries' timers do not blur the broker's part.
//   leave      librdkafka members (confluent-kafka-python, 6 members over 60 partitions): one closes; time
//              until every remaining member consumes again, eager (range) vs cooperative-sticky, and how long
//              the members that keep their partitions stop consuming.
//   commits    offset commits per second, 32 committers over 8 groups, acks=all on __consumer_offsets
//              (durable.append=true, the default Strata creates it with).
//   Then join and commits again with __consumer_offsets created by hand without durable.append.
// Prints a table and writes bench/results/groups-latest.json. STRATA_BENCH_SCALE=0.5 shrinks the run.
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { KafkaClient } from '../src/client/kafka-client.js';
import { commitOffsets, findCoordinator } from '../src/client/groups.js';
import { ApiKey } from '../src/protocol/generated/apis.js';
import { encodeConsumerProtocolAssignment } from '../src/protocol/generated/data/consumer-protocol-assignment.js';
import { encodeConsumerProtocolSubscription } from '../src/protocol/generated/data/consumer-protocol-subscription.js';
import { ErrorCode } from '../src/protocol/errors.js';
import { Writer } from '../src/protocol/writer.js';
import { startStrata, type StrataProcess } from '../test/integration/helpers/strata-process.js';

const SCALE = Number(process.env.STRATA_BENCH_SCALE ?? 1);
const here = dirname(fileURLToPath(import.meta.url));
const PYTHON = '/usr/bin/python3';
const now = (): number => Number(process.hrtime.bigint()) / 1e6;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const BROKER_ARGS = ['--set', 'group.initial.rebalance.delay.ms=0', '--set', 'group.min.session.timeout.ms=500', '--set', 'offsets.topic.num.partitions=10'];

function versioned(version: number, encode: (w: Writer) => void): Buffer {
  const w = new Writer();
  w.int16(version);
  encode(w);
  return w.toBuffer();
}

const subscription = (topic: string): Buffer =>
  versioned(1, (w) => encodeConsumerProtocolSubscription(w, 1, { topics: [topic], userData: null, ownedPartitions: [], generationId: -1, rackId: null }));

const assignmentOf = (topic: string, partitions: number[]): Buffer =>
  versioned(1, (w) => encodeConsumerProtocolAssignment(w, 1, { assignedPartitions: [{ topic, partitions }], userData: null }));

/** A group member speaking JoinGroup / SyncGroup / Heartbeat itself; the leader assigns round-robin. */
class RawMember {
  readonly client: KafkaClient;
  memberId = '';
  generation = -1;
  assigned: number[] = [];
  lastJoinSentAt = 0;
  joinAnsweredAt = 0;
  syncSentAt = 0;
  syncAnsweredAt = 0;
  isLeader = false;
  #running = true;

  constructor(bootstrap: string, readonly groupId: string, readonly topic: string, readonly partitions: number, readonly coordinator: number) {
    this.client = new KafkaClient({ bootstrapServers: bootstrap, requestTimeoutMs: 120_000 });
  }

  async run(): Promise<void> {
    while (this.#running) {
      await this.#joinAndSync();
      // Heartbeat until told to rejoin.
      while (this.#running) {
        await sleep(100);
        if (!this.#running) return;
        const { response } = await this.client.send({ nodeId: this.coordinator }, ApiKey.Heartbeat,
          { groupId: this.groupId, generationId: this.generation, memberId: this.memberId, groupInstanceId: null });
        if (response.errorCode !== ErrorCode.NONE) break;
      }
    }
  }

  async #joinAndSync(): Promise<void> {
    for (;;) {
      this.lastJoinSentAt = now();
      const { response: join } = await this.client.send({ nodeId: this.coordinator }, ApiKey.JoinGroup, {
        groupId: this.groupId, sessionTimeoutMs: 30_000, rebalanceTimeoutMs: 60_000, memberId: this.memberId, groupInstanceId: null,
        protocolType: 'consumer', protocols: [{ name: 'roundrobin', metadata: subscription(this.topic) }], reason: null,
      });
      this.joinAnsweredAt = now();
      if (join.errorCode === ErrorCode.MEMBER_ID_REQUIRED) {
        this.memberId = join.memberId;
        continue;
      }
      if (join.errorCode !== ErrorCode.NONE) throw new Error(`JoinGroup: error ${join.errorCode}`);
      this.memberId = join.memberId;
      this.generation = join.generationId;
      this.isLeader = join.leader === join.memberId;
      const assignments = this.isLeader ? roundRobin(join.members.map((m) => m.memberId), this.partitions).map(([memberId, ps]) => ({ memberId, assignment: assignmentOf(this.topic, ps) })) : [];
      this.syncSentAt = now();
      const { response: sync } = await this.client.send({ nodeId: this.coordinator }, ApiKey.SyncGroup, {
        groupId: this.groupId, generationId: this.generation, memberId: this.memberId, groupInstanceId: null,
        protocolType: 'consumer', protocolName: 'roundrobin', assignments,
      });
      this.syncAnsweredAt = now();
      if (sync.errorCode === ErrorCode.REBALANCE_IN_PROGRESS) continue;
      if (sync.errorCode !== ErrorCode.NONE) throw new Error(`SyncGroup: error ${sync.errorCode}`);
      this.assigned = decodePartitions(sync.assignment);
      return;
    }
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.client.send({ nodeId: this.coordinator }, ApiKey.LeaveGroup, { groupId: this.groupId, memberId: this.memberId, members: [{ memberId: this.memberId, groupInstanceId: null, reason: null }] }).catch(() => undefined);
    await this.client.close();
  }
}

function roundRobin(members: string[], partitions: number): [string, number[]][] {
  const sorted = [...members].sort();
  const out = new Map<string, number[]>(sorted.map((m) => [m, []]));
  for (let p = 0; p < partitions; p++) out.get(sorted[p % sorted.length]!)!.push(p);
  return [...out];
}

function decodePartitions(buf: Buffer): number[] {
  // version int16, topics array (1): name, partitions int32[]
  if (buf.length < 6) return [];
  let pos = 2;
  const topics = buf.readInt32BE(pos);
  pos += 4;
  const out: number[] = [];
  for (let t = 0; t < topics; t++) {
    const len = buf.readInt16BE(pos);
    pos += 2 + len;
    const n = buf.readInt32BE(pos);
    pos += 4;
    for (let i = 0; i < n; i++, pos += 4) out.push(buf.readInt32BE(pos));
  }
  return out;
}

async function benchJoin(s: StrataProcess, members: number, partitions: number): Promise<Record<string, number>> {
  const bootstrap = `127.0.0.1:${s.port}`;
  const admin = new KafkaClient({ bootstrapServers: bootstrap });
  const topic = `join-${members}x${partitions}`;
  await admin.createTopics([{ name: topic, numPartitions: partitions }]);
  const groupId = `join-group-${members}`;
  const coordinator = await findCoordinator(admin, groupId);
  const group = Array.from({ length: members }, () => new RawMember(bootstrap, groupId, topic, partitions, coordinator));
  // Connections first, so the figure is the protocol's, not TCP set-up.
  await Promise.all(group.map((m) => m.client.apiVersions({ nodeId: coordinator })));
  const start = now();
  const runs = group.map((m) => m.run().catch(() => undefined));
  for (;;) {
    await sleep(5);
    const gen = group[0]!.generation;
    if (gen > 0 && group.every((m) => m.generation === gen && m.syncAnsweredAt >= m.lastJoinSentAt && m.assigned.length > 0)
      && group.reduce((n, m) => n + m.assigned.length, 0) === partitions) break;
    if (now() - start > 120_000) throw new Error('join did not settle');
  }
  const joinMs = now() - start;
  const leader = group.find((m) => m.isLeader)!;
  const lastJoinSent = Math.max(...group.map((m) => m.lastJoinSentAt));
  const joinOut = Math.max(...group.map((m) => m.joinAnsweredAt));
  const syncOut = Math.max(...group.map((m) => m.syncAnsweredAt));
  const generation = group[0]!.generation;

  for (const m of group) await m.stop();
  await Promise.all(runs);
  await admin.close();
  return {
    members,
    partitions,
    joinMs,
    generations: generation,
    brokerJoinShareMs: joinOut - lastJoinSent,
    brokerSyncShareMs: syncOut - leader.syncSentAt,
    brokerShareMs: joinOut - lastJoinSent + (syncOut - leader.syncSentAt),
  };
}

// ---- leave: librdkafka members ------------------------------------------------------------------------

const MEMBER_PY = String.raw`
import json, sys, time, threading
from confluent_kafka import Consumer
cfg = json.loads(sys.argv[1])
topic = cfg.pop('topic')
coop = 'cooperative' in cfg.get('partition.assignment.strategy', '')
def emit(**ev):
    ev['t'] = time.time() * 1000
    sys.stdout.write(json.dumps(ev) + '\n'); sys.stdout.flush()
c = Consumer(cfg)
def on_assign(consumer, parts):
    emit(ev='assign', parts=[p.partition for p in parts])
    consumer.incremental_assign(parts) if coop else consumer.assign(parts)
def on_revoke(consumer, parts):
    emit(ev='revoke', parts=[p.partition for p in parts])
    consumer.incremental_unassign(parts) if coop else consumer.unassign()
c.subscribe([topic], on_assign=on_assign, on_revoke=on_revoke)
stop = threading.Event()
threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
last = {}
while not stop.is_set():
    m = c.poll(0.02)
    if m is None or m.error():
        continue
    p = m.partition()
    t = time.time() * 1000
    if t - last.get(p, 0) >= 20:
        last[p] = t
        emit(ev='msg', p=p)
c.close()
`;

interface PyEv {
  ev: string;
  t: number;
  parts?: number[];
  p?: number;
}

async function benchLeave(s: StrataProcess, strategy: 'range' | 'cooperative-sticky', members: number, partitions: number, script: string): Promise<Record<string, number | string>> {
  const bootstrap = `127.0.0.1:${s.port}`;
  const admin = new KafkaClient({ bootstrapServers: bootstrap });
  const topic = `leave-${strategy}`;
  await admin.createTopics([{ name: topic, numPartitions: partitions }]);
  let producing = true;
  const producer = (async () => {
    for (let i = 0; producing; i++) {
      await admin.produce(topic, Array.from({ length: partitions }, (_, p) => ({ partition: p, value: Buffer.from(`m${i}`) })));
      await sleep(10);
    }
  })();
  const cfg = JSON.stringify({ 'bootstrap.servers': bootstrap, 'group.id': `leave-${strategy}`, topic, 'partition.assignment.strategy': strategy,
    'session.timeout.ms': 6000, 'heartbeat.interval.ms': 500, 'fetch.wait.max.ms': 20, 'auto.offset.reset': 'latest' });
  const procs = Array.from({ length: members }, () => {
    const child = spawn(PYTHON, [script, cfg], { stdio: ['pipe', 'pipe', 'inherit'] });
    const events: PyEv[] = [];
    createInterface({ input: child.stdout }).on('line', (l) => events.push(JSON.parse(l) as PyEv));
    const exited = new Promise((r) => child.once('exit', r));
    return { child, events, exited };
  });
  const owned = (events: PyEv[]): Set<number> => {
    const set = new Set<number>();
    for (const e of events) {
      if (e.ev === 'assign') {
        if (strategy === 'range') set.clear();
        for (const p of e.parts!) set.add(p);
      } else if (e.ev === 'revoke') for (const p of e.parts!) set.delete(p);
    }
    return set;
  };
  const settled = (ps: typeof procs): boolean => ps.reduce((n, x) => n + owned(x.events).size, 0) === partitions && ps.every((x) => owned(x.events).size > 0);
  const deadline = Date.now() + 120_000;
  while (!settled(procs)) {
    if (Date.now() > deadline) throw new Error('members did not settle');
    await sleep(50);
  }
  await sleep(2000);
  const leaver = procs[0]!;
  const stay = procs.slice(1);
  const keptBefore = stay.map((x) => owned(x.events));
  const leaveAt = Date.now();
  leaver.child.stdin.end();
  await leaver.exited;
  // All consuming again: every partition owned by a remaining member and consumed after the leave.
  while (!(settled(stay) && [...Array(partitions).keys()].every((p) => stay.some((x) => x.events.some((e) => e.ev === 'msg' && e.p === p && e.t > leaveAt))))) {
    if (Date.now() > deadline + 60_000) throw new Error('members did not resume');
    await sleep(10);
  }
  const allConsumingMs = Math.max(...[...Array(partitions).keys()].map((p) =>
    Math.min(...stay.flatMap((x) => x.events.filter((e) => e.ev === 'msg' && e.p === p && e.t > leaveAt).map((e) => e.t))))) - leaveAt;
  // How long partitions a member kept stopped being consumed around the leave.
  let keptPause = 0;
  stay.forEach((x, i) => {
    for (const p of keptBefore[i]!) {
      const ts = x.events.filter((e) => e.ev === 'msg' && e.p === p && e.t >= leaveAt - 1000).map((e) => e.t);
      for (let k = 1; k < ts.length; k++) keptPause = Math.max(keptPause, ts[k]! - ts[k - 1]!);
    }
  });
  producing = false;
  await producer;
  for (const x of stay) x.child.stdin.end();
  await Promise.all(stay.map((x) => x.exited));
  await admin.close();
  return { strategy, members, partitions, leaveToAllConsumingMs: Math.round(allConsumingMs), keptPartitionsLongestPauseMs: Math.round(keptPause) };
}

async function benchCommits(s: StrataProcess, seconds: number): Promise<Record<string, number>> {
  const bootstrap = `127.0.0.1:${s.port}`;
  const admin = new KafkaClient({ bootstrapServers: bootstrap });
  await admin.createTopics([{ name: 'commits', numPartitions: 8 }]);
  const groups = Array.from({ length: 8 }, (_, i) => `commit-group-${i}`);
  for (const g of groups) await findCoordinator(admin, g);
  const clients = Array.from({ length: 4 }, () => new KafkaClient({ bootstrapServers: bootstrap }));
  let commits = 0;
  const end = now() + seconds * 1000;
  const start = now();
  await Promise.all(groups.flatMap((g, gi) => clients.map(async (c, ci) => {
    for (let n = 0; now() < end; n++) {
      const r = await commitOffsets(c, g, [{ topic: 'commits', partition: (gi + ci) % 8, offset: n }]);
      if (r[0]?.errorCode === ErrorCode.NONE) commits++;
    }
  })));
  const elapsed = now() - start;
  for (const c of clients) await c.close();
  await admin.close();
  return { committers: groups.length * clients.length, commitsPerSecond: Math.round(commits / (elapsed / 1000)), seconds: Math.round(elapsed / 100) / 10 };
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'strata-groups-bench-'));
  const script = join(dir, 'member.py');
  await writeFile(script, MEMBER_PY);
  const results: Record<string, unknown> = { at: new Date().toISOString(), scale: SCALE };
  const s = await startStrata(BROKER_ARGS);
  try {
    const members = Math.max(2, Math.round(50 * SCALE));
    const partitions = Math.max(members, Math.round(500 * SCALE));
    const join1 = await benchJoin(s, members, partitions);
    results.join = join1;
    console.log(`join: ${members} members over ${partitions} partitions in ${join1.joinMs!.toFixed(0)} ms (${join1.generations} generations); ` +
      `broker's share of the last rebalance ${join1.brokerShareMs!.toFixed(1)} ms (join ${join1.brokerJoinShareMs!.toFixed(1)} + sync ${join1.brokerSyncShareMs!.toFixed(1)})`);
    const leave: Record<string, number | string>[] = [];
    for (const strategy of ['range', 'cooperative-sticky'] as const) {
      const r = await benchLeave(s, strategy, 6, 60, script);
      leave.push(r);
      console.log(`leave (${strategy}): all consuming again ${r.leaveToAllConsumingMs} ms after one of 6 members left; kept partitions paused at most ${r.keptPartitionsLongestPauseMs} ms`);
    }
    results.leave = leave;
    const commits = await benchCommits(s, Math.max(3, Math.round(10 * SCALE)));
    results.commits = commits;
    console.log(`commits: ${commits.commitsPerSecond}/s with ${commits.committers} concurrent committers (acks=all, durable.append=true)`);
  } finally {
    await s.stop();
    await s.cleanup();
  }
  // The same join and commits with __consumer_offsets created without durable.append (Kafka's durability:
  // acknowledged once in the page cache), to show what the fsync per coordinator write costs.
  const plain = await startStrata(BROKER_ARGS);
  try {
    const admin = new KafkaClient({ bootstrapServers: `127.0.0.1:${plain.port}` });
    const [created] = await admin.createTopics([{ name: '__consumer_offsets', numPartitions: 10,
      configs: { 'cleanup.policy': 'compact', 'segment.bytes': '104857600', 'durable.append': 'false' } }]);
    await admin.close();
    if (created?.error !== null) throw created!.error;
    const members = Math.max(2, Math.round(50 * SCALE));
    const join2 = await benchJoin(plain, members, Math.max(members, Math.round(500 * SCALE)));
    const commits2 = await benchCommits(plain, Math.max(3, Math.round(10 * SCALE)));
    results.withoutDurableAppend = { join: join2, commits: commits2 };
    console.log(`without durable.append: join ${join2.joinMs!.toFixed(0)} ms, broker's share ${join2.brokerShareMs!.toFixed(1)} ms ` +
      `(join ${join2.brokerJoinShareMs!.toFixed(1)} + sync ${join2.brokerSyncShareMs!.toFixed(1)}); commits ${commits2.commitsPerSecond}/s`);
  } finally {
    await plain.stop();
    await plain.cleanup();
    await rm(dir, { recursive: true, force: true });
  }
  await mkdir(join(here, 'results'), { recursive: true });
  await writeFile(join(here, 'results', 'groups-latest.json'), JSON.stringify(results, null, 2) + '\n');
}

await main();
