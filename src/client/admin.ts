// Admin operations: topics (create, delete, add partitions) and configs (describe, incremental alter).
// Topic changes go to the controller; a broker's own configs to that broker; the rest to any broker.
import { ApiKey } from '../protocol/generated/apis.js';
import { ZERO_UUID } from '../protocol/codec-runtime.js';
import { ErrorCode } from '../protocol/errors.js';
import { StrataError } from '../protocol/strata-error.js';
import { pushTo, type ClientContext, type Target } from './context.js';
import { KafkaResponseError, topicSubject } from './errors.js';
import {
  AlterConfigOp,
  CONFIG_SOURCES,
  ConfigResourceType,
  type AlterConfigsResult,
  type ConfigAlteration,
  type ConfigResource,
  type CreateTopicResult,
  type DescribeConfigsResult,
  type NewTopic,
  type TopicResult,
} from './types.js';

export async function createTopics(ctx: ClientContext, topics: readonly NewTopic[], opts: { validateOnly?: boolean; timeoutMs?: number } = {}): Promise<CreateTopicResult[]> {
  const results = new Map<string, CreateTopicResult>();
  let todo = [...topics];
  await ctx.retrying(async () => {
    const { response } = await ctx.send('controller', ApiKey.CreateTopics, (v) => {
      if (v < 1 && opts.validateOnly === true) throw new StrataError('ERR_UNSUPPORTED_VERSION', 'the broker does not support validate-only topic creation');
      return {
        topics: todo.map((t) => {
          const numPartitions = t.assignments !== undefined ? -1 : (t.numPartitions ?? -1);
          const replicationFactor = t.assignments !== undefined ? -1 : (t.replicationFactor ?? -1);
          if (v < 4 && t.assignments === undefined && (numPartitions < 0 || replicationFactor < 0)) {
            throw new StrataError('ERR_UNSUPPORTED_VERSION', `the broker needs an explicit partition count and replication factor for topic '${t.name}' (CreateTopics v${v})`);
          }
          return {
            name: t.name,
            numPartitions,
            replicationFactor,
            assignments: [...(t.assignments ?? new Map<number, readonly number[]>())].map(([partitionIndex, brokerIds]) => ({ partitionIndex, brokerIds: [...brokerIds] })),
            configs: Object.entries(t.configs ?? {}).map(([name, value]) => ({ name, value })),
          };
        }),
        timeoutMs: opts.timeoutMs ?? ctx.requestTimeoutMs,
        validateOnly: v >= 1 ? (opts.validateOnly ?? false) : false,
      };
    });
    const retry: NewTopic[] = [];
    let retryError: KafkaResponseError | undefined;
    for (const r of response.topics) {
      const error = r.errorCode === ErrorCode.NONE ? null : new KafkaResponseError(r.errorCode, { subject: topicSubject(r.name), serverMessage: r.errorMessage, topic: r.name });
      const input = todo.find((t) => t.name === r.name);
      if (error?.retriable === true && input !== undefined) {
        retry.push(input);
        retryError = error;
      }
      results.set(r.name, { name: r.name, topicId: r.topicId === ZERO_UUID ? null : r.topicId, numPartitions: r.numPartitions, replicationFactor: r.replicationFactor, error });
    }
    todo = retry;
    if (retryError !== undefined) throw retryError;
  }).catch((err: unknown) => {
    if (!(err instanceof KafkaResponseError) || results.size === 0) throw err;
  });
  return topics.map((t) => results.get(t.name) ?? { name: t.name, topicId: null, numPartitions: -1, replicationFactor: -1, error: new KafkaResponseError(ErrorCode.UNKNOWN_SERVER_ERROR, { subject: topicSubject(t.name), serverMessage: 'no result in the response', topic: t.name }) });
}

export async function deleteTopics(ctx: ClientContext, names: readonly string[], opts: { timeoutMs?: number } = {}): Promise<TopicResult[]> {
  const { response } = await ctx.retrying(() =>
    ctx.send('controller', ApiKey.DeleteTopics, (v) => ({
      topics: v >= 6 ? names.map((name) => ({ name, topicId: ZERO_UUID })) : [],
      topicNames: v >= 6 ? [] : [...names],
      timeoutMs: opts.timeoutMs ?? ctx.requestTimeoutMs,
    })),
  );
  const byName = new Map(response.responses.map((r) => [r.name ?? '', r]));
  ctx.forgetMetadata();
  return names.map((name) => {
    const r = byName.get(name);
    const code = r?.errorCode ?? ErrorCode.UNKNOWN_SERVER_ERROR;
    return { name, error: code === ErrorCode.NONE ? null : new KafkaResponseError(code, { subject: topicSubject(name), serverMessage: r?.errorMessage ?? null, topic: name }) };
  });
}

/** Raises topics' partition counts to the totals given. */
export async function createPartitions(ctx: ClientContext, totals: Readonly<Record<string, number>>, opts: { validateOnly?: boolean; timeoutMs?: number } = {}): Promise<TopicResult[]> {
  const { response } = await ctx.retrying(() =>
    ctx.send('controller', ApiKey.CreatePartitions, {
      topics: Object.entries(totals).map(([name, count]) => ({ name, count, assignments: null })),
      timeoutMs: opts.timeoutMs ?? ctx.requestTimeoutMs,
      validateOnly: opts.validateOnly ?? false,
    }),
  );
  ctx.forgetMetadata();
  return response.results.map((r) => ({
    name: r.name,
    error: r.errorCode === ErrorCode.NONE ? null : new KafkaResponseError(r.errorCode, { subject: topicSubject(r.name), serverMessage: r.errorMessage, topic: r.name }),
  }));
}

export async function describeConfigs(ctx: ClientContext, resources: readonly (ConfigResource & { keys?: readonly string[] })[], opts: { includeSynonyms?: boolean } = {}): Promise<DescribeConfigsResult[]> {
  const out: DescribeConfigsResult[] = [];
  // A broker's own configs are answered only by that broker; everything else by any broker.
  for (const [target, group] of groupByTarget(resources)) {
    const { version, response } = await ctx.retrying(() =>
      ctx.send(target, ApiKey.DescribeConfigs, (v) => ({
        resources: group.map((r) => ({ resourceType: ConfigResourceType[r.type], resourceName: r.name, configurationKeys: r.keys === undefined ? null : [...r.keys] })),
        includeSynonyms: v >= 1 ? (opts.includeSynonyms ?? false) : false,
        includeDocumentation: false,
      })),
    );
    for (const res of response.results) {
      const type = resourceTypeName(res.resourceType);
      out.push({
        type,
        name: res.resourceName,
        error: res.errorCode === ErrorCode.NONE ? null : new KafkaResponseError(res.errorCode, { subject: `${type} '${res.resourceName}'`, serverMessage: res.errorMessage, ...(type === 'topic' ? { topic: res.resourceName } : {}) }),
        configs: res.configs.map((c) => {
          // v0 reports isDefault; later versions a source, from which "default" follows.
          const source = version >= 1 ? (CONFIG_SOURCES[c.configSource] ?? 'UNKNOWN') : c.isDefault ? 'DEFAULT_CONFIG' : 'UNKNOWN';
          return {
            name: c.name,
            value: c.value,
            readOnly: c.readOnly,
            isDefault: version >= 1 ? c.configSource === 5 : c.isDefault,
            source,
            isSensitive: c.isSensitive,
            synonyms: c.synonyms.map((s) => ({ name: s.name, value: s.value, source: CONFIG_SOURCES[s.source] ?? 'UNKNOWN' })),
          };
        }),
      });
    }
  }
  return out;
}

export async function incrementalAlterConfigs(
  ctx: ClientContext,
  changes: readonly (ConfigResource & { alterations: readonly ConfigAlteration[] })[],
  opts: { validateOnly?: boolean } = {},
): Promise<AlterConfigsResult[]> {
  const out: AlterConfigsResult[] = [];
  for (const [target, group] of groupByTarget(changes)) {
    const { response } = await ctx.retrying(() =>
      ctx.send(target, ApiKey.IncrementalAlterConfigs, {
        resources: group.map((r) => ({
          resourceType: ConfigResourceType[r.type],
          resourceName: r.name,
          configs: r.alterations.map((a) => ({ name: a.name, configOperation: AlterConfigOp[a.op], value: a.value ?? null })),
        })),
        validateOnly: opts.validateOnly ?? false,
      }),
    );
    for (const r of response.responses) {
      const type = resourceTypeName(r.resourceType);
      out.push({
        type,
        name: r.resourceName,
        error: r.errorCode === ErrorCode.NONE ? null : new KafkaResponseError(r.errorCode, { subject: `${type} '${r.resourceName}'`, serverMessage: r.errorMessage, ...(type === 'topic' ? { topic: r.resourceName } : {}) }),
      });
    }
  }
  return out;
}

function resourceTypeName(code: number): ConfigResource['type'] {
  const entry = Object.entries(ConfigResourceType).find(([, v]) => v === code);
  return (entry?.[0] ?? 'topic') as ConfigResource['type'];
}

function groupByTarget<R extends ConfigResource>(resources: readonly R[]): Map<Target, R[]> {
  const groups = new Map<Target, R[]>();
  const byNode = new Map<number, { nodeId: number }>();
  for (const r of resources) {
    let target: Target = 'any';
    if ((r.type === 'broker' || r.type === 'brokerLogger') && r.name !== '') {
      const id = Number(r.name);
      if (!Number.isInteger(id)) throw new StrataError('ERR_CONFIG', `broker '${r.name}' is not a node id`);
      target = byNode.get(id) ?? { nodeId: id };
      byNode.set(id, target);
    }
    pushTo(groups, target, r);
  }
  return groups;
}
