// Finding a group's or a transactional id's coordinator (FindCoordinator) and retrying a call while the
// coordinator moves or loads: what the group and transaction tools share.
import { ApiKey } from '../protocol/generated/apis.js';
import { ErrorCode } from '../protocol/errors.js';
import type { SendOptions } from './connection.js';
import { KafkaResponseError, isRetriableError } from './errors.js';
import type { KafkaClient } from './kafka-client.js';

/** FindCoordinator key types. */
export const CoordinatorKeyType = { group: 0, transaction: 1 } as const;

/** Errors after which the coordinator is looked up again and the request retried. */
export const COORDINATOR_ERRORS: ReadonlySet<number> = new Set([
  ErrorCode.NOT_COORDINATOR,
  ErrorCode.COORDINATOR_NOT_AVAILABLE,
  ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
]);

export interface RetryOptions {
  /** Attempts for coordinator lookups and coordinator errors (default 10). */
  readonly attempts?: number;
  /** First backoff between attempts, doubled each time up to 1 s (default 100 ms). */
  readonly backoffMs?: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs `fn` again after coordinator and retriable errors, with exponential backoff. */
export async function withCoordinatorRetries<T>(opts: RetryOptions, fn: () => Promise<T>): Promise<T> {
  const attempts = opts.attempts ?? 10;
  let backoff = opts.backoffMs ?? 100;
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (e) {
      const coordinatorError = e instanceof KafkaResponseError && COORDINATOR_ERRORS.has(e.errorCode);
      if (i >= attempts || !(coordinatorError || isRetriableError(e))) throw e;
      await sleep(backoff);
      backoff = Math.min(backoff * 2, 1000);
    }
  }
}

/** The broker coordinating `key` (FindCoordinator, batched form from v4); `subject` names it in errors. */
export function findCoordinatorOf(
  client: KafkaClient,
  keyType: number,
  key: string,
  subject: string,
  opts: RetryOptions & { send?: SendOptions } = {},
): Promise<number> {
  return withCoordinatorRetries(opts, async () => {
    const { response, version } = await client.send('any', ApiKey.FindCoordinator, (v) =>
      v >= 4 ? { key: '', keyType, coordinatorKeys: [key] } : { key, keyType, coordinatorKeys: [] }, opts.send);
    const found = version >= 4 ? response.coordinators[0] : response;
    const errorCode = found?.errorCode ?? ErrorCode.COORDINATOR_NOT_AVAILABLE;
    if (errorCode !== ErrorCode.NONE) {
      throw new KafkaResponseError(errorCode, { subject: `the coordinator of ${subject}`, serverMessage: found?.errorMessage ?? null });
    }
    return found!.nodeId;
  });
}
