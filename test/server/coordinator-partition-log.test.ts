import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoordinatorPartitionLog } from '../../src/server/coordinator-partition-log.js';
import { DataPath, partitionConfigFor } from '../../src/server/data-path.js';
import type { CoordinatorRecord } from '../../src/coordinator/runtime.js';

const rec = (k: string, v: string | null): CoordinatorRecord => ({ key: Buffer.from(k), value: v === null ? null : Buffer.from(v) });

async function withPartition(fn: (dp: DataPath) => Promise<void>, dir?: string): Promise<void> {
  const d = dir ?? (await mkdtemp(join(tmpdir(), 'strata-coord-log-')));
  const dp = await DataPath.start({ nodeId: 1, logDirs: [d], scheduleTimers: false });
  try {
    // A fixed topic id, so the partition reopens after a restart.
    await dp.replicaManager.ensureLeaderPartition({ topic: '__consumer_offsets', topicId: '6e0b5c6a-2f43-4c1e-9d59-3a4f8c0d2b11', partition: 0, leaderEpoch: 0,
      config: partitionConfigFor({ 'cleanup.policy': 'compact', 'durable.append': 'true' }) });
    await fn(dp);
  } finally {
    await dp.shutdown();
    if (dir === undefined) await rm(d, { recursive: true, force: true });
  }
}

test('pipelined writes land in call order, each resolving with its last offset; replay reads them back after a restart', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'strata-coord-log-'));
  try {
    const writes = Array.from({ length: 200 }, (_, i) => Array.from({ length: 1 + (i % 3) }, (_, j) => rec(`k${i}-${j}`, j === 2 ? null : `v${i}`)));
    await withPartition(async (dp) => {
      const log = new CoordinatorPartitionLog({ replicaManager: dp.replicaManager, topic: '__consumer_offsets', partition: 0 });
      // Issued without waiting, as the runtime does; an empty write resolves with the offset before it.
      const results = await Promise.all([...writes.map((w) => log.append(w)), log.append([])]);
      let expected = -1;
      writes.forEach((w, i) => {
        expected += w.length;
        assert.equal(results[i], expected, `write ${i}`);
      });
      assert.equal(results.at(-1), expected);
      assert.equal(dp.replicaManager.getPartition('__consumer_offsets', 0)!.log.highWatermark, expected + 1);
    }, dir);
    await withPartition(async (dp) => {
      const log = new CoordinatorPartitionLog({ replicaManager: dp.replicaManager, topic: '__consumer_offsets', partition: 0, readBytes: 1024 });
      const replayed: string[] = [];
      for await (const r of log.replay()) replayed.push(`${r.key.toString()}=${r.value?.toString() ?? 'null'}`);
      assert.deepEqual(replayed, writes.flat().map((r) => `${r.key.toString()}=${r.value?.toString() ?? 'null'}`));
      // After a replay, appends continue after what was there.
      const next = await log.append([rec('after', 'x')]);
      assert.equal(next, replayed.length);
    }, dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a write to a partition this node does not host fails with NOT_COORDINATOR-class errors, and replay refuses', async () => {
  await withPartition(async (dp) => {
    const log = new CoordinatorPartitionLog({ replicaManager: dp.replicaManager, topic: '__consumer_offsets', partition: 7 });
    await assert.rejects(log.append([rec('a', 'b')]), (e: { errorCode?: number }) => typeof e.errorCode === 'number' && e.errorCode !== 0);
    await assert.rejects(async () => {
      for await (const r of log.replay()) void r;
    }, (e: { errorCode?: number }) => e.errorCode === 16);
  });
});
