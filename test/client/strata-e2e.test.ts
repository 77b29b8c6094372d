// The client against a real `strata start` process. The data-path tests skip until the broker advertises
// the APIs they need, and run by themselves from then on.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BrokerConnection } from '../../src/client/connection.js';
import { KafkaClient } from '../../src/client/kafka-client.js';
import { isKafkaError } from '../../src/client/errors.js';
import { ApiKey } from '../../src/protocol/generated/apis.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { startStrata, type StrataProcess } from '../integration/helpers/strata-process.js';

let strata: StrataProcess;
let client: KafkaClient;
let advertised: ReadonlyMap<number, { minVersion: number; maxVersion: number }>;

before(async () => {
  strata = await startStrata([], { nodeId: 5 });
  const conn = await BrokerConnection.connect({ host: '127.0.0.1', port: strata.port });
  advertised = new Map(conn.apiVersions);
  await conn.close();
  client = new KafkaClient({ bootstrapServers: `127.0.0.1:${strata.port}`, retryBackoffMs: 20 });
});

after(async () => {
  await client.close();
  await strata.stop();
  await strata.cleanup();
});

const lacking = (...keys: number[]): string | undefined => {
  const names = keys.filter((k) => !advertised.has(k)).map((k) => Object.entries(ApiKey).find(([, v]) => v === k)![0]);
  return names.length === 0 ? undefined : `broker does not implement ${names.join(', ')} yet`;
};

test('the handshake with strata negotiates ApiVersions and Metadata', () => {
  assert.ok(advertised.has(ApiKey.ApiVersions));
  assert.ok(advertised.has(ApiKey.Metadata));
});

test('cluster and topic metadata from strata', async () => {
  const info = await client.describeCluster();
  assert.deepEqual(info, { clusterId: strata.clusterId, controllerId: 5, brokers: [{ nodeId: 5, host: '127.0.0.1', port: strata.port, rack: null }] });
  assert.deepEqual(await client.listTopics(), []);
  await assert.rejects(client.describeTopics(['absent']), (e: unknown) => isKafkaError(e, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION));
});

test('create a topic, produce, list offsets and fetch back', async (t) => {
  const why = lacking(ApiKey.CreateTopics, ApiKey.Produce, ApiKey.ListOffsets, ApiKey.Fetch);
  if (why !== undefined) return t.skip(why);
  const [created] = await client.createTopics([{ name: 'client-e2e', numPartitions: 2, replicationFactor: 1 }]);
  assert.equal(created!.error, null);
  const produced = await client.produce('client-e2e', [
    { key: 'a', value: 'one' },
    { key: 'b', value: 'two' },
    { key: 'a', value: 'three', headers: [{ key: 'h', value: 'v' }] },
  ]);
  const pa = produced.records[0]!.partition;
  assert.equal(produced.records[2]!.partition, pa);
  // 'b' may hash to the same partition as 'a' (two partitions), in which case it sits between them.
  const bBetween = produced.records[1]!.partition === pa;
  assert.equal(produced.records[2]!.offset, produced.records[0]!.offset + (bBetween ? 2 : 1));
  const latest = await client.listOffsets('client-e2e', 'latest');
  assert.equal(latest.reduce((n, o) => n + o.offset, 0), 3);
  const [r] = await client.fetch([{ topic: 'client-e2e', partition: pa, offset: 0 }]);
  assert.equal(r!.error, null);
  assert.deepEqual(r!.records.filter((x) => x.key?.toString() === 'a').map((x) => x.value!.toString()), ['one', 'three']);
  assert.equal(r!.records.at(-1)!.headers[0]!.value!.toString(), 'v');
});

test('topic configs can be altered and described', async (t) => {
  const why = lacking(ApiKey.CreateTopics, ApiKey.IncrementalAlterConfigs, ApiKey.DescribeConfigs);
  if (why !== undefined) return t.skip(why);
  await client.createTopics([{ name: 'client-e2e-configs', numPartitions: 1, replicationFactor: 1 }]);
  const [altered] = await client.incrementalAlterConfigs([{ type: 'topic', name: 'client-e2e-configs', alterations: [{ name: 'retention.ms', op: 'set', value: '12345' }] }]);
  assert.equal(altered!.error, null);
  const [d] = await client.describeConfigs([{ type: 'topic', name: 'client-e2e-configs', keys: ['retention.ms'] }]);
  assert.deepEqual(d!.configs.map((c) => [c.name, c.value, c.source]), [['retention.ms', '12345', 'DYNAMIC_TOPIC_CONFIG']]);
});

test('topics can be deleted', async (t) => {
  const why = lacking(ApiKey.CreateTopics, ApiKey.DeleteTopics);
  if (why !== undefined) return t.skip(why);
  await client.createTopics([{ name: 'client-e2e-delete', numPartitions: 1, replicationFactor: 1 }]);
  const [r] = await client.deleteTopics(['client-e2e-delete']);
  assert.equal(r!.error, null);
  assert.ok(!(await client.listTopics()).includes('client-e2e-delete'));
});
