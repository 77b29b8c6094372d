import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitOutConcurrent } from '../../../src/broker/handlers/add-partitions-to-txn.js';
import { ErrorCode } from '../../../src/protocol/errors.js';

test('CONCURRENT_TRANSACTIONS is retried by the broker until the previous transaction completes', async () => {
  const answers: number[] = [ErrorCode.CONCURRENT_TRANSACTIONS, ErrorCode.CONCURRENT_TRANSACTIONS, ErrorCode.NONE];
  let calls = 0;
  const r = await waitOutConcurrent(async () => answers[calls++]!, (x) => x);
  assert.equal(r, ErrorCode.NONE);
  assert.equal(calls, 3);
});

test('other answers are returned at once, and CONCURRENT_TRANSACTIONS is answered after the bounded wait', async () => {
  let calls = 0;
  assert.equal(await waitOutConcurrent(async () => (calls++, ErrorCode.PRODUCER_FENCED), (x) => x), ErrorCode.PRODUCER_FENCED);
  assert.equal(calls, 1);
  let tries = 0;
  const busy = await waitOutConcurrent(async () => (tries++, ErrorCode.CONCURRENT_TRANSACTIONS), (x) => x);
  assert.equal(busy, ErrorCode.CONCURRENT_TRANSACTIONS, 'a transaction that stays busy is answered as busy (the client retries)');
  assert.ok(tries > 1, 'it asked the coordinator again before giving up');
});
