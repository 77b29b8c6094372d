// Putting a cleaned segment in place of the segments it replaces, so that a crash at any instant leaves
// a directory the log's open can repair without losing a retained record or duplicating an offset.
//
//   1. every `<new>.*.cleaned` file is complete and fsynced (CleanedSegmentWriter.finish);
//   2. cleaned → swap: the index files first, `<new>.log.swap` last, then fsync the directory.
//      From here the new segment is committed: open completes the swap;
//   3. each replaced segment's files → `.deleted` (removed later, after file.delete.delay.ms);
//   4. swap → final: index files first, `.log` last; fsync the directory.
//
// Recovery (recoverSwapFiles, called by the log's open before it lists segments), as Kafka's loader:
//   - `.cleaned` files are discarded (the clean never committed), and so are index `.swap` files
//     without their `.log.swap`;
//   - for each `<B>.log.swap`: every other segment file with a base offset in [B, next offset of the
//     swap segment) is a replaced segment that step 3 had not reached — it is deleted; an index `.swap`
//     file replaces its final-named twin (if the twin exists it is the replaced segment's, since step 4
//     renames index files only after step 3 removed them); then `.log.swap` → `.log`.
// Like Kafka, a replaced segment whose base offset is past the swap segment's last offset (all its
// records were cleaned away) survives a crash between steps 2 and 3; it holds only offsets above the
// swap segment's, so offsets stay unique and the next clean removes its superseded records again.
import fsp from 'node:fs/promises';
import { join } from 'node:path';
import { LAST_OFFSET_DELTA_OFFSET, LENGTH_OFFSET, LOG_OVERHEAD, MIN_BATCH_LENGTH, RECORD_BATCH_OVERHEAD, readInt64 } from '../../protocol/records/batch-header.js';
import { fsyncDirectory } from '../atomic-file.js';
import { CLEANED_SUFFIX, DELETED_SUFFIX, SEGMENT_FILE_EXTENSIONS, SWAP_SUFFIX, segmentFileName } from './cleaned-segment.js';

const INDEX_EXTENSIONS = SEGMENT_FILE_EXTENSIONS.filter((e) => e !== '.log');

/** Step 2: commits the cleaned segment at `baseOffset` by renaming its files to `.swap`. */
export async function commitCleanedSegment(dir: string, baseOffset: number): Promise<void> {
  for (const ext of INDEX_EXTENSIONS) await renameIfExists(join(dir, segmentFileName(baseOffset, ext) + CLEANED_SUFFIX), join(dir, segmentFileName(baseOffset, ext) + SWAP_SUFFIX));
  await fsp.rename(join(dir, segmentFileName(baseOffset, '.log') + CLEANED_SUFFIX), join(dir, segmentFileName(baseOffset, '.log') + SWAP_SUFFIX));
  await fsyncDirectory(dir);
}

/** Step 3 for one segment: renames its files to `.deleted`; returns the new paths. */
export async function retireSegmentFiles(dir: string, baseOffset: number): Promise<string[]> {
  const renamed: string[] = [];
  for (const ext of SEGMENT_FILE_EXTENSIONS) {
    const from = join(dir, segmentFileName(baseOffset, ext));
    if (await renameIfExists(from, from + DELETED_SUFFIX)) renamed.push(from + DELETED_SUFFIX);
  }
  return renamed;
}

/** Step 4: the swap segment at `baseOffset` takes its final names. */
export async function completeSwap(dir: string, baseOffset: number): Promise<void> {
  for (const ext of INDEX_EXTENSIONS) await renameIfExists(join(dir, segmentFileName(baseOffset, ext) + SWAP_SUFFIX), join(dir, segmentFileName(baseOffset, ext)));
  await fsp.rename(join(dir, segmentFileName(baseOffset, '.log') + SWAP_SUFFIX), join(dir, segmentFileName(baseOffset, '.log')));
  await fsyncDirectory(dir);
}

/**
 * Steps 2–4 on files alone, for a log whose segment objects do not hold these paths open (or that
 * reopens them afterwards). Returns the `.deleted` paths for the caller to remove after the delay.
 */
export async function swapSegmentFiles(dir: string, newBaseOffset: number, oldBaseOffsets: readonly number[]): Promise<string[]> {
  await commitCleanedSegment(dir, newBaseOffset);
  const deleted: string[] = [];
  for (const base of oldBaseOffsets) deleted.push(...(await retireSegmentFiles(dir, base)));
  await completeSwap(dir, newBaseOffset);
  return deleted;
}

export interface SwapRecoveryReport {
  /** Files of never-committed cleans that were removed. */
  readonly discarded: string[];
  /** Base offsets of swap segments that were put in place. */
  readonly completed: number[];
  /** Replaced segments' files removed while completing a swap. */
  readonly removedReplaced: string[];
}

/** Repairs a partition directory after a crash during cleaning (see the header comment). */
export async function recoverSwapFiles(dir: string): Promise<SwapRecoveryReport> {
  const report: SwapRecoveryReport = { discarded: [], completed: [], removedReplaced: [] };
  let names = await fsp.readdir(dir);
  for (const name of names) {
    if (name.endsWith(CLEANED_SUFFIX)) {
      await fsp.rm(join(dir, name), { force: true });
      report.discarded.push(name);
    }
  }
  names = await fsp.readdir(dir);
  const swapLogs = names
    .filter((n) => n.endsWith('.log' + SWAP_SUFFIX))
    .map((n) => Number(n.slice(0, n.indexOf('.'))))
    .filter((b) => Number.isSafeInteger(b))
    .sort((a, b) => a - b);
  const swapSet = new Set(swapLogs);
  for (const name of names) {
    if (!name.endsWith(SWAP_SUFFIX) || name.endsWith('.log' + SWAP_SUFFIX)) continue;
    if (!swapSet.has(Number(name.slice(0, name.indexOf('.'))))) {
      await fsp.rm(join(dir, name), { force: true });
      report.discarded.push(name);
    }
  }
  for (const base of swapLogs) {
    const next = await nextOffsetOf(join(dir, segmentFileName(base, '.log') + SWAP_SUFFIX), base);
    for (const name of await fsp.readdir(dir)) {
      if (name.endsWith(SWAP_SUFFIX) || name.endsWith(DELETED_SUFFIX)) continue;
      const ext = SEGMENT_FILE_EXTENSIONS.find((e) => name.endsWith(e));
      const offset = Number(name.slice(0, name.indexOf('.')));
      if (ext === undefined || !/^\d{20}\./.test(name) || offset < base || offset >= next) continue;
      // The new segment's own index files, already renamed by step 4, stay.
      if (offset === base && ext !== '.log' && !(await exists(join(dir, name + SWAP_SUFFIX)))) {
        continue;
      }
      await fsp.rm(join(dir, name), { force: true });
      report.removedReplaced.push(name);
    }
    await completeSwap(dir, base);
    report.completed.push(base);
  }
  if (report.discarded.length > 0 || report.removedReplaced.length > 0) await fsyncDirectory(dir);
  return report;
}

/** One past the last offset of the batches in the file (the base offset for an empty one). */
async function nextOffsetOf(path: string, baseOffset: number): Promise<number> {
  const data = await fsp.readFile(path);
  let next = baseOffset;
  let pos = 0;
  while (pos + RECORD_BATCH_OVERHEAD <= data.length) {
    const length = data.readInt32BE(pos + LENGTH_OFFSET);
    if (length < MIN_BATCH_LENGTH || pos + LOG_OVERHEAD + length > data.length) break;
    next = readInt64(data, pos) + data.readInt32BE(pos + LAST_OFFSET_DELTA_OFFSET) + 1;
    pos += LOG_OVERHEAD + length;
  }
  return next;
}

async function renameIfExists(from: string, to: string): Promise<boolean> {
  try {
    await fsp.rename(from, to);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}

async function exists(path: string): Promise<boolean> {
  return fsp.access(path).then(
    () => true,
    () => false,
  );
}
