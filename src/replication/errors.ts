// Kafka error codes for failures inside the data path. Storage throws LogErrors naming a Kafka error;
// the replication layer throws ReplicaErrors carrying the numeric code. Handlers answer with the code.
import { ErrorCode } from '../protocol/errors.js';
import { StrataError } from '../protocol/strata-error.js';
import { isLogError } from '../storage/log-errors.js';
import { ProducerStateError } from '../storage/producer-state.js';

/** A per-partition failure that the broker reports as a Kafka error code. */
export class ReplicaError extends StrataError {
  readonly errorCode: number;

  constructor(errorCode: number, message: string, options?: { cause?: unknown }) {
    super('ERR_STATE', message, options);
    this.name = 'ReplicaError';
    this.errorCode = errorCode;
  }
}

/** The Kafka error code an exception from storage or replication stands for. */
export function errorCodeOf(e: unknown): number {
  if (e instanceof ReplicaError) return e.errorCode;
  if (isLogError(e)) {
    switch (e.kafkaError) {
      case 'RECORD_TOO_LARGE':
        return ErrorCode.MESSAGE_TOO_LARGE;
      case 'RECORD_BATCH_TOO_LARGE':
        return ErrorCode.RECORD_LIST_TOO_LARGE;
      // A log closed under a request: the partition moved or is being deleted.
      case 'LOG_CLOSED':
        return ErrorCode.NOT_LEADER_OR_FOLLOWER;
      default:
        return ErrorCode[e.kafkaError];
    }
  }
  if (e instanceof ProducerStateError) return ErrorCode[e.kafkaError];
  if (e instanceof StrataError) {
    switch (e.code) {
      case 'ERR_STORAGE':
        return ErrorCode.KAFKA_STORAGE_ERROR;
      case 'ERR_CORRUPT_RECORD':
        return ErrorCode.CORRUPT_MESSAGE;
      case 'ERR_RECORD_TOO_LARGE':
        return ErrorCode.MESSAGE_TOO_LARGE;
      case 'ERR_OFFSET_OUT_OF_RANGE':
        return ErrorCode.OFFSET_OUT_OF_RANGE;
      default:
        return ErrorCode.UNKNOWN_SERVER_ERROR;
    }
  }
  return ErrorCode.UNKNOWN_SERVER_ERROR;
}

export const errorMessageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));
