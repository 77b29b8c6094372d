// AddPartitionsToTxn (key 24), v0–5: v0–3 from producers (partitions join their ongoing transaction);
// v4+ from brokers, a batch of transactions each added or, with verifyOnly, only checked (KIP-890).
//
// A producer that begins its next transaction right after a commit usually finds the previous one still
// writing its markers (CONCURRENT_TRANSACTIONS). Clients back off for their retry.backoff.ms (librdkafka:
// 100 ms and growing), which dominated short transactions; the marker phase takes a few milliseconds
// here, so the broker waits for it briefly itself before answering.
import { AddPartitionsToTxnApi } from '../../protocol/generated/apis.js';
import type { AddPartitionsToTxnResponse } from '../../protocol/generated/messages/add-partitions-to-txn.js';
import { ErrorCode } from '../../protocol/errors.js';
import type { TxnHandlerDeps } from '../txn-handlers.js';
import { defineHandler } from '../registry.js';

/** How long the broker retries CONCURRENT_TRANSACTIONS itself, and how often. */
export const CONCURRENT_WAIT_MS = 500;
const CONCURRENT_RETRY_MS = 5;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs `attempt` again while it answers CONCURRENT_TRANSACTIONS, for at most CONCURRENT_WAIT_MS. */
export async function waitOutConcurrent<T>(attempt: () => Promise<T>, codeOf: (r: T) => number): Promise<T> {
  const deadline = Date.now() + CONCURRENT_WAIT_MS;
  for (;;) {
    const r = await attempt();
    if (codeOf(r) !== ErrorCode.CONCURRENT_TRANSACTIONS || Date.now() >= deadline) return r;
    await sleep(CONCURRENT_RETRY_MS);
  }
}

export function addPartitionsToTxnHandler(deps: Pick<TxnHandlerDeps, 'coordinator'>) {
  return defineHandler(AddPartitionsToTxnApi, {
    minVersion: 0,
    maxVersion: 5,
    handle(ctx, request): Promise<AddPartitionsToTxnResponse> {
      const attempt = (): Promise<AddPartitionsToTxnResponse> => deps.coordinator.addPartitionsToTxn(ctx.apiVersion, request);
      if (ctx.apiVersion >= 4) return attempt();
      return waitOutConcurrent(attempt, (r) => r.resultsByTopicV3AndBelow[0]?.resultsByPartition[0]?.partitionErrorCode ?? ErrorCode.NONE);
    },
  });
}
