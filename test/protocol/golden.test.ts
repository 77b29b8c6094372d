// Golden captures from real clients (recorded by scripts/record-golden.ts): every request a real client
// sent must decode with our generated codecs, consume its frame exactly, and re-encode to the very same
// bytes — evidence that our encoder writes what each client's encoder writes. Every response (written by our
// broker) must decode too. Produce requests additionally carry record batches built by each client's own
// record encoder and compressor: they must validate, decompress, decode, and survive a rebuild with our builder.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ApiKey } from '../../src/protocol/generated/apis.js';
import { decodeRequestHeader, decodeResponseHeader, encodeRequestHeader, encodeResponseHeader } from '../../src/protocol/generated/headers.js';
import type { ApiVersionsRequest, ApiVersionsResponse } from '../../src/protocol/generated/messages/api-versions.js';
import type { MetadataRequest, MetadataResponse } from '../../src/protocol/generated/messages/metadata.js';
import type { ProduceRequest, ProduceResponse } from '../../src/protocol/generated/messages/produce.js';
import type { FetchResponse } from '../../src/protocol/generated/messages/fetch.js';
import type { JoinGroupRequest } from '../../src/protocol/generated/messages/join-group.js';
import type { SyncGroupRequest, SyncGroupResponse } from '../../src/protocol/generated/messages/sync-group.js';
import { decodeConsumerProtocolSubscription, encodeConsumerProtocolSubscription } from '../../src/protocol/generated/data/consumer-protocol-subscription.js';
import { decodeConsumerProtocolAssignment, encodeConsumerProtocolAssignment } from '../../src/protocol/generated/data/consumer-protocol-assignment.js';
import { Reader } from '../../src/protocol/reader.js';
import { Writer } from '../../src/protocol/writer.js';
import {
  Compression,
  buildBatch,
  compressionName,
  decodeBatchRecords,
  isCompressionSupported,
  LENGTH_OFFSET,
  MAGIC_OFFSET,
  isTransactional,
  iterateBatches,
  readBatchHeader,
  validateBatches,
  type DecodedRecord,
} from '../../src/protocol/records/index.js';
import {
  CLIENTS,
  GOLDEN_CLUSTER_ID,
  GOLDEN_DIR,
  GOLDEN_NODE_ID,
  TOPIC,
  goldenRecords,
  schemaOf,
  type ClientName,
  type GoldenIndex,
  type IndexEntry,
} from '../../scripts/record-golden.js';

interface Capture {
  readonly entry: IndexEntry;
  readonly request: Buffer;
  readonly response: Buffer | null;
}

function load(client: ClientName): { index: GoldenIndex; captures: Capture[] } {
  const dir = join(GOLDEN_DIR, client);
  const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as GoldenIndex;
  const captures = index.exchanges.map((entry) => ({
    entry,
    request: readFileSync(join(dir, `${entry.file}.req.bin`)),
    response: entry.responseBytes === null ? null : readFileSync(join(dir, `${entry.file}.res.bin`)),
  }));
  return { index, captures };
}

const encoded = (write: (w: Writer) => void): Buffer => {
  const w = new Writer();
  write(w);
  return w.toBuffer();
};

interface DecodedRequest {
  readonly headerEnd: number;
  readonly body: unknown;
}

function decodeRequest(c: Capture): DecodedRequest {
  const schema = schemaOf(c.entry.apiKey)!;
  const r = new Reader(c.request);
  decodeRequestHeader(r, schema.requestHeaderVersion(c.entry.apiVersion));
  const headerEnd = r.offset;
  const body = schema.decodeRequest(r, c.entry.apiVersion);
  r.ensureEnd('request body');
  return { headerEnd, body };
}

function decodeResponse(c: Capture): unknown {
  const schema = schemaOf(c.entry.apiKey)!;
  const r = new Reader(c.response!);
  decodeResponseHeader(r, schema.responseHeaderVersion(c.entry.apiVersion));
  const body = schema.decodeResponse(r, c.entry.apiVersion);
  r.ensureEnd('response body');
  return body;
}

const codecOfStep = (step: string): string | undefined => /^produce-(none|gzip|snappy|lz4|zstd)$/.exec(step)?.[1];

type ApiRanges = GoldenIndex['brokerApis'];
const overlaps = (apis: ApiRanges, name: string, min: number, max: number): boolean => {
  const r = apis[name];
  return r !== undefined && r[0] <= max && min <= r[1];
};

/**
 * The codec a client really uses when asked for `requested`, given what the broker advertised. librdkafka
 * (through 2.11) quietly sends a batch uncompressed unless the broker's Produce range reaches down to v0
 * (v7 for zstd), and for lz4 also unless the broker advertises FindCoordinator v0 (its "LZ4" feature), and
 * for zstd unless Produce v7 and Fetch v10 are there (rdkafka_msgset_writer.c, rdkafka_feature.c). Kafka
 * 3.9 advertises all of these, so a broker that does not gets uncompressed batches from librdkafka clients.
 */
function effectiveCodec(client: ClientName, requested: string, apis: ApiRanges): string {
  if (client !== 'kcat' && client !== 'confluent-kafka-python') return requested;
  if (requested === 'none') return requested;
  if (!overlaps(apis, 'Produce', 0, requested === 'zstd' ? 7 : 0)) return 'none';
  if (requested === 'lz4' && !overlaps(apis, 'FindCoordinator', 0, 0)) return 'none';
  if (requested === 'zstd' && !(overlaps(apis, 'Produce', 7, 7) && overlaps(apis, 'Fetch', 10, 10))) return 'none';
  return requested;
}

test('the fixture set is complete: one index per client, every file listed and of the recorded size', () => {
  for (const client of CLIENTS) {
    const dir = join(GOLDEN_DIR, client);
    assert.ok(existsSync(join(dir, 'index.json')), `${client}: no index.json (run scripts/record-golden.ts)`);
    const { index, captures } = load(client);
    assert.equal(index.client, client);
    assert.ok(captures.length > 0, `${client}: no exchanges`);
    const listed = new Set(['index.json']);
    let total = 0;
    for (const [i, c] of captures.entries()) {
      assert.equal(c.entry.seq, i + 1);
      assert.equal(c.request.length, c.entry.requestBytes, c.entry.file);
      assert.equal(c.response?.length ?? null, c.entry.responseBytes, c.entry.file);
      assert.ok(c.entry.file.startsWith(`${String(i + 1).padStart(3, '0')}-${c.entry.apiName}-v${c.entry.apiVersion}`));
      listed.add(`${c.entry.file}.req.bin`);
      if (c.response !== null) listed.add(`${c.entry.file}.res.bin`);
      total += c.request.length + (c.response?.length ?? 0);
    }
    assert.deepEqual(readdirSync(dir).sort(), [...listed].sort(), `${client}: files not in index.json`);
    // Reviewable: tens of KB per client, not megabytes.
    assert.ok(total < 128 * 1024, `${client}: ${total} bytes of captures`);
    // Every step is accounted for, and a skipped or failed one says why.
    for (const s of index.steps) if (s.status !== 'recorded') assert.ok((s.reason ?? '').length > 0, `${client} ${s.step}`);
    for (const c of captures) assert.ok(index.steps.some((s) => s.step === c.entry.step && s.status !== 'skipped'));
  }
});

for (const client of CLIENTS) {
  describe(`${client} captures`, () => {
    const { index, captures } = existsSync(join(GOLDEN_DIR, client, 'index.json')) ? load(client) : { index: undefined, captures: [] };

    for (const c of captures) {
      const e = c.entry;
      describe(`${e.file} (${e.step})`, () => {
        test('request header decodes to what index.json says and re-encodes identically', () => {
          const schema = schemaOf(e.apiKey);
          assert.ok(schema !== undefined, `api key ${e.apiKey}`);
          assert.equal(schema.name, e.apiName);
          const hv = schema.requestHeaderVersion(e.apiVersion);
          const r = new Reader(c.request);
          const header = decodeRequestHeader(r, hv);
          assert.deepEqual(
            { apiKey: header.requestApiKey, version: header.requestApiVersion, correlationId: header.correlationId, clientId: header.clientId },
            { apiKey: e.apiKey, version: e.apiVersion, correlationId: e.correlationId, clientId: e.clientId },
          );
          assert.equal(e.clientId, client === 'confluent-kafka-python' ? 'golden-confluent' : `golden-${client}`);
          assert.deepEqual(encoded((w) => encodeRequestHeader(w, hv, header)), c.request.subarray(0, r.offset));
        });

        test('request body decodes exactly and re-encodes to the same bytes', () => {
          const { headerEnd, body } = decodeRequest(c);
          const again = encoded((w) => schemaOf(e.apiKey)!.encodeRequest(w, e.apiVersion, body));
          assert.deepEqual(again, c.request.subarray(headerEnd));
        });

        if (c.response !== null) {
          test('response (ours) decodes exactly and re-encodes to the same bytes', () => {
            const schema = schemaOf(e.apiKey)!;
            const hv = schema.responseHeaderVersion(e.apiVersion);
            const r = new Reader(c.response!);
            const header = decodeResponseHeader(r, hv);
            assert.equal(header.correlationId, e.correlationId);
            const headerEnd = r.offset;
            const body = schema.decodeResponse(r, e.apiVersion);
            r.ensureEnd('response body');
            assert.deepEqual(encoded((w) => encodeResponseHeader(w, hv, header)), c.response!.subarray(0, headerEnd));
            assert.deepEqual(encoded((w) => schema.encodeResponse(w, e.apiVersion, body)), c.response!.subarray(headerEnd));
          });
        }

        if (e.apiKey === ApiKey.Produce) {
          test('every batch validates, decodes, and rebuilds with our builder into a valid batch', async () => {
            const req = decodeRequest(c).body as ProduceRequest;
            const codec = codecOfStep(e.step);
            let seen = 0;
            for (const topic of req.topicData) {
              for (const part of topic.partitionData) {
                assert.ok(part.records !== null && part.records.length > 0);
                const v = validateBatches(part.records, { source: 'client', allowZstd: e.apiVersion >= 7, requireSingleBatch: e.apiVersion >= 3 });
                assert.equal(v.status, 'ok', JSON.stringify(v));
                if (v.status !== 'ok') continue;
                for (const batch of v.batches) {
                  if (codec !== undefined) {
                    const expected = effectiveCodec(client, codec, index!.brokerApis);
                    assert.equal(compressionName(batch.compression), expected, `asked for ${codec}, expected ${expected} given the broker's ApiVersions`);
                  }
                  if (!isCompressionSupported(batch.compression)) continue;
                  const records = await decodeBatchRecords(part.records, batch);
                  assert.equal(records.length, batch.header.recordCount);
                  seen += records.length;
                  const rebuilt = await buildBatch(
                    records.map((rec) => ({ key: rec.key, value: rec.value, headers: rec.headers, timestamp: rec.timestamp, offsetDelta: rec.offset - batch.header.baseOffset })),
                    {
                      compression: batch.compression,
                      baseOffset: batch.header.baseOffset,
                      partitionLeaderEpoch: batch.header.partitionLeaderEpoch,
                      producerId: batch.header.producerId,
                      producerEpoch: batch.header.producerEpoch,
                      baseSequence: batch.header.baseSequence,
                      transactional: isTransactional(batch.header.attributes),
                    },
                  );
                  const rv = validateBatches(rebuilt, { source: 'client' });
                  assert.equal(rv.status, 'ok', JSON.stringify(rv));
                  if (rv.status !== 'ok') continue;
                  const header = rv.batches[0]!.header;
                  for (const f of ['baseOffset', 'lastOffsetDelta', 'baseTimestamp', 'maxTimestamp', 'producerId', 'producerEpoch', 'baseSequence', 'recordCount', 'attributes'] as const) {
                    assert.equal(header[f], batch.header[f], f);
                  }
                  assert.deepEqual(plain(await decodeBatchRecords(rebuilt, rv.batches[0]!)), plain(records));
                  if (batch.compression === Compression.none) {
                    // Uncompressed, our record encoder must reproduce the client's bytes exactly (CRC included).
                    assert.deepEqual(rebuilt, part.records.subarray(batch.position, batch.position + batch.size));
                  }
                }
              }
            }
            assert.ok(seen > 0);
          });
        }

        if (e.apiKey === ApiKey.Fetch && c.response !== null) {
          test('the record batches our Fetch response carries validate as log data', () => {
            const res = decodeResponse(c) as FetchResponse;
            for (const t of res.responses) {
              for (const p of t.partitions) {
                if (p.records === null || p.records.length === 0) continue;
                const v = validateBatches(p.records, { source: 'log', allowTruncatedTail: true });
                assert.equal(v.status, 'ok', JSON.stringify(v));
              }
            }
          });
        }
      });
    }
  });
}

function plain(records: readonly DecodedRecord[]): unknown[] {
  return records.map((r) => ({
    offset: r.offset,
    timestamp: r.timestamp,
    key: r.key === null ? null : Buffer.from(r.key).toString('hex'),
    value: r.value === null ? null : Buffer.from(r.value).toString('hex'),
    headers: r.headers.map((h) => [h.key, h.value === null ? null : Buffer.from(h.value).toString('hex')]),
  }));
}

// ---- what the captures say, client by client -------------------------------------------------------

function requestsOf<T>(client: ClientName, apiKey: number): { entry: IndexEntry; body: T }[] {
  return load(client)
    .captures.filter((c) => c.entry.apiKey === apiKey)
    .map((c) => ({ entry: c.entry, body: decodeRequest(c).body as T }));
}

function responsesOf<T>(client: ClientName, apiKey: number): { entry: IndexEntry; body: T }[] {
  return load(client)
    .captures.filter((c) => c.entry.apiKey === apiKey && c.response !== null)
    .map((c) => ({ entry: c.entry, body: decodeResponse(c) as T }));
}

test('kcat -L asks for the metadata of all topics, after an ApiVersions v3 naming librdkafka', () => {
  const { index } = load('kcat');
  const av = requestsOf<ApiVersionsRequest>('kcat', ApiKey.ApiVersions);
  assert.ok(av.length > 0);
  for (const { entry, body } of av) {
    assert.ok(entry.apiVersion >= 3);
    assert.equal(body.clientSoftwareName, 'librdkafka');
    assert.ok(index.clientVersion.includes(`librdkafka ${body.clientSoftwareVersion}`), `${index.clientVersion} vs ${body.clientSoftwareVersion}`);
  }
  const md = requestsOf<MetadataRequest>('kcat', ApiKey.Metadata).filter((m) => m.entry.step === 'metadata');
  assert.ok(md.some((m) => m.body.topics === null), 'a Metadata request with topics = null (all topics)');
});

test("confluent-kafka-python's ApiVersions v3 names the python client and its librdkafka", () => {
  const av = requestsOf<ApiVersionsRequest>('confluent-kafka-python', ApiKey.ApiVersions);
  assert.ok(av.length > 0);
  for (const { entry, body } of av) {
    assert.ok(entry.apiVersion >= 3);
    assert.equal(body.clientSoftwareName, 'confluent-kafka-python');
    assert.match(body.clientSoftwareVersion, /^\d+\.\d+\.\d+-rdkafka-\d+\.\d+\.\d+/);
  }
});

test('kafka-python and kafkajs negotiate with pre-flexible ApiVersions (no client software fields)', () => {
  for (const client of ['kafka-python', 'kafkajs'] as const) {
    const av = requestsOf<ApiVersionsRequest>(client, ApiKey.ApiVersions);
    assert.ok(av.length > 0, client);
    for (const { entry, body } of av) {
      assert.ok(entry.apiVersion < 3, `${client} ApiVersions v${entry.apiVersion}`);
      assert.deepEqual([body.clientSoftwareName, body.clientSoftwareVersion], ['', '']);
    }
  }
});

test('our ApiVersions and Metadata responses say the same thing to every client', () => {
  for (const client of CLIENTS) {
    const served = new Set<number>();
    for (const { body } of responsesOf<ApiVersionsResponse>(client, ApiKey.ApiVersions)) {
      assert.equal(body.errorCode, 0, client);
      for (const k of body.apiKeys) {
        assert.ok(k.minVersion <= k.maxVersion);
        served.add(k.apiKey);
      }
    }
    assert.ok(served.has(ApiKey.ApiVersions) && served.has(ApiKey.Metadata), client);
    assert.deepEqual([...served].map((k) => schemaOf(k)!.name).sort(), Object.keys(load(client).index.brokerApis).sort(), client);
    const md = responsesOf<MetadataResponse>(client, ApiKey.Metadata);
    assert.ok(md.length > 0, client);
    for (const { entry, body } of md) {
      // Metadata v0 has neither cluster id nor controller id.
      if (entry.apiVersion >= 2) assert.equal(body.clusterId, GOLDEN_CLUSTER_ID, client);
      if (entry.apiVersion >= 1) assert.equal(body.controllerId, GOLDEN_NODE_ID, client);
      assert.deepEqual(
        body.brokers.map((b) => b.nodeId),
        [GOLDEN_NODE_ID],
      );
      assert.deepEqual([body.brokers[0]!.host, body.brokers[0]!.port], ['127.0.0.1', load(client).index.proxyPort], 'the advertised listener');
    }
  }
});

test('the Produce requests of each produce step together carry exactly the records it sent, in order', async (t) => {
  let steps = 0;
  for (const client of CLIENTS) {
    const byStep = new Map<string, { key: string | undefined; value: string | undefined; timestamp: number }[]>();
    for (const c of load(client).captures.filter((x) => x.entry.apiKey === ApiKey.Produce)) {
      const req = decodeRequest(c).body as ProduceRequest;
      const got = byStep.get(c.entry.step) ?? [];
      for (const part of req.topicData.flatMap((td) => td.partitionData)) {
        const v = validateBatches(part.records!, { source: 'client' });
        assert.equal(v.status, 'ok');
        if (v.status !== 'ok') continue;
        for (const batch of v.batches) {
          for (const rec of await decodeBatchRecords(part.records!, batch)) {
            got.push({ key: rec.key?.toString(), value: rec.value?.toString(), timestamp: rec.timestamp });
          }
        }
      }
      byStep.set(c.entry.step, got);
    }
    for (const [step, got] of byStep) {
      // A client may split a step's records over several requests; a retry would repeat some, which we would see.
      const sent = goldenRecords(client, step.slice('produce-'.length));
      // kcat cannot set a record's timestamp: librdkafka stamps the current time.
      const expected = client === 'kcat' ? sent.map((r, i) => ({ ...r, timestamp: got[i]?.timestamp ?? -1 })) : sent;
      assert.deepEqual(got, expected, `${client} ${step}`);
      steps++;
    }
  }
  if (steps === 0) t.skip('no Produce captured yet: the broker did not serve Produce when the fixtures were recorded');
});

test('our Produce responses acknowledge every partition without error', (t) => {
  let produced = 0;
  for (const client of CLIENTS) {
    for (const { entry, body } of responsesOf<ProduceResponse>(client, ApiKey.Produce)) {
      for (const topic of body.responses) {
        for (const p of topic.partitionResponses) {
          assert.equal(p.errorCode, 0, `${client} ${entry.file}`);
          assert.ok(p.baseOffset >= 0n);
          produced++;
        }
      }
    }
    for (const { entry, body } of requestsOf<ProduceRequest>(client, ApiKey.Produce)) {
      const count = body.topicData.flatMap((td) => td.partitionData).length;
      assert.equal(count, 1, `${client} ${entry.file}: one partition per produce`);
    }
  }
  if (produced === 0) t.skip('no Produce captured yet: the broker did not serve Produce when the fixtures were recorded');
});

test('kcat fetched back the very batches it produced: only baseOffset and partitionLeaderEpoch were rewritten', (t) => {
  const { captures } = load('kcat');
  const produced: { batch: Buffer; baseOffset: number }[] = [];
  for (const c of captures.filter((x) => x.entry.apiKey === ApiKey.Produce && x.response !== null)) {
    const req = decodeRequest(c).body as ProduceRequest;
    const res = decodeResponse(c) as ProduceResponse;
    const records = req.topicData[0]!.partitionData[0]!.records!;
    const batches = [...iterateBatches(records)];
    assert.equal(batches.length, 1, 'Produce v3+ carries one batch per partition');
    produced.push({ batch: records.subarray(batches[0]!.position, batches[0]!.position + batches[0]!.size), baseOffset: Number(res.responses[0]!.partitionResponses[0]!.baseOffset) });
  }
  const fetched = new Map<number, Buffer>();
  for (const c of captures.filter((x) => x.entry.apiKey === ApiKey.Fetch && x.response !== null)) {
    for (const p of (decodeResponse(c) as FetchResponse).responses.flatMap((r) => r.partitions)) {
      if (p.records === null) continue;
      for (const b of iterateBatches(p.records)) fetched.set(b.header.baseOffset, p.records.subarray(b.position, b.position + b.size));
    }
  }
  if (produced.length === 0 || fetched.size === 0) return t.skip('no Produce and Fetch captured yet');
  for (const { batch, baseOffset } of produced) {
    const back = fetched.get(baseOffset);
    assert.ok(back !== undefined, `batch at offset ${baseOffset} fetched`);
    assert.equal(readBatchHeader(back).baseOffset, baseOffset);
    // Length, magic, CRC and everything the CRC covers are the client's own bytes: the log stores batches as sent.
    assert.deepEqual(back.subarray(LENGTH_OFFSET, LENGTH_OFFSET + 4), batch.subarray(LENGTH_OFFSET, LENGTH_OFFSET + 4));
    assert.deepEqual(back.subarray(MAGIC_OFFSET), batch.subarray(MAGIC_OFFSET));
  }
});

/**
 * Decodes consumer-protocol bytes (an int16 version, then that version's body) and checks that our encoder
 * writes them back identically. Kafka reads a newer version than it knows as its newest; none of our clients
 * sends one, which the version assertion makes visible.
 */
function consumerProtocol<T>(bytes: Buffer, decode: (r: Reader, v: number) => T, encode: (w: Writer, v: number, m: T) => void): { version: number; body: T } {
  const r = new Reader(bytes);
  const version = r.int16();
  assert.ok(version >= 0 && version <= 3, `consumer protocol version ${version}`);
  const body = decode(r, version);
  r.ensureEnd('consumer protocol');
  assert.deepEqual(
    encoded((w) => {
      w.int16(version);
      encode(w, version, body);
    }),
    bytes,
  );
  return { version, body };
}

test("the consumer-group clients' embedded consumer protocol (subscription, assignment) decodes and re-encodes identically", (t) => {
  let joins = 0;
  for (const client of CLIENTS) {
    for (const { entry, body } of requestsOf<JoinGroupRequest>(client, ApiKey.JoinGroup)) {
      assert.equal(body.protocolType, 'consumer');
      for (const p of body.protocols) {
        const sub = consumerProtocol(p.metadata, decodeConsumerProtocolSubscription, encodeConsumerProtocolSubscription);
        assert.deepEqual(sub.body.topics, [TOPIC[client]], `${client} ${entry.file} ${p.name}: subscribes to its topic`);
        joins++;
      }
    }
    for (const { entry, body } of requestsOf<SyncGroupRequest>(client, ApiKey.SyncGroup)) {
      for (const a of body.assignments) {
        const asg = consumerProtocol(a.assignment, decodeConsumerProtocolAssignment, encodeConsumerProtocolAssignment);
        assert.deepEqual(
          asg.body.assignedPartitions.map((x) => [x.topic, x.partitions]),
          [[TOPIC[client], [0]]],
          `${client} ${entry.file}: the leader assigns itself the only partition`,
        );
      }
    }
    for (const { entry, body } of responsesOf<SyncGroupResponse>(client, ApiKey.SyncGroup)) {
      // Our coordinator hands the leader's assignment back untouched.
      assert.equal(body.errorCode, 0, `${client} ${entry.file}`);
      const asg = consumerProtocol(body.assignment, decodeConsumerProtocolAssignment, encodeConsumerProtocolAssignment);
      assert.deepEqual(asg.body.assignedPartitions.map((x) => [x.topic, x.partitions]), [[TOPIC[client], [0]]]);
    }
  }
  if (joins === 0) t.skip('no JoinGroup captured yet: the broker did not serve consumer groups when the fixtures were recorded');
});
