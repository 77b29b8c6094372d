import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConsumerSummary, parseProducerSummary, partitionArgs, readLatencyFile, xArgs } from '../../../bench/lib/rdkafka-perf.js';

// Lines as rdkafka_performance (librdkafka 2.12) prints them: periodic summaries, then the final one.
const PRODUCER_OUT = `% Sending 300000 messages of size 1024 bytes
% 120000 messages produced (122880000 bytes), 110000 delivered (offset 100, 0 failed) in 1000ms: 110000 msgs/s and 112.64 MB/s, 0 produce failures, 10000 in queue, no compression
% 105 backpressures for 300000 produce calls: 0.035% backpressure rate
% 300000 messages produced (307200000 bytes), 299990 delivered (offset 45638, 10 failed) in 772ms: 388507 msgs/s and 397.83 MB/s, 105 produce failures, 0 in queue, no compression
`;

const CONSUMER_OUT = `% Consumer reached end of e2e [5] message queue at offset 5051
% 30001 messages (30720008 bytes) consumed in 5626ms: 5332 msgs/s (5.46 MB/s), latency curr/avg/lo/hi 1112.76/669.23/0.25/1158.69ms
% Average application fetch latency: 204us
`;

test('the producer summary is the last one printed, counting delivered messages', () => {
  const s = parseProducerSummary(PRODUCER_OUT);
  assert.deepEqual(s, { msgs: 299_990, bytes: 307_189_760, ms: 772, msgsPerSec: 388_507, mbPerSec: 397.83, failed: 10 });
});

test('the consumer summary, with or without a latency suffix', () => {
  assert.deepEqual(parseConsumerSummary(CONSUMER_OUT), { msgs: 30_001, bytes: 30_720_008, ms: 5626, msgsPerSec: 5332, mbPerSec: 5.46 });
  assert.equal(parseConsumerSummary('% 10 messages (10240 bytes) consumed in 3ms: 3333 msgs/s (3.41 MB/s)\n')?.msgs, 10);
});

test('no summary yields undefined, not zeros', () => {
  assert.equal(parseProducerSummary('%3|1|FAIL|rdkafka#producer-1| Connection refused\n'), undefined);
  assert.equal(parseConsumerSummary(''), undefined);
});

test('latency files become a histogram in microseconds', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'strata-bench-test-'));
  try {
    const file = join(dir, 'lat');
    await writeFile(file, Array.from({ length: 1000 }, (_, i) => String(i + 1)).join('\n') + '\n');
    const h = await readLatencyFile(file);
    assert.equal(h.count, 1000);
    assert.ok(Math.abs(h.percentile(50) - 500) <= 500 / 64);
    assert.equal((await readLatencyFile(join(dir, 'missing'))).count, 0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('argument helpers', () => {
  assert.deepEqual(xArgs({ 'linger.ms': 5, 'enable.idempotence': true }), ['-X', 'linger.ms=5', '-X', 'enable.idempotence=true']);
  assert.deepEqual(partitionArgs(3), ['-p', '0', '-p', '1', '-p', '2']);
});
