// Fetch: one round of reading, one Fetch request per leader, records decoded by fetch-records.ts.
import { ApiKey } from '../protocol/generated/apis.js';
import { defaultFetchRequest, type FetchResponse } from '../protocol/generated/messages/fetch.js';
import { ZERO_UUID } from '../protocol/codec-runtime.js';
import { ErrorCode, isRetriable } from '../protocol/errors.js';
import type { Sent } from './connection.js';
import { pushTo, type ClientContext } from './context.js';
import { KafkaResponseError, isRetriableError, partitionSubject } from './errors.js';
import { decodeFetchedRecords } from './fetch-records.js';
import type { FetchOptions, FetchPosition, FetchResult, TopicInfo } from './types.js';

/**
 * One round of fetching: a Fetch request per leader for the positions given, in parallel. Never throws
 * for a partition's error: it comes back in that partition's result (retriable ones also make the next
 * call look up leaders again).
 */
export async function fetch(ctx: ClientContext, positions: readonly FetchPosition[], opts: FetchOptions = {}): Promise<FetchResult[]> {
  const readCommitted = opts.isolationLevel === 'read_committed';
  const results: FetchResult[] = [];
  const failed = (pos: FetchPosition, error: KafkaResponseError): FetchResult => ({
    topic: pos.topic,
    partition: pos.partition,
    records: [],
    nextOffset: pos.offset,
    highWatermark: -1,
    lastStableOffset: -1,
    logStartOffset: -1,
    error,
  });
  const byLeader = new Map<number, FetchPosition[]>();
  const topicIds = new Map<string, string>();
  for (const pos of positions) {
    let info: TopicInfo;
    try {
      info = await ctx.topic(pos.topic);
    } catch (err) {
      if (!(err instanceof KafkaResponseError)) throw err;
      results.push(failed(pos, err));
      continue;
    }
    topicIds.set(info.name, info.topicId);
    const meta = info.partitions.find((p) => p.partition === pos.partition);
    if (meta === undefined || meta.leader < 0) {
      const code = meta === undefined ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : ErrorCode.LEADER_NOT_AVAILABLE;
      results.push(failed(pos, new KafkaResponseError(code, { subject: partitionSubject(pos.topic, pos.partition), topic: pos.topic, partition: pos.partition, retriable: meta !== undefined })));
      continue;
    }
    pushTo(byLeader, meta.leader, pos);
  }
  await Promise.all(
    [...byLeader].map(async ([leader, group]) => {
      const topics = [...new Set(group.map((g) => g.topic))];
      // Fetch v13+ names topics by id only; use it when every topic's id is known.
      const haveIds = topics.every((t) => (topicIds.get(t) ?? ZERO_UUID) !== ZERO_UUID);
      let sent: Sent<FetchResponse>;
      try {
        sent = await ctx.send(
          { nodeId: leader },
          ApiKey.Fetch,
          (v) => ({
            ...defaultFetchRequest(),
            maxWaitMs: opts.maxWaitMs ?? 500,
            minBytes: opts.minBytes ?? 1,
            maxBytes: opts.maxBytes ?? 52_428_800,
            isolationLevel: readCommitted ? 1 : 0,
            topics: topics.map((topic) => ({
              topic: v >= 13 ? '' : topic,
              topicId: v >= 13 ? topicIds.get(topic)! : ZERO_UUID,
              partitions: group
                .filter((g) => g.topic === topic)
                .map((g) => ({
                  partition: g.partition,
                  currentLeaderEpoch: -1,
                  fetchOffset: BigInt(g.offset),
                  lastFetchedEpoch: -1,
                  logStartOffset: -1n,
                  partitionMaxBytes: opts.partitionMaxBytes ?? 1_048_576,
                  replicaDirectoryId: ZERO_UUID,
                })),
            })),
          }),
          { minVersion: 4, ...(haveIds ? {} : { maxVersion: 12 }), timeoutMs: ctx.requestTimeoutMs + (opts.maxWaitMs ?? 500) },
        );
      } catch (err) {
        if (!isRetriableError(err)) throw err;
        ctx.forgetMetadata();
        const e = err instanceof KafkaResponseError ? err : new KafkaResponseError(ErrorCode.NETWORK_EXCEPTION, { subject: `broker ${leader}`, serverMessage: (err as Error).message });
        for (const g of group) results.push(failed(g, e));
        return;
      }
      const { version, response } = sent;
      if (response.errorCode !== ErrorCode.NONE) {
        const e = new KafkaResponseError(response.errorCode, { subject: `fetch from broker ${leader}` });
        if (!e.retriable) throw e;
        for (const g of group) results.push(failed(g, e));
        return;
      }
      const nameById = new Map([...topicIds].map(([n, id]) => [id, n]));
      for (const t of response.responses) {
        const topic = version >= 13 ? (nameById.get(t.topicId) ?? t.topic) : t.topic;
        for (const p of t.partitions) {
          const pos = group.find((g) => g.topic === topic && g.partition === p.partitionIndex);
          if (pos === undefined) continue;
          if (p.errorCode !== ErrorCode.NONE) {
            // The leader may have moved: look it up again before the next fetch.
            if (isRetriable(p.errorCode)) ctx.forgetMetadata();
            results.push(failed(pos, new KafkaResponseError(p.errorCode, { subject: partitionSubject(topic, p.partitionIndex), topic, partition: p.partitionIndex })));
            continue;
          }
          const decoded = await decodeFetchedRecords(p.records, {
            topic,
            partition: p.partitionIndex,
            fetchOffset: pos.offset,
            ...(readCommitted ? { abortedTransactions: (p.abortedTransactions ?? []).map((a) => ({ producerId: Number(a.producerId), firstOffset: Number(a.firstOffset) })) } : {}),
          });
          results.push({
            topic,
            partition: p.partitionIndex,
            records: decoded.records,
            nextOffset: decoded.nextOffset,
            highWatermark: Number(p.highWatermark),
            lastStableOffset: Number(p.lastStableOffset),
            logStartOffset: Number(p.logStartOffset),
            error: null,
          });
        }
      }
    }),
  );
  return results;
}
