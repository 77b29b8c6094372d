// The narrow interface through which request handlers change cluster metadata. Today the in-process
// QuorumController implements it directly (its methods have these shapes); a broker talking to a remote
// controller quorum will implement it with CreateTopics/AllocateProducerIds/... requests instead, and
// the handlers do not change. Every method answers per item with Kafka error codes and messages as data,
// resolving once the change is committed to the metadata log (and, in-process, applied to the image).
import type {
  AlterConfigsResult,
  CreatableTopic,
  CreatePartitionsResult,
  CreatePartitionsTopic,
  CreateTopicResult,
  DeletableTopic,
  DeleteTopicResult,
  IncrementalConfigResource,
  LegacyConfigResource,
  ProducerIdsBlock,
} from '../controller/results.js';
import { ErrorCode } from '../protocol/errors.js';
import type { MetadataView } from './metadata-view.js';
import type { TransactionalInitProducerId } from './handlers/init-producer-id.js';

export interface ControllerWriteOptions {
  /** Check everything, write nothing. */
  readonly validateOnly?: boolean;
}

export interface ControllerApi {
  createTopics(topics: readonly CreatableTopic[], opts?: ControllerWriteOptions): Promise<CreateTopicResult[]>;
  deleteTopics(topics: readonly DeletableTopic[]): Promise<DeleteTopicResult[]>;
  createPartitions(topics: readonly CreatePartitionsTopic[], opts?: ControllerWriteOptions): Promise<CreatePartitionsResult[]>;
  incrementalAlterConfigs(resources: readonly IncrementalConfigResource[], opts?: ControllerWriteOptions): Promise<AlterConfigsResult[]>;
  /** The legacy AlterConfigs: each resource's given set replaces all of its dynamic configs. */
  alterConfigs(resources: readonly LegacyConfigResource[], opts?: ControllerWriteOptions): Promise<AlterConfigsResult[]>;
  /** A block of producer ids for broker `brokerId` (its current registration epoch proves it is alive). */
  allocateProducerIds(brokerId: number, brokerEpoch: number): Promise<ProducerIdsBlock>;
}

/** What the admin handlers are built with. */
export interface AdminDeps {
  readonly controller: ControllerApi;
  readonly metadata: MetadataView;
  /** The transaction coordinator's InitProducerId, for transactional ids (absent: NOT_COORDINATOR). */
  readonly transactions?: () => TransactionalInitProducerId | undefined;
}

/** The outcome of waiting for a controller call at most `timeoutMs`. */
export type Deadline<T> = { readonly done: true; readonly value: T } | { readonly done: false };

/**
 * Waits for `op` at most `timeoutMs` (Kafka's request timeout_ms); a non-positive timeout waits for the
 * answer, since the in-process controller answers promptly and the result is needed for the response.
 * The operation itself is not cancelled: like Kafka's, it may still complete after the timeout.
 */
export async function withTimeout<T>(op: Promise<T>, timeoutMs: number): Promise<Deadline<T>> {
  if (timeoutMs <= 0) return { done: true, value: await op };
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<Deadline<T>>((resolve) => {
    timer = setTimeout(() => resolve({ done: false }), timeoutMs);
  });
  try {
    return await Promise.race([op.then((value): Deadline<T> => ({ done: true, value })), expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** The REQUEST_TIMED_OUT answer for items whose controller call did not finish in time. */
export const TIMED_OUT = Object.freeze({
  errorCode: ErrorCode.REQUEST_TIMED_OUT,
  errorMessage: 'The controller did not complete the operation within the request timeout.',
});

/**
 * The answer for items whose controller call failed outright (the controller is not active, its log
 * failed): NOT_CONTROLLER, which clients retry, as Kafka's brokers answer when no controller can take
 * the request.
 */
export function controllerFailure(e: unknown): { readonly errorCode: number; readonly errorMessage: string } {
  return { errorCode: ErrorCode.NOT_CONTROLLER, errorMessage: `The controller could not handle the request: ${(e as Error)?.message ?? String(e)}` };
}

/** Runs a controller call with the request's timeout; failures and timeouts become per-item errors. */
export async function callController<T>(
  op: () => Promise<T>,
  timeoutMs: number,
): Promise<{ readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: { readonly errorCode: number; readonly errorMessage: string } }> {
  try {
    const r = await withTimeout(op(), timeoutMs);
    return r.done ? { ok: true, value: r.value } : { ok: false, error: TIMED_OUT };
  } catch (e) {
    return { ok: false, error: controllerFailure(e) };
  }
}
