// Real clients against the whole single node over a real socket: kcat (librdkafka), kafkajs,
// kafka-python and confluent-kafka-python produce and consume through `StrataNode`, with topics created
// through CreateTopics.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { Kafka, logLevel } from 'kafkajs';
import { parseBrokerConfig } from '../../src/config/broker-config.js';
import { StrataNode } from '../../src/server/node.js';
import { KafkaClient } from '../../src/client/kafka-client.js';

const run = promisify(execFile);
const NODE_ID = 1;

/** Whether a client program is installed (the tests needing a missing one skip, naming it). */
async function has(cmd: string, args: string[]): Promise<boolean> {
  try {
    await run(cmd, args);
    return true;
  } catch {
    return false;
  }
}

/** Runs a Python snippet and returns what it printed. */
async function python(code: string): Promise<string> {
  const { stdout } = await run('/usr/bin/python3', ['-c', code], { timeout: 60_000 });
  return stdout;
}

interface Harness {
  readonly port: number;
  /** Creates a topic through CreateTopics, as any admin client would. */
  createTopic(name: string, partitions: number, configs?: Record<string, string>): Promise<void>;
  close(): Promise<void>;
}

async function start(): Promise<Harness> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'strata-datapath-'));
  const log = pino({ level: 'silent' });
  const config = parseBrokerConfig({
    'node.id': String(NODE_ID),
    'log.dirs': dir,
    listeners: 'PLAINTEXT://127.0.0.1:0',
  });
  const node = await StrataNode.start({ config, log });
  const port = node.boundPort('PLAINTEXT')!;
  const admin = new KafkaClient({ bootstrapServers: `127.0.0.1:${port}` });
  return {
    port,
    async createTopic(name, partitions, configs = {}) {
      const [result] = await admin.createTopics([{ name, numPartitions: partitions, configs }]);
      assert.equal(result?.error, null, `creating ${name}`);
    },
    async close() {
      await admin.close();
      await node.stop(5000);
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

test('kcat produces (every codec) and consumes back', { timeout: 120_000 }, async (t) => {
  if (!(await has('kcat', ['-V']))) return t.skip('kcat not installed');
  const h = await start();
  try {
    await h.createTopic('kc', 1);
    const broker = `127.0.0.1:${h.port}`;
    const codecs = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
    for (const codec of codecs) {
      const input = [1, 2, 3].map((i) => `${codec}-k${i}:${codec}-v${i}`).join('\n') + '\n';
      const child = execFile('kcat', ['-b', broker, '-P', '-t', 'kc', '-p', '0', '-K', ':', '-z', codec, '-X', 'acks=all']);
      child.stdin!.end(input);
      await new Promise<void>((resolve, reject) => child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`kcat -P -z ${codec} exited ${code}`)))));
    }
    const { stdout } = await run('kcat', ['-b', broker, '-C', '-t', 'kc', '-p', '0', '-o', 'beginning', '-e', '-f', '%o %k=%s\\n']);
    const lines = stdout.trim().split('\n');
    const expected = codecs.flatMap((c, ci) => [1, 2, 3].map((i) => `${ci * 3 + i - 1} ${c}-k${i}=${c}-v${i}`));
    assert.deepEqual(lines, expected);
    const { stdout: tail } = await run('kcat', ['-b', broker, '-C', '-t', 'kc', '-p', '0', '-o', '-2', '-e', '-f', '%o\\n']);
    assert.deepEqual(tail.trim().split('\n'), ['13', '14'], 'a relative offset goes through ListOffsets');
  } finally {
    await h.close();
  }
});

test('kafkajs produces to several partitions with acks=all and lists their offsets', { timeout: 120_000 }, async () => {
  const h = await start();
  try {
    await h.createTopic('kj', 3);
    const kafka = new Kafka({ clientId: 'it', brokers: [`127.0.0.1:${h.port}`], logLevel: logLevel.NOTHING, retry: { retries: 2 } });
    const plain = kafka.producer();
    await plain.connect();
    const sent = await plain.send({
      topic: 'kj',
      acks: -1,
      messages: Array.from({ length: 9 }, (_, i) => ({ partition: i % 3, key: `k${i}`, value: `v${i}` })),
    });
    await plain.disconnect();
    assert.deepEqual(sent.map((r) => [r.partition, r.errorCode, r.baseOffset]).sort(), [[0, 0, '0'], [1, 0, '0'], [2, 0, '0']]);
    const admin = kafka.admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets('kj');
    await admin.disconnect();
    assert.deepEqual(offsets.map((o) => [o.partition, o.low, o.high]).sort(), [[0, '0', '3'], [1, '0', '3'], [2, '0', '3']]);
  } finally {
    await h.close();
  }
});

test('kafka-python produces with gzip and consumes back without a group', { timeout: 120_000 }, async (t) => {
  if (!(await has('/usr/bin/python3', ['-c', 'import kafka']))) return t.skip('kafka-python not installed');
  const h = await start();
  try {
    await h.createTopic('kp', 2);
    const out = await python(`
from kafka import KafkaProducer, KafkaConsumer, TopicPartition
b = '127.0.0.1:${h.port}'
p = KafkaProducer(bootstrap_servers=b, compression_type='gzip', acks='all')
offs = [p.send('kp', key=b'k%d' % i, value=b'v%d' % i, partition=i % 2).get(timeout=20).offset for i in range(6)]
p.flush(); p.close()
c = KafkaConsumer(bootstrap_servers=b, group_id=None, enable_auto_commit=False, consumer_timeout_ms=3000)
tps = [TopicPartition('kp', 0), TopicPartition('kp', 1)]
c.assign(tps); c.seek_to_beginning(*tps)
got = sorted((m.partition, m.offset, m.key.decode(), m.value.decode()) for m in c)
ends = c.end_offsets(tps)
c.close()
print(offs); print(got); print(sorted(ends.values()))
`);
    const [offs, got, ends] = out.trim().split('\n');
    assert.equal(offs, '[0, 0, 1, 1, 2, 2]');
    assert.equal(got, "[(0, 0, 'k0', 'v0'), (0, 1, 'k2', 'v2'), (0, 2, 'k4', 'v4'), (1, 0, 'k1', 'v1'), (1, 1, 'k3', 'v3'), (1, 2, 'k5', 'v5')]");
    assert.equal(ends, '[3, 3]');
  } finally {
    await h.close();
  }
});

test('confluent-kafka-python: lz4 batches recompressed to the topic zstd, consumed by assignment', { timeout: 120_000 }, async (t) => {
  if (!(await has('/usr/bin/python3', ['-c', 'import confluent_kafka']))) return t.skip('confluent-kafka-python not installed');
  const h = await start();
  try {
    await h.createTopic('ck', 1, { 'compression.type': 'zstd' });
    const out = await python(`
from confluent_kafka import Producer, Consumer, TopicPartition
b = '127.0.0.1:${h.port}'
p = Producer({'bootstrap.servers': b, 'compression.type': 'lz4', 'linger.ms': 5})
for i in range(20): p.produce('ck', key=b'k%d' % i, value=b'v%d' % i, partition=0)
assert p.flush(20) == 0
c = Consumer({'bootstrap.servers': b, 'group.id': 'unused', 'enable.auto.commit': False, 'enable.partition.eof': True})
c.assign([TopicPartition('ck', 0, 0)])
vals = []
while True:
    m = c.poll(10)
    if m is None: break
    if m.error():
        if m.error().code() == -191: break
        raise Exception(str(m.error()))
    vals.append(m.value().decode())
lo, hi = c.get_watermark_offsets(TopicPartition('ck', 0), timeout=10)
c.close()
print(','.join(vals)); print(lo, hi)
`);
    const [vals, marks] = out.trim().split('\n');
    assert.equal(vals, Array.from({ length: 20 }, (_, i) => `v${i}`).join(','));
    assert.equal(marks, '0 20');
  } finally {
    await h.close();
  }
});
