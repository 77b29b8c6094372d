// Transactions as an operator sees them, against any Kafka-compatible broker, in the manner of
// kafka-transactions.sh: list the transactions coordinators know, describe one, list the producers with
// state on a partition, find hanging transactions (open on a partition, unknown to or forgotten by their
// coordinator), and abort one by writing an ABORT marker to its partition (WriteTxnMarkers).
import { ApiKey } from '../protocol/generated/apis.js';
import { ErrorCode } from '../protocol/errors.js';
import { StrataError } from '../protocol/strata-error.js';
import { KafkaResponseError } from './errors.js';
import { COORDINATOR_ERRORS, CoordinatorKeyType, findCoordinatorOf, withCoordinatorRetries } from './coordinator-lookup.js';
import type { KafkaClient } from './kafka-client.js';


export interface TransactionListing {
  readonly transactionalId: string;
  readonly producerId: number;
  readonly state: string;
  readonly coordinator: number;
}

export interface TransactionDescription {
  readonly transactionalId: string;
  readonly coordinator: number;
  readonly state: string;
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly timeoutMs: number;
  /** -1 when no transaction is open. */
  readonly startTimeMs: number;
  readonly partitions: readonly { readonly topic: string; readonly partition: number }[];
}

export interface ProducerState {
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly lastSequence: number;
  readonly lastTimestamp: number;
  readonly coordinatorEpoch: number;
  /** -1 when the producer has no open transaction on the partition. */
  readonly currentTxnStartOffset: number;
}

export interface HangingTransaction extends ProducerState {
  readonly topic: string;
  readonly partition: number;
  /** Why it counts as hanging. */
  readonly reason: string;
}

/** The broker coordinating `transactionalId` (FindCoordinator v1+, which has key types). */
export function findTransactionCoordinator(client: KafkaClient, transactionalId: string): Promise<number> {
  return findCoordinatorOf(client, CoordinatorKeyType.transaction, transactionalId, `transactional id '${transactionalId}'`, { send: { minVersion: 1 } });
}

/** Every transaction of every broker's coordinator (ListTransactions), sorted by id. */
export async function listTransactions(
  client: KafkaClient,
  filter: { states?: readonly string[]; producerIds?: readonly number[]; durationMs?: number } = {},
): Promise<TransactionListing[]> {
  const cluster = await client.describeCluster();
  const out: TransactionListing[] = [];
  await Promise.all(
    cluster.brokers.map((b) =>
      withCoordinatorRetries({}, async () => {
        const { response } = await client.send({ nodeId: b.nodeId }, ApiKey.ListTransactions, {
          stateFilters: [...(filter.states ?? [])],
          producerIdFilters: (filter.producerIds ?? []).map(BigInt),
          durationFilter: BigInt(filter.durationMs ?? -1),
        }, { minVersion: filter.durationMs !== undefined ? 1 : 0 });
        if (response.errorCode !== ErrorCode.NONE) throw new KafkaResponseError(response.errorCode, { subject: `the transactions of broker ${b.nodeId}` });
        for (const t of response.transactionStates) {
          out.push({ transactionalId: t.transactionalId, producerId: Number(t.producerId), state: t.transactionState, coordinator: b.nodeId });
        }
      }),
    ),
  );
  return out.sort((a, b) => (a.transactionalId < b.transactionalId ? -1 : a.transactionalId > b.transactionalId ? 1 : 0));
}

/** One transactional id as its coordinator describes it. */
export function describeTransaction(client: KafkaClient, transactionalId: string): Promise<TransactionDescription> {
  return withCoordinatorRetries({}, async () => {
    const coordinator = await findTransactionCoordinator(client, transactionalId);
    const { response } = await client.send({ nodeId: coordinator }, ApiKey.DescribeTransactions, { transactionalIds: [transactionalId] });
    const s = response.transactionStates[0];
    const errorCode = s?.errorCode ?? ErrorCode.UNKNOWN_SERVER_ERROR;
    if (errorCode !== ErrorCode.NONE) {
      throw new KafkaResponseError(errorCode, { subject: `transactional id '${transactionalId}'`, retriable: COORDINATOR_ERRORS.has(errorCode) });
    }
    return {
      transactionalId,
      coordinator,
      state: s!.transactionState,
      producerId: Number(s!.producerId),
      producerEpoch: s!.producerEpoch,
      timeoutMs: s!.transactionTimeoutMs,
      startTimeMs: Number(s!.transactionStartTimeMs),
      partitions: s!.topics.flatMap((t) => t.partitions.map((partition) => ({ topic: t.topic, partition }))),
    };
  });
}

async function leaderOf(client: KafkaClient, topic: string, partition: number): Promise<number> {
  const [info] = await client.describeTopics([topic]);
  const p = info?.partitions.find((x) => x.partition === partition);
  if (p === undefined) throw new KafkaResponseError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, { subject: `${topic}-${partition}` });
  if (p.leader < 0) throw new KafkaResponseError(ErrorCode.LEADER_NOT_AVAILABLE, { subject: `${topic}-${partition}` });
  return p.leader;
}

/** The producers with state on a partition, from its leader (DescribeProducers). */
export async function describeProducers(client: KafkaClient, topic: string, partition: number): Promise<ProducerState[]> {
  const leader = await leaderOf(client, topic, partition);
  const { response } = await client.send({ nodeId: leader }, ApiKey.DescribeProducers, { topics: [{ name: topic, partitionIndexes: [partition] }] });
  const p = response.topics[0]?.partitions[0];
  const errorCode = p?.errorCode ?? ErrorCode.UNKNOWN_SERVER_ERROR;
  if (errorCode !== ErrorCode.NONE) throw new KafkaResponseError(errorCode, { subject: `${topic}-${partition}`, serverMessage: p?.errorMessage ?? null });
  return p!.activeProducers.map((a) => ({
    producerId: Number(a.producerId),
    producerEpoch: a.producerEpoch,
    lastSequence: a.lastSequence,
    lastTimestamp: Number(a.lastTimestamp),
    coordinatorEpoch: a.coordinatorEpoch,
    currentTxnStartOffset: Number(a.currentTxnStartOffset),
  }));
}

/**
 * Transactions open on the partitions of `topics` (every partition when none are given) that no
 * coordinator has open on that partition and that started longer than `maxTransactionTimeoutMs` ago —
 * what kafka-transactions.sh find-hanging reports.
 */
export async function findHangingTransactions(
  client: KafkaClient,
  topics: readonly string[],
  opts: { maxTransactionTimeoutMs?: number; now?: number } = {},
): Promise<HangingTransaction[]> {
  const maxTimeout = opts.maxTransactionTimeoutMs ?? 900_000;
  const now = opts.now ?? Date.now();
  const infos = await client.describeTopics(topics.length > 0 ? topics : undefined);
  const open: HangingTransaction[] = [];
  for (const info of infos) {
    for (const p of info.partitions) {
      for (const s of await describeProducers(client, info.name, p.partition)) {
        if (s.currentTxnStartOffset >= 0) open.push({ ...s, topic: info.name, partition: p.partition, reason: '' });
      }
    }
  }
  if (open.length === 0) return [];
  // What the coordinators have open, per producer id.
  const listings = await listTransactions(client, { producerIds: [...new Set(open.map((o) => o.producerId))] });
  const known = new Map<number, TransactionDescription>();
  for (const l of listings) {
    if (l.state === 'Ongoing' || l.state === 'PrepareCommit' || l.state === 'PrepareAbort') known.set(l.producerId, await describeTransaction(client, l.transactionalId));
  }
  const hanging: HangingTransaction[] = [];
  for (const o of open) {
    const d = known.get(o.producerId);
    const inIt = d !== undefined && d.producerEpoch >= o.producerEpoch && d.partitions.some((tp) => tp.topic === o.topic && tp.partition === o.partition);
    if (inIt) continue;
    if (now - o.lastTimestamp < maxTimeout) continue;
    hanging.push({ ...o, reason: d === undefined ? 'no coordinator has a transaction open for this producer' : 'the coordinator\'s open transaction does not include this partition' });
  }
  return hanging;
}

/**
 * Aborts the transaction open on a partition by writing an ABORT marker for its producer to the
 * partition's leader. Give the start offset (the producer is found with DescribeProducers) or the
 * producer's id, epoch and coordinator epoch.
 */
export async function abortTransaction(
  client: KafkaClient,
  target: { topic: string; partition: number } & ({ startOffset: number } | { producerId: number; producerEpoch: number; coordinatorEpoch: number }),
): Promise<{ producerId: number; producerEpoch: number }> {
  let producerId: number;
  let producerEpoch: number;
  let coordinatorEpoch: number;
  if ('startOffset' in target) {
    const producers = await describeProducers(client, target.topic, target.partition);
    const s = producers.find((p) => p.currentTxnStartOffset === target.startOffset);
    if (s === undefined) {
      throw new StrataError('ERR_STATE', `no transaction starting at offset ${target.startOffset} is open on ${target.topic}-${target.partition}`);
    }
    ({ producerId, producerEpoch, coordinatorEpoch } = s);
  } else {
    ({ producerId, producerEpoch, coordinatorEpoch } = target);
  }
  const leader = await leaderOf(client, target.topic, target.partition);
  const { response } = await client.send({ nodeId: leader }, ApiKey.WriteTxnMarkers, {
    markers: [{
      producerId: BigInt(producerId),
      producerEpoch,
      transactionResult: false,
      topics: [{ name: target.topic, partitionIndexes: [target.partition] }],
      // Kafka's tool writes with the coordinator epoch the partition last saw: the marker must not be older.
      coordinatorEpoch: Math.max(coordinatorEpoch, 0),
    }],
  });
  const errorCode = response.markers[0]?.topics[0]?.partitions[0]?.errorCode ?? ErrorCode.UNKNOWN_SERVER_ERROR;
  if (errorCode !== ErrorCode.NONE) throw new KafkaResponseError(errorCode, { subject: `the abort marker on ${target.topic}-${target.partition}` });
  return { producerId, producerEpoch };
}
