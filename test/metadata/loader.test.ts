import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { MetadataImage } from '../../src/metadata/image.js';
import { MetadataLoader } from '../../src/metadata/loader.js';
import type { MetadataPublisher, MetadataUpdate } from '../../src/metadata/publisher.js';
import { feature, partition, removeTopic, T1, T2, topic } from './fixtures.js';

class Recorder implements MetadataPublisher {
  readonly updates: { update: MetadataUpdate; image: MetadataImage }[] = [];
  constructor(readonly name: string, readonly log: string[] = []) {}
  onMetadataUpdate(update: MetadataUpdate, image: MetadataImage): void {
    this.updates.push({ update, image });
    this.log.push(`${this.name}@${image.provenance.offset}`);
  }
}

describe('MetadataLoader', () => {
  test('start-up replay is published once, then every committed batch', async () => {
    const loader = new MetadataLoader({ clusterId: 'cid' });
    const p = new Recorder('p');
    await loader.installPublisher(p);
    await loader.handleCommit({ baseOffset: 0, lastOffset: 0, epoch: 1, records: [feature('metadata.version', 21)] });
    await loader.handleCommit({ baseOffset: 1, lastOffset: 2, epoch: 1, records: [topic('a', T1), partition(T1, 0, [1])] });
    assert.equal(p.updates.length, 0);
    assert.equal(loader.image.isEmpty, true);
    await loader.handleCatchUpComplete();
    assert.equal(p.updates.length, 1);
    const first = p.updates[0]!;
    assert.equal(first.image.clusterId, 'cid');
    assert.equal(first.image.provenance.offset, 2);
    assert.deepEqual([...first.update.changes.topicsCreated], [T1]);
    assert.equal(first.update.changes.featuresChanged, true);

    await loader.handleCommit({ baseOffset: 4, lastOffset: 4, epoch: 2, records: [removeTopic(T1)] });
    assert.equal(p.updates.length, 2);
    assert.deepEqual([...p.updates[1]!.update.changes.topicsDeleted.keys()], [T1]);
    assert.equal(p.updates[1]!.update.previous, first.image);
    assert.deepEqual(loader.image.provenance, { offset: 4, epoch: 2 });
  });

  test('publishers run in installation order; a late one first receives the whole image', async () => {
    const log: string[] = [];
    const loader = new MetadataLoader({ clusterId: 'cid' });
    const a = new Recorder('a', log);
    const b = new Recorder('b', log);
    await loader.installPublisher(a);
    await loader.installPublisher(b);
    await loader.handleCatchUpComplete();
    await loader.handleCommit({ baseOffset: 0, lastOffset: 1, epoch: 1, records: [topic('x', T1), partition(T1, 0, [1])] });
    const late = new Recorder('late', log);
    await loader.installPublisher(late);
    assert.deepEqual(log, ['a@1', 'b@1', 'late@1']);
    assert.equal(late.updates[0]!.update.kind, 'install');
    assert.deepEqual([...late.updates[0]!.update.changes.topicsCreated], [T1]);
    assert.deepEqual([...late.updates[0]!.update.changes.partitionsChanged.get(T1)!], [0]);
  });

  test('a failing publisher is reported and does not stop the others', async () => {
    const errors: string[] = [];
    const loader = new MetadataLoader({ clusterId: 'cid', onPublisherError: (p, e) => errors.push(`${p.name}: ${(e as Error).message}`) });
    const bad: MetadataPublisher = { name: 'bad', onMetadataUpdate: () => Promise.reject(new Error('boom')) };
    const good = new Recorder('good');
    await loader.installPublisher(bad);
    await loader.installPublisher(good);
    await loader.handleCatchUpComplete();
    await loader.handleCommit({ baseOffset: 0, lastOffset: 0, epoch: 1, records: [topic('x', T2)] });
    assert.deepEqual(errors, ['bad: boom']);
    assert.equal(good.updates.length, 1);
  });
});
