import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  ControlRecordType,
  RecordScanError,
  decodeControlRecordKey,
  decodeEndTxnMarker,
  decodeRecords,
  encodeControlRecordKey,
  encodeEndTxnMarker,
  encodeRecord,
  scanRecords,
  type RecordFields,
} from '../../../src/protocol/records/record.js';
import { ByteCursor, varintSize, varlongSize, writeVarint, writeVarlong } from '../../../src/protocol/records/varint.js';
import { isStrataError } from '../../../src/protocol/strata-error.js';

const bytes = fc.option(
  fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
  { nil: null },
);
const recordArb = (offsetDelta: number): fc.Arbitrary<RecordFields> =>
  fc.record({
    offsetDelta: fc.constant(offsetDelta),
    timestampDelta: fc.integer({ min: -1e12, max: 1e12 }),
    key: bytes,
    value: bytes,
    headers: fc.array(fc.record({ key: fc.string({ maxLength: 12 }), value: bytes }), { maxLength: 4 }),
  });
const recordsArb = fc
  .integer({ min: 0, max: 8 })
  .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => recordArb(i))))
  .map((t) => t as RecordFields[]);

describe('varints', () => {
  it('round-trip every int32 through encode/decode with the predicted size', () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), (v) => {
        const buf = Buffer.alloc(5);
        const end = writeVarint(buf, 0, v);
        assert.equal(end, varintSize(v));
        const c = new ByteCursor(buf, 0, end);
        assert.equal(c.varint(), v);
        assert.equal(c.pos, end);
      }),
    );
  });

  it('round-trip safe int64 values through varlong', () => {
    fc.assert(
      fc.property(fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }), (v) => {
        const buf = Buffer.alloc(10);
        const end = writeVarlong(buf, 0, v);
        assert.equal(end, varlongSize(v));
        assert.equal(new ByteCursor(buf, 0, end).varlong(), v);
      }),
    );
  });

  it('encode known values as Kafka does (zig-zag)', () => {
    const enc = (v: number): string => {
      const b = Buffer.alloc(5);
      return b.subarray(0, writeVarint(b, 0, v)).toString('hex');
    };
    assert.equal(enc(0), '00');
    assert.equal(enc(-1), '01');
    assert.equal(enc(1), '02');
    assert.equal(enc(63), '7e');
    assert.equal(enc(-64), '7f');
    assert.equal(enc(64), '8001');
    assert.equal(enc(2 ** 31 - 1), 'feffffff0f');
    assert.equal(enc(-(2 ** 31)), 'ffffffff0f');
  });

  it('refuse an over-long varint, a fifth byte beyond 32 bits, and reads past the end', () => {
    const overlong = Buffer.from('8080808080' + '00', 'hex');
    assert.throws(() => new ByteCursor(overlong).varint(), (e) => isStrataError(e, 'ERR_CORRUPT_RECORD'));
    assert.throws(() => new ByteCursor(Buffer.from('ffffffff1f', 'hex')).varint(), /beyond 32 bits|longer/);
    assert.throws(() => new ByteCursor(Buffer.from('8080', 'hex')).varint(), /past the end/);
    assert.throws(() => new ByteCursor(Buffer.from('80'.repeat(10) + '01', 'hex')).varlong(), /longer than 10/);
    assert.throws(() => new ByteCursor(Buffer.from('ffffffffffffffffff01', 'hex')).varlong(), /beyond 2\^53/);
  });
});

describe('records', () => {
  it('round-trip through encode → scan → decode', () => {
    fc.assert(
      fc.property(recordsArb, fc.integer({ min: 0, max: 2 ** 40 }), (recs, baseTs) => {
        const section = Buffer.concat(recs.map(encodeRecord));
        const scan = scanRecords(section, 0, section.length, recs.length, { baseTimestamp: baseTs });
        const decoded = decodeRecords(section, 0, section.length, recs.length, { baseOffset: 10, baseTimestamp: baseTs });
        assert.equal(decoded.length, recs.length);
        decoded.forEach((d, i) => {
          const r = recs[i]!;
          assert.equal(d.offset, 10 + i);
          assert.equal(d.timestamp, baseTs + r.timestampDelta);
          assert.deepEqual(d.key, r.key);
          assert.deepEqual(d.value, r.value);
          assert.deepEqual(
            d.headers.map((h) => [h.key, h.value]),
            r.headers.map((h) => [h.key, h.value]),
          );
        });
        if (recs.length > 0) {
          const max = Math.max(...recs.map((r) => baseTs + r.timestampDelta));
          assert.equal(scan.maxTimestamp, max);
          assert.equal(recs[scan.offsetDeltaOfMaxTimestamp]!.timestampDelta + baseTs, max);
        }
      }),
    );
  });

  it('decode a known record byte for byte', () => {
    // body of 10 bytes (length varint 0x14): attributes 0, tsDelta 1 (02), offsetDelta 0, key "k" (02 6b), value null (01), 1 header "h"=null
    const rec = encodeRecord({ offsetDelta: 0, timestampDelta: 1, key: Buffer.from('k'), value: null, headers: [{ key: 'h', value: null }] });
    assert.equal(rec.toString('hex'), '14' + '00' + '02' + '00' + '026b' + '01' + '02' + '0268' + '01');
  });

  const one = encodeRecord({ offsetDelta: 0, timestampDelta: 0, key: Buffer.from('key'), value: Buffer.from('value'), headers: [] });

  it('refuse a record length past the end of the section', () => {
    const bad = Buffer.from(one);
    bad[0] = 0x7e; // length 63, far beyond
    assert.throws(() => scanRecords(bad, 0, bad.length, 1, { baseTimestamp: 0 }), RecordScanError);
    assert.throws(() => decodeRecords(bad, 0, bad.length, 1, { baseOffset: 0, baseTimestamp: 0 }), /out of range/);
  });

  it('refuse a key length running past its record even when the section has room', () => {
    const two = Buffer.concat([one, one]);
    const bad = Buffer.from(two);
    bad[4] = 0x20; // key length 16: within the section, beyond the first record
    assert.throws(() => scanRecords(bad, 0, bad.length, 2, { baseTimestamp: 0 }), (e) => e instanceof RecordScanError && e.recordIndex === 0);
  });

  it('refuse an over-long varint inside a record', () => {
    const bad = Buffer.concat([Buffer.from([0x18, 0x00]), Buffer.from('8080808080', 'hex'), Buffer.alloc(7)]);
    assert.throws(() => scanRecords(bad, 0, bad.length, 1, { baseTimestamp: 0 }), RecordScanError);
  });

  it('refuse trailing bytes, fewer records than declared, bad offset deltas and short records', () => {
    const extra = Buffer.concat([one, Buffer.from([0])]);
    assert.throws(() => scanRecords(extra, 0, extra.length, 1, { baseTimestamp: 0 }), /follow the last/);
    assert.throws(() => scanRecords(one, 0, one.length, 2, { baseTimestamp: 0 }), RecordScanError);
    assert.throws(() => scanRecords(Buffer.concat([one, one]), 0, one.length * 2, 2, { baseTimestamp: 0 }), /offset delta/);
    const padded = Buffer.concat([Buffer.from([one[0]! + 2]), one.subarray(1), Buffer.from([0])]);
    assert.throws(() => scanRecords(padded, 0, padded.length, 1, { baseTimestamp: 0 }), /uses fewer/);
  });

  it('accept gaps in offset deltas only within a log batch span', () => {
    const r0 = encodeRecord({ offsetDelta: 0, timestampDelta: 0, key: null, value: null, headers: [] });
    const r3 = encodeRecord({ offsetDelta: 3, timestampDelta: 0, key: null, value: null, headers: [] });
    const s = Buffer.concat([r0, r3]);
    assert.throws(() => scanRecords(s, 0, s.length, 2, { baseTimestamp: 0 }), /offset delta/);
    scanRecords(s, 0, s.length, 2, { baseTimestamp: 0, lastOffsetDelta: 3 });
    assert.throws(() => scanRecords(s, 0, s.length, 2, { baseTimestamp: 0, lastOffsetDelta: 2 }), /offset delta/);
  });

  it('refuse null keys when keys are required', () => {
    const r = encodeRecord({ offsetDelta: 0, timestampDelta: 0, key: null, value: Buffer.from('v'), headers: [] });
    assert.throws(
      () => scanRecords(r, 0, r.length, 1, { baseTimestamp: 0, requireKeys: true }),
      (e) => e instanceof RecordScanError && e.rule,
    );
  });
});

describe('control records', () => {
  it('round-trip commit and abort markers', () => {
    assert.deepEqual(decodeControlRecordKey(encodeControlRecordKey(ControlRecordType.COMMIT)), { version: 0, type: 1 });
    assert.deepEqual(decodeControlRecordKey(encodeControlRecordKey(ControlRecordType.ABORT)), { version: 0, type: 0 });
    assert.equal(encodeControlRecordKey(ControlRecordType.COMMIT).toString('hex'), '00000001');
    assert.equal(encodeEndTxnMarker(7).toString('hex'), '000000000007');
    assert.deepEqual(decodeEndTxnMarker(encodeEndTxnMarker(7)), { version: 0, coordinatorEpoch: 7 });
    assert.throws(() => decodeControlRecordKey(Buffer.alloc(2)), /shorter/);
    assert.throws(() => decodeEndTxnMarker(null), /shorter/);
  });
});
