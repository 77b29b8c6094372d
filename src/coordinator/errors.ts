// Coordinator operations fail with a Kafka error code that the API handler puts into its response
// (NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS, ...). The code travels as data on the error.
import { ErrorCode, errorName } from '../protocol/errors.js';
import { StrataError } from '../protocol/strata-error.js';

export class CoordinatorError extends StrataError {
  readonly errorCode: number;

  constructor(errorCode: number, message?: string, options?: { cause?: unknown }) {
    super('ERR_KAFKA', message ?? errorName(errorCode), options);
    this.errorCode = errorCode;
  }
}

/** The Kafka error code a failed coordinator operation should answer with. */
export function errorCodeOf(e: unknown): number {
  return e instanceof CoordinatorError ? e.errorCode : ErrorCode.UNKNOWN_SERVER_ERROR;
}

/**
 * Maps the error of a failed append to `__consumer_offsets` (or another coordinator topic) to what the
 * coordinator's client should see, as Kafka does: replication trouble means "try again / elsewhere",
 * oversized writes are a server problem the client cannot fix.
 */
export function appendErrorToCoordinatorError(code: number): number {
  switch (code) {
    case ErrorCode.UNKNOWN_TOPIC_OR_PARTITION:
    case ErrorCode.NOT_ENOUGH_REPLICAS:
    case ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case ErrorCode.REQUEST_TIMED_OUT:
      return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    case ErrorCode.NOT_LEADER_OR_FOLLOWER:
    case ErrorCode.KAFKA_STORAGE_ERROR:
      return ErrorCode.NOT_COORDINATOR;
    case ErrorCode.MESSAGE_TOO_LARGE:
    case ErrorCode.RECORD_LIST_TOO_LARGE:
    case ErrorCode.INVALID_FETCH_SIZE:
      return ErrorCode.UNKNOWN_SERVER_ERROR;
    default:
      return code;
  }
}
