// DescribeTransactions (key 65), v0: state, timeout, start time, producer and partitions of each
// transactional id this broker coordinates.
import { DescribeTransactionsApi } from '../../protocol/generated/apis.js';
import type { DescribeTransactionsResponse } from '../../protocol/generated/messages/describe-transactions.js';
import type { TxnHandlerDeps } from '../txn-handlers.js';
import { defineHandler } from '../registry.js';

export function describeTransactionsHandler(deps: Pick<TxnHandlerDeps, 'coordinator'>) {
  return defineHandler(DescribeTransactionsApi, {
    minVersion: 0,
    maxVersion: 0,
    handle(_ctx, request): Promise<DescribeTransactionsResponse> {
      return deps.coordinator.describeTransactions(request);
    },
  });
}
