// CreateTopics (key 19), v0–7: what Kafka's ControllerApis does before and after the controller —
// names given more than once are refused as a whole, `__cluster_metadata` is never a user topic — and
// the controller's per-topic results. From v5 a created (or validated) topic comes back with its
// partition count, replication factor and every effective config with its source; from v7 with its id.
import { CreateTopicsApi } from '../../protocol/generated/apis.js';
import type {
  CreateTopicsRequest,
  CreateTopicsResponse,
  CreateTopicsResponseCreatableTopicResult,
} from '../../protocol/generated/messages/create-topics.js';
import { ZERO_UUID } from '../../protocol/codec-runtime.js';
import { ErrorCode } from '../../protocol/errors.js';
import type { CreatableTopic, CreateTopicResult } from '../../controller/results.js';
import { topicConfigEntries } from '../config-entries.js';
import { type AdminDeps, callController } from '../controller-api.js';
import { defineHandler } from '../registry.js';

/** The metadata log's name: Kafka refuses to create it as a regular topic. */
export const CLUSTER_METADATA_TOPIC = '__cluster_metadata';

function failed(name: string, errorCode: number, errorMessage: string | null): CreateTopicsResponseCreatableTopicResult {
  return {
    name,
    topicId: ZERO_UUID,
    errorCode,
    errorMessage,
    topicConfigErrorCode: ErrorCode.NONE,
    numPartitions: -1,
    replicationFactor: -1,
    configs: [],
  };
}

function toCreatable(t: CreateTopicsRequest['topics'][number]): CreatableTopic {
  return {
    name: t.name,
    numPartitions: t.numPartitions,
    replicationFactor: t.replicationFactor,
    assignments: t.assignments.map((a) => ({ partitionIndex: a.partitionIndex, brokerIds: a.brokerIds })),
    configs: t.configs.map((c) => ({ name: c.name, value: c.value })),
  };
}

export function createTopicsHandler(deps: AdminDeps) {
  /** The effective configs of a new topic, by name; null when the broker's own defaults do not resolve. */
  const configsOf = (overrides: ReadonlyMap<string, string>): CreateTopicsResponseCreatableTopicResult['configs'] => {
    try {
      return topicConfigEntries(overrides, deps.metadata.brokerLayers())
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
        .map((e) => ({ name: e.name, value: e.value, readOnly: e.readOnly, configSource: e.source, isSensitive: e.isSensitive }));
    } catch {
      return null;
    }
  };

  const succeeded = (r: CreateTopicResult): CreateTopicsResponseCreatableTopicResult => {
    const configs = configsOf(r.configs ?? new Map<string, string>());
    return {
      name: r.name,
      topicId: r.topicId ?? ZERO_UUID,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      // The topic exists either way; only describing its configs failed.
      topicConfigErrorCode: configs === null ? ErrorCode.INVALID_CONFIG : ErrorCode.NONE,
      numPartitions: r.numPartitions ?? -1,
      replicationFactor: r.replicationFactor ?? -1,
      configs: configs ?? [],
    };
  };

  return defineHandler(CreateTopicsApi, {
    minVersion: 0,
    maxVersion: 7,
    async handle(_ctx, request): Promise<CreateTopicsResponse> {
      const counts = new Map<string, number>();
      for (const t of request.topics) counts.set(t.name, (counts.get(t.name) ?? 0) + 1);
      const creatable = request.topics.filter((t) => counts.get(t.name) === 1 && t.name !== CLUSTER_METADATA_TOPIC).map(toCreatable);

      const results: CreateTopicsResponseCreatableTopicResult[] = [];
      if (creatable.length > 0) {
        const outcome = await callController(
          () => deps.controller.createTopics(creatable, { validateOnly: request.validateOnly }),
          request.timeoutMs,
        );
        if (outcome.ok) {
          for (const r of outcome.value) results.push(r.errorCode === ErrorCode.NONE ? succeeded(r) : failed(r.name, r.errorCode, r.errorMessage));
        } else {
          for (const t of creatable) results.push(failed(t.name, outcome.error.errorCode, outcome.error.errorMessage));
        }
      }
      // As ControllerApis appends them: duplicates, then names the caller may not create.
      for (const [name, n] of counts) if (n > 1) results.push(failed(name, ErrorCode.INVALID_REQUEST, 'Duplicate topic name.'));
      if (counts.get(CLUSTER_METADATA_TOPIC) === 1) {
        results.push(failed(CLUSTER_METADATA_TOPIC, ErrorCode.TOPIC_AUTHORIZATION_FAILED, 'Authorization failed.'));
      }
      return { throttleTimeMs: 0, topics: results };
    },
  });
}
