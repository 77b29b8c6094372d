// Shared helpers for the cleaner tests: a seeded random source, keyed batches, and the model of what a
// compacted log must contain.
import fsp from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { buildBatch, buildControlBatch } from '../../../src/protocol/records/builder.js';
import { logConfig, type LogConfig } from '../../../src/storage/log-config.js';
import { DirLog, type StoredBatch } from './dir-log.js';

export { seededRandom as prng } from '../../helpers/seeded-random.js';

export async function tempLogDir(prefix = 'cleaner'): Promise<{ root: string; dir: string; cleanup: () => Promise<void> }> {
  const root = await fsp.mkdtemp(join(os.tmpdir(), `strata-${prefix}-`));
  const dir = join(root, 'topic-0');
  return { root, dir, cleanup: () => fsp.rm(root, { recursive: true, force: true }) };
}

export function compactConfig(overrides: Partial<LogConfig> = {}): LogConfig {
  return logConfig({ cleanupPolicy: 'compact', segmentBytes: 4096, indexIntervalBytes: 512, minCleanableDirtyRatio: 0, ...overrides });
}

export interface KeyedRecord {
  readonly key: string | null;
  /** null = tombstone. */
  readonly value: string | null;
  readonly timestamp: number;
}

export function keyedBatch(records: readonly KeyedRecord[], opts: { compression?: number; producerId?: number; producerEpoch?: number; baseSequence?: number; transactional?: boolean } = {}): Promise<Buffer> {
  return buildBatch(
    records.map((r) => ({ key: r.key, value: r.value, timestamp: r.timestamp })),
    {
      timestamp: records[0]?.timestamp ?? 0,
      ...(opts.compression !== undefined ? { compression: opts.compression } : {}),
      ...(opts.producerId !== undefined
        ? { producerId: opts.producerId, producerEpoch: opts.producerEpoch ?? 0, baseSequence: opts.baseSequence ?? 0 }
        : {}),
      ...(opts.transactional ? { transactional: true } : {}),
    },
  );
}

export function marker(type: 'commit' | 'abort', producerId: number, timestamp: number, producerEpoch = 0): Buffer {
  return buildControlBatch({ type, producerId, producerEpoch, coordinatorEpoch: 0, timestamp });
}

export interface AppendedRecord {
  readonly offset: number;
  readonly key: string | null;
  readonly value: string | null;
}

/** Appends random keyed batches; returns every record with its offset. */
export async function appendRandom(
  log: DirLog,
  random: () => number,
  opts: { batches: number; keys: number; tombstoneRate?: number; timestamp: () => number; compressions?: readonly number[] },
): Promise<AppendedRecord[]> {
  const out: AppendedRecord[] = [];
  for (let b = 0; b < opts.batches; b++) {
    const n = 1 + Math.floor(random() * 8);
    const records: KeyedRecord[] = [];
    for (let i = 0; i < n; i++) {
      const key = `k${Math.floor(random() * opts.keys)}`;
      const value = random() < (opts.tombstoneRate ?? 0) ? null : `v-${b}-${i}-${'x'.repeat(Math.floor(random() * 40))}`;
      records.push({ key, value, timestamp: opts.timestamp() });
    }
    const compressions = opts.compressions ?? [0];
    const compression = compressions[Math.floor(random() * compressions.length)]!;
    const base = await log.append(await keyedBatch(records, { compression }));
    records.forEach((r, i) => out.push({ offset: base + i, key: r.key, value: r.value }));
  }
  return out;
}

/** The latest record per key among `records` with offset < `end`. */
export function latestByKey(records: readonly AppendedRecord[], end: number): Map<string, AppendedRecord> {
  const latest = new Map<string, AppendedRecord>();
  for (const r of records) if (r.offset < end && r.key !== null) latest.set(r.key, r);
  return latest;
}

export function flatten(batches: readonly StoredBatch[]): { offset: number; key: string | null; value: string | null; batch: StoredBatch }[] {
  return batches.flatMap((b) =>
    b.records.map((r) => ({ offset: r.offset, key: r.key?.toString('utf8') ?? null, value: r.value?.toString('utf8') ?? null, batch: b })),
  );
}

export function assertOffsetsIncrease(batches: readonly StoredBatch[]): void {
  let last = -1;
  for (const b of batches) {
    if (b.header.baseOffset <= last) throw new Error(`batch at ${b.header.baseOffset} does not follow ${last}`);
    for (const r of b.records) {
      if (r.offset <= last) throw new Error(`offset ${r.offset} does not follow ${last}`);
      last = r.offset;
    }
    last = Math.max(last, b.header.baseOffset + b.header.lastOffsetDelta);
  }
}
