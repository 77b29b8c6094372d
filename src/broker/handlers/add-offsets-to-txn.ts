// AddOffsetsToTxn (key 25), v0–4: the group's __consumer_offsets partition joins the transaction, so the
// offsets the producer then sends with TxnOffsetCommit get the transaction's marker.
import { AddOffsetsToTxnApi } from '../../protocol/generated/apis.js';
import type { AddOffsetsToTxnResponse } from '../../protocol/generated/messages/add-offsets-to-txn.js';
import type { TxnHandlerDeps } from '../txn-handlers.js';
import { defineHandler } from '../registry.js';
import { waitOutConcurrent } from './add-partitions-to-txn.js';

export function addOffsetsToTxnHandler(deps: Pick<TxnHandlerDeps, 'coordinator'>) {
  return defineHandler(AddOffsetsToTxnApi, {
    minVersion: 0,
    maxVersion: 4,
    handle(ctx, request): Promise<AddOffsetsToTxnResponse> {
      // As AddPartitionsToTxn: the previous transaction's markers are usually a few milliseconds from done.
      return waitOutConcurrent(() => deps.coordinator.addOffsetsToTxn(ctx.apiVersion, request), (r) => r.errorCode);
    },
  });
}
