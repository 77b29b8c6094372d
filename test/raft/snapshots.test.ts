import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { isStrataError } from '../../src/protocol/strata-error.js';
import { MemoryLogStore } from '../../src/raft/log-store.js';
import { MemoryQuorumStateStore } from '../../src/raft/quorum-state.js';
import type { CommittedBatch, LoadedSnapshot, RecordSerde } from '../../src/raft/raft-client.js';
import { SingleVoterRaftClient } from '../../src/raft/single-voter-raft-client.js';
import { buildSnapshot, FileSnapshotStore, MemorySnapshotStore, readSnapshot, snapshotFileName } from '../../src/raft/snapshots.js';

const serde: RecordSerde<string> = { write: (s) => Buffer.from(s), read: (b) => b.toString() };
const opts = { lastContainedLogTimestamp: 1, timestamp: 2 };

describe('snapshot files', () => {
  test('round-trip header, data batches and footer; incomplete files are refused', async () => {
    const records = Array.from({ length: 2500 }, (_, i) => `r${i}`);
    const bytes = buildSnapshot(records, serde, opts);
    assert.deepEqual(await readSnapshot(bytes, serde), records);
    assert.deepEqual(await readSnapshot(buildSnapshot([], serde, opts), serde), []);
    await assert.rejects(readSnapshot(bytes.subarray(0, bytes.length - 10), serde), (e) => isStrataError(e, 'ERR_CORRUPT_FILE'));
    await assert.rejects(readSnapshot(Buffer.alloc(0), serde), (e) => isStrataError(e, 'ERR_CORRUPT_FILE'));
  });

  test("Kafka's file names; the store keeps the newest only", async () => {
    assert.equal(snapshotFileName({ endOffset: 42, epoch: 3 }), '00000000000000000042-0000000003.checkpoint');
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'strata-snap-'));
    try {
      const store = new FileSnapshotStore(dir);
      assert.equal(await store.latest(), undefined);
      await store.write({ endOffset: 10, epoch: 1 }, buildSnapshot(['a'], serde, opts));
      await fs.writeFile(path.join(dir, '00000000000000000099-0000000001.checkpoint.part'), 'torn');
      await store.write({ endOffset: 20, epoch: 2 }, buildSnapshot(['b'], serde, opts));
      assert.deepEqual(await store.latest(), { endOffset: 20, epoch: 2 });
      assert.deepEqual(await fs.readdir(dir), ['00000000000000000020-0000000002.checkpoint']);
      assert.deepEqual(await readSnapshot(await store.read({ endOffset: 20, epoch: 2 }), serde), ['b']);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});

class Follower {
  state: string[] = [];
  loaded: LoadedSnapshot<string>[] = [];
  handleLoadSnapshot(s: LoadedSnapshot<string>): void {
    this.loaded.push(s);
    this.state = [...s.records];
  }
  handleCommit(b: CommittedBatch<string>): void {
    this.state.push(...b.records);
  }
}

describe('SingleVoterRaftClient snapshots', () => {
  test('a snapshot replaces the log below it; a restart loads it and replays only the tail', async () => {
    const log = new MemoryLogStore();
    const qs = new MemoryQuorumStateStore();
    const snaps = new MemorySnapshotStore();
    const c1 = new SingleVoterRaftClient({ nodeId: 1, logStore: log, quorumState: qs, serde, snapshots: snaps });
    const f1 = new Follower();
    await c1.register(f1);
    await c1.start();
    for (const r of ['a', 'b', 'c', 'd']) await c1.append([r]);
    // State as of offset 4 (exclusive): the control batch at 0 and a..c at 1..3.
    await assert.rejects(c1.createSnapshot({ endOffset: 99, epoch: 1 }, []), /past the high watermark/);
    await c1.createSnapshot({ endOffset: 4, epoch: 1 }, ['a', 'b', 'c']);
    assert.deepEqual(c1.latestSnapshot, { endOffset: 4, epoch: 1 });
    assert.equal(log.startOffset, 4);
    await c1.append(['e']);
    await c1.close();

    const c2 = new SingleVoterRaftClient({ nodeId: 1, logStore: log, quorumState: qs, serde, snapshots: snaps });
    const f2 = new Follower();
    await c2.register(f2);
    await c2.start();
    assert.deepEqual(f2.loaded.map((s) => s.id), [{ endOffset: 4, epoch: 1 }]);
    assert.deepEqual(f2.state, ['a', 'b', 'c', 'd', 'e']);
    await c2.close();

    const c3 = new SingleVoterRaftClient({ nodeId: 1, logStore: log, quorumState: qs, serde, snapshots: snaps });
    await c3.register({ handleCommit: () => undefined });
    await assert.rejects(c3.start(), /cannot load snapshots/);
  });

  test('a log whose start is not covered by a snapshot is refused', async () => {
    const log = new MemoryLogStore();
    const qs = new MemoryQuorumStateStore();
    const c1 = new SingleVoterRaftClient({ nodeId: 1, logStore: log, quorumState: qs, serde });
    await c1.start();
    await c1.append(['a']);
    await c1.append(['b']);
    await c1.close();
    await log.truncateBefore(2);
    const c2 = new SingleVoterRaftClient({ nodeId: 1, logStore: log, quorumState: qs, serde, snapshots: new MemorySnapshotStore() });
    await c2.register({ handleCommit: () => undefined });
    await assert.rejects(c2.start(), /no snapshot covers/);
  });
});
