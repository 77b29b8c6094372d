import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { DescribeLogDirsApi } from '../../../src/protocol/generated/apis.js';
import { describeLogDirsHandler } from '../../../src/broker/handlers/describe-log-dirs.js';
import { dataPathFixture, records, roundTrip } from '../../replication/helpers.js';

test('every version lists the log dir and its partitions; v4 adds disk space', async () => {
  const f = await dataPathFixture();
  try {
    await f.topic('a', 2);
    await f.topic('b');
    await f.rm.appendRecords({ entries: [{ topic: 'a', partition: 1, records: records(['x', 'y']) }], requiredAcks: 1, timeoutMs: 1000 });
    const handler = describeLogDirsHandler(f.deps);
    const size = BigInt(f.rm.getPartition('a', 1)!.log.size);
    for (let v = 0; v <= 4; v++) {
      const res = await roundTrip(DescribeLogDirsApi, handler, v, { topics: null });
      assert.equal(res!.results.length, 1);
      const d = res!.results[0]!;
      assert.equal(d.errorCode, 0);
      assert.equal(d.logDir, path.resolve(f.dir));
      assert.deepEqual(d.topics.map((t) => [t.name, t.partitions.map((p) => [p.partitionIndex, p.partitionSize, p.offsetLag, p.isFutureKey])]), [
        ['a', [[0, 0n, 0n, false], [1, size, 0n, false]]],
        ['b', [[0, 0n, 0n, false]]],
      ], `v${v}`);
      if (v >= 4) assert.ok(d.totalBytes > 0n && d.usableBytes > 0n);
      else assert.deepEqual([d.totalBytes, d.usableBytes], [-1n, -1n]);
    }
    const some = await roundTrip(DescribeLogDirsApi, handler, 2, { topics: [{ topic: 'a', partitions: [1] }, { topic: 'zz', partitions: [0] }] });
    assert.deepEqual(some!.results[0]!.topics.map((t) => [t.name, t.partitions.map((p) => p.partitionIndex)]), [['a', [1]]]);
  } finally {
    await f.close();
  }
});
