// On-disk layout against Kafka's format definition: file names, index and time index entries (bytes
// written here from the format rules, not taken from our output), checkpoint files and the marker.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { writeInt64 } from '../../src/protocol/records/batch-header.js';
import { ManualClock } from '../../src/storage/clock.js';
import { logConfig } from '../../src/storage/log-config.js';
import { LogManager } from '../../src/storage/log-manager.js';
import { batch, openLog, tempDir } from './helpers.js';

const T0 = 1_700_000_000_000;

/** 8-byte offset index entries: int32 offset - base, int32 position. */
function offsetIndexBytes(base: number, entries: [number, number][]): Buffer {
  const buf = Buffer.alloc(entries.length * 8);
  entries.forEach(([offset, pos], i) => {
    buf.writeInt32BE(offset - base, i * 8);
    buf.writeInt32BE(pos, i * 8 + 4);
  });
  return buf;
}

/** 12-byte time index entries: int64 timestamp, int32 offset - base. */
function timeIndexBytes(base: number, entries: [number, number][]): Buffer {
  const buf = Buffer.alloc(entries.length * 12);
  entries.forEach(([ts, offset], i) => {
    writeInt64(buf, i * 12, ts);
    buf.writeInt32BE(offset - base, i * 12 + 8);
  });
  return buf;
}

describe('on-disk layout', () => {
  let root: string;
  let cleanup: () => Promise<void>;
  before(async () => ({ dir: root, cleanup } = await tempDir()));
  after(() => cleanup());

  it('writes segment files, index and time index entries exactly as Kafka prescribes', async () => {
    const dir = path.join(root, 'layout-0');
    const log = await openLog(dir, { indexIntervalBytes: 4096, segmentBytes: 12_000 });
    // 2 records per batch; every batch is the same size.
    const batches = Array.from({ length: 14 }, (_, i) => batch(2, 400, { timestamp: T0 + i * 10, seed: i }));
    const size = batches[0]!.length;
    assert.ok(batches.every((b) => b.length === size));
    for (const b of batches) await log.append(b, { leaderEpoch: 5 });
    // Expected from the rules: segment.bytes 12000 → a segment takes batches while size ≤ 12000 - size.
    const perSegment = Math.floor((12_000 - size) / size) + 1;
    const segmentBases = [0, perSegment * 2];
    assert.deepEqual(log.segments.map((s) => s.baseOffset), segmentBases);

    // While active, both indexes are preallocated to segment.index.bytes rounded down to whole entries.
    const active = path.join(dir, '00000000000000000000'.slice(0, 20 - String(segmentBases[1]).length) + segmentBases[1]);
    assert.equal((await fs.stat(`${active}.index`)).size, 10485760);
    assert.equal((await fs.stat(`${active}.timeindex`)).size, 10485756);
    await log.close();

    assert.deepEqual((await fs.readdir(dir)).sort(), [
      '00000000000000000000.index', '00000000000000000000.log', '00000000000000000000.timeindex',
      `000000000000000000${String(segmentBases[1]).padStart(2, '0')}.index`,
      `000000000000000000${String(segmentBases[1]).padStart(2, '0')}.log`,
      `000000000000000000${String(segmentBases[1]).padStart(2, '0')}.snapshot`,
      `000000000000000000${String(segmentBases[1]).padStart(2, '0')}.timeindex`,
      '00000000000000000028.snapshot',
      'leader-epoch-checkpoint',
    ].sort());

    // Index rule: before appending a batch, if more than index.interval.bytes were written since the
    // last entry, add (batch last offset, batch position); the time index gets (max timestamp so far,
    // its offset) at the same moment; closing or rolling adds the segment's max timestamp once more.
    for (const [si, base] of segmentBases.entries()) {
      const count = si === 0 ? perSegment : batches.length - perSegment;
      const offsets: [number, number][] = [];
      const times: [number, number][] = [];
      let since = 0;
      for (let k = 0; k < count; k++) {
        const global = si * perSegment + k;
        const lastOffset = global * 2 + 1;
        if (since > 4096) {
          offsets.push([lastOffset, k * size]);
          times.push([T0 + global * 10, lastOffset]);
          since = 0;
        }
        since += size;
      }
      const lastGlobal = si * perSegment + count - 1;
      if (times.at(-1)?.[0] !== T0 + lastGlobal * 10) times.push([T0 + lastGlobal * 10, lastGlobal * 2 + 1]);
      const name = path.join(dir, String(base).padStart(20, '0'));
      assert.deepEqual(await fs.readFile(`${name}.index`), offsetIndexBytes(base, offsets), `offset index of ${base}`);
      assert.deepEqual(await fs.readFile(`${name}.timeindex`), timeIndexBytes(base, times), `time index of ${base}`);
      // The .log holds the batches exactly as appended (offsets and leader epoch patched in place).
      assert.deepEqual(await fs.readFile(`${name}.log`), Buffer.concat(batches.slice(si * perSegment, si * perSegment + count)));
    }
    assert.equal(await fs.readFile(path.join(dir, 'leader-epoch-checkpoint'), 'utf8'), '0\n1\n5 0\n');
  });

  it('writes the per-dir checkpoints and the clean shutdown marker', async () => {
    const logDir = path.join(root, 'manager');
    const clock = new ManualClock();
    const manager = await LogManager.start({ logDirs: [logDir], clock, scheduleTimers: false,
      configFor: () => logConfig({ segmentBytes: 1000 }) });
    const a = await manager.getOrCreateLog('orders', 0);
    const b = await manager.getOrCreateLog('orders', 1);
    for (let i = 0; i < 6; i++) await a.append(batch(1, 400, { seed: i }));
    await b.append(batch(3, 10));
    a.updateHighWatermark(a.logEndOffset);
    await a.deleteRecordsBefore(3);
    await manager.shutdown();
    assert.equal(await fs.readFile(path.join(logDir, 'recovery-point-offset-checkpoint'), 'utf8'), '0\n2\norders 0 6\norders 1 3\n');
    // Only logs whose start offset is above their first segment's base offset are listed.
    const lso = await fs.readFile(path.join(logDir, 'log-start-offset-checkpoint'), 'utf8');
    const firstBase = Number(lso.split('\n')[2]!.split(' ')[2]);
    assert.equal(lso, `0\n1\norders 0 ${firstBase}\n`);
    assert.equal(firstBase, 3);
    assert.equal(await fs.readFile(path.join(logDir, '.kafka_cleanshutdown'), 'utf8'), '');

    const again = await LogManager.start({ logDirs: [logDir], clock, scheduleTimers: false,
      configFor: () => logConfig({ segmentBytes: 1000 }) });
    await assert.rejects(fs.access(path.join(logDir, '.kafka_cleanshutdown')));
    const a2 = again.getLog('orders', 0)!;
    assert.equal(a2.logStartOffset, 3);
    assert.equal(a2.logEndOffset, 6);
    assert.equal(a2.recoveryReport.cleanShutdown, true);
    assert.equal(a2.recoveryReport.segmentsScanned, 0);
    assert.equal(again.getLog('orders', 1)!.logEndOffset, 3);
    await again.shutdown();
  });
});
