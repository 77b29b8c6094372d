// SyncGroup (key 14), v0–5: the leader hands in the assignment; every member gets its own share.
import { SyncGroupApi } from '../../protocol/generated/apis.js';
import type { SyncGroupResponse } from '../../protocol/generated/messages/sync-group.js';
import { groupRequestContext, type GroupHandlerDeps } from '../group-handlers.js';
import { defineHandler } from '../registry.js';

export function syncGroupHandler(deps: GroupHandlerDeps) {
  return defineHandler(SyncGroupApi, {
    minVersion: 0,
    maxVersion: 5,
    handle(ctx, request): Promise<SyncGroupResponse> {
      return deps.coordinator.syncGroup(groupRequestContext(ctx), request);
    },
  });
}
