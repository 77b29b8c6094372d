// Clients pipeline produce requests on one connection (librdkafka up to max.in.flight, kafka-python 5) and
// rely on Kafka appending them in the order sent: a non-idempotent producer's records would otherwise be
// reordered, an idempotent one's refused as out of sequence. A slow request (a large gzip batch that takes
// a while to decompress and validate) followed at once by quick ones must still be appended first.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ProduceApi } from '../../src/protocol/generated/apis.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { buildBatch, Compression } from '../../src/protocol/records/index.js';
import { startStrata, type StrataProcess } from '../integration/helpers/strata-process.js';
import { WireClient, decodeResponse, encodeRequest } from '../integration/helpers/wire.js';
import { createTopics } from './helpers/compat.js';

let strata: StrataProcess;

before(async () => {
  strata = await startStrata();
  await createTopics(strata.port, [{ name: 'pipelined', numPartitions: 1, replicationFactor: 1 }]);
});

after(async () => {
  await strata.stop();
  await strata.cleanup();
});

const produceRequest = (correlationId: number, records: Buffer): Buffer =>
  encodeRequest(ProduceApi, 9, correlationId, { transactionalId: null, acks: 1, timeoutMs: 10_000, topicData: [{ name: 'pipelined', partitionData: [{ index: 0, records }] }] });

test('pipelined produce requests on one connection are appended in the order sent', async () => {
  const conn = await WireClient.connect(strata.port);
  try {
    for (let round = 0; round < 5; round++) {
      // ~8 MB of records that gzip to well under message.max.bytes: decompressing them is slow work.
      const slow = await buildBatch(
        Array.from({ length: 2000 }, (_, i) => ({ key: `slow-${round}-${i}`, value: `${'s'.repeat(4000)}${i}` })),
        { compression: Compression.gzip, timestamp: Date.now() },
      );
      const quick = await Promise.all(Array.from({ length: 3 }, (_, j) => buildBatch([{ key: `quick-${round}-${j}`, value: 'q' }], { timestamp: Date.now() })));
      const base = round * 10;
      conn.send(produceRequest(base, slow));
      quick.forEach((b, j) => conn.send(produceRequest(base + 1 + j, b)));
      const offsets: number[] = [];
      for (let k = 0; k < 4; k++) {
        const res = decodeResponse(ProduceApi, 9, await conn.next());
        assert.equal(res.correlationId, base + k, 'responses come back in request order');
        const p = res.body.responses[0]!.partitionResponses[0]!;
        assert.equal(p.errorCode, ErrorCode.NONE);
        offsets.push(Number(p.baseOffset));
      }
      const sorted = [...offsets].sort((a, b) => a - b);
      assert.deepEqual(offsets, sorted, `round ${round}: base offsets ${offsets.join(', ')} follow the order the requests were sent`);
    }
  } finally {
    conn.close();
  }
});
