// Record families with their framing: KRaft metadata and remote-log metadata records (frame
// version, type, version varints) and coordinator key/value records (int16 version prefixes).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Reader } from '../../../src/protocol/reader.js';
import { Writer } from '../../../src/protocol/writer.js';
import {
  METADATA_RECORD_SCHEMAS,
  MetadataRecordType,
  decodeMetadataRecord,
  encodeMetadataRecord,
  type MetadataRecord,
} from '../../../src/protocol/generated/metadata-records.js';
import {
  REMOTE_LOG_METADATA_RECORD_SCHEMAS,
  decodeRemoteLogMetadataRecord,
  encodeRemoteLogMetadataRecord,
  type RemoteLogMetadataRecord,
} from '../../../src/protocol/generated/remote-log-metadata-records.js';
import {
  decodeGroupCoordinatorKey,
  decodeGroupCoordinatorValue,
  encodeGroupCoordinatorKey,
  encodeGroupCoordinatorValue,
  groupCoordinatorTypeOf,
  type GroupCoordinatorKey,
  type GroupCoordinatorValue,
} from '../../../src/protocol/generated/group-coordinator-records.js';
import {
  decodeTransactionCoordinatorKey,
  decodeTransactionCoordinatorValue,
  encodeTransactionCoordinatorKey,
  encodeTransactionCoordinatorValue,
} from '../../../src/protocol/generated/transaction-coordinator-records.js';
import { MODEL, messageArb } from './schema-arbitraries.js';

const RUNS = 15;
const byName = (name: string) => {
  const m = MODEL.messages.find((x) => x.name === name);
  assert.ok(m, `model has ${name}`);
  return m;
};

function framedRoundTrip<T>(encode: (w: Writer, x: T) => void, decode: (r: Reader) => T, x: T): void {
  const w = new Writer(16);
  encode(w, x);
  const r = new Reader(w.toBuffer());
  assert.deepStrictEqual(decode(r), x);
  r.ensureEnd();
}

test('the KRaft metadata record table matches the documented record types', () => {
  assert.equal(MetadataRecordType.RegisterBroker, 0);
  assert.equal(MetadataRecordType.PartitionChange, 5);
  assert.equal(MetadataRecordType.ZkMigrationState, 21);
  assert.equal(MetadataRecordType.RegisterController, 27);
  assert.equal(METADATA_RECORD_SCHEMAS.filter((s) => s !== undefined).length, 25);
  assert.equal(METADATA_RECORD_SCHEMAS[6], undefined, 'type 6 is unused');
  assert.equal(REMOTE_LOG_METADATA_RECORD_SCHEMAS.filter((s) => s !== undefined).length, 4);
});

test('every metadata record type and version round-trips through the record framing', () => {
  for (const schema of METADATA_RECORD_SCHEMAS) {
    if (schema === undefined) continue;
    const m = byName(`${schema.name}Record`);
    for (let v = schema.minVersion; v <= schema.maxVersion; v++) {
      fc.assert(
        fc.property(messageArb(m, v), (data) =>
          framedRoundTrip(encodeMetadataRecord, decodeMetadataRecord, { type: schema.type, version: v, data } as MetadataRecord),
        ),
        { numRuns: RUNS },
      );
    }
  }
});

test('every remote-log metadata record round-trips through the record framing', () => {
  for (const schema of REMOTE_LOG_METADATA_RECORD_SCHEMAS) {
    if (schema === undefined) continue;
    const m = byName(`${schema.name}Record`);
    fc.assert(
      fc.property(messageArb(m, 0), (data) =>
        framedRoundTrip(encodeRemoteLogMetadataRecord, decodeRemoteLogMetadataRecord, { type: schema.type, version: 0, data } as RemoteLogMetadataRecord),
      ),
      { numRuns: RUNS },
    );
  }
});

test('group coordinator keys and values round-trip with their version prefixes', () => {
  for (let keyVersion = 0; keyVersion <= 11; keyVersion++) {
    const type = groupCoordinatorTypeOf(keyVersion)!;
    const keyModel = byName(`${type}Key`);
    const valueModel = byName(`${type}Value`);
    fc.assert(
      fc.property(messageArb(keyModel, keyVersion), (key) =>
        framedRoundTrip(encodeGroupCoordinatorKey, decodeGroupCoordinatorKey, { type, version: keyVersion, key } as GroupCoordinatorKey),
      ),
      { numRuns: RUNS },
    );
    for (let v = valueModel.valid[0]; v <= valueModel.valid[1]; v++) {
      fc.assert(
        fc.property(messageArb(valueModel, v), (value) =>
          framedRoundTrip(
            encodeGroupCoordinatorValue,
            (r) => decodeGroupCoordinatorValue(r, type),
            { type, version: v, value } as GroupCoordinatorValue,
          ),
        ),
        { numRuns: RUNS },
      );
    }
  }
});

test('transaction log key and value round-trip with their version prefixes', () => {
  fc.assert(
    fc.property(messageArb(byName('TransactionLogKey'), 0), (key) =>
      framedRoundTrip(encodeTransactionCoordinatorKey, decodeTransactionCoordinatorKey, {
        type: 'TransactionLog' as const,
        version: 0 as const,
        key: key as { transactionalId: string },
      }),
    ),
    { numRuns: RUNS },
  );
  const valueModel = byName('TransactionLogValue');
  for (let v = valueModel.valid[0]; v <= valueModel.valid[1]; v++) {
    fc.assert(
      fc.property(messageArb(valueModel, v), (value) =>
        framedRoundTrip(
          encodeTransactionCoordinatorValue,
          (r) => decodeTransactionCoordinatorValue(r, 'TransactionLog'),
          { type: 'TransactionLog' as const, version: v, value } as Parameters<typeof encodeTransactionCoordinatorValue>[1],
        ),
      ),
      { numRuns: RUNS },
    );
  }
});

test('a truncated framed record is ERR_DECODE, never a partial record', () => {
  const w = new Writer();
  encodeMetadataRecord(w, { type: 2, version: 0, data: { name: 'topic', topicId: '00000000-0000-0000-0000-000000000001' } });
  const bytes = w.toBuffer();
  for (let n = 0; n < bytes.length; n++) {
    assert.throws(() => {
      const r = new Reader(bytes.subarray(0, n));
      decodeMetadataRecord(r);
      r.ensureEnd();
    }, (e: unknown) => (e as { code?: string }).code === 'ERR_DECODE');
  }
});
