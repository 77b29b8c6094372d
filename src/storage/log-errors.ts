// The errors a Log reports to its callers, each naming the Kafka error the broker answers with.
// They are StrataErrors (so generic handling still works) with a `kafkaError` field to branch on.
import { StrataError, type StrataErrorCode } from '../protocol/strata-error.js';

export const LogErrorKind = {
  OFFSET_OUT_OF_RANGE: 'OFFSET_OUT_OF_RANGE',
  KAFKA_STORAGE_ERROR: 'KAFKA_STORAGE_ERROR',
  CORRUPT_MESSAGE: 'CORRUPT_MESSAGE',
  RECORD_TOO_LARGE: 'RECORD_TOO_LARGE',
  RECORD_BATCH_TOO_LARGE: 'RECORD_BATCH_TOO_LARGE',
  INVALID_RECORD: 'INVALID_RECORD',
  OUT_OF_ORDER_SEQUENCE_NUMBER: 'OUT_OF_ORDER_SEQUENCE_NUMBER',
  INVALID_PRODUCER_EPOCH: 'INVALID_PRODUCER_EPOCH',
  PRODUCER_FENCED: 'PRODUCER_FENCED',
  UNKNOWN_PRODUCER_ID: 'UNKNOWN_PRODUCER_ID',
  INVALID_TXN_STATE: 'INVALID_TXN_STATE',
  TRANSACTION_COORDINATOR_FENCED: 'TRANSACTION_COORDINATOR_FENCED',
  LOG_CLOSED: 'LOG_CLOSED',
} as const;
export type LogErrorKind = (typeof LogErrorKind)[keyof typeof LogErrorKind];

const CODES: Record<LogErrorKind, StrataErrorCode> = {
  OFFSET_OUT_OF_RANGE: 'ERR_OFFSET_OUT_OF_RANGE',
  KAFKA_STORAGE_ERROR: 'ERR_STORAGE',
  CORRUPT_MESSAGE: 'ERR_CORRUPT_RECORD',
  RECORD_TOO_LARGE: 'ERR_RECORD_TOO_LARGE',
  RECORD_BATCH_TOO_LARGE: 'ERR_RECORD_TOO_LARGE',
  INVALID_RECORD: 'ERR_CORRUPT_RECORD',
  OUT_OF_ORDER_SEQUENCE_NUMBER: 'ERR_STATE',
  INVALID_PRODUCER_EPOCH: 'ERR_STATE',
  PRODUCER_FENCED: 'ERR_STATE',
  UNKNOWN_PRODUCER_ID: 'ERR_STATE',
  INVALID_TXN_STATE: 'ERR_STATE',
  TRANSACTION_COORDINATOR_FENCED: 'ERR_STATE',
  LOG_CLOSED: 'ERR_LOG_CLOSED',
};

export class LogError extends StrataError {
  readonly kafkaError: LogErrorKind;

  constructor(kafkaError: LogErrorKind, message: string, options?: { cause?: unknown }) {
    super(CODES[kafkaError], message, options);
    this.name = 'LogError';
    this.kafkaError = kafkaError;
  }
}

export const isLogError = (e: unknown, kind?: LogErrorKind): e is LogError =>
  e instanceof LogError && (kind === undefined || e.kafkaError === kind);

/** An error from the file system (or a StrataError wrapping one) rather than from the caller's input. */
export function isIoFailure(e: unknown): boolean {
  if (e instanceof LogError) return e.kafkaError === 'KAFKA_STORAGE_ERROR';
  if (e instanceof StrataError) return e.code === 'ERR_STORAGE';
  return e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string';
}
