// appendRecordsFast: the produce path's appends made within the call when they can be, and otherwise the
// same results, in the same order, as appendRecords gives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../src/protocol/errors.js';
import { Compression } from '../../src/protocol/records/batch-header.js';
import type { PartitionAppendResult } from '../../src/replication/replica-manager.js';
import { InlineWrites } from '../../src/storage/inline-writes.js';
import { decodeAll, fixture, lead, records, values } from './helpers.js';

const offsets = (rs: readonly PartitionAppendResult[]): [number, number, number][] => rs.map((r) => [r.errorCode, r.baseOffset, r.lastOffset]);

test('plain acks=1 writes are appended within the call; compressed ones, and what follows them, are not', async () => {
  let kernelAboutToPauseWriters = false;
  const f = await fixture({ inlineWrites: new InlineWrites({ dirtyPages: { nearThrottle: () => kernelAboutToPauseWriters } }) });
  try {
    await lead(f.rm, 't', 0);
    await lead(f.rm, 't', 1);
    await lead(f.rm, 't', 2);
    // The first append of a leader epoch records the epoch in its cache file: that one waits.
    const first = f.rm.appendRecordsFast({ entries: [{ topic: 't', partition: 0, records: records(['a']) }], requiredAcks: 1, timeoutMs: 1000 });
    assert.ok(first instanceof Promise);
    assert.deepEqual(offsets(await first), [[ErrorCode.NONE, 0, 0]]);
    for (const p of [1, 2]) await f.rm.appendRecords({ entries: [{ topic: 't', partition: p, records: records(['0']) }], requiredAcks: 1, timeoutMs: 1000 });
    const next = f.rm.appendRecordsFast({ entries: [{ topic: 't', partition: 0, records: records(['b']) }], requiredAcks: 1, timeoutMs: 1000 });
    assert.ok(Array.isArray(next), 'answered within the call');
    assert.deepEqual(offsets(next), [[ErrorCode.NONE, 1, 1]]);

    const mixed = f.rm.appendRecordsFast({
      entries: [
        { topic: 't', partition: 1, records: records(['c']) },
        { topic: 't', partition: 2, records: records(['d', 'e', 'f'], { compression: Compression.gzip }) },
        { topic: 't', partition: 0, records: records(['g']) },
      ],
      requiredAcks: 1,
      timeoutMs: 1000,
    });
    assert.ok(mixed instanceof Promise, 'a compressed batch is decompressed asynchronously');
    assert.deepEqual(offsets(await mixed), [[ErrorCode.NONE, 1, 1], [ErrorCode.NONE, 1, 3], [ErrorCode.NONE, 2, 2]]);

    const large = f.rm.appendRecordsFast({ entries: [{ topic: 't', partition: 1, records: records(['l'.repeat(900_000)]) }], requiredAcks: 1, timeoutMs: 1000 });
    assert.ok(Array.isArray(large), 'a large write is made in place too');
    assert.deepEqual(offsets(large), [[ErrorCode.NONE, 2, 2]]);

    kernelAboutToPauseWriters = true;
    const pooled = f.rm.appendRecordsFast({ entries: [{ topic: 't', partition: 1, records: records(['p']) }], requiredAcks: 1, timeoutMs: 1000 });
    assert.ok(pooled instanceof Promise, 'near the dirty page limit a write leaves the event loop');
    assert.deepEqual(offsets(await pooled), [[ErrorCode.NONE, 3, 3]]);
    kernelAboutToPauseWriters = false;

    const acksAll = f.rm.appendRecordsFast({ entries: [{ topic: 't', partition: 0, records: records(['h']) }], requiredAcks: -1, timeoutMs: 1000 });
    assert.ok(acksAll instanceof Promise, 'acks=all waits in the purgatory');
    assert.deepEqual(offsets(await acksAll), [[ErrorCode.NONE, 3, 3]]);

    const read = await f.rm.fetchMessages({ replicaId: -1, maxWaitMs: 0, minBytes: 1, maxBytes: 1 << 20, isolationLevel: 0 },
      [{ topic: 't', partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20, currentLeaderEpoch: -1 }]);
    assert.deepEqual(values(await decodeAll(read[0]!.records)), ['a', 'b', 'g', 'h']);
  } finally {
    await f.close();
  }
});

test('a write behind an append still under way waits its turn, and refused records are answered within the call', async () => {
  const f = await fixture();
  try {
    await lead(f.rm, 't', 0);
    await f.rm.appendRecords({ entries: [{ topic: 't', partition: 0, records: records(['w']) }], requiredAcks: 1, timeoutMs: 1000 });
    const slow = f.rm.appendRecords({ entries: [{ topic: 't', partition: 0, records: records(['x', 'y'], { compression: Compression.gzip }) }], requiredAcks: 1, timeoutMs: 1000 });
    const behind = f.rm.appendRecordsFast({ entries: [{ topic: 't', partition: 0, records: records(['z']) }], requiredAcks: 1, timeoutMs: 1000 });
    assert.ok(behind instanceof Promise, 'the partition has an append under way');
    assert.deepEqual([offsets(await slow), offsets(await behind)], [[[ErrorCode.NONE, 1, 2]], [[ErrorCode.NONE, 3, 3]]]);

    const damaged = records(['bad']);
    damaged[damaged.length - 1] ^= 0xff;
    const refused = f.rm.appendRecordsFast({ entries: [{ topic: 't', partition: 0, records: damaged }], requiredAcks: 1, timeoutMs: 1000 });
    assert.ok(Array.isArray(refused));
    assert.equal(refused[0]!.errorCode, ErrorCode.CORRUPT_MESSAGE);

    const unknown = f.rm.appendRecordsFast({ entries: [{ topic: 'nope', partition: 0, records: records(['q']) }], requiredAcks: 1, timeoutMs: 1000 });
    assert.equal((await unknown)[0]!.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  } finally {
    await f.close();
  }
});
