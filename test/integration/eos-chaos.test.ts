// Exactly-once under kill -9: a consume–transform–produce application (confluent-kafka-python, see
// helpers/eos_app.py) runs against `strata start` while the test kills the application and the broker
// with SIGKILL at moments drawn from a seeded generator, restarting each (the application as a new
// process with the same transactional.id, the broker on the same data directory and port), and once
// freezes the application (SIGSTOP) while a new instance takes over, then lets the zombie run on. In the
// end the committed output must hold every input record exactly once, in input order per partition.
// Progress is what the application reports and what the group's committed offsets on the broker say; an
// application silent for too long is killed and restarted, as a deployment's liveness check would.
// Replay a failure with EOS_CHAOS_SEED=<seed printed by the test>.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { KafkaClient } from '../../src/client/kafka-client.js';
import { fetchCommittedOffsets } from '../../src/client/groups.js';
import { describeTransaction } from '../../src/client/transactions.js';
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
// Every blocking call of the application is bounded (30 s at most) and it prints a line after each, so an
// instance silent for longer hangs. librdkafka 2.0.2 was seen to: a static member whose session timed out
// while the broker was down is fenced by its own rejoin, and the application's next client call after its
// abort never returned.
const LIVENESS_MS = 45_000;


async function waitFor(cond: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

/** The transaction's state and the group's committed offsets (stable ones, as a read_committed consumer asks). */
async function brokerView(bootstrap: string): Promise<string[]> {
  const client = new KafkaClient({ bootstrapServers: bootstrap, requestTimeoutMs: 5000 });
  const lines: string[] = [];
  const ask = async (what: string, fn: () => Promise<unknown>): Promise<void> => {
    try {
      lines.push(`${what}: ${JSON.stringify(await fn())}`);
    } catch (e) {
      lines.push(`${what}: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  try {
    await ask('transaction eos-app', () => describeTransaction(client, 'eos-app'));
    for (let p = 0; p < PARTITIONS; p++) {
      await ask(`committed eos-in-${p}`, () => fetchCommittedOffsets(client, 'eos-group', [{ topic: 'eos-in', partition: p }], { attempts: 1 }));
    }
  } finally {
    await client.close();
  }
  return lines;
}

/** One process of the application; progress is what it reported committed. */
interface AppProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  killed: boolean;
  /** When it last printed a line (it prints at least every 30 s while it runs: see LIVENESS_MS). */
  lastLine: number;
  /** Everything it wrote to stderr (librdkafka's logs, and its stack when asked with SIGUSR1). */
  stderr: string;
}

test('consume–transform–produce: kill -9 of the application and of the broker at random moments, and a zombie application: every input exactly once in the committed output', { timeout: 300_000 }, async (t) => {
  const seed = Number(process.env.EOS_CHAOS_SEED ?? Math.floor(Math.random() * 2 ** 31));
  t.diagnostic(`seed ${seed} (replay with EOS_CHAOS_SEED=${seed})`);
  const random = rng(seed);
  let broker: StrataProcess = await startStrata(ARGS);
  try {
    await chaos(t, seed, random, broker, (b) => (broker = b));
  } finally {
    await broker.stop();
    await broker.cleanup();
  }
});

/** The body of the test; `setBroker` tells the caller which broker process to stop in the end. */
async function chaos(t: TestContext, seed: number, random: () => number, first: StrataProcess, setBroker: (b: StrataProcess) => void): Promise<void> {
  let broker = first;
  const port = broker.port;
  const bootstrap = `127.0.0.1:${port}`;
  const restartBroker = async (): Promise<void> => {
    broker = await startStrata([...ARGS, '--port', String(port)], { dataDir: broker.dataDir, listenersFromConfig: true });
    setBroker(broker);
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
  let hung = 0;
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
    const proc: AppProcess = { child, exited, killed: false, lastLine: Date.now(), stderr: '' };
    createInterface({ input: child.stdout! }).on('line', (line) => {
      proc.lastLine = Date.now();
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
    child.stderr!.on('data', (d: Buffer) => {
      proc.stderr += d.toString();
      note(`app#${id} stderr: ${d.toString().trimEnd()}`);
    });
    return proc;
  };
  const hasExited = (a: AppProcess): boolean => a.child.exitCode !== null || a.child.signalCode !== null;
  let app = spawnApp();
  const zombies: AppProcess[] = [];
  let stopping = false;
  // A supervisor: an application that exits (killed by the test, or by itself on a fatal error) is started
  // again, as a deployment would; one that stopped making progress is killed first, as a deployment's
  // liveness check would.
  const supervise = async (): Promise<void> => {
    while (!stopping) {
      await sleep(100);
      const current = app;
      if (!hasExited(current) && !current.killed && Date.now() - current.lastLine > LIVENESS_MS) {
        hung++;
        current.killed = true;
        const before = current.stderr.length;
        current.child.kill('SIGUSR1');
        await sleep(500);
        const frames = current.stderr.slice(before).split('\n').filter((l) => l.includes('File "'));
        t.diagnostic(`an application instance made no progress for ${LIVENESS_MS / 1000} s; its Python stack was:\n${frames.join('\n')}`);
        current.child.kill('SIGKILL');
        await current.exited;
      }
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
    await waitFor(() => commits > before || done(), 60_000);
    zombie.child.kill('SIGCONT');
  };
  // What the broker says about the stall first (the output of a failed run is often cut short), then its
  // warnings, then the application's last lines.
  const diagnostics = async (): Promise<string> => [
    `committed as the application reported: ${JSON.stringify([...committed])}, as the broker reported: ${JSON.stringify(stable)}`,
    ...(await brokerView(bootstrap)),
    ...broker.logs.filter((l) => (l.level as number) >= 40).slice(-40).map((l) => `broker: ${JSON.stringify(l)}`),
    ...appLog.slice(-60),
  ].join('\n');
  // The application prints what it committed, but a kill can land after the commit was decided and before
  // the application heard of it (or printed it): the group's stable committed offsets on the broker are
  // what counts, so they are read too.
  const stable = ends.map(() => 0);
  const watchStable = async (): Promise<void> => {
    while (!stopping) {
      await sleep(1000);
      const client = new KafkaClient({ bootstrapServers: bootstrap, requestTimeoutMs: 3000 });
      try {
        const offsets = await fetchCommittedOffsets(client, 'eos-group', ends.map((_, p) => ({ topic: 'eos-in', partition: p })), { attempts: 1 });
        for (const o of offsets) stable[o.partition] = Math.max(stable[o.partition]!, o.offset);
      } catch {
        // The broker is down or a transaction is in flight (UNSTABLE_OFFSET_COMMIT): next time.
      } finally {
        await client.close();
      }
    }
  };
  const stableWatcher = watchStable();
  const done = (): boolean => ends.every((end, p) => Math.max(committed.get(p) ?? 0, stable[p]!) >= end);

  try {
    const kinds = [...Array<string>(APP_KILLS).fill('app'), ...Array<string>(ZOMBIES).fill('zombie'), ...Array<string>(BROKER_KILLS).fill('broker')];
    for (let i = kinds.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [kinds[i], kinds[j]] = [kinds[j]!, kinds[i]!];
    }
    let lastCommits = 0;
    for (const kind of kinds) {
      // Each kill interrupts live work: wait for a commit since the previous one, then a random moment.
      if (!(await waitFor(() => commits > lastCommits || done(), 90_000))) assert.fail(`no progress before the ${kind} kill (seed ${seed})\n${await diagnostics()}`);
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
    if (!(await waitFor(done, 120_000))) assert.fail(`the application did not finish (seed ${seed})\n${await diagnostics()}`);
  } finally {
    stopping = true;
    await supervisor;
    await stableWatcher;
    for (const a of [app, ...zombies]) {
      a.child.kill('SIGKILL');
      await a.exited;
    }
  }
  t.diagnostic(`${instances} application instances, ${commits} commits, ${aborts} aborts, ${selfExits} exits on fatal errors, ${hung} killed as hung`);
  for (const r of reasons) t.diagnostic(`application: ${r}`);
  const unreported = ends.flatMap((end, p) => ((committed.get(p) ?? 0) < end ? [`${p}: ${committed.get(p) ?? 0}`] : []));
  if (unreported.length > 0) t.diagnostic(`the last commit of partitions ${unreported.join(', ')} was known from the broker only`);

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
}
