import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { describeConfigsHandler } from '../../../src/broker/handlers/describe-configs.js';
import type { DescribeConfigsRequest, DescribeConfigsResponse } from '../../../src/protocol/generated/messages/describe-configs.js';
import { ErrorCode } from '../../../src/protocol/errors.js';
import { ConfigSource, DescribeConfigType } from '../../../src/config/config-def.js';
import { TOPIC_CONFIG_DEFS } from '../../../src/config/topic-config.js';
import { ConfigResourceType as T } from '../../../src/metadata/records.js';
import { AlterConfigOp } from '../../../src/controller/results.js';
import { call, NODE_ID, startAdminNode, type AdminNode } from './admin-harness.js';

let node: AdminNode;
let handler: ReturnType<typeof describeConfigsHandler>;
before(async () => {
  node = await startAdminNode({ staticConfig: { 'log.retention.hours': '24', 'log.segment.bytes': '2000000', 'custom.secret.thing': 'xyz' } });
  handler = describeConfigsHandler(node.deps);
  await node.quorum.controller.createTopics([{ name: 'described', numPartitions: 1, replicationFactor: 1, configs: [{ name: 'retention.ms', value: '5000' }] }]);
  await node.quorum.controller.incrementalAlterConfigs([
    { resourceType: T.BROKER, resourceName: '', configs: [{ name: 'log.segment.bytes', configOperation: AlterConfigOp.SET, value: '3000000' }] },
  ]);
});
after(() => node.close());

const request = (resources: DescribeConfigsRequest['resources'], over: Partial<DescribeConfigsRequest> = {}): DescribeConfigsRequest =>
  ({ resources, includeSynonyms: false, includeDocumentation: false, ...over });
const entry = (res: DescribeConfigsResponse, name: string) => res.results[0]!.configs.find((c) => c.name === name)!;

test('a topic: every topic key with value and source, in every version', async () => {
  const visible = [...TOPIC_CONFIG_DEFS.defs()].filter((d) => d.internal !== true).length;
  for (let v = 0; v <= 4; v++) {
    const res = await call(handler, v, request([{ resourceType: T.TOPIC, resourceName: 'described', configurationKeys: null }]));
    const r = res.results[0]!;
    assert.deepEqual([r.errorCode, r.errorMessage, r.resourceType, r.resourceName], [ErrorCode.NONE, null, T.TOPIC, 'described'], `v${v}`);
    assert.equal(r.configs.length, visible);
    const retention = entry(res, 'retention.ms');
    assert.equal(retention.value, '5000');
    assert.equal(retention.readOnly, false);
    if (v === 0) {
      assert.equal(retention.isDefault, false);
      assert.equal(entry(res, 'cleanup.policy').isDefault, true);
    } else {
      assert.equal(retention.configSource, ConfigSource.TOPIC_CONFIG);
      // The cluster-wide dynamic default beats the static value.
      assert.equal(entry(res, 'segment.bytes').value, '3000000');
      assert.equal(entry(res, 'segment.bytes').configSource, ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG);
      assert.equal(entry(res, 'cleanup.policy').configSource, ConfigSource.DEFAULT_CONFIG);
      assert.deepEqual(retention.synonyms, [], 'no synonyms unless asked');
    }
    if (v >= 3) assert.equal(retention.configType, DescribeConfigType.long);
  }
});

test('synonyms in Kafka order, documentation when asked, key filter', async () => {
  const res = await call(handler, 4, request(
    [{ resourceType: T.TOPIC, resourceName: 'described', configurationKeys: ['retention.ms', 'segment.bytes'] }],
    { includeSynonyms: true, includeDocumentation: true },
  ));
  assert.deepEqual(res.results[0]!.configs.map((c) => c.name).sort(), ['retention.ms', 'segment.bytes']);
  assert.deepEqual(entry(res, 'segment.bytes').synonyms.map((s) => [s.name, s.value, s.source]), [
    ['log.segment.bytes', '3000000', ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG],
    ['log.segment.bytes', '2000000', ConfigSource.STATIC_BROKER_CONFIG],
    ['log.segment.bytes', '1073741824', ConfigSource.DEFAULT_CONFIG],
  ]);
  assert.deepEqual(entry(res, 'retention.ms').synonyms[0]!.name, 'retention.ms');
  assert.equal(entry(res, 'retention.ms').synonyms[0]!.source, ConfigSource.TOPIC_CONFIG);
  assert.ok((entry(res, 'retention.ms').documentation ?? '').length > 0);
});

test('topic errors: unknown topic, illegal name', async () => {
  const res = await call(handler, 2, request([
    { resourceType: T.TOPIC, resourceName: 'nope', configurationKeys: null },
    { resourceType: T.TOPIC, resourceName: 'bad/name', configurationKeys: null },
  ]));
  assert.deepEqual(res.results.map((r) => [r.resourceName, r.errorCode, r.configs.length]), [
    ['nope', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 0],
    ['bad/name', ErrorCode.INVALID_TOPIC_EXCEPTION, 0],
  ]);
  assert.equal(res.results[0]!.errorMessage, null);
  assert.match(res.results[1]!.errorMessage!, /Topic name is invalid/);
});

test('this broker: every broker key, read-only flags, sources and a hidden unknown key', async () => {
  const res = await call(handler, 4, request([{ resourceType: T.BROKER, resourceName: String(NODE_ID), configurationKeys: null }], { includeSynonyms: true }));
  const r = res.results[0]!;
  assert.equal(r.errorCode, ErrorCode.NONE);
  const hours = entry(res, 'log.retention.hours');
  assert.deepEqual([hours.value, hours.configSource, hours.readOnly], ['24', ConfigSource.STATIC_BROKER_CONFIG, true]);
  const segment = entry(res, 'log.segment.bytes');
  assert.deepEqual([segment.value, segment.configSource, segment.readOnly], ['3000000', ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG, false]);
  const listeners = entry(res, 'listeners');
  assert.equal(listeners.configSource, ConfigSource.DEFAULT_CONFIG);
  assert.equal(listeners.configType, DescribeConfigType.list);
  const secret = entry(res, 'custom.secret.thing');
  assert.deepEqual([secret.value, secret.isSensitive, secret.configSource], [null, true, ConfigSource.STATIC_BROKER_CONFIG]);
  // Kafka lists synonyms from the described key on: log.retention.ms is set nowhere, so none remain.
  const ms = entry(res, 'log.retention.ms');
  assert.deepEqual([ms.value, ms.configSource, ms.synonyms], [null, ConfigSource.DEFAULT_CONFIG, []]);
  assert.deepEqual(hours.synonyms.map((s) => [s.name, s.value, s.source]), [
    ['log.retention.hours', '24', ConfigSource.STATIC_BROKER_CONFIG],
    ['log.retention.hours', '168', ConfigSource.DEFAULT_CONFIG],
  ]);
});

test('the cluster default resource lists only what is set dynamically; other brokers are refused', async () => {
  const res = await call(handler, 1, request([
    { resourceType: T.BROKER, resourceName: '', configurationKeys: null },
    { resourceType: T.BROKER, resourceName: '7', configurationKeys: null },
    { resourceType: T.BROKER, resourceName: 'x', configurationKeys: null },
  ], { includeSynonyms: true }));
  assert.deepEqual(res.results[0]!.configs.map((c) => [c.name, c.value, c.configSource]), [['log.segment.bytes', '3000000', ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG]]);
  assert.deepEqual(res.results[0]!.configs[0]!.synonyms.map((s) => s.source), [ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG]);
  assert.deepEqual(res.results.slice(1).map((r) => [r.errorCode, r.errorMessage]), [
    [ErrorCode.INVALID_REQUEST, `Unexpected broker id, expected ${NODE_ID} or empty string, but received 7`],
    [ErrorCode.INVALID_REQUEST, 'Broker id must be an integer, but it is: x'],
  ]);
});

test('broker loggers: none to list; an unknown resource type refuses the request', async () => {
  const res = await call(handler, 2, request([
    { resourceType: T.BROKER_LOGGER, resourceName: String(NODE_ID), configurationKeys: null },
    { resourceType: T.BROKER_LOGGER, resourceName: '', configurationKeys: null },
    { resourceType: T.BROKER_LOGGER, resourceName: '8', configurationKeys: null },
  ]));
  assert.deepEqual(res.results.map((r) => [r.errorCode, r.configs.length]), [
    [ErrorCode.NONE, 0],
    [ErrorCode.INVALID_REQUEST, 0],
    [ErrorCode.INVALID_REQUEST, 0],
  ]);
  const unknown = await call(handler, 2, request([
    { resourceType: 99, resourceName: 'x', configurationKeys: null },
    { resourceType: T.TOPIC, resourceName: 'described', configurationKeys: null },
  ]));
  assert.deepEqual(unknown.results.map((r) => r.errorCode), [ErrorCode.INVALID_REQUEST, ErrorCode.INVALID_REQUEST]);
});
