import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Reader } from '../../src/protocol/reader.js';
import { Writer, ZERO_COPY_THRESHOLD } from '../../src/protocol/writer.js';
import { isStrataError } from '../../src/protocol/strata-error.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const encodeError = (e: unknown) => isStrataError(e, 'ERR_ENCODE');

test('primitives in Kafka byte order', () => {
  const w = new Writer();
  w.int8(-1);
  w.int16(-32768);
  w.int32(1);
  w.int64(-2n);
  w.uint16(0xffff);
  w.uint32(0xffff_ffff);
  w.float64(1.5);
  w.bool(true);
  w.uuid('01234567-89AB-cdef-0011-223344556677');
  assert.deepEqual(
    w.toBuffer(),
    hex('ff 8000 00000001 fffffffffffffffe ffff ffffffff 3ff8000000000000 01 0123456789abcdef0011223344556677'),
  );
});

test('varint encodings match the protobuf / Kafka forms', () => {
  const w = new Writer();
  w.uvarint(0);
  w.uvarint(300);
  w.uvarint(0xffff_ffff);
  w.varint(-1);
  w.varint(-0x8000_0000);
  w.varlong(-(2n ** 63n));
  w.varlongNumber(-2);
  assert.deepEqual(w.toBuffer(), hex('00 ac02 ffffffff0f 01 ffffffff0f ffffffffffffffffff01 03'));
  assert.throws(() => new Writer().uvarint(-1), encodeError);
  assert.throws(() => new Writer().uvarint(2 ** 32), encodeError);
  assert.throws(() => new Writer().varint(2 ** 31), encodeError);
  assert.throws(() => new Writer().varlongNumber(2 ** 53), encodeError);
});

test('strings: int16 and compact lengths, UTF-8 byte counts, null only where allowed', () => {
  const w = new Writer();
  w.string('hi');
  w.nullableString(null);
  w.compactString('é'); // 2 UTF-8 bytes
  w.compactNullableString(null);
  assert.deepEqual(w.toBuffer(), hex('0002 6869 ffff 03 c3a9 00'));
  assert.throws(() => new Writer().string(null, 'name'), (e: unknown) => encodeError(e) && /name/.test((e as Error).message));
  assert.throws(() => new Writer().compactString(null), encodeError);
  assert.throws(() => new Writer().string('x'.repeat(0x8000)), encodeError);
  const r = new Reader(w.toBuffer());
  assert.equal(r.string(), 'hi');
  assert.equal(r.nullableString(), null);
  assert.equal(r.compactString(), 'é');
});

test('bytes and arrays', () => {
  const w = new Writer();
  w.bytes(hex('aabb'));
  w.nullableBytes(null);
  w.compactBytes(hex('cc'));
  w.compactNullableBytes(null);
  w.array([1, 2], (x, v) => x.int16(v));
  w.array([3], (x, v) => x.int8(v), { compact: true });
  w.array(null, () => assert.fail(), { nullable: true });
  w.array(null, () => assert.fail(), { nullable: true, compact: true });
  assert.deepEqual(w.toBuffer(), hex('00000002 aabb ffffffff 02 cc 00 00000002 0001 0002 02 03 ffffffff 00'));
  assert.throws(() => new Writer().array(null, () => undefined, { field: 'topics' }), encodeError);
  assert.throws(() => new Writer().bytes(null), encodeError);
});

test('large buffers are appended by reference; small ones are copied', () => {
  const big = Buffer.alloc(ZERO_COPY_THRESHOLD * 4, 1);
  const small = Buffer.from('abc');
  const w = new Writer();
  w.int32(big.length);
  w.appendBuffer(big);
  w.appendBuffer(small);
  w.int8(0);
  const chunks = w.toChunks();
  assert.ok(chunks.includes(big), 'the big buffer itself is an output chunk');
  assert.ok(!chunks.includes(small));
  assert.equal(w.length, 4 + big.length + 3 + 1);
  assert.deepEqual(Buffer.concat(chunks), Buffer.concat([hex('00001000'), big, small, hex('00')]));
  small[0] = 0x7a;
  assert.equal(w.toBuffer()[4 + big.length], 0x61, 'small buffers were copied at append time');
});

test('a reserved size prefix is patched after the body (frames)', () => {
  const w = new Writer(16); // tiny chunks so the frame spans several
  const frame = w.startFrame();
  w.int32(7);
  w.appendBuffer(Buffer.alloc(2000, 2));
  w.compactString('x'.repeat(100));
  const size = w.endFrame(frame);
  const out = w.toBuffer();
  assert.equal(size, out.length - 4);
  assert.equal(out.readInt32BE(0), out.length - 4);
  const slot = w.reserveInt32();
  w.int8(1);
  w.patchInt32(slot, -5);
  const again = w.toBuffer();
  assert.equal(again.readInt32BE(out.length), -5);
});

test('toBuffer makes at most one copy and keeps working after more writes', () => {
  const w = new Writer(16);
  for (let i = 0; i < 100; i++) w.int32(i);
  const one = w.toBuffer();
  assert.equal(one.length, 400);
  assert.equal(w.toBuffer(), one, 'a single chunk is returned as is');
  w.int8(1);
  const two = w.toBuffer();
  assert.equal(two.length, 401);
  assert.deepEqual(two.subarray(0, 400), one);
  assert.equal(new Writer().toBuffer().length, 0);
});

test('appendWriter concatenates another writer', () => {
  const a = new Writer();
  const b = new Writer();
  a.int8(1);
  b.int16(2);
  b.appendBuffer(Buffer.alloc(ZERO_COPY_THRESHOLD, 3));
  a.appendWriter(b);
  assert.equal(a.length, 1 + 2 + ZERO_COPY_THRESHOLD);
  assert.deepEqual(a.toBuffer().subarray(0, 3), hex('01 0002'));
});

test('any sequence of writes reads back identically (property)', () => {
  type Op =
    | { k: 'i32'; v: number }
    | { k: 'i64'; v: bigint }
    | { k: 'str'; v: string }
    | { k: 'cstr'; v: string | null }
    | { k: 'bytes'; v: Buffer }
    | { k: 'uv'; v: number }
    | { k: 'uuid'; v: string };
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.integer({ min: -0x8000_0000, max: 0x7fff_ffff }).map((v) => ({ k: 'i32' as const, v })),
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((v) => ({ k: 'i64' as const, v })),
    fc.string({ unit: 'grapheme', maxLength: 20 }).map((v) => ({ k: 'str' as const, v })),
    fc.option(fc.string({ maxLength: 300 }), { nil: null }).map((v) => ({ k: 'cstr' as const, v })),
    fc.uint8Array({ maxLength: 3000 }).map((v) => ({ k: 'bytes' as const, v: Buffer.from(v) })),
    fc.integer({ min: 0, max: 0xffff_ffff }).map((v) => ({ k: 'uv' as const, v })),
    fc.uuid().map((v) => ({ k: 'uuid' as const, v })),
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 30 }), fc.integer({ min: 1, max: 512 }), (ops, initial) => {
      const w = new Writer(initial);
      for (const o of ops) {
        if (o.k === 'i32') w.int32(o.v);
        else if (o.k === 'i64') w.int64(o.v);
        else if (o.k === 'str') w.string(o.v);
        else if (o.k === 'cstr') w.compactNullableString(o.v);
        else if (o.k === 'bytes') w.compactBytes(o.v);
        else if (o.k === 'uv') w.uvarint(o.v);
        else w.uuid(o.v);
      }
      const out = w.toBuffer();
      assert.equal(out.length, w.length);
      assert.deepEqual(Buffer.concat(w.toChunks()), out);
      const r = new Reader(out);
      for (const o of ops) {
        if (o.k === 'i32') assert.equal(r.int32(), o.v);
        else if (o.k === 'i64') assert.equal(r.int64(), o.v);
        else if (o.k === 'str') assert.equal(r.string(), o.v);
        else if (o.k === 'cstr') assert.equal(r.compactNullableString(), o.v);
        else if (o.k === 'bytes') assert.deepEqual(r.compactBytes(), o.v);
        else if (o.k === 'uv') assert.equal(r.uvarint(), o.v);
        else assert.equal(r.uuid(), o.v.toLowerCase());
      }
      r.ensureEnd();
    }),
  );
});

test('a malformed uuid is an encode error', () => {
  assert.throws(() => new Writer().uuid('not-a-uuid', 'topicId'), (e: unknown) => encodeError(e) && /topicId/.test((e as Error).message));
});
