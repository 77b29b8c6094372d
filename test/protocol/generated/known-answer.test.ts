// Byte-exact encodings worked out by hand from the schemas, plus the encode-time errors the
// generated codecs must raise.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Reader } from '../../../src/protocol/reader.js';
import { Writer } from '../../../src/protocol/writer.js';
import { isStrataError } from '../../../src/protocol/strata-error.js';
import { API_SCHEMAS, ApiKey, ApiVersionsApi, ControlledShutdownApi, ProduceApi, ShareFetchApi } from '../../../src/protocol/generated/apis.js';
import { decodeRequestHeader, encodeRequestHeader, encodeResponseHeader } from '../../../src/protocol/generated/headers.js';
import {
  decodeApiVersionsRequest,
  decodeApiVersionsResponse,
  encodeApiVersionsRequest,
  encodeApiVersionsResponse,
  type ApiVersionsResponse,
} from '../../../src/protocol/generated/messages/api-versions.js';
import { decodeMetadataRequest, encodeMetadataRequest, type MetadataRequest } from '../../../src/protocol/generated/messages/metadata.js';
import { decodeProduceRequest, encodeProduceRequest, type ProduceRequest } from '../../../src/protocol/generated/messages/produce.js';
import { decodeFetchResponse, encodeFetchResponse, type FetchResponse } from '../../../src/protocol/generated/messages/fetch.js';
import { decodeMetadataRecord, encodeMetadataRecord, MetadataRecordType } from '../../../src/protocol/generated/metadata-records.js';
import {
  decodeGroupCoordinatorKey,
  decodeGroupCoordinatorValue,
  encodeGroupCoordinatorKey,
  groupCoordinatorTypeOf,
} from '../../../src/protocol/generated/group-coordinator-records.js';
import { MODEL, defaultStruct } from './schema-arbitraries.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

function encode<T>(fn: (w: Writer, v: number, m: T) => void, v: number, m: T): Buffer {
  const w = new Writer();
  fn(w, v, m);
  return w.toBuffer();
}

function decodeAll<T>(fn: (r: Reader, v: number) => T, v: number, bytes: Buffer): T {
  const r = new Reader(bytes);
  const out = fn(r, v);
  r.ensureEnd();
  return out;
}

/** A message of the given generated type with every field at its schema default. */
function defaults<T>(name: string): T {
  const m = MODEL.messages.find((x) => x.name === name)!;
  return defaultStruct(m, name) as T;
}

const errorCode = (code: string) => (e: unknown) => isStrataError(e) && e.code === code;

test('RequestHeader v1 and v2 bytes (client id always has an int16 length)', () => {
  const h = { requestApiKey: 18, requestApiVersion: 3, correlationId: 7, clientId: 'cli' };
  assert.deepEqual(encode(encodeRequestHeader, 1, h), hex('0012 0003 00000007 0003 636c69'));
  assert.deepEqual(encode(encodeRequestHeader, 2, h), hex('0012 0003 00000007 0003 636c69 00'));
  assert.deepEqual(encode(encodeRequestHeader, 1, { ...h, clientId: null }), hex('0012 0003 00000007 ffff'));
  assert.deepEqual(encode(encodeRequestHeader, 0, { ...h, clientId: '' }), hex('0012 0003 00000007'));
  assert.deepEqual(decodeAll(decodeRequestHeader, 2, hex('0012 0003 00000007 0003 636c69 00')), h);
  assert.deepEqual(encode(encodeResponseHeader, 0, { correlationId: 9 }), hex('00000009'));
  assert.deepEqual(encode(encodeResponseHeader, 1, { correlationId: 9 }), hex('00000009 00'));
});

test('ApiVersions v3 request: compact strings and an empty tagged section', () => {
  const req = { clientSoftwareName: 'abc', clientSoftwareVersion: '1.0' };
  const bytes = hex('04 616263 04 312e30 00');
  assert.deepEqual(encode(encodeApiVersionsRequest, 3, req), bytes);
  assert.deepEqual(decodeAll(decodeApiVersionsRequest, 3, bytes), req);
  // v0-2 lack both fields, which are ignorable: they are dropped, and decode back as defaults.
  assert.equal(encode(encodeApiVersionsRequest, 2, req).length, 0);
  assert.deepEqual(decodeAll(decodeApiVersionsRequest, 2, Buffer.alloc(0)), { clientSoftwareName: '', clientSoftwareVersion: '' });
});

test('ApiVersions v3 response: known and unknown tagged fields in ascending tag order', () => {
  const res: ApiVersionsResponse = {
    ...defaults<ApiVersionsResponse>('ApiVersionsResponse'),
    apiKeys: [{ apiKey: 0, minVersion: 0, maxVersion: 11 }],
    finalizedFeaturesEpoch: 5n,
    unknownTaggedFields: [{ tag: 7, data: hex('aa') }],
  };
  const bytes = hex('0000 02 0000 0000 000b 00 00000000 02 01 08 0000000000000005 07 01 aa');
  assert.deepEqual(encode(encodeApiVersionsResponse, 3, res), bytes);
  assert.deepEqual(decodeAll(decodeApiVersionsResponse, 3, bytes), res);
  // An unknown field that reuses a known tag being written is refused.
  assert.throws(
    () => encode(encodeApiVersionsResponse, 3, { ...res, unknownTaggedFields: [{ tag: 1, data: hex('00') }] }),
    errorCode('ERR_ENCODE'),
  );
  // Non-flexible versions have no tagged section to put them in.
  assert.throws(() => encode(encodeApiVersionsResponse, 2, res), errorCode('ERR_ENCODE'));
  // A tagged field whose value is the default is not written at all.
  assert.deepEqual(
    encode(encodeApiVersionsResponse, 3, { ...res, finalizedFeaturesEpoch: -1n, unknownTaggedFields: [] }),
    hex('0000 02 0000 0000 000b 00 00000000 00'),
  );
});

test('Metadata v0 request bytes; null topics only where nullable', () => {
  const req: MetadataRequest = { ...defaults<MetadataRequest>('MetadataRequest'), topics: [{ topicId: '00000000-0000-0000-0000-000000000000', name: 'foo' }] };
  const bytes = hex('00000001 0003 666f6f');
  assert.deepEqual(encode(encodeMetadataRequest, 0, req), bytes);
  assert.deepEqual(decodeAll(decodeMetadataRequest, 0, bytes), req);
  // v0 has no way to say "all topics": null is not allowed there, on either side.
  assert.throws(() => encode(encodeMetadataRequest, 0, { ...req, topics: null }), errorCode('ERR_ENCODE'));
  assert.throws(() => decodeAll(decodeMetadataRequest, 0, hex('ffffffff')), errorCode('ERR_DECODE'));
  assert.deepEqual(encode(encodeMetadataRequest, 1, { ...req, topics: null }), hex('ffffffff'));
});

test('a non-default value in a version that lacks a non-ignorable field is an encode error', () => {
  const meta: MetadataRequest = { ...defaults<MetadataRequest>('MetadataRequest'), allowAutoTopicCreation: false };
  assert.throws(() => encode(encodeMetadataRequest, 3, meta), (e: unknown) => {
    assert.ok(isStrataError(e, 'ERR_ENCODE'));
    assert.match(e.message, /allowAutoTopicCreation/);
    return true;
  });
  assert.doesNotThrow(() => encode(encodeMetadataRequest, 4, meta));
  // The default value itself is fine in any version.
  assert.doesNotThrow(() => encode(encodeMetadataRequest, 3, { ...meta, allowAutoTopicCreation: true }));

  const produce: ProduceRequest = { transactionalId: 'tx', acks: -1, timeoutMs: 1000, topicData: [] };
  assert.throws(() => encode(encodeProduceRequest, 2, produce), errorCode('ERR_ENCODE'));
  assert.deepEqual(encode(encodeProduceRequest, 2, { ...produce, transactionalId: null }), hex('ffff 000003e8 00000000'));
});

test('null into a version where the field is not nullable is an encode error', () => {
  const base = defaults<MetadataRequest>('MetadataRequest');
  const topic = { topicId: '00000000-0000-0000-0000-000000000000', name: null };
  assert.throws(() => encode(encodeMetadataRequest, 9, { ...base, topics: [topic] }), errorCode('ERR_ENCODE'));
  assert.doesNotThrow(() => encode(encodeMetadataRequest, 10, { ...base, topics: [topic] }));
});

test('versions outside the schema range are ERR_UNSUPPORTED_VERSION', () => {
  const produce: ProduceRequest = { transactionalId: null, acks: 1, timeoutMs: 0, topicData: [] };
  assert.throws(() => encode(encodeProduceRequest, 12, produce), errorCode('ERR_UNSUPPORTED_VERSION'));
  assert.throws(() => decodeAll(decodeProduceRequest, -1, Buffer.alloc(0)), errorCode('ERR_UNSUPPORTED_VERSION'));
  assert.throws(() => ProduceApi.decodeRequest(new Reader(Buffer.alloc(8)), 99), errorCode('ERR_UNSUPPORTED_VERSION'));
});

test('Produce request records decode as a zero-copy view of the frame', () => {
  const records = Buffer.alloc(300, 7);
  const req: ProduceRequest = { transactionalId: null, acks: -1, timeoutMs: 30000, topicData: [{ name: 't', partitionData: [{ index: 0, records }] }] };
  for (const v of [3, 9, 11]) {
    const frame = encode(encodeProduceRequest, v, req);
    const out = decodeAll(decodeProduceRequest, v, frame);
    const got = out.topicData[0]!.partitionData[0]!.records!;
    assert.deepEqual(got, records);
    assert.equal(got.buffer, frame.buffer, 'records must alias the input buffer');
  }
});

test('Fetch response keeps large record buffers by reference (no copy into the writer)', () => {
  const records = Buffer.alloc(64 * 1024, 1);
  const res: FetchResponse = defaults<FetchResponse>('FetchResponse');
  const partition = { ...(defaultStruct(MODEL.messages.find((m) => m.name === 'FetchResponse')!, 'FetchResponsePartitionData') as object), records };
  res.responses = [{ topic: 't', topicId: '00000000-0000-0000-0000-000000000000', partitions: [partition as FetchResponse['responses'][number]['partitions'][number]] }];
  for (const v of [4, 12, 16]) {
    const w = new Writer();
    encodeFetchResponse(w, v, res);
    const chunks = w.toChunks();
    assert.ok(chunks.includes(records), `v${v}: the records Buffer itself is one of the output chunks`);
    const decoded = decodeAll(decodeFetchResponse, v, Buffer.concat(chunks));
    assert.deepEqual(decoded.responses[0]!.partitions[0]!.records, records);
  }
});

test('API_SCHEMAS is indexed by api key and carries the header-version rules', () => {
  assert.equal(API_SCHEMAS.length, 88);
  API_SCHEMAS.forEach((s, i) => assert.equal(s.apiKey, i));
  assert.equal(API_SCHEMAS[ApiKey.Produce], ProduceApi);
  assert.equal(ApiKey.ApiVersions, 18);
  assert.equal(ApiKey.ReadShareGroupStateSummary, 87);
  assert.deepEqual([ProduceApi.minVersion, ProduceApi.maxVersion, ProduceApi.flexibleMinVersion], [0, 11, 9]);
  assert.deepEqual(ProduceApi.deprecatedVersions, [0, 6]);
  assert.deepEqual(ProduceApi.listeners, ['zkBroker', 'broker']);
  assert.equal(ProduceApi.requestHeaderVersion(8), 1);
  assert.equal(ProduceApi.requestHeaderVersion(9), 2);
  assert.equal(ProduceApi.responseHeaderVersion(8), 0);
  assert.equal(ProduceApi.responseHeaderVersion(9), 1);
  assert.equal(ControlledShutdownApi.requestHeaderVersion(0), 0);
  assert.equal(ControlledShutdownApi.requestHeaderVersion(1), 1);
  assert.equal(ControlledShutdownApi.requestHeaderVersion(3), 2);
  assert.equal(ApiVersionsApi.requestHeaderVersion(3), 2);
  assert.equal(ApiVersionsApi.responseHeaderVersion(3), 0, 'ApiVersions responses always use header v0');
  assert.equal(ApiVersionsApi.responseHeaderVersion(4), 0);
  assert.equal(ShareFetchApi.latestVersionUnstable, true);
  assert.equal(ProduceApi.latestVersionUnstable, false);
  const neverFlexible = API_SCHEMAS.filter((s) => s.flexibleMinVersion === null).map((s) => s.name);
  for (const name of neverFlexible) {
    const s = API_SCHEMAS.find((x) => x.name === name)!;
    assert.equal(s.requestHeaderVersion(s.maxVersion), name === 'ControlledShutdown' && s.maxVersion === 0 ? 0 : 1);
  }
});

test('metadata record framing: frame version, type, version as unsigned varints, then the body', () => {
  const topicId = '0123abcd-0000-4000-8000-00000000ffff';
  const w = new Writer();
  encodeMetadataRecord(w, { type: MetadataRecordType.Topic, version: 0, data: { name: 't', topicId } });
  const bytes = w.toBuffer();
  assert.deepEqual(bytes, hex(`01 02 00 02 74 ${topicId.replace(/-/g, '')} 00`));
  const r = new Reader(bytes);
  assert.deepEqual(decodeMetadataRecord(r), { type: 2, version: 0, data: { name: 't', topicId } });
  r.ensureEnd();
  assert.throws(() => decodeMetadataRecord(new Reader(hex('02 02 00'))), errorCode('ERR_DECODE'));
  assert.throws(() => decodeMetadataRecord(new Reader(hex('01 06 00'))), errorCode('ERR_DECODE'));
});

test('coordinator records: the key version names the record type', () => {
  const w = new Writer();
  encodeGroupCoordinatorKey(w, { type: 'OffsetCommit', version: 1, key: { group: 'g', topic: 't', partition: 3 } });
  const bytes = w.toBuffer();
  assert.deepEqual(bytes, hex('0001 0001 67 0001 74 00000003'));
  const key = decodeGroupCoordinatorKey(new Reader(bytes));
  assert.deepEqual(key, { type: 'OffsetCommit', version: 1, key: { group: 'g', topic: 't', partition: 3 } });
  assert.equal(groupCoordinatorTypeOf(2), 'GroupMetadata');
  assert.equal(groupCoordinatorTypeOf(8), 'ConsumerGroupCurrentMemberAssignment');
  assert.equal(groupCoordinatorTypeOf(12), undefined);
  assert.throws(() => decodeGroupCoordinatorKey(new Reader(hex('0063'))), errorCode('ERR_DECODE'));
  // OffsetCommitValue v1: offset, metadata, commitTimestamp, expireTimestamp.
  const value = decodeGroupCoordinatorValue(new Reader(hex('0001 000000000000000a 0000 0000000000000001 ffffffffffffffff')), 'OffsetCommit');
  assert.equal(value.type, 'OffsetCommit');
  assert.equal(value.version, 1);
  if (value.type === 'OffsetCommit') {
    assert.equal(value.value.offset, 10n);
    assert.equal(value.value.expireTimestamp, -1n);
  }
});
