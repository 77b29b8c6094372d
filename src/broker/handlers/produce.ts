// Produce (key 0), v0–11. Topics are looked up first (unknown → UNKNOWN_TOPIC_OR_PARTITION, internal
// topics refused to clients), then the ReplicaManager validates and appends each partition's records.
// acks=0 gets no response; if anything failed, the connection is closed instead, as Kafka does, so the
// producer notices and refreshes its metadata.
import { ProduceApi } from '../../protocol/generated/apis.js';
import type {
  ProduceRequest,
  ProduceResponse,
  ProduceResponseBatchIndexAndErrorMessage,
  ProduceResponsePartitionProduceResponse,
  ProduceResponseTopicProduceResponse,
} from '../../protocol/generated/messages/produce.js';
import { ErrorCode } from '../../protocol/errors.js';
import { StrataError } from '../../protocol/strata-error.js';
import {
  isTransactional, MAGIC_OFFSET, ATTRIBUTES_OFFSET, RECORD_BATCH_OVERHEAD, PRODUCER_ID_OFFSET, PRODUCER_EPOCH_OFFSET, BASE_SEQUENCE_OFFSET, readInt64,
} from '../../protocol/records/batch-header.js';
import { VerificationGuard } from '../../storage/producer-state.js';
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

// Shared by the answers that leave these fields at their defaults, which is nearly all of them.
const NO_LEADER = Object.freeze({ leaderId: -1, leaderEpoch: -1 });
// Frozen: the response types are mutable, but nothing may add to a shared empty list.
const NO_RECORD_ERRORS = Object.freeze([]) as unknown as ProduceResponseBatchIndexAndErrorMessage[];

function partitionResponse(index: number, r: Omit<PartitionAppendResult, 'topic' | 'partition'>, version: number): ProduceResponsePartitionProduceResponse {
  const withMessage = r.errorCode === ErrorCode.INVALID_RECORD || r.errorCode === ErrorCode.INVALID_TIMESTAMP;
  return {
    index,
    errorCode: r.errorCode,
    baseOffset: BigInt(r.baseOffset),
    logAppendTimeMs: r.logAppendTime === -1 ? -1n : BigInt(r.logAppendTime),
    logStartOffset: BigInt(r.logStartOffset),
    recordErrors: r.recordErrors.length === 0
      ? NO_RECORD_ERRORS
      : r.recordErrors.map((e) => ({ batchIndex: e.batchIndex, batchIndexErrorMessage: e.message })),
    errorMessage: withMessage && version >= 8 ? r.errorMessage : null,
    currentLeader: version >= 10 && (r.leaderId !== -1 || r.leaderEpoch !== -1) ? { leaderId: r.leaderId, leaderEpoch: r.leaderEpoch } : NO_LEADER,
  };
}

const failed = (errorCode: number): Omit<PartitionAppendResult, 'topic' | 'partition'> => ({
  errorCode, errorMessage: null, baseOffset: -1, lastOffset: -1, logAppendTime: -1, logStartOffset: -1, recordErrors: [], leaderId: -1, leaderEpoch: -1,
});

/** A partition of the request and, once known, its answer. */
interface Slot {
  readonly topic: string;
  readonly index: number;
  result?: Omit<PartitionAppendResult, 'topic' | 'partition'>;
}

/** A transactional entry (by index) whose partition the coordinator must confirm, with the guard it got. */
interface Verification {
  readonly i: number;
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly guard: VerificationGuard;
}

/**
 * KIP-890 part 1, as Kafka 3.9's ReplicaManager does it: for each transactional batch the partition first
 * hands out a verification guard (the sentinel when the producer's transaction is already open there at
 * that epoch: no coordinator round trip), then the transaction coordinator is asked whether the partition
 * is in the producer's ongoing transaction. A confirmed entry carries its guard into the append, which the
 * log refuses (INVALID_TXN_STATE) if a marker of the producer landed meanwhile: a late answer can never
 * start a transaction after the one it was about has ended. Entries the coordinator refuses are taken out
 * of `entries` and answered in `slots` with the error Kafka 3.9's produce path gives. Undefined when
 * nothing needs asking, which is every request outside a transaction.
 */
function verifyTransactionalEntries(
  deps: DataPathDeps,
  transactionalId: string | null,
  entries: ProduceEntry[],
  entrySlot: number[],
  slots: Slot[],
): Promise<void> | undefined {
  const rm = deps.replicaManager;
  if (transactionalId === null || !rm.transactionVerificationEnabled) return undefined;
  const toVerify: Verification[] = [];
  entries.forEach((e, i) => {
    const r = e.records;
    if (r === null || r.length < RECORD_BATCH_OVERHEAD || r.readInt8(MAGIC_OFFSET) !== 2 || !isTransactional(r.readInt16BE(ATTRIBUTES_OFFSET))) return;
    const producerId = readInt64(r, PRODUCER_ID_OFFSET);
    const producerEpoch = r.readInt16BE(PRODUCER_EPOCH_OFFSET);
    let guard: VerificationGuard;
    try {
      guard = rm.maybeStartTransactionVerification(e.topic, e.partition, producerId, r.readInt32BE(BASE_SEQUENCE_OFFSET), producerEpoch);
    } catch {
      // Not the leader, unknown, offline: the append answers that error itself.
      return;
    }
    if (guard !== VerificationGuard.SENTINEL) toVerify.push({ i, producerId, producerEpoch, guard });
  });
  // Without a coordinator to ask, the entries go unverified and the log refuses them.
  const verify = deps.verifyTransaction;
  if (toVerify.length === 0 || verify === undefined) return undefined;
  return askCoordinator(verify, transactionalId, toVerify, entries, entrySlot, slots);
}

async function askCoordinator(
  verify: NonNullable<DataPathDeps['verifyTransaction']>,
  transactionalId: string,
  toVerify: readonly Verification[],
  entries: ProduceEntry[],
  entrySlot: number[],
  slots: Slot[],
): Promise<void> {
  const refused = new Set<number>();
  // Batches of one request share a producer; verify per producer id and epoch all the same.
  const groups = new Map<string, Verification[]>();
  for (const v of toVerify) {
    const k = `${v.producerId}:${v.producerEpoch}`;
    const g = groups.get(k);
    if (g === undefined) groups.set(k, [v]);
    else g.push(v);
  }
  await Promise.all([...groups.values()].map(async (g) => {
    const codes = await verify(transactionalId, g[0]!.producerId, g[0]!.producerEpoch, g.map((v) => ({ topic: entries[v.i]!.topic, partition: entries[v.i]!.partition })));
    g.forEach((v, j) => {
      let code = codes[j] ?? ErrorCode.UNKNOWN_SERVER_ERROR;
      if (code === ErrorCode.NONE) {
        entries[v.i] = { ...entries[v.i]!, verificationGuard: v.guard };
        return;
      }
      // What Kafka 3.9's produce path answers for a failed verification (TRANSACTION_ABORTABLE is newer).
      if (code === ErrorCode.TRANSACTION_ABORTABLE) code = ErrorCode.INVALID_TXN_STATE;
      if (code === ErrorCode.PRODUCER_FENCED) code = ErrorCode.INVALID_PRODUCER_EPOCH;
      if (code === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS || code === ErrorCode.COORDINATOR_NOT_AVAILABLE || code === ErrorCode.NOT_COORDINATOR) {
        code = ErrorCode.NOT_ENOUGH_REPLICAS;
      }
      slots[entrySlot[v.i]!]!.result = failed(code);
      refused.add(v.i);
    });
  }));
  for (let i = entries.length - 1; i >= 0; i--) {
    if (!refused.has(i)) continue;
    entries.splice(i, 1);
    entrySlot.splice(i, 1);
  }
}

export function produceHandler(deps: DataPathDeps): ApiHandler<ProduceRequest, ProduceResponse> {
  return defineHandler(ProduceApi, {
    minVersion: 0,
    maxVersion: 11,
    handle(ctx, request) {
      const version = ctx.apiVersion;
      // Answers in request order, topic by topic; `slots` are filled by the lookup or by the append.
      const slots: Slot[] = [];
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
      const append = (): PartitionAppendResult[] | Promise<PartitionAppendResult[]> => entries.length === 0
        ? []
        : deps.replicaManager.appendRecordsFast({ entries, requiredAcks: request.acks, timeoutMs: request.timeoutMs, produceVersion: version });
      // Most requests are answered within this call: nothing to ask a coordinator, and appends that the
      // logs take synchronously.
      const verifying = verifyTransactionalEntries(deps, request.transactionalId, entries, entrySlot, slots);
      const appended = verifying === undefined ? append() : verifying.then(append);
      if (appended instanceof Promise) return appended.then((results) => respond(request, version, slots, entrySlot, results));
      return respond(request, version, slots, entrySlot, appended);
    },
  });
}

/** The response (none for acks=0) once every slot has its answer. */
function respond(request: ProduceRequest, version: number, slots: Slot[], entrySlot: readonly number[],
  results: readonly PartitionAppendResult[]): ProduceResponse | null {
  results.forEach((r, i) => {
    slots[entrySlot[i]!]!.result = r;
  });
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
}
