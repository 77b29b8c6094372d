// ListGroups (key 16), v0–5: the groups this broker coordinates, filtered by state (v4+) and type (v5+).
import { ListGroupsApi } from '../../protocol/generated/apis.js';
import type { ListGroupsResponse } from '../../protocol/generated/messages/list-groups.js';
import { groupRequestContext, type GroupHandlerDeps } from '../group-handlers.js';
import { defineHandler } from '../registry.js';

export function listGroupsHandler(deps: GroupHandlerDeps) {
  return defineHandler(ListGroupsApi, {
    minVersion: 0,
    maxVersion: 5,
    handle(ctx, request): Promise<ListGroupsResponse> {
      return deps.coordinator.listGroups(groupRequestContext(ctx), request);
    },
  });
}
