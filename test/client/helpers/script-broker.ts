// A small broker for client tests: a real TCP server on 127.0.0.1 that speaks Kafka's framing and decodes
// every request and encodes every response with the generated codecs, so what the client writes is checked
// by the same code the broker uses. It keeps topics in memory and stores produced batches exactly as
// received (offsets assigned in place with the protocol layer's assignOffsets), so produce → fetch →
// list-offsets round trips run through real bytes. Tests can replace the answer to any API (`script`) to
// produce errors, silence, reordering or a closed connection, and read back every request (`requests`).
import { createServer, type Server, type Socket } from 'node:net';
import { randomUUID } from 'node:crypto';
import { API_SCHEMAS, ApiKey, type ApiSchema } from '../../../src/protocol/generated/apis.js';
import { decodeRequestHeader, encodeResponseHeader, type RequestHeader } from '../../../src/protocol/generated/headers.js';
import { defaultMetadataResponse, defaultMetadataResponsePartition, defaultMetadataResponseTopic } from '../../../src/protocol/generated/messages/metadata.js';
import { defaultFetchResponse, defaultFetchResponsePartitionData } from '../../../src/protocol/generated/messages/fetch.js';
import { defaultProduceResponse, defaultProduceResponsePartitionProduceResponse } from '../../../src/protocol/generated/messages/produce.js';
import { defaultListOffsetsResponseListOffsetsPartitionResponse } from '../../../src/protocol/generated/messages/list-offsets.js';
import { defaultCreateTopicsResponseCreatableTopicResult } from '../../../src/protocol/generated/messages/create-topics.js';
import { defaultDescribeConfigsResponseDescribeConfigsResourceResult } from '../../../src/protocol/generated/messages/describe-configs.js';
import type * as M from '../../../src/protocol/generated/apis.js';
import { ErrorCode } from '../../../src/protocol/errors.js';
import { Reader } from '../../../src/protocol/reader.js';
import { Writer } from '../../../src/protocol/writer.js';
import { ZERO_UUID } from '../../../src/protocol/codec-runtime.js';
import { assignOffsets, validateBatches } from '../../../src/protocol/records/batches.js';
import { readBatchHeader } from '../../../src/protocol/records/batch-header.js';

export interface ReceivedRequest {
  readonly apiKey: number;
  readonly version: number;
  readonly header: RequestHeader;
  readonly body: unknown;
}

/** What a script returns: a response body, 'silent' (never answer), 'close' (drop the connection), or undefined (default). */
export type ScriptResult = unknown;
export type Script = (req: ReceivedRequest, broker: ScriptBroker) => ScriptResult | Promise<ScriptResult>;

interface StoredBatch {
  readonly baseOffset: number;
  readonly lastOffset: number;
  readonly maxTimestamp: number;
  readonly bytes: Buffer;
}

export interface FakePartition {
  leader: number;
  batches: StoredBatch[];
  nextOffset: number;
}

export interface FakeTopic {
  readonly name: string;
  readonly topicId: string;
  readonly partitions: FakePartition[];
  readonly configs: Map<string, string>;
}

/** The API versions served by default. */
export const DEFAULT_VERSIONS: ReadonlyMap<number, readonly [number, number]> = new Map([
  [ApiKey.Produce, [3, 11]],
  [ApiKey.Fetch, [4, 17]],
  [ApiKey.ListOffsets, [0, 9]],
  [ApiKey.Metadata, [0, 12]],
  [ApiKey.ApiVersions, [0, 4]],
  [ApiKey.CreateTopics, [0, 7]],
  [ApiKey.DeleteTopics, [0, 6]],
  [ApiKey.DescribeConfigs, [0, 4]],
  [ApiKey.CreatePartitions, [0, 3]],
  [ApiKey.IncrementalAlterConfigs, [0, 1]],
  [ApiKey.DescribeCluster, [0, 1]],
] as [number, readonly [number, number]][]);

export class ScriptBroker {
  readonly nodeId: number;
  readonly clusterId = 'script-cluster';
  readonly requests: ReceivedRequest[] = [];
  readonly topics = new Map<string, FakeTopic>();
  readonly scripts = new Map<number, Script>();
  /** Other brokers advertised in metadata (for routing tests): node id → port. */
  readonly peers = new Map<number, number>();
  versions: Map<number, readonly [number, number]>;
  /** Answers are held back until this resolves (to test pipelining). */
  gate: Promise<void> | undefined;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  port = 0;

  private constructor(nodeId: number, versions: ReadonlyMap<number, readonly [number, number]>) {
    this.nodeId = nodeId;
    this.versions = new Map(versions);
    this.#server = createServer((s) => this.#serve(s));
  }

  static async start(opts: { nodeId?: number; versions?: ReadonlyMap<number, readonly [number, number]> } = {}): Promise<ScriptBroker> {
    const b = new ScriptBroker(opts.nodeId ?? 1, opts.versions ?? DEFAULT_VERSIONS);
    await new Promise<void>((res) => b.#server.listen(0, '127.0.0.1', () => res()));
    b.port = (b.#server.address() as { port: number }).port;
    return b;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  requestsOf(apiKey: number): ReceivedRequest[] {
    return this.requests.filter((r) => r.apiKey === apiKey);
  }

  addTopic(name: string, partitions: number, leader = this.nodeId): FakeTopic {
    const t: FakeTopic = {
      name,
      topicId: randomUUID(),
      partitions: Array.from({ length: partitions }, () => ({ leader, batches: [], nextOffset: 0 })),
      configs: new Map(),
    };
    this.topics.set(name, t);
    return t;
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((res) => this.#server.close(() => res()));
  }

  #serve(socket: Socket): void {
    this.#sockets.add(socket);
    socket.on('close', () => this.#sockets.delete(socket));
    socket.on('error', () => undefined);
    let buffered = Buffer.alloc(0);
    let queue = Promise.resolve();
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 4 && buffered.length >= 4 + buffered.readInt32BE(0)) {
        const frame = buffered.subarray(4, 4 + buffered.readInt32BE(0));
        buffered = buffered.subarray(4 + frame.length);
        // Decode at once (the order requests arrive in), answer in order.
        const decoded = this.#decode(frame);
        queue = queue.then(() => this.#answer(socket, decoded));
      }
    });
  }

  #decode(frame: Buffer): { req: ReceivedRequest; schema: ApiSchema } {
    const apiKey = frame.readInt16BE(0);
    const version = frame.readInt16BE(2);
    const schema = API_SCHEMAS[apiKey]!;
    const r = new Reader(frame);
    const range = this.versions.get(apiKey);
    if (apiKey === ApiKey.ApiVersions && range !== undefined && version > range[1]) {
      // KIP-511: header only; the body of an unknown version cannot be read.
      const header = decodeRequestHeader(r, version >= 3 ? 2 : 1);
      const req = { apiKey, version, header, body: undefined };
      this.requests.push(req);
      return { req, schema };
    }
    const header = decodeRequestHeader(r, schema.requestHeaderVersion(version));
    const body = schema.decodeRequest(r, version);
    r.ensureEnd('request');
    const req = { apiKey, version, header, body };
    this.requests.push(req);
    return { req, schema };
  }

  async #answer(socket: Socket, { req, schema }: { req: ReceivedRequest; schema: ApiSchema }): Promise<void> {
    if (this.gate !== undefined) await this.gate;
    const script = this.scripts.get(req.apiKey);
    let result = script === undefined ? undefined : await script(req, this);
    if (result === undefined) result = this.#default(req);
    if (result === 'silent' || result === null) return;
    if (result === 'close') {
      socket.destroy();
      return;
    }
    let version = req.version;
    let correlationId = req.header.correlationId;
    if (typeof result === 'object' && result !== null && 'rawCorrelationId' in result) {
      correlationId = (result as { rawCorrelationId: number }).rawCorrelationId;
      result = (result as unknown as { body: unknown }).body;
    }
    if (req.apiKey === ApiKey.ApiVersions && req.body === undefined) version = 0;
    const w = new Writer();
    const size = w.startFrame();
    encodeResponseHeader(w, schema.responseHeaderVersion(version), { correlationId });
    schema.encodeResponse(w, version, result);
    w.endFrame(size);
    socket.write(w.toBuffer());
  }

  #default(req: ReceivedRequest): unknown {
    switch (req.apiKey) {
      case ApiKey.ApiVersions:
        return this.#apiVersions(req);
      case ApiKey.Metadata:
        return this.#metadata(req.body as M.ApiMessages[3]['request'], req.version);
      case ApiKey.Produce:
        return this.#produce(req.body as M.ApiMessages[0]['request']);
      case ApiKey.Fetch:
        return this.#fetch(req.body as M.ApiMessages[1]['request'], req.version);
      case ApiKey.ListOffsets:
        return this.#listOffsets(req.body as M.ApiMessages[2]['request'], req.version);
      case ApiKey.CreateTopics:
        return this.#createTopics(req.body as M.ApiMessages[19]['request'], req.version);
      case ApiKey.DeleteTopics:
        return this.#deleteTopics(req.body as M.ApiMessages[20]['request'], req.version);
      case ApiKey.CreatePartitions: {
        const body = req.body as M.ApiMessages[37]['request'];
        return {
          throttleTimeMs: 0,
          results: body.topics.map((t) => {
            const topic = this.topics.get(t.name);
            if (topic === undefined) return { name: t.name, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: null };
            if (t.count <= topic.partitions.length) return { name: t.name, errorCode: ErrorCode.INVALID_PARTITIONS, errorMessage: `Topic already has ${topic.partitions.length} partitions.` };
            if (!body.validateOnly) while (topic.partitions.length < t.count) topic.partitions.push({ leader: this.nodeId, batches: [], nextOffset: 0 });
            return { name: t.name, errorCode: 0, errorMessage: null };
          }),
        };
      }
      case ApiKey.DescribeConfigs:
        return this.#describeConfigs(req.body as M.ApiMessages[32]['request'], req.version);
      case ApiKey.IncrementalAlterConfigs: {
        const body = req.body as M.ApiMessages[44]['request'];
        return {
          throttleTimeMs: 0,
          responses: body.resources.map((r) => {
            const topic = this.topics.get(r.resourceName);
            if (topic === undefined) return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: null, resourceType: r.resourceType, resourceName: r.resourceName };
            if (!body.validateOnly) {
              for (const c of r.configs) {
                if (c.configOperation === 0) topic.configs.set(c.name, c.value ?? '');
                else if (c.configOperation === 1) topic.configs.delete(c.name);
              }
            }
            return { errorCode: 0, errorMessage: null, resourceType: r.resourceType, resourceName: r.resourceName };
          }),
        };
      }
      case ApiKey.DescribeCluster:
        return {
          throttleTimeMs: 0,
          errorCode: 0,
          errorMessage: null,
          endpointType: 1,
          clusterId: this.clusterId,
          controllerId: this.nodeId,
          brokers: this.#brokers().map((b) => ({ brokerId: b.nodeId, host: b.host, port: b.port, rack: null })),
          clusterAuthorizedOperations: -2147483648,
        };
      default:
        return 'close';
    }
  }

  #apiVersions(req: ReceivedRequest): unknown {
    const apiKeys = [...this.versions].map(([apiKey, [minVersion, maxVersion]]) => ({ apiKey, minVersion, maxVersion }));
    const unsupported = req.body === undefined;
    return {
      errorCode: unsupported ? ErrorCode.UNSUPPORTED_VERSION : ErrorCode.NONE,
      apiKeys: unsupported ? apiKeys.filter((k) => k.apiKey === ApiKey.ApiVersions) : apiKeys,
      throttleTimeMs: 0,
      supportedFeatures: [],
      finalizedFeaturesEpoch: -1n,
      finalizedFeatures: [],
      zkMigrationReady: false,
    };
  }

  #brokers(): { nodeId: number; host: string; port: number; rack: null }[] {
    return [{ nodeId: this.nodeId, host: '127.0.0.1', port: this.port, rack: null }, ...[...this.peers].map(([nodeId, port]) => ({ nodeId, host: '127.0.0.1', port, rack: null }))];
  }

  #metadata(body: M.ApiMessages[3]['request'], v: number): unknown {
    const names = body.topics === null || (v === 0 && body.topics.length === 0) ? [...this.topics.keys()] : body.topics.map((t) => t.name ?? '');
    return {
      ...defaultMetadataResponse(),
      brokers: this.#brokers(),
      clusterId: this.clusterId,
      controllerId: this.nodeId,
      topics: names.map((name) => {
        const t = this.topics.get(name);
        if (t === undefined) return { ...defaultMetadataResponseTopic(), name, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
        return {
          ...defaultMetadataResponseTopic(),
          name,
          topicId: v >= 10 ? t.topicId : ZERO_UUID,
          isInternal: name.startsWith('__'),
          partitions: t.partitions.map((p, i) => ({
            ...defaultMetadataResponsePartition(),
            partitionIndex: i,
            leaderId: p.leader,
            leaderEpoch: 0,
            replicaNodes: [p.leader],
            isrNodes: [p.leader],
          })),
        };
      }),
    };
  }

  #produce(body: M.ApiMessages[0]['request']): unknown {
    return {
      ...defaultProduceResponse(),
      responses: body.topicData.map((td) => ({
        name: td.name,
        partitionResponses: td.partitionData.map((pd) => {
          const base = { ...defaultProduceResponsePartitionProduceResponse(), index: pd.index };
          const p = this.topics.get(td.name)?.partitions[pd.index];
          if (p === undefined) return { ...base, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
          if (p.leader !== this.nodeId) return { ...base, errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER };
          const bytes = Buffer.from(pd.records!);
          const v = validateBatches(bytes, { source: 'client', requireSingleBatch: true });
          if (v.status !== 'ok') return { ...base, errorCode: v.status === 'invalid' ? v.errorCode : ErrorCode.INVALID_RECORD };
          const a = assignOffsets(bytes, v.batches, { firstOffset: p.nextOffset, partitionLeaderEpoch: 0 });
          p.batches.push({ baseOffset: a.firstOffset, lastOffset: a.lastOffset, maxTimestamp: a.maxTimestamp, bytes });
          p.nextOffset = a.lastOffset + 1;
          return { ...base, baseOffset: BigInt(a.firstOffset) };
        }),
      })),
    };
  }

  #fetch(body: M.ApiMessages[1]['request'], v: number): unknown {
    const byId = new Map([...this.topics.values()].map((t) => [t.topicId, t]));
    return {
      ...defaultFetchResponse(),
      responses: body.topics.map((ft) => {
        const topic = v >= 13 ? byId.get(ft.topicId) : this.topics.get(ft.topic);
        return {
          topic: ft.topic,
          topicId: ft.topicId,
          partitions: ft.partitions.map((fp) => {
            const base = { ...defaultFetchResponsePartitionData(), partitionIndex: fp.partition };
            const p = topic?.partitions[fp.partition];
            if (p === undefined) return { ...base, errorCode: v >= 13 ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
            const offset = Number(fp.fetchOffset);
            if (offset > p.nextOffset) return { ...base, errorCode: ErrorCode.OFFSET_OUT_OF_RANGE };
            // Whole batches from the one holding `offset`; the last may be cut at partitionMaxBytes.
            const chunks: Buffer[] = [];
            let size = 0;
            for (const b of p.batches) {
              if (b.lastOffset < offset) continue;
              if (size >= fp.partitionMaxBytes) break;
              const room = fp.partitionMaxBytes - size;
              const piece = size === 0 || b.bytes.length <= room ? b.bytes : b.bytes.subarray(0, room);
              chunks.push(piece);
              size += piece.length;
            }
            return {
              ...base,
              highWatermark: BigInt(p.nextOffset),
              lastStableOffset: BigInt(p.nextOffset),
              logStartOffset: 0n,
              abortedTransactions: body.isolationLevel === 1 ? [] : null,
              records: Buffer.concat(chunks),
            };
          }),
        };
      }),
    };
  }

  #listOffsets(body: M.ApiMessages[2]['request'], v: number): unknown {
    return {
      throttleTimeMs: 0,
      topics: body.topics.map((lt) => ({
        name: lt.name,
        partitions: lt.partitions.map((lp) => {
          const base = { ...defaultListOffsetsResponseListOffsetsPartitionResponse(), partitionIndex: lp.partitionIndex };
          const p = this.topics.get(lt.name)?.partitions[lp.partitionIndex];
          if (p === undefined) return { ...base, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
          let offset = -1;
          if (lp.timestamp === -2n) offset = 0;
          else if (lp.timestamp === -1n) offset = p.nextOffset;
          else offset = p.batches.find((b) => b.maxTimestamp >= Number(lp.timestamp))?.baseOffset ?? -1;
          if (v === 0) return { ...base, oldStyleOffsets: offset < 0 ? [] : [BigInt(offset)] };
          return { ...base, offset: BigInt(offset), timestamp: -1n, ...(v >= 4 ? { leaderEpoch: 0 } : {}) };
        }),
      })),
    };
  }

  #createTopics(body: M.ApiMessages[19]['request'], v: number): unknown {
    return {
      throttleTimeMs: 0,
      topics: body.topics.map((t) => {
        const base = { ...defaultCreateTopicsResponseCreatableTopicResult(), name: t.name };
        if (this.topics.has(t.name)) return { ...base, errorCode: ErrorCode.TOPIC_ALREADY_EXISTS, errorMessage: `Topic '${t.name}' already exists.` };
        const n = t.numPartitions < 0 ? 1 : t.numPartitions;
        const rf = t.replicationFactor < 0 ? 1 : t.replicationFactor;
        if (rf > 1 + this.peers.size) return { ...base, errorCode: ErrorCode.INVALID_REPLICATION_FACTOR, errorMessage: `Unable to replicate the partition ${rf} time(s): The target replication factor of ${rf} cannot be reached because only 1 broker(s) are registered.` };
        let topicId = ZERO_UUID;
        if (!body.validateOnly) {
          const created = this.addTopic(t.name, n);
          for (const c of t.configs) created.configs.set(c.name, c.value ?? '');
          topicId = created.topicId;
        }
        return v >= 5 ? { ...base, topicId: v >= 7 ? topicId : ZERO_UUID, numPartitions: n, replicationFactor: rf, configs: [] } : base;
      }),
    };
  }

  #deleteTopics(body: M.ApiMessages[20]['request'], v: number): unknown {
    const names = v >= 6 ? body.topics.map((t) => t.name ?? '') : body.topicNames;
    return {
      throttleTimeMs: 0,
      responses: names.map((name) => {
        const existed = this.topics.delete(name);
        return { name, topicId: ZERO_UUID, errorCode: existed ? 0 : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: null };
      }),
    };
  }

  #describeConfigs(body: M.ApiMessages[32]['request'], v: number): unknown {
    return {
      throttleTimeMs: 0,
      results: body.resources.map((r) => {
        const topic = this.topics.get(r.resourceName);
        if (topic === undefined) return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: null, resourceType: r.resourceType, resourceName: r.resourceName, configs: [] };
        const entries: [string, string, boolean][] = [['cleanup.policy', 'delete', true], ...[...topic.configs].map(([k, val]) => [k, val, false] as [string, string, boolean])];
        return {
          errorCode: 0,
          errorMessage: null,
          resourceType: r.resourceType,
          resourceName: r.resourceName,
          configs: entries
            .filter(([k]) => r.configurationKeys === null || r.configurationKeys.includes(k))
            .map(([name, value, isDefault]) => ({
              ...defaultDescribeConfigsResponseDescribeConfigsResourceResult(),
              name,
              value,
              ...(v === 0 ? { isDefault } : { configSource: isDefault ? 5 : 1 }),
            })),
        };
      }),
    };
  }
}

/** The header of a stored batch (for assertions). */
export const batchHeaderOf = (b: StoredBatch): ReturnType<typeof readBatchHeader> => readBatchHeader(b.bytes, 0);
