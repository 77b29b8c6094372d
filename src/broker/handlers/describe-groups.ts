// DescribeGroups (key 15), v0–5: state, protocol and members (with their metadata and assignment) of
// each group. With includeAuthorizedOperations (v3+), the operations allowed on the group: without an
// authorizer, every group operation, as Kafka answers.
import { DescribeGroupsApi } from '../../protocol/generated/apis.js';
import type { DescribeGroupsResponse } from '../../protocol/generated/messages/describe-groups.js';
import { groupRequestContext, type GroupHandlerDeps } from '../group-handlers.js';
import { defineHandler } from '../registry.js';

/** Kafka's AclOperation codes valid on a GROUP resource: READ (3), DELETE (6), DESCRIBE (8). */
export const GROUP_AUTHORIZED_OPERATIONS = (1 << 3) | (1 << 6) | (1 << 8);
const OMITTED = -2147483648;

export function describeGroupsHandler(deps: GroupHandlerDeps) {
  return defineHandler(DescribeGroupsApi, {
    minVersion: 0,
    maxVersion: 5,
    async handle(ctx, request): Promise<DescribeGroupsResponse> {
      const groups = await deps.coordinator.describeGroups(groupRequestContext(ctx), request.groups);
      const ops = request.includeAuthorizedOperations ? GROUP_AUTHORIZED_OPERATIONS : OMITTED;
      return { throttleTimeMs: 0, groups: groups.map((g) => ({ ...g, authorizedOperations: ops })) };
    },
  });
}
