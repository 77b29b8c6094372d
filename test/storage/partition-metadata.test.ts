import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { CorruptFileError } from '../../src/storage/checkpoint-file.js';
import {
  METADATA_TOPIC_ID,
  PARTITION_METADATA_FILE,
  PartitionMetadataFile,
  ZERO_UUID,
  decodePartitionMetadata,
  randomTopicId,
  uuidFromBase64,
  uuidFromBytes,
  uuidToBase64,
  uuidToBytes,
} from '../../src/storage/partition-metadata.js';
import { isStrataError } from '../../src/protocol/strata-error.js';

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'strata-pm-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test("uuid conversions match Kafka's Uuid.toString", () => {
  // Uuid.ZERO_UUID and Uuid.METADATA_TOPIC_ID (Uuid(0, 1)) as Kafka prints them.
  assert.equal(uuidToBase64(ZERO_UUID), 'AAAAAAAAAAAAAAAAAAAAAA');
  assert.equal(uuidToBase64(METADATA_TOPIC_ID), 'AAAAAAAAAAAAAAAAAAAAAQ');
  // 128 one-bits: 21 full sextets then '11' padded with zero bits → 'w'; the URL-safe alphabet gives '_'.
  assert.equal(uuidToBase64('ffffffff-ffff-ffff-ffff-ffffffffffff'), '_____________________w');
  assert.equal(uuidFromBase64('_____________________w'), 'ffffffff-ffff-ffff-ffff-ffffffffffff');
  // 0xfb 0xef 0xbe... encodes to '-' and '_' characters: checks base64url rather than base64.
  assert.equal(uuidToBase64('fbefbefb-efbe-fbef-befb-efbefbefbefb'), '---------------------w');
  assert.equal(uuidFromBase64('AAAAAAAAAAAAAAAAAAAAAQ=='), METADATA_TOPIC_ID);
  assert.deepEqual([...uuidToBytes('00010203-0405-0607-0809-0a0b0c0d0e0f')], [...Array(16).keys()]);
  assert.equal(uuidFromBytes(Buffer.from([...Array(16).keys()])), '00010203-0405-0607-0809-0a0b0c0d0e0f');
});

test('malformed uuids are refused', () => {
  for (const bad of ['', 'AAAA', 'AAAAAAAAAAAAAAAAAAAAA+', 'AAAAAAAAAAAAAAAAAAAAAAA', 'AAAAAAAAAAAAAAAAAAAAAA=']) {
    assert.throws(() => uuidFromBase64(bad), (e) => isStrataError(e, 'ERR_DECODE'), bad);
  }
  assert.throws(() => uuidToBytes('not-a-uuid'), (e) => isStrataError(e, 'ERR_DECODE'));
  assert.throws(() => uuidFromBytes(Buffer.alloc(15)), (e) => isStrataError(e, 'ERR_DECODE'));
});

test('property: canonical ↔ base64url round trip', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (bytes) => {
      const canonical = uuidFromBytes(bytes);
      const b64 = uuidToBase64(canonical);
      assert.equal(b64.length, 22);
      assert.equal(uuidFromBase64(b64), canonical);
    }),
  );
});

test('random topic ids avoid the reserved ids and a leading dash', () => {
  const queue = [Buffer.alloc(16), Buffer.from(uuidToBytes(METADATA_TOPIC_ID)), Buffer.alloc(16, 0xfb), Buffer.alloc(16, 7)];
  const id = randomTopicId(() => queue.shift()!);
  assert.equal(id, uuidFromBytes(Buffer.alloc(16, 7)));
  assert.equal(queue.length, 0);
  const real = randomTopicId();
  assert.notEqual(real, ZERO_UUID);
  assert.ok(!uuidToBase64(real).startsWith('-'));
});

test('partition.metadata is written in the exact Kafka text and read back', () =>
  withDir(async (dir) => {
    const file = new PartitionMetadataFile(dir);
    assert.equal(file.path, join(dir, PARTITION_METADATA_FILE));
    assert.equal(await file.read(), undefined);
    const topicId = '00010203-0405-0607-0809-0a0b0c0d0e0f';
    await file.write(topicId);
    assert.equal(await readFile(file.path, 'utf8'), 'version: 0\ntopic_id: AAECAwQFBgcICQoLDA0ODw');
    assert.deepEqual(await file.read(), { version: 0, topicId });
  }));

test('a file written by Kafka (trailing newline) and later versions are accepted', () => {
  assert.deepEqual(decodePartitionMetadata('version: 0\ntopic_id: AAAAAAAAAAAAAAAAAAAAAQ\n', 'f'), {
    version: 0,
    topicId: METADATA_TOPIC_ID,
  });
  assert.equal(decodePartitionMetadata('version: 3\ntopic_id: AAAAAAAAAAAAAAAAAAAAAQ', 'f').version, 3);
});

test('corrupt partition.metadata files name the file and line', () =>
  withDir(async (dir) => {
    const file = new PartitionMetadataFile(dir);
    const cases: Array<[string, number]> = [
      ['', 1],
      ['version: x\ntopic_id: AAAAAAAAAAAAAAAAAAAAAQ', 1],
      ['version: -1\ntopic_id: AAAAAAAAAAAAAAAAAAAAAQ', 1],
      ['versions: 0\ntopic_id: AAAAAAAAAAAAAAAAAAAAAQ', 1],
      ['version:0\ntopic_id: AAAAAAAAAAAAAAAAAAAAAQ', 1],
      ['version: 0', 2],
      ['version: 0\ntopic: AAAAAAAAAAAAAAAAAAAAAQ', 2],
      ['version: 0\ntopic_id: AAAA', 2],
      ['version: 0\ntopic_id: AAAAAAAAAAAAAAAAAAAAAA', 2],
    ];
    for (const [text, line] of cases) {
      await writeFile(file.path, text);
      await assert.rejects(
        file.read(),
        (e: unknown) => e instanceof CorruptFileError && e.file === file.path && e.line === line,
        JSON.stringify(text),
      );
    }
  }));
