// The metadata publisher turns topic creation and deletion in the metadata log into partition logs on
// disk: created through CreateTopics, removed from disk through DeleteTopics.
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

const exists = (p: string): Promise<boolean> => fs.access(p).then(() => true, () => false);

test('partitions of a created topic appear on disk and are removed when the topic is deleted', { timeout: 60_000 }, async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'strata-publisher-'));
  const node = await StrataNode.start({
    config: parseBrokerConfig({ 'node.id': '1', 'log.dirs': dir, listeners: 'PLAINTEXT://127.0.0.1:0' }),
    log: pino({ level: 'silent' }),
  });
  const client = new KafkaClient({ bootstrapServers: `127.0.0.1:${node.boundPort('PLAINTEXT')}` });
  try {
    const [created] = await client.createTopics([{ name: 'doomed', numPartitions: 2 }]);
    assert.equal(created?.error, null);
    await client.produce('doomed', [{ value: 'x', partition: 1 }]);
    assert.ok(await exists(path.join(dir, 'doomed-0')));
    assert.ok(await exists(path.join(dir, 'doomed-1')));
    const [deleted] = await client.deleteTopics(['doomed']);
    assert.equal(deleted?.error, null);
    for (let i = 0; i < 50 && ((await exists(path.join(dir, 'doomed-0'))) || (await exists(path.join(dir, 'doomed-1')))); i++) await sleep(100);
    assert.equal(await exists(path.join(dir, 'doomed-0')), false);
    assert.equal(await exists(path.join(dir, 'doomed-1')), false);
  } finally {
    await client.close();
    await node.stop(5000);
    await fs.rm(dir, { recursive: true, force: true });
  }
});
