// Metadata (key 3): the brokers of the cluster as reachable through the listener the request came in on,
// the cluster id, the controller, and the requested topics. There are no topics yet, so every requested
// topic is unknown.
import { MetadataApi } from '../../protocol/generated/apis.js';
import type {
  MetadataRequest,
  MetadataResponse,
  MetadataResponseTopic,
} from '../../protocol/generated/messages/metadata.js';
import { ZERO_UUID } from '../../protocol/codec-runtime.js';
import { ErrorCode } from '../../protocol/errors.js';
import { defineHandler } from '../registry.js';
import type { RequestContext } from '../request-context.js';

/** The schema's "not requested" value for the authorized-operations bit fields. */
export const AUTHORIZED_OPERATIONS_OMITTED = -2147483648;

// AclOperation codes: READ 3, WRITE 4, CREATE 5, DELETE 6, ALTER 7, DESCRIBE 8, CLUSTER_ACTION 9,
// DESCRIBE_CONFIGS 10, ALTER_CONFIGS 11, IDEMPOTENT_WRITE 12. Without an authorizer Kafka reports every
// operation the resource type supports.
const bits = (...ops: number[]): number => ops.reduce((acc, op) => acc | (1 << op), 0);
export const TOPIC_OPERATIONS = bits(3, 4, 5, 6, 7, 8, 10, 11);
export const CLUSTER_OPERATIONS = bits(5, 7, 8, 9, 10, 11, 12);

function unknownTopic(errorCode: number, name: string | null, topicId: string): MetadataResponseTopic {
  return {
    errorCode,
    name,
    topicId,
    isInternal: false,
    partitions: [],
    topicAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
  };
}

/** Kafka's answer to a request it refuses as a whole: every requested topic carries the error. */
function errorResponse(request: MetadataRequest, errorCode: number): MetadataResponse {
  return {
    throttleTimeMs: 0,
    brokers: [],
    clusterId: null,
    controllerId: -1,
    topics: (request.topics ?? []).map((t) => unknownTopic(errorCode, t.name ?? '', t.topicId)),
    clusterAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
  };
}

function requestedTopics(ctx: RequestContext, request: MetadataRequest): MetadataResponseTopic[] {
  const requested = request.topics;
  // null asks for every topic (v1+); so does an empty list in v0.
  if (requested === null || (ctx.apiVersion === 0 && requested.length === 0)) return [];
  const byId = requested.filter((t) => t.topicId !== ZERO_UUID);
  if (byId.length > 0) {
    // Requests naming ids are answered by id only; no topic id is known yet.
    const ids = [...new Set(byId.map((t) => t.topicId))];
    return ids.map((id) => unknownTopic(ErrorCode.UNKNOWN_TOPIC_ID, null, id));
  }
  const names = [...new Set(requested.map((t) => t.name).filter((n): n is string => n !== null))];
  return names.map((name) => unknownTopic(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, name, ZERO_UUID));
}

export const metadataHandler = defineHandler(MetadataApi, {
  minVersion: 0,
  maxVersion: 12,
  handle(ctx, request) {
    const version = ctx.apiVersion;
    // Topic ids in requests arrived in v12; v10 and v11 carry the field but may not use it.
    if (version < 12 && request.topics !== null) {
      if (request.topics.some((t) => t.name === null || t.topicId !== ZERO_UUID)) {
        return errorResponse(request, ErrorCode.INVALID_REQUEST);
      }
    }
    const { node } = ctx;
    const endpoint = node.advertisedEndpoint(ctx.listenerName);
    const topics = requestedTopics(ctx, request);
    if (version >= 8 && request.includeTopicAuthorizedOperations) {
      for (const t of topics) t.topicAuthorizedOperations = TOPIC_OPERATIONS;
    }
    return {
      throttleTimeMs: 0,
      brokers: endpoint === undefined ? [] : [{ nodeId: node.nodeId, host: endpoint.host, port: endpoint.port, rack: node.rack }],
      clusterId: node.clusterId,
      controllerId: node.controllerId(),
      topics,
      clusterAuthorizedOperations:
        version >= 8 && version <= 10 && request.includeClusterAuthorizedOperations
          ? CLUSTER_OPERATIONS
          : AUTHORIZED_OPERATIONS_OMITTED,
    };
  },
});
