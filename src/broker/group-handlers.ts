// The consumer-group APIs, ready to register: FindCoordinator, JoinGroup, SyncGroup, Heartbeat,
// LeaveGroup, OffsetCommit, OffsetFetch, DescribeGroups, ListGroups, DeleteGroups and OffsetDelete. Each
// is a thin handler over the GroupCoordinator (src/coordinator/group), which does the work and shapes
// the answers; FindCoordinator also needs to know who leads each __consumer_offsets partition, which the
// node's wiring provides through `GroupCoordinatorLocator`.
import type { GroupCoordinator } from '../coordinator/group/group-coordinator.js';
import type { GroupRequestContext } from '../coordinator/group/group-shard.js';
import { deleteGroupsHandler } from './handlers/delete-groups.js';
import { describeGroupsHandler } from './handlers/describe-groups.js';
import { findCoordinatorHandler } from './handlers/find-coordinator.js';
import { heartbeatHandler } from './handlers/heartbeat.js';
import { joinGroupHandler } from './handlers/join-group.js';
import { leaveGroupHandler } from './handlers/leave-group.js';
import { listGroupsHandler } from './handlers/list-groups.js';
import { offsetCommitHandler } from './handlers/offset-commit.js';
import { offsetDeleteHandler } from './handlers/offset-delete.js';
import { offsetFetchHandler } from './handlers/offset-fetch.js';
import { syncGroupHandler } from './handlers/sync-group.js';
import type { BrokerNode } from './metadata-view.js';
import type { HandlerRegistry } from './registry.js';
import type { RequestContext } from './request-context.js';

/** Where a coordinator key is served, as FindCoordinator answers it. */
export type CoordinatorLocation =
  | { readonly errorCode: 0; readonly node: BrokerNode }
  | { readonly errorCode: number; readonly message: string | null };

export interface GroupCoordinatorLocator {
  /**
   * The broker coordinating `groupId` as reached through `listenerName`; creates __consumer_offsets on
   * first use. An error (COORDINATOR_NOT_AVAILABLE, ...) when no live broker leads its partition.
   */
  locateGroupCoordinator(groupId: string, listenerName: string): Promise<CoordinatorLocation>;
}

export interface TransactionCoordinatorLocator {
  /** As `locateGroupCoordinator`, for a transactional id (creates __transaction_state on first use). */
  locateTransactionCoordinator(transactionalId: string, listenerName: string): Promise<CoordinatorLocation>;
}

export interface GroupHandlerDeps {
  readonly coordinator: GroupCoordinator;
  readonly locator: GroupCoordinatorLocator;
  /** FindCoordinator's transaction keys; without it they answer COORDINATOR_NOT_AVAILABLE. */
  readonly transactionLocator?: TransactionCoordinatorLocator;
}

/** What the coordinator is told about the client (Kafka shows the host as "/address"). */
export function groupRequestContext(ctx: RequestContext): GroupRequestContext {
  return { apiVersion: ctx.apiVersion, clientId: ctx.clientId ?? '', clientHost: `/${ctx.clientAddress}` };
}

/** Registers the eleven group APIs on `registry`; returns the registry. */
export function registerGroupHandlers(registry: HandlerRegistry, deps: GroupHandlerDeps): HandlerRegistry {
  return registry
    .register(findCoordinatorHandler(deps))
    .register(joinGroupHandler(deps))
    .register(syncGroupHandler(deps))
    .register(heartbeatHandler(deps))
    .register(leaveGroupHandler(deps))
    .register(offsetCommitHandler(deps))
    .register(offsetFetchHandler(deps))
    .register(describeGroupsHandler(deps))
    .register(listGroupsHandler(deps))
    .register(deleteGroupsHandler(deps))
    .register(offsetDeleteHandler(deps));
}
