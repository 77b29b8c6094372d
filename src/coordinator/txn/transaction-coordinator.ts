// The transaction coordinator service: routes each transactional id to the __transaction_state partition
// that owns it, checks what Kafka checks before the state machine, allocates producer ids, drives the
// marker phase, shapes responses per API version and turns runtime failures (NOT_COORDINATOR,
// COORDINATOR_LOAD_IN_PROGRESS, ...) into error codes. API handlers call it with decoded requests and
// encode what it returns; the `handle…` methods are the version-independent core.
import { ErrorCode } from '../../protocol/errors.js';
import type { AddOffsetsToTxnRequest, AddOffsetsToTxnResponse } from '../../protocol/generated/messages/add-offsets-to-txn.js';
import type {
  AddPartitionsToTxnRequest,
  AddPartitionsToTxnRequestAddPartitionsToTxnTopic,
  AddPartitionsToTxnResponse,
  AddPartitionsToTxnResponseAddPartitionsToTxnResult,
  AddPartitionsToTxnResponseAddPartitionsToTxnTopicResult,
} from '../../protocol/generated/messages/add-partitions-to-txn.js';
import type { DescribeTransactionsRequest, DescribeTransactionsResponse, DescribeTransactionsResponseTransactionState } from '../../protocol/generated/messages/describe-transactions.js';
import type { EndTxnRequest, EndTxnResponse } from '../../protocol/generated/messages/end-txn.js';
import type { InitProducerIdRequest, InitProducerIdResponse } from '../../protocol/generated/messages/init-producer-id.js';
import type { ListTransactionsRequest, ListTransactionsResponse, ListTransactionsResponseTransactionState } from '../../protocol/generated/messages/list-transactions.js';
import { errorCodeOf } from '../errors.js';
import { groupPartitionFor } from '../group/partitioner.js';
import { CoordinatorRuntime } from '../runtime.js';
import type { CoordinatorLog } from '../runtime.js';
import type { Scheduler } from '../scheduler.js';
import { transactionCoordinatorConfig } from './config.js';
import type { TransactionCoordinatorConfig } from './config.js';
import { MarkerDispatcher, TransactionResult } from './marker-dispatcher.js';
import type { MarkerJob, TxnMarkerSender } from './marker-dispatcher.js';
import { transactionPartitionFor } from './partitioner.js';
import { TransactionCoordinatorShard } from './transaction-shard.js';
import type { InitProducerIdOutcome, PartitionError, ProducerIdAndEpoch } from './transaction-shard.js';
import { NO_PRODUCER_EPOCH, NO_PRODUCER_ID, transactionStateFromName } from './transaction-metadata.js';
import type { TopicPartition, TransactionState } from './transaction-metadata.js';

export const GROUP_METADATA_TOPIC_NAME = '__consumer_offsets';
export const TRANSACTION_STATE_TOPIC_NAME = '__transaction_state';

export interface TransactionCoordinatorOptions {
  readonly config?: Partial<TransactionCoordinatorConfig>;
  readonly scheduler: Scheduler;
  /** The __transaction_state partition log, from the replication layer. */
  readonly logFor: (partition: number) => CoordinatorLog;
  /**
   * The next unused producer id (the broker's producer-id blocks). A rejection carrying a numeric
   * `errorCode` is answered with that code; any other with COORDINATOR_LOAD_IN_PROGRESS (retriable).
   */
  readonly allocateProducerId: () => Promise<number>;
  readonly markerSender: TxnMarkerSender;
  readonly onShardFailure?: (partition: number, epoch: number, error: unknown) => void;
  /** Markers of a transaction were given up (its producer or this coordinator was superseded). */
  readonly onMarkersAbandoned?: (job: MarkerJob, errorCode: number) => void;
}

export interface InitProducerIdResult {
  readonly errorCode: number;
  readonly producerId: number;
  readonly producerEpoch: number;
}

/** Attempts at InitProducerId when its state changes between allocating a producer id and using it. */
const MAX_INIT_ATTEMPTS = 5;

function allocationErrorCode(e: unknown): number {
  if (typeof e === 'object' && e !== null && 'errorCode' in e && typeof e.errorCode === 'number') return e.errorCode;
  return ErrorCode.COORDINATOR_LOAD_IN_PROGRESS;
}

const initError = (errorCode: number): InitProducerIdResult => ({ errorCode, producerId: NO_PRODUCER_ID, producerEpoch: NO_PRODUCER_EPOCH });

function partitionsOf(topics: readonly AddPartitionsToTxnRequestAddPartitionsToTxnTopic[]): TopicPartition[] {
  return topics.flatMap((t) => t.partitions.map((partition) => ({ topic: t.name, partition })));
}

function topicResults(errors: readonly PartitionError[]): AddPartitionsToTxnResponseAddPartitionsToTxnTopicResult[] {
  const byTopic = new Map<string, AddPartitionsToTxnResponseAddPartitionsToTxnTopicResult>();
  for (const e of errors) {
    let t = byTopic.get(e.topic);
    if (t === undefined) byTopic.set(e.topic, (t = { name: e.topic, resultsByPartition: [] }));
    t.resultsByPartition.push({ partitionIndex: e.partition, partitionErrorCode: e.errorCode });
  }
  return [...byTopic.values()];
}

/** PRODUCER_FENCED exists from these versions on; older clients understand INVALID_PRODUCER_EPOCH. */
const fencedFor = (errorCode: number, apiVersion: number, firstVersion: number): number =>
  errorCode === ErrorCode.PRODUCER_FENCED && apiVersion < firstVersion ? ErrorCode.INVALID_PRODUCER_EPOCH : errorCode;

export class TransactionCoordinator {
  readonly config: TransactionCoordinatorConfig;
  readonly runtime: CoordinatorRuntime<TransactionCoordinatorShard>;
  readonly #opts: TransactionCoordinatorOptions;
  readonly #markers: MarkerDispatcher;
  /** The leader epoch each partition is being loaded at, read when its shard is created. */
  readonly #epochs = new Map<number, number>();

  constructor(opts: TransactionCoordinatorOptions) {
    const config = transactionCoordinatorConfig(opts.config);
    this.config = config;
    this.#opts = opts;
    this.#markers = new MarkerDispatcher({
      sender: opts.markerSender,
      scheduler: opts.scheduler,
      retryBackoffMs: config.markerRetryBackoffMs,
      retryBackoffMaxMs: config.markerRetryBackoffMaxMs,
      onAbandoned: opts.onMarkersAbandoned,
    });
    this.runtime = new CoordinatorRuntime<TransactionCoordinatorShard>({
      scheduler: opts.scheduler,
      logFor: opts.logFor,
      createShard: (env) =>
        new TransactionCoordinatorShard(env, {
          config,
          coordinatorEpoch: this.#epochs.get(env.partition) ?? 0,
          markers: this.#markers,
          onMarkersWritten: (partition, job) => this.#complete(partition, job),
        }),
      onShardFailure: opts.onShardFailure,
    });
  }

  /** The __transaction_state partition that coordinates `transactionalId`. */
  partitionFor(transactionalId: string): number {
    return transactionPartitionFor(transactionalId, this.config.transactionStateLogNumPartitions);
  }

  /** This broker became leader of a __transaction_state partition: load it, resume unfinished markers. */
  onElection(partition: number, epoch: number): Promise<void> {
    const known = this.#epochs.get(partition);
    if (known === undefined || epoch > known) this.#epochs.set(partition, epoch);
    return this.runtime.load(partition, epoch);
  }

  /** This broker stopped leading a __transaction_state partition. */
  onResignation(partition: number, epoch?: number): void {
    this.runtime.unload(partition, epoch);
  }

  close(): void {
    this.runtime.close();
  }

  validTransactionTimeout(txnTimeoutMs: number): boolean {
    return txnTimeoutMs > 0 && txnTimeoutMs <= this.config.transactionMaxTimeoutMs;
  }

  // ---- InitProducerId ----

  async handleInitProducerId(transactionalId: string | null, txnTimeoutMs: number, expected?: ProducerIdAndEpoch): Promise<InitProducerIdResult> {
    if (transactionalId === null) {
      // An idempotent producer: any broker hands out a fresh id, nothing is recorded.
      try {
        return { errorCode: ErrorCode.NONE, producerId: await this.#opts.allocateProducerId(), producerEpoch: 0 };
      } catch (e) {
        return initError(allocationErrorCode(e));
      }
    }
    if (transactionalId === '') return initError(ErrorCode.INVALID_REQUEST);
    if (!this.validTransactionTimeout(txnTimeoutMs)) return initError(ErrorCode.INVALID_TRANSACTION_TIMEOUT);
    const partition = this.partitionFor(transactionalId);
    let newProducerId: number | undefined;
    for (let attempt = 0; attempt < MAX_INIT_ATTEMPTS; attempt++) {
      let outcome: InitProducerIdOutcome;
      try {
        const pid = newProducerId;
        outcome = await this.runtime.scheduleWrite(partition, (shard, ctx) => shard.initProducerId(ctx, transactionalId, txnTimeoutMs, expected, pid), transactionalId);
      } catch (e) {
        return initError(errorCodeOf(e));
      }
      if (outcome.kind === 'done') return { errorCode: outcome.errorCode, producerId: outcome.producerId, producerEpoch: outcome.producerEpoch };
      // Allocation may wait for the controller, so it happens outside the partition's queue and the
      // operation runs again with the id in hand.
      try {
        newProducerId = await this.#opts.allocateProducerId();
      } catch (e) {
        return initError(allocationErrorCode(e));
      }
    }
    return initError(ErrorCode.CONCURRENT_TRANSACTIONS);
  }

  async initProducerId(apiVersion: number, req: InitProducerIdRequest): Promise<InitProducerIdResponse> {
    const respond = (r: InitProducerIdResult): InitProducerIdResponse => ({
      throttleTimeMs: 0,
      errorCode: fencedFor(r.errorCode, apiVersion, 4),
      producerId: BigInt(r.producerId),
      producerEpoch: r.producerEpoch,
    });
    const pid = Number(req.producerId);
    const epoch = req.producerEpoch;
    // v3+ (KIP-360) may name the producer's current id and epoch: both or neither.
    if ((pid === NO_PRODUCER_ID) !== (epoch === NO_PRODUCER_EPOCH)) return respond(initError(ErrorCode.INVALID_REQUEST));
    const expected = pid === NO_PRODUCER_ID ? undefined : { producerId: pid, producerEpoch: epoch };
    return respond(await this.handleInitProducerId(req.transactionalId, req.transactionTimeoutMs, expected));
  }

  // ---- AddPartitionsToTxn / AddOffsetsToTxn ----

  async handleAddPartitions(transactionalId: string, producerId: number, producerEpoch: number, partitions: readonly TopicPartition[]): Promise<number> {
    if (transactionalId === '') return ErrorCode.INVALID_REQUEST;
    try {
      return await this.runtime.scheduleWrite(this.partitionFor(transactionalId), (shard, ctx) =>
        shard.addPartitions(ctx, transactionalId, producerId, producerEpoch, partitions), transactionalId,
      );
    } catch (e) {
      return errorCodeOf(e);
    }
  }

  /** KIP-890 verification: is each partition in the producer's ongoing transaction? Writes nothing. */
  async handleVerifyPartitions(transactionalId: string, producerId: number, producerEpoch: number, partitions: readonly TopicPartition[]): Promise<PartitionError[]> {
    const all = (errorCode: number): PartitionError[] => partitions.map((tp) => ({ ...tp, errorCode }));
    if (transactionalId === '') return all(ErrorCode.INVALID_REQUEST);
    try {
      return await this.runtime.scheduleRead(this.partitionFor(transactionalId), (shard) => shard.verifyPartitions(transactionalId, producerId, producerEpoch, partitions), transactionalId);
    } catch (e) {
      return all(errorCodeOf(e));
    }
  }

  /**
   * AddPartitionsToTxn in every version: v0–v3 from producers (one transaction, one error for all its
   * partitions), v4+ from brokers (a batch of transactions, each either added or only verified).
   */
  async addPartitionsToTxn(apiVersion: number, req: AddPartitionsToTxnRequest): Promise<AddPartitionsToTxnResponse> {
    if (apiVersion <= 3) {
      const partitions = partitionsOf(req.v3AndBelowTopics);
      const code = await this.handleAddPartitions(req.v3AndBelowTransactionalId, Number(req.v3AndBelowProducerId), req.v3AndBelowProducerEpoch, partitions);
      const errorCode = fencedFor(code, apiVersion, 2);
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.NONE,
        resultsByTransaction: [],
        resultsByTopicV3AndBelow: topicResults(partitions.map((tp) => ({ ...tp, errorCode }))),
      };
    }
    const resultsByTransaction: AddPartitionsToTxnResponseAddPartitionsToTxnResult[] = await Promise.all(
      req.transactions.map(async (t) => {
        const partitions = partitionsOf(t.topics);
        let errors: PartitionError[];
        if (t.verifyOnly) {
          errors = await this.handleVerifyPartitions(t.transactionalId, Number(t.producerId), t.producerEpoch, partitions);
        } else {
          const errorCode = await this.handleAddPartitions(t.transactionalId, Number(t.producerId), t.producerEpoch, partitions);
          errors = partitions.map((tp) => ({ ...tp, errorCode }));
        }
        // TRANSACTION_ABORTABLE is understood from v5; a v4 caller gets the older INVALID_TXN_STATE.
        if (apiVersion < 5) {
          errors = errors.map((e) => (e.errorCode === ErrorCode.TRANSACTION_ABORTABLE ? { ...e, errorCode: ErrorCode.INVALID_TXN_STATE } : e));
        }
        return { transactionalId: t.transactionalId, topicResults: topicResults(errors) };
      }),
    );
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, resultsByTransaction, resultsByTopicV3AndBelow: [] };
  }

  /** The group's __consumer_offsets partition joins the transaction, so that its offsets get the marker. */
  handleAddOffsets(transactionalId: string, producerId: number, producerEpoch: number, groupId: string): Promise<number> {
    const partition = groupPartitionFor(groupId, this.config.offsetsTopicNumPartitions);
    return this.handleAddPartitions(transactionalId, producerId, producerEpoch, [{ topic: GROUP_METADATA_TOPIC_NAME, partition }]);
  }

  async addOffsetsToTxn(apiVersion: number, req: AddOffsetsToTxnRequest): Promise<AddOffsetsToTxnResponse> {
    const code = await this.handleAddOffsets(req.transactionalId, Number(req.producerId), req.producerEpoch, req.groupId);
    return { throttleTimeMs: 0, errorCode: fencedFor(code, apiVersion, 2) };
  }

  // ---- EndTxn ----

  /**
   * Commit or abort: answered once the PrepareCommit / PrepareAbort record is committed (the outcome is
   * then decided); the markers and the Complete… record follow in the background.
   */
  async handleEndTxn(transactionalId: string, producerId: number, producerEpoch: number, result: TransactionResult): Promise<number> {
    if (transactionalId === '') return ErrorCode.INVALID_REQUEST;
    try {
      return await this.runtime.scheduleWrite(this.partitionFor(transactionalId), (shard, ctx) =>
        shard.endTransaction(ctx, transactionalId, producerId, producerEpoch, result), transactionalId,
      );
    } catch (e) {
      return errorCodeOf(e);
    }
  }

  async endTxn(apiVersion: number, req: EndTxnRequest): Promise<EndTxnResponse> {
    const result = req.committed ? TransactionResult.COMMIT : TransactionResult.ABORT;
    const code = await this.handleEndTxn(req.transactionalId, Number(req.producerId), req.producerEpoch, result);
    return { throttleTimeMs: 0, errorCode: fencedFor(code, apiVersion, 2) };
  }

  #complete(partition: number, job: MarkerJob): void {
    // A failed write unloads the partition; whoever loads it next resumes from the Prepare… record.
    this.runtime.scheduleWrite(partition, (shard, ctx) => shard.completeTransaction(ctx, job), job.transactionalId).catch(() => undefined);
  }

  // ---- DescribeTransactions / ListTransactions ----

  async describeTransactions(req: DescribeTransactionsRequest): Promise<DescribeTransactionsResponse> {
    const transactionStates = await Promise.all(req.transactionalIds.map((id) => this.describeTransaction(id)));
    return { throttleTimeMs: 0, transactionStates };
  }

  async describeTransaction(transactionalId: string): Promise<DescribeTransactionsResponseTransactionState> {
    const failure = (errorCode: number): DescribeTransactionsResponseTransactionState => ({
      errorCode,
      transactionalId,
      transactionState: '',
      transactionTimeoutMs: 0,
      transactionStartTimeMs: 0n,
      producerId: 0n,
      producerEpoch: 0,
      topics: [],
    });
    if (transactionalId === '') return failure(ErrorCode.INVALID_REQUEST);
    try {
      return await this.runtime.scheduleRead(this.partitionFor(transactionalId), (shard) => shard.describe(transactionalId), transactionalId);
    } catch (e) {
      return failure(errorCodeOf(e));
    }
  }

  /**
   * Transactions of every partition this broker coordinates. Kafka answers nothing but
   * COORDINATOR_LOAD_IN_PROGRESS while any partition is loading; filters are ANDed.
   */
  async listTransactions(req: ListTransactionsRequest): Promise<ListTransactionsResponse> {
    const unknownStateFilters: string[] = [];
    const states = new Set<TransactionState>();
    for (const name of req.stateFilters) {
      const s = transactionStateFromName(name);
      if (s === undefined) unknownStateFilters.push(name);
      else states.add(s);
    }
    if (this.runtime.loadingPartitions().length > 0) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, unknownStateFilters, transactionStates: [] };
    }
    const filter = {
      states: req.stateFilters.length > 0 ? states : undefined,
      producerIds: req.producerIdFilters.length > 0 ? new Set(req.producerIdFilters.map(Number)) : undefined,
      minDurationMs: Number(req.durationFilter),
    };
    let errorCode: number = ErrorCode.NONE;
    const parts = await Promise.all(
      this.runtime.activePartitions().map(async (p): Promise<ListTransactionsResponseTransactionState[]> => {
        try {
          return await this.runtime.scheduleRead(p, (shard) => shard.list(filter, this.runtime.now()));
        } catch (e) {
          // A partition that moved away meanwhile is simply no longer ours to list.
          if (errorCodeOf(e) === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS) errorCode = ErrorCode.COORDINATOR_LOAD_IN_PROGRESS;
          return [];
        }
      }),
    );
    return { throttleTimeMs: 0, errorCode, unknownStateFilters, transactionStates: errorCode === ErrorCode.NONE ? parts.flat() : [] };
  }
}
