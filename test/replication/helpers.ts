// Fixtures for the data-path tests: a LogManager over a temporary dir and a ReplicaManager on top.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { buildBatchSync, type BatchOptions, type BatchRecordInput } from '../../src/protocol/records/builder.js';
import { iterateBatches } from '../../src/protocol/records/batches.js';
import { decodeBatchRecords } from '../../src/protocol/records/batch-records.js';
import type { DecodedRecord } from '../../src/protocol/records/record.js';
import { type Clock } from '../../src/storage/clock.js';
import { LogManager } from '../../src/storage/log-manager.js';
import type { InlineWrites } from '../../src/storage/inline-writes.js';
import { ReplicaManager, type ReplicaManagerOptions } from '../../src/replication/replica-manager.js';
import { partitionConfig, type PartitionConfig } from '../../src/replication/partition-config.js';
import { Reader } from '../../src/protocol/reader.js';
import { Writer } from '../../src/protocol/writer.js';
import type { ApiSchema } from '../../src/protocol/generated/apis.js';
import type { ApiHandler } from '../../src/broker/registry.js';
import { HandlerRegistry } from '../../src/broker/registry.js';
import type { RequestContext } from '../../src/broker/request-context.js';
import { testContext } from '../broker/helpers.js';
import { MapTopicLookup } from '../../src/broker/topic-lookup.js';
import type { DataPathDeps } from '../../src/broker/data-path-deps.js';
import { FetchSessionCache } from '../../src/broker/fetch-sessions.js';

export const NODE_ID = 1;

export interface Fixture {
  readonly dir: string;
  readonly logManager: LogManager;
  readonly rm: ReplicaManager;
  close(): Promise<void>;
}

export async function fixture(opts: Partial<ReplicaManagerOptions> & { clock?: Clock; inlineWrites?: InlineWrites } = {}): Promise<Fixture> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'strata-replication-'));
  const { inlineWrites, ...rmOpts } = opts;
  const logManager = await LogManager.start({
    logDirs: [dir],
    scheduleTimers: false,
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(inlineWrites ? { inlineWrites } : {}),
  });
  const rm = new ReplicaManager({ nodeId: NODE_ID, logManager, ...rmOpts });
  return {
    dir,
    logManager,
    rm,
    async close() {
      rm.shutdown();
      await logManager.shutdown();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

export const TOPIC_ID = '6f2b8c1e-3a4d-4e5f-8a9b-0c1d2e3f4a5b';

export async function lead(rm: ReplicaManager, topic: string, partition = 0, config: Partial<PartitionConfig> = {}, leaderEpoch = 0) {
  return rm.ensureLeaderPartition({ topic, topicId: TOPIC_ID, partition, leaderEpoch, config: partitionConfig(config) });
}

/** A batch of string records; timestamps default to now. */
export function records(values: readonly string[], opts: BatchOptions = {}): Buffer {
  const input: BatchRecordInput[] = values.map((v, i) => ({ key: `k${i}`, value: v }));
  return buildBatchSync(input, { timestamp: Date.now(), ...opts });
}

/** Every record in a buffer of whole batches. */
export async function decodeAll(buf: Buffer | null): Promise<DecodedRecord[]> {
  if (buf === null) return [];
  const out: DecodedRecord[] = [];
  for (const b of iterateBatches(buf)) out.push(...(await decodeBatchRecords(buf, b)));
  return out;
}

export const values = (rs: readonly DecodedRecord[]): string[] => rs.map((r) => r.value?.toString() ?? '<null>');

// --- handler round trips ---------------------------------------------------------------------------

/**
 * Encodes `request` in `version` and decodes it (as the network layer would), runs the handler, then
 * encodes and decodes its answer as a client would see it. Null when the handler answers nothing.
 */
export async function roundTrip<Req, Res>(schema: ApiSchema<Req, Res>, handler: ApiHandler<Req, Res>, version: number, request: Req,
  ctx: Partial<RequestContext> = {}): Promise<Res | null> {
  const w = new Writer();
  schema.encodeRequest(w, version, request);
  const r = new Reader(w.toBuffer());
  const decoded = schema.decodeRequest(r, version);
  r.ensureEnd();
  const registry = new HandlerRegistry().register(handler);
  const res = await handler.handle(testContext(registry, schema.apiKey, version, ctx), decoded);
  if (res === null || res === undefined) return null;
  const out = new Writer();
  schema.encodeResponse(out, version, res);
  const rr = new Reader(out.toBuffer());
  const back = schema.decodeResponse(rr, version);
  rr.ensureEnd();
  return back;
}

export interface DataPathFixture extends Fixture {
  readonly topics: MapTopicLookup;
  readonly deps: DataPathDeps;
  readonly sessions: FetchSessionCache;
  /** Creates a topic of `partitions` partitions led by this node. */
  topic(name: string, partitions?: number, config?: Partial<PartitionConfig>): Promise<string>;
}

let idCounter = 0;
export async function dataPathFixture(opts: { sessionSlots?: number } = {}): Promise<DataPathFixture> {
  const topics = new MapTopicLookup();
  const f = await fixture({ partitionExists: (t, p) => (topics.partitionCount(t) ?? 0) > p });
  const sessions = new FetchSessionCache({ maxSlots: opts.sessionSlots ?? 1000 });
  return {
    ...f,
    topics,
    sessions,
    deps: { replicaManager: f.rm, topics, fetchSessions: sessions },
    async topic(name, partitions = 1, config = {}) {
      const id = `00000000-0000-4000-8000-${(++idCounter).toString(16).padStart(12, '0')}`;
      topics.set(name, id, partitions);
      for (let p = 0; p < partitions; p++) {
        await f.rm.ensureLeaderPartition({ topic: name, topicId: id, partition: p, leaderEpoch: 0, config: partitionConfig(config) });
      }
      return id;
    },
  };
}
