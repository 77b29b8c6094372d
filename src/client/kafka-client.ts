// A Kafka client: bootstraps from a broker list, keeps cluster metadata, routes each request to the broker
// that must answer it (partition leader, controller, a given broker or any), retries retriable errors with
// exponential backoff after refreshing metadata, and offers the admin, produce, list-offsets and fetch
// operations on top. Only APIs the broker advertises are used, in the newest version both sides know, so it
// works against any Kafka-compatible broker.
//
// Extension point: `send(target, apiKey, build)` routes any request by the same rules, so further APIs
// (consumer groups: FindCoordinator, JoinGroup, OffsetCommit … with target { nodeId: coordinator }) can be
// layered on without touching connection handling.
import { ApiKey, type ApiMessages } from '../protocol/generated/apis.js';
import type { MetadataRequest, MetadataResponse } from '../protocol/generated/messages/metadata.js';
import { ZERO_UUID } from '../protocol/codec-runtime.js';
import { ErrorCode } from '../protocol/errors.js';
import { StrataError } from '../protocol/strata-error.js';
import * as admin from './admin.js';
import { BrokerConnection, type SendOptions, type Sent, type VersionRange } from './connection.js';
import type { ClientContext, Target } from './context.js';
import { KafkaResponseError, isRetriableError, topicSubject } from './errors.js';
import { fetch } from './fetch.js';
import { listOffsets } from './list-offsets.js';
import { produce } from './produce.js';
import type {
  AlterConfigsResult,
  ClusterInfo,
  ConfigAlteration,
  ConfigResource,
  CreateTopicResult,
  DescribeConfigsResult,
  FetchOptions,
  FetchPosition,
  FetchResult,
  NewTopic,
  OffsetSpec,
  PartitionInfo,
  PartitionOffset,
  ProduceOptions,
  ProduceRecord,
  ProduceResult,
  TopicInfo,
  TopicResult,
} from './types.js';

export interface KafkaClientOptions {
  /** "host:port" entries (or one comma-separated string). */
  readonly bootstrapServers: string | readonly string[];
  readonly clientId?: string;
  readonly requestTimeoutMs?: number;
  readonly connectTimeoutMs?: number;
  /** Attempts after the first for retriable failures. */
  readonly retries?: number;
  readonly retryBackoffMs?: number;
  readonly retryBackoffMaxMs?: number;
  /** Cached topic metadata older than this is looked up again before use (Kafka's metadata.max.age.ms). */
  readonly metadataMaxAgeMs?: number;
}

export type { Target } from './context.js';

interface Address {
  readonly host: string;
  readonly port: number;
}

interface MetadataSnapshot extends ClusterInfo {
  readonly topics: ReadonlyMap<string, TopicInfo>;
}

export function parseBroker(entry: string): Address {
  const s = entry.trim();
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(s) ?? /^([^:]+):(\d+)$/.exec(s);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !(port > 0 && port < 65536)) throw new StrataError('ERR_CONFIG', `'${entry}' is not host:port`);
  return { host: m[1]!, port };
}

const sleep = (ms: number): Promise<void> => new Promise((res) => setTimeout(res, ms));

export class KafkaClient {
  readonly #bootstrap: readonly Address[];
  readonly #clientId: string;
  readonly #requestTimeoutMs: number;
  readonly #connectTimeoutMs: number;
  readonly #retries: number;
  readonly #backoffMs: number;
  readonly #backoffMaxMs: number;
  readonly #metadataMaxAgeMs: number;
  /** When each cached topic's metadata was fetched. */
  readonly #topicFetchedAt = new Map<string, number>();
  readonly #connections = new Map<string, Promise<BrokerConnection>>();
  #metadata: MetadataSnapshot | undefined;
  #closed = false;
  /** What the operation modules see of this client. */
  readonly #ctx: ClientContext;

  constructor(opts: KafkaClientOptions) {
    const list = typeof opts.bootstrapServers === 'string' ? opts.bootstrapServers.split(',') : opts.bootstrapServers;
    this.#bootstrap = list.filter((s) => s.trim() !== '').map(parseBroker);
    if (this.#bootstrap.length === 0) throw new StrataError('ERR_CONFIG', 'no bootstrap server given');
    this.#clientId = opts.clientId ?? 'strata-client';
    this.#requestTimeoutMs = opts.requestTimeoutMs ?? 30_000;
    this.#connectTimeoutMs = opts.connectTimeoutMs ?? 10_000;
    this.#retries = opts.retries ?? 5;
    this.#backoffMs = opts.retryBackoffMs ?? 100;
    this.#backoffMaxMs = opts.retryBackoffMaxMs ?? 1_000;
    this.#metadataMaxAgeMs = opts.metadataMaxAgeMs ?? 300_000;
    this.#ctx = {
      requestTimeoutMs: this.#requestTimeoutMs,
      send: (target, apiKey, build, sendOpts) => this.send(target, apiKey, build, sendOpts),
      connection: (target) => this.#connectionFor(target),
      retrying: (fn) => this.#retrying(fn),
      topic: (name, refresh) => this.#topic(name, refresh),
      forgetMetadata: () => {
        this.#metadata = undefined;
      },
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    const conns = [...this.#connections.values()];
    this.#connections.clear();
    await Promise.all(conns.map((p) => p.then((c) => c.close(), () => undefined)));
  }

  // ---- routing ---------------------------------------------------------------------------------

  /** Sends one request to `target`, without retries; for APIs this client does not wrap yet. */
  async send<K extends keyof ApiMessages>(
    target: Target,
    apiKey: K,
    build: ApiMessages[K]['request'] | ((version: number) => ApiMessages[K]['request']),
    opts: SendOptions = {},
  ): Promise<Sent<ApiMessages[K]['response']>> {
    const conn = await this.#connectionFor(target);
    return conn.send(apiKey, build, opts);
  }

  /** The version of `apiKey` a request to `target` would use, or undefined when the broker lacks it. */
  async versionFor(target: Target, apiKey: number, limits: SendOptions = {}): Promise<number | undefined> {
    return (await this.#connectionFor(target)).versionFor(apiKey, limits);
  }

  /** The API versions the broker at `target` advertised, by api key. */
  async apiVersions(target: Target = 'any'): Promise<ReadonlyMap<number, VersionRange>> {
    return (await this.#retrying(() => this.#connectionFor(target))).apiVersions;
  }

  async #connectionFor(target: Target): Promise<BrokerConnection> {
    if (target === 'any') return this.#anyConnection();
    if (target === 'controller') {
      const md = this.#metadata ?? (await this.refreshMetadata([]));
      const controller = md.brokers.find((b) => b.nodeId === md.controllerId);
      return controller === undefined ? this.#anyConnection() : this.#connect(controller);
    }
    return this.#brokerConnection(target.nodeId);
  }

  async #brokerConnection(nodeId: number): Promise<BrokerConnection> {
    let broker = this.#metadata?.brokers.find((b) => b.nodeId === nodeId);
    if (broker === undefined) broker = (await this.refreshMetadata([])).brokers.find((b) => b.nodeId === nodeId);
    if (broker === undefined) {
      throw new KafkaResponseError(ErrorCode.BROKER_NOT_AVAILABLE, { subject: `broker ${nodeId}`, serverMessage: 'not in the cluster metadata' });
    }
    return this.#connect(broker);
  }

  /** An open connection if there is one, else the first broker (known brokers, then bootstrap) that answers. */
  async #anyConnection(): Promise<BrokerConnection> {
    for (const p of this.#connections.values()) {
      const c = await p.catch(() => undefined);
      if (c !== undefined && !c.closed) return c;
    }
    const candidates: Address[] = [...(this.#metadata?.brokers ?? []), ...this.#bootstrap];
    const failures: string[] = [];
    for (const a of candidates) {
      try {
        return await this.#connect(a);
      } catch (err) {
        if (err instanceof StrataError && (err.code === 'ERR_NETWORK' || err.code === 'ERR_TIMEOUT')) {
          failures.push(err.message);
          continue;
        }
        throw err;
      }
    }
    throw new StrataError('ERR_NETWORK', `no broker is reachable: ${[...new Set(failures)].join('; ')}`);
  }

  #connect(a: Address): Promise<BrokerConnection> {
    if (this.#closed) return Promise.reject(new StrataError('ERR_STATE', 'the client is closed'));
    const key = `${a.host}:${a.port}`;
    const existing = this.#connections.get(key);
    if (existing !== undefined) {
      return existing.then(
        (c) => {
          if (!c.closed) return c;
          if (this.#connections.get(key) === existing) this.#connections.delete(key);
          return this.#connect(a);
        },
        () => {
          if (this.#connections.get(key) === existing) this.#connections.delete(key);
          return this.#connect(a);
        },
      );
    }
    const p = BrokerConnection.connect({
      host: a.host,
      port: a.port,
      clientId: this.#clientId,
      connectTimeoutMs: this.#connectTimeoutMs,
      requestTimeoutMs: this.#requestTimeoutMs,
    });
    this.#connections.set(key, p);
    p.catch(() => {
      if (this.#connections.get(key) === p) this.#connections.delete(key);
    });
    return p;
  }

  /**
   * Runs `fn` until it succeeds, fails with a non-retriable error, or the retries are spent; between
   * attempts it waits (exponential backoff with jitter) and forgets metadata so routing is looked up again.
   */
  async #retrying<T>(fn: (attempt: number) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn(attempt);
      } catch (err) {
        if (!isRetriableError(err) || attempt >= this.#retries || this.#closed) throw err;
        await this.#backoff(attempt);
      }
    }
  }

  async #backoff(attempt: number): Promise<void> {
    const exp = Math.min(this.#backoffMaxMs, this.#backoffMs * 2 ** attempt);
    await sleep(exp * (0.8 + Math.random() * 0.4));
    this.#metadata = undefined;
  }

  // ---- metadata --------------------------------------------------------------------------------

  /**
   * Fetches metadata for `topics` (null: every topic; []: brokers only) and merges it into the cache.
   * Never auto-creates topics.
   */
  async refreshMetadata(topics: readonly string[] | null = null): Promise<MetadataSnapshot> {
    return (await this.#refresh(topics)).snapshot;
  }

  async #refresh(topics: readonly string[] | null): Promise<{ snapshot: MetadataSnapshot; topicErrors: ReadonlyMap<string, number> }> {
    const { response } = await this.#retrying(async () => {
      const conn = await this.#anyConnection();
      return conn.send(ApiKey.Metadata, (v) => metadataRequest(topics, v));
    });
    const fresh = snapshotFrom(response);
    const merged = new Map(topics === null ? [] : (this.#metadata?.topics ?? []));
    for (const [name, t] of fresh.topicInfos) merged.set(name, t);
    for (const name of fresh.topicErrors.keys()) merged.delete(name);
    const now = Date.now();
    for (const name of fresh.topicInfos.keys()) this.#topicFetchedAt.set(name, now);
    this.#metadata = { clusterId: fresh.clusterId, controllerId: fresh.controllerId, brokers: fresh.brokers, topics: merged };
    return { snapshot: this.#metadata, topicErrors: fresh.topicErrors };
  }

  /** The topic's metadata; throws (not retried) when the topic does not exist. */
  async #topic(name: string, refresh = false): Promise<TopicInfo> {
    const stale = Date.now() - (this.#topicFetchedAt.get(name) ?? 0) > this.#metadataMaxAgeMs;
    const cached = refresh || stale ? undefined : this.#metadata?.topics.get(name);
    if (cached !== undefined) return cached;
    return this.#retrying(async (attempt) => {
      const { snapshot, topicErrors } = await this.#refresh([name]);
      const t = snapshot.topics.get(name);
      if (t !== undefined) return t;
      const code = topicErrors.get(name) ?? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
      // An unknown topic is asked about twice more (a topic just created may not have reached every broker's
      // metadata yet), then it is final: people should hear at once that a name is wrong. A leaderless new
      // topic is retried as usual.
      const retriable = code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION ? attempt < 2 : code !== ErrorCode.INVALID_TOPIC_EXCEPTION;
      throw new KafkaResponseError(code, { subject: topicSubject(name), topic: name, retriable });
    });
  }

  async describeCluster(): Promise<ClusterInfo> {
    const conn = await this.#retrying(() => this.#anyConnection());
    if (conn.supports(ApiKey.DescribeCluster)) {
      const { response } = await this.#retrying(async () => (await this.#anyConnection()).send(ApiKey.DescribeCluster, { includeClusterAuthorizedOperations: false, endpointType: 1 }));
      if (response.errorCode !== ErrorCode.NONE) {
        throw new KafkaResponseError(response.errorCode, { subject: 'describe cluster', serverMessage: response.errorMessage });
      }
      return {
        clusterId: response.clusterId,
        controllerId: response.controllerId,
        brokers: response.brokers.map((b) => ({ nodeId: b.brokerId, host: b.host, port: b.port, rack: b.rack })).sort((a, b) => a.nodeId - b.nodeId),
      };
    }
    const md = await this.refreshMetadata([]);
    return { clusterId: md.clusterId, controllerId: md.controllerId, brokers: md.brokers };
  }

  /** Topic names, sorted; internal topics (such as __consumer_offsets) only when asked. */
  async listTopics(opts: { includeInternal?: boolean } = {}): Promise<string[]> {
    const md = await this.refreshMetadata(null);
    return [...md.topics.values()]
      .filter((t) => opts.includeInternal === true || !t.isInternal)
      .map((t) => t.name)
      .sort();
  }

  /** Topic metadata; every topic when `names` is absent. Throws for a topic that does not exist. */
  async describeTopics(names?: readonly string[]): Promise<TopicInfo[]> {
    if (names === undefined) {
      const md = await this.refreshMetadata(null);
      return [...md.topics.values()].sort((a, b) => a.name.localeCompare(b.name));
    }
    const out: TopicInfo[] = [];
    for (const n of names) out.push(await this.#topic(n, true));
    return out;
  }

  // ---- operations (each in its own module) ----------------------------------------------------

  createTopics(topics: readonly NewTopic[], opts: { validateOnly?: boolean; timeoutMs?: number } = {}): Promise<CreateTopicResult[]> {
    return admin.createTopics(this.#ctx, topics, opts);
  }

  deleteTopics(names: readonly string[], opts: { timeoutMs?: number } = {}): Promise<TopicResult[]> {
    return admin.deleteTopics(this.#ctx, names, opts);
  }

  /** Raises topics' partition counts to the totals given. */
  createPartitions(totals: Readonly<Record<string, number>>, opts: { validateOnly?: boolean; timeoutMs?: number } = {}): Promise<TopicResult[]> {
    return admin.createPartitions(this.#ctx, totals, opts);
  }

  describeConfigs(resources: readonly (ConfigResource & { keys?: readonly string[] })[], opts: { includeSynonyms?: boolean } = {}): Promise<DescribeConfigsResult[]> {
    return admin.describeConfigs(this.#ctx, resources, opts);
  }

  incrementalAlterConfigs(changes: readonly (ConfigResource & { alterations: readonly ConfigAlteration[] })[], opts: { validateOnly?: boolean } = {}): Promise<AlterConfigsResult[]> {
    return admin.incrementalAlterConfigs(this.#ctx, changes, opts);
  }

  /** Offsets of every partition of `topic` (or those listed) for `spec`, sorted by partition. */
  listOffsets(topic: string, spec: OffsetSpec, partitions?: readonly number[]): Promise<PartitionOffset[]> {
    return listOffsets(this.#ctx, topic, spec, partitions);
  }

  /** Writes records; see produce.ts. */
  produce(topic: string, records: readonly ProduceRecord[], opts: ProduceOptions = {}): Promise<ProduceResult> {
    return produce(this.#ctx, topic, records, opts);
  }

  /** One round of fetching; partition errors come back in the results. See fetch.ts. */
  fetch(positions: readonly FetchPosition[], opts: FetchOptions = {}): Promise<FetchResult[]> {
    return fetch(this.#ctx, positions, opts);
  }
}

// ---- helpers ---------------------------------------------------------------------------------------

function metadataRequest(topics: readonly string[] | null, v: number): MetadataRequest {
  return {
    // v0 has no null: an empty list means every topic there.
    topics: topics === null ? (v >= 1 ? null : []) : topics.map((name) => ({ topicId: ZERO_UUID, name })),
    allowAutoTopicCreation: v >= 4 ? false : true,
    includeClusterAuthorizedOperations: false,
    includeTopicAuthorizedOperations: false,
  };
}

function snapshotFrom(r: MetadataResponse): ClusterInfo & { topicInfos: Map<string, TopicInfo>; topicErrors: Map<string, number> } {
  const topicInfos = new Map<string, TopicInfo>();
  const topicErrors = new Map<string, number>();
  for (const t of r.topics) {
    const name = t.name ?? '';
    if (t.errorCode !== ErrorCode.NONE) {
      topicErrors.set(name, t.errorCode);
      continue;
    }
    const partitions: PartitionInfo[] = t.partitions
      .map((p) => ({
        partition: p.partitionIndex,
        leader: p.leaderId,
        leaderEpoch: p.leaderEpoch,
        replicas: p.replicaNodes,
        isr: p.isrNodes,
        offlineReplicas: p.offlineReplicas,
        errorCode: p.errorCode,
      }))
      .sort((a, b) => a.partition - b.partition);
    topicInfos.set(name, { name, topicId: t.topicId, isInternal: t.isInternal, partitions });
  }
  return {
    clusterId: r.clusterId,
    controllerId: r.controllerId,
    brokers: r.brokers.map((b) => ({ nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack })).sort((a, b) => a.nodeId - b.nodeId),
    topicInfos,
    topicErrors,
  };
}
