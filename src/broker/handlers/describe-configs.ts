// DescribeConfigs (key 32), v0–4, answered by the broker from its metadata image as Kafka's ConfigHelper
// does: TOPIC resources with every topic key's effective value and source (UNKNOWN_TOPIC_OR_PARTITION
// when the topic does not exist, INVALID_TOPIC_EXCEPTION for an illegal name), BROKER resources for
// this node (every broker key) or the empty name (the cluster-wide dynamic defaults only), and
// BROKER_LOGGER, which lists no loggers (Strata has no per-logger levels). Synonyms (v1+) and
// documentation (v3+) only when asked; v0's is_default is "the value comes from the default".
import { DescribeConfigsApi } from '../../protocol/generated/apis.js';
import type {
  DescribeConfigsRequest,
  DescribeConfigsRequestDescribeConfigsResource,
  DescribeConfigsResponse,
  DescribeConfigsResponseDescribeConfigsResult,
} from '../../protocol/generated/messages/describe-configs.js';
import { ConfigSource } from '../../config/config-def.js';
import { invalidTopicNameReason } from '../../controller/topic-names.js';
import { ConfigResourceType } from '../../metadata/records.js';
import { ErrorCode } from '../../protocol/errors.js';
import { brokerConfigEntries, clusterDefaultConfigEntries, type ConfigEntry, topicConfigEntries } from '../config-entries.js';
import type { AdminDeps } from '../controller-api.js';
import { defineHandler } from '../registry.js';

type Result = DescribeConfigsResponseDescribeConfigsResult;

/** Kafka's ConfigResource.Type names, for messages. */
export function resourceTypeName(type: number): string {
  switch (type) {
    case ConfigResourceType.TOPIC:
      return 'TOPIC';
    case ConfigResourceType.BROKER:
      return 'BROKER';
    case ConfigResourceType.BROKER_LOGGER:
      return 'BROKER_LOGGER';
    case ConfigResourceType.CLIENT_METRICS:
      return 'CLIENT_METRICS';
    case ConfigResourceType.GROUP:
      return 'GROUP';
    default:
      return 'UNKNOWN';
  }
}

/** A resource answered with an error and no configs. */
class ResourceError extends Error {
  constructor(readonly errorCode: number, readonly errorMessage: string | null) {
    super(errorMessage ?? String(errorCode));
  }
}

/** Java's Integer.parseInt as Kafka's resourceNameToBrokerId uses it. */
function brokerIdOf(name: string, what: string): number {
  const n = /^[+-]?\d+$/.test(name) ? Number(name) : NaN;
  if (!Number.isInteger(n) || n < -(2 ** 31) || n > 2 ** 31 - 1) {
    throw new ResourceError(ErrorCode.INVALID_REQUEST, `${what} must be an integer, but it is: ${name}`);
  }
  return n;
}

export function describeConfigsHandler(deps: AdminDeps) {
  const view = deps.metadata;

  function entriesOf(resource: DescribeConfigsRequestDescribeConfigsResource): ConfigEntry[] {
    const name = resource.resourceName;
    const image = view.image;
    const sources = { dynamicBroker: image.brokerConfigs(view.nodeId), dynamicDefault: image.clusterDefaultConfigs(), static: view.staticConfig };
    switch (resource.resourceType) {
      case ConfigResourceType.TOPIC: {
        const invalid = invalidTopicNameReason(name);
        if (invalid !== undefined) throw new ResourceError(ErrorCode.INVALID_TOPIC_EXCEPTION, invalid);
        if (image.topic(name) === undefined) throw new ResourceError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, null);
        return topicConfigEntries(image.topicConfigs(name), view.brokerLayers(image));
      }
      case ConfigResourceType.BROKER:
        if (name === '') return clusterDefaultConfigEntries(sources);
        if (brokerIdOf(name, 'Broker id') === view.nodeId) return brokerConfigEntries(sources);
        throw new ResourceError(ErrorCode.INVALID_REQUEST, `Unexpected broker id, expected ${view.nodeId} or empty string, but received ${name}`);
      case ConfigResourceType.BROKER_LOGGER:
        if (name === '') throw new ResourceError(ErrorCode.INVALID_REQUEST, 'Broker id must not be empty');
        if (brokerIdOf(name, 'Broker id') !== view.nodeId) {
          throw new ResourceError(ErrorCode.INVALID_REQUEST, `Unexpected broker id, expected ${view.nodeId} but received ${name}`);
        }
        return [];
      default:
        throw new ResourceError(ErrorCode.INVALID_REQUEST, `Unsupported resource type: ${resourceTypeName(resource.resourceType)}`);
    }
  }

  function describe(resource: DescribeConfigsRequestDescribeConfigsResource, request: DescribeConfigsRequest, version: number): Result {
    const head = { resourceType: resource.resourceType, resourceName: resource.resourceName };
    let entries: ConfigEntry[];
    try {
      entries = entriesOf(resource);
    } catch (e) {
      if (e instanceof ResourceError) return { ...head, errorCode: e.errorCode, errorMessage: e.errorMessage, configs: [] };
      return { ...head, errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, errorMessage: (e as Error).message, configs: [] };
    }
    const keys = resource.configurationKeys;
    if (keys !== null && keys.length > 0) {
      const wanted = new Set(keys);
      entries = entries.filter((e) => wanted.has(e.name));
    }
    const synonyms = version >= 1 && request.includeSynonyms;
    const docs = version >= 3 && request.includeDocumentation;
    return {
      ...head,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      configs: entries.map((e) => ({
        name: e.name,
        value: e.value,
        readOnly: e.readOnly,
        isDefault: version === 0 && e.source === ConfigSource.DEFAULT_CONFIG,
        configSource: e.source,
        isSensitive: e.isSensitive,
        synonyms: synonyms ? e.synonyms.map((s) => ({ name: s.name, value: s.value, source: s.source })) : [],
        configType: e.configType,
        documentation: docs ? e.documentation : null,
      })),
    };
  }

  return defineHandler(DescribeConfigsApi, {
    minVersion: 0,
    maxVersion: 4,
    handle(ctx, request): DescribeConfigsResponse {
      // Kafka refuses the whole request when a resource has a type it cannot even authorize.
      const unknown = request.resources.find((r) => resourceTypeName(r.resourceType) === 'UNKNOWN');
      if (unknown !== undefined) {
        const message = `Unexpected resource type UNKNOWN for resource ${unknown.resourceName}`;
        return {
          throttleTimeMs: 0,
          results: request.resources.map((r) => ({
            errorCode: ErrorCode.INVALID_REQUEST,
            errorMessage: message,
            resourceType: r.resourceType,
            resourceName: r.resourceName,
            configs: [],
          })),
        };
      }
      return { throttleTimeMs: 0, results: request.resources.map((r) => describe(r, request, ctx.apiVersion)) };
    },
  });
}
