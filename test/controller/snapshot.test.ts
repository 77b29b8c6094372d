import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { ErrorCode } from '../../src/protocol/errors.js';
import { METADATA_PARTITION_DIR } from '../../src/raft/log-store.js';
import { summarizeImage } from '../metadata/fixtures.js';
import { openWithBroker, openQuorum, tempDir } from './helpers.js';

describe('metadata snapshots', () => {
  test('the log is snapshotted and cut below the snapshot; a restart rebuilds the same image', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const small = { segmentBytes: 4096, snapshotMaxBytes: 8192 };
      const { q, epoch } = await openWithBroker(dir, small);
      for (let i = 0; i < 60; i++) {
        const [r] = await q.controller.createTopics([{ name: `s-${i}`, numPartitions: 2, replicationFactor: 1 }]);
        assert.equal(r!.errorCode, 0);
        if (i % 10 === 0) await q.controller.allocateProducerIds(1, epoch);
      }
      await q.controller.deleteTopics([{ name: 's-3' }]);
      // Snapshots are written in the background: wait for one that covers most of the work.
      for (let i = 0; i < 500 && (q.raft.latestSnapshot?.endOffset ?? 0) < 100; i++) await new Promise((r) => setTimeout(r, 10));
      const snapshot = q.raft.latestSnapshot;
      assert.ok(snapshot && snapshot.endOffset >= 100, `no snapshot was taken (${JSON.stringify(snapshot)})`);
      const before = summarizeImage(q.loader.image);
      await q.close();

      const files = await fs.readdir(path.join(dir, METADATA_PARTITION_DIR));
      const checkpoints = files.filter((f) => f.endsWith('.checkpoint'));
      assert.equal(checkpoints.length, 1);
      const segments = files.filter((f) => f.endsWith('.log')).sort();
      assert.notEqual(segments[0], '00000000000000000000.log', 'the log below the snapshot was not removed');

      const q2 = await openQuorum(dir, small);
      try {
        assert.deepEqual(summarizeImage(q2.loader.image), before);
        assert.deepEqual(summarizeImage(q2.controller.image), before);
        const [r] = await q2.controller.createTopics([{ name: 'after-restart', numPartitions: 1, replicationFactor: 1 }]);
        assert.equal(r!.errorCode, ErrorCode.NONE);
      } finally {
        await q2.close();
      }
    } finally {
      await cleanup();
    }
  });
});
