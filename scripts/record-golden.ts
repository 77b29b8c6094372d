// Records golden wire captures from real Kafka clients talking to a real `strata start`.
//
//   node --import tsx scripts/record-golden.ts [--only kcat,kafkajs,...]
//   STRATA_GOLDEN_DIR=/tmp/x node --import tsx scripts/record-golden.ts --broker 127.0.0.1:9092 --proxy-port 19092
//
// Starts Strata on a temporary directory (fixed cluster id, so metadata responses are stable between runs)
// with a recording TCP proxy in front of it: the broker advertises the proxy's address, so every connection a
// client opens, including those to the broker it learns from Metadata, passes through the proxy. Each client
// then runs a short scripted scenario; every request frame and the response frame with the same correlation id
// are written under test/fixtures/golden/<client>/ together with an index.json describing them. Scenario steps
// whose APIs the broker does not serve yet are skipped and the reason is written to index.json: re-run this
// script when the broker grows.
//
// The scenario runners are exported: test/integration/golden-clients.test.ts runs the same scenarios against a
// live broker without the proxy.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CompressionTypes, Kafka, logLevel } from 'kafkajs';
import { API_SCHEMAS, ApiKey, type ApiSchema } from '../src/protocol/generated/apis.js';
import { decodeRequestHeader, encodeRequestHeader } from '../src/protocol/generated/headers.js';
import { Reader } from '../src/protocol/reader.js';
import { Writer } from '../src/protocol/writer.js';
import { FrameReader } from '../src/network/frame.js';
import { compressionName, compressionOf, iterateBatches } from '../src/protocol/records/index.js';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** Where fixtures are written and read; STRATA_GOLDEN_DIR points both elsewhere (to compare recordings). */
export const GOLDEN_DIR = process.env.STRATA_GOLDEN_DIR ?? join(REPO, 'test/fixtures/golden');
/** Written to meta.properties before the first start, so responses carrying it are the same on every run. */
export const GOLDEN_CLUSTER_ID = 'GoldenStrataCluster0Aw';
export const GOLDEN_NODE_ID = 1;
/** The proxy's preferred port: Metadata responses carry it, so a fixed one keeps them identical between runs. */
export const GOLDEN_PROXY_PORT = 39092;

export const CLIENTS = ['kcat', 'confluent-kafka-python', 'kafka-python', 'kafkajs'] as const;
export type ClientName = (typeof CLIENTS)[number];

export const CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;
export type CodecName = (typeof CODECS)[number];

/** One topic per client, one partition each: produce steps append there, consume steps read it back. */
export const TOPIC: Record<ClientName, string> = {
  kcat: 'golden-kcat',
  'confluent-kafka-python': 'golden-confluent',
  'kafka-python': 'golden-kafka-python',
  kafkajs: 'golden-kafkajs',
};

/** Records per produce step: enough to make a batch worth compressing, few enough to keep fixtures small. */
export const RECORDS_PER_STEP = 3;

export interface GoldenRecord {
  readonly key: string;
  readonly value: string;
  /** CreateTime; every client but kcat (which always stamps the current time) sends it. */
  readonly timestamp: number;
}

/** 2024-01-01T00:00:00Z: fixed record timestamps keep the captures the same from one recording to the next. */
export const GOLDEN_TIMESTAMP = 1_704_067_200_000;

/** The records a produce step sends: deterministic, ~150 bytes each, repetitive enough for every codec to shrink. */
export function goldenRecords(client: ClientName, codec: string): GoldenRecord[] {
  return Array.from({ length: RECORDS_PER_STEP }, (_, i) => ({
    key: `${codec}-${i}`,
    value: `golden record ${i} from ${client} compressed with ${codec}; ${'abcdefgh'.repeat(12)}`,
    timestamp: GOLDEN_TIMESTAMP + i,
  }));
}

// ---- broker capabilities ---------------------------------------------------------------------------

/** api key → [min, max] the broker serves, from an ApiVersions v0 exchange on a fresh connection. */
export type BrokerApis = ReadonlyMap<number, readonly [number, number]>;

export function schemaOf(apiKey: number): ApiSchema | undefined {
  return API_SCHEMAS.find((s) => s.apiKey === apiKey);
}

export function apiName(apiKey: number): string {
  return schemaOf(apiKey)?.name ?? `Api${apiKey}`;
}

/** The APIs of `needed` the broker does not serve, by name (empty when all are there). */
export function missingApis(apis: BrokerApis, needed: readonly number[]): string[] {
  return needed.filter((k) => !apis.has(k)).map(apiName);
}

export async function probeBrokerApis(host: string, port: number): Promise<BrokerApis> {
  const w = new Writer();
  const slot = w.startFrame();
  encodeRequestHeader(w, 1, { requestApiKey: ApiKey.ApiVersions, requestApiVersion: 0, correlationId: 1, clientId: 'golden-probe' });
  schemaOf(ApiKey.ApiVersions)!.encodeRequest(w, 0, { clientSoftwareName: '', clientSoftwareVersion: '' });
  w.endFrame(slot);
  const frame = await new Promise<Buffer>((res, rej) => {
    const sock = connect({ host, port });
    const frames = new FrameReader({ maxFrameBytes: 16 << 20 });
    sock.setTimeout(10_000, () => sock.destroy(new Error('ApiVersions probe timed out')));
    sock.on('error', rej);
    sock.on('connect', () => sock.write(w.toBuffer()));
    sock.on('data', (chunk: Buffer) => {
      const got = frames.push(chunk);
      if (got.length > 0) {
        sock.end();
        res(got[0]!);
      }
    });
  });
  const r = new Reader(frame);
  r.int32('correlationId');
  const body = schemaOf(ApiKey.ApiVersions)!.decodeResponse(r, 0) as { errorCode: number; apiKeys: { apiKey: number; minVersion: number; maxVersion: number }[] };
  if (body.errorCode !== 0) throw new Error(`ApiVersions probe answered error ${body.errorCode}`);
  return new Map(body.apiKeys.map((k) => [k.apiKey, [k.minVersion, k.maxVersion] as const]));
}

// ---- child processes -------------------------------------------------------------------------------

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command asynchronously (the proxy lives in this process, so the event loop must keep turning). */
export function runProcess(cmd: string, args: readonly string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((res, rej) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      stderr += `\n[killed after ${opts.timeoutMs ?? 60_000} ms]`;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 60_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      rej(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      res({ code, stdout, stderr });
    });
    // A child that exits without reading its input (kcat -V) must not turn into an EPIPE crash here.
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });
}

/** Whether a client is installed (kafkajs is a dev dependency and always is). */
export async function clientAvailable(client: ClientName): Promise<boolean> {
  const probe = async (cmd: string, args: string[]): Promise<boolean> => {
    try {
      return (await runProcess(cmd, args, { timeoutMs: 20_000 })).code === 0;
    } catch {
      return false;
    }
  };
  switch (client) {
    case 'kcat':
      return probe('kcat', ['-V']);
    case 'confluent-kafka-python':
      return probe(PYTHON, ['-c', 'import confluent_kafka']);
    case 'kafka-python':
      return probe(PYTHON, ['-c', 'import kafka']);
    case 'kafkajs':
      return true;
  }
}

export async function clientVersion(client: ClientName): Promise<string> {
  switch (client) {
    case 'kcat': {
      const r = await runProcess('kcat', ['-V']);
      const m = /Version ([^\s]+) .*?librdkafka ([^\s]+)/.exec(r.stdout + r.stderr);
      return m === null ? 'kcat (version unknown)' : `kcat ${m[1]} (librdkafka ${m[2]})`;
    }
    case 'confluent-kafka-python': {
      const r = await runProcess(PYTHON, ['-c', 'import confluent_kafka as c; print(c.version()[0], c.libversion()[0])']);
      const [py, lib] = r.stdout.trim().split(' ');
      return `confluent-kafka-python ${py} (librdkafka ${lib})`;
    }
    case 'kafka-python': {
      const r = await runProcess(PYTHON, ['-c', 'import kafka; print(kafka.__version__)']);
      return `kafka-python ${r.stdout.trim()}`;
    }
    case 'kafkajs':
      return `kafkajs ${(createRequire(import.meta.url)('kafkajs/package.json') as { version: string }).version}`;
  }
}

// ---- scenarios -------------------------------------------------------------------------------------

export const PYTHON = '/usr/bin/python3';

export interface Step {
  readonly client: ClientName;
  /** Short name, unique per client; becomes part of each exchange's description. */
  readonly name: string;
  readonly description: string;
  /** APIs the step cannot succeed without (beyond ApiVersions/Metadata, which every step uses). */
  readonly requires: readonly number[];
  /** Whether the step needs its client's topic to exist beforehand. */
  readonly needsTopic: boolean;
  readonly run: (bootstrap: string) => Promise<StepOutput>;
}

export interface StepOutput {
  /** Whatever the client printed (JSON for the python and kafkajs steps, kcat's output otherwise). */
  readonly stdout: string;
}

class StepFailed extends Error {}

function checked(what: string, r: RunResult): StepOutput {
  if (r.code !== 0) throw new StepFailed(`${what} exited with ${r.code}: ${r.stderr.trim().slice(-2000)}`);
  return { stdout: r.stdout };
}

const kcatBase = (bootstrap: string): string[] => ['-b', bootstrap, '-X', 'client.id=golden-kcat'];

/** kcat's input for `-K :`: one `key:value` line per record. */
const kcatInput = (records: readonly GoldenRecord[]): string => records.map((r) => `${r.key}:${r.value}\n`).join('');

function kcatSteps(): Step[] {
  const client = 'kcat';
  const topic = TOPIC.kcat;
  const steps: Step[] = [
    {
      client,
      name: 'metadata',
      description: 'kcat -L: cluster metadata, all topics',
      requires: [ApiKey.Metadata],
      needsTopic: false,
      run: async (b) => checked('kcat -L', await runProcess('kcat', ['-L', '-J', ...kcatBase(b)], { timeoutMs: 30_000 })),
    },
  ];
  for (const codec of CODECS) {
    steps.push({
      client,
      name: `produce-${codec}`,
      description: `kcat -P -z ${codec}: ${RECORDS_PER_STEP} keyed records to ${topic}[0]`,
      requires: [ApiKey.Produce],
      needsTopic: true,
      run: async (b) =>
        checked(
          `kcat -P -z ${codec}`,
          await runProcess('kcat', ['-P', ...kcatBase(b), '-t', topic, '-p', '0', '-z', codec, '-K', ':', '-X', 'linger.ms=100'], {
            input: kcatInput(goldenRecords(client, codec)),
            timeoutMs: 30_000,
          }),
        ),
    });
  }
  steps.push({
    client,
    name: 'consume',
    description: `kcat -C -X check.crcs=true: ${topic}[0] from the beginning to the end`,
    requires: [ApiKey.Fetch, ApiKey.ListOffsets],
    needsTopic: true,
    run: async (b) => kcatConsume(b, topic),
  });
  steps.push({
    client,
    name: 'consume-group',
    description: `kcat -G ${KCAT_GROUP}: ${topic} from the beginning to the end through a consumer group`,
    requires: GROUP_CONSUMER_APIS,
    needsTopic: true,
    run: async (b) => kcatConsumeGroup(b, topic),
  });
  return steps;
}

/** What a consumer group member needs besides Metadata. */
export const GROUP_CONSUMER_APIS: readonly number[] = [
  ApiKey.FindCoordinator,
  ApiKey.JoinGroup,
  ApiKey.SyncGroup,
  ApiKey.Heartbeat,
  ApiKey.LeaveGroup,
  ApiKey.OffsetFetch,
  ApiKey.OffsetCommit,
  ApiKey.Fetch,
  ApiKey.ListOffsets,
];

export const KCAT_GROUP = 'golden-kcat-group';

/** kcat's `-f` format for the consume steps; `parseKcatRecords` reads it back. */
const KCAT_FORMAT = '%o|%T|%k|%s\\n';

export function parseKcatRecords(stdout: string): ConsumedRecord[] {
  return stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const [offset, timestamp, key, ...value] = l.split('|');
      return { offset: Number(offset), timestamp: Number(timestamp), key, value: value.join('|') };
    });
}

/** Reads `topic` from the beginning to its end as a member of a librdkafka consumer group (offsets committed on close). */
export async function kcatConsumeGroup(bootstrap: string, topic: string): Promise<StepOutput> {
  const args = ['-G', KCAT_GROUP, topic, ...kcatBase(bootstrap), '-o', 'beginning', '-e', '-q', '-X', 'check.crcs=true', '-f', KCAT_FORMAT];
  return checked('kcat -G', await runProcess('kcat', args, { timeoutMs: 60_000 }));
}

/** Consumes a whole partition with kcat, librdkafka verifying every batch's CRC; prints `offset|timestamp|key|value`. */
export async function kcatConsume(bootstrap: string, topic: string): Promise<StepOutput> {
  const args = ['-C', ...kcatBase(bootstrap), '-t', topic, '-p', '0', '-o', 'beginning', '-e', '-q', '-X', 'check.crcs=true', '-f', KCAT_FORMAT];
  return checked('kcat -C', await runProcess('kcat', args, { timeoutMs: 30_000 }));
}

const CONFLUENT_LIST_TOPICS = `
import json, sys
from confluent_kafka.admin import AdminClient
md = AdminClient({"bootstrap.servers": sys.argv[1], "client.id": "golden-confluent"}).list_topics(timeout=15)
print(json.dumps({"cluster_id": md.cluster_id, "controller_id": md.controller_id,
  "brokers": [[b.id, b.host, b.port] for b in md.brokers.values()], "topics": sorted(md.topics)}))
`;

const CONFLUENT_PRODUCE = `
import json, sys
from confluent_kafka import Producer
cfg = json.loads(sys.argv[2]); records = json.loads(sys.argv[3]); topic = sys.argv[4]
cfg.update({"bootstrap.servers": sys.argv[1], "client.id": "golden-confluent", "linger.ms": 100})
p = Producer(cfg)
delivered, errors = [], []
def report(err, msg):
    if err is not None: errors.append(str(err))
    else: delivered.append(msg.offset())
for r in records:
    p.produce(topic, key=r["key"], value=r["value"], partition=0, timestamp=r["timestamp"], on_delivery=report)
left = p.flush(30)
print(json.dumps({"offsets": delivered, "errors": errors, "undelivered": left}))
sys.exit(0 if not errors and left == 0 else 1)
`;

function confluentSteps(): Step[] {
  const client = 'confluent-kafka-python';
  const topic = TOPIC[client];
  const produce = (name: string, description: string, requires: number[], cfg: Record<string, unknown>, codec: string): Step => ({
    client,
    name,
    description,
    requires,
    needsTopic: true,
    run: async (b) =>
      checked(
        `confluent ${name}`,
        await runProcess(PYTHON, ['-c', CONFLUENT_PRODUCE, b, JSON.stringify(cfg), JSON.stringify(goldenRecords(client, codec)), topic], { timeoutMs: 60_000 }),
      ),
  });
  return [
    {
      client,
      name: 'list-topics',
      description: 'AdminClient.list_topics()',
      requires: [ApiKey.Metadata],
      needsTopic: false,
      run: async (b) => checked('confluent list_topics', await runProcess(PYTHON, ['-c', CONFLUENT_LIST_TOPICS, b], { timeoutMs: 30_000 })),
    },
    ...CODECS.map((codec) =>
      produce(`produce-${codec}`, `Producer compression.type=${codec}: ${RECORDS_PER_STEP} records to ${topic}[0]`, [ApiKey.Produce], { 'compression.type': codec }, codec),
    ),
    produce(
      'produce-idempotent',
      `idempotent Producer (enable.idempotence=true, lz4): ${RECORDS_PER_STEP} records to ${topic}[0]`,
      [ApiKey.Produce, ApiKey.InitProducerId],
      { 'enable.idempotence': true, 'compression.type': 'lz4' },
      'idempotent',
    ),
  ];
}

const KAFKA_PYTHON_METADATA = `
import json, sys
from kafka import KafkaAdminClient
a = KafkaAdminClient(bootstrap_servers=sys.argv[1], client_id="golden-kafka-python", request_timeout_ms=10000)
d = a.describe_cluster()
a.close()
print(json.dumps({"cluster_id": d["cluster_id"], "controller_id": d["controller_id"],
  "brokers": [[b["node_id"], b["host"], b["port"]] for b in d["brokers"]]}))
`;

const KAFKA_PYTHON_PRODUCE = `
import json, sys
from kafka import KafkaProducer
codec = sys.argv[2]; records = json.loads(sys.argv[3]); topic = sys.argv[4]
p = KafkaProducer(bootstrap_servers=sys.argv[1], client_id="golden-kafka-python", linger_ms=100,
    compression_type=None if codec == "none" else codec, request_timeout_ms=10000)
futures = [p.send(topic, key=r["key"].encode(), value=r["value"].encode(), partition=0, timestamp_ms=r["timestamp"])
           for r in records]
p.flush(30)
offsets = [f.get(timeout=30).offset for f in futures]
p.close(10)
print(json.dumps({"offsets": offsets}))
`;

/** kafka-python's optional codecs need python modules the test machine lacks; none and gzip are built in. */
export const KAFKA_PYTHON_CODECS = ['none', 'gzip'] as const;

function kafkaPythonSteps(): Step[] {
  const client = 'kafka-python';
  const topic = TOPIC[client];
  return [
    {
      client,
      name: 'metadata',
      description: 'KafkaAdminClient bootstrap and describe_cluster()',
      requires: [ApiKey.Metadata],
      needsTopic: false,
      run: async (b) => checked('kafka-python describe_cluster', await runProcess(PYTHON, ['-c', KAFKA_PYTHON_METADATA, b], { timeoutMs: 30_000 })),
    },
    ...KAFKA_PYTHON_CODECS.map(
      (codec): Step => ({
        client,
        name: `produce-${codec}`,
        description: `KafkaProducer compression_type=${codec}: ${RECORDS_PER_STEP} records to ${topic}[0]`,
        requires: [ApiKey.Produce],
        needsTopic: true,
        run: async (b) =>
          checked(
            `kafka-python produce ${codec}`,
            await runProcess(PYTHON, ['-c', KAFKA_PYTHON_PRODUCE, b, codec, JSON.stringify(goldenRecords(client, codec)), topic], { timeoutMs: 60_000 }),
          ),
      }),
    ),
  ];
}

/** kafkajs ships gzip only; the other codecs need plugins a user would have to install. */
export const KAFKAJS_CODECS = ['none', 'gzip'] as const;

const kafkajsClient = (bootstrap: string): Kafka =>
  new Kafka({ clientId: 'golden-kafkajs', brokers: [bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 2 } });

function kafkajsSteps(): Step[] {
  const client = 'kafkajs';
  const topic = TOPIC[client];
  return [
    {
      client,
      name: 'describe-cluster',
      description: 'admin.describeCluster()',
      requires: [ApiKey.Metadata],
      needsTopic: false,
      run: async (b) => {
        const admin = kafkajsClient(b).admin();
        await admin.connect();
        try {
          return { stdout: JSON.stringify(await admin.describeCluster()) };
        } finally {
          await admin.disconnect();
        }
      },
    },
    ...KAFKAJS_CODECS.map(
      (codec): Step => ({
        client,
        name: `produce-${codec}`,
        description: `producer.send compression=${codec}: ${RECORDS_PER_STEP} records to ${topic}[0]`,
        requires: [ApiKey.Produce],
        needsTopic: true,
        run: async (b) => {
          const producer = kafkajsClient(b).producer({ allowAutoTopicCreation: false });
          await producer.connect();
          try {
            const res = await producer.send({
              topic,
              acks: -1,
              compression: codec === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None,
              messages: goldenRecords(client, codec).map((r) => ({ key: r.key, value: r.value, partition: 0, timestamp: String(r.timestamp) })),
            });
            return { stdout: JSON.stringify(res) };
          } finally {
            await producer.disconnect();
          }
        },
      }),
    ),
    {
      client,
      name: 'consume-group',
      description: `consumer group ${KAFKAJS_GROUP}: subscribe to ${topic}, read it from the beginning to the end, commit`,
      requires: GROUP_CONSUMER_APIS,
      needsTopic: true,
      run: async (b) => ({ stdout: JSON.stringify(await kafkajsConsumeGroup(b, topic)) }),
    },
  ];
}

export const KAFKAJS_GROUP = 'golden-kafkajs-group';

export interface ConsumedRecord {
  readonly offset: number;
  readonly timestamp: number;
  readonly key: string | undefined;
  readonly value: string | undefined;
}

/**
 * Reads partition 0 of `topic` through a kafkajs consumer group up to the end the broker reports when the
 * step starts, then commits and leaves: JoinGroup/SyncGroup carry kafkajs's own consumer protocol bytes.
 */
export async function kafkajsConsumeGroup(bootstrap: string, topic: string): Promise<ConsumedRecord[]> {
  const kafka = kafkajsClient(bootstrap);
  const admin = kafka.admin();
  await admin.connect();
  const end = await admin.fetchTopicOffsets(topic).finally(() => admin.disconnect());
  const high = Number(end.find((p) => p.partition === 0)?.high ?? 0);
  if (high === 0) return [];
  const consumer = kafka.consumer({ groupId: KAFKAJS_GROUP, maxWaitTimeInMs: 200, retry: { retries: 2 } });
  const got: ConsumedRecord[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((res, rej) => {
      const timer = setTimeout(() => rej(new StepFailed(`kafkajs consumer read ${got.length} of ${high} records in 30 s`)), 30_000);
      consumer
        .run({
          autoCommit: false,
          eachMessage: async ({ partition, message }) => {
            if (partition !== 0) return;
            got.push({ offset: Number(message.offset), timestamp: Number(message.timestamp), key: message.key?.toString(), value: message.value?.toString() });
            if (Number(message.offset) === high - 1) {
              clearTimeout(timer);
              res();
            }
          },
        })
        .catch(rej);
    });
    await consumer.commitOffsets([{ topic, partition: 0, offset: String(high) }]);
  } finally {
    await consumer.disconnect();
  }
  return got;
}

export function scenario(client: ClientName): Step[] {
  switch (client) {
    case 'kcat':
      return kcatSteps();
    case 'confluent-kafka-python':
      return confluentSteps();
    case 'kafka-python':
      return kafkaPythonSteps();
    case 'kafkajs':
      return kafkajsSteps();
  }
}

/** Creates the per-client topics (1 partition, replication factor 1) through CreateTopics; existing ones are fine. */
export async function createGoldenTopics(bootstrap: string, topics: readonly string[]): Promise<void> {
  const admin = new Kafka({ clientId: 'golden-setup', brokers: [bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 2 } }).admin();
  await admin.connect();
  try {
    await admin.createTopics({ waitForLeaders: true, topics: topics.map((topic) => ({ topic, numPartitions: 1, replicationFactor: 1 })) });
  } finally {
    await admin.disconnect();
  }
}

// ---- the recording proxy ---------------------------------------------------------------------------

export interface Exchange {
  readonly client: ClientName;
  readonly step: string;
  /** 1-based number of the client's connection (within the whole recording) the request came on. */
  readonly connection: number;
  readonly request: Buffer;
  response: Buffer | null;
  readonly apiKey: number;
  readonly apiVersion: number;
  readonly correlationId: number;
  readonly clientId: string | null;
}

/**
 * A TCP proxy that forwards bytes untouched in both directions and, while a step is being recorded, splits
 * each direction into frames and pairs every request with its response by correlation id.
 */
export class RecordingProxy {
  readonly #server: Server;
  #upstream: { host: string; port: number };
  readonly #sockets = new Set<Socket>();
  #current: { client: ClientName; step: string } | null = null;
  readonly #connections = new Map<ClientName, number>();
  readonly exchanges: Exchange[] = [];

  private constructor(server: Server, upstream: { host: string; port: number }) {
    this.#server = server;
    this.#upstream = upstream;
  }

  /** Listens on 127.0.0.1 (port 0: any free port); the upstream may be set later, before the first connection. */
  static async listen(upstream: { host: string; port: number }, port = 0): Promise<RecordingProxy> {
    const server = createServer();
    const proxy = new RecordingProxy(server, upstream);
    server.on('connection', (s) => proxy.#accept(s));
    await new Promise<void>((res, rej) => {
      server.once('error', rej);
      server.listen(port, '127.0.0.1', res);
    });
    return proxy;
  }

  get port(): number {
    const a = this.#server.address();
    if (a === null || typeof a === 'string') throw new Error('proxy not listening');
    return a.port;
  }

  setUpstream(upstream: { host: string; port: number }): void {
    this.#upstream = upstream;
  }

  /** Records connections opened from now on, attributing their requests to this step until the next call. */
  record(client: ClientName, step: string): void {
    this.#current = { client, step };
  }

  /** Connections opened from now on pass through unrecorded (set-up traffic such as topic creation). */
  pause(): void {
    this.#current = null;
  }

  #accept(down: Socket): void {
    const label = this.#current;
    const up = connect(this.#upstream);
    this.#sockets.add(down).add(up);
    const forget = (): void => {
      this.#sockets.delete(down);
      this.#sockets.delete(up);
    };
    down.on('close', () => {
      up.end();
      forget();
    });
    up.on('close', () => {
      down.end();
      forget();
    });
    down.on('error', () => up.destroy());
    up.on('error', () => down.destroy());
    down.pipe(up);
    up.pipe(down);
    if (label === null) return;
    const connection = (this.#connections.get(label.client) ?? 0) + 1;
    this.#connections.set(label.client, connection);
    const pending = new Map<number, Exchange>();
    const requests = new FrameReader({ maxFrameBytes: 1 << 30 });
    const responses = new FrameReader({ maxFrameBytes: 1 << 30 });
    down.on('data', (chunk: Buffer) => {
      for (const frame of requests.push(Buffer.from(chunk))) {
        // Attributed per request, not per connection: a client kept alive across steps carries several on one.
        const now = this.#current ?? label;
        const ex = this.#parseRequest(frame, now.client, now.step, connection);
        if (ex === null) continue;
        this.exchanges.push(ex);
        pending.set(ex.correlationId, ex);
      }
    });
    up.on('data', (chunk: Buffer) => {
      for (const frame of responses.push(Buffer.from(chunk))) {
        if (frame.length < 4) continue;
        const ex = pending.get(frame.readInt32BE(0));
        if (ex === undefined) continue;
        pending.delete(ex.correlationId);
        ex.response = Buffer.from(frame);
      }
    });
  }

  #parseRequest(frame: Buffer, client: ClientName, step: string, connection: number): Exchange | null {
    if (frame.length < 8) return null;
    const apiKey = frame.readInt16BE(0);
    const apiVersion = frame.readInt16BE(2);
    const schema = schemaOf(apiKey);
    let clientId: string | null = null;
    if (schema !== undefined && apiVersion >= 0) {
      try {
        clientId = decodeRequestHeader(new Reader(frame), schema.requestHeaderVersion(apiVersion)).clientId;
      } catch {
        // A version our schema does not know: the header's v1 prefix still names the client.
        clientId = decodeRequestHeader(new Reader(frame), 1).clientId;
      }
    }
    return { client, step, connection, request: Buffer.from(frame), response: null, apiKey, apiVersion, correlationId: frame.readInt32BE(4), clientId };
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((res) => this.#server.close(() => res()));
  }
}

// ---- starting the broker -------------------------------------------------------------------------

export interface GoldenBroker {
  readonly child: ChildProcess;
  /** The port the broker bound (the advertised one is the proxy's). */
  readonly port: number;
  stop(): Promise<void>;
}

/** `strata start` advertising `advertisedPort` (the proxy) while listening on a free port of its own. */
export async function startGoldenBroker(dataDir: string, advertisedPort: number): Promise<GoldenBroker> {
  await mkdir(dataDir, { recursive: true });
  await writeFile(join(dataDir, 'meta.properties'), `cluster.id=${GOLDEN_CLUSTER_ID}\nnode.id=${GOLDEN_NODE_ID}\nversion=1\n`);
  const args = [
    '--import',
    'tsx',
    join(REPO, 'src/cli/main.ts'),
    'start',
    '--data-dir',
    dataDir,
    '--node-id',
    String(GOLDEN_NODE_ID),
    '--override',
    'listeners=PLAINTEXT://127.0.0.1:0',
    '--override',
    `advertised.listeners=PLAINTEXT://127.0.0.1:${advertisedPort}`,
    // One member per group here: waiting 3 s for others before the first rebalance changes no byte captured.
    '--override',
    'group.initial.rebalance.delay.ms=0',
  ];
  const child = spawn(process.execPath, args, { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  const port = await new Promise<number>((res, rej) => {
    let bound: number | undefined;
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let entry: { msg?: string; port?: number };
      try {
        entry = JSON.parse(line) as { msg?: string; port?: number };
      } catch {
        return;
      }
      if (entry.msg === 'Awaiting socket connections' && typeof entry.port === 'number') bound = entry.port;
      if (entry.msg === 'Strata started') {
        if (bound === undefined) rej(new Error('strata started without logging its bound port'));
        else res(bound);
      }
    });
    void exited.then(() => rej(new Error(`strata exited before starting: ${stderr}`)));
  });
  return {
    child,
    port,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

// ---- writing fixtures ------------------------------------------------------------------------------

export interface IndexEntry {
  readonly seq: number;
  /** File name stem: `<stem>.req.bin` (and `<stem>.res.bin` unless `responseBytes` is null). */
  readonly file: string;
  readonly step: string;
  readonly connection: number;
  readonly apiKey: number;
  readonly apiName: string;
  readonly apiVersion: number;
  readonly correlationId: number;
  readonly clientId: string | null;
  /** Frame sizes without the 4-byte size prefix (the files hold exactly these bytes). */
  readonly requestBytes: number;
  readonly responseBytes: number | null;
  readonly description: string;
}

export interface StepNote {
  readonly step: string;
  readonly description: string;
  readonly status: 'recorded' | 'skipped' | 'failed';
  readonly reason?: string;
}

export interface GoldenIndex {
  readonly client: ClientName;
  readonly clientVersion: string;
  readonly recordedWith: string;
  /** The port of the proxy, which the broker advertised (so Metadata responses name it). */
  readonly proxyPort: number;
  /** The APIs (name → [min, max] version) the broker advertised when these were recorded. */
  readonly brokerApis: Record<string, readonly [number, number]>;
  readonly steps: StepNote[];
  readonly exchanges: IndexEntry[];
}

/** A one-line summary of what a request asks for, from our own decoding of it. */
export function summarize(apiKey: number, apiVersion: number, request: Buffer): string {
  const schema = schemaOf(apiKey);
  if (schema === undefined) return `unknown api ${apiKey}`;
  try {
    const r = new Reader(request);
    decodeRequestHeader(r, schema.requestHeaderVersion(apiVersion));
    const body = schema.decodeRequest(r, apiVersion) as Record<string, unknown>;
    switch (apiKey) {
      case ApiKey.ApiVersions: {
        const b = body as { clientSoftwareName: string; clientSoftwareVersion: string };
        return apiVersion >= 3 ? `client software ${b.clientSoftwareName} ${b.clientSoftwareVersion}` : 'no client software fields';
      }
      case ApiKey.Metadata: {
        const t = (body as { topics: { name: string | null }[] | null }).topics;
        // v0 has no null: an empty list asks for every topic there.
        if (t === null || (t.length === 0 && apiVersion === 0)) return 'all topics';
        return t.length === 0 ? 'no topics (brokers only)' : `topics ${t.map((x) => x.name).join(', ')}`;
      }
      case ApiKey.Produce: {
        const b = body as { acks: number; transactionalId: string | null; topicData: { name: string; partitionData: { index: number; records: Buffer | null }[] }[] };
        const parts = b.topicData.flatMap((t) =>
          t.partitionData.map((p) => {
            const batches = p.records === null ? [] : [...iterateBatches(p.records)];
            const codecs = [...new Set(batches.map((x) => compressionName(compressionOf(x.header.attributes))))].join('/');
            const count = batches.reduce((n, x) => n + x.header.recordCount, 0);
            const pid = batches[0]?.header.producerId ?? -1;
            return `${t.name}[${p.index}] ${batches.length} batch(es), ${count} record(s), ${codecs || 'none'}${pid >= 0 ? `, producerId ${pid}` : ''}`;
          }),
        );
        return `acks=${b.acks}: ${parts.join('; ')}`;
      }
      case ApiKey.Fetch:
      case ApiKey.ListOffsets: {
        const topics = (body as { topics: { topic?: string; name?: string }[] }).topics;
        return `topics ${topics.map((t) => t.topic ?? t.name ?? '?').join(', ')}`;
      }
      case ApiKey.FindCoordinator: {
        const b = body as { key: string; keyType: number; coordinatorKeys: string[] };
        const keys = apiVersion >= 4 ? b.coordinatorKeys : [b.key];
        return `${b.keyType === 0 ? 'group' : 'transaction'} coordinator for ${keys.join(', ')}`;
      }
      case ApiKey.JoinGroup: {
        const b = body as { groupId: string; memberId: string; protocolType: string; protocols: { name: string }[] };
        return `group ${b.groupId} (${b.protocolType}: ${b.protocols.map((x) => x.name).join(', ')}), ${b.memberId === '' ? 'no member id yet' : 'with its member id'}`;
      }
      case ApiKey.SyncGroup: {
        const b = body as { groupId: string; generationId: number; assignments: unknown[] };
        return `group ${b.groupId} generation ${b.generationId}, ${b.assignments.length} assignment(s) (${b.assignments.length > 0 ? 'leader' : 'follower'})`;
      }
      case ApiKey.OffsetFetch: {
        // v8+ batches groups in `groups` and leaves groupId empty.
        const b = body as { groupId: string; groups: { groupId: string }[] };
        return `group ${apiVersion >= 8 ? b.groups.map((g) => g.groupId).join(', ') : b.groupId}`;
      }
      case ApiKey.Heartbeat:
      case ApiKey.LeaveGroup:
        return `group ${(body as { groupId: string }).groupId}`;
      case ApiKey.OffsetCommit: {
        const b = body as { groupId: string; topics: { name: string; partitions: { partitionIndex: number; committedOffset: bigint }[] }[] };
        const commits = b.topics.flatMap((t) => t.partitions.map((p) => `${t.name}[${p.partitionIndex}]=${p.committedOffset}`));
        return `group ${b.groupId}: ${commits.join(', ')}`;
      }
      case ApiKey.InitProducerId:
        return `transactionalId ${String((body as { transactionalId: string | null }).transactionalId)}`;
      default:
        return schema.name;
    }
  } catch (err) {
    return `does not decode: ${(err as Error).message}`;
  }
}

async function writeClientFixtures(index: GoldenIndex, exchanges: readonly Exchange[]): Promise<void> {
  const dir = join(GOLDEN_DIR, index.client);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  for (const [i, ex] of exchanges.entries()) {
    const name = apiName(ex.apiKey);
    const file = `${String(i + 1).padStart(3, '0')}-${name}-v${ex.apiVersion}`;
    await writeFile(join(dir, `${file}.req.bin`), ex.request);
    if (ex.response !== null) await writeFile(join(dir, `${file}.res.bin`), ex.response);
    const step = index.steps.find((s) => s.step === ex.step);
    index.exchanges.push({
      seq: i + 1,
      file,
      step: ex.step,
      connection: ex.connection,
      apiKey: ex.apiKey,
      apiName: name,
      apiVersion: ex.apiVersion,
      correlationId: ex.correlationId,
      clientId: ex.clientId,
      requestBytes: ex.request.length,
      responseBytes: ex.response?.length ?? null,
      description: `${step?.description ?? ex.step} — ${summarize(ex.apiKey, ex.apiVersion, ex.request)}`,
    });
  }
  await writeFile(join(dir, 'index.json'), `${JSON.stringify(index, null, 2)}\n`);
}

// ---- main ------------------------------------------------------------------------------------------

/** Requests may still be answered after a client exits (acks, closes): give the proxy a moment to see them. */
const settle = (ms = 300): Promise<void> => new Promise((res) => setTimeout(res, ms));

async function recordClient(client: ClientName, proxy: RecordingProxy, apis: BrokerApis, topicsReady: string | null): Promise<GoldenIndex> {
  const bootstrap = `127.0.0.1:${proxy.port}`;
  const index: GoldenIndex = {
    client,
    clientVersion: await clientVersion(client),
    recordedWith: 'node --import tsx scripts/record-golden.ts',
    proxyPort: proxy.port,
    brokerApis: Object.fromEntries([...apis].sort(([a], [b]) => a - b).map(([k, range]) => [apiName(k), range])),
    steps: [],
    exchanges: [],
  };
  const first = proxy.exchanges.length;
  let failedProduce = false;
  for (const step of scenario(client)) {
    const missing = missingApis(apis, step.requires);
    if (missing.length > 0) {
      index.steps.push({ step: step.name, description: step.description, status: 'skipped', reason: `broker does not serve ${missing.join(', ')}` });
      continue;
    }
    if (step.needsTopic && topicsReady !== null) {
      index.steps.push({ step: step.name, description: step.description, status: 'skipped', reason: topicsReady });
      continue;
    }
    if (step.name.startsWith('consume') && failedProduce) {
      index.steps.push({ step: step.name, description: step.description, status: 'skipped', reason: 'a produce step failed' });
      continue;
    }
    proxy.record(client, step.name);
    try {
      await step.run(bootstrap);
      index.steps.push({ step: step.name, description: step.description, status: 'recorded' });
      process.stderr.write(`  ${client} ${step.name}: recorded\n`);
    } catch (err) {
      if (step.name.startsWith('produce')) failedProduce = true;
      const reason = (err as Error).message.slice(0, 500);
      index.steps.push({ step: step.name, description: step.description, status: 'failed', reason });
      process.stderr.write(`  ${client} ${step.name}: FAILED ${reason}\n`);
    }
    await settle();
    proxy.pause();
  }
  await writeClientFixtures(index, proxy.exchanges.slice(first));
  return index;
}

function option(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const only = option('--only')?.split(',') ?? [...CLIENTS];
  const clients = CLIENTS.filter((c) => only.includes(c));
  // --broker host:port records against a broker that is already running (e.g. Apache Kafka, to compare):
  // it must advertise 127.0.0.1:<--proxy-port> so that clients come back through the proxy.
  const external = option('--broker');
  const proxyPort = Number(option('--proxy-port') ?? 0);
  if (external !== undefined && proxyPort === 0) throw new Error('--broker needs --proxy-port (the port the broker advertises)');
  const dataDir = await mkdtemp(join(tmpdir(), 'strata-golden-'));
  const upstream0 = { host: '127.0.0.1', port: 0 };
  const proxy =
    proxyPort !== 0
      ? await RecordingProxy.listen(upstream0, proxyPort)
      : await RecordingProxy.listen(upstream0, GOLDEN_PROXY_PORT).catch(() => RecordingProxy.listen(upstream0, 0));
  if (proxyPort === 0 && proxy.port !== GOLDEN_PROXY_PORT) process.stderr.write(`port ${GOLDEN_PROXY_PORT} is taken: Metadata responses will differ from the last recording\n`);
  let broker: GoldenBroker | undefined;
  try {
    let upstream: { host: string; port: number };
    if (external === undefined) {
      broker = await startGoldenBroker(dataDir, proxy.port);
      upstream = { host: '127.0.0.1', port: broker.port };
    } else {
      const at = external.lastIndexOf(':');
      upstream = { host: external.slice(0, at), port: Number(external.slice(at + 1)) };
    }
    proxy.setUpstream(upstream);
    const apis = await probeBrokerApis(upstream.host, upstream.port);
    process.stderr.write(`broker serves: ${[...apis.keys()].map(apiName).join(', ')}\n`);
    // Topic creation goes through the proxy too (the broker advertises it) but is not recorded.
    let topicsReady: string | null = null;
    const missing = missingApis(apis, [ApiKey.CreateTopics]);
    if (missing.length > 0) topicsReady = `broker does not serve ${missing.join(', ')} (needed to create ${Object.values(TOPIC).join(', ')})`;
    else {
      try {
        await createGoldenTopics(`127.0.0.1:${proxy.port}`, clients.map((c) => TOPIC[c]));
      } catch (err) {
        topicsReady = `creating the topics failed: ${(err as Error).message}`;
      }
    }
    for (const client of clients) {
      if (!(await clientAvailable(client))) {
        process.stderr.write(`${client}: not installed, fixtures left as they are (run scripts/install-test-deps.sh)\n`);
        continue;
      }
      process.stderr.write(`${client}:\n`);
      const index = await recordClient(client, proxy, apis, topicsReady);
      const kb = index.exchanges.reduce((n, e) => n + e.requestBytes + (e.responseBytes ?? 0), 0) / 1024;
      process.stderr.write(`  ${index.exchanges.length} exchanges, ${kb.toFixed(1)} KiB\n`);
    }
  } finally {
    await proxy.close();
    await broker?.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`record-golden: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  });
}
