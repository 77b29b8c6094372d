import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fsp from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Cleaner } from '../../../src/storage/cleaner/cleaner.js';
import { OffsetMap } from '../../../src/storage/cleaner/offset-map.js';
import { commitCleanedSegment, completeSwap, retireSegmentFiles } from '../../../src/storage/cleaner/segment-swap.js';
import type { CleanerSegment } from '../../../src/storage/cleaner/cleanable-log.js';
import { segmentFileName } from '../../../src/storage/cleaner/cleaned-segment.js';
import { Log } from '../../../src/storage/log.js';
import { iterateBatches } from '../../../src/protocol/records/batches.js';
import { decodeBatchRecords } from '../../../src/protocol/records/batch-records.js';
import { DirLog } from './dir-log.js';
import { appendRandom, assertOffsetsIncrease, compactConfig, flatten, latestByKey, prng, tempLogDir, type AppendedRecord } from './fixtures.js';

const here = fileURLToPath(new URL('.', import.meta.url));

/** What must hold after any crash: offsets unique and increasing, each key's latest record present, nothing invented. */
async function assertRecovered(dir: string, appended: readonly AppendedRecord[], end: number): Promise<void> {
  const log = await DirLog.open(dir, compactConfig({ segmentBytes: 1024 }));
  const batches = await log.batches();
  assertOffsetsIncrease(batches);
  const stored = flatten(batches);
  const byOffset = new Map(appended.map((r) => [r.offset, r]));
  for (const r of stored) {
    const orig = byOffset.get(r.offset);
    assert.ok(orig !== undefined, `offset ${r.offset} was never appended`);
    assert.deepEqual([r.key, r.value], [orig.key, orig.value], `offset ${r.offset} changed`);
  }
  const present = new Set(stored.map((r) => r.offset));
  for (const [key, latest] of latestByKey(appended, end)) {
    assert.ok(present.has(latest.offset), `latest record of ${key} at ${latest.offset} was lost`);
  }
  assert.equal(log.logEndOffset, end);
  assert.deepEqual((await fsp.readdir(dir)).filter((n) => n.endsWith('.cleaned') || n.endsWith('.swap')), []);
}

/** The same checks through the storage Log's own open (its recovery completes swaps too) and reads. */
async function assertRecoveredByLog(dir: string, appended: readonly AppendedRecord[], end: number): Promise<void> {
  const log = await Log.open({ dir, config: compactConfig({ segmentBytes: 1024 }) });
  try {
    assert.equal(log.logEndOffset, end);
    log.updateHighWatermark(end);
    const records: { offset: number; key: string | null; value: string | null }[] = [];
    let next = log.logStartOffset;
    while (next < end) {
      const r = await log.read(next, 1 << 20);
      if (r.records.length === 0) break;
      const buf = Buffer.concat(r.records);
      for (const info of iterateBatches(buf)) {
        for (const rec of await decodeBatchRecords(buf, info)) {
          records.push({ offset: rec.offset, key: rec.key?.toString() ?? null, value: rec.value?.toString() ?? null });
        }
        next = info.header.baseOffset + info.header.lastOffsetDelta + 1;
      }
    }
    for (let i = 1; i < records.length; i++) assert.ok(records[i]!.offset > records[i - 1]!.offset, 'offsets must increase');
    const byOffset = new Map(records.map((r) => [r.offset, r]));
    for (const [key, latest] of latestByKey(appended, end)) {
      assert.deepEqual(byOffset.get(latest.offset), latest, `latest record of ${key} lost (read through Log)`);
    }
  } finally {
    await log.close();
  }
}

async function fill(dir: string, seed: number): Promise<{ log: DirLog; appended: AppendedRecord[]; end: number }> {
  const log = await DirLog.open(dir, compactConfig({ segmentBytes: 1024 }));
  let ts = 1_700_000_000_000;
  const appended = await appendRandom(log, prng(seed), { batches: 80, keys: 15, tombstoneRate: 0.1, timestamp: () => (ts += 1) });
  await log.roll();
  return { log, appended, end: log.logEndOffset };
}

test('a crash at each step of a swap leaves a log that reopens with every latest value', async () => {
  const { root, dir, cleanup } = await tempLogDir('swap');
  try {
    const { log, appended, end } = await fill(dir, 11);
    const snapshots: string[] = [];
    const snapshot = async (): Promise<void> => {
      const copy = join(root, `crash-${snapshots.length}`, 'topic-0');
      await fsp.cp(dir, copy, { recursive: true });
      snapshots.push(copy);
    };
    // Replace the log's swap with the same steps, copying the directory between them as a crash would leave it.
    let first = true;
    log.replaceSegments = async (newBase: number, old: readonly CleanerSegment[]): Promise<void> => {
      if (first) {
        first = false;
        await snapshot(); // only .cleaned files
        await commitCleanedSegment(dir, newBase);
        await snapshot(); // .swap, nothing retired
        await retireSegmentFiles(dir, old[0]!.baseOffset);
        await snapshot(); // the same-base segment retired, the others not
        for (const s of old.slice(1)) await retireSegmentFiles(dir, s.baseOffset);
        await snapshot(); // all retired, swap not completed
        await fsp.rename(join(dir, segmentFileName(newBase, '.index.swap')), join(dir, segmentFileName(newBase, '.index')));
        await snapshot(); // swap half completed
        await completeSwap(dir, newBase);
        await snapshot(); // done (with .deleted files)
        throw new Error('stop after the first group');
      }
    };
    const cleaner = new Cleaner({ offsetMap: new OffsetMap({ memory: 24 * 1000 }) });
    await assert.rejects(cleaner.clean(log, 0, end, 1_700_000_100_000), /stop after the first group/);
    assert.equal(snapshots.length, 6);
    for (const copy of snapshots) {
      // Each copy is reopened twice: by the storage Log's recovery, and by the cleaner's own.
      const second = copy.replace('/topic-0', '-log/topic-0');
      await fsp.cp(copy, second, { recursive: true });
      await assertRecoveredByLog(second, appended, end);
      await assertRecovered(second, appended, end);
      await assertRecovered(copy, appended, end);
    }
  } finally {
    await cleanup();
  }
});

test('kill -9 at random moments while cleaning never loses a latest value or duplicates an offset', async () => {
  const random = prng(Number(process.env.CLEANER_CRASH_SEED ?? Date.now() % 100_000));
  const runs = 8;
  let interrupted = 0;
  for (let run = 0; run < runs; run++) {
    const { dir, cleanup } = await tempLogDir('kill');
    try {
      const mode = run % 2 === 0 ? 'dir' : 'log';
      const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'crash-child.ts'), dir, String(run + 1), mode], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => {
          if (d.toString().includes('ready')) resolve();
        });
        child.on('exit', (code) => reject(new Error(`child exited early (${code})`)));
      });
      await new Promise((r) => setTimeout(r, 20 + Math.floor(random() * 400)));
      const exited = new Promise((r) => child.on('exit', r));
      child.kill('SIGKILL');
      await exited;
      // Files only a clean in flight (or its delayed deletes) leaves: evidence the kill hit cleaning.
      if ((await fsp.readdir(dir)).some((n) => /\.(cleaned|swap|deleted)$/.test(n))) interrupted++;
      const { appended, end } = JSON.parse(await fsp.readFile(join(dir, '..', 'expected.json'), 'utf8')) as { appended: AppendedRecord[]; end: number };
      if (mode === 'log') {
        // The production path first: the Log's own open completes or discards what the kill left.
        await assertRecoveredByLog(dir, appended, end);
        await assertRecovered(dir, appended, end);
      } else {
        await assertRecovered(dir, appended, end);
        await assertRecoveredByLog(dir, appended, end);
      }
    } finally {
      await cleanup();
    }
  }
  assert.ok(interrupted > 0, 'no run was killed while cleaning');
});
