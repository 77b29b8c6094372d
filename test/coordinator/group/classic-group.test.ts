import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { ClassicGroup, ClassicGroupMember, GroupState, subscribedTopicsOf } from '../../../src/coordinator/group/classic-group.js';
import { encodeConsumerProtocolSubscription } from '../../../src/protocol/generated/data/consumer-protocol-subscription.js';
import { Writer } from '../../../src/protocol/writer.js';

const require = createRequire(import.meta.url);

function subscriptionV(version: number, topics: string[]): Buffer {
  const w = new Writer(64);
  w.int16(version);
  encodeConsumerProtocolSubscription(w, Math.min(version, 3), {
    topics,
    userData: Buffer.from('u'),
    ownedPartitions: version >= 1 ? [{ topic: topics[0]!, partitions: [0, 1] }] : [],
    generationId: version >= 2 ? 4 : -1,
    rackId: version >= 3 ? 'rack-a' : null,
  });
  return w.toBuffer();
}

const member = (id: string, protocols: [string, Buffer][]) =>
  new ClassicGroupMember({
    memberId: id,
    groupInstanceId: null,
    clientId: id,
    clientHost: '/127.0.0.1',
    rebalanceTimeoutMs: 1000,
    sessionTimeoutMs: 1000,
    protocolType: 'consumer',
    protocols: protocols.map(([name, metadata]) => ({ name, metadata })),
  });

describe('classic group model', () => {
  it('reads subscribed topics of every consumer protocol version', () => {
    for (const v of [0, 1, 2, 3]) assert.deepEqual(subscribedTopicsOf(subscriptionV(v, ['a', 'b'])), ['a', 'b']);
    // A newer version (only appended fields) is read as the newest we know.
    const v4 = Buffer.concat([subscriptionV(3, ['a']), Buffer.from([0, 0])]);
    v4.writeInt16BE(4, 0);
    assert.deepEqual(subscribedTopicsOf(v4), ['a']);
    assert.equal(subscribedTopicsOf(Buffer.from([0xff])), null);
    assert.equal(subscribedTopicsOf(Buffer.from([0xff, 0xff, 0, 0, 0, 0])), null);
  });

  it("reads kafkajs's member metadata, which declares v1 without owned partitions", () => {
    const { AssignerProtocol } = require('kafkajs') as { AssignerProtocol: { MemberMetadata: { encode(m: { version: number; topics: string[]; userData: Buffer }): Buffer } } };
    const bytes = AssignerProtocol.MemberMetadata.encode({ version: 1, topics: ['orders', 'payments'], userData: Buffer.alloc(0) });
    assert.deepEqual(subscribedTopicsOf(bytes), ['orders', 'payments']);
  });

  it('computes subscribed topics only for the consumer protocol', () => {
    const g = new ClassicGroup('g', 0);
    g.add(member('m1', [['range', subscriptionV(0, ['a'])]]));
    g.add(member('m2', [['range', subscriptionV(3, ['b'])]]));
    g.state = GroupState.PREPARING_REBALANCE;
    for (const m of g.members.values()) m.awaitingJoin = null;
    g.initNextGeneration(1);
    assert.equal(g.protocolName, 'range');
    assert.deepEqual([...g.subscribedTopics!].sort(), ['a', 'b']);
    assert.equal(g.isSubscribedToTopic('b'), true);
    assert.equal(g.isSubscribedToTopic('c'), false);
    g.protocolType = 'connect';
    g.computeSubscribedTopics();
    assert.equal(g.subscribedTopics, null);
  });

  it('refuses state transitions Kafka does not allow', () => {
    const g = new ClassicGroup('g', 0);
    assert.throws(() => g.transitionTo(GroupState.STABLE, 1), /cannot go from Empty to Stable/);
    g.transitionTo(GroupState.PREPARING_REBALANCE, 1);
    assert.throws(() => g.transitionTo(GroupState.STABLE, 2));
    g.transitionTo(GroupState.COMPLETING_REBALANCE, 2);
    g.transitionTo(GroupState.STABLE, 3);
    assert.equal(g.previousState, GroupState.COMPLETING_REBALANCE);
    assert.equal(g.stateTimestamp, 3);
    g.transitionTo(GroupState.DEAD, 4);
    assert.throws(() => g.transitionTo(GroupState.EMPTY, 5));
  });

  it('elects the next member as leader when the leader leaves, and validates members', () => {
    const g = new ClassicGroup('g', 0);
    g.add(member('m1', [['range', Buffer.alloc(0)]]));
    g.add(member('m2', [['range', Buffer.alloc(0)]]));
    assert.equal(g.leaderId, 'm1');
    g.remove('m1');
    assert.equal(g.leaderId, 'm2');
    assert.equal(g.validateMember('m2', null), 0);
    assert.equal(g.validateMember('m1', null), 25); // UNKNOWN_MEMBER_ID
    assert.equal(g.validateMember('m2', 'no-such-instance'), 25);
    g.remove('m2');
    assert.equal(g.leaderId, null);
  });
});
