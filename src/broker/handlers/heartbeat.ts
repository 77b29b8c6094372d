// Heartbeat (key 12), v0–4: keeps a member's session alive and tells it when to rejoin.
import { HeartbeatApi } from '../../protocol/generated/apis.js';
import type { HeartbeatResponse } from '../../protocol/generated/messages/heartbeat.js';
import { groupRequestContext, type GroupHandlerDeps } from '../group-handlers.js';
import { defineHandler } from '../registry.js';

export function heartbeatHandler(deps: GroupHandlerDeps) {
  return defineHandler(HeartbeatApi, {
    minVersion: 0,
    maxVersion: 4,
    handle(ctx, request): Promise<HeartbeatResponse> {
      return deps.coordinator.heartbeat(groupRequestContext(ctx), request);
    },
  });
}
