// OffsetCommit (key 8), v0–9: committed positions of a group (or of a standalone consumer, generation -1),
// answered once the commit is replicated in __consumer_offsets.
import { OffsetCommitApi } from '../../protocol/generated/apis.js';
import type { OffsetCommitResponse } from '../../protocol/generated/messages/offset-commit.js';
import { groupRequestContext, type GroupHandlerDeps } from '../group-handlers.js';
import { defineHandler } from '../registry.js';

export function offsetCommitHandler(deps: GroupHandlerDeps) {
  return defineHandler(OffsetCommitApi, {
    minVersion: 0,
    maxVersion: 9,
    handle(ctx, request): Promise<OffsetCommitResponse> {
      return deps.coordinator.commitOffsets(groupRequestContext(ctx), request);
    },
  });
}
