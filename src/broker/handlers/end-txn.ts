// EndTxn (key 26), v0–4: commit or abort. Answered once the decision (PrepareCommit / PrepareAbort) is
// durable in __transaction_state; the markers follow in the background.
import { EndTxnApi } from '../../protocol/generated/apis.js';
import type { EndTxnResponse } from '../../protocol/generated/messages/end-txn.js';
import type { TxnHandlerDeps } from '../txn-handlers.js';
import { defineHandler } from '../registry.js';

export function endTxnHandler(deps: Pick<TxnHandlerDeps, 'coordinator'>) {
  return defineHandler(EndTxnApi, {
    minVersion: 0,
    maxVersion: 4,
    handle(ctx, request): Promise<EndTxnResponse> {
      return deps.coordinator.endTxn(ctx.apiVersion, request);
    },
  });
}
