// Real third-party clients against a real `strata start` process.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { startStrata, type StrataProcess } from './helpers/strata-process.js';

const run = promisify(execFile);
const has = (cmd: string, args: string[]): boolean => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;

let strata: StrataProcess;

before(async () => {
  strata = await startStrata([], { nodeId: 7 });
});

after(async () => {
  await strata.stop();
  await strata.cleanup();
});

test('kcat lists the cluster and names our broker', async (t) => {
  if (!has('kcat', ['-V'])) return t.skip('kcat not installed');
  const { stdout } = await run('kcat', ['-L', '-J', '-m', '10', '-b', `127.0.0.1:${strata.port}`]);
  const md = JSON.parse(stdout) as { controllerid: number; brokers: { id: number; name: string }[]; topics: unknown[] };
  assert.equal(md.controllerid, 7);
  assert.deepEqual(md.brokers, [{ id: 7, name: `127.0.0.1:${strata.port}` }]);
  assert.deepEqual(md.topics, []);
});

test('confluent-kafka-python AdminClient.list_topics succeeds', async (t) => {
  if (!has('/usr/bin/python3', ['-c', 'import confluent_kafka'])) return t.skip('confluent-kafka-python not installed');
  const script = [
    'import json, sys',
    'from confluent_kafka.admin import AdminClient',
    `md = AdminClient({"bootstrap.servers": "127.0.0.1:${strata.port}"}).list_topics(timeout=10)`,
    'print(json.dumps({"cluster_id": md.cluster_id, "controller_id": md.controller_id,',
    '  "brokers": [[b.id, b.host, b.port] for b in md.brokers.values()], "topics": list(md.topics)}))',
  ].join('\n');
  const { stdout } = await run('/usr/bin/python3', ['-c', script], { timeout: 30_000 });
  const md = JSON.parse(stdout) as { cluster_id: string; controller_id: number; brokers: [number, string, number][]; topics: string[] };
  assert.equal(md.cluster_id, strata.clusterId);
  assert.equal(md.controller_id, 7);
  assert.deepEqual(md.brokers, [[7, '127.0.0.1', strata.port]]);
  assert.deepEqual(md.topics, []);
});

test('kafka-python negotiates versions and reads metadata', async (t) => {
  if (!has('/usr/bin/python3', ['-c', 'import kafka'])) return t.skip('kafka-python not installed');
  const script = [
    'import json',
    'from kafka import KafkaAdminClient',
    `a = KafkaAdminClient(bootstrap_servers="127.0.0.1:${strata.port}", request_timeout_ms=10000)`,
    'd = a.describe_cluster()',
    'print(json.dumps({"cluster_id": d["cluster_id"], "controller_id": d["controller_id"], "brokers": [[b["node_id"], b["host"], b["port"]] for b in d["brokers"]]}))',
    'a.close()',
  ].join('\n');
  const { stdout } = await run('/usr/bin/python3', ['-c', script], { timeout: 30_000 });
  const md = JSON.parse(stdout) as { cluster_id: string; controller_id: number; brokers: [number, string, number][] };
  assert.equal(md.cluster_id, strata.clusterId);
  assert.equal(md.controller_id, 7);
  assert.deepEqual(md.brokers, [[7, '127.0.0.1', strata.port]]);
});

test('kafkajs admin.describeCluster returns our node id and cluster id', async () => {
  const kafka = new Kafka({ clientId: 'strata-it', brokers: [`127.0.0.1:${strata.port}`], logLevel: logLevel.NOTHING, retry: { retries: 2 } });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const cluster = await admin.describeCluster();
    assert.equal(cluster.clusterId, strata.clusterId);
    assert.equal(cluster.controller, 7);
    assert.deepEqual(cluster.brokers, [{ nodeId: 7, host: '127.0.0.1', port: strata.port }]);
  } finally {
    await admin.disconnect();
  }
});

test('the cluster id survives a restart on the same data directory; SIGTERM exits 0', async () => {
  const first = await startStrata([], { nodeId: 2 });
  const clusterId = first.clusterId;
  assert.match(clusterId, /^[A-Za-z0-9_-]{22}$/);
  assert.equal(await first.stop(), 0);
  assert.ok(first.logs.some((l) => l.msg === 'Strata stopped'));
  const again = await startStrata([], { nodeId: 2, dataDir: first.dataDir });
  assert.equal(again.clusterId, clusterId);
  assert.equal(await again.stop(), 0);
  await first.cleanup();
});

test('the main server is still up and exits 0 on SIGTERM', async () => {
  assert.equal(strata.child.exitCode, null);
  assert.equal(await strata.stop(), 0);
});
