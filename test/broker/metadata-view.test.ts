import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { hasPartition } from '../../src/broker/topic-lookup.js';
import { withTimeout } from '../../src/broker/controller-api.js';
import { registerAdminHandlers } from '../../src/broker/admin-handlers.js';
import { HandlerRegistry } from '../../src/broker/registry.js';
import { apiVersionsHandler } from '../../src/broker/handlers/api-versions.js';
import { startAdminNode, type AdminNode } from './handlers/admin-harness.js';

let node: AdminNode;
before(async () => {
  node = await startAdminNode();
});
after(() => node.close());

test('the view is the data path’s TopicLookup, following the image as it changes', async () => {
  assert.equal(node.view.topicId('t'), undefined);
  const [created] = await node.quorum.controller.createTopics([{ name: 't', numPartitions: 2, replicationFactor: 1 }]);
  const id = created!.topicId!;
  assert.equal(node.view.topicId('t'), id);
  assert.equal(node.view.topicName(id), 't');
  assert.equal(node.view.partitionCount('t'), 2);
  assert.ok(hasPartition(node.view, 't', 1));
  assert.ok(!hasPartition(node.view, 't', 2));
  await node.quorum.controller.createPartitions([{ name: 't', count: 3, assignments: null }]);
  assert.ok(hasPartition(node.view, 't', 2));
  await node.quorum.controller.deleteTopics([{ name: 't' }]);
  assert.equal(node.view.topicId('t'), undefined);
  assert.equal(node.view.topicName(id), undefined);
});

test('settings from the static configuration, with defaults', async () => {
  const other = await startAdminNode({ staticConfig: { 'auto.create.topics.enable': ' FALSE ', 'max.request.partition.size.limit': '10', bad: 'x' } });
  try {
    assert.equal(other.view.booleanSetting('auto.create.topics.enable', true), false);
    assert.equal(other.view.booleanSetting('delete.topic.enable', true), true);
    assert.equal(other.view.intSetting('max.request.partition.size.limit', 2000), 10);
    assert.equal(other.view.intSetting('bad', 7), 7);
  } finally {
    await other.close();
  }
});

test('withTimeout: answers in time, or reports the timeout without cancelling', async () => {
  assert.deepEqual(await withTimeout(Promise.resolve(5), 1000), { done: true, value: 5 });
  assert.deepEqual(await withTimeout(Promise.resolve(6), 0), { done: true, value: 6 });
  assert.deepEqual(await withTimeout(new Promise<number>(() => undefined), 5), { done: false });
});

test('every admin API registers once, and ApiVersions advertises them', () => {
  const registry = registerAdminHandlers(new HandlerRegistry().register(apiVersionsHandler), node.deps);
  const keys = registry.apiVersions().map((v) => [v.apiKey, v.minVersion, v.maxVersion]);
  assert.deepEqual(keys, [[3, 0, 12], [18, 0, 4], [19, 0, 7], [20, 0, 6], [22, 0, 5], [32, 0, 4], [33, 0, 2], [37, 0, 3], [44, 0, 1], [60, 0, 1], [75, 0, 0]]);
});
