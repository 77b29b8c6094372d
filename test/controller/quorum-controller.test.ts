import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { MetadataQuorum } from '../../src/controller/metadata-quorum.js';
import { AlterConfigOp } from '../../src/controller/results.js';
import { ConfigResourceType, UNASSIGNED_DIRECTORY } from '../../src/metadata/records.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { summarizeImage } from '../metadata/fixtures.js';
import { brokerRegistration, LOG_DIR_ID, openQuorum, openWithBroker, tempDir } from './helpers.js';

const TOPIC = ConfigResourceType.TOPIC;
const BROKER = ConfigResourceType.BROKER;

describe('QuorumController', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let q: MetadataQuorum;
  let epoch: number;

  before(async () => {
    ({ dir, cleanup } = await tempDir());
    ({ q, epoch } = await openWithBroker(dir));
  });
  after(async () => {
    await q.close();
    await cleanup();
  });

  test('bootstraps metadata.version 3.9-IV0 and registers, then unfences, the local broker', () => {
    const image = q.loader.image;
    assert.equal(image.features.metadataVersion, 21);
    assert.equal(image.clusterId, 'MkU3OEVBNTcwNTJENDM2Qk');
    const b = image.broker(1)!;
    assert.equal(b.fenced, false);
    assert.equal(b.epoch, epoch);
    assert.deepEqual(b.logDirs, [LOG_DIR_ID]);
    assert.deepEqual(b.listeners, [{ name: 'PLAINTEXT', host: 'localhost', port: 9092, securityProtocol: 0 }]);
    // The broker epoch is the offset of its RegisterBrokerRecord: after the LeaderChange, FeatureLevel and
    // ZkMigrationState records.
    assert.equal(epoch, 3);
  });

  test('creates topics with default and explicit partition counts, directories and leaders', async () => {
    const res = await q.controller.createTopics([
      { name: 'orders', numPartitions: 3, replicationFactor: 1, configs: [{ name: 'cleanup.policy', value: 'compact' }] },
      { name: 'events', numPartitions: -1, replicationFactor: -1 },
    ]);
    assert.deepEqual(res.map((r) => [r.name, r.errorCode, r.numPartitions, r.replicationFactor]), [['orders', 0, 3, 1], ['events', 0, 1, 1]]);
    const image = q.loader.image;
    const orders = image.topic('orders')!;
    assert.equal(orders.id, res[0]!.topicId);
    assert.equal(orders.partitions.size, 3);
    for (const p of orders.partitions.values()) {
      assert.deepEqual(p.replicas, [1]);
      assert.deepEqual(p.isr, [1]);
      assert.equal(p.leader, 1);
      assert.equal(p.leaderEpoch, 0);
      assert.deepEqual(p.directories, [LOG_DIR_ID]);
    }
    assert.equal(image.topicConfigs('orders').get('cleanup.policy'), 'compact');
    assert.deepEqual(res[0]!.configs, new Map([['cleanup.policy', 'compact']]));
    assert.equal(image.topic('events')!.partitions.size, 1);
  });

  test('refuses illegal names with Kafka\'s messages', async () => {
    const long = 'x'.repeat(250);
    const res = await q.controller.createTopics(['', '.', '..', long, 'bad name', 'ok.name', 'ok_name', 'ok.name', '__cluster_metadata']
      .map((name) => ({ name, numPartitions: 1, replicationFactor: 1 })));
    const by = new Map(res.map((r) => [r.name, r]));
    assert.deepEqual(by.get('')!, { name: '', errorCode: ErrorCode.INVALID_TOPIC_EXCEPTION, errorMessage: 'Topic name is invalid: the empty string is not allowed' });
    assert.equal(by.get('.')!.errorMessage, "Topic name is invalid: '.' is not allowed");
    assert.equal(by.get('..')!.errorMessage, "Topic name is invalid: '..' is not allowed");
    assert.equal(by.get(long)!.errorMessage, `Topic name is invalid: the length of '${long}' is longer than the max allowed length 249`);
    assert.equal(by.get('bad name')!.errorMessage, "Topic name is invalid: 'bad name' contains one or more characters other than ASCII alphanumerics, '.', '_' and '-'");
    assert.deepEqual(by.get('ok.name')!, { name: 'ok.name', errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Duplicate topic name.' });
    assert.equal(by.get('ok_name')!.errorCode, ErrorCode.NONE);
    assert.deepEqual(by.get('__cluster_metadata')!.errorMessage, 'Creation of internal topic __cluster_metadata is prohibited.');
    assert.equal(res.length, 8);

    const again = await q.controller.createTopics([
      { name: 'ok.name', numPartitions: 1, replicationFactor: 1 },
      { name: 'ok_name', numPartitions: 1, replicationFactor: 1 },
      { name: 'orders', numPartitions: 1, replicationFactor: 1 },
    ]);
    assert.deepEqual(again.map((r) => [r.errorCode, r.errorMessage]), [
      [ErrorCode.INVALID_TOPIC_EXCEPTION, "Topic 'ok.name' collides with existing topic: ok_name"],
      [ErrorCode.TOPIC_ALREADY_EXISTS, "Topic 'ok_name' already exists."],
      [ErrorCode.TOPIC_ALREADY_EXISTS, "Topic 'orders' already exists."],
    ]);
  });

  test('partition counts, replication factors and manual assignments are checked', async () => {
    const res = await q.controller.createTopics([
      { name: 'p0', numPartitions: 0, replicationFactor: 1 },
      { name: 'rf0', numPartitions: 1, replicationFactor: 0 },
      { name: 'rf3', numPartitions: 1, replicationFactor: 3 },
      { name: 'm1', numPartitions: 1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [1] }] },
      { name: 'm2', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [2] }] },
      { name: 'm3', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [1, 1] }] },
      { name: 'm4', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 1, brokerIds: [1] }] },
      { name: 'm5', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [1] }, { partitionIndex: 1, brokerIds: [1] }] },
    ]);
    assert.deepEqual(res.map((r) => [r.name, r.errorCode, r.errorMessage]), [
      ['p0', ErrorCode.INVALID_PARTITIONS, 'Number of partitions was set to an invalid non-positive value.'],
      ['rf0', ErrorCode.INVALID_REPLICATION_FACTOR, 'Replication factor must be larger than 0, or -1 to use the default value.'],
      ['rf3', ErrorCode.INVALID_REPLICATION_FACTOR, 'Unable to replicate the partition 3 time(s): The target replication factor of 3 cannot be reached because only 1 broker(s) are registered.'],
      ['m1', ErrorCode.INVALID_REQUEST, 'A manual partition assignment was specified, but numPartitions was not set to -1.'],
      ['m2', ErrorCode.INVALID_REPLICA_ASSIGNMENT, 'The manual partition assignment includes broker 2, but no such broker is registered.'],
      ['m3', ErrorCode.INVALID_REPLICA_ASSIGNMENT, 'The manual partition assignment includes the broker 1 more than once.'],
      ['m4', ErrorCode.INVALID_REPLICA_ASSIGNMENT, 'partitions should be a consecutive 0-based integer sequence'],
      ['m5', ErrorCode.NONE, null],
    ]);
    assert.equal(q.loader.image.topic('m5')!.partitions.size, 2);
    assert.equal(q.loader.image.topic('rf3'), undefined);
  });

  test('topic configs are validated; the first problem is the message', async () => {
    const res = await q.controller.createTopics([
      { name: 'c1', numPartitions: 1, replicationFactor: 1, configs: [{ name: 'no.such.config', value: '1' }] },
      { name: 'c2', numPartitions: 1, replicationFactor: 1, configs: [{ name: 'retention.ms', value: 'soon' }] },
      { name: 'c3', numPartitions: 1, replicationFactor: 1, configs: [{ name: 'retention.ms', value: null }, { name: 'segment.ms', value: null }] },
      { name: 'c4', numPartitions: 1, replicationFactor: 1, configs: [{ name: 'min.compaction.lag.ms', value: '10' }, { name: 'max.compaction.lag.ms', value: '5' }] },
    ]);
    assert.deepEqual(res.map((r) => r.errorCode), [40, 40, 40, 40]);
    assert.equal(res[0]!.errorMessage, 'Unknown topic config name: no.such.config');
    assert.match(res[1]!.errorMessage!, /^Invalid value 'soon' for configuration retention.ms/);
    assert.equal(res[2]!.errorMessage, 'Null value not supported for topic configs: retention.ms,segment.ms');
    assert.match(res[3]!.errorMessage!, /min.compaction.lag.ms \(10\) must not be greater than max.compaction.lag.ms \(5\)/);
    for (const name of ['c1', 'c2', 'c3', 'c4']) assert.equal(q.loader.image.topic(name), undefined);
  });

  test('validateOnly answers without writing', async () => {
    const before = q.raft.nextOffset;
    const res = await q.controller.createTopics([{ name: 'dry', numPartitions: 2, replicationFactor: 1 }], { validateOnly: true });
    assert.equal(res[0]!.errorCode, 0);
    assert.equal(res[0]!.numPartitions, 2);
    assert.equal(q.loader.image.topic('dry'), undefined);
    assert.equal(q.raft.nextOffset, before);
  });

  test('deletes topics by name and by id', async () => {
    await q.controller.createTopics([{ name: 'd1', numPartitions: 1, replicationFactor: 1 }, { name: 'd2', numPartitions: 1, replicationFactor: 1 },
      { name: 'd3', numPartitions: 1, replicationFactor: 1, configs: [{ name: 'retention.ms', value: '1000' }] }]);
    const d2 = q.loader.image.topic('d2')!.id;
    const res = await q.controller.deleteTopics([
      { name: 'd1' }, { topicId: d2 }, { name: 'd3' }, { name: 'nope' }, { topicId: '0f0f0f0f-0000-4000-8000-000000000000' },
      { topicId: '00000000-0000-0000-0000-000000000000' },
    ]);
    assert.deepEqual(res.map((r) => [r.name, r.errorCode]), [
      ['d1', 0], ['d2', 0], ['d3', 0], ['nope', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION], [null, ErrorCode.UNKNOWN_TOPIC_ID], [null, ErrorCode.INVALID_REQUEST],
    ]);
    assert.equal(res[5]!.errorMessage, 'Attempt to find topic with invalid topicId AAAAAAAAAAAAAAAAAAAAAA');
    const image = q.loader.image;
    for (const name of ['d1', 'd2', 'd3']) assert.equal(image.topic(name), undefined);
    assert.equal(image.topicConfigs('d3').size, 0);
    const dup = await q.controller.deleteTopics([{ name: 'orders' }, { name: 'orders' }]);
    assert.deepEqual(dup.map((r) => [r.errorCode, r.errorMessage]), [[ErrorCode.INVALID_REQUEST, 'Duplicate topic name.'], [ErrorCode.INVALID_REQUEST, 'Duplicate topic name.']]);
    assert.ok(q.loader.image.topic('orders'));
  });

  test('adds partitions only as an increase', async () => {
    const res = await q.controller.createPartitions([
      { name: 'events', count: 4, assignments: null },
      { name: 'orders', count: 3, assignments: null },
      { name: 'm5', count: 1, assignments: null },
      { name: 'ghost', count: 2, assignments: null },
      { name: 'ok_name', count: 3, assignments: [[1]] },
    ]);
    assert.deepEqual(res.map((r) => [r.name, r.errorCode, r.errorMessage]), [
      ['events', 0, null],
      ['orders', ErrorCode.INVALID_PARTITIONS, 'Topic already has 3 partition(s).'],
      ['m5', ErrorCode.INVALID_PARTITIONS, 'The topic m5 currently has 2 partition(s); 1 would not be an increase.'],
      ['ghost', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'This server does not host this topic-partition.'],
      ['ok_name', ErrorCode.INVALID_REPLICA_ASSIGNMENT, 'Attempted to add 2 additional partition(s), but only 1 assignment(s) were specified.'],
    ]);
    const events = q.loader.image.topic('events')!;
    assert.deepEqual([...events.partitions.keys()].sort(), [0, 1, 2, 3]);
    assert.equal(events.partitions.get(3)!.leader, 1);
  });

  test('incremental config changes: set, delete, append, subtract; unknown topics and bad values refused', async () => {
    const res = await q.controller.incrementalAlterConfigs([
      { resourceType: TOPIC, resourceName: 'events', configs: [
        { name: 'retention.ms', configOperation: AlterConfigOp.SET, value: '60000' },
        { name: 'cleanup.policy', configOperation: AlterConfigOp.APPEND, value: 'compact' },
      ] },
      { resourceType: TOPIC, resourceName: 'ghost', configs: [{ name: 'retention.ms', configOperation: AlterConfigOp.SET, value: '1' }] },
      { resourceType: TOPIC, resourceName: 'orders', configs: [{ name: 'retention.ms', configOperation: AlterConfigOp.SET, value: '-7' }] },
      { resourceType: TOPIC, resourceName: 'm5', configs: [{ name: 'retention.ms', configOperation: AlterConfigOp.APPEND, value: '1' }] },
      { resourceType: BROKER, resourceName: '', configs: [{ name: 'log.retention.bytes', configOperation: AlterConfigOp.SET, value: '1048576' }] },
      { resourceType: BROKER, resourceName: 'one', configs: [] },
      { resourceType: BROKER, resourceName: '1', configs: [{ name: 'node.id', configOperation: AlterConfigOp.SET, value: '2' }] },
    ]);
    assert.deepEqual(res.map((r) => r.errorCode), [0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, ErrorCode.INVALID_CONFIG, ErrorCode.INVALID_CONFIG, 0,
      ErrorCode.INVALID_REQUEST, ErrorCode.INVALID_CONFIG]);
    assert.equal(res[1]!.errorMessage, "The topic 'ghost' does not exist.");
    assert.match(res[2]!.errorMessage!, /^Invalid value '-7' for configuration retention.ms/);
    assert.equal(res[3]!.errorMessage, "Can't APPEND to key retention.ms because its type is not LIST.");
    assert.equal(res[5]!.errorMessage, 'Illegal non-integral BROKER resource type name.');
    assert.equal(res[6]!.errorMessage, 'Cannot update these configs dynamically: Set(node.id)');
    let image = q.loader.image;
    assert.deepEqual([...image.topicConfigs('events')].sort(), [['cleanup.policy', 'delete,compact'], ['retention.ms', '60000']]);
    assert.equal(image.clusterDefaultConfigs().get('log.retention.bytes'), '1048576');

    const res2 = await q.controller.incrementalAlterConfigs([{ resourceType: TOPIC, resourceName: 'events', configs: [
      { name: 'retention.ms', configOperation: AlterConfigOp.DELETE, value: null },
      { name: 'cleanup.policy', configOperation: AlterConfigOp.SUBTRACT, value: 'delete' },
    ] }]);
    assert.equal(res2[0]!.errorCode, 0);
    image = q.loader.image;
    assert.deepEqual([...image.topicConfigs('events')], [['cleanup.policy', 'compact']]);
  });

  test('legacy AlterConfigs replaces the whole set', async () => {
    await q.controller.incrementalAlterConfigs([{ resourceType: TOPIC, resourceName: 'orders', configs: [
      { name: 'retention.ms', configOperation: AlterConfigOp.SET, value: '1000' }] }]);
    const res = await q.controller.alterConfigs([{ resourceType: TOPIC, resourceName: 'orders', configs: [{ name: 'segment.ms', value: '3600000' }] }]);
    assert.equal(res[0]!.errorCode, 0);
    assert.deepEqual([...q.loader.image.topicConfigs('orders')], [['segment.ms', '3600000']]);
    const dup = await q.controller.alterConfigs([
      { resourceType: TOPIC, resourceName: 'orders', configs: [] },
      { resourceType: TOPIC, resourceName: 'orders', configs: [] },
    ]);
    assert.deepEqual(dup.map((r) => [r.errorCode, r.errorMessage]), [[ErrorCode.INVALID_REQUEST, 'Duplicate resource.'], [ErrorCode.INVALID_REQUEST, 'Duplicate resource.']]);
    assert.deepEqual([...q.loader.image.topicConfigs('orders')], [['segment.ms', '3600000']]);
  });

  test('producer id blocks of 1000, checked against the broker epoch', async () => {
    const a = await q.controller.allocateProducerIds(1, epoch);
    const b = await q.controller.allocateProducerIds(1, epoch);
    assert.equal(a.errorCode, 0);
    assert.equal(a.producerIdLen, 1000);
    assert.equal(b.producerIdStart, a.producerIdStart + 1000);
    assert.equal(q.loader.image.producerIds.nextProducerId, b.producerIdStart + 1000);
    const stale = await q.controller.allocateProducerIds(1, epoch + 1);
    assert.deepEqual([stale.errorCode, stale.errorMessage], [ErrorCode.STALE_BROKER_EPOCH, `Expected broker epoch ${epoch}, but got broker epoch ${epoch + 1}`]);
    const unknown = await q.controller.allocateProducerIds(9, 0);
    assert.deepEqual([unknown.errorCode, unknown.errorMessage], [ErrorCode.STALE_BROKER_EPOCH, 'No broker registration found for broker 9']);
  });

  test('a second incarnation of a live broker is refused; the same incarnation gets its epoch back', async () => {
    const inc = q.loader.image.broker(1)!.incarnationId;
    const same = await q.controller.registerBroker(brokerRegistration(1, inc));
    assert.deepEqual([same.errorCode, same.brokerEpoch], [0, epoch]);
    const other = await q.controller.registerBroker(brokerRegistration(1, crypto.randomUUID()));
    assert.equal(other.errorCode, ErrorCode.DUPLICATE_BROKER_REGISTRATION);
  });

  test('concurrent operations are serialized and all committed', async () => {
    const names = Array.from({ length: 30 }, (_, i) => `burst-${i}`);
    const results = await Promise.all(names.map((name) => q.controller.createTopics([{ name, numPartitions: 1, replicationFactor: 1 }])));
    assert.ok(results.every((r) => r[0]!.errorCode === 0));
    const ids = new Set(results.map((r) => r[0]!.topicId));
    assert.equal(ids.size, 30);
    for (const name of names) assert.ok(q.loader.image.topic(name));
    assert.deepEqual(summarizeImage(q.controller.image), summarizeImage(q.loader.image));
  });

  test('a restart replays the log to the same image; leaders come back with higher epochs', async () => {
    const beforeImage = summarizeImage(q.loader.image) as { topics: unknown[] };
    const leaderEpoch = q.loader.image.partition('orders', 0)!.leaderEpoch;
    await q.close();
    const q2 = await openQuorum(dir);
    try {
      assert.deepEqual(summarizeImage(q2.loader.image), beforeImage);
      assert.equal(q2.raft.leaderAndEpoch.epoch, 2);
      assert.equal(q2.loader.image.features.metadataVersion, 21);
      // Registering the broker's next incarnation takes leadership away, unfencing gives it back.
      const epoch2 = await q2.controller.registerLocalBroker(brokerRegistration(1, crypto.randomUUID()));
      assert.ok(epoch2 > epoch);
      const p = q2.loader.image.partition('orders', 0)!;
      assert.equal(p.leader, 1);
      assert.equal(p.leaderEpoch, leaderEpoch + 2);
      assert.deepEqual(p.isr, [1]);
    } finally {
      q = q2;
    }
  });
});

describe('placement over several brokers', () => {
  test('round-robins leaders over unfenced brokers; fenced ones take no new partitions', async () => {
    const { dir, cleanup } = await tempDir();
    const q = await openQuorum(dir, { controller: { defaultReplicationFactor: 2 } });
    try {
      const epochs: number[] = [];
      for (const id of [1, 2, 3]) {
        epochs[id] = (await q.controller.registerBroker({ ...brokerRegistration(id, crypto.randomUUID()), logDirs: [] })).brokerEpoch;
        assert.equal((await q.controller.unfenceBroker(id, epochs[id]!)).errorCode, 0);
      }
      const res = await q.controller.createTopics([{ name: 'spread', numPartitions: 3, replicationFactor: -1 }]);
      assert.equal(res[0]!.replicationFactor, 2);
      const t = q.loader.image.topic('spread')!;
      assert.deepEqual([0, 1, 2].map((i) => t.partitions.get(i)!.replicas), [[1, 2], [2, 3], [3, 1]]);
      assert.deepEqual(t.partitions.get(0)!.directories, [UNASSIGNED_DIRECTORY, UNASSIGNED_DIRECTORY]);

      // Fencing broker 2 moves its leadership to the next ISR member and drops it from ISRs.
      assert.equal((await q.controller.fenceBroker(2, epochs[2]!)).errorCode, 0);
      const after = q.loader.image.topic('spread')!;
      assert.equal(after.partitions.get(1)!.leader, 3);
      assert.deepEqual(after.partitions.get(0)!.isr, [1]);
      assert.equal(after.partitions.get(0)!.leaderEpoch, 0);
      // A partition broker 2 is not part of is left alone.
      assert.equal(after.partitions.get(2), t.partitions.get(2));
      const more = await q.controller.createTopics([{ name: 'spread2', numPartitions: 2, replicationFactor: 2 }]);
      assert.equal(more[0]!.errorCode, 0);
      for (const p of q.loader.image.topic('spread2')!.partitions.values()) assert.ok(!p.replicas.includes(2));
    } finally {
      await q.close();
      await cleanup();
    }
  });
});
