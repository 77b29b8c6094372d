import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { initProducerIdHandler } from '../../../src/broker/handlers/init-producer-id.js';
import { ProducerIdManager } from '../../../src/broker/producer-id-manager.js';
import type { InitProducerIdRequest } from '../../../src/protocol/generated/messages/init-producer-id.js';
import { ErrorCode } from '../../../src/protocol/errors.js';
import { PRODUCER_ID_BLOCK_SIZE } from '../../../src/controller/quorum-controller.js';
import { call, NODE_ID, startAdminNode, type AdminNode } from './admin-harness.js';

const idempotent = (over: Partial<InitProducerIdRequest> = {}): InitProducerIdRequest =>
  ({ transactionalId: null, transactionTimeoutMs: 60000, producerId: -1n, producerEpoch: -1, ...over });

function handlerFor(node: AdminNode) {
  const producerIds = new ProducerIdManager({ controller: node.deps.controller, nodeId: NODE_ID, brokerEpoch: () => node.view.brokerEpoch() });
  return initProducerIdHandler({ producerIds, metadata: node.view });
}

test('idempotent producers get distinct ids with epoch 0, in every version, across blocks and restarts', async () => {
  const first = await startAdminNode({ keep: true });
  const seen = new Set<bigint>();
  try {
    const handler = handlerFor(first);
    for (let v = 0; v <= 5; v++) {
      const res = await call(handler, v, idempotent());
      assert.deepEqual([res.errorCode, res.producerEpoch], [ErrorCode.NONE, 0], `v${v}`);
      seen.add(res.producerId);
    }
    // Concurrent callers across a block boundary: every id once.
    const many = await Promise.all(Array.from({ length: PRODUCER_ID_BLOCK_SIZE + 50 }, () => call(handler, 4, idempotent())));
    for (const r of many) {
      assert.equal(r.errorCode, ErrorCode.NONE);
      assert.ok(!seen.has(r.producerId), `id ${r.producerId} handed out twice`);
      seen.add(r.producerId);
    }
    assert.ok(first.view.image.producerIds.nextProducerId >= 2 * PRODUCER_ID_BLOCK_SIZE, 'a second block was recorded');
  } finally {
    await first.close();
  }
  const again = await startAdminNode({ dir: first.dir });
  try {
    const res = await call(handlerFor(again), 5, idempotent());
    assert.equal(res.errorCode, ErrorCode.NONE);
    assert.ok(!seen.has(res.producerId), 'no id reused after a restart');
    assert.ok(res.producerId > [...seen].reduce((a, b) => (a > b ? a : b)));
  } finally {
    await again.close();
    await rm(first.dir, { recursive: true, force: true });
  }
});

test('an epoch bump (KIP-360) of an idempotent producer gets a new id; half-given id/epoch is refused', async () => {
  const node = await startAdminNode();
  try {
    const handler = handlerFor(node);
    const a = await call(handler, 4, idempotent());
    const bumped = await call(handler, 4, idempotent({ producerId: a.producerId, producerEpoch: 0 }));
    assert.equal(bumped.errorCode, ErrorCode.NONE);
    assert.notEqual(bumped.producerId, a.producerId);
    assert.equal(bumped.producerEpoch, 0);
    for (const over of [{ producerId: 5n }, { producerEpoch: 3 }]) {
      const bad = await call(handler, 3, idempotent(over));
      assert.deepEqual([bad.errorCode, bad.producerId, bad.producerEpoch], [ErrorCode.INVALID_REQUEST, -1n, -1]);
    }
  } finally {
    await node.close();
  }
});

test('transactional ids: no coordinator here yet, after Kafka’s request checks', async () => {
  const node = await startAdminNode({ staticConfig: { 'transaction.max.timeout.ms': '60000' } });
  try {
    const handler = handlerFor(node);
    const cases: [Partial<InitProducerIdRequest>, number][] = [
      [{ transactionalId: 'tx-1', transactionTimeoutMs: 30000 }, ErrorCode.NOT_COORDINATOR],
      [{ transactionalId: '', transactionTimeoutMs: 30000 }, ErrorCode.INVALID_REQUEST],
      [{ transactionalId: 'tx-1', transactionTimeoutMs: 0 }, ErrorCode.INVALID_TRANSACTION_TIMEOUT],
      [{ transactionalId: 'tx-1', transactionTimeoutMs: 60001 }, ErrorCode.INVALID_TRANSACTION_TIMEOUT],
    ];
    for (const [over, code] of cases) {
      const res = await call(handler, 2, idempotent(over));
      assert.deepEqual([res.errorCode, res.producerId, res.producerEpoch], [code, -1n, -1], JSON.stringify(over));
    }
  } finally {
    await node.close();
  }
});

test('no block from the controller: a retriable error, and the next request tries again', async () => {
  const node = await startAdminNode();
  try {
    let epoch = -5; // a stale broker epoch: the controller refuses the block
    const producerIds = new ProducerIdManager({ controller: node.deps.controller, nodeId: NODE_ID, brokerEpoch: () => epoch });
    const handler = initProducerIdHandler({ producerIds });
    const refused = await call(handler, 1, idempotent());
    assert.equal(refused.errorCode, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    epoch = node.brokerEpoch;
    const ok = await call(handler, 1, idempotent());
    assert.equal(ok.errorCode, ErrorCode.NONE);
  } finally {
    await node.close();
  }
});
