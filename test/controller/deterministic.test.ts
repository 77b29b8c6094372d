// The controller over the in-memory log: the seams a deterministic simulation will drive.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { QuorumController } from '../../src/controller/quorum-controller.js';
import type { MetadataRecord } from '../../src/metadata/records.js';
import { MemoryLogStore } from '../../src/raft/log-store.js';
import { metadataRecordSerde } from '../../src/raft/metadata-serde.js';
import { MemoryQuorumStateStore } from '../../src/raft/quorum-state.js';
import { SingleVoterRaftClient } from '../../src/raft/single-voter-raft-client.js';
import { ManualClock } from '../../src/storage/clock.js';
import { summarizeImage } from '../metadata/fixtures.js';
import { brokerRegistration } from './helpers.js';

function node(store: MemoryLogStore, qs: MemoryQuorumStateStore, maxBatchBytes?: number): { raft: SingleVoterRaftClient<MetadataRecord>; controller: QuorumController } {
  let n = 0;
  const raft = new SingleVoterRaftClient<MetadataRecord>({
    nodeId: 1, logStore: store, quorumState: qs, serde: metadataRecordSerde, clock: new ManualClock(), ...(maxBatchBytes ? { maxBatchBytes } : {}),
  });
  const controller = new QuorumController({
    nodeId: 1, clusterId: 'c', raft, newUuid: () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`,
  });
  return { raft, controller };
}

async function workload(c: QuorumController): Promise<void> {
  const epoch = await c.registerLocalBroker(brokerRegistration(1, '99999999-0000-4000-8000-000000000001'));
  await c.createTopics([{ name: 'a', numPartitions: 3, replicationFactor: 1 }, { name: 'b', numPartitions: 1, replicationFactor: 1 }]);
  await Promise.all([
    c.createPartitions([{ name: 'b', count: 2, assignments: null }]),
    c.allocateProducerIds(1, epoch),
    c.deleteTopics([{ name: 'a' }]),
  ]);
}

/** Drives a manual-sync store until `p` settles (every durability wait along the way is satisfied). */
async function syncUntil<T>(store: MemoryLogStore, p: Promise<T>): Promise<T> {
  let settled = false;
  p.then(() => { settled = true; }, () => { settled = true; });
  while (!settled) {
    store.sync();
    await new Promise((r) => setImmediate(r));
  }
  return p;
}

async function allBytes(store: MemoryLogStore): Promise<Buffer> {
  return Buffer.concat(await store.read(0, Number.MAX_SAFE_INTEGER));
}

describe('controller over the memory log', () => {
  test('the same inputs give byte-identical logs', async () => {
    const logs: Buffer[] = [];
    for (let i = 0; i < 2; i++) {
      const store = new MemoryLogStore();
      const { raft, controller } = node(store, new MemoryQuorumStateStore());
      await controller.start();
      await workload(controller);
      await controller.close();
      await raft.close();
      logs.push(await allBytes(store));
    }
    assert.ok(logs[0]!.length > 0);
    assert.ok(logs[0]!.equals(logs[1]!));
  });

  test('a crash loses only unacknowledged operations, and the controller state follows the log', async () => {
    const store = new MemoryLogStore({ manualSync: true });
    const qs = new MemoryQuorumStateStore();
    const first = node(store, qs);
    await syncUntil(store, first.controller.start());
    await syncUntil(store, first.controller.registerLocalBroker(brokerRegistration(1, '99999999-0000-4000-8000-000000000001')));
    const acked = await syncUntil(store, first.controller.createTopics([{ name: 'kept', numPartitions: 1, replicationFactor: 1 }]));
    assert.equal(acked[0]!.errorCode, 0);
    const lost = first.controller.createTopics([{ name: 'lost', numPartitions: 1, replicationFactor: 1 }]);
    // Once generated, the controller sees the uncommitted topic; the crash takes it away before any commit.
    await new Promise((r) => setImmediate(r));
    assert.ok(first.controller.image.topic('lost'));
    store.crash();
    await assert.rejects(lost);
    assert.equal(first.controller.isActive, false);
    await assert.rejects(first.controller.createTopics([{ name: 'after', numPartitions: 1, replicationFactor: 1 }]), /not active/);

    const second = node(store, qs);
    await syncUntil(store, second.controller.start());
    const image = second.controller.image;
    assert.ok(image.topic('kept'));
    assert.equal(image.topic('lost'), undefined);
    assert.equal(image.features.metadataVersion, 21);
    assert.equal(second.raft.leaderAndEpoch.epoch, 2);
    await syncUntil(store, second.controller.registerLocalBroker(brokerRegistration(1, '99999999-0000-4000-8000-000000000002')));
    const again = await syncUntil(store, second.controller.createTopics([{ name: 'lost', numPartitions: 1, replicationFactor: 1 }]));
    assert.equal(again[0]!.errorCode, 0);
    assert.ok(summarizeImage(second.controller.image));
  });

  test('a request whose records exceed the batch limit fails alone', async () => {
    const store = new MemoryLogStore();
    const { raft, controller } = node(store, new MemoryQuorumStateStore(), 4096);
    await controller.start();
    await controller.registerLocalBroker(brokerRegistration(1, '99999999-0000-4000-8000-000000000001'));
    await assert.rejects(controller.createTopics([{ name: 'huge', numPartitions: 200, replicationFactor: 1 }]), /above the limit of 4096/);
    assert.equal(controller.image.topic('huge'), undefined);
    assert.equal(controller.isActive, true);
    const ok = await controller.createTopics([{ name: 'small', numPartitions: 2, replicationFactor: 1 }]);
    assert.equal(ok[0]!.errorCode, 0);
    await controller.close();
    await raft.close();
  });
});
