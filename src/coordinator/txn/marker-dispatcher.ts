// Writing a transaction's COMMIT / ABORT markers to every partition it touched (WriteTxnMarkers), until
// every partition has taken its marker. Once the PrepareCommit / PrepareAbort record is committed the
// outcome is decided, so the markers must get through however long it takes: partitions that answer with
// a retriable error (no leader, not enough replicas, timeouts, a send that failed outright) are asked
// again after a backoff, and a coordinator that loads the partition later starts over from the
// Prepare… record. What the partitions answer follows Kafka's TransactionMarkerRequestCompletionHandler.
import { ErrorCode } from '../../protocol/errors.js';
import type { Scheduler, TimerHandle } from '../scheduler.js';
import { PartitionSet } from './transaction-metadata.js';
import type { TopicPartition } from './transaction-metadata.js';

/** The control record type of the marker: Kafka's ControlRecordType ABORT = 0, COMMIT = 1. */
export const TransactionResult = { ABORT: 0, COMMIT: 1 } as const;
export type TransactionResult = (typeof TransactionResult)[keyof typeof TransactionResult];

export interface MarkerPartitionResult {
  readonly topic: string;
  readonly partition: number;
  readonly errorCode: number;
}

/**
 * Delivers markers to partition leaders (the broker wiring implements it over WriteTxnMarkers, or a
 * local append when this broker leads the partition). It answers one error per partition; a partition
 * left out of the answer counts as not written. A partition whose topic no longer exists should be
 * answered with NONE, as Kafka drops such partitions instead of retrying them forever.
 */
export interface TxnMarkerSender {
  sendMarkers(
    producerId: number,
    producerEpoch: number,
    result: TransactionResult,
    partitions: readonly TopicPartition[],
    coordinatorEpoch: number,
  ): Promise<readonly MarkerPartitionResult[]>;
}

export interface MarkerJob {
  readonly transactionalId: string;
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly result: TransactionResult;
  readonly partitions: readonly TopicPartition[];
  /** Leader epoch of the __transaction_state partition: partitions refuse markers of a deposed coordinator. */
  readonly coordinatorEpoch: number;
}

export interface MarkerHandle {
  cancel(): void;
}

export interface MarkerDispatcherOptions {
  readonly sender: TxnMarkerSender;
  readonly scheduler: Scheduler;
  readonly retryBackoffMs: number;
  readonly retryBackoffMaxMs: number;
  /** Markers can no longer be written by this coordinator (it or the producer was superseded). */
  readonly onAbandoned?: (job: MarkerJob, errorCode: number) => void;
}

type Outcome = 'done' | 'retry' | 'abandon';

/** What one partition's answer means for the job. */
export function markerOutcome(errorCode: number): Outcome {
  switch (errorCode) {
    case ErrorCode.NONE:
    // The partition's format cannot hold markers: nothing will ever change that, so it is skipped.
    case ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT:
    case ErrorCode.UNSUPPORTED_VERSION:
      return 'done';
    // A newer producer epoch or a newer coordinator has taken over: this job is moot.
    case ErrorCode.INVALID_PRODUCER_EPOCH:
    case ErrorCode.TRANSACTION_COORDINATOR_FENCED:
    // Kafka treats these as impossible for a marker and stops; retrying would fail the same way.
    case ErrorCode.CORRUPT_MESSAGE:
    case ErrorCode.MESSAGE_TOO_LARGE:
    case ErrorCode.RECORD_LIST_TOO_LARGE:
    case ErrorCode.INVALID_REQUIRED_ACKS:
      return 'abandon';
    default:
      return 'retry';
  }
}

const key = (tp: TopicPartition): string => `${tp.partition}:${tp.topic}`;

export class MarkerDispatcher {
  readonly #opts: MarkerDispatcherOptions;

  constructor(opts: MarkerDispatcherOptions) {
    this.#opts = opts;
  }

  /**
   * Sends the job's markers until all are written, then calls `onDone` (unless cancelled first). The
   * first send happens after `start` returns.
   */
  start(job: MarkerJob, onDone: () => void): MarkerHandle {
    const remaining = new PartitionSet(job.partitions);
    let cancelled = false;
    let timer: TimerHandle | undefined;
    let backoff = this.#opts.retryBackoffMs;

    const retryLater = (): void => {
      timer = this.#opts.scheduler.schedule(backoff, () => {
        timer = undefined;
        round();
      });
      backoff = Math.min(backoff * 2, this.#opts.retryBackoffMaxMs);
    };

    const onResults = (sent: readonly TopicPartition[], results: readonly MarkerPartitionResult[]): void => {
      const answers = new Map<string, number>();
      for (const r of results) answers.set(key(r), r.errorCode);
      let progressed = false;
      for (const tp of sent) {
        const code = answers.get(key(tp)) ?? ErrorCode.REQUEST_TIMED_OUT;
        const outcome = markerOutcome(code);
        if (outcome === 'abandon') {
          cancelled = true;
          this.#opts.onAbandoned?.(job, code);
          return;
        }
        if (outcome === 'done') {
          remaining.delete(tp);
          progressed = true;
        }
      }
      if (progressed) backoff = this.#opts.retryBackoffMs;
      if (remaining.size === 0) {
        cancelled = true;
        onDone();
      } else {
        retryLater();
      }
    };

    const round = (): void => {
      if (cancelled) return;
      if (remaining.size === 0) {
        cancelled = true;
        onDone();
        return;
      }
      const sent = remaining.list();
      let sending: Promise<readonly MarkerPartitionResult[]>;
      try {
        sending = this.#opts.sender.sendMarkers(job.producerId, job.producerEpoch, job.result, sent, job.coordinatorEpoch);
      } catch (e) {
        sending = Promise.reject(e);
      }
      sending.then(
        (results) => {
          if (!cancelled) onResults(sent, results);
        },
        () => {
          if (!cancelled) retryLater();
        },
      );
    };

    // Never synchronously: the caller registers the handle before the job can finish.
    queueMicrotask(round);
    return {
      cancel: () => {
        cancelled = true;
        timer?.cancel();
        timer = undefined;
      },
    };
  }
}
