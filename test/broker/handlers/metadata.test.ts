import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Reader } from '../../../src/protocol/reader.js';
import { Writer } from '../../../src/protocol/writer.js';
import { MetadataApi } from '../../../src/protocol/generated/apis.js';
import type { MetadataRequest, MetadataResponse } from '../../../src/protocol/generated/messages/metadata.js';
import { ErrorCode } from '../../../src/protocol/errors.js';
import { ZERO_UUID } from '../../../src/protocol/codec-runtime.js';
import { AUTHORIZED_OPERATIONS_OMITTED, CLUSTER_OPERATIONS, TOPIC_OPERATIONS, metadataHandler } from '../../../src/broker/handlers/metadata.js';
import { apiVersionsHandler } from '../../../src/broker/handlers/api-versions.js';
import { HandlerRegistry } from '../../../src/broker/registry.js';
import { testContext } from '../helpers.js';

const registry = new HandlerRegistry().register(apiVersionsHandler).register(metadataHandler);
const ID = '0b9c6f4e-1a2b-4c3d-8e9f-0123456789ab';

const request = (over: Partial<MetadataRequest> = {}): MetadataRequest => ({
  topics: [],
  allowAutoTopicCreation: true,
  includeClusterAuthorizedOperations: false,
  includeTopicAuthorizedOperations: false,
  ...over,
});

/** Handles, then encodes and decodes the answer, as a client would see it. */
function ask(version: number, req: MetadataRequest, listenerName = 'PLAINTEXT'): MetadataResponse {
  const res = metadataHandler.handle(testContext(registry, 3, version, { listenerName }), req) as MetadataResponse;
  const w = new Writer();
  MetadataApi.encodeResponse(w, version, res);
  const r = new Reader(w.toBuffer());
  const decoded = MetadataApi.decodeResponse(r, version);
  r.ensureEnd();
  return decoded;
}

test('every version describes this node through the listener the request came in on', () => {
  for (let v = 0; v <= 12; v++) {
    const res = ask(v, request());
    assert.deepEqual(
      res.brokers.map((b) => [b.nodeId, b.host, b.port]),
      [[3, 'broker.example', 9093]],
      `v${v}`,
    );
    if (v >= 2) assert.equal(res.clusterId, 'AAAAAAAAAAAAAAAAAAAAAA');
    if (v >= 1) assert.equal(res.controllerId, 3);
    assert.deepEqual(res.topics, []);
  }
  assert.deepEqual(ask(9, request(), 'INTERNAL').brokers.map((b) => [b.host, b.port]), [['10.0.0.3', 19093]]);
  assert.deepEqual(ask(9, request(), 'NOPE').brokers, []);
});

test('requested topics are unknown, once each, in every version', () => {
  for (let v = 0; v <= 12; v++) {
    const res = ask(v, request({ topics: [{ name: 'a', topicId: ZERO_UUID }, { name: 'b', topicId: ZERO_UUID }, { name: 'a', topicId: ZERO_UUID }] }));
    assert.deepEqual(
      res.topics.map((t) => [t.name, t.errorCode, t.partitions.length]),
      [
        ['a', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 0],
        ['b', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 0],
      ],
      `v${v}`,
    );
  }
});

test('null topics (and an empty list in v0) mean all topics: none yet', () => {
  assert.deepEqual(ask(0, request({ topics: [] })).topics, []);
  for (let v = 1; v <= 12; v++) assert.deepEqual(ask(v, request({ topics: null })).topics, []);
});

test('topic ids: unknown in v12, refused before', () => {
  const byId = request({ topics: [{ name: null, topicId: ID }] });
  const res = ask(12, byId);
  assert.deepEqual(res.topics.map((t) => [t.name, t.topicId, t.errorCode]), [[null, ID, ErrorCode.UNKNOWN_TOPIC_ID]]);
  for (const v of [10, 11]) {
    const refused = ask(v, request({ topics: [{ name: 'x', topicId: ID }] }));
    assert.deepEqual(refused.topics.map((t) => [t.name, t.errorCode]), [['x', ErrorCode.INVALID_REQUEST]]);
    assert.deepEqual(refused.brokers, []);
    const nullName = ask(v, request({ topics: [{ name: null, topicId: ZERO_UUID }] }));
    assert.deepEqual(nullName.topics.map((t) => [t.name, t.errorCode]), [['', ErrorCode.INVALID_REQUEST]]);
  }
});

test('authorized operations appear only when asked for, in the versions that carry them', () => {
  const asked = request({ topics: [{ name: 't', topicId: ZERO_UUID }], includeTopicAuthorizedOperations: true, includeClusterAuthorizedOperations: true });
  for (let v = 8; v <= 10; v++) {
    const res = ask(v, asked);
    assert.equal(res.clusterAuthorizedOperations, CLUSTER_OPERATIONS);
    assert.equal(res.topics[0]!.topicAuthorizedOperations, TOPIC_OPERATIONS);
  }
  for (const v of [11, 12]) {
    const res = ask(v, request({ topics: [{ name: 't', topicId: ZERO_UUID }], includeTopicAuthorizedOperations: true }));
    assert.equal(res.clusterAuthorizedOperations, AUTHORIZED_OPERATIONS_OMITTED);
    assert.equal(res.topics[0]!.topicAuthorizedOperations, TOPIC_OPERATIONS);
  }
  const notAsked = ask(9, request({ topics: [{ name: 't', topicId: ZERO_UUID }] }));
  assert.equal(notAsked.clusterAuthorizedOperations, AUTHORIZED_OPERATIONS_OMITTED);
  assert.equal(notAsked.topics[0]!.topicAuthorizedOperations, AUTHORIZED_OPERATIONS_OMITTED);
  // Kafka's bit fields without an authorizer: every operation the resource type supports.
  assert.equal(TOPIC_OPERATIONS, 3576);
  assert.equal(CLUSTER_OPERATIONS, 8096);
});
