// kill -9 at random moments while appending, then recovery: nothing promised is lost, nothing torn
// is served, offsets stay contiguous, indexes agree with the data, producer state matches the log.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { LAST_OFFSET_DELTA_OFFSET, MAX_TIMESTAMP_OFFSET, PRODUCER_ID_OFFSET, BASE_SEQUENCE_OFFSET, readInt64 } from '../../src/protocol/records/batch-header.js';
import { crc32c } from '../../src/protocol/records/crc32c.js';
import { batchProblem } from '../../src/storage/batch-scan.js';
import { logConfig } from '../../src/storage/log-config.js';
import { LogManager } from '../../src/storage/log-manager.js';
import type { Log } from '../../src/storage/log.js';
import { readAll, tempDir } from './helpers.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const CHILD = path.join(here, 'crash-child.ts');
const KILLS_PER_MODE = Number(process.env.STRATA_CRASH_KILLS ?? 26);

interface Promised {
  acks: Map<number, { last: number; crc: number }>;
  flushedUpTo: number;
}

/** Runs the child until it has appended a little, kills it with SIGKILL at a random moment, returns what it promised. */
function runChild(logDir: string, mode: string, producerId: number, killAfterMs: number): Promise<Promised> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, logDir, mode, String(producerId)], {
      stdio: ['ignore', 'pipe', 'pipe'],
      cwd: path.join(here, '..', '..'),
    });
    const promised: Promised = { acks: new Map(), flushedUpTo: 0 };
    let buffered = '';
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        const [kind, a, b, c] = line.split(' ');
        if (kind === 'ready' && !timer) timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
        else if (kind === 'ack') promised.acks.set(Number(a), { last: Number(b), crc: Number(c) });
        else if (kind === 'flushed') promised.flushedUpTo = Math.max(promised.flushedUpTo, Number(a));
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      // Lines written before the kill but not yet read are still delivered before 'exit'... mostly; a
      // partial last line is dropped (it was never a complete promise).
      if (signal === 'SIGKILL') resolve(promised);
      else reject(new Error(`child exited with ${code}: ${stderr}`));
    });
  });
}

async function verify(log: Log, mode: string, promised: Map<number, { last: number; crc: number }>, flushedUpTo: number): Promise<void> {
  const batches = await readAll(log);
  const byBase = new Map<number, Buffer>();
  let expected = log.logStartOffset;
  const lastSeqByProducer = new Map<number, { seq: number; lastOffset: number }>();
  for (const b of batches) {
    assert.equal(batchProblem(b, 0, b.length), undefined, 'a torn or corrupt batch was served');
    const base = readInt64(b, 0);
    const last = base + b.readInt32BE(LAST_OFFSET_DELTA_OFFSET);
    assert.equal(base, expected, 'offsets are contiguous');
    expected = last + 1;
    byBase.set(base, b);
    const pid = readInt64(b, PRODUCER_ID_OFFSET);
    lastSeqByProducer.set(pid, { seq: b.readInt32BE(BASE_SEQUENCE_OFFSET) + b.readInt32BE(LAST_OFFSET_DELTA_OFFSET), lastOffset: last });
  }
  assert.equal(expected, log.logEndOffset, 'the batches end at the log end offset');
  for (const [first, { last, crc }] of promised) {
    if (mode === 'default' && last >= flushedUpTo) continue;
    const b = byBase.get(first);
    assert.ok(b, `promised batch at ${first} is missing (mode ${mode}, LEO ${log.logEndOffset})`);
    assert.equal(b.readInt32BE(LAST_OFFSET_DELTA_OFFSET), last - first);
    assert.equal(crc32c(b), crc, `promised batch at ${first} differs`);
  }
  // Indexes point at batch boundaries whose offsets match.
  for (const seg of log.segments) {
    const locs = await seg.batchLocations();
    const byPos = new Map(locs.map((l) => [l.position, l]));
    const lastOffsets = new Set(locs.map((l) => l.lastOffset));
    await seg.offsetIndex.load();
    for (let i = 0; i < seg.offsetIndex.entries; i++) {
      const e = seg.offsetIndex.entry(i);
      assert.equal(byPos.get(e.position)?.lastOffset, e.offset, `offset index entry ${i} of ${seg.logPath}`);
    }
    await seg.timeIndex.load();
    let prevTs = -1;
    for (let i = 0; i < seg.timeIndex.entries; i++) {
      const e = seg.timeIndex.entry(i);
      assert.ok(lastOffsets.has(e.offset), `time index entry ${i} of ${seg.logPath} points at a batch end`);
      assert.ok(e.timestamp >= prevTs);
      const b = byBase.get(locs.find((l) => l.lastOffset === e.offset)!.baseOffset)!;
      assert.equal(readInt64(b, MAX_TIMESTAMP_OFFSET), e.timestamp, 'time index timestamp is its batch max timestamp');
      prevTs = e.timestamp;
    }
  }
  // Producer state agrees with the log.
  for (const [pid, { seq, lastOffset }] of lastSeqByProducer) {
    const entry = log.producerState.lastEntry(pid);
    assert.ok(entry, `producer ${pid} known`);
    assert.equal(entry.lastSeq, seq, `producer ${pid} last sequence`);
    assert.equal(entry.lastDataOffset, lastOffset, `producer ${pid} last offset`);
  }
}

describe('crash recovery (SIGKILL while appending)', { timeout: 240_000 }, () => {
  let root: string;
  let cleanup: () => Promise<void>;
  before(async () => ({ dir: root, cleanup } = await tempDir('strata-crash-')));
  after(() => cleanup());

  for (const mode of ['durable', 'default']) {
    it(`keeps every ${mode === 'durable' ? 'acknowledged' : 'flushed'} append across ${KILLS_PER_MODE} kills (${mode} mode)`, async (t) => {
      const logDir = path.join(root, mode);
      const all = new Map<number, { last: number; crc: number }>();
      let flushedUpTo = 0;
      let truncations = 0;
      for (let run = 0; run < KILLS_PER_MODE; run++) {
        const promised = await runChild(logDir, mode, 1000 + run, 30 + Math.floor(Math.random() * 250));
        for (const [k, v] of promised.acks) all.set(k, v);
        flushedUpTo = Math.max(flushedUpTo, promised.flushedUpTo);
        const manager = await LogManager.start({
          logDirs: [logDir],
          configFor: () => logConfig({ segmentBytes: 64 * 1024, indexIntervalBytes: 1024 }),
          scheduleTimers: false,
        });
        const log = manager.getLog('crash', 0)!;
        assert.ok(log, 'the partition is loaded');
        assert.equal(log.recoveryReport.cleanShutdown, false);
        truncations += log.recoveryReport.bytesTruncated > 0 ? 1 : 0;
        await verify(log, mode, all, flushedUpTo);
        // Acknowledged-but-truncated cannot happen; forget promises past the (verified) end.
        for (const [k] of all) if (k >= log.logEndOffset) all.delete(k);
        // Alternate clean and unclean hand-overs to the next child.
        if (run % 2 === 0) await manager.shutdown();
        else for (const l of manager.allLogs().values()) l.closeHandles();
      }
      assert.ok(all.size > 0, 'the child appended something');
      t.diagnostic(`${mode}: ${all.size} promised batches checked, ${truncations} recoveries truncated a torn tail`);
    });
  }
});
