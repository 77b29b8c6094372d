// OffsetFetch (key 9), v0–9: a group's committed offsets (all of them when topics is null, v2+); from v8
// several groups per request (KIP-709).
import { OffsetFetchApi } from '../../protocol/generated/apis.js';
import type { OffsetFetchResponse } from '../../protocol/generated/messages/offset-fetch.js';
import { groupRequestContext, type GroupHandlerDeps } from '../group-handlers.js';
import { defineHandler } from '../registry.js';

export function offsetFetchHandler(deps: GroupHandlerDeps) {
  return defineHandler(OffsetFetchApi, {
    minVersion: 0,
    maxVersion: 9,
    handle(ctx, request): Promise<OffsetFetchResponse> {
      return deps.coordinator.fetchOffsets(groupRequestContext(ctx), request);
    },
  });
}
