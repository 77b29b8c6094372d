// WriteTxnMarkers (key 27), v0–1: a transaction coordinator asks this broker, as leader, to close a
// producer's transaction on some partitions with a COMMIT or ABORT control batch.
import { WriteTxnMarkersApi } from '../../protocol/generated/apis.js';
import type { WriteTxnMarkersResponse, WriteTxnMarkersResponseWritableTxnMarkerTopicResult } from '../../protocol/generated/messages/write-txn-markers.js';
import { TransactionResult } from '../../coordinator/txn/marker-dispatcher.js';
import type { TxnHandlerDeps } from '../txn-handlers.js';
import { defineHandler } from '../registry.js';

export function writeTxnMarkersHandler(deps: Pick<TxnHandlerDeps, 'markers'>) {
  return defineHandler(WriteTxnMarkersApi, {
    minVersion: 0,
    maxVersion: 1,
    async handle(_ctx, request): Promise<WriteTxnMarkersResponse> {
      const markers = await Promise.all(
        request.markers.map(async (m) => {
          const partitions = m.topics.flatMap((t) => t.partitionIndexes.map((partition) => ({ topic: t.name, partition })));
          const results = await deps.markers.sendMarkers(
            Number(m.producerId),
            m.producerEpoch,
            m.transactionResult ? TransactionResult.COMMIT : TransactionResult.ABORT,
            partitions,
            m.coordinatorEpoch,
          );
          const topics = new Map<string, WriteTxnMarkersResponseWritableTxnMarkerTopicResult>();
          for (const r of results) {
            let t = topics.get(r.topic);
            if (t === undefined) topics.set(r.topic, (t = { name: r.topic, partitions: [] }));
            t.partitions.push({ partitionIndex: r.partition, errorCode: r.errorCode });
          }
          return { producerId: m.producerId, topics: [...topics.values()] };
        }),
      );
      return { markers };
    },
  });
}
