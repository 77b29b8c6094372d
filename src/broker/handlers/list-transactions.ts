// ListTransactions (key 66), v0–1: the transactional ids this broker coordinates, filtered by state and
// producer id, and from v1 by how long the transaction has been running (KIP-994).
import { ListTransactionsApi } from '../../protocol/generated/apis.js';
import type { ListTransactionsResponse } from '../../protocol/generated/messages/list-transactions.js';
import type { TxnHandlerDeps } from '../txn-handlers.js';
import { defineHandler } from '../registry.js';

export function listTransactionsHandler(deps: Pick<TxnHandlerDeps, 'coordinator'>) {
  return defineHandler(ListTransactionsApi, {
    minVersion: 0,
    maxVersion: 1,
    handle(_ctx, request): Promise<ListTransactionsResponse> {
      return deps.coordinator.listTransactions(request);
    },
  });
}
