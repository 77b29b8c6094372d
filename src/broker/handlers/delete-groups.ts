// DeleteGroups (key 42), v0–2: removes empty groups and their committed offsets (NON_EMPTY_GROUP when a
// group still has members).
import { DeleteGroupsApi } from '../../protocol/generated/apis.js';
import type { DeleteGroupsResponse } from '../../protocol/generated/messages/delete-groups.js';
import { groupRequestContext, type GroupHandlerDeps } from '../group-handlers.js';
import { defineHandler } from '../registry.js';

export function deleteGroupsHandler(deps: GroupHandlerDeps) {
  return defineHandler(DeleteGroupsApi, {
    minVersion: 0,
    maxVersion: 2,
    async handle(ctx, request): Promise<DeleteGroupsResponse> {
      const results = await deps.coordinator.deleteGroups(groupRequestContext(ctx), request.groupsNames);
      return { throttleTimeMs: 0, results };
    },
  });
}
