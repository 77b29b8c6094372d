import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DescribeProducersApi } from '../../../src/protocol/generated/apis.js';
import { ErrorCode } from '../../../src/protocol/errors.js';
import { describeProducersHandler } from '../../../src/broker/handlers/describe-producers.js';
import { dataPathFixture, records, roundTrip } from '../../replication/helpers.js';

test('active producers per partition, with the open transaction start', async () => {
  const f = await dataPathFixture();
  try {
    await f.topic('t', 2);
    await f.rm.appendRecords({ entries: [{ topic: 't', partition: 0, records: records(['a'], { producerId: 10, producerEpoch: 2, baseSequence: 0 }) }], requiredAcks: 1, timeoutMs: 1000 });
    await f.rm.appendRecords({ entries: [{ topic: 't', partition: 0, records: records(['b', 'c'], { producerId: 11, producerEpoch: 0, baseSequence: 0, transactional: true }) }], requiredAcks: 1, timeoutMs: 1000 });
    const res = await roundTrip(DescribeProducersApi, describeProducersHandler(f.deps), 0, {
      topics: [{ name: 't', partitionIndexes: [0, 1, 9] }, { name: 'nope', partitionIndexes: [0] }],
    });
    const [t, nope] = res!.topics;
    const p0 = t!.partitions[0]!;
    assert.equal(p0.errorCode, ErrorCode.NONE);
    assert.deepEqual(
      p0.activeProducers.map((p) => [p.producerId, p.producerEpoch, p.lastSequence, p.currentTxnStartOffset]).sort((a, b) => Number(a[0]) - Number(b[0])),
      [[10n, 2, 0, -1n], [11n, 0, 1, 1n]],
    );
    assert.ok(p0.activeProducers.every((p) => p.lastTimestamp > 0n));
    assert.deepEqual(t!.partitions.slice(1).map((p) => [p.partitionIndex, p.errorCode, p.activeProducers.length]), [
      [1, ErrorCode.NONE, 0],
      [9, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 0],
    ]);
    assert.equal(nope!.partitions[0]!.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  } finally {
    await f.close();
  }
});
