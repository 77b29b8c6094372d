// Drives a TransactionCoordinator over an in-memory __transaction_state log, a hand-moved clock, a
// counting producer-id source and a marker sender that records every call and answers as scripted.
import { ManualScheduler } from '../../../src/coordinator/scheduler.js';
import type { TransactionCoordinatorConfig } from '../../../src/coordinator/txn/config.js';
import type { MarkerJob, MarkerPartitionResult, TransactionResult, TxnMarkerSender } from '../../../src/coordinator/txn/marker-dispatcher.js';
import { decodeTransactionRecord } from '../../../src/coordinator/txn/records.js';
import { TransactionCoordinator } from '../../../src/coordinator/txn/transaction-coordinator.js';
import type { TopicPartition } from '../../../src/coordinator/txn/transaction-metadata.js';
import { TRANSACTION_STATE_NAMES } from '../../../src/coordinator/txn/transaction-metadata.js';
import { ErrorCode } from '../../../src/protocol/errors.js';
import { MemoryCoordinatorLog, settle } from '../memory-log.js';

export interface MarkerCall {
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly result: TransactionResult;
  readonly partitions: string[];
  readonly coordinatorEpoch: number;
}

export const tpName = (tp: TopicPartition): string => `${tp.topic}-${tp.partition}`;

/** Records calls; answers NONE unless a partition has scripted errors (one consumed per call), or holds. */
export class FakeMarkerSender implements TxnMarkerSender {
  readonly calls: MarkerCall[] = [];
  /** "topic-partition" → error codes to answer, in order. */
  readonly script = new Map<string, number[]>();
  /** While true, calls get no answer until release(). */
  hold = false;
  #held: (() => void)[] = [];

  sendMarkers(producerId: number, producerEpoch: number, result: TransactionResult, partitions: readonly TopicPartition[], coordinatorEpoch: number): Promise<readonly MarkerPartitionResult[]> {
    this.calls.push({ producerId, producerEpoch, result, partitions: partitions.map(tpName), coordinatorEpoch });
    const answer = (): MarkerPartitionResult[] => partitions.map((tp) => ({ ...tp, errorCode: this.script.get(tpName(tp))?.shift() ?? ErrorCode.NONE }));
    if (!this.hold) return Promise.resolve(answer());
    return new Promise((resolve) => this.#held.push(() => resolve(answer())));
  }

  release(): void {
    this.hold = false;
    for (const r of this.#held.splice(0)) r();
  }
}

export interface Harness {
  readonly scheduler: ManualScheduler;
  readonly log: MemoryCoordinatorLog;
  readonly sender: FakeMarkerSender;
  readonly tc: TransactionCoordinator;
  readonly abandoned: { job: MarkerJob; errorCode: number }[];
  readonly allocated: number[];
}

export interface StartOptions {
  readonly config?: Partial<TransactionCoordinatorConfig>;
  readonly log?: MemoryCoordinatorLog;
  readonly scheduler?: ManualScheduler;
  readonly sender?: FakeMarkerSender;
  readonly epoch?: number;
  readonly firstProducerId?: number;
}

/** A coordinator with one __transaction_state partition, elected at `epoch` (7 unless told). */
export async function start(opts: StartOptions = {}): Promise<Harness> {
  const log = opts.log ?? new MemoryCoordinatorLog();
  const scheduler = opts.scheduler ?? new ManualScheduler();
  const sender = opts.sender ?? new FakeMarkerSender();
  const abandoned: { job: MarkerJob; errorCode: number }[] = [];
  const allocated: number[] = [];
  let next = opts.firstProducerId ?? 1000;
  const tc = new TransactionCoordinator({
    scheduler,
    logFor: () => log,
    allocateProducerId: () => {
      allocated.push(next);
      return Promise.resolve(next++);
    },
    markerSender: sender,
    onMarkersAbandoned: (job, errorCode) => abandoned.push({ job, errorCode }),
    config: { transactionStateLogNumPartitions: 1, ...opts.config },
  });
  await tc.onElection(0, opts.epoch ?? 7);
  await settle();
  return { scheduler, log, sender, tc, abandoned, allocated };
}

/** The transaction state names of the log's records, in order (tombstones as null). */
export function loggedStates(log: MemoryCoordinatorLog, transactionalId?: string): (string | null)[] {
  const out: (string | null)[] = [];
  for (const r of log.records) {
    const d = decodeTransactionRecord(r);
    if (d.kind !== 'txn' || (transactionalId !== undefined && d.transactionalId !== transactionalId)) continue;
    out.push(d.metadata === null ? null : TRANSACTION_STATE_NAMES[d.metadata.state]);
  }
  return out;
}

/** Lets every pending callback run (markers, completions), a few rounds deep. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 3; i++) await settle();
}

export const tp = (topic: string, partition: number): TopicPartition => ({ topic, partition });
