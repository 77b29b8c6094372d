import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OffsetForLeaderEpochApi } from '../../../src/protocol/generated/apis.js';
import { ErrorCode } from '../../../src/protocol/errors.js';
import { partitionConfig } from '../../../src/replication/partition-config.js';
import { offsetForLeaderEpochHandler } from '../../../src/broker/handlers/offset-for-leader-epoch.js';
import { dataPathFixture, records, roundTrip } from '../../replication/helpers.js';

test('every version answers end offsets of epochs from the epoch cache', async () => {
  const f = await dataPathFixture();
  try {
    const id = await f.topic('t');
    await f.rm.appendRecords({ entries: [{ topic: 't', partition: 0, records: records(['a', 'b']) }], requiredAcks: 1, timeoutMs: 1000 });
    await f.rm.ensureLeaderPartition({ topic: 't', topicId: id, partition: 0, leaderEpoch: 3, config: partitionConfig() });
    await f.rm.appendRecords({ entries: [{ topic: 't', partition: 0, records: records(['c']) }], requiredAcks: 1, timeoutMs: 1000 });
    const handler = offsetForLeaderEpochHandler(f.deps);
    for (let v = 0; v <= 4; v++) {
      const res = await roundTrip(OffsetForLeaderEpochApi, handler, v, {
        replicaId: -1,
        topics: [
          { topic: 't', partitions: [{ partition: 0, currentLeaderEpoch: -1, leaderEpoch: 1 }, { partition: 0, currentLeaderEpoch: -1, leaderEpoch: 3 }] },
          { topic: 'nope', partitions: [{ partition: 0, currentLeaderEpoch: -1, leaderEpoch: 0 }] },
        ],
      });
      const got = res!.topics.flatMap((t) => t.partitions.map((p) => [p.errorCode, p.leaderEpoch, p.endOffset]));
      const e = (epoch: number) => (v >= 1 ? epoch : -1);
      assert.deepEqual(got, [[0, e(0), 2n], [0, e(3), 3n], [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, e(-1), -1n]], `v${v}`);
    }
    const fenced = await roundTrip(OffsetForLeaderEpochApi, handler, 3, {
      replicaId: -1, topics: [{ topic: 't', partitions: [{ partition: 0, currentLeaderEpoch: 2, leaderEpoch: 0 }] }],
    });
    assert.equal(fenced!.topics[0]!.partitions[0]!.errorCode, ErrorCode.FENCED_LEADER_EPOCH);
  } finally {
    await f.close();
  }
});
