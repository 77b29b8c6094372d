// Errors the client throws. A broker's Kafka error code stays data (`errorCode`, `errorName`,
// `retriable`) on a KafkaResponseError, so callers can branch on it; the message names the subject
// ("topic 'x'") and the cause in one readable line for people.
import { errorInfo, errorName, ErrorCode, isRetriable } from '../protocol/errors.js';
import { StrataError } from '../protocol/strata-error.js';

/** Phrasings for the errors people meet most, given the subject they concern. */
const PHRASES: Partial<Record<number, (subject: string) => string>> = {
  [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]: (s) => `${s} does not exist`,
  [ErrorCode.UNKNOWN_TOPIC_ID]: (s) => `${s} does not exist`,
  [ErrorCode.TOPIC_ALREADY_EXISTS]: (s) => `${s} already exists`,
  [ErrorCode.LEADER_NOT_AVAILABLE]: (s) => `${s} has no leader right now`,
  [ErrorCode.NOT_LEADER_OR_FOLLOWER]: (s) => `the broker asked is not the leader of ${s}`,
  [ErrorCode.TOPIC_AUTHORIZATION_FAILED]: (s) => `not authorized to access ${s}`,
  [ErrorCode.INVALID_TOPIC_EXCEPTION]: (s) => `${s} is not a valid topic name`,
  [ErrorCode.OFFSET_OUT_OF_RANGE]: (s) => `the offset asked for is outside the range ${s} holds`,
};

export interface KafkaErrorContext {
  /** What the error concerns, in words: "topic 'x'", "topic 'x' partition 3", "broker 1". */
  readonly subject: string;
  /** The broker's own message, when the response carries one. */
  readonly serverMessage?: string | null;
  readonly topic?: string;
  readonly partition?: number;
  /** Overrides errors.ts when the situation decides (e.g. a topic missing from metadata is final). */
  readonly retriable?: boolean;
}

/** A broker answered with a Kafka error code. */
export class KafkaResponseError extends StrataError {
  readonly errorCode: number;
  readonly errorName: string;
  readonly retriable: boolean;
  readonly topic: string | undefined;
  readonly partition: number | undefined;

  constructor(errorCode: number, ctx: KafkaErrorContext) {
    super('ERR_KAFKA', describe(errorCode, ctx));
    this.name = 'KafkaResponseError';
    this.errorCode = errorCode;
    this.errorName = errorName(errorCode);
    this.retriable = ctx.retriable ?? isRetriable(errorCode);
    this.topic = ctx.topic;
    this.partition = ctx.partition;
  }
}

function describe(code: number, ctx: KafkaErrorContext): string {
  const phrase = PHRASES[code];
  // For the common errors our phrase says it all (brokers' own texts there mostly repeat it).
  if (phrase !== undefined) return `${phrase(ctx.subject)} (${errorName(code)})`;
  const server = ctx.serverMessage ?? '';
  const detail = server !== '' ? server : (errorInfo(code)?.message ?? 'unknown error').replace(/\.$/, '');
  return `${ctx.subject}: ${detail} (${errorName(code)})`;
}

/** Throws a KafkaResponseError unless `code` is NONE. */
export function checkErrorCode(code: number, ctx: KafkaErrorContext): void {
  if (code !== ErrorCode.NONE) throw new KafkaResponseError(code, ctx);
}

export const isKafkaError = (e: unknown, code?: number): e is KafkaResponseError =>
  e instanceof KafkaResponseError && (code === undefined || e.errorCode === code);

/** Whether an operation that failed with `e` may succeed if tried again (after a metadata refresh). */
export function isRetriableError(e: unknown): boolean {
  if (e instanceof KafkaResponseError) return e.retriable;
  return e instanceof StrataError && (e.code === 'ERR_NETWORK' || e.code === 'ERR_TIMEOUT');
}

export const topicSubject = (topic: string): string => `topic '${topic}'`;
export const partitionSubject = (topic: string, partition: number): string => `topic '${topic}' partition ${partition}`;
