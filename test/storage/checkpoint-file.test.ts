import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  CorruptFileError,
  OffsetCheckpointFile,
  RECOVERY_POINT_CHECKPOINT_FILE,
  decodeCheckpoint,
  encodeCheckpoint,
  parseTopicPartitionKey,
  topicPartitionKey,
  topicPartitionOffsetFormatter,
} from '../../src/storage/checkpoint-file.js';

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'strata-ckpt-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('writes the exact Kafka text format and reads it back', () =>
  withDir(async (dir) => {
    const file = new OffsetCheckpointFile(join(dir, RECOVERY_POINT_CHECKPOINT_FILE));
    await file.write(
      new Map([
        ['orders-0', 1234],
        ['my-topic-with-dashes-12', 0],
        ['__consumer_offsets-49', 9007199254740991],
      ]),
    );
    const text = await readFile(file.path, 'utf8');
    assert.equal(text, '0\n3\norders 0 1234\nmy-topic-with-dashes 12 0\n__consumer_offsets 49 9007199254740991\n');
    const back = await file.read();
    assert.deepEqual(
      [...back],
      [
        ['orders-0', 1234],
        ['my-topic-with-dashes-12', 0],
        ['__consumer_offsets-49', 9007199254740991],
      ],
    );
    assert.deepEqual(await file.readEntries(), [
      { topic: 'orders', partition: 0, offset: 1234 },
      { topic: 'my-topic-with-dashes', partition: 12, offset: 0 },
      { topic: '__consumer_offsets', partition: 49, offset: 9007199254740991 },
    ]);
  }));

test('an empty map is written as version and zero count', () =>
  withDir(async (dir) => {
    const file = new OffsetCheckpointFile(join(dir, 'cp'));
    await file.write(new Map());
    assert.equal(await readFile(file.path, 'utf8'), '0\n0\n');
    assert.equal((await file.read()).size, 0);
  }));

test('missing, empty and header-only files hold no entries, as in Kafka', () =>
  withDir(async (dir) => {
    const file = new OffsetCheckpointFile(join(dir, 'cp'));
    assert.equal((await file.read()).size, 0);
    for (const text of ['', '0\n', '0']) {
      await writeFile(file.path, text);
      assert.equal((await file.read()).size, 0, JSON.stringify(text));
    }
  }));

test('Kafka files with CRLF line ends and extra spaces between fields parse', () => {
  const entries = decodeCheckpoint('0\r\n1\r\nt  3\t77\r\n', 0, topicPartitionOffsetFormatter, 'f');
  assert.deepEqual(entries, [{ topic: 't', partition: 3, offset: 77 }]);
});

test('a repeated partition keeps its last line', () =>
  withDir(async (dir) => {
    const file = new OffsetCheckpointFile(join(dir, 'cp'));
    await writeFile(file.path, '0\n2\nt 0 5\nt 0 9\n');
    assert.deepEqual([...(await file.read())], [['t-0', 9]]);
  }));

test('corrupt files raise CorruptFileError naming the file and the line', () =>
  withDir(async (dir) => {
    const file = new OffsetCheckpointFile(join(dir, 'cp'));
    const cases: Array<[string, number | undefined, RegExp]> = [
      ['1\n0\n', 1, /unrecognised version 1/],
      ['x\n0\n', 1, /malformed version/],
      ['0\nabc\n', 2, /malformed count/],
      ['0\n-1\n', 2, /malformed count/],
      ['0\n2\nt 0 1\n', undefined, /expected 2 entries but found 1/],
      ['0\n1\nt 0 1\nu 0 2\n', undefined, /expected 1 entries but found 2/],
      ['0\n2\nt 0 1\nt 0\n', 4, /malformed line 't 0'/],
      ['0\n1\nt 0 1 2\n', 3, /malformed line/],
      ['0\n1\nt x 1\n', 3, /malformed line/],
      ['0\n1\nt 0 1.5\n', 3, /malformed line/],
      ['0\n1\nt 2147483648 1\n', 3, /malformed line/],
      ['0\n1\nt 0 99999999999999999999\n', 3, /malformed line/],
      ['0\n1\n\n', 3, /malformed line/],
      ['0\n1\n t 0 1\n', 3, /malformed line/],
    ];
    for (const [text, line, message] of cases) {
      await writeFile(file.path, text);
      await assert.rejects(
        file.read(),
        (e: unknown) =>
          e instanceof CorruptFileError &&
          e.code === 'ERR_CORRUPT_FILE' &&
          e.file === file.path &&
          e.line === line &&
          message.test(e.message) &&
          e.message.includes(file.path),
        JSON.stringify(text),
      );
    }
  }));

test('topic-partition keys split at the last dash', () => {
  assert.deepEqual(parseTopicPartitionKey('a-b-c-10'), { topic: 'a-b-c', partition: 10 });
  assert.deepEqual(parseTopicPartitionKey('a-1-0'), { topic: 'a-1', partition: 0 });
  assert.equal(parseTopicPartitionKey('nodash'), undefined);
  assert.equal(parseTopicPartitionKey('-5'), undefined);
  assert.equal(parseTopicPartitionKey('t-x'), undefined);
  assert.equal(parseTopicPartitionKey('t-+1'), undefined);
});

test('property: encode then decode returns the entries', () => {
  const topic = fc.stringMatching(/^[a-zA-Z0-9._-]{1,40}$/);
  const entry = fc.record({
    topic,
    partition: fc.integer({ min: 0, max: 0x7fffffff }),
    offset: fc.maxSafeInteger().filter((n) => n >= -1),
  });
  fc.assert(
    fc.property(fc.array(entry, { maxLength: 30 }), (generated) => {
      const entries = generated.map((e) => ({ ...e }));
      const text = encodeCheckpoint(0, entries, topicPartitionOffsetFormatter);
      assert.deepEqual(decodeCheckpoint(text, 0, topicPartitionOffsetFormatter, 'f'), entries);
      for (const e of entries) assert.deepEqual(parseTopicPartitionKey(topicPartitionKey(e.topic, e.partition)), { topic: e.topic, partition: e.partition });
    }),
  );
});
