import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describeClusterHandler, EndpointType } from '../../../src/broker/handlers/describe-cluster.js';
import { AUTHORIZED_OPERATIONS_OMITTED, CLUSTER_OPERATIONS } from '../../../src/broker/handlers/metadata.js';
import { ErrorCode } from '../../../src/protocol/errors.js';
import { call, CLUSTER_ID, NODE_ID, startAdminNode, type AdminNode } from './admin-harness.js';

let node: AdminNode;
let handler: ReturnType<typeof describeClusterHandler>;
before(async () => {
  node = await startAdminNode();
  handler = describeClusterHandler({ metadata: node.view });
});
after(() => node.close());

test('brokers through the listener of the request, cluster id and controller, in v0 and v1', async () => {
  for (const v of [0, 1]) {
    const res = await call(handler, v, { includeClusterAuthorizedOperations: false, endpointType: EndpointType.BROKER });
    assert.equal(res.errorCode, ErrorCode.NONE);
    assert.equal(res.clusterId, CLUSTER_ID);
    assert.equal(res.controllerId, NODE_ID);
    assert.deepEqual(res.brokers.map((b) => [b.brokerId, b.host, b.port, b.rack]), [[NODE_ID, 'broker.example', 9093, null]]);
    assert.equal(res.clusterAuthorizedOperations, AUTHORIZED_OPERATIONS_OMITTED);
  }
  const internal = await call(handler, 1, { includeClusterAuthorizedOperations: true, endpointType: EndpointType.BROKER }, { listenerName: 'INTERNAL' });
  assert.deepEqual(internal.brokers.map((b) => [b.host, b.port]), [['10.0.0.3', 19093]]);
  assert.equal(internal.clusterAuthorizedOperations, CLUSTER_OPERATIONS);
});

test('fenced brokers are not listed', async () => {
  const epoch = await node.quorum.controller.registerBroker({
    brokerId: 8, incarnationId: randomUUID(), rack: 'r1',
    listeners: [{ name: 'PLAINTEXT', host: 'other.example', port: 9094, securityProtocol: 0 }],
  });
  assert.equal(epoch.errorCode, ErrorCode.NONE);
  let res = await call(handler, 1, { includeClusterAuthorizedOperations: false, endpointType: EndpointType.BROKER });
  assert.deepEqual(res.brokers.map((b) => b.brokerId), [NODE_ID]);
  await node.quorum.controller.unfenceBroker(8, epoch.brokerEpoch);
  res = await call(handler, 1, { includeClusterAuthorizedOperations: false, endpointType: EndpointType.BROKER });
  assert.deepEqual(res.brokers.map((b) => [b.brokerId, b.rack]), [[NODE_ID, null], [8, 'r1']]);
});

test('endpoint types other than BROKER are refused', async () => {
  const controller = await call(handler, 1, { includeClusterAuthorizedOperations: false, endpointType: EndpointType.CONTROLLER });
  assert.equal(controller.errorCode, ErrorCode.MISMATCHED_ENDPOINT_TYPE);
  assert.deepEqual([controller.brokers, controller.controllerId], [[], -1]);
  const unknown = await call(handler, 1, { includeClusterAuthorizedOperations: false, endpointType: 9 });
  assert.deepEqual([unknown.errorCode, unknown.errorMessage], [ErrorCode.UNSUPPORTED_ENDPOINT_TYPE, 'Unsupported endpoint type 9']);
});
