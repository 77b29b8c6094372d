// The admin APIs through a real client: kafkajs's admin over a real socket to the network server, with
// the handlers registered as a node registers them, over the in-process controller and a real log dir.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { NetworkServer } from '../../../src/network/server.js';
import { RequestProcessor } from '../../../src/network/request-processor.js';
import { HandlerRegistry } from '../../../src/broker/registry.js';
import type { NodeInfo } from '../../../src/broker/node-info.js';
import { apiVersionsHandler } from '../../../src/broker/handlers/api-versions.js';
import { registerAdminHandlers } from '../../../src/broker/admin-handlers.js';
import { MetadataView } from '../../../src/broker/metadata-view.js';
import { startMetadataQuorum, type MetadataQuorum } from '../../../src/controller/metadata-quorum.js';

const NODE_ID = 1;
const log = pino({ level: 'silent' });
let dir: string;
let quorum: MetadataQuorum;
let server: NetworkServer;
let admin: Admin;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strata-admin-kafkajs-'));
  quorum = await startMetadataQuorum({ metadataLogDir: dir, nodeId: NODE_ID, clusterId: 'q1w2e3r4t5y6u7i8o9p0aa' });
  const view = new MetadataView({ image: () => quorum.loader.image, nodeId: NODE_ID });
  let port = 0;
  const node: NodeInfo = {
    nodeId: NODE_ID,
    clusterId: 'q1w2e3r4t5y6u7i8o9p0aa',
    rack: null,
    controllerId: () => NODE_ID,
    advertisedEndpoint: (name) => (name === 'PLAINTEXT' ? { listenerName: name, securityProtocol: 'PLAINTEXT', host: '127.0.0.1', port } : undefined),
    advertisedEndpoints: () => [],
    features: () => ({ supported: [], finalized: [], finalizedEpoch: -1n }),
  };
  const registry = registerAdminHandlers(new HandlerRegistry().register(apiVersionsHandler), { controller: quorum.controller, metadata: view });
  server = new NetworkServer({
    listeners: [{ name: 'PLAINTEXT', securityProtocol: 'PLAINTEXT', host: '127.0.0.1', port: 0 }],
    processor: new RequestProcessor(registry, node, log),
    limits: { maxFrameBytes: 100 * 1024 * 1024, idleMs: 0, maxInFlight: 100, maxUnsentBytes: 8 * 1024 * 1024 },
    maxConnections: 100,
    maxConnectionsPerIp: 100,
    log,
  });
  await server.start();
  port = server.listeners[0]!.port;
  await quorum.controller.registerLocalBroker({
    brokerId: NODE_ID,
    incarnationId: randomUUID(),
    listeners: [{ name: 'PLAINTEXT', host: '127.0.0.1', port, securityProtocol: 0 }],
    rack: null,
  });
  admin = new Kafka({ clientId: 'admin-test', brokers: [`127.0.0.1:${port}`], logLevel: logLevel.NOTHING, retry: { retries: 2 } }).admin();
  await admin.connect();
});

after(async () => {
  await admin?.disconnect();
  await server?.shutdown(1000);
  await quorum?.close();
  await rm(dir, { recursive: true, force: true });
});

test('kafkajs creates, describes, alters, grows and deletes topics', async () => {
  const created = await admin.createTopics({
    topics: [{ topic: 'orders', numPartitions: 2, configEntries: [{ name: 'retention.ms', value: '3600000' }] }],
    waitForLeaders: true,
  });
  assert.equal(created, true);
  assert.ok((await admin.listTopics()).includes('orders'));

  const meta = await admin.fetchTopicMetadata({ topics: ['orders'] });
  assert.deepEqual(meta.topics[0]!.partitions.map((p) => [p.partitionId, p.leader]).sort(), [[0, NODE_ID], [1, NODE_ID]]);

  const described = await admin.describeConfigs({ resources: [{ type: 2, name: 'orders', configNames: ['retention.ms'] }], includeSynonyms: false });
  assert.deepEqual(described.resources[0]!.configEntries.map((e) => [e.configName, e.configValue]), [['retention.ms', '3600000']]);

  await admin.alterConfigs({ resources: [{ type: 2, name: 'orders', configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }], validateOnly: false });
  const after = await admin.describeConfigs({ resources: [{ type: 2, name: 'orders', configNames: ['cleanup.policy', 'retention.ms'] }], includeSynonyms: false });
  const byName = new Map(after.resources[0]!.configEntries.map((e) => [e.configName, e]));
  assert.equal(byName.get('cleanup.policy')!.configValue, 'compact');
  assert.equal(byName.get('retention.ms')!.isDefault, true, 'the legacy API replaced the whole set');

  await admin.createPartitions({ topicPartitions: [{ topic: 'orders', count: 4 }] });
  const grown = await admin.fetchTopicMetadata({ topics: ['orders'] });
  assert.equal(grown.topics[0]!.partitions.length, 4);

  await assert.rejects(admin.createTopics({ topics: [{ topic: 'bad', numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'nope' }] }] }));

  await admin.deleteTopics({ topics: ['orders'] });
  assert.ok(!(await admin.listTopics()).includes('orders'));

  const cluster = await admin.describeCluster();
  assert.deepEqual(cluster.brokers.map((b) => b.nodeId), [NODE_ID]);
  assert.equal(cluster.controller, NODE_ID);
});
