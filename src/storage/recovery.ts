// Opening a partition directory (Kafka's LogLoader): clear leftovers of interrupted operations,
// finish interrupted segment swaps, open the segments, and — after an unclean shutdown — validate
// every batch from the recovery point on, truncating at the first bad one. After a clean shutdown
// nothing is scanned: only the active segment's tail after its last index entry is read to learn
// the log end offset.
import fs from 'node:fs/promises';
import path from 'node:path';
import { TMP_SUFFIX } from './atomic-file.js';
import { readdirNames, statSize } from './file-handles.js';
import { LogSegments } from './log-segments.js';
import {
  CLEANED_FILE_SUFFIX,
  DELETED_FILE_SUFFIX,
  INDEX_FILE_SUFFIX,
  LOG_FILE_SUFFIX,
  LogSegment,
  type RecoveredBatch,
  type SegmentContext,
  segmentFilePath,
  SWAP_FILE_SUFFIX,
  TIME_INDEX_FILE_SUFFIX,
} from './segment.js';

export interface RecoveryReport {
  readonly dir: string;
  readonly cleanShutdown: boolean;
  /** The recovery point the scan started from (unclean shutdown only). */
  readonly recoveryPoint: number;
  readonly segmentsLoaded: number;
  /** Segments whose every batch was validated. */
  readonly segmentsScanned: number;
  readonly batchesScanned: number;
  readonly bytesTruncated: number;
  /** Base offsets of segments removed because an earlier segment was corrupt. */
  readonly segmentsDeleted: number[];
  /** Segments whose indexes were missing and rebuilt from the log. */
  readonly indexesRebuilt: number[];
  /** What was wrong, one line per problem (file, position, reason). */
  readonly problems: string[];
  /** Leftover files removed: `.tmp`, `.cleaned`, `.deleted`, orphan `.swap` indexes. */
  readonly leftoversDeleted: string[];
  /** Segments whose `.swap` replacement was completed. */
  readonly swapsCompleted: number[];
  readonly logEndOffset: number;
}

export interface LoadOptions {
  readonly cleanShutdown: boolean;
  readonly recoveryPoint: number;
  /** The base offset of the first segment when the directory holds none. */
  readonly logStartOffset: number;
  /** Sees every valid batch of every scanned segment, in offset order. */
  readonly onRecoveredBatch?: (batch: RecoveredBatch) => void;
}

export interface LoadedSegments {
  /** The partition directory or its first segment was created: directory entries need an fsync. */
  readonly created: boolean;
  /** The directory listing as found (before leftovers were removed): other state files are looked up in it. */
  readonly fileNames: readonly string[];
  readonly segments: LogSegments;
  /** The segments whose batches were validated (their txn indexes were reset and need rebuilding). */
  readonly recovered: readonly LogSegment[];
  readonly logEndOffset: number;
  readonly report: RecoveryReport;
}

const BASE_OFFSET_NAME = /^(\d{20})\.(log|index|timeindex|txnindex)$/;

function baseOffsetOf(name: string): number | undefined {
  const m = BASE_OFFSET_NAME.exec(name);
  return m ? Number(m[1]) : undefined;
}

const sizeOf = statSize;

export async function loadSegments(dir: string, ctx: SegmentContext, opts: LoadOptions): Promise<LoadedSegments> {
  const leftoversDeleted: string[] = [];
  const swapsCompleted: number[] = [];
  const problems: string[] = [];
  const indexesRebuilt: number[] = [];
  const segmentsDeleted: number[] = [];
  let segmentsScanned = 0;
  let batchesScanned = 0;
  let bytesTruncated = 0;

  // 1. Leftovers and swap files.
  let names: string[];
  let created = false;
  try {
    names = await readdirNames(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    await fs.mkdir(dir, { recursive: true });
    names = [];
    created = true;
  }
  const swapBases: number[] = [];
  const logBases = new Set<number>();
  for (const name of names) {
    const file = path.join(dir, name);
    if (name.endsWith(TMP_SUFFIX) || name.endsWith(DELETED_FILE_SUFFIX) || name.endsWith(CLEANED_FILE_SUFFIX)) {
      await fs.rm(file, { force: true });
      leftoversDeleted.push(name);
    } else if (name.endsWith(SWAP_FILE_SUFFIX)) {
      const base = baseOffsetOf(name.slice(0, -SWAP_FILE_SUFFIX.length));
      if (base !== undefined && name.endsWith(LOG_FILE_SUFFIX + SWAP_FILE_SUFFIX)) swapBases.push(base);
      else if (!name.includes('.txnindex')) {
        // Index swaps are dropped: the swapped-in segment's indexes are rebuilt from its log.
        await fs.rm(file, { force: true });
        leftoversDeleted.push(name);
      }
    } else if (name.endsWith(LOG_FILE_SUFFIX)) {
      const base = baseOffsetOf(name);
      if (base !== undefined) logBases.add(base);
    }
  }
  const indexNames = names.filter((name) => baseOffsetOf(name) !== undefined && !name.endsWith(LOG_FILE_SUFFIX));

  // 2. Finish interrupted swaps: the swap segments replace every segment whose base lies in
  //    [smallest swap base, largest swap end offset).
  const toRecover = new Set<number>();
  if (swapBases.length > 0) {
    swapBases.sort((a, b) => a - b);
    let maxEnd = 0;
    const swaps: LogSegment[] = [];
    for (const base of swapBases) {
      const size = (await sizeOf(segmentFilePath(dir, base, LOG_FILE_SUFFIX, SWAP_FILE_SUFFIX))) ?? 0;
      const seg = LogSegment.open(dir, base, ctx, { log: size, index: 0, timeIndex: 0 }, SWAP_FILE_SUFFIX);
      const r = await seg.recover();
      maxEnd = Math.max(maxEnd, r.nextOffset);
      swaps.push(seg);
    }
    const minBase = swapBases[0]!;
    for (const base of [...logBases]) {
      if (base >= minBase && base < maxEnd) {
        const old = LogSegment.open(dir, base, ctx, { log: 0, index: 0, timeIndex: 0 });
        await old.deleteFiles();
        logBases.delete(base);
      }
    }
    for (const seg of swaps) {
      seg.closeHandles();
      await seg.changeFileSuffix('');
      logBases.add(seg.baseOffset);
      toRecover.add(seg.baseOffset);
      swapsCompleted.push(seg.baseOffset);
    }
  }

  // 3. Orphan indexes (no .log) are removed; segments are opened from their file sizes.
  for (const name of indexNames) {
    if (!logBases.has(baseOffsetOf(name)!)) {
      await fs.rm(path.join(dir, name), { force: true });
      leftoversDeleted.push(name);
    }
  }
  // Index files are not stat-ed here (many partitions must open fast); a missing one is found and
  // rebuilt when the index is first loaded. Segments whose index files are absent from the listing
  // are rebuilt now, so the report tells.
  const present = new Set(indexNames);
  const segments = new LogSegments();
  const bases = [...logBases].sort((a, b) => a - b);
  await Promise.all(bases.map(async (base) => {
    const log = (await sizeOf(segmentFilePath(dir, base, LOG_FILE_SUFFIX))) ?? 0;
    const seg = LogSegment.open(dir, base, ctx, { log });
    segments.add(seg);
    const name = (kind: string): string => path.basename(segmentFilePath(dir, base, kind));
    const missing = !present.has(name(INDEX_FILE_SUFFIX)) || !present.has(name(TIME_INDEX_FILE_SUFFIX));
    if (missing && log > 0 && !toRecover.has(base)) {
      await seg.rebuildIndexes('index file missing');
      indexesRebuilt.push(base);
    }
  }));

  // 4. Recovery.
  const recoveryPoint = opts.recoveryPoint;
  let logEndOffset: number;
  const scanFrom = opts.cleanShutdown ? [] : segments.range(recoveryPoint);
  const scanSet = new Set<LogSegment>(scanFrom);
  for (const base of toRecover) {
    const seg = segments.floor(base);
    if (seg && seg.baseOffset === base) scanSet.add(seg);
  }
  const ordered = segments.all().filter((s) => scanSet.has(s));
  let dropRest = false;
  const recovered: LogSegment[] = [];
  for (const seg of ordered) {
    if (dropRest) {
      segmentsDeleted.push(seg.baseOffset);
      segments.remove(seg);
      await seg.deleteFiles();
      continue;
    }
    const r = await seg.recover(opts.onRecoveredBatch);
    recovered.push(seg);
    segmentsScanned++;
    batchesScanned += r.batches;
    if (r.truncatedBytes > 0 || r.problem !== undefined) {
      bytesTruncated += r.truncatedBytes;
      problems.push(`${seg.logPath}: ${r.problem ?? 'invalid bytes'}; truncated ${r.truncatedBytes} bytes`);
      // Nothing after a damaged segment can be trusted to follow it contiguously.
      dropRest = r.truncatedBytes > 0;
    }
  }

  if (segments.isEmpty) {
    segments.add(await LogSegment.create(dir, opts.logStartOffset, ctx));
    created = true;
  }
  const active = segments.active();
  logEndOffset = await active.readNextOffset();
  // A segment emptied by recovery keeps its base offset as the end.
  logEndOffset = Math.max(logEndOffset, active.baseOffset);

  return {
    created,
    fileNames: names,
    segments,
    recovered,
    logEndOffset,
    report: {
      dir,
      cleanShutdown: opts.cleanShutdown,
      recoveryPoint,
      segmentsLoaded: segments.size,
      segmentsScanned,
      batchesScanned,
      bytesTruncated,
      segmentsDeleted,
      indexesRebuilt,
      problems,
      leftoversDeleted,
      swapsCompleted,
      logEndOffset,
    },
  };
}
