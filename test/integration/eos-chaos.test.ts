// Exactly-once under kill -9: a consume–transform–produce application (confluent-kafka-python, see
// helpers/eos_app.py) runs against `strata start` while the test kills the application and the broker
// with SIGKILL at moments drawn from a seeded generator, restarting each (the application as a new
// process with the same transactional.id, the broker on the same data directory and port), and once
// freezes the application (SIGSTOP) while a new instance takes over, then lets the zombie run on. In the
// end the committed output must hold every input record exactly once, in input order per partition.
// Replay a failure with EOS_CHAOS_SEED=<seed printed by the test>.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { startStrata, type StrataProcess } from './helpers/strata-process.js';
import { seededRandom as rng } from '../helpers/seeded-random.js';

const run = promisify(execFile);
const PY = '/usr/bin/python3';
const APP = join(dirname(fileURLToPath(import.meta.url)), 'helpers/eos_app.py');
const ARGS = [
  '--set', 'transaction.state.log.num.partitions=3',
  '--set', 'offsets.topic.num.partitions=3',
  '--set', 'transaction.abort.timed.out.transaction.cleanup.interval.ms=1000',
  '--set', 'group.initial.rebalance.delay.ms=0',
];
const PARTITIONS = 3;
const N = 3000;
const APP_KILLS = 3;
const ZOMBIES = 1;
const BROKER_KILLS = 3;


async function waitFor(cond: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

/** One process of the application; progress is what it reported committed. */
interface AppProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  killed: boolean;
}

test('consume–transform–produce: kill -9 of the application and of the broker at random moments, and a zombie application: every input exactly once in the committed output', { timeout: 300_000 }, async (t) => {
  const seed = Number(process.env.EOS_CHAOS_SEED ?? Math.floor(Math.random() * 2 ** 31));
  t.diagnostic(`seed ${seed} (replay with EOS_CHAOS_SEED=${seed})`);
  const random = rng(seed);
  let broker: StrataProcess = await startStrata(ARGS);
  const port = broker.port;
  const bootstrap = `127.0.0.1:${port}`;
  const restartBroker = async (): Promise<void> => {
    broker = await startStrata([...ARGS, '--port', String(port)], { dataDir: broker.dataDir, listenersFromConfig: true });
  };

  // Input: N numbered records, record i in partition i % PARTITIONS, so that each partition's values ascend.
  const expected: string[][] = Array.from({ length: PARTITIONS }, () => []);
  {
    const kafka = new Kafka({ clientId: 'eos-setup', brokers: [bootstrap], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'eos-in', numPartitions: PARTITIONS }, { topic: 'eos-out', numPartitions: PARTITIONS }] });
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    for (let i = 0; i < N; i += 500) {
      const messages = Array.from({ length: Math.min(500, N - i) }, (_, j) => ({ value: String(i + j), partition: (i + j) % PARTITIONS }));
      for (const m of messages) expected[m.partition]!.push(`out-${m.value}`);
      await producer.send({ topic: 'eos-in', acks: -1, messages });
    }
    await producer.disconnect();
    await admin.disconnect();
  }
  const ends = expected.map((e) => e.length);

  // The application, restarted whenever it exits (killed by the test, or giving up on a fatal error).
  const committed = new Map<number, number>();
  let commits = 0;
  let aborts = 0;
  let selfExits = 0;
  let instances = 0;
  const reasons = new Set<string>();
  const appLog: string[] = [];
  const note = (line: string): void => {
    appLog.push(line);
    if (appLog.length > 200) appLog.shift();
  };
  const spawnApp = (): AppProcess => {
    const child = spawn(PY, [APP, bootstrap, 'app', 'eos-in', 'eos-out', 'eos-group', 'eos-app', String(Math.floor(random() * 2 ** 31))], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const id = ++instances;
    const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      note(`app#${id}: ${line}`);
      let msg: { committed?: Record<string, number>; abort?: string; exit?: string };
      try {
        msg = JSON.parse(line) as typeof msg;
      } catch {
        return;
      }
      if (msg.committed !== undefined) {
        commits++;
        for (const [p, o] of Object.entries(msg.committed)) committed.set(Number(p), Math.max(committed.get(Number(p)) ?? 0, o));
      }
      if (msg.abort !== undefined) aborts++;
      if (msg.abort !== undefined || msg.exit !== undefined) reasons.add(msg.abort !== undefined ? `abort on ${msg.abort}` : `exit on ${msg.exit!.replace(/ \(after \d+ms\)/, '')}`);
    });
    child.stderr!.on('data', (d: Buffer) => note(`app#${id} stderr: ${d.toString().trimEnd()}`));
    return { child, exited, killed: false };
  };
  const hasExited = (a: AppProcess): boolean => a.child.exitCode !== null || a.child.signalCode !== null;
  let app = spawnApp();
  const zombies: AppProcess[] = [];
  let stopping = false;
  // A supervisor: an application that exits (killed by the test, or by itself on a fatal error) is started
  // again, as a deployment would.
  const supervise = async (): Promise<void> => {
    while (!stopping) {
      await sleep(100);
      const current = app;
      if (stopping || !hasExited(current)) continue;
      if (!current.killed && ++selfExits > 30) return;
      app = spawnApp();
    }
  };
  const supervisor = supervise();
  const killApp = async (): Promise<void> => {
    const victim = app;
    victim.killed = true;
    victim.child.kill('SIGKILL');
    await victim.exited;
    await waitFor(() => app !== victim, 10_000);
  };
  // A zombie: the application hangs (SIGSTOP), a new instance takes over its transactional.id and its
  // place in the group, and then the old one wakes up in the middle of whatever it was doing. It must be
  // fenced: nothing it does after waking may reach the committed output.
  const makeZombie = async (): Promise<void> => {
    const zombie = app;
    zombie.killed = true;
    zombie.child.kill('SIGSTOP');
    zombies.push(zombie);
    app = spawnApp();
    const before = commits;
    await waitFor(() => commits > before, 60_000);
    zombie.child.kill('SIGCONT');
  };
  const diagnostics = (): string =>
    [...appLog, ...broker.logs.filter((l) => (l.level as number) >= 40).map((l) => `broker: ${JSON.stringify(l)}`)].join('\n');
  const done = (): boolean => ends.every((end, p) => (committed.get(p) ?? 0) >= end);

  try {
    const kinds = [...Array<string>(APP_KILLS).fill('app'), ...Array<string>(ZOMBIES).fill('zombie'), ...Array<string>(BROKER_KILLS).fill('broker')];
    for (let i = kinds.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [kinds[i], kinds[j]] = [kinds[j]!, kinds[i]!];
    }
    let lastCommits = 0;
    for (const kind of kinds) {
      // Each kill interrupts live work: wait for a commit since the previous one, then a random moment.
      assert.ok(await waitFor(() => commits > lastCommits, 60_000), `no progress before the ${kind} kill (seed ${seed})\n${diagnostics()}`);
      await sleep(Math.floor(random() * 1500));
      if (done()) break;
      lastCommits = commits;
      t.diagnostic(`${kind === 'zombie' ? 'SIGSTOP/SIGCONT app' : `kill -9 ${kind}`} after ${commits} commits`);
      if (kind === 'app') {
        await killApp();
      } else if (kind === 'zombie') {
        await makeZombie();
      } else {
        broker.child.kill('SIGKILL');
        await broker.exited;
        // Down for up to 3 s: with the application's 4 s transaction timeout, the restarted coordinator
        // sometimes aborts the open transaction itself and fences the producer.
        await sleep(Math.floor(random() * 3000));
        await restartBroker();
      }
    }
    assert.ok(await waitFor(done, 120_000), `the application did not finish (seed ${seed}): ${JSON.stringify([...committed])}\n${diagnostics()}`);
  } finally {
    stopping = true;
    await supervisor;
    for (const a of [app, ...zombies]) {
      a.child.kill('SIGKILL');
      await a.exited;
    }
  }
  t.diagnostic(`${instances} application instances, ${commits} commits, ${aborts} aborts, ${selfExits} exits on fatal errors`);
  for (const r of reasons) t.diagnostic(`application: ${r}`);

  try {
    const { stdout } = await run(PY, [APP, bootstrap, 'read', 'eos-out', 'read_committed', String(N)], { timeout: 120_000, maxBuffer: 64 << 20 });
    const records = (JSON.parse(stdout.trim().split('\n').at(-1)!) as { records: [number, string][] }).records;
    const actual: string[][] = Array.from({ length: PARTITIONS }, () => []);
    for (const [p, v] of records) actual[p]!.push(v);
    for (let p = 0; p < PARTITIONS; p++) {
      const seen = new Map<string, number>();
      for (const v of actual[p]!) seen.set(v, (seen.get(v) ?? 0) + 1);
      const dupes = [...seen].filter(([, n]) => n > 1).map(([v]) => v);
      const missing = expected[p]!.filter((v) => !seen.has(v));
      assert.deepEqual(dupes, [], `partition ${p}: inputs output more than once (seed ${seed})`);
      assert.deepEqual(missing, [], `partition ${p}: inputs never output (seed ${seed})`);
      assert.deepEqual(actual[p], expected[p], `partition ${p}: output in input order (seed ${seed})`);
    }
    // The group's committed position is the end of the input: nothing would be processed again.
    const kafka = new Kafka({ clientId: 'eos-check', brokers: [bootstrap], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    try {
      const offsets = await admin.fetchOffsets({ groupId: 'eos-group', topics: ['eos-in'] });
      assert.deepEqual(offsets[0]!.partitions.map((p) => [p.partition, Number(p.offset)]).sort((a, b) => a[0]! - b[0]!), ends.map((e, p) => [p, e]));
    } finally {
      await admin.disconnect();
    }
  } finally {
    await broker.stop();
    await broker.cleanup();
  }
});
