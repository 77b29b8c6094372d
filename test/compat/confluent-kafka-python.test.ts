// confluent-kafka-python (librdkafka) against a real `strata start`: an idempotent producer sending keyed
// records with headers and explicit CreateTime timestamps to several partitions, a consumer reading them
// back by assignment (no consumer group), and the AdminClient's topic and config calls, each result
// checked against what Kafka answers.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../src/protocol/errors.js';
import { isLogAppendTime } from '../../src/protocol/records/index.js';
import { startStrata, type StrataProcess } from '../integration/helpers/strata-process.js';
import { bootstrapOf, byPartition, hex, missing, python, storedBatches, type WireRecord } from './helpers/compat.js';

interface KError {
  readonly code: number | null;
  readonly name: string;
  readonly str: string;
}
type Results = { results: Record<string, KError | null> };
interface Delivered {
  readonly index: number;
  readonly error: KError | null;
  readonly partition: number;
  readonly offset: number;
  readonly timestamp: number;
}
interface ConfigView {
  readonly value: string | null;
  readonly source: number;
  readonly is_default: boolean;
  readonly read_only: boolean;
}
type Described = Record<string, { configs: Record<string, ConfigView> | null; error: KError | null }>;
interface Listed {
  readonly cluster_id: string;
  readonly controller_id: number;
  readonly brokers: [number, string, number][];
  readonly topics: Record<string, { error: KError | null; partitions: [number, number, number[], number[]][] }>;
}

/** librdkafka's ConfigSource numbering (Kafka's). */
const DYNAMIC_TOPIC_CONFIG = 1;
const DEFAULT_CONFIG = 5;
const NODE_ID = 3;

let strata: StrataProcess;
let skip: string | null;
const req = (extra: Record<string, unknown>): Record<string, unknown> => ({ bootstrap: bootstrapOf(strata.port), ...extra });
const cf = <T>(command: string, extra: Record<string, unknown>, timeoutMs?: number): Promise<T> => python<T>('confluent_driver', command, req(extra), timeoutMs);

before(async () => {
  skip = await missing('confluent-kafka-python');
  strata = await startStrata([], { nodeId: NODE_ID });
});

after(async () => {
  await strata.stop();
  await strata.cleanup();
});

describe('confluent-kafka-python AdminClient', () => {
  test('create_topics with configs, validate_only, and an existing name', async (t) => {
    if (skip !== null) return t.skip(skip);
    const created = await cf<Results>('create_topics', {
      topics: [
        { name: 'cf-admin', partitions: 1, config: { 'retention.ms': '86400000', 'cleanup.policy': 'delete' } },
        { name: 'cf-admin-2', partitions: 2 },
      ],
    });
    assert.deepEqual(created.results, { 'cf-admin': null, 'cf-admin-2': null });

    const dryRun = await cf<Results>('create_topics', { topics: [{ name: 'cf-never', partitions: 1 }], validate_only: true });
    assert.deepEqual(dryRun.results, { 'cf-never': null });

    const again = await cf<Results>('create_topics', { topics: [{ name: 'cf-admin', partitions: 1 }] });
    assert.equal(again.results['cf-admin']?.code, ErrorCode.TOPIC_ALREADY_EXISTS);

    const listed = await cf<Listed>('list_topics', {});
    assert.equal(listed.cluster_id, strata.clusterId);
    assert.equal(listed.controller_id, NODE_ID);
    assert.deepEqual(listed.brokers, [[NODE_ID, '127.0.0.1', strata.port]]);
    assert.deepEqual(listed.topics['cf-admin'], { error: null, partitions: [[0, NODE_ID, [NODE_ID], [NODE_ID]]] });
    assert.equal(listed.topics['cf-admin-2']?.partitions.length, 2);
    assert.equal(listed.topics['cf-never'], undefined, 'validate_only creates nothing');
  });

  test('describe_configs reports dynamic and default values with their sources', async (t) => {
    if (skip !== null) return t.skip(skip);
    const d = await cf<Described>('describe_configs', { resources: [{ type: 'topic', name: 'cf-admin' }, { type: 'broker', name: String(NODE_ID) }] });
    const topic = d['cf-admin']!;
    assert.equal(topic.error, null);
    assert.deepEqual(topic.configs!['retention.ms'], { value: '86400000', source: DYNAMIC_TOPIC_CONFIG, is_default: false, read_only: false, is_sensitive: false });
    assert.equal(topic.configs!['cleanup.policy']?.source, DYNAMIC_TOPIC_CONFIG);
    assert.equal(topic.configs!['segment.bytes']?.value, '1073741824');
    assert.equal(topic.configs!['segment.bytes']?.source, DEFAULT_CONFIG);
    const broker = d[String(NODE_ID)]!;
    assert.equal(broker.error, null);
    assert.equal(broker.configs!['node.id']?.value, String(NODE_ID));
    assert.equal(broker.configs!['num.partitions']?.value, '1');
  });

  test('alter_configs replaces the topic\'s whole dynamic set; an invalid value is INVALID_CONFIG', async (t) => {
    if (skip !== null) return t.skip(skip);
    const altered = await cf<Results>('alter_configs', { resources: [{ type: 'topic', name: 'cf-admin', configs: { 'retention.ms': '3600000' } }] });
    assert.deepEqual(altered.results, { 'cf-admin': null });
    const d = (await cf<Described>('describe_configs', { resources: [{ type: 'topic', name: 'cf-admin' }] }))['cf-admin']!;
    assert.equal(d.configs!['retention.ms']?.value, '3600000');
    assert.equal(d.configs!['retention.ms']?.source, DYNAMIC_TOPIC_CONFIG);
    // AlterConfigs (not incremental) drops every dynamic config it does not name.
    assert.equal(d.configs!['cleanup.policy']?.source, DEFAULT_CONFIG);

    const bad = await cf<Results>('alter_configs', { resources: [{ type: 'topic', name: 'cf-admin', configs: { 'retention.ms': 'soon' } }] });
    assert.equal(bad.results['cf-admin']?.code, ErrorCode.INVALID_CONFIG);
    assert.match(bad.results['cf-admin']!.str, /retention\.ms/);
    const after = (await cf<Described>('describe_configs', { resources: [{ type: 'topic', name: 'cf-admin' }] }))['cf-admin']!;
    assert.equal(after.configs!['retention.ms']?.value, '3600000', 'a refused change changes nothing');
  });

  test('create_partitions grows a topic and refuses to shrink it', async (t) => {
    if (skip !== null) return t.skip(skip);
    assert.deepEqual((await cf<Results>('create_partitions', { totals: { 'cf-admin': 3 } })).results, { 'cf-admin': null });
    const listed = await cf<Listed>('list_topics', {});
    assert.deepEqual(listed.topics['cf-admin']!.partitions.map((p) => p[0]), [0, 1, 2]);
    const shrink = await cf<Results>('create_partitions', { totals: { 'cf-admin': 2 } });
    assert.equal(shrink.results['cf-admin']?.code, ErrorCode.INVALID_PARTITIONS);
  });

  test('delete_topics removes topics; an unknown one is UNKNOWN_TOPIC_OR_PARTITION', async (t) => {
    if (skip !== null) return t.skip(skip);
    assert.deepEqual((await cf<Results>('delete_topics', { topics: ['cf-admin', 'cf-admin-2'] })).results, { 'cf-admin': null, 'cf-admin-2': null });
    const listed = await cf<Listed>('list_topics', {});
    assert.equal(listed.topics['cf-admin'], undefined);
    assert.equal(listed.topics['cf-admin-2'], undefined);
    const unknown = await cf<Results>('delete_topics', { topics: ['cf-admin'] });
    assert.equal(unknown.results['cf-admin']?.code, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  });
});

describe('confluent-kafka-python idempotent producer and assigned consumer', () => {
  const PARTITIONS = 4;
  const COUNT = 4000;
  const BASE_TS = 1_700_000_000_000;

  /** Keys, values, headers (repeated keys, null and empty values) and explicit CreateTime timestamps. */
  function records(): WireRecord[] {
    return Array.from({ length: COUNT }, (_, i) => ({
      partition: i % PARTITIONS,
      key: i % 50 === 7 ? null : hex(`key-${i}`),
      value: i % 100 === 3 ? hex('') : hex(`value-${i}-${'ü'.repeat(i % 5)}-${'z'.repeat(i % 300)}`),
      headers: i % 3 === 0 ? [] : [['trace', hex(`t${i}`)], ['dup', hex('a')], ['dup', i % 2 === 0 ? null : hex('b')]],
      timestamp: BASE_TS + i * 7,
    }));
  }

  test('every record comes back once, in order per partition, with keys, headers and timestamps', async (t) => {
    if (skip !== null) return t.skip(skip);
    const created = await cf<Results>('create_topics', { topics: [{ name: 'cf-data', partitions: PARTITIONS }] });
    assert.deepEqual(created.results, { 'cf-data': null });
    const sent = records();
    const produced = await cf<{ delivered: Delivered[]; undelivered: number }>('produce', {
      topic: 'cf-data',
      records: sent,
      config: { 'enable.idempotence': true, acks: 'all', 'compression.type': 'lz4', 'linger.ms': 10 },
    });
    assert.equal(produced.undelivered, 0);
    assert.equal(produced.delivered.length, COUNT);
    assert.deepEqual(produced.delivered.filter((d) => d.error !== null), [], 'no delivery errors');
    const nextOffset = new Map<number, number>();
    for (const d of produced.delivered) {
      const want = nextOffset.get(d.partition) ?? 0;
      assert.equal(d.offset, want, `record ${d.index}: offsets follow send order in partition ${d.partition}`);
      nextOffset.set(d.partition, want + 1);
      assert.equal(d.partition, sent[d.index]!.partition);
      assert.equal(d.timestamp, sent[d.index]!.timestamp, 'CreateTime is kept');
    }

    // Idempotence is visible only on disk: one producer id, and per partition sequences that run on
    // from batch to batch without a gap or a repeat.
    const producerIds = new Set<number>();
    for (let p = 0; p < PARTITIONS; p++) {
      let nextSeq = 0;
      for (const h of await storedBatches(strata.dataDir, 'cf-data', p)) {
        producerIds.add(h.producerId);
        assert.equal(h.baseSequence, nextSeq, `partition ${p}: batch at offset ${h.baseOffset} continues the sequence`);
        nextSeq += h.lastOffsetDelta + 1;
      }
    }
    assert.equal(producerIds.size, 1);
    assert.ok([...producerIds][0]! >= 0, 'batches carry a producer id from InitProducerId');

    const consumed = await cf<{ records: WireRecord[]; errors: KError[]; unfinished: number[] }>('consume', {
      topic: 'cf-data',
      partitions: Array.from({ length: PARTITIONS }, (_, p) => p),
    });
    assert.deepEqual(consumed.errors, []);
    assert.deepEqual(consumed.unfinished, []);
    // The same again through fetches capped at 4 KiB per partition: many rounds, each ending mid-batch.
    const small = await cf<{ records: WireRecord[]; errors: KError[]; unfinished: number[] }>('consume', {
      topic: 'cf-data',
      partitions: Array.from({ length: PARTITIONS }, (_, p) => p),
      config: { 'max.partition.fetch.bytes': 4096, 'fetch.max.bytes': 8192, 'message.max.bytes': 8192 },
    });
    assert.deepEqual(small.errors, []);
    const ordered = (rs: readonly WireRecord[]): WireRecord[] => [...rs].sort((a, b) => a.partition - b.partition || a.offset! - b.offset!);
    assert.deepEqual(ordered(small.records), ordered(consumed.records), 'small fetches read the same records');

    const got = byPartition(consumed.records);
    const want = byPartition(sent);
    for (let p = 0; p < PARTITIONS; p++) {
      const g = got.get(p) ?? [];
      const w = want.get(p)!;
      assert.equal(g.length, w.length, `partition ${p}: every record once`);
      g.forEach((r, i) => {
        const s = w[i]!;
        assert.deepEqual(
          { offset: r.offset, key: r.key, value: r.value, headers: r.headers, timestamp: r.timestamp, timestampType: r.timestampType },
          { offset: i, key: s.key, value: s.value, headers: s.headers!.length === 0 ? null : s.headers, timestamp: s.timestamp, timestampType: 1 },
          `partition ${p} offset ${i}`,
        );
      });
    }
  });

  test('a LogAppendTime topic stamps the broker\'s time on each batch, and librdkafka accepts the patched CRC', async (t) => {
    if (skip !== null) return t.skip(skip);
    const created = await cf<Results>('create_topics', { topics: [{ name: 'cf-append-time', partitions: 1, config: { 'message.timestamp.type': 'LogAppendTime' } }] });
    assert.deepEqual(created.results, { 'cf-append-time': null });
    const sent: WireRecord[] = Array.from({ length: 500 }, (_, i) => ({ partition: 0, key: hex(`a${i}`), value: hex(`appended ${i}`), timestamp: 1_000_000 + i }));
    const before = Date.now();
    const produced = await cf<{ delivered: Delivered[]; undelivered: number }>('produce', {
      topic: 'cf-append-time', records: sent, config: { 'compression.type': 'gzip', 'linger.ms': 5 },
    });
    const after = Date.now();
    assert.deepEqual(produced.delivered.filter((d) => d.error !== null), []);
    const consumed = await cf<{ records: WireRecord[]; errors: KError[] }>('consume', { topic: 'cf-append-time', partitions: [0] });
    assert.deepEqual(consumed.errors, [], 'no CRC errors (check.crcs=true)');
    assert.deepEqual(consumed.records.map((r) => [r.key, r.value]), sent.map((r) => [r.key, r.value]));
    for (const r of consumed.records) {
      assert.equal(r.timestampType, 2, 'LogAppendTime');
      assert.ok(r.timestamp! >= before - 1000 && r.timestamp! <= after + 1000, `offset ${r.offset}: broker time, not the 1970 CreateTime sent`);
    }
    for (const h of await storedBatches(strata.dataDir, 'cf-append-time', 0)) {
      assert.ok(isLogAppendTime(h.attributes), `batch at ${h.baseOffset} is flagged LogAppendTime on disk`);
    }
  });
});
