import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { iterateBatches } from '../../src/protocol/records/batches.js';
import { decodeBatchRecordsSync } from '../../src/protocol/records/batch-records.js';
import { isControl } from '../../src/protocol/records/batch-header.js';
import { isStrataError } from '../../src/protocol/strata-error.js';
import { readLeaderChange } from '../../src/raft/control-records.js';
import { type LogStoreAppend, MemoryLogStore, METADATA_PARTITION_DIR, StorageLogStore } from '../../src/raft/log-store.js';
import { metadataRecordSerde } from '../../src/raft/metadata-serde.js';
import { FileQuorumStateStore, MemoryQuorumStateStore } from '../../src/raft/quorum-state.js';
import type { CommittedBatch, RecordSerde } from '../../src/raft/raft-client.js';
import { SingleVoterRaftClient } from '../../src/raft/single-voter-raft-client.js';
import { ManualClock } from '../../src/storage/clock.js';
import type { MetadataRecord } from '../../src/metadata/records.js';
import { feature, T1, topic } from '../metadata/fixtures.js';

const stringSerde: RecordSerde<string> = {
  write: (s) => Buffer.from(s, 'utf8'),
  read: (b) => b.toString('utf8'),
};

class Collector<T> {
  readonly batches: CommittedBatch<T>[] = [];
  caughtUp = 0;
  handleCommit(b: CommittedBatch<T>): void {
    this.batches.push(b);
  }
  handleCatchUpComplete(): void {
    this.caughtUp++;
  }
  get records(): T[] {
    return this.batches.flatMap((b) => [...b.records]);
  }
}

function memoryClient(store: MemoryLogStore, qs: MemoryQuorumStateStore): SingleVoterRaftClient<string> {
  return new SingleVoterRaftClient({ nodeId: 1, logStore: store, quorumState: qs, serde: stringSerde, clock: new ManualClock() });
}

describe('SingleVoterRaftClient (memory log)', () => {
  test('leads a new epoch on every start, persisted before leading, opened by a LeaderChangeMessage', async () => {
    const store = new MemoryLogStore();
    const qs = new MemoryQuorumStateStore();
    const c1 = memoryClient(store, qs);
    await c1.start();
    assert.deepEqual(c1.leaderAndEpoch, { leaderId: 1, epoch: 1 });
    assert.equal(c1.isLeader, true);
    assert.deepEqual(qs.state, { leaderEpoch: 1, leaderId: 1, votedId: 1, voters: [1] });
    assert.equal(qs.writes, 2);
    assert.equal(c1.highWatermark, 1);
    assert.equal(await c1.append(['a', 'b']), 2);
    await c1.close();

    const c2 = memoryClient(store, qs);
    await c2.start();
    assert.equal(c2.leaderAndEpoch.epoch, 2);
    assert.deepEqual(store.batchSummaries, [
      { baseOffset: 0, lastOffset: 0, epoch: 1 },
      { baseOffset: 1, lastOffset: 2, epoch: 1 },
      { baseOffset: 3, lastOffset: 3, epoch: 2 },
    ]);
    const [control] = await store.read(3, 1000);
    const info = [...iterateBatches(control!)][0]!;
    assert.ok(isControl(info.header.attributes));
    const rec = decodeBatchRecordsSync(control!, info)[0]!;
    const lcm = readLeaderChange(rec.key, rec.value)!;
    assert.equal(lcm.leaderId, 1);
    assert.deepEqual(lcm.voters.map((v) => v.voterId), [1]);
    await c2.close();
  });

  test('the epoch never goes back even if quorum-state is behind the log', async () => {
    const store = new MemoryLogStore();
    const qs = new MemoryQuorumStateStore();
    const c1 = memoryClient(store, qs);
    await c1.start();
    await c1.close();
    qs.state = undefined;
    const c2 = memoryClient(store, qs);
    await c2.start();
    assert.equal(c2.leaderAndEpoch.epoch, 2);
    await c2.close();
  });

  test('pipelined appends commit in offset order and each resolves with its last offset', async () => {
    const store = new MemoryLogStore();
    const c = memoryClient(store, new MemoryQuorumStateStore());
    const seen = new Collector<string>();
    await c.register(seen);
    await c.start();
    assert.equal(seen.caughtUp, 1);
    const offsets = await Promise.all(Array.from({ length: 20 }, (_, i) => c.append([`r${i}`, `s${i}`])));
    assert.deepEqual(offsets, Array.from({ length: 20 }, (_, i) => 1 + 2 * i + 1));
    assert.deepEqual(seen.batches.map((b) => b.baseOffset), Array.from({ length: 20 }, (_, i) => 1 + 2 * i));
    assert.deepEqual(seen.records.slice(0, 4), ['r0', 's0', 'r1', 's1']);
    assert.equal(c.highWatermark, 41);
    assert.equal(c.nextOffset, 41);
    await c.close();
  });

  test('a restart replays the log to listeners before catch-up completes; a late listener gets it too', async () => {
    const store = new MemoryLogStore();
    const qs = new MemoryQuorumStateStore();
    const c1 = memoryClient(store, qs);
    await c1.start();
    await c1.append(['x']);
    await c1.append(['y', 'z']);
    await c1.close();

    const c2 = memoryClient(store, qs);
    const early = new Collector<string>();
    const order: string[] = [];
    await c2.register({
      handleCommit: (b) => { early.handleCommit(b); order.push(`commit ${b.baseOffset}`); },
      handleCatchUpComplete: () => { order.push('caught up'); },
      handleLeaderChange: (l) => { order.push(`leader ${l.leaderId}/${l.epoch}`); },
    });
    await c2.start();
    assert.deepEqual(early.records, ['x', 'y', 'z']);
    assert.deepEqual(early.batches.map((b) => b.epoch), [1, 1]);
    assert.deepEqual(order, ['commit 1', 'commit 2', 'caught up', 'leader 1/2']);
    await c2.append(['w']);
    const late = new Collector<string>();
    await c2.register(late);
    assert.deepEqual(late.records, ['x', 'y', 'z', 'w']);
    assert.equal(late.caughtUp, 1);
    await c2.close();
  });

  test('appends before start, empty appends and oversized batches are refused', async () => {
    const c = new SingleVoterRaftClient({
      nodeId: 1, logStore: new MemoryLogStore(), quorumState: new MemoryQuorumStateStore(), serde: stringSerde, maxBatchBytes: 200,
    });
    await assert.rejects(c.append(['a']), (e) => isStrataError(e, 'ERR_STATE'));
    await c.start();
    await assert.rejects(c.append([]), (e) => isStrataError(e, 'ERR_STATE'));
    await assert.rejects(c.append(['x'.repeat(500)]), (e) => isStrataError(e, 'ERR_RECORD_TOO_LARGE'));
    // A refused batch takes no offsets.
    assert.equal(await c.append(['ok']), 1);
    await c.close();
  });

  test('a failed write fails everything after it and the client stops accepting appends', async () => {
    class FailingStore extends MemoryLogStore {
      failNext = false;
      override append(b: Buffer, epoch: number): Promise<LogStoreAppend> {
        if (this.failNext) return Promise.reject(new Error('disk on fire'));
        return super.append(b, epoch);
      }
    }
    const store = new FailingStore();
    const c = new SingleVoterRaftClient({ nodeId: 1, logStore: store, quorumState: new MemoryQuorumStateStore(), serde: stringSerde });
    await c.start();
    store.failNext = true;
    const results = await Promise.allSettled([c.append(['a']), c.append(['b'])]);
    assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected']);
    assert.equal(c.isLeader, false);
    await assert.rejects(c.append(['c']), /not accepting appends \(failed: disk on fire\)/);
    await c.close();
  });
});

describe('SingleVoterRaftClient (storage log)', () => {
  test('writes __cluster_metadata-0 and quorum-state, and replays framed metadata records after reopening', async () => {
    const root = await fs.mkdtemp(path.join(os.tmpdir(), 'strata-raft-'));
    try {
      const dir = path.join(root, METADATA_PARTITION_DIR);
      const open = async (): Promise<SingleVoterRaftClient<MetadataRecord>> => new SingleVoterRaftClient<MetadataRecord>({
        nodeId: 3,
        logStore: await StorageLogStore.open({ dir }),
        quorumState: new FileQuorumStateStore(path.join(dir, 'quorum-state')),
        serde: metadataRecordSerde,
      });
      const c1 = await open();
      await c1.start();
      const records = [feature('metadata.version', 21), topic('orders', T1)];
      assert.equal(await c1.append(records), 2);
      await c1.close();

      const files = await fs.readdir(dir);
      assert.ok(files.includes('00000000000000000000.log'), files.join(','));
      assert.ok(files.includes('quorum-state'));
      assert.ok(files.includes('leader-epoch-checkpoint'));
      assert.equal(await fs.readFile(path.join(dir, 'quorum-state'), 'utf8'),
        '{"clusterId":"","leaderId":3,"leaderEpoch":1,"votedId":3,"appliedOffset":0,"currentVoters":[{"voterId":3}],"data_version":0}');

      const c2 = await open();
      const seen = new Collector<MetadataRecord>();
      await c2.register(seen);
      await c2.start();
      assert.equal(c2.leaderAndEpoch.epoch, 2);
      assert.deepEqual(seen.records, records);
      assert.deepEqual(seen.batches.map((b) => [b.baseOffset, b.lastOffset, b.epoch]), [[1, 2, 1]]);
      // Group commit: concurrent appends all become durable and commit in order.
      const offsets = await Promise.all(Array.from({ length: 10 }, (_, i) => c2.append([topic(`t${i}`, `00000000-0000-4000-8000-0000000000${String(10 + i)}`)])));
      assert.deepEqual(offsets, Array.from({ length: 10 }, (_, i) => 4 + i));
      await c2.close();
    } finally {
      await fs.rm(root, { recursive: true, force: true });
    }
  });
});
