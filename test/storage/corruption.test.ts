// Damaged files: recovery truncates at the first bad batch or rebuilds an index, never serves a bad
// batch, and says what it did (the recovery report and a log line).
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readInt64 } from '../../src/protocol/records/batch-header.js';
import { batchProblem } from '../../src/storage/batch-scan.js';
import type { StorageLogger } from '../../src/storage/log.js';
import { batch, openLog, readAll, tempDir } from './helpers.js';

function capture(): StorageLogger & { lines: string[] } {
  const lines: string[] = [];
  return { lines, info: (m) => lines.push(`info ${m}`), warn: (m) => lines.push(`warn ${m}`) };
}

async function flip(file: string, position: number): Promise<void> {
  const fh = await fs.open(file, 'r+');
  const b = Buffer.alloc(1);
  await fh.read(b, 0, 1, position);
  b[0]! ^= 0x5a;
  await fh.write(b, 0, 1, position);
  await fh.close();
}

const seg = (dir: string, base: number, ext: string): string => path.join(dir, `${String(base).padStart(20, '0')}${ext}`);

describe('corruption', () => {
  let root: string;
  let cleanup: () => Promise<void>;
  let n = 0;
  before(async () => ({ dir: root, cleanup } = await tempDir()));
  after(() => cleanup());

  /** A log of `count` one-record batches of equal size, closed uncleanly (handles dropped, no close). */
  async function makeLog(count: number, config = {}): Promise<{ dir: string; sizes: number[]; batches: Buffer[] }> {
    const dir = path.join(root, `c-${n++}`);
    const log = await openLog(dir, { indexIntervalBytes: 512, ...config });
    const batches: Buffer[] = [];
    for (let i = 0; i < count; i++) {
      const b = batch(1, 200, { seed: i });
      await log.append(b);
      batches.push(Buffer.from(b));
    }
    await log.flush();
    log.closeHandles();
    return { dir, sizes: batches.map((b) => b.length), batches };
  }

  const assertAllValid = async (dir: string, expected: Buffer[], extra = {}): Promise<void> => {
    const log = await openLog(dir, { indexIntervalBytes: 512 }, { cleanShutdown: true, ...extra });
    const back = await readAll(log);
    for (const b of back) assert.equal(batchProblem(b, 0, b.length), undefined);
    assert.deepEqual(back, expected);
    log.closeHandles();
  };

  it('truncates a torn tail of the active segment', async () => {
    const { dir, batches } = await makeLog(10);
    const file = seg(dir, 0, '.log');
    const full = (await fs.stat(file)).size;
    await fs.truncate(file, full - 37);
    const logger = capture();
    const log = await openLog(dir, { indexIntervalBytes: 512 }, { logger });
    const r = log.recoveryReport;
    assert.equal(r.cleanShutdown, false);
    assert.equal(r.bytesTruncated, batches[9]!.length - 37);
    assert.equal(log.logEndOffset, 9);
    assert.match(r.problems[0]!, /torn batch/);
    assert.ok(logger.lines.some((l) => l.startsWith('warn recovery:') && l.includes('truncated')));
    assert.ok(logger.lines.some((l) => l.startsWith('info recovered')));
    assert.deepEqual(await readAll(log), batches.slice(0, 9));
    // The log continues at the truncation point.
    assert.equal((await log.append(batch(1, 10))).firstOffset, 9);
    await log.close();
  });

  it('truncates at a flipped byte in the middle of the active segment and drops everything after it', async () => {
    const { dir, batches } = await makeLog(10);
    const pos = batches.slice(0, 4).reduce((a, b) => a + b.length, 0) + 100; // inside batch 4's records
    await flip(seg(dir, 0, '.log'), pos);
    const log = await openLog(dir, { indexIntervalBytes: 512 });
    assert.equal(log.logEndOffset, 4);
    assert.match(log.recoveryReport.problems[0]!, /CRC mismatch/);
    assert.equal(log.recoveryReport.bytesTruncated, batches.slice(4).reduce((a, b) => a + b.length, 0));
    assert.deepEqual(await readAll(log), batches.slice(0, 4));
    // Indexes were rebuilt for the remaining data only.
    const s = log.segments[0]!;
    await s.offsetIndex.load();
    for (let i = 0; i < s.offsetIndex.entries; i++) assert.ok(s.offsetIndex.entry(i).offset < 4);
    log.closeHandles();
  });

  it('truncates at an impossible batch length and at a bad magic byte', async () => {
    const { dir, batches } = await makeLog(6);
    const at3 = batches.slice(0, 3).reduce((a, b) => a + b.length, 0);
    const fh = await fs.open(seg(dir, 0, '.log'), 'r+');
    await fh.write(Buffer.from([0x7f, 0xff, 0xff, 0xff]), 0, 4, at3 + 8); // batchLength
    await fh.close();
    const log = await openLog(dir, { indexIntervalBytes: 512 });
    assert.equal(log.logEndOffset, 3);
    log.closeHandles();

    const second = await makeLog(6);
    const at2 = second.batches.slice(0, 2).reduce((a, b) => a + b.length, 0);
    await flip(seg(second.dir, 0, '.log'), at2 + 16); // magic
    const log2 = await openLog(second.dir, { indexIntervalBytes: 512 });
    assert.equal(log2.logEndOffset, 2);
    assert.match(log2.recoveryReport.problems[0]!, /magic/);
    log2.closeHandles();
  });

  it('deletes the segments after a corrupt one when recovering from an early recovery point', async () => {
    const { dir, batches } = await makeLog(12, { segmentBytes: 1000 });
    await flip(seg(dir, 0, '.log'), 300);
    const log = await openLog(dir, { indexIntervalBytes: 512, segmentBytes: 1000 }, { recoveryPoint: 0 });
    const r = log.recoveryReport;
    assert.ok(r.segmentsDeleted.length > 0, 'later segments were removed');
    assert.equal(log.logEndOffset, 1);
    assert.deepEqual(await readAll(log), batches.slice(0, 1));
    assert.deepEqual((await fs.readdir(dir)).filter((f) => f.endsWith('.log')), ['00000000000000000000.log']);
    log.closeHandles();
  });

  it('rebuilds a corrupt, truncated or missing index of an inactive segment and reads correctly', async () => {
    const { dir, batches } = await makeLog(30, { segmentBytes: 3000 });
    // Reopen cleanly so the inactive segments' indexes are trusted (not rebuilt by recovery).
    const log0 = await openLog(dir, { indexIntervalBytes: 512, segmentBytes: 3000 });
    await log0.close();
    const bases = (await fs.readdir(dir)).filter((f) => f.endsWith('.log')).map((f) => Number(f.slice(0, 20))).sort((a, b) => a - b);
    assert.ok(bases.length >= 3);
    // Segment 0: entries out of order. Segment 1: a length that is not whole entries. Segment 2: no index files.
    const idx0 = await fs.readFile(seg(dir, bases[0]!, '.index'));
    assert.ok(idx0.length >= 16);
    idx0.writeInt32BE(0x10000, 0);
    await fs.writeFile(seg(dir, bases[0]!, '.index'), idx0);
    await fs.truncate(seg(dir, bases[1]!, '.timeindex'), (await fs.stat(seg(dir, bases[1]!, '.timeindex'))).size - 5);
    await fs.rm(seg(dir, bases[2]!, '.index'));
    await fs.rm(seg(dir, bases[2]!, '.timeindex'));
    const logger = capture();
    const log = await openLog(dir, { indexIntervalBytes: 512, segmentBytes: 3000 }, { cleanShutdown: true, logger });
    assert.deepEqual(log.recoveryReport.indexesRebuilt, [bases[2]]);
    // Reads through every segment (lazy index loads detect the corrupt ones and rebuild them).
    for (const b of batches) {
      const off = readInt64(b, 0);
      const r = await log.read(off, 100, { minOneMessage: true });
      assert.deepEqual(r.records[0], b);
    }
    assert.equal((await log.fetchOffsetByTimestamp(0))!.offset, 0);
    assert.ok(logger.lines.filter((l) => l.includes('rebuilt indexes')).length >= 3, logger.lines.join('\n'));
    // The rebuilt files are sane: whole entries, increasing.
    const rebuilt = await fs.readFile(seg(dir, bases[0]!, '.index'));
    assert.equal(rebuilt.length % 8, 0);
    for (let i = 8; i < rebuilt.length; i += 8) assert.ok(rebuilt.readInt32BE(i) > rebuilt.readInt32BE(i - 8));
    log.closeHandles();
    await assertAllValid(dir, batches);
  });

  it('clears leftovers and completes an interrupted swap', async () => {
    const { dir, batches } = await makeLog(6);
    const log0 = await openLog(dir, { indexIntervalBytes: 512 });
    await log0.close();
    // A cleaner finished writing a replacement of segment 0 holding batches 0..5 (here: identical
    // bytes) and crashed after renaming it to .swap; plus stray temporary files.
    await fs.copyFile(seg(dir, 0, '.log'), seg(dir, 0, '.log.swap'));
    await fs.writeFile(seg(dir, 0, '.index.swap'), Buffer.alloc(16));
    await fs.writeFile(seg(dir, 100, '.log.cleaned'), 'x');
    await fs.writeFile(seg(dir, 50, '.log.deleted'), 'x');
    await fs.writeFile(path.join(dir, 'leader-epoch-checkpoint.tmp'), 'x');
    const log = await openLog(dir, { indexIntervalBytes: 512 }, { cleanShutdown: true });
    const r = log.recoveryReport;
    assert.deepEqual(r.swapsCompleted, [0]);
    assert.deepEqual(r.leftoversDeleted.sort(), [
      '00000000000000000000.index.swap', '00000000000000000050.log.deleted',
      '00000000000000000100.log.cleaned', 'leader-epoch-checkpoint.tmp'].sort());
    assert.deepEqual(await readAll(log), batches);
    const names = await fs.readdir(dir);
    assert.ok(!names.some((f) => f.endsWith('.swap') || f.endsWith('.cleaned') || f.endsWith('.deleted') || f.endsWith('.tmp')));
    await log.close();
  });
});
