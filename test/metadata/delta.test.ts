import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { MetadataDelta } from '../../src/metadata/delta.js';
import { MetadataImage } from '../../src/metadata/image.js';
import { ConfigResourceType, FencingChange, type MetadataRecord } from '../../src/metadata/records.js';
import { isStrataError } from '../../src/protocol/strata-error.js';
import {
  config, feature, partition, partitionChange, producerIds, registerBroker, registrationChange, removeTopic, summarizeImage, T1, T2, T3, topic,
} from './fixtures.js';

function applyAll(records: readonly MetadataRecord[], image = MetadataImage.empty('c1')): MetadataImage {
  const d = new MetadataDelta(image);
  for (const r of records) d.replay(r);
  return d.apply({ offset: image.provenance.offset + records.length, epoch: 1 });
}

describe('MetadataDelta', () => {
  test('features: metadata.version and other features; level 0 removes a feature', () => {
    const img = applyAll([feature('metadata.version', 21), feature('group.version', 1), feature('transaction.version', 2)]);
    assert.equal(img.features.metadataVersion, 21);
    assert.equal(img.featureLevel('metadata.version'), 21);
    assert.equal(img.featureLevel('group.version'), 1);
    const img2 = applyAll([feature('group.version', 0)], img);
    assert.equal(img2.featureLevel('group.version'), 0);
    assert.equal(img2.featureLevel('transaction.version'), 2);
    assert.equal(img2.features.metadataVersion, 21);
  });

  test('brokers: register fenced, unfence and fence by registration change, epochs checked', () => {
    const img = applyAll([registerBroker(1, 5), registrationChange(1, 5, FencingChange.UNFENCE)]);
    const b = img.broker(1)!;
    assert.equal(b.epoch, 5);
    assert.equal(b.fenced, false);
    assert.deepEqual(b.listeners, [{ name: 'PLAINTEXT', host: 'localhost', port: 9093, securityProtocol: 0 }]);
    assert.deepEqual(img.activeBrokers().map((x) => x.id), [1]);
    const fenced = applyAll([registrationChange(1, 5, FencingChange.FENCE)], img);
    assert.equal(fenced.broker(1)!.fenced, true);
    assert.deepEqual(fenced.activeBrokers(), []);
    const d = new MetadataDelta(img);
    assert.throws(() => d.replay(registrationChange(1, 4, FencingChange.FENCE)), (e) => isStrataError(e, 'ERR_STATE'));
    assert.throws(() => d.replay(registrationChange(2, 4, FencingChange.FENCE)), (e) => isStrataError(e, 'ERR_STATE'));
  });

  test('topics and partitions; a partition change bumps the leader epoch only when the leader changes', () => {
    const img = applyAll([topic('a', T1), partition(T1, 0, [1, 2]), partition(T1, 1, [2, 1])]);
    const t = img.topic('a')!;
    assert.equal(t.id, T1);
    assert.equal(img.topicById(T1), t);
    assert.equal(t.partitions.size, 2);
    assert.deepEqual(img.partition('a', 1)!.replicas, [2, 1]);

    const img2 = applyAll([partitionChange(T1, 0, { isr: [1] }), partitionChange(T1, 1, { leader: 1 })], img);
    const p0 = img2.partition('a', 0)!;
    assert.deepEqual(p0.isr, [1]);
    assert.equal(p0.leader, 1);
    assert.equal(p0.leaderEpoch, 0);
    assert.equal(p0.partitionEpoch, 1);
    const p1 = img2.partition('a', 1)!;
    assert.equal(p1.leader, 1);
    assert.equal(p1.leaderEpoch, 1);
    assert.equal(p1.partitionEpoch, 1);
    // The base image is untouched.
    assert.equal(img.partition('a', 0)!.partitionEpoch, 0);
  });

  test('untouched parts are shared between images', () => {
    const img = applyAll([topic('a', T1), partition(T1, 0, [1]), topic('b', T2), partition(T2, 0, [1]), config(2, 'a', 'retention.ms', '1')]);
    const img2 = applyAll([partitionChange(T2, 0, { leader: -1 })], img);
    assert.equal(img2.topic('a'), img.topic('a'));
    assert.notEqual(img2.topic('b'), img.topic('b'));
    assert.equal(img2.configs, img.configs);
    assert.equal(img2.cluster, img.cluster);
    assert.ok(Object.isFrozen(img2));
    assert.ok(Object.isFrozen(img2.partition('b', 0)));
  });

  test('RemoveTopic drops the topic and its configs and reports it deleted', () => {
    const img = applyAll([topic('a', T1), partition(T1, 0, [1]), config(ConfigResourceType.TOPIC, 'a', 'cleanup.policy', 'compact')]);
    assert.equal(img.topicConfigs('a').get('cleanup.policy'), 'compact');
    const d = new MetadataDelta(img);
    d.replay(removeTopic(T1));
    const img2 = d.apply({ offset: 10, epoch: 1 });
    assert.equal(img2.topic('a'), undefined);
    assert.equal(img2.topicById(T1), undefined);
    assert.equal(img2.topicConfigs('a').size, 0);
    const ch = d.changes;
    assert.deepEqual([...ch.topicsDeleted.keys()], [T1]);
    assert.equal(ch.topicsDeleted.get(T1)!.name, 'a');
    assert.ok(ch.configsChanged.has('2:a'));
    assert.equal(ch.topicsCreated.size, 0);
  });

  test('a topic deleted and re-created under the same name in one delta', () => {
    const img = applyAll([topic('a', T1), partition(T1, 0, [1])]);
    const d = new MetadataDelta(img);
    d.replay(removeTopic(T1));
    d.replay(topic('a', T2));
    d.replay(partition(T2, 0, [1]));
    d.replay(partition(T2, 1, [1]));
    const img2 = d.apply();
    assert.equal(img2.topic('a')!.id, T2);
    assert.equal(img2.topic('a')!.partitions.size, 2);
    assert.equal(img2.topicById(T1), undefined);
    assert.deepEqual([...d.changes.topicsCreated], [T2]);
    assert.deepEqual([...d.changes.topicsDeleted.keys()], [T1]);
    assert.deepEqual([...d.changes.partitionsChanged.get(T2)!].sort(), [0, 1]);
  });

  test('a topic created and deleted within one delta leaves no trace', () => {
    const d = new MetadataDelta(MetadataImage.empty());
    d.replay(topic('a', T1));
    d.replay(partition(T1, 0, [1]));
    d.replay(removeTopic(T1));
    const img = d.apply();
    assert.equal(img.topics.byId.size, 0);
    assert.equal(d.changes.topicsCreated.size, 0);
    assert.equal(d.changes.topicsDeleted.size, 0);
    assert.equal(d.changes.partitionsChanged.size, 0);
  });

  test('configs: set, overwrite, delete; an emptied resource disappears', () => {
    const img = applyAll([
      config(ConfigResourceType.BROKER, '', 'log.retention.ms', '100'),
      config(ConfigResourceType.BROKER, '1', 'log.cleaner.threads', '2'),
      config(ConfigResourceType.BROKER, '', 'log.retention.ms', '200'),
    ]);
    assert.equal(img.clusterDefaultConfigs().get('log.retention.ms'), '200');
    assert.equal(img.brokerConfigs(1).get('log.cleaner.threads'), '2');
    const d = new MetadataDelta(img);
    d.replay(config(ConfigResourceType.BROKER, '1', 'log.cleaner.threads', null));
    const img2 = d.apply();
    assert.equal(img2.brokerConfigs(1).size, 0);
    assert.equal(img2.configs.has('4:1'), false);
    assert.deepEqual([...d.changes.configsChanged], ['4:1']);
    // Setting a value to what it already is changes nothing.
    const d2 = new MetadataDelta(img2);
    d2.replay(config(ConfigResourceType.BROKER, '', 'log.retention.ms', '200'));
    assert.equal(d2.changes.configsChanged.size, 0);
  });

  test('producer ids only move forward', () => {
    const img = applyAll([registerBroker(1, 0), producerIds(1, 0, 1000), producerIds(1, 0, 2000)]);
    assert.equal(img.producerIds.nextProducerId, 2000);
    const d = new MetadataDelta(img);
    assert.throws(() => d.replay(producerIds(1, 0, 1000)), (e) => isStrataError(e, 'ERR_STATE'));
  });

  test('records that contradict the image are refused', () => {
    const img = applyAll([topic('a', T1), partition(T1, 0, [1])]);
    const bad: MetadataRecord[] = [
      partition(T3, 0, [1]),
      partitionChange(T1, 7, { leader: 1 }),
      removeTopic(T3),
      topic('a', T3),
      topic('b', T1),
    ];
    for (const r of bad) {
      const d = new MetadataDelta(img);
      assert.throws(() => d.replay(r), (e) => isStrataError(e, 'ERR_STATE'), `type ${r.type}`);
    }
  });

  test('property: one delta over a sequence equals one delta per record', () => {
    const ids = [T1, T2, T3];
    const op = fc.oneof(
      fc.record({ kind: fc.constant('create' as const), t: fc.integer({ min: 0, max: 2 }), name: fc.constantFrom('a', 'b', 'c'), parts: fc.integer({ min: 1, max: 3 }) }),
      fc.record({ kind: fc.constant('delete' as const), t: fc.integer({ min: 0, max: 2 }) }),
      fc.record({ kind: fc.constant('leader' as const), t: fc.integer({ min: 0, max: 2 }), leader: fc.integer({ min: -1, max: 2 }) }),
      fc.record({ kind: fc.constant('config' as const), name: fc.constantFrom('a', 'b'), value: fc.option(fc.constantFrom('1', '2')) }),
    );
    fc.assert(fc.property(fc.array(op, { maxLength: 30 }), (ops) => {
      // Build only a valid record sequence, tracking existence like a controller would.
      const live = new Map<string, { name: string; parts: number }>();
      const records: MetadataRecord[] = [];
      for (const o of ops) {
        if (o.kind === 'create') {
          const id = ids[o.t]!;
          if (live.has(id) || [...live.values()].some((x) => x.name === o.name)) continue;
          live.set(id, { name: o.name, parts: o.parts });
          records.push(topic(o.name, id));
          for (let p = 0; p < o.parts; p++) records.push(partition(id, p, [1, 2]));
        } else if (o.kind === 'delete') {
          const id = ids[o.t]!;
          if (!live.delete(id)) continue;
          records.push(removeTopic(id));
        } else if (o.kind === 'leader') {
          const id = ids[o.t]!;
          if (!live.has(id)) continue;
          records.push(partitionChange(id, 0, { leader: o.leader }));
        } else {
          records.push(config(ConfigResourceType.TOPIC, o.name, 'retention.ms', o.value));
        }
      }
      const batched = applyAll(records);
      let stepwise = MetadataImage.empty('c1');
      for (const r of records) stepwise = applyAll([r], stepwise);
      assert.deepEqual(summarizeImage(batched), summarizeImage(stepwise));
      assert.equal(batched.topics.byId.size, live.size);
    }), { numRuns: 200 });
  });
});
