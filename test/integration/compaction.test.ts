// Compaction through the whole node: a topic created with cleanup.policy=compact over the admin API is
// cleaned by the broker's background cleaner, and a consumer reading from the start then sees each key's
// latest value at its original offset.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { parseBrokerConfig } from '../../src/config/broker-config.js';
import { StrataNode } from '../../src/server/node.js';
import { KafkaClient } from '../../src/client/kafka-client.js';

/** Every record from offset 0 to the end; a fetch returns one segment's data at most, so it takes several. */
async function readAll(client: KafkaClient): Promise<{ key: string; value: string; offset: number }[]> {
  const out: { key: string; value: string; offset: number }[] = [];
  let offset = 0;
  for (;;) {
    const [r] = await client.fetch([{ topic: 'compacted', partition: 0, offset }]);
    if (r!.records.length === 0) return out;
    for (const x of r!.records) out.push({ key: x.key!.toString(), value: x.value!.toString(), offset: x.offset });
    offset = out.at(-1)!.offset + 1;
  }
}

test('the broker compacts a cleanup.policy=compact topic in the background', { timeout: 60_000 }, async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'strata-compact-'));
  const node = await StrataNode.start({
    config: parseBrokerConfig({
      'node.id': '1',
      'log.dirs': dir,
      listeners: 'PLAINTEXT://127.0.0.1:0',
      'log.cleaner.backoff.ms': '100',
    }),
    log: pino({ level: 'silent' }),
  });
  const client = new KafkaClient({ bootstrapServers: `127.0.0.1:${node.boundPort('PLAINTEXT')}` });
  try {
    const [created] = await client.createTopics([
      { name: 'compacted', numPartitions: 1, configs: { 'cleanup.policy': 'compact', 'segment.ms': '100', 'min.cleanable.dirty.ratio': '0.01' } },
    ]);
    assert.equal(created?.error, null);
    const latest = new Map<string, { value: string; offset: number }>();
    for (let round = 0; round < 5; round++) {
      const records = Array.from({ length: 10 }, (_, k) => ({ key: `k${k}`, value: `v${round}-${k}`, partition: 0 }));
      const produced = await client.produce('compacted', records);
      produced.records.forEach((r, i) => latest.set(records[i]!.key, { value: records[i]!.value, offset: r.offset }));
    }
    // A later append after segment.ms rolls the segment, so everything above becomes cleanable.
    await sleep(150);
    await client.produce('compacted', [{ key: 'roll', value: 'x', partition: 0 }]);

    let seen: { key: string; value: string; offset: number }[] = [];
    for (let attempt = 0; attempt < 100; attempt++) {
      seen = await readAll(client);
      if (seen.length === latest.size + 1) break;
      await sleep(200);
    }
    assert.equal(seen.length, latest.size + 1, `only the latest record of each key remains: ${JSON.stringify(seen)}`);
    for (const [key, want] of latest) {
      assert.deepEqual(seen.find((s) => s.key === key), { key, value: want.value, offset: want.offset });
    }
  } finally {
    await client.close();
    await node.stop(5000);
    await fs.rm(dir, { recursive: true, force: true });
  }
});
