// Produce requests are assembled in pooled memory and fetch reads are pooled too (protocol/buffer-pool.ts):
// memory is reused as soon as nobody holds it. A mistake there would not crash anything; it would serve
// one request's bytes in place of another's. So: many large produce requests pipelined from several
// producers while a consumer reads at the tail, more data than the tail cache holds, and every record read
// back, during production and afterwards from the files, must be the one produced.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { parseBrokerConfig } from '../../src/config/broker-config.js';
import { StrataNode } from '../../src/server/node.js';
import { sharedBufferPool } from '../../src/protocol/buffer-pool.js';

const TOPIC = 'pooled';
const PARTITIONS = 3;
const PRODUCERS = 3;
const SENDS_PER_PRODUCER = 50;
const RECORDS_PER_SEND = 200;
const VALUE_BYTES = 1500;
const TOTAL = PRODUCERS * SENDS_PER_PRODUCER * RECORDS_PER_SEND;

const digest = (b: Buffer): string => createHash('sha1').update(b).digest('hex');

/** Reads `count` records with a fresh group, recording each key's value digest. */
async function consumeAll(kafka: Kafka, groupId: string, count: number, fromBeginning: boolean, started?: () => void): Promise<Map<string, string>> {
  const seen = new Map<string, string>();
  const consumer: Consumer = kafka.consumer({ groupId, maxBytesPerPartition: 1024 * 1024, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic: TOPIC, fromBeginning });
  await new Promise<void>((resolve, reject) => {
    // Corrupt bytes show as records a client cannot decode: fail with what was seen rather than wait on.
    const deadline = setTimeout(() => reject(new Error(`${groupId} saw ${seen.size} of ${count} records within 60 s`)), 60_000);
    const done = (): void => {
      clearTimeout(deadline);
      resolve();
    };
    consumer
      .run({
        eachBatch: async ({ batch }) => {
          for (const m of batch.messages) seen.set(m.key!.toString(), digest(m.value!));
          if (seen.size >= count) done();
        },
      })
      .then(() => started?.(), reject);
  });
  await consumer.disconnect();
  return seen;
}

test('pooled request and fetch memory never serves one request\'s bytes for another', { timeout: 180_000 }, async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'strata-pooled-'));
  const config = parseBrokerConfig({ 'node.id': '1', 'log.dirs': dir, listeners: 'PLAINTEXT://127.0.0.1:0', 'group.initial.rebalance.delay.ms': '0' });
  const node = await StrataNode.start({ config, log: pino({ level: 'silent' }) });
  try {
    const kafka = new Kafka({ clientId: 'pooled', brokers: [`127.0.0.1:${node.boundPort('PLAINTEXT')}`], logLevel: logLevel.NOTHING, retry: { retries: 5 } });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: PARTITIONS }] });
    await admin.disconnect();

    const produced = new Map<string, string>();
    const reusesBefore = sharedBufferPool.stats.reuses;
    sharedBufferPool.poisonOnRelease = true;
    // The tail reader starts first, so it reads while the producers write.
    let tailReady!: () => void;
    const tailStarted = new Promise<void>((resolve) => (tailReady = resolve));
    const tail = consumeAll(kafka, 'tail', TOTAL, true, tailReady);
    await Promise.race([tailStarted, new Promise((r) => setTimeout(r, 3000))]);

    await Promise.all(Array.from({ length: PRODUCERS }, async (_, p) => {
      const producer = kafka.producer({ maxInFlightRequests: 5 });
      await producer.connect();
      const sends: Promise<unknown>[] = [];
      for (let s = 0; s < SENDS_PER_PRODUCER; s++) {
        const messages = Array.from({ length: RECORDS_PER_SEND }, (_, r) => {
          const key = `${p}-${s}-${r}`;
          const value = randomBytes(VALUE_BYTES);
          produced.set(key, digest(value));
          return { key, value, partition: (p + s) % PARTITIONS };
        });
        // One request of ~300 KiB each, several in flight on the connection: multi-chunk frames, pooled.
        sends.push(producer.send({ topic: TOPIC, acks: 1, messages }));
      }
      await Promise.all(sends);
      await producer.disconnect();
    }));
    assert.ok(sharedBufferPool.stats.reuses > reusesBefore, 'pooled memory was reused during the run');

    const atTail = await tail;
    const fromFiles = await consumeAll(kafka, 'replay', TOTAL, true);
    for (const [name, got] of [['tail reader', atTail], ['replay from the start', fromFiles]] as const) {
      assert.equal(got.size, TOTAL, `${name} saw every record`);
      let wrong = 0;
      for (const [key, d] of produced) if (got.get(key) !== d) wrong++;
      assert.equal(wrong, 0, `${name}: every record's value is the one produced`);
    }
  } finally {
    sharedBufferPool.poisonOnRelease = false;
    await node.stop(5000);
    await fs.rm(dir, { recursive: true, force: true });
  }
});
