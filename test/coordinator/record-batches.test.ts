import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { coordinatorBatch, coordinatorRecordsOf } from '../../src/coordinator/record-batches.js';
import { offsetCommitRecord, groupTombstone, decodeGroupRecord } from '../../src/coordinator/group/records.js';
import type { CoordinatorRecord } from '../../src/coordinator/runtime.js';
import { Compression, readBatchHeader } from '../../src/protocol/records/batch-header.js';
import { validateBatches } from '../../src/protocol/records/batches.js';
import { buildBatchSync, buildControlBatch } from '../../src/protocol/records/builder.js';

async function collect(buf: Buffer): Promise<CoordinatorRecord[]> {
  const out: CoordinatorRecord[] = [];
  for await (const r of coordinatorRecordsOf(buf)) out.push(r);
  return out;
}

describe('coordinator record batches', () => {
  it('writes one valid v2 batch per write and reads the records back, tombstones included', async () => {
    const records = [
      offsetCommitRecord('g', 't', 0, { offset: 1, leaderEpoch: -1, metadata: '', commitTimestamp: 5, expireTimestamp: undefined }),
      groupTombstone('g'),
    ];
    for (const compression of [Compression.none, Compression.gzip, Compression.zstd]) {
      const batch = await coordinatorBatch(records, { timestamp: 1234, compression });
      const v = validateBatches(batch, { source: 'internal' });
      assert.equal(v.status, 'ok');
      const h = readBatchHeader(batch, 0);
      assert.equal(h.recordCount, 2);
      assert.equal(h.producerId, -1);
      assert.equal(h.maxTimestamp, 1234);
      const back = await collect(batch);
      assert.deepEqual(back.map((r) => decodeGroupRecord(r)), records.map((r) => decodeGroupRecord(r)));
      assert.equal(back[1]!.value, null);
    }
  });

  it('skips transaction markers and transactional batches', async () => {
    const plain = await coordinatorBatch([groupTombstone('a')], { timestamp: 1 });
    const txn = buildBatchSync([{ key: groupTombstone('b').key, value: null }], { transactional: true, producerId: 7, producerEpoch: 0, baseSequence: 0, timestamp: 1 });
    const marker = buildControlBatch({ type: 'commit', producerId: 7, producerEpoch: 0, coordinatorEpoch: 0, timestamp: 1 });
    const log = Buffer.concat([plain, txn, marker]);
    const back = await collect(log);
    assert.deepEqual(back.map((r) => decodeGroupRecord(r)), [{ kind: 'group', group: 'a', value: null }]);
  });
});
