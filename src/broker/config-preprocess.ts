// The broker's share of AlterConfigs and IncrementalAlterConfigs before the controller sees them (Kafka's
// ConfigAdminManager.preprocess and ControllerApis): a resource named twice fails as a whole, duplicate
// keys and null values are refused, BROKER resources must name this node (or be the empty cluster
// default), and an unknown resource type is UNSUPPORTED_VERSION. What survives goes to the controller;
// the answers are put back in request order.
import { ConfigResourceType } from '../metadata/records.js';
import { ErrorCode } from '../protocol/errors.js';
import { callController } from './controller-api.js';

export interface ResourceAnswer {
  readonly errorCode: number;
  readonly errorMessage: string | null;
}

export const answer = (errorCode: number, errorMessage: string | null): ResourceAnswer => ({ errorCode, errorMessage });
export const OK: ResourceAnswer = answer(ErrorCode.NONE, null);

/** Kafka's validateResourceNameIsCurrentNodeId; an answer when it fails. */
export function checkCurrentNode(name: string, nodeId: number): ResourceAnswer | undefined {
  const n = /^[+-]?\d+$/.test(name) ? Number(name) : NaN;
  if (!Number.isInteger(n) || n < -(2 ** 31) || n > 2 ** 31 - 1) {
    return answer(ErrorCode.INVALID_REQUEST, `Node id must be an integer, but it is: ${name}`);
  }
  if (n !== nodeId) return answer(ErrorCode.INVALID_REQUEST, `Unexpected broker id, expected ${nodeId}, but received ${name}`);
  return undefined;
}

const KNOWN_TYPES: ReadonlySet<number> = new Set(Object.values(ConfigResourceType).filter((t) => t !== ConfigResourceType.UNKNOWN));

interface Resource {
  readonly resourceType: number;
  readonly resourceName: string;
  readonly configs: readonly { readonly name: string; readonly value: string | null }[];
}

/**
 * The answers the broker gives itself, by index into `resources`; indexes without an answer go to the
 * controller. `nullAllowed` says which configs may carry a null value (IncrementalAlterConfigs' DELETE).
 * `local` answers resource types the broker handles alone (BROKER_LOGGER).
 */
export function preprocess<R extends Resource>(
  resources: readonly R[],
  nodeId: number,
  nullAllowed: (config: R['configs'][number]) => boolean,
  local?: (resource: R) => ResourceAnswer | undefined,
): Map<number, ResourceAnswer> {
  const answers = new Map<number, ResourceAnswer>();
  const firstIndex = new Map<string, number>();
  resources.forEach((r, i) => {
    const key = `${r.resourceType}:${r.resourceName}`;
    const prior = firstIndex.get(key);
    if (prior === undefined) {
      firstIndex.set(key, i);
      return;
    }
    const dup = answer(ErrorCode.INVALID_REQUEST, 'Each resource must appear at most once.');
    answers.set(prior, dup);
    answers.set(i, dup);
  });
  resources.forEach((r, i) => {
    if (answers.has(i)) return;
    const names = r.configs.map((c) => c.name);
    if (new Set(names).size !== names.length) {
      answers.set(i, answer(ErrorCode.INVALID_REQUEST, 'Error due to duplicate config keys'));
      return;
    }
    const nulls = r.configs.filter((c) => c.value === null && !nullAllowed(c)).map((c) => c.name);
    if (nulls.length > 0) {
      answers.set(i, answer(ErrorCode.INVALID_REQUEST, `Null value not supported for : ${nulls.join(', ')}`));
      return;
    }
    if (r.resourceType === ConfigResourceType.BROKER && r.resourceName !== '') {
      const wrong = checkCurrentNode(r.resourceName, nodeId);
      if (wrong !== undefined) {
        answers.set(i, wrong);
        return;
      }
    }
    const handled = local?.(r);
    if (handled !== undefined) {
      answers.set(i, handled);
      return;
    }
    if (!KNOWN_TYPES.has(r.resourceType)) {
      answers.set(i, answer(ErrorCode.UNSUPPORTED_VERSION, `Unknown resource type ${r.resourceType}.`));
    }
  });
  return answers;
}

/**
 * Sends every resource the broker did not answer itself to the controller (as `toController` shapes it)
 * and returns all answers in request order; a controller failure or timeout answers each forwarded one.
 */
export async function answerWithController<R, C>(
  resources: readonly R[],
  answers: Map<number, ResourceAnswer>,
  toController: (resource: R) => C,
  call: (resources: C[]) => Promise<readonly ResourceAnswer[]>,
): Promise<ResourceAnswer[]> {
  const forward = resources.flatMap((r, index) => (answers.has(index) ? [] : [{ index, resource: toController(r) }]));
  if (forward.length > 0) {
    const outcome = await callController(() => call(forward.map((f) => f.resource)), 0);
    forward.forEach((f, i) => {
      const a = outcome.ok ? outcome.value[i]! : outcome.error;
      answers.set(f.index, { errorCode: a.errorCode, errorMessage: a.errorMessage });
    });
  }
  return resources.map((_, i) => answers.get(i)!);
}
