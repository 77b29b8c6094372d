// Consumer groups with librdkafka-based and Python clients against a real `strata start`:
// confluent-kafka-python with cooperative-sticky (partitions that stay keep being consumed during a
// rebalance), static membership (a restarted member gets its partitions back without a rebalance), a
// member that stops polling past max.poll.interval.ms (removed, its partitions reassigned), kcat's
// balanced consumer (-G) and kafka-python's group consumer.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { KafkaClient } from '../../src/client/kafka-client.js';
import { describeGroup, fetchCommittedOffsets } from '../../src/client/groups.js';
import { missing, PYTHON, run } from '../compat/helpers/compat.js';
import { startStrata, type StrataProcess } from './helpers/strata-process.js';

const BROKER_ARGS = ['--set', 'group.initial.rebalance.delay.ms=0', '--set', 'group.min.session.timeout.ms=500', '--set', 'offsets.topic.num.partitions=4'];

// One confluent-kafka consumer; events as JSON lines on stdout, commands as lines on stdin.
const CONFLUENT_MEMBER = String.raw`
import json, sys, time, threading, queue
from confluent_kafka import Consumer, KafkaException

cfg = json.loads(sys.argv[1])
topic = cfg.pop('topic')
cooperative = 'cooperative' in cfg.get('partition.assignment.strategy', '')
now = lambda: int(time.time() * 1000)
def emit(**ev):
    ev['t'] = now()
    sys.stdout.write(json.dumps(ev) + '\n')
    sys.stdout.flush()

c = Consumer(cfg)
def on_assign(consumer, parts):
    emit(ev='assign', parts=[p.partition for p in parts])
    if cooperative:
        consumer.incremental_assign(parts)
    else:
        consumer.assign(parts)
def on_revoke(consumer, parts):
    emit(ev='revoke', parts=[p.partition for p in parts])
    if cooperative:
        consumer.incremental_unassign(parts)
    else:
        consumer.unassign()
c.subscribe([topic], on_assign=on_assign, on_revoke=on_revoke)

commands = queue.Queue()
def read_stdin():
    for line in sys.stdin:
        commands.put(line.strip())
    commands.put('close')
threading.Thread(target=read_stdin, daemon=True).start()
emit(ev='started')
while True:
    try:
        cmd = commands.get_nowait()
    except queue.Empty:
        cmd = None
    if cmd == 'close':
        c.close()
        emit(ev='closed')
        break
    if cmd is not None and cmd.startswith('stall '):
        emit(ev='stalling')
        time.sleep(float(cmd.split()[1]))
        emit(ev='stalled')
    m = c.poll(0.05)
    if m is None:
        continue
    if m.error():
        emit(ev='error', code=m.error().code(), name=m.error().name())
        continue
    emit(ev='msg', p=m.partition(), o=m.offset())
`;

const KAFKA_PYTHON_GROUP = String.raw`
import json, sys
from kafka import KafkaConsumer
cfg = json.loads(sys.argv[1])
c = KafkaConsumer(cfg['topic'], group_id=cfg['group'], bootstrap_servers=cfg['bootstrap'], auto_offset_reset='earliest',
                  enable_auto_commit=False, consumer_timeout_ms=4000, session_timeout_ms=6000, heartbeat_interval_ms=500)
recs = [[m.partition, m.offset] for m in c]
c.commit()
c.close()
print(json.dumps(recs))
`;

interface Ev {
  readonly ev: string;
  readonly t: number;
  readonly parts?: number[];
  readonly p?: number;
  readonly o?: number;
  readonly code?: number;
  readonly name?: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

class PyMember {
  readonly events: Ev[] = [];
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  stderr = '';

  constructor(script: string, cfg: Record<string, unknown>) {
    this.child = spawn(PYTHON, [script, JSON.stringify(cfg)], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      try {
        this.events.push(JSON.parse(line) as Ev);
      } catch {
        // not an event
      }
    });
    this.exited = new Promise((res) => this.child.once('exit', (code) => res(code)));
  }

  send(cmd: string): void {
    this.child.stdin!.write(`${cmd}\n`);
  }

  /** The partitions it owns now, from its assign/revoke callbacks (incremental when cooperative). */
  owned(cooperative: boolean): Set<number> {
    const s = new Set<number>();
    for (const e of this.events) {
      if (e.ev === 'assign') {
        if (!cooperative) s.clear();
        for (const p of e.parts!) s.add(p);
      } else if (e.ev === 'revoke') {
        for (const p of e.parts!) s.delete(p);
      }
    }
    return s;
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    this.send('close');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    await this.exited;
    clearTimeout(timer);
  }
}

let strata: StrataProcess;
let client: KafkaClient;
let kafka: Kafka;
let dir: string;
let memberScript: string;
let kafkaPythonScript: string;
let skipConfluent: string | null;
let skipKcat: string | null;
let skipKafkaPython: string | null;
const bootstrap = (): string => `127.0.0.1:${strata.port}`;

before(async () => {
  [skipConfluent, skipKcat, skipKafkaPython] = await Promise.all([missing('confluent-kafka-python'), missing('kcat'), missing('kafka-python')]);
  dir = await mkdtemp(join(tmpdir(), 'strata-groups-py-'));
  memberScript = join(dir, 'member.py');
  kafkaPythonScript = join(dir, 'kafka_python_group.py');
  await writeFile(memberScript, CONFLUENT_MEMBER);
  await writeFile(kafkaPythonScript, KAFKA_PYTHON_GROUP);
  strata = await startStrata(BROKER_ARGS);
  client = new KafkaClient({ bootstrapServers: bootstrap() });
  kafka = new Kafka({ brokers: [bootstrap()], logLevel: logLevel.NOTHING });
});

after(async () => {
  await client?.close();
  await strata?.stop();
  await strata?.cleanup();
  await rm(dir, { recursive: true, force: true });
});

const memberConfig = (group: string, topic: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  'bootstrap.servers': bootstrap(),
  'group.id': group,
  topic,
  'auto.offset.reset': 'earliest',
  'session.timeout.ms': 6000,
  'heartbeat.interval.ms': 300,
  'fetch.wait.max.ms': 50,
  ...extra,
});

/** Produces one record per partition every `everyMs` until stopped. */
function steadyProducer(topic: string, partitions: number, everyMs: number): { stop: () => Promise<void> } {
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  let running = true;
  const loop = (async () => {
    await producer.connect();
    for (let i = 0; running; i++) {
      await producer.send({ topic, messages: Array.from({ length: partitions }, (_, p) => ({ partition: p, value: `m${i}` })) });
      await sleep(everyMs);
    }
    await producer.disconnect();
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

test('confluent-kafka-python cooperative-sticky: partitions that stay keep being consumed during a rebalance', async (t) => {
  if (skipConfluent !== null) return t.skip(skipConfluent);
  await client.createTopics([{ name: 'coop', numPartitions: 6 }]);
  const producer = steadyProducer('coop', 6, 20);
  const cfg = memberConfig('coop-group', 'coop', { 'partition.assignment.strategy': 'cooperative-sticky' });
  const m1 = new PyMember(memberScript, cfg);
  let m2: PyMember | undefined;
  try {
    await until('member 1 to own all 6 partitions', () => m1.owned(true).size === 6 && m1.events.some((e) => e.ev === 'msg'));
    await sleep(500);
    m2 = new PyMember(memberScript, cfg);
    await until('member 2 to start', () => m2!.events.some((e) => e.ev === 'started'));
    const rebalanceStart = m2.events.find((e) => e.ev === 'started')!.t;
    await until('member 2 to own 3 partitions', () => m2!.owned(true).size === 3, 30_000);
    await until('member 1 to be down to 3 partitions', () => m1.owned(true).size === 3);
    const rebalanceEnd = m2.events.find((e) => e.ev === 'assign' && e.parts!.length > 0)!.t;
    await until('member 2 consuming', () => m2!.events.some((e) => e.ev === 'msg'));
    await sleep(500);

    const moved = m2.owned(true);
    const kept = m1.owned(true);
    assert.equal(kept.size + moved.size, 6);
    assert.ok([...kept].every((p) => !moved.has(p)));
    // Incremental: member 1 was only ever asked to give up the partitions that moved.
    const revoked = m1.events.filter((e) => e.ev === 'revoke').flatMap((e) => e.parts!);
    assert.deepEqual(new Set(revoked), moved, 'only the moved partitions were revoked from member 1');
    // Kept partitions were consumed by member 1 while the group rebalanced.
    const keptDuring = m1.events.filter((e) => e.ev === 'msg' && kept.has(e.p!) && e.t >= rebalanceStart && e.t <= rebalanceEnd);
    assert.ok(keptDuring.length > 0, `member 1 consumed its kept partitions between ${rebalanceStart} and ${rebalanceEnd}`);

    // The pause, measured: the largest gap between records of a kept partition around the rebalance,
    // against the hand-over time of a moved partition (last record at member 1 → first at member 2).
    const gaps = [...kept].map((p) => {
      const ts = m1.events.filter((e) => e.ev === 'msg' && e.p === p && e.t >= rebalanceStart - 1000 && e.t <= rebalanceEnd + 1000).map((e) => e.t);
      return ts.slice(1).reduce((g, x, i) => Math.max(g, x - ts[i]!), 0);
    });
    const handovers = [...moved].map((p) => {
      const lastAt1 = Math.max(...m1.events.filter((e) => e.ev === 'msg' && e.p === p).map((e) => e.t));
      const firstAt2 = Math.min(...m2!.events.filter((e) => e.ev === 'msg' && e.p === p).map((e) => e.t));
      return firstAt2 - lastAt1;
    });
    t.diagnostic(`rebalance ${rebalanceEnd - rebalanceStart} ms (member 2 start → assign); kept partitions: largest gap ${Math.max(...gaps)} ms; moved partitions: hand-over ${Math.min(...handovers)}–${Math.max(...handovers)} ms`);
  } finally {
    await producer.stop();
    await m2?.close();
    await m1.close();
  }
});

test('static membership: a member restarted within its session timeout gets its partitions back without a rebalance', async (t) => {
  if (skipConfluent !== null) return t.skip(skipConfluent);
  await client.createTopics([{ name: 'static', numPartitions: 4 }]);
  const cfg = (instance: string): Record<string, unknown> => memberConfig('static-group', 'static', { 'group.instance.id': instance, 'session.timeout.ms': 10000 });
  const a = new PyMember(memberScript, cfg('instance-a'));
  const b = new PyMember(memberScript, cfg('instance-b'));
  let a2: PyMember | undefined;
  try {
    await until('both members assigned 2 partitions', () => a.owned(false).size === 2 && b.owned(false).size === 2);
    const before = await describeGroup(client, 'static-group');
    assert.equal(before.state, 'Stable');
    const bMember = before.members.find((m) => m.groupInstanceId === 'instance-b')!;
    const aPartitions = a.owned(false);
    const bEventsBefore = b.events.filter((e) => e.ev !== 'msg').length;

    // A static member closing does not leave the group (KIP-345); a new process with the same
    // group.instance.id takes its place.
    await a.close();
    a2 = new PyMember(memberScript, cfg('instance-a'));
    await until('the restarted member to be assigned', () => a2!.owned(false).size > 0);
    assert.deepEqual(a2.owned(false), aPartitions, 'the same partitions came back');
    await sleep(1000);
    assert.equal(b.events.filter((e) => e.ev !== 'msg').length, bEventsBefore, 'the other member saw no revoke and no assign: no rebalance');
    const after = await describeGroup(client, 'static-group');
    assert.equal(after.state, 'Stable');
    assert.equal(after.members.length, 2);
    assert.equal(after.members.find((m) => m.groupInstanceId === 'instance-b')!.memberId, bMember.memberId);
    assert.notEqual(after.members.find((m) => m.groupInstanceId === 'instance-a')!.memberId, before.members.find((m) => m.groupInstanceId === 'instance-a')!.memberId);
  } finally {
    await a2?.close();
    await b.close();
    await a.close();
  }
});

test('a member that stops polling past max.poll.interval.ms is removed and its partitions reassigned', async (t) => {
  if (skipConfluent !== null) return t.skip(skipConfluent);
  await client.createTopics([{ name: 'slow', numPartitions: 2 }]);
  const x = new PyMember(memberScript, memberConfig('slow-group', 'slow', { 'max.poll.interval.ms': 2000, 'session.timeout.ms': 1500 }));
  const y = new PyMember(memberScript, memberConfig('slow-group', 'slow', { 'max.poll.interval.ms': 60000 }));
  try {
    await until('both members assigned', () => x.owned(false).size === 1 && y.owned(false).size === 1);
    x.send('stall 6');
    await until('the other member to take both partitions', () => y.owned(false).size === 2, 20_000);
    const g = await describeGroup(client, 'slow-group');
    assert.equal(g.members.length, 1, 'the stalled member is out of the group');
    await until('the stalled member to hear about it', () => x.events.some((e) => e.ev === 'error' || e.ev === 'revoke'), 20_000);
  } finally {
    await x.close();
    await y.close();
  }
});

test('kcat balanced consumer (-G) and kafka-python group consumer consume and commit', async (t) => {
  await client.createTopics([{ name: 'tools', numPartitions: 3 }]);
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  await producer.send({ topic: 'tools', messages: Array.from({ length: 90 }, (_, i) => ({ partition: i % 3, value: `r${i}` })) });
  await producer.disconnect();
  const ends = [{ topic: 'tools', partition: 0, offset: 30 }, { topic: 'tools', partition: 1, offset: 30 }, { topic: 'tools', partition: 2, offset: 30 }];

  if (skipKcat !== null) {
    t.diagnostic(skipKcat);
  } else {
    const r = await run('kcat', ['-b', bootstrap(), '-G', 'kcat-group', 'tools', '-e', '-q', '-f', '%p:%o\\n', '-X', 'auto.offset.reset=earliest', '-X', 'session.timeout.ms=6000'], { timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stderr);
    const got = r.stdout.trim().split('\n').filter((l) => l !== '');
    assert.equal(new Set(got).size, 90, 'kcat consumed all 90 records once');
    await until('kcat\'s commits', async () => JSON.stringify((await fetchCommittedOffsets(client, 'kcat-group')).map((c) => c.offset)) === '[30,30,30]', 10_000);
  }

  if (skipKafkaPython !== null) {
    t.diagnostic(skipKafkaPython);
  } else {
    const cfg = JSON.stringify({ topic: 'tools', group: 'kafka-python-group', bootstrap: bootstrap() });
    const first = await run(PYTHON, [kafkaPythonScript, cfg], { timeoutMs: 60_000 });
    assert.equal(first.code, 0, first.stderr);
    const recs = JSON.parse(first.stdout.trim().split('\n').pop()!) as [number, number][];
    assert.equal(new Set(recs.map(([p, o]) => `${p}:${o}`)).size, 90, 'kafka-python consumed all 90 records once');
    assert.deepEqual((await fetchCommittedOffsets(client, 'kafka-python-group')).map(({ topic, partition, offset }) => ({ topic, partition, offset })), ends);
    // The same group again: nothing left, it resumes at the committed offsets.
    const second = await run(PYTHON, [kafkaPythonScript, cfg], { timeoutMs: 60_000 });
    assert.equal(second.code, 0, second.stderr);
    assert.deepEqual(JSON.parse(second.stdout.trim().split('\n').pop()!), []);
  }
});
