import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiKey } from '../../../src/protocol/generated/apis.js';
import { ErrorCode } from '../../../src/protocol/errors.js';
import { OFFSETS_TOPIC } from '../../../src/server/group-coordinator-wiring.js';
import { startGroupNode } from './group-harness.js';

test('FindCoordinator creates __consumer_offsets on first use and answers group keys with this node, in every version', async () => {
  const g = await startGroupNode();
  try {
    const port = g.node.boundPort('PLAINTEXT')!;
    for (let v = 0; v <= 3; v++) {
      const r = await g.call(ApiKey.FindCoordinator, v, { key: `group-${v}`, keyType: 0, coordinatorKeys: [] });
      assert.deepEqual([r.errorCode, r.nodeId, r.host, r.port], [ErrorCode.NONE, 3, '127.0.0.1', port], `v${v}`);
    }
    for (let v = 4; v <= 6; v++) {
      const r = await g.call(ApiKey.FindCoordinator, v, { key: '', keyType: 0, coordinatorKeys: ['a', 'b', 'c'] });
      assert.equal(r.errorCode, ErrorCode.NONE);
      assert.deepEqual(r.coordinators.map((c) => [c.key, c.errorCode, c.nodeId, c.port]), [['a', 0, 3, port], ['b', 0, 3, port], ['c', 0, 3, port]], `v${v}`);
    }
    // The topic, as Kafka creates it: offsets.topic.num.partitions partitions, compacted, 100 MiB segments;
    // plus durable.append so an acknowledged commit survives a power loss.
    assert.equal(g.node.dataPath.topics.partitionCount(OFFSETS_TOPIC), 3);
    const log = g.node.dataPath.replicaManager.getPartition(OFFSETS_TOPIC, 0)!.log.config;
    assert.deepEqual([log.cleanupPolicy, log.segmentBytes, log.durableAppend], ['compact', 104857600, true]);
  } finally {
    await g.close();
  }
});

test('FindCoordinator refuses an unknown key type; transaction keys never get a group coordinator', async () => {
  const g = await startGroupNode();
  try {
    const old = await g.call(ApiKey.FindCoordinator, 3, { key: 'x', keyType: 7, coordinatorKeys: [] });
    assert.equal(old.errorCode, ErrorCode.INVALID_REQUEST);
    assert.equal(old.nodeId, -1);
    const batched = await g.call(ApiKey.FindCoordinator, 4, { key: '', keyType: 7, coordinatorKeys: ['x'] });
    assert.equal(batched.coordinators[0]!.errorCode, ErrorCode.INVALID_REQUEST);
    const txn = await g.call(ApiKey.FindCoordinator, 4, { key: '', keyType: 1, coordinatorKeys: ['tx'] });
    // Either a transaction coordinator answers, or none is available yet; never a group coordinator error.
    assert.ok(([ErrorCode.NONE, ErrorCode.COORDINATOR_NOT_AVAILABLE] as number[]).includes(txn.coordinators[0]!.errorCode));
  } finally {
    await g.close();
  }
});
