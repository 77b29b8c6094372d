import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProduceApi } from '../../../src/protocol/generated/apis.js';
import type { ProduceRequest } from '../../../src/protocol/generated/messages/produce.js';
import { ErrorCode } from '../../../src/protocol/errors.js';
import { buildLegacyMessageSet } from '../../../src/protocol/records/legacy.js';
import { buildBatchSync } from '../../../src/protocol/records/builder.js';
import { logConfig } from '../../../src/storage/log-config.js';
import { produceHandler } from '../../../src/broker/handlers/produce.js';
import { dataPathFixture, decodeAll, records, roundTrip, values } from '../../replication/helpers.js';

const req = (topicData: ProduceRequest['topicData'], over: Partial<ProduceRequest> = {}): ProduceRequest =>
  ({ transactionalId: null, acks: -1, timeoutMs: 5000, topicData, ...over });

/** Records in the format each Produce version carries: magic 0 (v0–1), magic 1 (v2), RecordBatch v2 (v3+). */
function recordsFor(version: number, value: string): Buffer {
  if (version <= 1) return buildLegacyMessageSet([{ value }], { magic: 0 });
  if (version === 2) return buildLegacyMessageSet([{ value, timestamp: Date.now() }], { magic: 1 });
  return records([value]);
}

test('every version appends and answers with its fields', async () => {
  const f = await dataPathFixture();
  try {
    await f.topic('t', 1, { log: logConfig({ messageTimestampType: 'LogAppendTime' }) });
    const handler = produceHandler(f.deps);
    for (let v = 0; v <= 11; v++) {
      const res = await roundTrip(ProduceApi, handler, v, req([{ name: 't', partitionData: [{ index: 0, records: recordsFor(v, `v${v}`) }] }]));
      const p = res!.responses[0]!.partitionResponses[0]!;
      assert.equal(res!.responses[0]!.name, 't');
      assert.equal(p.errorCode, ErrorCode.NONE, `v${v}`);
      assert.equal(p.baseOffset, BigInt(v), `v${v}`);
      if (v >= 2) assert.ok(p.logAppendTimeMs > 0n, `v${v} reports the LogAppendTime`);
      else assert.equal(p.logAppendTimeMs, -1n);
      assert.equal(p.logStartOffset, v >= 5 ? 0n : -1n);
    }
    const [fetched] = await f.rm.fetchMessages({ replicaId: -1, maxWaitMs: 0, minBytes: 1, maxBytes: 1 << 20, isolationLevel: 0 },
      [{ topic: 't', partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20, currentLeaderEpoch: -1 }]);
    assert.deepEqual(values(await decodeAll(fetched!.records)), Array.from({ length: 12 }, (_, v) => `v${v}`));
  } finally {
    await f.close();
  }
});

test('unknown topics and partitions, internal topics and bad acks get per-partition errors', async () => {
  const f = await dataPathFixture();
  try {
    await f.topic('t', 2);
    await f.topic('__consumer_offsets', 1);
    const handler = produceHandler(f.deps);
    const res = await roundTrip(ProduceApi, handler, 9, req([
      { name: 't', partitionData: [{ index: 0, records: records(['a']) }, { index: 7, records: records(['b']) }] },
      { name: 'missing', partitionData: [{ index: 0, records: records(['c']) }] },
      { name: '__consumer_offsets', partitionData: [{ index: 0, records: records(['d']) }] },
    ]));
    assert.deepEqual(res!.responses.map((t) => [t.name, t.partitionResponses.map((p) => [p.index, p.errorCode])]), [
      ['t', [[0, ErrorCode.NONE], [7, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]]],
      ['missing', [[0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]]],
      ['__consumer_offsets', [[0, ErrorCode.INVALID_TOPIC_EXCEPTION]]],
    ]);
    const admin = await roundTrip(ProduceApi, handler, 9, req([{ name: '__consumer_offsets', partitionData: [{ index: 0, records: records(['d']) }] }]),
      { clientId: '__admin_client' });
    assert.equal(admin!.responses[0]!.partitionResponses[0]!.errorCode, ErrorCode.NONE);
    const acks = await roundTrip(ProduceApi, handler, 9, req([
      { name: 't', partitionData: [{ index: 1, records: records(['x']) }] },
      { name: 'missing', partitionData: [{ index: 0, records: records(['y']) }] },
    ], { acks: 3 }));
    assert.deepEqual(acks!.responses.map((t) => t.partitionResponses[0]!.errorCode), [ErrorCode.INVALID_REQUIRED_ACKS, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]);
  } finally {
    await f.close();
  }
});

test('acks=0 gets no response, and a failure closes the connection instead', async () => {
  const f = await dataPathFixture();
  try {
    await f.topic('t');
    const handler = produceHandler(f.deps);
    const none = await roundTrip(ProduceApi, handler, 9, req([{ name: 't', partitionData: [{ index: 0, records: records(['a']) }] }], { acks: 0 }));
    assert.equal(none, null);
    assert.equal(f.rm.getPartition('t', 0)!.log.logEndOffset, 1);
    await assert.rejects(roundTrip(ProduceApi, handler, 9, req([{ name: 'nope', partitionData: [{ index: 0, records: records(['a']) }] }], { acks: 0 })));
  } finally {
    await f.close();
  }
});

test('invalid records carry record errors and a message from v8; transactional batches need a transactional id', async () => {
  const f = await dataPathFixture();
  try {
    await f.topic('c', 1, { log: logConfig({ cleanupPolicy: 'compact' }) });
    await f.topic('t');
    const handler = produceHandler(f.deps);
    const keyless = buildBatchSync([{ key: 'k', value: 'v' }, { key: null, value: 'v' }]);
    for (const v of [7, 8, 11]) {
      const res = await roundTrip(ProduceApi, handler, v, req([{ name: 'c', partitionData: [{ index: 0, records: Buffer.from(keyless) }] }]));
      const p = res!.responses[0]!.partitionResponses[0]!;
      assert.equal(p.errorCode, ErrorCode.INVALID_RECORD);
      if (v >= 8) {
        assert.deepEqual(p.recordErrors.map((e) => e.batchIndex), [1]);
        assert.ok(p.errorMessage !== null && p.errorMessage.length > 0);
      } else {
        assert.deepEqual(p.recordErrors, []);
      }
    }
    const txn = records(['x'], { producerId: 5, producerEpoch: 0, baseSequence: 0, transactional: true });
    const refused = await roundTrip(ProduceApi, handler, 9, req([{ name: 't', partitionData: [{ index: 0, records: Buffer.from(txn) }] }]));
    assert.equal(refused!.responses[0]!.partitionResponses[0]!.errorCode, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    const accepted = await roundTrip(ProduceApi, handler, 9, req([{ name: 't', partitionData: [{ index: 0, records: Buffer.from(txn) }] }], { transactionalId: 'tx' }));
    assert.equal(accepted!.responses[0]!.partitionResponses[0]!.errorCode, ErrorCode.NONE);
  } finally {
    await f.close();
  }
});

test('NOT_LEADER_OR_FOLLOWER carries the current leader (v10+)', async () => {
  const f = await dataPathFixture();
  try {
    await f.topic('t');
    f.rm.getPartition('t', 0)!.makeFollower(2, 4);
    const handler = produceHandler(f.deps);
    for (const v of [3, 9, 10, 11]) {
      const res = await roundTrip(ProduceApi, handler, v, req([{ name: 't', partitionData: [{ index: 0, records: records(['a']) }] }]));
      const p = res!.responses[0]!.partitionResponses[0]!;
      assert.equal(p.errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER);
      assert.deepEqual([p.currentLeader.leaderId, p.currentLeader.leaderEpoch], v >= 10 ? [2, 4] : [-1, -1], `v${v}`);
    }
  } finally {
    await f.close();
  }
});
