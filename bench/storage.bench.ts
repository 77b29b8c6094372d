// Storage throughput against the raw file system, in one run (npm run bench:storage):
//   append   1 MiB appends of 1 KiB-record batches through Log.append vs sequential fs.write of the same bytes
//            (with the log checking CRCs, and with verifyCrc: false as when the produce path already did)
//   read     sequential Log.read of 1 MiB vs sequential fs.read of 1 MiB
//   durable  64 concurrent appenders of 16 KiB batches, durable.append=true vs false
//   startup  LogManager.start over 10,000 partitions after a clean shutdown
// Prints a table and writes bench/results/storage-latest.json. STRATA_BENCH_SCALE=0.25 shrinks the run.
process.env.UV_THREADPOOL_SIZE ??= '16';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildBatchSync } from '../src/protocol/records/builder.js';
import { logConfig, type LogConfig } from '../src/storage/log-config.js';
import { LogManager } from '../src/storage/log-manager.js';
import { Log } from '../src/storage/log.js';

const SCALE = Number(process.env.STRATA_BENCH_SCALE ?? 1);
const MiB = 1024 * 1024;
const APPEND_TOTAL = Math.round(512 * SCALE) * MiB;
const PARTITIONS = Math.round(10_000 * Math.min(1, SCALE * 4));
const here = path.dirname(fileURLToPath(import.meta.url));

const now = (): number => Number(process.hrtime.bigint()) / 1e6;
const mbps = (bytes: number, ms: number): number => bytes / MiB / (ms / 1000);

function batchOf(records: number, recordBytes: number, seed: number): Buffer {
  const value = Buffer.alloc(recordBytes - 24, seed & 0xff);
  return buildBatchSync(Array.from({ length: records }, (_, i) => ({ key: `key-${String(i).padStart(8, '0')}`, value })),
    { timestamp: 1_700_000_000_000 + seed });
}

function writeAt(fd: number, buf: Buffer, position: number): Promise<void> {
  return new Promise((resolve, reject) => fs.write(fd, buf, 0, buf.length, position, (e) => (e ? reject(e) : resolve())));
}

function readAt(fd: number, buf: Buffer, position: number): Promise<number> {
  return new Promise((resolve, reject) => fs.read(fd, buf, 0, buf.length, position, (e, n) => (e ? reject(e) : resolve(n))));
}

async function openLog(dir: string, overrides: Partial<LogConfig>): Promise<Log> {
  return Log.open({ dir, config: logConfig({ maxMessageBytes: 2 * MiB, ...overrides }) });
}

async function appendAndRead(root: string): Promise<Record<string, number>> {
  // ~1 MiB batches of 1 KiB records; 16 distinct buffers reused (append patches offsets in place).
  // Raw writes and log appends alternate, so both meet the same page-cache and writeback conditions.
  const batches = Array.from({ length: 16 }, (_, i) => batchOf(1000, 1024, i));
  const count = Math.floor(APPEND_TOTAL / batches[0]!.length);
  const bytes = count * batches[0]!.length;
  const rawFd = fs.openSync(path.join(root, 'raw.bin'), 'w+');
  const log = await openLog(path.join(root, 'append-0'), {});
  // The produce path validates CRCs before the log (P2's validator): `verifyCrc: false` is that case.
  const trusting = await openLog(path.join(root, 'append-1'), {});
  let rawAppendMs = 0;
  let logAppendMs = 0;
  let trustingMs = 0;
  for (let i = 0, pos = 0; i < count; i++) {
    const b = batches[i % 16]!;
    let t = now();
    await writeAt(rawFd, b, pos);
    rawAppendMs += now() - t;
    pos += b.length;
    t = now();
    await log.append(b);
    logAppendMs += now() - t;
    t = now();
    await trusting.append(b, { verifyCrc: false });
    trustingMs += now() - t;
  }
  await trusting.close();

  // Sequential reads of 1 MiB, alternating as well (both from the page cache: just written). Both
  // read into a reused buffer (the Log's `buffer` option), as a broker recycling send buffers would.
  const buf = Buffer.allocUnsafe(MiB);
  const logBuf = Buffer.allocUnsafe(2 * MiB);
  let rawReadMs = 0;
  let logReadMs = 0;
  let read = 0;
  let logRead = 0;
  let offset = 0;
  for (let pos = 0; ; pos += MiB) {
    let t = now();
    const n = await readAt(rawFd, buf, pos);
    rawReadMs += now() - t;
    read += n;
    if (offset < log.logEndOffset) {
      t = now();
      const r = await log.read(offset, MiB, { minOneMessage: true, buffer: logBuf });
      logReadMs += now() - t;
      const recs = r.records[0]!;
      logRead += recs.length;
      for (let at = 0; at < recs.length; at += 12 + recs.readInt32BE(at + 8)) {
        offset = recs.readUInt32BE(at + 4) + recs.readInt32BE(at + 23) + 1; // baseOffset (low word) + lastOffsetDelta + 1
      }
    }
    if (n === 0 && offset >= log.logEndOffset) break;
  }
  fs.closeSync(rawFd);
  await log.close();
  if (logRead !== bytes || read !== bytes) throw new Error(`read ${logRead}/${read} of ${bytes} bytes`);
  return {
    appendRawMBps: mbps(bytes, rawAppendMs),
    appendLogMBps: mbps(bytes, logAppendMs),
    appendTrustingMBps: mbps(bytes, trustingMs),
    readRawMBps: mbps(read, rawReadMs),
    readLogMBps: mbps(logRead, logReadMs),
    appendBytes: bytes,
  };
}

async function durable(root: string): Promise<Record<string, number>> {
  const appenders = 64;
  const perAppender = Math.max(5, Math.round(40 * SCALE));
  const batches = Array.from({ length: appenders }, (_, i) => batchOf(16, 1024, i));
  const run = async (durableAppend: boolean, round: number): Promise<{ ms: number; syncs: number }> => {
    const log = await openLog(path.join(root, `${durableAppend ? 'durable' : 'plain'}-${round}`), { durableAppend });
    const t = now();
    await Promise.all(batches.map(async (b) => {
      for (let i = 0; i < perAppender; i++) await log.append(Buffer.from(b));
    }));
    const ms = now() - t;
    const syncs = log.groupCommitSyncs;
    await log.close();
    return { ms, syncs };
  };
  const bytes = appenders * perAppender * batches[0]!.length;
  // Alternate the two modes over several rounds: the machine's other load then hits both alike.
  let plainMs = 0;
  let durableMs = 0;
  let syncs = 0;
  for (let round = 0; round < 4; round++) {
    plainMs += (await run(false, round)).ms;
    const d = await run(true, round);
    durableMs += d.ms;
    syncs += d.syncs;
  }
  return {
    nonDurableMBps: mbps(bytes * 4, plainMs),
    durableMBps: mbps(bytes * 4, durableMs),
    durableAppends: appenders * perAppender * 4,
    durableFsyncs: syncs,
  };
}

async function startup(root: string): Promise<Record<string, number>> {
  const dir = path.join(root, 'many');
  const b = batchOf(10, 100, 1);
  let t = now();
  const m = await LogManager.start({ logDirs: [dir], scheduleTimers: false, loadConcurrency: 128 });
  const ids = Array.from({ length: PARTITIONS }, (_, i) => i);
  const chunk = 256;
  for (let i = 0; i < ids.length; i += chunk) {
    await Promise.all(ids.slice(i, i + chunk).map(async (p) => (await m.getOrCreateLog('bench', p)).append(Buffer.from(b))));
  }
  await m.shutdown();
  const setupMs = now() - t;
  // Let writeback of the earlier phases finish first: start-up is measured on a settled disk.
  execFileSync('sync');
  t = now();
  const again = await LogManager.start({ logDirs: [dir], scheduleTimers: false, loadConcurrency: 128 });
  const startMs = now() - t;
  if (again.allLogs().size !== PARTITIONS) throw new Error(`loaded ${again.allLogs().size} of ${PARTITIONS}`);
  for (const log of again.allLogs().values()) if (log.logEndOffset !== 10) throw new Error(`${log.dir}: LEO ${log.logEndOffset}`);
  await again.shutdown();
  return { partitions: PARTITIONS, startupMs: startMs, setupMs };
}

const root = await fsp.mkdtemp(path.join(os.tmpdir(), 'strata-bench-'));
try {
  const ar = await appendAndRead(root);
  const du = await durable(root);
  const st = await startup(root);
  const results = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    scale: SCALE,
    append: { rawMBps: ar.appendRawMBps!, logMBps: ar.appendLogMBps!, ratio: ar.appendLogMBps! / ar.appendRawMBps!, goal: 0.8, bytes: ar.appendBytes!,
      crcCheckedUpstreamMBps: ar.appendTrustingMBps!, crcCheckedUpstreamRatio: ar.appendTrustingMBps! / ar.appendRawMBps! },
    read: { rawMBps: ar.readRawMBps!, logMBps: ar.readLogMBps!, ratio: ar.readLogMBps! / ar.readRawMBps!, goal: 0.8 },
    durable: { nonDurableMBps: du.nonDurableMBps!, durableMBps: du.durableMBps!, ratio: du.durableMBps! / du.nonDurableMBps!, goal: 0.5,
      appends: du.durableAppends!, fsyncs: du.durableFsyncs! },
    startup: { partitions: st.partitions!, ms: st.startupMs!, goalMs: 5000, setupMs: st.setupMs! },
  };
  const rows: [string, string, string, string, string][] = [
    ['append 1 MiB batches', `${results.append.logMBps.toFixed(0)} MB/s`, `raw ${results.append.rawMBps.toFixed(0)} MB/s`, `${(results.append.ratio * 100).toFixed(0)}%`, '≥ 80% (log checks CRC)'],
    ['  CRC checked upstream', `${results.append.crcCheckedUpstreamMBps.toFixed(0)} MB/s`, `raw ${results.append.rawMBps.toFixed(0)} MB/s`,
      `${(results.append.crcCheckedUpstreamRatio * 100).toFixed(0)}%`, '≥ 80% (verifyCrc: false)'],
    ['sequential read 1 MiB', `${results.read.logMBps.toFixed(0)} MB/s`, `raw ${results.read.rawMBps.toFixed(0)} MB/s`, `${(results.read.ratio * 100).toFixed(0)}%`, '≥ 80%'],
    ['durable, 64 appenders', `${results.durable.durableMBps.toFixed(0)} MB/s`, `non-durable ${results.durable.nonDurableMBps.toFixed(0)} MB/s`,
      `${(results.durable.ratio * 100).toFixed(0)}%`, `≥ 50% (${results.durable.fsyncs} fsyncs / ${results.durable.appends} appends)`],
    [`start-up, ${results.startup.partitions} partitions`, `${results.startup.ms.toFixed(0)} ms`, 'clean shutdown', '', '< 5000 ms'],
  ];
  const widths = [0, 1, 2, 3, 4].map((c) => Math.max(...rows.map((r) => r[c]!.length)));
  for (const r of rows) console.log(r.map((cell, c) => cell.padEnd(widths[c]!)).join('  '));
  fs.mkdirSync(path.join(here, 'results'), { recursive: true });
  fs.writeFileSync(path.join(here, 'results', 'storage-latest.json'), JSON.stringify(results, null, 2) + '\n');
} finally {
  await fsp.rm(root, { recursive: true, force: true });
}
