import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ListOffsetsApi } from '../../../src/protocol/generated/apis.js';
import type { ListOffsetsRequest } from '../../../src/protocol/generated/messages/list-offsets.js';
import { ErrorCode } from '../../../src/protocol/errors.js';
import { listOffsetsHandler } from '../../../src/broker/handlers/list-offsets.js';
import { dataPathFixture, records, roundTrip } from '../../replication/helpers.js';

const req = (partitions: { index: number; timestamp: number; epoch?: number; max?: number }[], over: Partial<ListOffsetsRequest> = {}, name = 't'): ListOffsetsRequest => ({
  replicaId: -1,
  isolationLevel: 0,
  topics: [{ name, partitions: partitions.map((p) => ({ partitionIndex: p.index, currentLeaderEpoch: p.epoch ?? -1, timestamp: BigInt(p.timestamp), maxNumOffsets: p.max ?? 1 })) }],
  ...over,
});

test('v1+ answer earliest, latest, by timestamp and max timestamp with epochs from v4', async () => {
  const f = await dataPathFixture();
  try {
    await f.topic('t');
    for (const [v, ts] of [['a', 1000], ['b', 3000], ['c', 2000]] as const) {
      await f.rm.appendRecords({ entries: [{ topic: 't', partition: 0, records: records([v], { timestamp: ts }) }], requiredAcks: 1, timeoutMs: 1000 });
    }
    const handler = listOffsetsHandler(f.deps);
    for (let v = 1; v <= 9; v++) {
      const asks = [{ index: 0, timestamp: -2 }, { index: 0, timestamp: -1 }, { index: 0, timestamp: 1500 }, { index: 0, timestamp: 9999 }];
      const answers = [];
      for (const a of asks) {
        const res = await roundTrip(ListOffsetsApi, handler, v, req([a]));
        const p = res!.topics[0]!.partitions[0]!;
        answers.push([p.errorCode, p.offset, p.timestamp, p.leaderEpoch]);
      }
      const epoch = v >= 4 ? 0 : -1;
      assert.deepEqual(answers, [[0, 0n, -1n, epoch], [0, 3n, -1n, epoch], [0, 1n, 3000n, epoch], [0, -1n, -1n, -1]], `v${v}`);
    }
    const max = await roundTrip(ListOffsetsApi, handler, 7, req([{ index: 0, timestamp: -3 }]));
    assert.deepEqual([max!.topics[0]!.partitions[0]!.offset, max!.topics[0]!.partitions[0]!.timestamp], [1n, 3000n]);
  } finally {
    await f.close();
  }
});

test('v0 answers old-style offset lists', async () => {
  const f = await dataPathFixture();
  try {
    await f.topic('t');
    await f.rm.appendRecords({ entries: [{ topic: 't', partition: 0, records: records(['a', 'b']) }], requiredAcks: 1, timeoutMs: 1000 });
    const handler = listOffsetsHandler(f.deps);
    const latest = await roundTrip(ListOffsetsApi, handler, 0, req([{ index: 0, timestamp: -1, max: 10 }]));
    assert.deepEqual(latest!.topics[0]!.partitions[0]!.oldStyleOffsets, [2n, 0n]);
    const earliest = await roundTrip(ListOffsetsApi, handler, 0, req([{ index: 0, timestamp: -2, max: 10 }]));
    assert.deepEqual(earliest!.topics[0]!.partitions[0]!.oldStyleOffsets, [0n]);
  } finally {
    await f.close();
  }
});

test('errors: unknown partitions, duplicates, fenced epochs; read_committed latest is the LSO', async () => {
  const f = await dataPathFixture();
  try {
    await f.topic('t');
    await f.rm.appendRecords({ entries: [{ topic: 't', partition: 0, records: records(['a']) }], requiredAcks: 1, timeoutMs: 1000 });
    await f.rm.appendRecords({ entries: [{ topic: 't', partition: 0, records: records(['t'], { producerId: 1, producerEpoch: 0, baseSequence: 0, transactional: true }) }], requiredAcks: 1, timeoutMs: 1000 });
    const handler = listOffsetsHandler(f.deps);
    const unknown = await roundTrip(ListOffsetsApi, handler, 5, req([{ index: 0, timestamp: -1 }], {}, 'nope'));
    assert.equal(unknown!.topics[0]!.partitions[0]!.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    const dup = await roundTrip(ListOffsetsApi, handler, 5, req([{ index: 0, timestamp: -1 }, { index: 0, timestamp: -2 }]));
    assert.deepEqual(dup!.topics[0]!.partitions.map((p) => p.errorCode), [ErrorCode.INVALID_REQUEST, ErrorCode.INVALID_REQUEST]);
    const fenced = await roundTrip(ListOffsetsApi, handler, 4, req([{ index: 0, timestamp: -1, epoch: 3 }]));
    assert.equal(fenced!.topics[0]!.partitions[0]!.errorCode, ErrorCode.UNKNOWN_LEADER_EPOCH);
    const committed = await roundTrip(ListOffsetsApi, handler, 2, req([{ index: 0, timestamp: -1 }], { isolationLevel: 1 }));
    assert.equal(committed!.topics[0]!.partitions[0]!.offset, 1n);
    const uncommitted = await roundTrip(ListOffsetsApi, handler, 2, req([{ index: 0, timestamp: -1 }]));
    assert.equal(uncommitted!.topics[0]!.partitions[0]!.offset, 2n);
  } finally {
    await f.close();
  }
});
