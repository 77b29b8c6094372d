import { test } from 'node:test';
import assert from 'node:assert/strict';
import fsp from 'node:fs/promises';
import { join } from 'node:path';
import { ManualClock } from '../../../src/storage/clock.js';
import { LogCleaner, type CleanerEvent } from '../../../src/storage/cleaner/log-cleaner.js';
import { DirLog } from './dir-log.js';
import { appendRandom, compactConfig, prng, tempLogDir } from './fixtures.js';

const T0 = 1_700_000_000_000;

async function filledLog(dir: string, seed = 1): Promise<DirLog> {
  const log = await DirLog.open(dir, compactConfig({ segmentBytes: 1024 }));
  let ts = T0;
  await appendRandom(log, prng(seed), { batches: 60, keys: 10, timestamp: () => (ts += 1) });
  await log.roll();
  return log;
}

test('aborting a running clean discards its output, keeps the checkpoint, and pauses the partition', async () => {
  const { dir, cleanup } = await tempLogDir();
  try {
    const log = await filledLog(dir);
    const segmentsBefore = log.segments().length;
    const events: CleanerEvent[] = [];
    const cleaner = new LogCleaner({ logs: () => [log], clock: new ManualClock(T0), onEvent: (e) => events.push(e) });
    let abort: Promise<void> | undefined;
    log.beforeSwap = async () => {
      // The log layer asks to stop this partition's cleaning in the middle of it (e.g. a truncation).
      abort ??= cleaner.abortAndPauseCleaning(log.name);
    };
    const cleaned = cleaner.cleanOnce();
    assert.equal(await cleaned, true);
    await abort;
    assert.deepEqual(events.map((e) => e.kind), ['aborted']);
    // The group being swapped when the abort came completes; the clean stops before the next one.
    assert.equal(log.replaceCount, 1);
    assert.ok(segmentsBefore > 3);
    assert.deepEqual((await fsp.readdir(dir)).filter((n) => n.includes('.cleaned') || n.includes('.swap')), []);
    assert.equal(await cleaner.manager.checkpointOf(log), undefined);
    assert.equal(cleaner.manager.isPaused(log.name), true);
    assert.equal(await cleaner.cleanOnce(), false);
    cleaner.resumeCleaning(log.name);
    log.beforeSwap = undefined;
    assert.equal(await cleaner.cleanOnce(), true);
    assert.equal(events.at(-1)?.kind, 'cleaned');
    assert.equal(await cleaner.manager.checkpointOf(log), log.segmentBases.at(-1));
  } finally {
    await cleanup();
  }
});

test('the background runner cleans, backs off when idle, and shuts down promptly', async () => {
  const { root, cleanup } = await tempLogDir();
  try {
    const logs = [await filledLog(join(root, 'a-0'), 1), await filledLog(join(root, 'b-0'), 2)];
    const cleanedLogs: string[] = [];
    let idleSleeps = 0;
    let allCleaned!: () => void;
    const done = new Promise<void>((r) => (allCleaned = r));
    const cleaner = new LogCleaner({
      config: { backoffMs: 15000 },
      logs: () => logs,
      clock: new ManualClock(T0),
      // Idle back-off waits until shutdown aborts it: no real time passes in this test.
      sleep: (ms, signal) => {
        assert.equal(ms, 15000);
        idleSleeps++;
        allCleaned();
        return new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
      },
      onEvent: (e) => {
        if (e.kind === 'failed') throw e.error;
        if (e.kind === 'cleaned') cleanedLogs.push(e.log);
      },
    });
    cleaner.start();
    assert.equal(cleaner.isRunning, true);
    await done;
    await cleaner.shutdown();
    assert.equal(cleaner.isRunning, false);
    assert.deepEqual(cleanedLogs.sort(), ['a-0', 'b-0']);
    assert.equal(idleSleeps, 1);
  } finally {
    await cleanup();
  }
});

test('a log with a corrupt batch is marked uncleanable and skipped, others still clean', async () => {
  const { root, cleanup } = await tempLogDir();
  try {
    const bad = await filledLog(join(root, 'bad-0'), 3);
    const good = await filledLog(join(root, 'good-0'), 4);
    // Flip a byte inside the first batch's records: its CRC no longer matches.
    const first = join(bad.dir, '00000000000000000000.log');
    const bytes = await fsp.readFile(first);
    bytes[70] ^= 0xff;
    await fsp.writeFile(first, bytes);
    const events: CleanerEvent[] = [];
    const cleaner = new LogCleaner({ logs: () => [bad, good], clock: new ManualClock(T0), onEvent: (e) => events.push(e) });
    while (await cleaner.cleanOnce()) {
      if (events.length > 5) break;
    }
    const failed = events.find((e) => e.kind === 'failed');
    assert.equal(failed?.log, 'bad-0');
    assert.match(String((failed?.error as Error).message), /CRC/);
    assert.equal(cleaner.manager.isUncleanable('bad-0'), true);
    assert.ok(events.some((e) => e.kind === 'cleaned' && e.log === 'good-0'));
    assert.deepEqual((await fsp.readdir(bad.dir)).filter((n) => n.endsWith('.cleaned')), []);
  } finally {
    await cleanup();
  }
});

test('a checkpoint beyond the log end is reset to the log start', async () => {
  const { root, dir, cleanup } = await tempLogDir();
  try {
    const log = await filledLog(dir);
    await fsp.writeFile(join(root, 'cleaner-offset-checkpoint'), `0\n1\ntopic 0 ${log.logEndOffset + 100}\n`);
    const cleaner = new LogCleaner({ logs: () => [log], clock: new ManualClock(T0) });
    const ltc = await cleaner.manager.measure(log, T0);
    assert.equal(ltc.firstDirtyOffset, 0);
    assert.equal(await fsp.readFile(join(root, 'cleaner-offset-checkpoint'), 'utf8'), '0\n1\ntopic 0 0\n');
  } finally {
    await cleanup();
  }
});

test('log.cleaner.io.max.bytes.per.second slows the cleaner to the cap', async () => {
  const { dir, cleanup } = await tempLogDir();
  try {
    const log = await filledLog(dir, 8);
    // Time moves 10 ms per reading of the clock while working, and by the full wait when throttled.
    let now = T0;
    const clock = { now: () => (now += 10) };
    let slept = 0;
    let io = 0;
    const cleaner = new LogCleaner({
      config: { maxIoBytesPerSecond: 20_000, ioBufferSize: 2048 },
      logs: () => [log],
      clock,
      sleep: async (ms) => {
        slept += ms;
        now += ms;
      },
      onEvent: (e) => {
        if (e.stats) io += e.stats.bytesRead + e.stats.bytesWritten + e.stats.mapBytesRead;
      },
    });
    const start = now;
    assert.equal(await cleaner.cleanOnce(), true);
    const seconds = (now - start) / 1000;
    assert.ok(slept > 0, 'the throttle never waited');
    assert.ok(io / seconds <= 20_000 * 1.2, `ran at ${Math.round(io / seconds)} B/s`);
  } finally {
    await cleanup();
  }
});
