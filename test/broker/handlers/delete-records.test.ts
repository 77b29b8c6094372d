import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeleteRecordsApi } from '../../../src/protocol/generated/apis.js';
import { ErrorCode } from '../../../src/protocol/errors.js';
import { logConfig } from '../../../src/storage/log-config.js';
import { deleteRecordsHandler } from '../../../src/broker/handlers/delete-records.js';
import { dataPathFixture, records, roundTrip } from '../../replication/helpers.js';

test('every version moves the low watermark; errors per partition', async () => {
  const f = await dataPathFixture();
  try {
    await f.topic('t');
    await f.topic('c', 1, { log: logConfig({ cleanupPolicy: 'compact' }) });
    await f.rm.appendRecords({ entries: [{ topic: 't', partition: 0, records: records(['a', 'b', 'c', 'd', 'e']) }], requiredAcks: 1, timeoutMs: 1000 });
    const handler = deleteRecordsHandler(f.deps);
    for (let v = 0; v <= 2; v++) {
      const res = await roundTrip(DeleteRecordsApi, handler, v, {
        timeoutMs: 1000,
        topics: [
          { name: 't', partitions: [{ partitionIndex: 0, offset: BigInt(v + 1) }, { partitionIndex: 1, offset: 0n }] },
          { name: 'c', partitions: [{ partitionIndex: 0, offset: -1n }] },
        ],
      });
      assert.deepEqual(res!.topics.map((t) => t.partitions.map((p) => [p.partitionIndex, p.errorCode, p.lowWatermark])), [
        [[0, ErrorCode.NONE, BigInt(v + 1)], [1, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, -1n]],
        [[0, ErrorCode.POLICY_VIOLATION, -1n]],
      ], `v${v}`);
    }
    const beyond = await roundTrip(DeleteRecordsApi, handler, 2, { timeoutMs: 1000, topics: [{ name: 't', partitions: [{ partitionIndex: 0, offset: 99n }] }] });
    assert.equal(beyond!.topics[0]!.partitions[0]!.errorCode, ErrorCode.OFFSET_OUT_OF_RANGE);
    const toHw = await roundTrip(DeleteRecordsApi, handler, 2, { timeoutMs: 1000, topics: [{ name: 't', partitions: [{ partitionIndex: 0, offset: -1n }] }] });
    assert.equal(toHw!.topics[0]!.partitions[0]!.lowWatermark, 5n);
  } finally {
    await f.close();
  }
});
