// Child process for crash.test.ts: fills a compacted log from a seed, writes the records it appended
// to `<dir>/../expected.json`, prints "ready", then cleans in many small passes (a tiny offset map and
// small segments, so there are many swaps) until killed. Mode `dir` uses the test's DirLog (the
// cleaner's own swap functions), mode `log` the storage Log through the cleaner's adapter.
import fsp from 'node:fs/promises';
import { join } from 'node:path';
import { Compression } from '../../../src/protocol/records/batch-header.js';
import { ManualClock } from '../../../src/storage/clock.js';
import type { CleanableLog } from '../../../src/storage/cleaner/cleanable-log.js';
import { cleanableLog } from '../../../src/storage/cleaner/log-adapter.js';
import { LogCleaner } from '../../../src/storage/cleaner/log-cleaner.js';
import { Log } from '../../../src/storage/log.js';
import { DirLog } from './dir-log.js';
import { appendRandom, compactConfig, prng, type AppendedRecord } from './fixtures.js';

const [dir, seedText, mode] = process.argv.slice(2);
const seed = Number(seedText);
const config = compactConfig({ segmentBytes: 1024, fileDeleteDelayMs: 0 });
const random = prng(seed);
let ts = 1_700_000_000_000;
const clock = new ManualClock(ts);
let target: CleanableLog;
let appended: AppendedRecord[];
let end: number;
let purge = async (): Promise<void> => undefined;
if (mode === 'log') {
  const log = await Log.open({ dir: dir!, config, clock });
  // The same random records, appended through the Log's leader path (which assigns the offsets).
  const staging = await DirLog.open(join(dir!, '..', 'staging-0'), config);
  appended = await appendRandom(staging, random, {
    batches: 150, keys: 30, tombstoneRate: 0.1, timestamp: () => (ts += 1),
    compressions: [Compression.none, Compression.gzip, Compression.lz4],
  });
  for (const b of await staging.batches()) await log.append(Buffer.from(b.bytes));
  await log.roll();
  log.updateHighWatermark(log.logEndOffset);
  await log.flush();
  end = log.logEndOffset;
  target = cleanableLog(log);
  purge = async () => {
    await log.purgeDeletedSegments();
  };
} else {
  const log = await DirLog.open(dir!, config);
  appended = await appendRandom(log, random, {
    batches: 150, keys: 30, tombstoneRate: 0.1, timestamp: () => (ts += 1),
    compressions: [Compression.none, Compression.gzip, Compression.lz4],
  });
  await log.roll();
  end = log.logEndOffset;
  target = log;
}
await fsp.writeFile(join(dir!, '..', 'expected.json'), JSON.stringify({ appended, end }));
process.stdout.write('ready\n');
for (;;) {
  const cleaner = new LogCleaner({ config: { dedupeBufferSize: 24 * 12, ioBufferSize: 4096 }, logs: () => [target], clock });
  while (await cleaner.cleanOnce()) {
    clock.advance(1);
    await purge();
  }
  // Start over from the log start so the swaps never stop.
  await fsp.rm(join(dir!, '..', 'cleaner-offset-checkpoint'), { force: true });
  clock.advance(1000);
}
