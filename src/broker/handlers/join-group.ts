// JoinGroup (key 11), v0–9: a member joins (or rejoins) a classic group and waits for the rebalance to
// complete; the leader receives every member's subscription to run the client-side assignor.
import { JoinGroupApi } from '../../protocol/generated/apis.js';
import type { JoinGroupResponse } from '../../protocol/generated/messages/join-group.js';
import { groupRequestContext, type GroupHandlerDeps } from '../group-handlers.js';
import { defineHandler } from '../registry.js';

export function joinGroupHandler(deps: GroupHandlerDeps) {
  return defineHandler(JoinGroupApi, {
    minVersion: 0,
    maxVersion: 9,
    handle(ctx, request): Promise<JoinGroupResponse> {
      return deps.coordinator.joinGroup(groupRequestContext(ctx), request);
    },
  });
}
