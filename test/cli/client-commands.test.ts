// The client commands against what a user runs: a real `strata start` child process. Commands whose APIs
// the broker does not serve yet are skipped, and run by themselves once it advertises them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { BrokerConnection } from '../../src/client/connection.js';
import { ApiKey } from '../../src/protocol/generated/apis.js';
import { startStrata, type StrataProcess } from '../integration/helpers/strata-process.js';
import { runCli } from './helpers/run-cli.js';

let strata: StrataProcess;
let bootstrap: string;
let advertised: ReadonlyMap<number, { minVersion: number; maxVersion: number }>;

before(async () => {
  strata = await startStrata([], { nodeId: 3 });
  bootstrap = `127.0.0.1:${strata.port}`;
  const conn = await BrokerConnection.connect({ host: '127.0.0.1', port: strata.port });
  advertised = new Map(conn.apiVersions);
  await conn.close();
});

after(async () => {
  await strata.stop();
  await strata.cleanup();
});

const missing = (...keys: number[]): string | undefined => {
  const names = keys.filter((k) => !advertised.has(k)).map((k) => Object.entries(ApiKey).find(([, v]) => v === k)![0]);
  return names.length === 0 ? undefined : `broker does not implement ${names.join(', ')} yet`;
};

test('cluster info names the cluster, the controller and the broker', async () => {
  const human = await runCli(['cluster', 'info', '--bootstrap-server', bootstrap]);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, new RegExp(`^Cluster id: ${strata.clusterId}\\nController: 3\\n`));
  assert.match(human.stdout, new RegExp(`\\n3 +127\\.0\\.0\\.1:${strata.port} +- +yes\\n`));
  const json = await runCli(['cluster', 'info', '--json', '--bootstrap-server', bootstrap]);
  assert.equal(json.code, 0, json.stderr);
  assert.deepEqual(JSON.parse(json.stdout), { clusterId: strata.clusterId, controllerId: 3, brokers: [{ nodeId: 3, host: '127.0.0.1', port: strata.port, rack: null }] });
});

test('cluster api-versions lists what the broker serves and the version the client would use', async () => {
  const r = await runCli(['cluster', 'api-versions', '--json', '--broker', '3', '--bootstrap-server', bootstrap]);
  assert.equal(r.code, 0, r.stderr);
  const rows = JSON.parse(r.stdout) as { apiKey: number; name: string; minVersion: number; maxVersion: number; clientVersion: number | null }[];
  const apiVersions = rows.find((x) => x.apiKey === ApiKey.ApiVersions)!;
  assert.deepEqual(apiVersions, { apiKey: 18, name: 'ApiVersions', minVersion: 0, maxVersion: 4, clientVersion: 4 });
  assert.equal(rows.length, advertised.size);
  const text = await runCli(['cluster', 'api-versions', '--bootstrap-server', bootstrap]);
  assert.match(text.stdout, /^KEY +API +BROKER +CLIENT USES\n/);
  const md = advertised.get(ApiKey.Metadata)!;
  assert.match(text.stdout, new RegExp(`\\n3 +Metadata +${md.minVersion}-${md.maxVersion} +v${Math.min(12, md.maxVersion)}\\n`));
});

test('topic list on a new cluster is empty; describing a missing topic fails in one line', async () => {
  const list = await runCli(['topic', 'list', '--json', '--bootstrap-server', bootstrap]);
  assert.equal(list.code, 0, list.stderr);
  assert.deepEqual(JSON.parse(list.stdout), []);
  const text = await runCli(['topic', 'list', '--bootstrap-server', bootstrap]);
  assert.equal(text.code, 0);
  assert.equal(text.stdout, '');
  const describe = await runCli(['topic', 'describe', 'nope', '--bootstrap-server', bootstrap]);
  assert.equal(describe.code, 1);
  assert.equal(describe.stderr, "error: topic 'nope' does not exist (UNKNOWN_TOPIC_OR_PARTITION)\n");
});

test('consume --group is refused as not supported yet; an unreachable broker is named', async () => {
  const group = await runCli(['consume', '--topic', 't', '--group', 'g', '--bootstrap-server', bootstrap]);
  assert.equal(group.code, 1);
  assert.match(group.stderr, /^error: consumer groups \(--group\) are not supported by this client yet/);
  const server = createServer();
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', () => res()));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((res) => server.close(() => res()));
  const dead = await runCli(['topic', 'list', '--bootstrap-server', `127.0.0.1:${port}`]);
  assert.equal(dead.code, 1);
  assert.equal(dead.stderr, `error: no broker is reachable: cannot connect to 127.0.0.1:${port}: connection refused\n`);
});

test('end to end: create a topic, produce lines, consume them back, alter a config, delete', async (t) => {
  const why = missing(ApiKey.CreateTopics, ApiKey.Produce, ApiKey.Fetch, ApiKey.ListOffsets, ApiKey.DeleteTopics);
  if (why !== undefined) return t.skip(why);
  const b = ['--bootstrap-server', bootstrap];
  const create = await runCli(['topic', 'create', 'e2e', '--partitions', '2', ...b]);
  assert.equal(create.code, 0, create.stderr);
  assert.match(create.stdout, /^Created topic 'e2e'/);
  const produce = await runCli(['produce', '--topic', 'e2e', '--key-separator', ':', '--header', 'src=test', '--json', ...b], { input: 'a:1\nb:2\na:3\n' });
  assert.equal(produce.code, 0, produce.stderr);
  assert.equal(JSON.parse(produce.stdout).records, 3);
  const consume = await runCli(['consume', '--topic', 'e2e', '--from-beginning', '--count', '3', '--print-key', '--print-headers', '--json', ...b]);
  assert.equal(consume.code, 0, consume.stderr);
  const got = consume.stdout.trim().split('\n').map((l) => JSON.parse(l) as { key: string; value: string; headers: { key: string; value: string }[] });
  assert.deepEqual(got.map((r) => `${r.key}:${r.value}`).sort(), ['a:1', 'a:3', 'b:2']);
  assert.ok(got.every((r) => r.headers[0]?.key === 'src' && r.headers[0]?.value === 'test'));
  if (missing(ApiKey.IncrementalAlterConfigs) === undefined) {
    const alter = await runCli(['topic', 'alter-config', 'e2e', '--set', 'retention.ms=60000', ...b]);
    assert.equal(alter.code, 0, alter.stderr);
  }
  const del = await runCli(['topic', 'delete', 'e2e', ...b]);
  assert.equal(del.code, 0, del.stderr);
});
