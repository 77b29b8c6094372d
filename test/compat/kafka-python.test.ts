// kafka-python (a pure-Python client with its own protocol code, older API versions than librdkafka) against
// a real `strata start`: keyed records with acks=all through its murmur2 partitioner, read back by partition
// assignment without a group, and its admin client creating and deleting topics.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { partitionForKey } from '../../src/client/partitioner.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { Compression, compressionOf } from '../../src/protocol/records/index.js';
import { startStrata, type StrataProcess } from '../integration/helpers/strata-process.js';
import { bootstrapOf, byPartition, hex, missing, python, storedBatches, type WireRecord } from './helpers/compat.js';

interface PyError {
  readonly name: string;
  readonly errno: number | null;
  readonly str: string;
}
interface TopicsOutcome {
  readonly results?: Record<string, { code: number; message: string | null } | null>;
  readonly raised?: PyError;
}

let strata: StrataProcess;
let skip: string | null;
const kp = <T>(command: string, extra: Record<string, unknown>): Promise<T> =>
  python<T>('kafka_python_driver', command, { bootstrap: bootstrapOf(strata.port), ...extra });

before(async () => {
  skip = await missing('kafka-python');
  strata = await startStrata();
});

after(async () => {
  await strata.stop();
  await strata.cleanup();
});

describe('kafka-python', () => {
  test('admin creates topics; creating one again is TOPIC_ALREADY_EXISTS', async (t) => {
    if (skip !== null) return t.skip(skip);
    const created = await kp<TopicsOutcome>('create_topics', {
      topics: [{ name: 'kp-data', partitions: 3 }, { name: 'kp-gone', partitions: 1, config: { 'retention.ms': '60000' } }],
    });
    assert.deepEqual(created, { results: { 'kp-data': null, 'kp-gone': null } });
    const again = await kp<TopicsOutcome>('create_topics', { topics: [{ name: 'kp-data', partitions: 3 }] });
    assert.equal(again.raised?.errno, ErrorCode.TOPIC_ALREADY_EXISTS, JSON.stringify(again));
    const listed = await kp<{ topics: string[] }>('list_topics', {});
    assert.ok(listed.topics.includes('kp-data') && listed.topics.includes('kp-gone'), JSON.stringify(listed));
  });

  test('produce with keys and acks=all, consume by assignment: every record once, in order', async (t) => {
    if (skip !== null) return t.skip(skip);
    const COUNT = 3000;
    const sent: (WireRecord & { key: string })[] = Array.from({ length: COUNT }, (_, i) => ({
      partition: partitionForKey(Buffer.from(`user-${i % 257}`), 3),
      key: hex(`user-${i % 257}`),
      value: hex(`event ${i} ${'ß'.repeat(i % 11)}${'-'.repeat(i % 131)}`),
      headers: i % 4 === 0 ? [['h', hex(String(i))]] : [],
      timestamp: 1_690_000_000_000 + i,
    }));
    // The partition is left to kafka-python's default partitioner: it must agree with Kafka's murmur2.
    const produced = await kp<{ delivered: { index: number; error: PyError | null; partition: number; offset: number }[] }>('produce', {
      topic: 'kp-data',
      compression: 'gzip',
      records: sent.map((r) => ({ key: r.key, value: r.value, headers: r.headers, timestamp: r.timestamp })),
    });
    assert.deepEqual(produced.delivered.filter((d) => d.error !== null), []);
    const next = new Map<number, number>();
    for (const d of produced.delivered) {
      assert.equal(d.partition, sent[d.index]!.partition, `record ${d.index} goes where murmur2 says`);
      const want = next.get(d.partition) ?? 0;
      assert.equal(d.offset, want);
      next.set(d.partition, want + 1);
    }

    // kafka-python leaves a batch uncompressed when gzip would not shrink it (a lone small record).
    const codecs = new Set<number>();
    for (let p = 0; p < 3; p++) {
      for (const h of await storedBatches(strata.dataDir, 'kp-data', p)) codecs.add(compressionOf(h.attributes));
    }
    assert.ok(codecs.has(Compression.gzip), 'gzip batches stored as sent');
    assert.deepEqual([...codecs].filter((c) => c !== Compression.gzip && c !== Compression.none), []);

    const consumed = await kp<{ records: WireRecord[]; ends: Record<string, number>; positions: Record<string, number> }>('consume', {
      topic: 'kp-data',
      partitions: [0, 1, 2],
    });
    assert.deepEqual(consumed.positions, consumed.ends, 'read to the end of every partition');
    const got = byPartition(consumed.records);
    for (const [p, want] of byPartition(sent)) {
      const g = got.get(p) ?? [];
      assert.equal(consumed.ends[String(p)], want.length);
      assert.deepEqual(
        g.map((r) => ({ offset: r.offset, key: r.key, value: r.value, headers: r.headers, timestamp: r.timestamp, timestampType: r.timestampType })),
        want.map((s, i) => ({ offset: i, key: s.key, value: s.value, headers: s.headers, timestamp: s.timestamp, timestampType: 0 })),
        `partition ${p}`,
      );
    }
  });

  test('admin deletes a topic; deleting it again is UNKNOWN_TOPIC_OR_PARTITION', async (t) => {
    if (skip !== null) return t.skip(skip);
    assert.deepEqual(await kp<TopicsOutcome>('delete_topics', { topics: ['kp-gone'] }), { results: { 'kp-gone': null } });
    const listed = await kp<{ topics: string[] }>('list_topics', {});
    assert.ok(!listed.topics.includes('kp-gone'));
    assert.ok(listed.topics.includes('kp-data'));
    const again = await kp<TopicsOutcome>('delete_topics', { topics: ['kp-gone'] });
    assert.equal(again.raised?.errno, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, JSON.stringify(again));
  });
});
