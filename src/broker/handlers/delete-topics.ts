// DeleteTopics (key 20), v0–6: topics by name (every version) or by id (v6), with Kafka's
// ControllerApis rules: a name or id given twice, a topic given both by name and id, or neither, is an
// INVALID_REQUEST; unknown names are UNKNOWN_TOPIC_OR_PARTITION, unknown ids UNKNOWN_TOPIC_ID; with
// delete.topic.enable=false the whole request is refused. Like Kafka, the broker does not refuse
// internal topics here (only Kafka's command-line tool does); `__cluster_metadata` is not a topic of
// the image, so it is simply unknown.
import { DeleteTopicsApi } from '../../protocol/generated/apis.js';
import type {
  DeleteTopicsRequest,
  DeleteTopicsResponse,
  DeleteTopicsResponseDeletableTopicResult,
} from '../../protocol/generated/messages/delete-topics.js';
import { ZERO_UUID } from '../../protocol/codec-runtime.js';
import { ErrorCode, errorMessage } from '../../protocol/errors.js';
import { type AdminDeps, callController } from '../controller-api.js';
import { defineHandler } from '../registry.js';

type Result = DeleteTopicsResponseDeletableTopicResult;

const result = (name: string | null, topicId: string, errorCode: number, message: string | null): Result =>
  ({ name, topicId, errorCode, errorMessage: message });

/** Every requested topic with one error: Kafka's answer to a request refused as a whole. */
function refuseAll(request: DeleteTopicsRequest, errorCode: number, message: string): DeleteTopicsResponse {
  const responses = [
    ...request.topicNames.map((n) => result(n, ZERO_UUID, errorCode, message)),
    ...request.topics.map((t) => result(t.name, t.topicId, errorCode, message)),
  ];
  return { throttleTimeMs: 0, responses };
}

export function deleteTopicsHandler(deps: AdminDeps) {
  return defineHandler(DeleteTopicsApi, {
    minVersion: 0,
    maxVersion: 6,
    async handle(ctx, request): Promise<DeleteTopicsResponse> {
      if (!deps.metadata.booleanSetting('delete.topic.enable', true)) {
        return ctx.apiVersion < 3
          ? refuseAll(request, ErrorCode.INVALID_REQUEST, 'Topic deletion is disabled.')
          : refuseAll(request, ErrorCode.TOPIC_DELETION_DISABLED, errorMessage(ErrorCode.TOPIC_DELETION_DISABLED));
      }
      const responses: Result[] = [];
      const names = new Set<string>();
      const duplicateNames = new Set<string>();
      const ids = new Set<string>();
      const duplicateIds = new Set<string>();
      const addName = (n: string): void => {
        if (duplicateNames.has(n) || names.has(n)) {
          duplicateNames.add(n);
          names.delete(n);
        } else {
          names.add(n);
        }
      };
      for (const n of request.topicNames) addName(n);
      for (const t of request.topics) {
        if (t.name === null) {
          if (t.topicId === ZERO_UUID) {
            responses.push(result(null, ZERO_UUID, ErrorCode.INVALID_REQUEST, 'Neither topic name nor id were specified.'));
          } else if (duplicateIds.has(t.topicId) || ids.has(t.topicId)) {
            duplicateIds.add(t.topicId);
            ids.delete(t.topicId);
          } else {
            ids.add(t.topicId);
          }
        } else if (t.topicId === ZERO_UUID) {
          addName(t.name);
        } else {
          responses.push(result(t.name, t.topicId, ErrorCode.INVALID_REQUEST, 'You may not specify both topic name and topic id.'));
        }
      }
      for (const n of duplicateNames) responses.push(result(n, ZERO_UUID, ErrorCode.INVALID_REQUEST, 'Duplicate topic name.'));
      for (const id of duplicateIds) responses.push(result(null, id, ErrorCode.INVALID_REQUEST, 'Duplicate topic id.'));

      // Resolve everything to ids against one image, as Kafka's controller does before deleting by id.
      const image = deps.metadata.image;
      const idToName = new Map<string, string>();
      for (const id of ids) {
        const topic = image.topicById(id);
        if (topic === undefined) responses.push(result(null, id, ErrorCode.UNKNOWN_TOPIC_ID, errorMessage(ErrorCode.UNKNOWN_TOPIC_ID)));
        else idToName.set(id, topic.name);
      }
      for (const n of names) {
        const topic = image.topic(n);
        if (topic === undefined) {
          responses.push(result(n, ZERO_UUID, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)));
        } else if (duplicateIds.has(topic.id) || idToName.has(topic.id)) {
          duplicateIds.add(topic.id);
          idToName.delete(topic.id);
          responses.push(result(n, topic.id, ErrorCode.INVALID_REQUEST, 'The provided topic name maps to an ID that was already supplied.'));
        } else {
          idToName.set(topic.id, n);
        }
      }
      if (idToName.size > 0) {
        const targets = [...idToName.keys()];
        const outcome = await callController(() => deps.controller.deleteTopics(targets.map((topicId) => ({ topicId }))), request.timeoutMs);
        if (outcome.ok) {
          for (const r of outcome.value) {
            const id = r.topicId ?? ZERO_UUID;
            responses.push(result(idToName.get(id) ?? r.name, id, r.errorCode, r.errorMessage));
          }
        } else {
          for (const id of targets) responses.push(result(idToName.get(id)!, id, outcome.error.errorCode, outcome.error.errorMessage));
        }
      }
      return { throttleTimeMs: 0, responses };
    },
  });
}
