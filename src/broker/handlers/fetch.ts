// Fetch (key 1), v0–17, as Kafka's KafkaApis.handleFetchRequest: fetch sessions (v7+, KIP-227), topic
// ids (v13+: unknown ids are UNKNOWN_TOPIC_ID), consumers and followers (a broker id that is not a
// replica of the partition gets NOT_LEADER_OR_FOLLOWER), long polling through the ReplicaManager, and
// answers shaped per version. Fetch v0–3 clients cannot read RecordBatch v2, so their records are
// down-converted to magic 0 (v0–1) or 1 (v2–3) message sets.
import { FetchApi } from '../../protocol/generated/apis.js';
import type {
  FetchRequest,
  FetchResponse,
  FetchResponseAbortedTransaction,
  FetchResponseFetchableTopicResponse,
  FetchResponsePartitionData,
} from '../../protocol/generated/messages/fetch.js';
import { ZERO_UUID } from '../../protocol/codec-runtime.js';
import { ErrorCode } from '../../protocol/errors.js';
import { downConvert } from '../../replication/down-convert.js';
import type { FetchPartitionRequest, FetchPartitionResult } from '../../replication/replica-manager.js';
import type { DataPathDeps } from '../data-path-deps.js';
import {
  type CachedPartition,
  type FetchContext,
  FetchSessionCache,
  FINAL_EPOCH,
  type FetchRequestPartition,
  type ForgottenPartition,
  INVALID_SESSION_ID,
} from '../fetch-sessions.js';
import { defineHandler, type ApiHandler } from '../registry.js';
import { hasPartition } from '../topic-lookup.js';

const MAX_INT32 = 0x7fffffff;
/** Kafka answers an empty record set, never a null one (librdkafka refuses a size of -1). */
const NO_RECORDS = Buffer.alloc(0);

// The fields most answers leave at their defaults share one object each: a fetch answers every partition
// it names, data or not, many times a second.
const NO_DIVERGING_EPOCH = Object.freeze({ epoch: -1, endOffset: -1n });
const NO_LEADER = Object.freeze({ leaderId: -1, leaderEpoch: -1 });
const NO_SNAPSHOT = Object.freeze({ endOffset: -1n, epoch: -1 });
// Frozen: the response types are mutable, but nothing may add to a shared empty list.
const NO_ABORTED_TRANSACTIONS = Object.freeze([]) as unknown as FetchResponseAbortedTransaction[];

function partitionData(index: number, r: Omit<FetchPartitionResult, 'topic' | 'partition'>, version: number): FetchResponsePartitionData {
  return {
    partitionIndex: index,
    errorCode: r.errorCode,
    highWatermark: BigInt(r.highWatermark),
    lastStableOffset: BigInt(r.lastStableOffset),
    logStartOffset: BigInt(r.logStartOffset),
    divergingEpoch: version >= 12 && r.divergingEpoch !== undefined
      ? { epoch: r.divergingEpoch.epoch, endOffset: BigInt(r.divergingEpoch.endOffset) }
      : NO_DIVERGING_EPOCH,
    currentLeader: version >= 12 && (r.leaderId !== -1 || r.leaderEpoch !== -1) ? { leaderId: r.leaderId, leaderEpoch: r.leaderEpoch } : NO_LEADER,
    snapshotId: NO_SNAPSHOT,
    abortedTransactions: r.abortedTransactions === null
      ? null
      : r.abortedTransactions.length === 0
        ? NO_ABORTED_TRANSACTIONS
        : r.abortedTransactions.map((t) => ({ producerId: BigInt(t.producerId), firstOffset: BigInt(t.firstOffset) })),
    preferredReadReplica: -1,
    records: r.records ?? NO_RECORDS,
  };
}

const failure = (errorCode: number): Omit<FetchPartitionResult, 'topic' | 'partition'> => ({
  errorCode, highWatermark: -1, lastStableOffset: -1, logStartOffset: -1, records: null, abortedTransactions: null, leaderId: -1, leaderEpoch: -1,
});

const errorResponse = (errorCode: number): FetchResponse =>
  ({ throttleTimeMs: 0, errorCode, sessionId: INVALID_SESSION_ID, responses: [], nodeEndpoints: [] });

export function fetchHandler(deps: DataPathDeps): ApiHandler<FetchRequest, FetchResponse> {
  // Without a cache every request is answered as sessionless; a cache of no slots does the same.
  const sessions = deps.fetchSessions ?? new FetchSessionCache({ maxSlots: 0 });
  return defineHandler(FetchApi, {
    minVersion: 0,
    maxVersion: 17,
    async handle(ctx, request) {
      const version = ctx.apiVersion;
      const usesTopicIds = version >= 13;
      const replicaId = version >= 15 ? request.replicaState.replicaId : request.replicaId;
      const { topics } = deps;
      const requested: FetchRequestPartition[] = [];
      for (const t of request.topics) {
        const name = usesTopicIds ? (topics.topicName(t.topicId) ?? '') : t.topic;
        const topicId = usesTopicIds ? t.topicId : (topics.topicId(t.topic) ?? ZERO_UUID);
        for (const p of t.partitions) {
          requested.push({
            topic: name,
            topicId,
            partition: p.partition,
            fetchOffset: Number(p.fetchOffset),
            partitionMaxBytes: p.partitionMaxBytes,
            currentLeaderEpoch: p.currentLeaderEpoch,
            lastFetchedEpoch: p.lastFetchedEpoch,
            logStartOffset: Number(p.logStartOffset),
          });
        }
      }
      const forgotten: ForgottenPartition[] = [];
      for (const f of request.forgottenTopicsData) {
        for (const partition of f.partitions) forgotten.push({ topic: f.topic, topicId: f.topicId, partition });
      }
      const context: FetchContext = version >= 7
        ? sessions.newContext({
          sessionId: request.sessionId,
          sessionEpoch: request.sessionEpoch,
          partitions: requested,
          forgotten,
          usesTopicIds,
          privileged: replicaId >= 0,
        })
        : { kind: 'full', partitions: requested.map((p) => ({ ...p, highWatermark: -1, lastStableOffset: -1, responseLogStartOffset: -1 })), session: undefined };
      if (context.kind === 'error') return errorResponse(context.errorCode);

      // Partitions of unknown topics are answered without reading.
      const results: (Omit<FetchPartitionResult, 'topic' | 'partition'> | undefined)[] = [];
      const reads: FetchPartitionRequest[] = [];
      const readSlots: number[] = [];
      context.partitions.forEach((p: CachedPartition, i) => {
        if (usesTopicIds && topics.topicName(p.topicId) === undefined) {
          results[i] = failure(ErrorCode.UNKNOWN_TOPIC_ID);
        } else if (!hasPartition(topics, p.topic, p.partition)) {
          results[i] = failure(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
        } else {
          reads.push({
            topic: p.topic,
            partition: p.partition,
            fetchOffset: p.fetchOffset,
            partitionMaxBytes: p.partitionMaxBytes,
            currentLeaderEpoch: p.currentLeaderEpoch,
            lastFetchedEpoch: p.lastFetchedEpoch,
            logStartOffset: p.logStartOffset,
          });
          readSlots.push(i);
        }
      });
      if (reads.length > 0) {
        const read = await deps.replicaManager.fetchMessages({
          replicaId,
          maxWaitMs: request.maxWaitMs,
          minBytes: request.minBytes,
          maxBytes: version >= 3 ? request.maxBytes : MAX_INT32,
          isolationLevel: request.isolationLevel,
          hardMaxBytesLimit: version <= 2,
        }, reads);
        read.forEach((r, i) => {
          results[readSlots[i]!] = r;
        });
      }
      if (version <= 3) {
        for (const r of results) if (r?.records) (r as { records: Buffer | null }).records = await downConvert(r.records, version <= 1 ? 0 : 1);
      }

      const include = FetchSessionCache.settle(context, results.map((r) => ({
        errorCode: r!.errorCode,
        highWatermark: r!.highWatermark,
        lastStableOffset: r!.lastStableOffset,
        logStartOffset: r!.logStartOffset,
        recordBytes: r!.records?.length ?? 0,
        diverging: r!.divergingEpoch !== undefined,
      })));
      const responses: FetchResponseFetchableTopicResponse[] = [];
      context.partitions.forEach((p, i) => {
        if (!include[i]) return;
        let topic = responses[responses.length - 1];
        const same = topic !== undefined && (usesTopicIds ? topic.topicId === p.topicId : topic.topic === p.topic);
        if (!same) {
          topic = { topic: usesTopicIds ? '' : p.topic, topicId: usesTopicIds ? p.topicId : ZERO_UUID, partitions: [] };
          responses.push(topic);
        }
        topic!.partitions.push(partitionData(p.partition, results[i]!, version));
      });
      const sessionId = context.session !== undefined && request.sessionEpoch !== FINAL_EPOCH ? context.session.id : INVALID_SESSION_ID;
      return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, sessionId, responses, nodeEndpoints: [] };
    },
  });
}
