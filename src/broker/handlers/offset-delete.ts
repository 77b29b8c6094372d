// OffsetDelete (key 47), v0: removes a group's committed offsets of partitions it no longer consumes
// (GROUP_SUBSCRIBED_TO_TOPIC for a topic a live member still subscribes to).
import { OffsetDeleteApi } from '../../protocol/generated/apis.js';
import type { OffsetDeleteResponse } from '../../protocol/generated/messages/offset-delete.js';
import { groupRequestContext, type GroupHandlerDeps } from '../group-handlers.js';
import { defineHandler } from '../registry.js';

export function offsetDeleteHandler(deps: GroupHandlerDeps) {
  return defineHandler(OffsetDeleteApi, {
    minVersion: 0,
    maxVersion: 0,
    handle(ctx, request): Promise<OffsetDeleteResponse> {
      return deps.coordinator.deleteOffsets(groupRequestContext(ctx), request);
    },
  });
}
