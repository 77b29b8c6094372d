// LeaveGroup (key 13), v0–5: one member leaves (v0–2), or a batch of members by id or instance id (v3+,
// KIP-345), e.g. an operator removing static members.
import { LeaveGroupApi } from '../../protocol/generated/apis.js';
import type { LeaveGroupResponse } from '../../protocol/generated/messages/leave-group.js';
import { groupRequestContext, type GroupHandlerDeps } from '../group-handlers.js';
import { defineHandler } from '../registry.js';

export function leaveGroupHandler(deps: GroupHandlerDeps) {
  return defineHandler(LeaveGroupApi, {
    minVersion: 0,
    maxVersion: 5,
    handle(ctx, request): Promise<LeaveGroupResponse> {
      return deps.coordinator.leaveGroup(groupRequestContext(ctx), request);
    },
  });
}
