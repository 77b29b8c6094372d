// Metadata (key 3): the brokers of the cluster as reachable through the listener the request came in
// on, the cluster id, a controller id, and the requested topics with their partitions (leader, replicas,
// ISR, offline replicas, leader epoch; topic ids from v10) as Kafka's KRaft metadata cache answers.
//
// A requested topic that does not exist is created when the request allows it and
// auto.create.topics.enable (default true) is set, with num.partitions and default.replication.factor
// (the controller's defaults). Kafka's KRaft broker forwards that creation and answers at once with
// UNKNOWN_TOPIC_OR_PARTITION; our controller is in-process, so we wait for it and answer as Kafka's
// synchronous path does: LEADER_NOT_AVAILABLE for a topic just created (clients retry), the controller's
// error otherwise. Internal topics are left to the coordinators that own them. Illegal names are
// INVALID_TOPIC_EXCEPTION; other unknown topics UNKNOWN_TOPIC_OR_PARTITION.
//
// Built without a metadata view (`metadataHandler`) it describes this node alone and knows no topics.
import { MetadataApi } from '../../protocol/generated/apis.js';
import type {
  MetadataRequest,
  MetadataResponse,
  MetadataResponsePartition,
  MetadataResponseTopic,
} from '../../protocol/generated/messages/metadata.js';
import { ZERO_UUID } from '../../protocol/codec-runtime.js';
import { ErrorCode } from '../../protocol/errors.js';
import { invalidTopicNameReason } from '../../controller/topic-names.js';
import type { MetadataImage, TopicImage } from '../../metadata/image.js';
import type { ControllerApi } from '../controller-api.js';
import {
  isInternalTopic,
  leaderNode,
  type MetadataView,
  offlineReplicas,
  reachableBrokers,
  reportedControllerId,
  sortedPartitions,
} from '../metadata-view.js';
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

export interface MetadataHandlerDeps {
  readonly metadata: MetadataView;
  /** Where auto-created topics are created; without it nothing is auto-created. */
  readonly controller?: Pick<ControllerApi, 'createTopics'>;
}

function topicWithError(errorCode: number, name: string | null, topicId: string): MetadataResponseTopic {
  return {
    errorCode,
    name,
    topicId,
    isInternal: name !== null && isInternalTopic(name),
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
    topics: (request.topics ?? []).map((t) => ({ ...topicWithError(errorCode, t.name ?? '', t.topicId), isInternal: false })),
    clusterAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
  };
}

/** Kafka's getPartitionMetadata for one topic. v0 drops unreachable replicas and reports them. */
function describeTopic(image: MetadataImage, topic: TopicImage, listenerName: string, version: number): MetadataResponseTopic {
  const filterUnavailable = version === 0;
  const reachable = (ids: readonly number[]): number[] => {
    if (!filterUnavailable) return [...ids];
    return ids.filter((id) => {
      const b = image.broker(id);
      return b !== undefined && !b.fenced && b.listeners.some((l) => l.name === listenerName);
    });
  };
  const partitions: MetadataResponsePartition[] = sortedPartitions(topic).map(([index, p]) => {
    const replicaNodes = reachable(p.replicas);
    const isrNodes = reachable(p.isr);
    const offline = offlineReplicas(image, p, listenerName);
    const leader = leaderNode(image, p, listenerName);
    let errorCode: number = ErrorCode.NONE;
    if (leader === undefined) {
      const known = image.broker(p.leader) !== undefined;
      errorCode = known && version >= 6 ? ErrorCode.LISTENER_NOT_FOUND : ErrorCode.LEADER_NOT_AVAILABLE;
    } else if (replicaNodes.length < p.replicas.length || isrNodes.length < p.isr.length) {
      errorCode = ErrorCode.REPLICA_NOT_AVAILABLE;
    }
    return {
      errorCode,
      partitionIndex: index,
      leaderId: leader === undefined ? -1 : p.leader,
      leaderEpoch: p.leaderEpoch,
      replicaNodes,
      isrNodes,
      offlineReplicas: offline,
    };
  });
  return {
    errorCode: ErrorCode.NONE,
    name: topic.name,
    topicId: topic.id,
    isInternal: isInternalTopic(topic.name),
    partitions,
    topicAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
  };
}

const unknownOrInvalid = (name: string): number =>
  invalidTopicNameReason(name) === undefined ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : ErrorCode.INVALID_TOPIC_EXCEPTION;

export function createMetadataHandler(deps?: MetadataHandlerDeps) {
  /** Topics whose auto-creation is under way (Kafka's inflightTopics): a second request does not repeat it. */
  const inflight = new Set<string>();

  async function autoCreate(names: readonly string[]): Promise<MetadataResponseTopic[]> {
    const out: MetadataResponseTopic[] = [];
    const create: string[] = [];
    for (const name of names) {
      if (invalidTopicNameReason(name) !== undefined) out.push(topicWithError(ErrorCode.INVALID_TOPIC_EXCEPTION, name, ZERO_UUID));
      else if (isInternalTopic(name) || inflight.has(name)) out.push(topicWithError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, name, ZERO_UUID));
      else create.push(name);
    }
    if (create.length === 0) return out;
    for (const n of create) inflight.add(n);
    try {
      const results = await deps!.controller!.createTopics(create.map((name) => ({ name, numPartitions: -1, replicationFactor: -1 })));
      for (const r of results) {
        const created = r.errorCode === ErrorCode.NONE || r.errorCode === ErrorCode.TOPIC_ALREADY_EXISTS || r.errorCode === ErrorCode.REQUEST_TIMED_OUT;
        out.push(topicWithError(created ? ErrorCode.LEADER_NOT_AVAILABLE : r.errorCode, r.name, ZERO_UUID));
      }
    } catch {
      for (const n of create) out.push(topicWithError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, n, ZERO_UUID));
    } finally {
      for (const n of create) inflight.delete(n);
    }
    return out;
  }

  /** The topics of the answer, and the missing names to auto-create (undefined: none to create). */
  function requestedTopics(ctx: RequestContext, request: MetadataRequest): { topics: MetadataResponseTopic[]; create?: string[] } {
    const version = ctx.apiVersion;
    const image = deps?.metadata.image;
    const requested = request.topics;
    // null asks for every topic (v1+); so does an empty list in v0.
    const all = requested === null || (version === 0 && requested.length === 0);
    if (all) {
      if (image === undefined) return { topics: [] };
      const topics = [...image.topics.byName.values()]
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
        .map((t) => describeTopic(image, t, ctx.listenerName, version));
      return { topics };
    }
    const byId = requested.filter((t) => t.topicId !== ZERO_UUID);
    if (byId.length > 0) {
      // Requests naming ids are answered by id only.
      const out: MetadataResponseTopic[] = [];
      for (const id of new Set(byId.map((t) => t.topicId))) {
        const topic = image?.topicById(id);
        out.push(topic === undefined ? topicWithError(ErrorCode.UNKNOWN_TOPIC_ID, null, id) : describeTopic(image!, topic, ctx.listenerName, version));
      }
      return { topics: out };
    }
    const names = [...new Set(requested.map((t) => t.name).filter((n): n is string => n !== null))];
    const out: MetadataResponseTopic[] = [];
    const missing: string[] = [];
    for (const name of names) {
      const topic = image?.topic(name);
      if (topic !== undefined) out.push(describeTopic(image!, topic, ctx.listenerName, version));
      else missing.push(name);
    }
    const autoCreation = request.allowAutoTopicCreation && deps?.controller !== undefined &&
      deps.metadata.booleanSetting('auto.create.topics.enable', true);
    if (autoCreation && missing.length > 0) return { topics: out, create: missing };
    for (const name of missing) out.push(topicWithError(unknownOrInvalid(name), name, ZERO_UUID));
    return { topics: out };
  }

  function respond(ctx: RequestContext, request: MetadataRequest, topics: MetadataResponseTopic[]): MetadataResponse {
    const version = ctx.apiVersion;
    if (version >= 8 && request.includeTopicAuthorizedOperations) {
      for (const t of topics) t.topicAuthorizedOperations = TOPIC_OPERATIONS;
    }
    const brokers = reachableBrokers(ctx, deps?.metadata);
    return {
      throttleTimeMs: 0,
      brokers: brokers.map((b) => ({ nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack })),
      clusterId: ctx.node.clusterId,
      controllerId: deps === undefined ? ctx.node.controllerId() : reportedControllerId(ctx, brokers),
      topics,
      clusterAuthorizedOperations:
        version >= 8 && version <= 10 && request.includeClusterAuthorizedOperations
          ? CLUSTER_OPERATIONS
          : AUTHORIZED_OPERATIONS_OMITTED,
    };
  }

  return defineHandler(MetadataApi, {
    minVersion: 0,
    maxVersion: 12,
    // Synchronous unless topics are being auto-created (callers without a controller rely on that).
    handle(ctx, request): MetadataResponse | Promise<MetadataResponse> {
      // Topic ids in requests arrived in v12; v10 and v11 carry the field but may not use it.
      if (ctx.apiVersion < 12 && request.topics !== null) {
        if (request.topics.some((t) => t.name === null || t.topicId !== ZERO_UUID)) {
          return errorResponse(request, ErrorCode.INVALID_REQUEST);
        }
      }
      const { topics, create } = requestedTopics(ctx, request);
      if (create === undefined) return respond(ctx, request, topics);
      return autoCreate(create).then((created) => respond(ctx, request, [...topics, ...created]));
    },
  });
}

/** This node alone, no topics: what a node without a metadata image answers. */
export const metadataHandler = createMetadataHandler();
