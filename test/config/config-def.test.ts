import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  atLeast,
  between,
  caseInsensitiveValidString,
  checkValue,
  ConfigDefTable,
  ConfigError,
  formatValue,
  Importance,
  javaDoubleToString,
  longToNumber,
  nonDuplicateList,
  nonEmptyString,
  parseType,
  parseValue,
  Password,
  range,
  REQUIRED,
  validList,
  validString,
  type ConfigDef,
} from '../../src/config/config-def.js';
import { isStrataError } from '../../src/protocol/strata-error.js';

const M = Importance.MEDIUM;

function refusal(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected a ConfigError');
}

test('booleans parse case-insensitively after trimming, anything else is refused', () => {
  assert.equal(parseType('boolean', 'true'), true);
  assert.equal(parseType('boolean', ' FALSE\t'), false);
  assert.equal(parseType('boolean', 'TrUe'), true);
  for (const bad of ['yes', '1', '', 't', 'true1']) assert.equal(parseType('boolean', bad), undefined, bad);
});

test('integers parse as Java parseInt/parseLong do, within their type bounds', () => {
  assert.equal(parseType('int', '+42'), 42);
  assert.equal(parseType('int', ' -7 '), -7);
  assert.equal(parseType('int', '2147483647'), 2147483647);
  assert.equal(parseType('int', '-2147483648'), -2147483648);
  assert.equal(parseType('int', '2147483648'), undefined);
  assert.equal(parseType('short', '32767'), 32767);
  assert.equal(parseType('short', '32768'), undefined);
  assert.equal(parseType('long', '9223372036854775807'), 9223372036854775807n);
  assert.equal(parseType('long', '-9223372036854775808'), -9223372036854775808n);
  assert.equal(parseType('long', '9223372036854775808'), undefined);
  for (const bad of ['1.0', '1e3', '0x10', '', ' ', '--1', '1 2', '١٢']) {
    assert.equal(parseType('int', bad), undefined, bad);
    assert.equal(parseType('long', bad), undefined, bad);
  }
});

test('doubles accept Java syntax (suffixes, exponents, bare dots) but refuse NaN and hex', () => {
  assert.equal(parseType('double', '0.5'), 0.5);
  assert.equal(parseType('double', '.5'), 0.5);
  assert.equal(parseType('double', '5.'), 5);
  assert.equal(parseType('double', '1e-3'), 0.001);
  assert.equal(parseType('double', '1.0E7'), 1e7);
  assert.equal(parseType('double', '2d'), 2);
  assert.equal(parseType('double', '-Infinity'), -Infinity);
  for (const bad of ['NaN', '0x10', '', 'abc', '1,5', 'e5', '1e']) assert.equal(parseType('double', bad), undefined, bad);
});

test('lists split on commas with surrounding blanks; the empty string is the empty list', () => {
  assert.deepEqual(parseType('list', ''), []);
  assert.deepEqual(parseType('list', '   '), []);
  assert.deepEqual(parseType('list', 'compact, delete'), ['compact', 'delete']);
  assert.deepEqual(parseType('list', ' a ,b,  c '), ['a', 'b', 'c']);
  assert.deepEqual(parseType('list', 'a,,b'), ['a', '', 'b']);
  assert.deepEqual(parseType('list', 'a,'), ['a', '']);
  // Only ASCII whitespace surrounds separators, as Java's \\s.
  assert.deepEqual(parseType('list', 'a,\u00a0b'), ['a', '\u00a0b']);
  assert.deepEqual(parseType('list', 'a\t,\r\nb'), ['a', 'b']);
});

test('strings are trimmed; passwords are hidden when printed or serialised', () => {
  assert.equal(parseType('string', '  CreateTime \n'), 'CreateTime');
  const p = parseType('password', ' s3cret ');
  assert.ok(p instanceof Password);
  assert.equal(p.value(), 's3cret');
  assert.equal(String(p), '[hidden]');
  assert.equal(JSON.stringify({ p }), '{"p":"[hidden]"}');
});

test('a refused value names the key and the allowed values, and carries INVALID_CONFIG (40)', () => {
  const policy: ConfigDef = {
    name: 'cleanup.policy', type: 'list', default: ['delete'], validator: validList('compact', 'delete'), importance: M, doc: 'x',
  };
  const e = refusal(() => parseValue(policy, 'x'));
  assert.equal(e.message, "Invalid value 'x' for configuration cleanup.policy: must be a list of [compact, delete]");
  assert.equal(e.kafkaErrorCode, 40);
  assert.equal(e.configName, 'cleanup.policy');
  assert.ok(isStrataError(e, 'ERR_CONFIG'));

  const size: ConfigDef = {
    name: 'socket.request.max.bytes', type: 'int', default: 104857600, validator: atLeast(1), importance: M, doc: 'x',
  };
  const expected = "Invalid value 'abc' for configuration socket.request.max.bytes: must be an integer in [1, 2147483647]";
  assert.equal(refusal(() => parseValue(size, 'abc')).message, expected);
  assert.equal(refusal(() => parseValue(size, '0')).message, expected.replace("'abc'", "'0'"));

  const ts: ConfigDef = {
    name: 'message.timestamp.type', type: 'string', default: 'CreateTime', validator: validString('CreateTime', 'LogAppendTime'),
    importance: M, doc: 'x',
  };
  assert.equal(
    refusal(() => parseValue(ts, 'createtime')).message,
    "Invalid value 'createtime' for configuration message.timestamp.type: must be one of [CreateTime, LogAppendTime]",
  );
  const flag: ConfigDef = { name: 'preallocate', type: 'boolean', default: false, importance: M, doc: 'x' };
  assert.equal(refusal(() => parseValue(flag, 'yes')).message, "Invalid value 'yes' for configuration preallocate: must be true or false");
  const ratio: ConfigDef = { name: 'r', type: 'double', default: 0.5, validator: between(0, 1), importance: M, doc: 'x' };
  assert.equal(refusal(() => parseValue(ratio, '1.5')).message, "Invalid value '1.5' for configuration r: must be a number in [0, 1]");
  const secret: ConfigDef = { name: 's', type: 'password', default: null, validator: nonEmptyString, importance: M, doc: 'x' };
  assert.ok(!refusal(() => parseValue(secret, '  ')).message.includes("'  '"), 'a password is never echoed');
});

test('range validators compare bigint and number exactly and describe themselves as Kafka does', () => {
  const r = atLeast(-1);
  assert.ok(r.accepts(-1n, 'long'));
  assert.ok(!r.accepts(-2n, 'long'));
  assert.ok(range(undefined, 9223372036854775807n).accepts(9223372036854775807n, 'long'));
  assert.ok(!between(0, 1).accepts(Number.NaN, 'double'));
  assert.equal(atLeast(1).validValues, '[1,...]');
  assert.equal(between(0, 1).validValues, '[0,...,1]');
  assert.equal(range(undefined, 5).validValues, '[...,5]');
  assert.equal(atLeast(0).expect('long'), 'must be an integer in [0, 9223372036854775807]');
  assert.equal(atLeast(0).expect('double'), 'must be a number >= 0');
  assert.equal(validList('compact', 'delete').validValues, '[compact, delete]');
  assert.ok(validList('a').accepts([], 'list'), 'ValidList accepts the empty list');
  assert.ok(caseInsensitiveValidString('PLAIN').accepts('plain', 'string'));
  assert.ok(!nonDuplicateList(false).accepts([], 'list'));
  assert.ok(!nonDuplicateList(true).accepts(['a', 'a'], 'list'));
  assert.ok(nonDuplicateList(true).accepts([], 'list'));
});

test("values render as Kafka's convertToString: Java doubles, exact longs, comma-joined lists", () => {
  assert.equal(javaDoubleToString(1), '1.0');
  assert.equal(javaDoubleToString(0.5), '0.5');
  assert.equal(javaDoubleToString(0.001), '0.001');
  assert.equal(javaDoubleToString(0.0001), '1.0E-4');
  assert.equal(javaDoubleToString(1e7), '1.0E7');
  assert.equal(javaDoubleToString(1.5e-7), '1.5E-7');
  assert.equal(javaDoubleToString(1234567.5), '1234567.5');
  assert.equal(javaDoubleToString(-0), '-0.0');
  assert.equal(formatValue('double', 1), '1.0');
  assert.equal(formatValue('long', 9223372036854775807n), '9223372036854775807');
  assert.equal(formatValue('list', ['compact', 'delete']), 'compact,delete');
  assert.equal(formatValue('list', []), '');
  assert.equal(formatValue('int', null), null);
  assert.equal(formatValue('password', new Password('x')), '[hidden]');
});

test('property: typed values survive render → parse', () => {
  fc.assert(fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), (n) => parseType('int', String(n)) === n));
  fc.assert(
    fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (n) => parseType('long', formatValue('long', n)!) === n),
  );
  fc.assert(
    fc.property(fc.double({ noNaN: true }), (d) => Object.is(parseType('double', formatValue('double', d)!), d)),
  );
  fc.assert(
    fc.property(fc.array(fc.stringMatching(/^[a-z0-9:*]{1,8}$/), { maxLength: 6 }), (list) => {
      assert.deepEqual(parseType('list', formatValue('list', list)!), list);
    }),
  );
});

test('property: parsing arbitrary text never throws anything but a ConfigError', () => {
  const def: ConfigDef = { name: 'k', type: 'long', default: 0n, validator: atLeast(0), importance: M, doc: 'x' };
  fc.assert(
    fc.property(fc.string(), (s) => {
      try {
        const v = parseValue(def, s);
        return typeof v === 'bigint' && v >= 0n;
      } catch (e) {
        return e instanceof ConfigError && e.message.startsWith('Invalid value ');
      }
    }),
  );
});

test('longToNumber saturates beyond the safe integer range', () => {
  assert.equal(longToNumber(9223372036854775807n), Number.MAX_SAFE_INTEGER);
  assert.equal(longToNumber(-9223372036854775808n), Number.MIN_SAFE_INTEGER);
  assert.equal(longToNumber(-2n), -2);
});

test('a table refuses duplicate names and defaults its validator refuses', () => {
  const a: ConfigDef = { name: 'a', type: 'int', default: 1, importance: M, doc: 'x' };
  assert.throws(() => new ConfigDefTable([a, a]), /defined twice/);
  assert.throws(
    () => new ConfigDefTable([{ name: 'b', type: 'int', default: 0, validator: atLeast(1), importance: M, doc: 'x' }]),
    /Invalid value '0' for configuration b: must be an integer in \[1, 2147483647\]/,
  );
  assert.throws(() => new ConfigDefTable([{ name: 'c', type: 'int', default: 2 ** 31, importance: M, doc: 'x' }]), ConfigError);
  assert.throws(() => checkValue(a, 'one'), ConfigError);
});

test('parseAll fills defaults, requires required keys, and ignores or rejects unknown keys', () => {
  const table = new ConfigDefTable([
    { name: 'node.id', type: 'int', default: REQUIRED, importance: Importance.HIGH, doc: 'x' },
    { name: 'log.retention.ms', type: 'long', default: null, importance: Importance.HIGH, doc: 'x' },
    { name: 'log.dirs', type: 'list', default: ['/tmp/strata'], importance: Importance.HIGH, doc: 'x' },
  ]);
  assert.deepEqual(table.names(), ['node.id', 'log.retention.ms', 'log.dirs']);
  const parsed = table.parseAll({ 'node.id': ' 3 ', 'other.key': 'x' });
  assert.deepEqual([...parsed], [['node.id', 3], ['log.retention.ms', null], ['log.dirs', ['/tmp/strata']]]);
  assert.throws(() => table.parseAll(new Map([['node.id', '1'], ['other.key', 'x']]), { unknownKeys: 'reject' }), /Unknown configuration other.key/);
  const missing = refusal(() => table.parseAll({}));
  assert.match(missing.message, /node\.id/);
  assert.throws(() => table.parse('nope', '1'), /Unknown configuration nope/);
  assert.equal(table.parse('log.retention.ms', '-1'), -1n);
  assert.equal(table.defaultValue('node.id'), null);
});
