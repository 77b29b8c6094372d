import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decodeGroupRecord,
  groupMetadataKey,
  groupMetadataRecord,
  groupTombstone,
  offsetCommitKey,
  offsetCommitRecord,
} from '../../../src/coordinator/group/records.js';

const hex = (b: Buffer | null): string => (b === null ? 'null' : b.toString('hex'));

describe('__consumer_offsets records', () => {
  it('writes OffsetCommit keys with key version 1', () => {
    // version 1 | group "g" | topic "t" | partition 3
    assert.equal(hex(offsetCommitKey('g', 't', 3)), '0001' + '000167' + '000174' + '00000003');
  });

  it('writes GroupMetadata keys with key version 2', () => {
    assert.equal(hex(groupMetadataKey('g')), '0002' + '000167');
  });

  it('skips record types it does not know instead of failing the load', () => {
    assert.deepEqual(decodeGroupRecord({ key: Buffer.from([0x00, 0x40, 0x00, 0x00]), value: Buffer.from([0, 0]) }), { kind: 'other' });
  });

  it('writes OffsetCommit values as version 3 (with leader epoch)', () => {
    const r = offsetCommitRecord('g', 't', 0, { offset: 5, leaderEpoch: 2, metadata: 'm', commitTimestamp: 1000, expireTimestamp: undefined });
    // version 3 | offset | leader epoch | metadata "m" | commit timestamp
    assert.equal(hex(r.value), '0003' + '0000000000000005' + '00000002' + '00016d' + '00000000000003e8');
  });

  it('writes version 1 (with expire timestamp, without leader epoch) when the commit had a retention time', () => {
    const r = offsetCommitRecord('g', 't', 0, { offset: 5, leaderEpoch: 2, metadata: '', commitTimestamp: 1000, expireTimestamp: 2000 });
    assert.equal(hex(r.value), '0001' + '0000000000000005' + '0000' + '00000000000003e8' + '00000000000007d0');
    const back = decodeGroupRecord(r);
    assert.deepEqual(back, {
      kind: 'offset',
      group: 'g',
      topic: 't',
      partition: 0,
      value: { offset: 5, leaderEpoch: -1, metadata: '', commitTimestamp: 1000, expireTimestamp: 2000 },
    });
  });

  it('writes GroupMetadata values as version 3 and reads them back', () => {
    const empty = groupMetadataRecord('g', { protocolType: 'consumer', generation: 4, protocol: null, leader: null, currentStateTimestamp: 1000n, members: [] });
    // version 3 | "consumer" | generation 4 | protocol null | leader null | state timestamp | 0 members
    assert.equal(hex(empty.value), '0003' + '0008' + Buffer.from('consumer').toString('hex') + '00000004' + 'ffff' + 'ffff' + '00000000000003e8' + '00000000');
    const full = groupMetadataRecord('g', {
      protocolType: 'consumer',
      generation: 1,
      protocol: 'range',
      leader: 'm1',
      currentStateTimestamp: 5n,
      members: [
        {
          memberId: 'm1',
          groupInstanceId: 'i1',
          clientId: 'c',
          clientHost: '/127.0.0.1',
          rebalanceTimeout: 60000,
          sessionTimeout: 10000,
          subscription: Buffer.from([1, 2]),
          assignment: Buffer.from([3]),
        },
      ],
    });
    const back = decodeGroupRecord(full);
    assert.equal(back.kind, 'group');
    if (back.kind !== 'group') return;
    assert.equal(back.value!.members[0]!.groupInstanceId, 'i1');
    assert.deepEqual([...back.value!.members[0]!.assignment], [3]);
    assert.deepEqual(decodeGroupRecord(groupTombstone('g')), { kind: 'group', group: 'g', value: null });
  });
});
