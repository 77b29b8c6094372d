import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { deleteTopicsHandler } from '../../../src/broker/handlers/delete-topics.js';
import type { DeleteTopicsRequest } from '../../../src/protocol/generated/messages/delete-topics.js';
import { ErrorCode } from '../../../src/protocol/errors.js';
import { ZERO_UUID } from '../../../src/protocol/codec-runtime.js';
import { call, startAdminNode, type AdminNode } from './admin-harness.js';

let node: AdminNode;
let handler: ReturnType<typeof deleteTopicsHandler>;
before(async () => {
  node = await startAdminNode();
  handler = deleteTopicsHandler(node.deps);
});
after(() => node.close());

async function create(...names: string[]): Promise<string[]> {
  const res = await node.quorum.controller.createTopics(names.map((name) => ({ name, numPartitions: 1, replicationFactor: 1 })));
  return res.map((r) => r.topicId!);
}
const byNames = (topicNames: string[]): DeleteTopicsRequest => ({ topics: [], topicNames, timeoutMs: 30000 });
const byStates = (topics: DeleteTopicsRequest['topics']): DeleteTopicsRequest => ({ topics, topicNames: [], timeoutMs: 30000 });

test('deletes by name in every version before 6', async () => {
  for (let v = 0; v <= 5; v++) {
    const name = `gone-v${v}`;
    await create(name);
    const res = await call(handler, v, byNames([name]));
    assert.deepEqual(res.responses.map((r) => [r.name, r.errorCode]), [[name, ErrorCode.NONE]], `v${v}`);
    assert.equal(node.view.image.topic(name), undefined);
  }
});

test('v6 deletes by id and by name, answering with both', async () => {
  const [idA, idB] = await create('by-id', 'by-name');
  const res = await call(handler, 6, byStates([{ name: null, topicId: idA! }, { name: 'by-name', topicId: ZERO_UUID }]));
  const sorted = res.responses.map((r) => [r.name, r.topicId, r.errorCode]).sort();
  assert.deepEqual(sorted, [['by-id', idA, ErrorCode.NONE], ['by-name', idB, ErrorCode.NONE]]);
  assert.equal(node.view.image.topicById(idA!), undefined);
  assert.equal(node.view.image.topic('by-name'), undefined);
});

test('unknown names and ids', async () => {
  const unknownId = '0b9c6f4e-1a2b-4c3d-8e9f-0123456789ab';
  const res = await call(handler, 6, byStates([{ name: 'nope', topicId: ZERO_UUID }, { name: null, topicId: unknownId }]));
  const byKey = new Map(res.responses.map((r) => [r.name ?? r.topicId, r]));
  assert.equal(byKey.get('nope')!.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  assert.equal(byKey.get(unknownId)!.errorCode, ErrorCode.UNKNOWN_TOPIC_ID);
  assert.equal(byKey.get(unknownId)!.name, null);
  const old = await call(handler, 1, byNames(['nope']));
  assert.deepEqual(old.responses.map((r) => [r.name, r.errorCode]), [['nope', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]]);
});

test('invalid combinations: duplicates, both name and id, neither, a name mapping to a given id', async () => {
  const [id] = await create('kept');
  const res = await call(handler, 6, byStates([
    { name: 'kept', topicId: id! },
    { name: null, topicId: ZERO_UUID },
    { name: 'dup', topicId: ZERO_UUID },
    { name: 'dup', topicId: ZERO_UUID },
  ]));
  const messages = res.responses.map((r) => [r.name, r.errorCode, r.errorMessage]);
  assert.deepEqual(messages, [
    ['kept', ErrorCode.INVALID_REQUEST, 'You may not specify both topic name and topic id.'],
    [null, ErrorCode.INVALID_REQUEST, 'Neither topic name nor id were specified.'],
    ['dup', ErrorCode.INVALID_REQUEST, 'Duplicate topic name.'],
  ]);
  const aliased = await call(handler, 6, byStates([{ name: null, topicId: id! }, { name: 'kept', topicId: ZERO_UUID }]));
  assert.deepEqual(aliased.responses.map((r) => [r.name, r.errorCode]),
    [['kept', ErrorCode.INVALID_REQUEST]]);
  assert.notEqual(node.view.image.topic('kept'), undefined, 'nothing deleted');
  const dupNames = await call(handler, 2, byNames(['kept', 'kept']));
  assert.deepEqual(dupNames.responses.map((r) => [r.name, r.errorCode]), [['kept', ErrorCode.INVALID_REQUEST]]);
});

test('internal topics are deleted like any other (Kafka refuses only in its command-line tool)', async () => {
  await create('__consumer_offsets');
  const res = await call(handler, 4, byNames(['__consumer_offsets', '__cluster_metadata']));
  assert.deepEqual(res.responses.map((r) => [r.name, r.errorCode]).sort(), [
    ['__cluster_metadata', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
    ['__consumer_offsets', ErrorCode.NONE],
  ]);
});

test('delete.topic.enable=false refuses the whole request', async () => {
  const off = await startAdminNode({ staticConfig: { 'delete.topic.enable': 'false' } });
  try {
    await off.quorum.controller.createTopics([{ name: 'stays', numPartitions: 1, replicationFactor: 1 }]);
    const h = deleteTopicsHandler(off.deps);
    const v2 = await call(h, 2, byNames(['stays']));
    assert.deepEqual(v2.responses.map((r) => [r.name, r.errorCode]), [['stays', ErrorCode.INVALID_REQUEST]]);
    const v6 = await call(h, 6, byStates([{ name: 'stays', topicId: ZERO_UUID }]));
    assert.deepEqual(v6.responses.map((r) => [r.name, r.errorCode]), [['stays', ErrorCode.TOPIC_DELETION_DISABLED]]);
    assert.notEqual(off.view.image.topic('stays'), undefined);
  } finally {
    await off.close();
  }
});
