import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  configFromEnv,
  envNameToKey,
  keyToEnvName,
  parseProperties,
  readPropertiesFile,
  stringifyProperties,
} from '../../src/config/properties.js';
import { isStrataError } from '../../src/protocol/strata-error.js';

const parse = (text: string): Record<string, string> => Object.fromEntries(parseProperties(text));

test('the three separators, blanks around them, and a key alone', () => {
  assert.deepEqual(parse('a=1\nb: 2\nc 3\nd\t=\t4\ne   :   5\nf\n'), { a: '1', b: '2', c: '3', d: '4', e: '5', f: '' });
  // Only one separator is consumed; a second one belongs to the value.
  assert.deepEqual(parse('k = = v\nk2::v\nk3 =:v'), { k: '= v', k2: ':v', k3: ':v' });
  // Trailing blanks are part of the value; leading blanks of the line are not part of the key.
  assert.deepEqual(parse('   indented=yes  \n\f\tx=y'), { indented: 'yes  ', x: 'y' });
  assert.deepEqual(parse('url=http://h:9092/p?a=b'), { url: 'http://h:9092/p?a=b' });
});

test('comments, blank lines and all three line endings', () => {
  const text = '# comment\r\n! also a comment\r\n\r\n   \r\n  # indented comment\ra=1\rb=2\r\nc=3';
  assert.deepEqual(parse(text), { a: '1', b: '2', c: '3' });
  assert.deepEqual(parse('a=1 # not a comment'), { a: '1 # not a comment' });
  assert.deepEqual(parse(''), {});
  assert.deepEqual(parse('\n\n#only\n'), {});
});

test('line continuations: odd backslashes continue, leading blanks of the next line are dropped', () => {
  assert.deepEqual(parse('list=a,\\\n    b,\\\n\t c\nnext=1'), { list: 'a,b,c', next: '1' });
  assert.deepEqual(parse('k=v\\\r\n   w'), { k: 'vw' });
  // An even number of backslashes is an escaped backslash, not a continuation.
  assert.deepEqual(parse('k=v\\\\\nx=1'), { k: 'v\\', x: '1' });
  // A continued line that looks like a comment is content.
  assert.deepEqual(parse('k=a\\\n#b'), { k: 'a#b' });
  // A comment ending in a backslash does not swallow the next line.
  assert.deepEqual(parse('# note \\\nk=v'), { k: 'v' });
  // A continuation into a blank line ends the logical line there.
  assert.deepEqual(parse('k=a\\\n   \nj=b'), { k: 'a', j: 'b' });
  // A continuation at the end of the file continues into nothing.
  assert.deepEqual(parse('k=a\\'), { k: 'a' });
  assert.deepEqual(parse('k\\'), { k: '' });
  // The key itself may be continued.
  assert.deepEqual(parse('lo\\\n  ng=1'), { long: '1' });
});

test('escapes in keys and values', () => {
  assert.deepEqual(parse('a\\ b=c'), { 'a b': 'c' });
  assert.deepEqual(parse('a\\=b\\:c=d'), { 'a=b:c': 'd' });
  assert.deepEqual(parse('k=\\t\\n\\r\\f|\\u0041\\u00e9|\\\\|\\x\\#'), { k: '\t\n\r\f|Aé|\\|x#' });
  assert.deepEqual(parse('k=\\ leading'), { k: ' leading' });
  assert.deepEqual(parse('k=caf\u00e9 \u{1F600}'), { k: 'café 😀' });
});

test('malformed \\u escapes are refused with the line number, never read out of bounds', () => {
  for (const text of ['a=1\nk=\\u12', 'a=1\nk=\\u12G4', 'a=1\nk=\\u']) {
    assert.throws(
      () => parseProperties(text),
      (e: unknown) => isStrataError(e, 'ERR_CONFIG') && /line 2/.test((e as Error).message),
      JSON.stringify(text),
    );
  }
});

test('a byte order mark is ignored and later duplicates win', () => {
  assert.deepEqual(parse('\ufeffa=1\na=2'), { a: '2' });
});

test('property: stringify then parse gives back the same map', () => {
  const key = fc.string({ minLength: 1, maxLength: 12, unit: 'grapheme' });
  fc.assert(
    fc.property(fc.dictionary(key, fc.string({ maxLength: 20, unit: 'grapheme' })), (record) => {
      const map = new Map(Object.entries(record));
      assert.deepEqual(parseProperties(stringifyProperties(map, 'written by a test\nsecond line')), map);
    }),
    { numRuns: 300 },
  );
  fc.assert(
    fc.property(fc.dictionary(fc.string({ minLength: 1, maxLength: 6 }), fc.string({ maxLength: 8 })), (record) => {
      assert.deepEqual(parseProperties(stringifyProperties(record)), new Map(Object.entries(record)));
    }),
    { numRuns: 300 },
  );
});

test('property: any text parses or fails with a config error, never anything else', () => {
  const tricky = fc.stringMatching(/^[a-z=: \t\f\\#!\r\nu0-9]*$/);
  fc.assert(
    fc.property(fc.oneof(tricky, fc.string({ maxLength: 60 })), (text) => {
      try {
        const out = parseProperties(text);
        for (const [k, v] of out) assert.ok(typeof k === 'string' && typeof v === 'string');
      } catch (e) {
        assert.ok(isStrataError(e, 'ERR_CONFIG'), String(e));
      }
    }),
    { numRuns: 2000 },
  );
});

test('a real server.properties file is read as UTF-8', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'strata-props-'));
  try {
    const path = join(dir, 'server.properties');
    await writeFile(path, '# Strata\r\nnode.id=1\r\nlog.dirs=/data/a,\\\r\n    /data/b\r\ncluster.name=grüße\r\n', 'utf8');
    const props = await readPropertiesFile(path);
    assert.deepEqual(Object.fromEntries(props), { 'node.id': '1', 'log.dirs': '/data/a,/data/b', 'cluster.name': 'grüße' });
    await assert.rejects(readPropertiesFile(join(dir, 'missing.properties')), (e: unknown) => isStrataError(e, 'ERR_CONFIG'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('STRATA_* variables map to keys: _ → ., __ → _, ___ → -', () => {
  assert.equal(envNameToKey('LOG_RETENTION_MS'), 'log.retention.ms');
  assert.equal(envNameToKey('LISTENER_NAME_INTERNAL_SSL__X'), 'listener.name.internal.ssl_x');
  assert.equal(envNameToKey('A___B'), 'a-b');
  assert.equal(envNameToKey('A____B'), 'a-.b');
  assert.equal(keyToEnvName('log.retention.ms'), 'STRATA_LOG_RETENTION_MS');
  assert.equal(keyToEnvName('a_b-c.d'), 'STRATA_A__B___C_D');
  const env = { STRATA_LOG_RETENTION_MS: '1000', STRATA_: 'ignored', PATH: '/bin', STRATA_NODE_ID: '3', strata_lower: 'x' };
  assert.deepEqual(Object.fromEntries(configFromEnv(env)), { 'log.retention.ms': '1000', 'node.id': '3' });
});

test('property: keys whose separators are not adjacent survive the environment round trip', () => {
  const segment = fc.stringMatching(/^[a-z0-9]{1,6}$/);
  const key = fc
    .tuple(segment, fc.array(fc.tuple(fc.constantFrom('.', '_', '-'), segment), { maxLength: 5 }))
    .map(([first, rest]) => first + rest.map(([sep, seg]) => sep + seg).join(''));
  fc.assert(fc.property(key, (k) => envNameToKey(keyToEnvName(k).slice('STRATA_'.length)) === k));
});

// Differential check against java.util.Properties itself, when a JDK is installed: the same inputs
// go through Properties.load(Reader) in a real java process and through parseProperties.
const JAVA_DUMP = `
import java.io.*;
import java.nio.charset.StandardCharsets;
import java.util.*;

public class PropsDump {
  static String hex(String s) {
    StringBuilder b = new StringBuilder();
    for (byte x : s.getBytes(StandardCharsets.UTF_8)) b.append(String.format("%02x", x));
    return b.toString();
  }
  static String unhex(String h) {
    byte[] out = new byte[h.length() / 2];
    for (int i = 0; i < out.length; i++) out[i] = (byte) Integer.parseInt(h.substring(2 * i, 2 * i + 2), 16);
    return new String(out, StandardCharsets.UTF_8);
  }
  public static void main(String[] args) throws Exception {
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    PrintStream out = new PrintStream(System.out, false, "UTF-8");
    String line;
    while ((line = in.readLine()) != null) {
      Properties p = new Properties();
      try {
        p.load(new StringReader(unhex(line)));
      } catch (IllegalArgumentException e) {
        out.println("ERR");
        continue;
      }
      List<String> keys = new ArrayList<>(p.stringPropertyNames());
      Collections.sort(keys);
      StringBuilder b = new StringBuilder("OK");
      for (String k : keys) b.append(' ').append(hex(k)).append('=').append(hex(p.getProperty(k)));
      out.println(b);
    }
    out.flush();
  }
}
`;

const hex = (s: string): string => Buffer.from(s, 'utf8').toString('hex');

function ours(text: string): string {
  try {
    const props = parseProperties(text);
    const keys = [...props.keys()].sort();
    return ['OK', ...keys.map((k) => `${hex(k)}=${hex(props.get(k)!)}`)].join(' ');
  } catch {
    return 'ERR';
  }
}

const haveJava = spawnSync('java', ['-version']).status === 0;

test('differential: parses exactly as java.util.Properties does', { skip: haveJava ? false : 'java not installed' }, async () => {
  const piece = fc.constantFrom('a', 'k', '=', ':', ' ', '\t', '\f', '\\', '#', '!', '\n', '\r', '\r\n', 'u', '0', '4', '1', 'é');
  const tricky = fc.array(piece, { maxLength: 24 }).map((parts) => parts.join('').replace(/\\t/g, '\t').replace(/\\f/g, '\f'));
  const inputs = [
    ...fc.sample(fc.array(fc.constantFrom('a', 'k', '=', ':', ' ', '\t', '\f', '\\', '#', '!', '\n', '\r', 'u', '0', '4', 'é'), { maxLength: 24 }).map((p) => p.join('')), { numRuns: 3000, seed: 42 }),
    ...fc.sample(tricky, { numRuns: 500, seed: 7 }),
    ...fc.sample(fc.string({ maxLength: 40, unit: 'grapheme' }), { numRuns: 500, seed: 9 }),
    // What we write must read back the same in Java too.
    ...fc.sample(fc.dictionary(fc.string({ minLength: 1, maxLength: 8, unit: 'grapheme' }), fc.string({ maxLength: 12, unit: 'grapheme' })), { numRuns: 300, seed: 11 })
      .map((record) => stringifyProperties(record, 'comment')),
  ].filter((s) => !s.includes('\ufeff'));
  const dir = await mkdtemp(join(tmpdir(), 'strata-props-java-'));
  try {
    const source = join(dir, 'PropsDump.java');
    await writeFile(source, JAVA_DUMP);
    const run = spawnSync('java', [source], { input: inputs.map(hex).join('\n') + '\n', encoding: 'utf8', maxBuffer: 64 << 20 });
    assert.equal(run.status, 0, run.stderr);
    const javaLines = run.stdout.trimEnd().split('\n');
    assert.equal(javaLines.length, inputs.length);
    inputs.forEach((input, i) => assert.equal(ours(input), javaLines[i], `input ${JSON.stringify(input)}`));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
