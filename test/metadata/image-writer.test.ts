import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { MetadataDelta } from '../../src/metadata/delta.js';
import { MetadataImage } from '../../src/metadata/image.js';
import { imageToRecords } from '../../src/metadata/image-writer.js';
import { ConfigResourceType, FencingChange, type MetadataRecord } from '../../src/metadata/records.js';
import { metadataRecordSerde } from '../../src/raft/metadata-serde.js';
import {
  config, feature, partition, partitionChange, producerIds, registerBroker, registrationChange, removeTopic, summarizeImage, T1, T2, T3, topic,
} from './fixtures.js';

function replay(records: readonly MetadataRecord[]): MetadataImage {
  const d = new MetadataDelta(MetadataImage.empty('c'));
  for (const r of records) d.replay(r);
  return d.apply({ offset: records.length - 1, epoch: 1 });
}

/** Through the wire format too: what a snapshot file would hold. */
const roundTrip = (records: readonly MetadataRecord[]): MetadataRecord[] =>
  records.map((r) => metadataRecordSerde.read(metadataRecordSerde.write(r)));

describe('imageToRecords', () => {
  test('an empty image writes nothing', () => {
    assert.deepEqual(imageToRecords(MetadataImage.empty()), []);
  });

  test('a populated image is rebuilt exactly, metadata.version first', () => {
    const image = replay([
      feature('metadata.version', 21), feature('group.version', 1),
      registerBroker(1, 3, { logDirs: ['5b4b1c0e-8f0c-4d39-9a6f-5a1c8f0e2d11'] }), registrationChange(1, 3, FencingChange.UNFENCE), registerBroker(2, 9),
      topic('a', T1), partition(T1, 0, [1, 2]), partition(T1, 1, [2, 1]), partitionChange(T1, 1, { leader: 1, isr: [1] }),
      topic('b', T2), partition(T2, 0, [1]),
      config(ConfigResourceType.TOPIC, 'a', 'retention.ms', '5'), config(ConfigResourceType.BROKER, '', 'log.retention.bytes', '9'),
      producerIds(1, 3, 3000),
    ]);
    const records = imageToRecords(image);
    assert.equal(records[0]!.type, 12);
    assert.deepEqual(summarizeImage(replay(roundTrip(records))), summarizeImage(image));
  });

  test('property: replaying the written records gives the same image', () => {
    const ids = [T1, T2, T3];
    const op = fc.oneof(
      fc.record({ kind: fc.constant('create' as const), t: fc.integer({ min: 0, max: 2 }), name: fc.constantFrom('a', 'b', 'c'), parts: fc.integer({ min: 1, max: 3 }) }),
      fc.record({ kind: fc.constant('delete' as const), t: fc.integer({ min: 0, max: 2 }) }),
      fc.record({ kind: fc.constant('leader' as const), t: fc.integer({ min: 0, max: 2 }), leader: fc.integer({ min: -1, max: 2 }) }),
      fc.record({ kind: fc.constant('config' as const), type: fc.constantFrom(2, 4), name: fc.constantFrom('a', '', '1'), value: fc.option(fc.constantFrom('1', '2')) }),
      fc.record({ kind: fc.constant('broker' as const), id: fc.integer({ min: 1, max: 3 }), unfence: fc.boolean() }),
      fc.record({ kind: fc.constant('pids' as const) }),
    );
    fc.assert(fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
      const live = new Map<string, string>();
      const records: MetadataRecord[] = [feature('metadata.version', 21)];
      let epoch = 0;
      let pid = 0;
      for (const o of ops) {
        if (o.kind === 'create') {
          const id = ids[o.t]!;
          if (live.has(id) || [...live.values()].includes(o.name)) continue;
          live.set(id, o.name);
          records.push(topic(o.name, id));
          for (let p = 0; p < o.parts; p++) records.push(partition(id, p, [1, 2]));
        } else if (o.kind === 'delete') {
          if (live.delete(ids[o.t]!)) records.push(removeTopic(ids[o.t]!));
        } else if (o.kind === 'leader') {
          if (live.has(ids[o.t]!)) records.push(partitionChange(ids[o.t]!, 0, { leader: o.leader }));
        } else if (o.kind === 'config') {
          records.push(config(o.type, o.name, 'retention.ms', o.value));
        } else if (o.kind === 'broker') {
          epoch++;
          records.push(registerBroker(o.id, epoch));
          if (o.unfence) records.push(registrationChange(o.id, epoch, FencingChange.UNFENCE));
        } else {
          pid += 1000;
          records.push(producerIds(1, 0, pid));
        }
      }
      const image = replay(records);
      assert.deepEqual(summarizeImage(replay(roundTrip(imageToRecords(image)))), summarizeImage(image));
    }), { numRuns: 150 });
  });
});
