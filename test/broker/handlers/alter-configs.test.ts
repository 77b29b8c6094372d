// AlterConfigs (legacy) and IncrementalAlterConfigs, against the in-process controller.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { alterConfigsHandler } from '../../../src/broker/handlers/alter-configs.js';
import { incrementalAlterConfigsHandler } from '../../../src/broker/handlers/incremental-alter-configs.js';
import type { AlterConfigsRequest } from '../../../src/protocol/generated/messages/alter-configs.js';
import type { IncrementalAlterConfigsRequest } from '../../../src/protocol/generated/messages/incremental-alter-configs.js';
import { ErrorCode } from '../../../src/protocol/errors.js';
import { ConfigResourceType as T } from '../../../src/metadata/records.js';
import { AlterConfigOp as Op } from '../../../src/controller/results.js';
import { call, NODE_ID, startAdminNode, type AdminNode } from './admin-harness.js';

let node: AdminNode;
let legacy: ReturnType<typeof alterConfigsHandler>;
let incremental: ReturnType<typeof incrementalAlterConfigsHandler>;
before(async () => {
  node = await startAdminNode();
  legacy = alterConfigsHandler(node.deps);
  incremental = incrementalAlterConfigsHandler(node.deps);
  await node.quorum.controller.createTopics(['t1', 't2', 'lists'].map((name) => ({ name, numPartitions: 1, replicationFactor: 1 })));
});
after(() => node.close());

const topicConfigs = (name: string): Record<string, string> => Object.fromEntries(node.view.image.topicConfigs(name));
const legacyReq = (resources: AlterConfigsRequest['resources'], validateOnly = false): AlterConfigsRequest => ({ resources, validateOnly });
const incReq = (resources: IncrementalAlterConfigsRequest['resources'], validateOnly = false): IncrementalAlterConfigsRequest => ({ resources, validateOnly });

test('legacy AlterConfigs replaces the whole set, in every version', async () => {
  for (let v = 0; v <= 2; v++) {
    const res = await call(legacy, v, legacyReq([{ resourceType: T.TOPIC, resourceName: 't1', configs: [{ name: 'retention.ms', value: String(1000 + v) }, { name: 'segment.ms', value: '60000' }] }]));
    assert.deepEqual(res.responses.map((r) => [r.resourceType, r.resourceName, r.errorCode]), [[T.TOPIC, 't1', ErrorCode.NONE]], `v${v}`);
    assert.deepEqual(topicConfigs('t1'), { 'retention.ms': String(1000 + v), 'segment.ms': '60000' });
  }
  const res = await call(legacy, 1, legacyReq([{ resourceType: T.TOPIC, resourceName: 't1', configs: [{ name: 'cleanup.policy', value: 'compact' }] }]));
  assert.equal(res.responses[0]!.errorCode, ErrorCode.NONE);
  assert.deepEqual(topicConfigs('t1'), { 'cleanup.policy': 'compact' }, 'keys not listed are removed');
});

test('legacy AlterConfigs: validation errors, validate_only, broker resources, preprocessing', async () => {
  const res = await call(legacy, 2, legacyReq([
    { resourceType: T.TOPIC, resourceName: 't2', configs: [{ name: 'retention.ms', value: 'soon' }] },
    { resourceType: T.TOPIC, resourceName: 'missing', configs: [{ name: 'retention.ms', value: '1' }] },
    { resourceType: T.BROKER, resourceName: '', configs: [{ name: 'log.retention.bytes', value: '123' }] },
    { resourceType: T.BROKER, resourceName: '9', configs: [] },
    { resourceType: T.TOPIC, resourceName: 'dup', configs: [] },
    { resourceType: T.TOPIC, resourceName: 'dup', configs: [] },
    { resourceType: T.TOPIC, resourceName: 't2', configs: [{ name: 'x', value: null }] },
    { resourceType: 77, resourceName: 'what', configs: [] },
  ]));
  const got = res.responses.map((r) => [r.resourceName, r.errorCode]);
  assert.deepEqual(got, [
    ['t2', ErrorCode.INVALID_REQUEST], // t2 appears twice: both refused before anything else
    ['missing', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
    ['', ErrorCode.NONE],
    ['9', ErrorCode.INVALID_REQUEST],
    ['dup', ErrorCode.INVALID_REQUEST],
    ['dup', ErrorCode.INVALID_REQUEST],
    ['t2', ErrorCode.INVALID_REQUEST],
    ['what', ErrorCode.UNSUPPORTED_VERSION],
  ]);
  assert.equal(res.responses[0]!.errorMessage, 'Each resource must appear at most once.');
  assert.equal(res.responses[3]!.errorMessage, `Unexpected broker id, expected ${NODE_ID}, but received 9`);
  assert.equal(res.responses[7]!.errorMessage, 'Unknown resource type 77.');
  assert.equal(node.view.image.clusterDefaultConfigs().get('log.retention.bytes'), '123');

  const bad = await call(legacy, 2, legacyReq([{ resourceType: T.TOPIC, resourceName: 't2', configs: [{ name: 'retention.ms', value: 'soon' }] }]));
  assert.equal(bad.responses[0]!.errorCode, ErrorCode.INVALID_CONFIG);
  assert.match(bad.responses[0]!.errorMessage!, /retention\.ms/);
  const nulls = await call(legacy, 2, legacyReq([{ resourceType: T.TOPIC, resourceName: 't2', configs: [{ name: 'a', value: null }, { name: 'b', value: null }] }]));
  assert.deepEqual([nulls.responses[0]!.errorCode, nulls.responses[0]!.errorMessage], [ErrorCode.INVALID_REQUEST, 'Null value not supported for : a, b']);
  const validated = await call(legacy, 0, legacyReq([{ resourceType: T.TOPIC, resourceName: 't2', configs: [{ name: 'retention.ms', value: '77' }] }], true));
  assert.equal(validated.responses[0]!.errorCode, ErrorCode.NONE);
  assert.deepEqual(topicConfigs('t2'), {});
});

test('incremental SET / DELETE on topics and dynamic broker configs, in every version', async () => {
  for (let v = 0; v <= 1; v++) {
    const res = await call(incremental, v, incReq([
      { resourceType: T.TOPIC, resourceName: 't2', configs: [{ name: 'retention.ms', configOperation: Op.SET, value: String(500 + v) }] },
      { resourceType: T.BROKER, resourceName: String(NODE_ID), configs: [{ name: 'log.retention.bytes', configOperation: Op.SET, value: '999' }] },
    ]));
    assert.deepEqual(res.responses.map((r) => r.errorCode), [ErrorCode.NONE, ErrorCode.NONE], `v${v}`);
    assert.equal(topicConfigs('t2')['retention.ms'], String(500 + v));
    assert.equal(node.view.image.brokerConfigs(NODE_ID).get('log.retention.bytes'), '999');
  }
  const del = await call(incremental, 1, incReq([{ resourceType: T.TOPIC, resourceName: 't2', configs: [{ name: 'retention.ms', configOperation: Op.DELETE, value: null }] }]));
  assert.equal(del.responses[0]!.errorCode, ErrorCode.NONE);
  assert.deepEqual(topicConfigs('t2'), {});
});

test('incremental APPEND / SUBTRACT on a list key, refused on others', async () => {
  const append = await call(incremental, 1, incReq([{ resourceType: T.TOPIC, resourceName: 'lists', configs: [{ name: 'cleanup.policy', configOperation: Op.APPEND, value: 'compact' }] }]));
  assert.equal(append.responses[0]!.errorCode, ErrorCode.NONE);
  assert.equal(topicConfigs('lists')['cleanup.policy'], 'delete,compact');
  const subtract = await call(incremental, 1, incReq([{ resourceType: T.TOPIC, resourceName: 'lists', configs: [{ name: 'cleanup.policy', configOperation: Op.SUBTRACT, value: 'delete' }] }]));
  assert.equal(subtract.responses[0]!.errorCode, ErrorCode.NONE);
  assert.equal(topicConfigs('lists')['cleanup.policy'], 'compact');
  const notList = await call(incremental, 1, incReq([{ resourceType: T.TOPIC, resourceName: 'lists', configs: [{ name: 'retention.ms', configOperation: Op.APPEND, value: '1' }] }]));
  assert.equal(notList.responses[0]!.errorCode, ErrorCode.INVALID_CONFIG);
});

test('incremental: validate_only, bad values, read-only broker keys, duplicate keys, null values', async () => {
  const res = await call(incremental, 1, incReq([
    { resourceType: T.TOPIC, resourceName: 't1', configs: [{ name: 'retention.ms', configOperation: Op.SET, value: '42' }] },
  ], true));
  assert.equal(res.responses[0]!.errorCode, ErrorCode.NONE);
  assert.notEqual(topicConfigs('t1')['retention.ms'], '42');
  const errors = await call(incremental, 1, incReq([
    { resourceType: T.TOPIC, resourceName: 't1', configs: [{ name: 'min.insync.replicas', configOperation: Op.SET, value: '0' }] },
    { resourceType: T.BROKER, resourceName: '', configs: [{ name: 'log.retention.hours', configOperation: Op.SET, value: '1' }] },
    { resourceType: T.TOPIC, resourceName: 't2', configs: [{ name: 'a', configOperation: Op.SET, value: '1' }, { name: 'a', configOperation: Op.DELETE, value: null }] },
    { resourceType: T.TOPIC, resourceName: 'lists', configs: [{ name: 'retention.ms', configOperation: Op.SET, value: null }] },
    { resourceType: T.BROKER, resourceName: 'abc', configs: [] },
  ]));
  assert.deepEqual(errors.responses.map((r) => r.errorCode), [
    ErrorCode.INVALID_CONFIG, ErrorCode.INVALID_CONFIG, ErrorCode.INVALID_REQUEST, ErrorCode.INVALID_REQUEST, ErrorCode.INVALID_REQUEST,
  ]);
  assert.match(errors.responses[0]!.errorMessage!, /min\.insync\.replicas/);
  assert.match(errors.responses[1]!.errorMessage!, /log\.retention\.hours/);
  assert.equal(errors.responses[2]!.errorMessage, 'Error due to duplicate config keys');
  assert.equal(errors.responses[3]!.errorMessage, 'Null value not supported for : retention.ms');
  assert.equal(errors.responses[4]!.errorMessage, 'Node id must be an integer, but it is: abc');
});

test('incremental BROKER_LOGGER: answered by the broker, no loggers exist', async () => {
  const res = await call(incremental, 1, incReq([
    { resourceType: T.BROKER_LOGGER, resourceName: String(NODE_ID), configs: [] },
    { resourceType: T.BROKER_LOGGER, resourceName: String(NODE_ID + 1), configs: [{ name: 'x', configOperation: Op.SET, value: 'DEBUG' }] },
  ]));
  assert.deepEqual(res.responses.map((r) => r.errorCode), [ErrorCode.NONE, ErrorCode.INVALID_REQUEST]);
  const set = await call(incremental, 1, incReq([{ resourceType: T.BROKER_LOGGER, resourceName: String(NODE_ID), configs: [{ name: 'kafka.server', configOperation: Op.SET, value: 'DEBUG' }] }]));
  assert.deepEqual([set.responses[0]!.errorCode, set.responses[0]!.errorMessage], [ErrorCode.INVALID_CONFIG, 'Logger kafka.server does not exist!']);
  const append = await call(incremental, 1, incReq([{ resourceType: T.BROKER_LOGGER, resourceName: String(NODE_ID), configs: [{ name: 'root', configOperation: Op.APPEND, value: 'DEBUG' }] }]));
  assert.equal(append.responses[0]!.errorCode, ErrorCode.INVALID_REQUEST);
});
