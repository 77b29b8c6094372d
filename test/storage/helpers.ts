// Shared fixtures for the storage tests: temporary directories, batch builders and log walkers.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { buildBatchSync } from '../../src/protocol/records/builder.js';
import { LAST_OFFSET_DELTA_OFFSET, LENGTH_OFFSET, LOG_OVERHEAD, readInt64 } from '../../src/protocol/records/batch-header.js';
import { ManualClock } from '../../src/storage/clock.js';
import { Log, type LogOpenOptions } from '../../src/storage/log.js';
import { logConfig, type LogConfig } from '../../src/storage/log-config.js';

export async function tempDir(prefix = 'strata-storage-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => fs.rm(dir, { recursive: true, force: true }) };
}

/** A batch of `count` records with values of `valueSize` bytes (deterministic content from `seed`). */
export function batch(count: number, valueSize = 100, opts: { timestamp?: number; seed?: number; baseOffset?: number;
  producerId?: number; producerEpoch?: number; baseSequence?: number; transactional?: boolean; partitionLeaderEpoch?: number } = {}): Buffer {
  const seed = opts.seed ?? 0;
  const records = Array.from({ length: count }, (_, i) => ({
    key: `k${String(seed).padStart(6, "0")}-${String(i).padStart(6, "0")}`,
    value: Buffer.alloc(valueSize, (seed + i) & 0xff),
  }));
  return buildBatchSync(records, { timestamp: opts.timestamp ?? 1_700_000_000_000, ...opts });
}

export interface BatchSummary {
  readonly baseOffset: number;
  readonly lastOffset: number;
  readonly size: number;
}

/** The batches in a buffer of whole batches. */
export function summarize(buf: Buffer): BatchSummary[] {
  const out: BatchSummary[] = [];
  let at = 0;
  while (at < buf.length) {
    const size = LOG_OVERHEAD + buf.readInt32BE(at + LENGTH_OFFSET);
    const base = readInt64(buf, at);
    out.push({ baseOffset: base, lastOffset: base + buf.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET), size });
    at += size;
  }
  return out;
}

/** Reads the whole log from its start, batch by batch. */
export async function readAll(log: Log, maxBytes = 1 << 20): Promise<Buffer[]> {
  const out: Buffer[] = [];
  let offset = log.logStartOffset;
  while (offset < log.logEndOffset) {
    const r = await log.read(offset, maxBytes, { minOneMessage: true });
    if (r.records.length === 0) break;
    for (const buf of r.records) {
      for (let at = 0; at < buf.length;) {
        const size = LOG_OVERHEAD + buf.readInt32BE(at + LENGTH_OFFSET);
        out.push(Buffer.from(buf.subarray(at, at + size)));
        offset = readInt64(buf, at) + buf.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET) + 1;
        at += size;
      }
    }
  }
  return out;
}

export async function openLog(dir: string, config: Partial<LogConfig> = {}, extra: Partial<LogOpenOptions> = {}): Promise<Log> {
  return Log.open({ dir, config: logConfig(config), clock: extra.clock ?? new ManualClock(), ...extra });
}
