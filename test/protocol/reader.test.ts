import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Reader } from '../../src/protocol/reader.js';
import { Writer } from '../../src/protocol/writer.js';
import { isStrataError } from '../../src/protocol/strata-error.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const decodeError = (pattern?: RegExp) => (e: unknown) => {
  assert.ok(isStrataError(e, 'ERR_DECODE'), `expected ERR_DECODE, got ${String(e)}`);
  if (pattern) assert.match(e.message, pattern);
  return true;
};

test('fixed-width primitives, big-endian', () => {
  const r = new Reader(hex('ff 8000 80000000 ffffffffffffffff ffff ffffffff 3ff8000000000000 01 00 02'));
  assert.equal(r.int8(), -1);
  assert.equal(r.int16(), -32768);
  assert.equal(r.int32(), -0x8000_0000);
  assert.equal(r.int64(), -1n);
  assert.equal(r.uint16(), 0xffff);
  assert.equal(r.uint32(), 0xffff_ffff);
  assert.equal(r.float64(), 1.5);
  assert.equal(r.bool(), true);
  assert.equal(r.bool(), false);
  assert.equal(r.bool(), true, 'any non-zero byte is true');
  assert.equal(r.remaining, 0);
  r.ensureEnd();
});

test('uuid comes back in canonical lowercase form', () => {
  const r = new Reader(hex('0123456789ABCDEF0011223344556677'));
  assert.equal(r.uuid(), '01234567-89ab-cdef-0011-223344556677');
});

test('unsigned varints: known encodings, 5-byte limit, 32-bit limit', () => {
  assert.equal(new Reader(hex('00')).uvarint(), 0);
  assert.equal(new Reader(hex('7f')).uvarint(), 127);
  assert.equal(new Reader(hex('8001')).uvarint(), 128);
  assert.equal(new Reader(hex('ac02')).uvarint(), 300);
  assert.equal(new Reader(hex('ffffffff0f')).uvarint(), 0xffff_ffff);
  assert.throws(() => new Reader(hex('ffffffff1f')).uvarint(), decodeError(/32 bits/));
  assert.throws(() => new Reader(hex('ffffffffff01')).uvarint('len'), decodeError(/len/));
  assert.throws(() => new Reader(hex('8080')).uvarint('len'), decodeError(/truncated/));
});

test('a 6-byte varint is refused', () => {
  assert.throws(() => new Reader(hex('808080808000')).uvarint(), decodeError());
  assert.throws(() => new Reader(hex('808080808000')).varint(), decodeError());
});

test('zig-zag varint and varlong', () => {
  assert.equal(new Reader(hex('00')).varint(), 0);
  assert.equal(new Reader(hex('01')).varint(), -1);
  assert.equal(new Reader(hex('02')).varint(), 1);
  assert.equal(new Reader(hex('feffffff0f')).varint(), 0x7fff_ffff);
  assert.equal(new Reader(hex('ffffffff0f')).varint(), -0x8000_0000);
  assert.equal(new Reader(hex('ffffffffffffffffff01')).varlong(), -(2n ** 63n));
  assert.equal(new Reader(hex('feffffffffffffffff01')).varlong(), 2n ** 63n - 1n);
  assert.equal(new Reader(hex('03')).varlongNumber(), -2);
  assert.throws(() => new Reader(hex('ffffffffffffffffffff01')).varlong(), decodeError(/10 bytes/));
  assert.throws(() => new Reader(hex('ffffffffffffffffff01')).varlongNumber(), decodeError(/2\^53/));
});

test('varints round-trip through the Writer (property)', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 0xffff_ffff }),
      fc.integer({ min: -0x8000_0000, max: 0x7fff_ffff }),
      fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
      fc.maxSafeInteger(),
      (u, s, l, n) => {
        const w = new Writer(8);
        w.uvarint(u);
        w.varint(s);
        w.varlong(l);
        w.varlongNumber(n);
        w.varlong(BigInt(n));
        const r = new Reader(w.toBuffer());
        assert.equal(r.uvarint(), u);
        assert.equal(r.varint(), s);
        assert.equal(r.varlong(), l);
        assert.equal(r.varlongNumber(), n);
        assert.equal(r.varlongNumber(), n, 'bigint and number encodings agree');
        r.ensureEnd();
      },
    ),
  );
});

test('strings and bytes: classic and compact, null handling', () => {
  const r = new Reader(hex('0002 6869 ffff 04 616263 00 00000001 aa ffffffff 02 bb 00'));
  assert.equal(r.string(), 'hi');
  assert.equal(r.nullableString(), null);
  assert.equal(r.compactString(), 'abc');
  assert.equal(r.compactNullableString(), null);
  assert.deepEqual(r.bytes(), hex('aa'));
  assert.equal(r.nullableBytes(), null);
  assert.deepEqual(r.compactBytes(), hex('bb'));
  assert.equal(r.compactNullableBytes(), null);
  r.ensureEnd();
  assert.throws(() => new Reader(hex('ffff')).string('name'), decodeError(/name: null/));
  assert.throws(() => new Reader(hex('00')).compactString('name'), decodeError(/name: null/));
  assert.throws(() => new Reader(hex('ffffffff')).bytes('records'), decodeError(/records/));
});

test('bytes are zero-copy views of the input', () => {
  const input = hex('00000003 010203 ff');
  const b = new Reader(input).bytes();
  assert.equal(b.buffer, input.buffer);
  assert.equal(b.byteOffset, input.byteOffset + 4);
  input[4] = 9;
  assert.equal(b[0], 9, 'a view, not a copy');
});

test('a string length larger than what remains is refused (0x7fff with 3 bytes left)', () => {
  assert.throws(() => new Reader(hex('7fff 616263')).string('topic'), decodeError(/topic: need 32767 byte\(s\).*only 3 remain/));
  assert.throws(() => new Reader(hex('ffffff7f 00')).compactString('x'), decodeError(/need/));
  assert.throws(() => new Reader(hex('7fffffff 00')).bytes('records'), decodeError(/records/));
});

test('negative lengths other than -1 are refused', () => {
  assert.throws(() => new Reader(hex('fffe')).nullableString('s'), decodeError(/negative length -2/));
  assert.throws(() => new Reader(hex('80000000')).nullableBytes('b'), decodeError(/negative length/));
  assert.throws(() => new Reader(hex('fffffffe')).nullableArrayLength('a'), decodeError(/negative count -2/));
  assert.throws(() => new Reader(hex('80000000')).arrayLength('a'), decodeError(/negative count/));
});

test('an array count larger than the bytes left is refused before anything is allocated', () => {
  // 2^31-1 elements with 10 bytes left: a fast throw is the evidence that nothing was sized by it.
  const input = Buffer.concat([hex('7fffffff'), Buffer.alloc(10)]);
  const before = process.memoryUsage().arrayBuffers;
  assert.throws(() => new Reader(input).arrayLength('topics'), decodeError(/topics: 2147483647 element\(s\) declared but only 10/));
  assert.throws(() => new Reader(hex('ffffffff07 00')).compactArrayLength('partitions'), decodeError(/partitions/));
  assert.throws(() => new Reader(hex('ffffffff07 00')).taggedCount(), decodeError(/tagged/));
  assert.ok(process.memoryUsage().arrayBuffers - before < 1024 * 1024);
  // A count that fits is fine, and -1 is null only where asked for.
  assert.equal(new Reader(hex('00000002 0000')).arrayLength(), 2);
  assert.equal(new Reader(hex('ffffffff')).nullableArrayLength(), -1);
  assert.equal(new Reader(hex('00')).compactNullableArrayLength(), -1);
  assert.throws(() => new Reader(hex('ffffffff')).arrayLength('topics'), decodeError(/null/));
});

test('reading past the end is refused with the field name and offset', () => {
  const r = new Reader(hex('0001 02'));
  assert.equal(r.int16(), 1);
  assert.throws(() => r.int32('timeoutMs'), decodeError(/timeoutMs: need 4 byte\(s\) at offset 2 but only 1 remain/));
  assert.throws(() => new Reader(Buffer.alloc(15)).uuid('topicId'), decodeError(/topicId/));
  assert.throws(() => new Reader(Buffer.alloc(7)).int64(), decodeError());
});

test('ensureEnd refuses trailing bytes', () => {
  const r = new Reader(hex('00000001 ee'));
  r.int32();
  assert.throws(() => r.ensureEnd('ProduceRequest'), decodeError(/ProduceRequest: 1 unexpected trailing byte/));
});

test('a reader over a window of a larger buffer stays inside it', () => {
  const big = hex('aaaa 0001 bbbb');
  const r = new Reader(big, 2, 4);
  assert.equal(r.offset, 2);
  assert.equal(r.int16(), 1);
  assert.equal(r.remaining, 0);
  assert.throws(() => r.int8(), decodeError());
  assert.throws(() => new Reader(big, 4, 99), RangeError);
});

test('tagged-field sections: known fields via callback, unknown kept as views', () => {
  const input = hex('02 00 02 0007 05 01 ff 00');
  const r = new Reader(input);
  const seen: number[] = [];
  const unknown = r.taggedFields((tag, sub) => {
    if (tag !== 0) return false;
    seen.push(sub.int16());
    return true;
  });
  assert.deepEqual(seen, [7]);
  assert.deepEqual(unknown, [{ tag: 5, data: hex('ff') }]);
  assert.equal(r.int8(), 0);
  r.ensureEnd();
  // A known field that does not consume exactly its declared size is malformed.
  assert.throws(() => new Reader(hex('01 00 03 0007 00')).taggedFields((_t, sub) => (sub.int16(), true)), decodeError(/trailing/));
  // A declared size past the end is refused.
  assert.throws(() => new Reader(hex('01 00 7f 00')).taggedFields(), decodeError());
});

test('random bytes never crash a reader with anything but ERR_DECODE (property)', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 40 }), fc.array(fc.integer({ min: 0, max: 12 }), { maxLength: 12 }), (bytes, ops) => {
      const r = new Reader(Buffer.from(bytes));
      try {
        for (const op of ops) {
          switch (op) {
            case 0: r.int32(); break;
            case 1: r.uvarint(); break;
            case 2: r.varlong(); break;
            case 3: r.nullableString(); break;
            case 4: r.compactNullableString(); break;
            case 5: r.nullableBytes(); break;
            case 6: r.compactNullableBytes(); break;
            case 7: r.nullableArrayLength(); break;
            case 8: r.compactNullableArrayLength(); break;
            case 9: r.taggedFields(); break;
            case 10: r.uuid(); break;
            case 11: r.int64(); break;
            default: r.ensureEnd();
          }
          assert.ok(r.remaining >= 0);
        }
      } catch (e) {
        assert.ok(isStrataError(e, 'ERR_DECODE'), String(e));
      }
    }),
  );
});
