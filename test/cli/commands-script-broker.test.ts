// The client commands end to end against the in-test broker (real sockets, the generated codecs on both
// sides, produced batches stored and served as bytes), for the paths `strata start` does not serve yet.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ApiKey } from '../../src/protocol/generated/apis.js';
import type { ProduceRequest } from '../../src/protocol/generated/messages/produce.js';
import { readBatchHeader } from '../../src/protocol/records/batch-header.js';
import { decodeBatchRecords } from '../../src/protocol/records/batch-records.js';
import { partitionForKey } from '../../src/client/partitioner.js';
import { ScriptBroker } from '../client/helpers/script-broker.js';
import { runCli } from './helpers/run-cli.js';

let broker: ScriptBroker;
let b: string[];

before(async () => {
  broker = await ScriptBroker.start();
  b = ['--bootstrap-server', broker.address];
});

after(() => broker.close());

test('topic create / describe / alter-config / alter / delete print for people and for scripts', async () => {
  const create = await runCli(['topic', 'create', 'events', '--partitions', '3', '--config', 'retention.ms=1000', ...b]);
  assert.equal(create.code, 0, create.stderr);
  assert.equal(create.stdout, "Created topic 'events' (3 partitions, replication factor 1).\n");
  assert.equal(broker.topics.get('events')!.configs.get('retention.ms'), '1000');

  const again = await runCli(['topic', 'create', 'events', ...b]);
  assert.equal(again.code, 1);
  assert.equal(again.stderr, "error: topic 'events' already exists (TOPIC_ALREADY_EXISTS)\n");
  const tolerant = await runCli(['topic', 'create', 'events', '--if-not-exists', ...b]);
  assert.equal(tolerant.code, 0, tolerant.stderr);

  const rf = await runCli(['topic', 'create', 'wide', '--replication-factor', '3', ...b]);
  assert.equal(rf.code, 1);
  assert.match(rf.stderr, /^error: topic 'wide': Unable to replicate the partition 3 time\(s\).*\(INVALID_REPLICATION_FACTOR\)\n$/);

  const alter = await runCli(['topic', 'alter-config', 'events', '--set', 'segment.ms=5', '--delete', 'retention.ms', ...b]);
  assert.equal(alter.code, 0, alter.stderr);
  assert.equal(alter.stdout, "Updated 2 configs of topic 'events'.\n");
  assert.deepEqual([...broker.topics.get('events')!.configs], [['segment.ms', '5']]);
  const nothing = await runCli(['topic', 'alter-config', 'events', ...b]);
  assert.equal(nothing.code, 1);
  assert.match(nothing.stderr, /nothing to change/);

  const grow = await runCli(['topic', 'alter', 'events', '--partitions', '4', ...b]);
  assert.equal(grow.code, 0, grow.stderr);

  const describe = await runCli(['topic', 'describe', 'events', '--json', ...b]);
  assert.equal(describe.code, 0, describe.stderr);
  const [d] = JSON.parse(describe.stdout) as { name: string; topicId: string; partitions: { partition: number; leader: number }[]; configs: Record<string, string> }[];
  assert.equal(d!.topicId, broker.topics.get('events')!.topicId);
  assert.deepEqual(d!.partitions.map((p) => [p.partition, p.leader]), [[0, 1], [1, 1], [2, 1], [3, 1]]);
  assert.deepEqual(d!.configs, { 'segment.ms': '5' });
  const text = await runCli(['topic', 'describe', 'events', ...b]);
  assert.match(text.stdout, /^Topic: events\tTopicId: \S+\tPartitionCount: 4\tReplicationFactor: 1\tConfigs: segment\.ms=5\n/);
  assert.match(text.stdout, /\n +3 +1 +1 +1\n$/);

  const list = await runCli(['topic', 'list', ...b]);
  assert.equal(list.stdout, 'events\n');
  const del = await runCli(['topic', 'delete', 'events', 'ghost', ...b]);
  assert.equal(del.code, 1);
  assert.equal(del.stdout, "Deleted topic 'events'.\n");
  assert.equal(del.stderr, "error: topic 'ghost' does not exist (UNKNOWN_TOPIC_OR_PARTITION)\n");
  assert.equal((await runCli(['topic', 'delete', 'ghost', '--if-exists', ...b])).code, 0);
});

test('produce sends stdin lines with keys and headers; consume prints them back in the chosen format', async () => {
  broker.addTopic('lines', 2);
  const input = 'k1\tone\nk2\ttwo\nk1\tthree\n\tempty-key\n';
  const produce = await runCli(['produce', '--topic', 'lines', '--key-separator', '\t', '--header', 'origin=cli', '--header', 'n=1', '--json', ...b], { input });
  assert.equal(produce.code, 0, produce.stderr);
  const summary = JSON.parse(produce.stdout) as { records: number; partitions: { partition: number; records: number }[] };
  assert.equal(summary.records, 4);
  const p1 = partitionForKey(Buffer.from('k1'), 2);
  const stored = broker.topics.get('lines')!.partitions[p1]!.batches;
  const records = (await Promise.all(stored.map((s) => decodeBatchRecords(s.bytes, { position: 0, size: s.bytes.length, header: readBatchHeader(s.bytes, 0) })))).flat();
  assert.deepEqual(records.filter((r) => r.key?.toString() === 'k1').map((r) => r.value!.toString()), ['one', 'three']);
  assert.deepEqual(records[0]!.headers.map((h) => [h.key, h.value!.toString()]), [['origin', 'cli'], ['n', '1']]);

  const json = await runCli(['consume', '--topic', 'lines', '--from-beginning', '--count', '4', '--json', ...b]);
  assert.equal(json.code, 0, json.stderr);
  const got = json.stdout.trim().split('\n').map((l) => JSON.parse(l) as { key: string; value: string; partition: number; offset: number });
  assert.deepEqual(got.map((r) => `${r.key}=${r.value}`).sort(), ['=empty-key', 'k1=one', 'k1=three', 'k2=two']);
  assert.equal(json.stderr, '', '--json keeps stderr quiet when not a terminal');

  const text = await runCli(['consume', '--topic', 'lines', '--partition', String(p1), '--offset', '1', '--timeout-ms', '300', '--print-key', '--print-headers', '--print-offset', ...b]);
  assert.equal(text.code, 0, text.stderr);
  const expected = records.slice(1).map((r, i) => `Offset:${i + 1}\torigin:cli,n:1\t${r.key!.toString()}\t${r.value!.toString()}\n`).join('');
  assert.equal(text.stdout, expected);
  assert.match(text.stderr, /^Processed a total of \d+ messages?\n$/);
});

test('produce to one partition, in batches, with compression; consume from the end sees only new records', async () => {
  broker.addTopic('bulk', 3);
  const lines = Array.from({ length: 250 }, (_, i) => `line-${i}`);
  const produce = await runCli(['produce', '--topic', 'bulk', '--partition', '2', '--batch-size', '100', '--compression', 'gzip', '--acks', '1', ...b], { input: `${lines.join('\n')}\n` });
  assert.equal(produce.code, 0, produce.stderr);
  const reqs = broker.requestsOf(ApiKey.Produce).filter((r) => (r.body as ProduceRequest).topicData[0]!.name === 'bulk');
  assert.equal(reqs.length, 3, '250 lines in batches of 100');
  assert.ok(reqs.every((r) => (r.body as ProduceRequest).acks === 1));
  assert.equal(broker.topics.get('bulk')!.partitions[2]!.nextOffset, 250);

  const all = await runCli(['consume', '--topic', 'bulk', '--from-beginning', '--count', '250', ...b]);
  assert.equal(all.stdout, lines.map((l) => `${l}\n`).join(''));
  const fromEnd = await runCli(['consume', '--topic', 'bulk', '--timeout-ms', '300', ...b]);
  assert.equal(fromEnd.code, 0, fromEnd.stderr);
  assert.equal(fromEnd.stdout, '');
  assert.equal(fromEnd.stderr, 'Processed a total of 0 messages\n');

  // No --count or --timeout-ms: it runs until interrupted, then says how much it printed and exits 0.
  const first = `${lines[0]}\n`;
  const stamped = await runCli(['consume', '--topic', 'bulk', '--partition', '2', '--offset', '0', '--print-timestamp', '--print-partition', ...b], { interruptAfterBytes: 1 });
  assert.equal(stamped.code, 0, stamped.stderr);
  assert.match(stamped.stdout.split('\n')[0]!, /^CreateTime:\d{13}\tPartition:2\tline-0$/);
  assert.ok(stamped.stdout.length >= first.length);
  assert.match(stamped.stderr, /^Processed a total of \d+ messages\n$/);
});

test('produce and consume fail clearly for a missing topic, a bad partition or a line without key separator', async () => {
  broker.addTopic('small', 1);
  const noTopic = await runCli(['produce', '--topic', 'absent', ...b], { input: 'x\n' });
  assert.equal(noTopic.code, 1);
  assert.equal(noTopic.stderr, "error: topic 'absent' does not exist (UNKNOWN_TOPIC_OR_PARTITION)\n");
  const badPartition = await runCli(['produce', '--topic', 'small', '--partition', '5', ...b], { input: 'x\n' });
  assert.equal(badPartition.code, 1);
  assert.equal(badPartition.stderr, "error: topic 'small' has 1 partitions; partition 5 does not exist\n");
  const noSep = await runCli(['produce', '--topic', 'small', '--key-separator', ':', ...b], { input: 'a:1\nno separator\n' });
  assert.equal(noSep.code, 1);
  assert.equal(noSep.stderr, "error: line 2 has no key separator ':'\n");
  const consumeMissing = await runCli(['consume', '--topic', 'absent', '--count', '1', ...b]);
  assert.equal(consumeMissing.code, 1);
  assert.equal(consumeMissing.stderr, "error: topic 'absent' does not exist (UNKNOWN_TOPIC_OR_PARTITION)\n");
  const outOfRange = await runCli(['consume', '--topic', 'small', '--partition', '0', '--offset', '99', '--count', '1', ...b]);
  assert.equal(outOfRange.code, 1);
  assert.equal(outOfRange.stderr, "error: the offset asked for is outside the range topic 'small' partition 0 holds (OFFSET_OUT_OF_RANGE)\n");
  const both = await runCli(['consume', '--topic', 'small', '--from-beginning', '--from-end', ...b]);
  assert.equal(both.code, 1);
  assert.match(both.stderr, /give only one of/);
});
