// FindCoordinator (key 10), v0–6: where a group's (or a transactional id's) coordinator lives. Before v4
// one key per request with the answer in top-level fields; from v4 a batch of keys, one entry each
// (KIP-699). Group keys map to the leader of their __consumer_offsets partition, which is created on
// first use. Transaction keys go to the transaction coordinator's locator; without one they answer
// COORDINATOR_NOT_AVAILABLE (clients retry it, as they do while Kafka creates __transaction_state).
import { FindCoordinatorApi } from '../../protocol/generated/apis.js';
import type { FindCoordinatorResponse, FindCoordinatorResponseCoordinator } from '../../protocol/generated/messages/find-coordinator.js';
import { ErrorCode } from '../../protocol/errors.js';
import type { CoordinatorLocation, GroupHandlerDeps } from '../group-handlers.js';
import { defineHandler } from '../registry.js';

/** Kafka's CoordinatorType. */
export const CoordinatorType = { GROUP: 0, TRANSACTION: 1 } as const;

const NONE_NODE = { nodeId: -1, host: '', port: -1 } as const;

export function findCoordinatorHandler(deps: GroupHandlerDeps) {
  async function locate(key: string, keyType: number, listenerName: string): Promise<CoordinatorLocation> {
    if (keyType === CoordinatorType.GROUP) return deps.locator.locateGroupCoordinator(key, listenerName);
    if (keyType === CoordinatorType.TRANSACTION) {
      if (deps.transactionLocator !== undefined) return deps.transactionLocator.locateTransactionCoordinator(key, listenerName);
      return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, message: 'The transaction coordinator is not available on this broker yet.' };
    }
    return { errorCode: ErrorCode.INVALID_REQUEST, message: `Unknown coordinator type ${keyType} in FindCoordinator request` };
  }

  const entry = (key: string, loc: CoordinatorLocation): FindCoordinatorResponseCoordinator =>
    'node' in loc
      ? { key, nodeId: loc.node.nodeId, host: loc.node.host, port: loc.node.port, errorCode: ErrorCode.NONE, errorMessage: null }
      : { key, ...NONE_NODE, errorCode: loc.errorCode, errorMessage: loc.message };

  return defineHandler(FindCoordinatorApi, {
    minVersion: 0,
    maxVersion: 6,
    async handle(ctx, request): Promise<FindCoordinatorResponse> {
      if (ctx.apiVersion >= 4) {
        const coordinators = await Promise.all(
          request.coordinatorKeys.map(async (key) => entry(key, await locate(key, request.keyType, ctx.listenerName))),
        );
        // The top-level fields do not exist from v4: they keep their defaults.
        return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, nodeId: 0, host: '', port: 0, coordinators };
      }
      const e = entry(request.key, await locate(request.key, request.keyType, ctx.listenerName));
      return { throttleTimeMs: 0, errorCode: e.errorCode, errorMessage: e.errorMessage, nodeId: e.nodeId, host: e.host, port: e.port, coordinators: [] };
    },
  });
}
