// Produce (key 0), v0–11. Topics are looked up first (unknown → UNKNOWN_TOPIC_OR_PARTITION, internal
// topics refused to clients), then the ReplicaManager validates and appends each partition's records.
// acks=0 gets no response; if anything failed, the connection is closed instead, as Kafka does, so the
// producer notices and refreshes its metadata.
import { ProduceApi } from '../../protocol/generated/apis.js';
import type {
  ProduceRequest,
  ProduceResponse,
  ProduceResponsePartitionProduceResponse,
  ProduceResponseTopicProduceResponse,
} from '../../protocol/generated/messages/produce.js';
import { ErrorCode } from '../../protocol/errors.js';
import { StrataError } from '../../protocol/strata-error.js';
import { isTransactional, MAGIC_OFFSET, ATTRIBUTES_OFFSET, RECORD_BATCH_OVERHEAD } from '../../protocol/records/batch-header.js';
import type { PartitionAppendResult, ProduceEntry } from '../../replication/replica-manager.js';
import type { DataPathDeps } from '../data-path-deps.js';
import { defineHandler, type ApiHandler } from '../registry.js';
import { INTERNAL_TOPICS } from '../../controller/topic-names.js';
import { hasPartition } from '../topic-lookup.js';

/** Kafka lets only its admin client write to internal topics. */
const ADMIN_CLIENT_ID = '__admin_client';

/** Whether any batch of the request is transactional (v2 batches only; legacy ones cannot be). */
function hasTransactionalRecords(request: ProduceRequest): boolean {
  for (const t of request.topicData) {
    for (const p of t.partitionData) {
      const r = p.records;
      if (r !== null && r.length >= RECORD_BATCH_OVERHEAD && r.readInt8(MAGIC_OFFSET) === 2 && isTransactional(r.readInt16BE(ATTRIBUTES_OFFSET))) return true;
    }
  }
  return false;
}

function partitionResponse(index: number, r: Omit<PartitionAppendResult, 'topic' | 'partition'>, version: number): ProduceResponsePartitionProduceResponse {
  const withMessage = r.errorCode === ErrorCode.INVALID_RECORD || r.errorCode === ErrorCode.INVALID_TIMESTAMP;
  return {
    index,
    errorCode: r.errorCode,
    baseOffset: BigInt(r.baseOffset),
    logAppendTimeMs: BigInt(r.logAppendTime),
    logStartOffset: BigInt(r.logStartOffset),
    recordErrors: r.recordErrors.map((e) => ({ batchIndex: e.batchIndex, batchIndexErrorMessage: e.message })),
    errorMessage: withMessage && version >= 8 ? r.errorMessage : null,
    currentLeader: version >= 10 ? { leaderId: r.leaderId, leaderEpoch: r.leaderEpoch } : { leaderId: -1, leaderEpoch: -1 },
  };
}

const failed = (errorCode: number): Omit<PartitionAppendResult, 'topic' | 'partition'> => ({
  errorCode, errorMessage: null, baseOffset: -1, lastOffset: -1, logAppendTime: -1, logStartOffset: -1, recordErrors: [], leaderId: -1, leaderEpoch: -1,
});

export function produceHandler(deps: DataPathDeps): ApiHandler<ProduceRequest, ProduceResponse> {
  return defineHandler(ProduceApi, {
    minVersion: 0,
    maxVersion: 11,
    async handle(ctx, request) {
      const version = ctx.apiVersion;
      // Answers in request order, topic by topic; `slots` are filled by the lookup or by the append.
      const slots: { topic: string; index: number; result?: Omit<PartitionAppendResult, 'topic' | 'partition'> }[] = [];
      const entries: ProduceEntry[] = [];
      const entrySlot: number[] = [];
      // Without an authorizer, only a transactional id is needed to write transactional batches.
      const txnRefused = request.transactionalId === null && hasTransactionalRecords(request);
      for (const t of request.topicData) {
        for (const p of t.partitionData) {
          const slot = slots.push({ topic: t.name, index: p.index }) - 1;
          if (txnRefused) slots[slot]!.result = failed(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
          else if (!hasPartition(deps.topics, t.name, p.index)) slots[slot]!.result = failed(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
          else if (INTERNAL_TOPICS.has(t.name) && ctx.clientId !== ADMIN_CLIENT_ID) slots[slot]!.result = failed(ErrorCode.INVALID_TOPIC_EXCEPTION);
          else {
            entries.push({ topic: t.name, partition: p.index, records: p.records });
            entrySlot.push(slot);
          }
        }
      }
      if (entries.length > 0) {
        const results = await deps.replicaManager.appendRecords({
          entries,
          requiredAcks: request.acks,
          timeoutMs: request.timeoutMs,
          produceVersion: version,
        });
        results.forEach((r, i) => {
          slots[entrySlot[i]!]!.result = r;
        });
      }
      if (request.acks === 0) {
        const bad = slots.find((s) => s.result!.errorCode !== ErrorCode.NONE);
        if (bad !== undefined) {
          throw new StrataError('ERR_STATE',
            `closing the connection: an acks=0 produce to ${bad.topic}-${bad.index} failed with error ${bad.result!.errorCode}`);
        }
        return null;
      }
      const topics: ProduceResponseTopicProduceResponse[] = [];
      for (const s of slots) {
        let topic = topics[topics.length - 1];
        if (topic === undefined || topic.name !== s.topic) {
          topic = { name: s.topic, partitionResponses: [] };
          topics.push(topic);
        }
        topic.partitionResponses.push(partitionResponse(s.index, s.result!, version));
      }
      return { responses: topics, throttleTimeMs: 0, nodeEndpoints: [] };
    },
  });
}
