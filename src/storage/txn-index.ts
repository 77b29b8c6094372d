// The `.txnindex` of a segment (Kafka's TransactionIndex): one 34-byte entry per aborted transaction
// whose ABORT marker is in the segment, in marker order.
//
//   0 version int16 (0) | 2 producerId int64 | 10 firstOffset int64 | 18 lastOffset int64
//   26 lastStableOffset int64
//
// firstOffset is the transaction's first data offset (possibly in an earlier segment), lastOffset the
// marker's offset, lastStableOffset the LSO right after the abort (see ProducerStateManager
// .lastStableOffset). A read_committed fetch asks every segment from the one holding the fetch offset
// for the aborted transactions overlapping [fetchOffset, upperBoundOffset) and stops at the first
// segment whose search is complete (an entry with lastStableOffset ≥ upperBoundOffset: every
// transaction that could overlap the range was already decided before it).
//
// How the Log uses it: one instance per segment (`<base>.txnindex`). `append` after the marker's batch
// is written (only aborts are recorded); `collectAbortedTxns` on read_committed fetches; `truncateTo`
// with the segment on log truncation; `reset` before recovery rebuilds it; `flush` with the segment;
// `renameTo`/`deleteIfExists` with the segment's other files. The file is created on the first append
// only, so most segments never have one. The entries are mirrored in memory (34 bytes each) from the
// first use until `close`; operations on one index run one at a time in call order.
import fsp from 'node:fs/promises';
import { readInt64, writeInt64 } from '../protocol/records/batch-header.js';
import { StrataError } from '../protocol/strata-error.js';
import { isNotFound } from './atomic-file.js';
import { CorruptFileError } from './checkpoint-file.js';

export const ABORTED_TXN_VERSION = 0;
export const ABORTED_TXN_SIZE = 34;

export interface AbortedTxn {
  readonly producerId: number;
  readonly firstOffset: number;
  readonly lastOffset: number;
  readonly lastStableOffset: number;
}

export interface TxnIndexSearchResult {
  readonly abortedTransactions: AbortedTxn[];
  /** True when no later segment can hold an aborted transaction overlapping the range. */
  readonly isComplete: boolean;
}

export function encodeAbortedTxn(txn: AbortedTxn, buf: Buffer = Buffer.alloc(ABORTED_TXN_SIZE), pos = 0): Buffer {
  buf.writeInt16BE(ABORTED_TXN_VERSION, pos);
  writeInt64(buf, pos + 2, txn.producerId);
  writeInt64(buf, pos + 10, txn.firstOffset);
  writeInt64(buf, pos + 18, txn.lastOffset);
  writeInt64(buf, pos + 26, txn.lastStableOffset);
  return buf;
}

/** Reads the entry at `pos`; a version other than 0 is `ERR_CORRUPT_FILE` naming `file`. */
export function decodeAbortedTxn(buf: Buffer, pos: number, file = '.txnindex'): AbortedTxn {
  const version = buf.readInt16BE(pos);
  if (version !== ABORTED_TXN_VERSION) {
    throw new CorruptFileError(file, `unexpected aborted transaction version ${version} at position ${pos}`);
  }
  return {
    producerId: readInt64(buf, pos + 2),
    firstOffset: readInt64(buf, pos + 10),
    lastOffset: readInt64(buf, pos + 18),
    lastStableOffset: readInt64(buf, pos + 26),
  };
}

export class TransactionIndex {
  /** The base offset of the owning segment. */
  readonly startOffset: number;
  #path: string;
  /** File contents from the first use on; `#size` bytes of it are valid. */
  #mirror: Buffer | undefined;
  #size = 0;
  #queue: Promise<unknown> = Promise.resolve();
  /** Operations queued or running. */
  #pending = 0;

  constructor(startOffset: number, path: string) {
    this.startOffset = startOffset;
    this.#path = path;
  }

  get path(): string {
    return this.#path;
  }

  /** Appends an aborted transaction; its lastOffset must be above every recorded one. */
  append(txn: AbortedTxn): Promise<void> {
    return this.#run(async () => {
      await this.#load();
      if (this.#size > 0) {
        const last = readInt64(this.#mirror!, this.#size - ABORTED_TXN_SIZE + 18);
        if (last >= txn.lastOffset) {
          throw new StrataError(
            'ERR_STATE',
            `aborted transactions must be appended in order of last offset: ${txn.lastOffset} after ${last} in ${this.#path}`,
          );
        }
      }
      const entry = encodeAbortedTxn(txn);
      try {
        const handle = await fsp.open(this.#path, 'a');
        try {
          await handle.write(entry, 0, ABORTED_TXN_SIZE);
        } finally {
          await handle.close();
        }
      } catch (cause) {
        throw storageError(`cannot append to ${this.#path}`, cause);
      }
      this.#ensureCapacity(this.#size + ABORTED_TXN_SIZE);
      entry.copy(this.#mirror!, this.#size);
      this.#size += ABORTED_TXN_SIZE;
    });
  }

  /** Every recorded aborted transaction, in file order. */
  allAbortedTxns(): Promise<AbortedTxn[]> {
    return this.#run(async () => {
      await this.#load();
      const out: AbortedTxn[] = [];
      for (let pos = 0; pos < this.#size; pos += ABORTED_TXN_SIZE) out.push(decodeAbortedTxn(this.#mirror!, pos, this.#path));
      return out;
    });
  }

  /** The aborted transactions overlapping [fetchOffset, upperBoundOffset), and whether the search is complete. */
  collectAbortedTxns(fetchOffset: number, upperBoundOffset: number): Promise<TxnIndexSearchResult> {
    return this.#run(async () => {
      await this.#load();
      return this.#collect(fetchOffset, upperBoundOffset);
    });
  }

  /**
   * collectAbortedTxns within this call, when the entries are in memory and no operation is queued;
   * undefined otherwise (the caller takes the asynchronous way).
   */
  collectAbortedTxnsNow(fetchOffset: number, upperBoundOffset: number): TxnIndexSearchResult | undefined {
    if (this.#pending > 0 || this.#mirror === undefined) return undefined;
    return this.#collect(fetchOffset, upperBoundOffset);
  }

  #collect(fetchOffset: number, upperBoundOffset: number): TxnIndexSearchResult {
    const abortedTransactions: AbortedTxn[] = [];
    for (let pos = 0; pos < this.#size; pos += ABORTED_TXN_SIZE) {
      const txn = decodeAbortedTxn(this.#mirror!, pos, this.#path);
      if (txn.lastOffset >= fetchOffset && txn.firstOffset < upperBoundOffset) abortedTransactions.push(txn);
      if (txn.lastStableOffset >= upperBoundOffset) return { abortedTransactions, isComplete: true };
    }
    return { abortedTransactions, isComplete: false };
  }

  /** Drops every entry whose marker is at or after `offset` (the log is truncated to end before it). */
  truncateTo(offset: number): Promise<void> {
    return this.#run(async () => {
      await this.#load();
      let keep = 0;
      while (keep < this.#size && readInt64(this.#mirror!, keep + 18) < offset) keep += ABORTED_TXN_SIZE;
      if (keep < this.#size) await this.#truncateFile(keep);
    });
  }

  /** Empties the index (before recovery rebuilds it). */
  reset(): Promise<void> {
    return this.#run(async () => {
      await this.#load();
      if (this.#size > 0) await this.#truncateFile(0);
    });
  }

  /**
   * Checks the file: a whole number of entries, each of version 0, none ending before the segment's
   * base offset. Throws `ERR_CORRUPT_FILE`; the Log then rebuilds the segment's indexes.
   */
  sanityCheck(): Promise<void> {
    return this.#run(async () => {
      this.#mirror = undefined;
      await this.#load();
      for (let pos = 0; pos < this.#size; pos += ABORTED_TXN_SIZE) {
        const txn = decodeAbortedTxn(this.#mirror!, pos, this.#path);
        if (txn.lastOffset < this.startOffset) {
          throw new CorruptFileError(
            this.#path,
            `last offset ${txn.lastOffset} of an aborted transaction is below the start offset ${this.startOffset}`,
          );
        }
      }
    });
  }

  /** Bytes in the index (0 when the file does not exist). */
  sizeInBytes(): Promise<number> {
    return this.#run(async () => {
      await this.#load();
      return this.#size;
    });
  }

  /** fsync of the file, if it exists. */
  flush(): Promise<void> {
    return this.#run(async () => {
      let handle: fsp.FileHandle;
      try {
        handle = await fsp.open(this.#path, 'r+');
      } catch (cause) {
        if (isNotFound(cause)) return;
        throw storageError(`cannot open ${this.#path}`, cause);
      }
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
    });
  }

  /** Moves the file (e.g. to the `.deleted` or `.swap` name); a missing file just takes the new path. */
  renameTo(newPath: string): Promise<void> {
    return this.#run(async () => {
      try {
        await fsp.rename(this.#path, newPath);
      } catch (cause) {
        if (!isNotFound(cause)) throw storageError(`cannot rename ${this.#path} to ${newPath}`, cause);
      }
      this.#path = newPath;
    });
  }

  /** Removes the file; returns whether it existed. */
  deleteIfExists(): Promise<boolean> {
    return this.#run(async () => {
      this.#mirror = undefined;
      this.#size = 0;
      try {
        await fsp.unlink(this.#path);
        return true;
      } catch (cause) {
        if (isNotFound(cause)) return false;
        throw storageError(`cannot delete ${this.#path}`, cause);
      }
    });
  }

  /** Drops the in-memory mirror; the next use reloads it from the file. */
  close(): Promise<void> {
    return this.#run(async () => {
      this.#mirror = undefined;
      this.#size = 0;
    });
  }

  #run<T>(op: () => Promise<T>): Promise<T> {
    this.#pending++;
    const result = this.#queue.then(op).finally(() => this.#pending--);
    this.#queue = result.catch(() => undefined);
    return result;
  }

  async #load(): Promise<void> {
    if (this.#mirror !== undefined) return;
    let bytes: Buffer;
    try {
      bytes = await fsp.readFile(this.#path);
    } catch (cause) {
      if (!isNotFound(cause)) throw storageError(`cannot read ${this.#path}`, cause);
      bytes = Buffer.alloc(0);
    }
    if (bytes.length % ABORTED_TXN_SIZE !== 0) {
      throw new CorruptFileError(
        this.#path,
        `size ${bytes.length} is not a multiple of the ${ABORTED_TXN_SIZE}-byte entry size`,
      );
    }
    this.#mirror = bytes;
    this.#size = bytes.length;
  }

  #ensureCapacity(size: number): void {
    if (this.#mirror!.length >= size) return;
    const grown = Buffer.alloc(Math.max(size, this.#mirror!.length * 2, ABORTED_TXN_SIZE * 8));
    this.#mirror!.copy(grown, 0, 0, this.#size);
    this.#mirror = grown;
  }

  async #truncateFile(length: number): Promise<void> {
    try {
      await fsp.truncate(this.#path, length);
    } catch (cause) {
      if (!isNotFound(cause)) throw storageError(`cannot truncate ${this.#path}`, cause);
    }
    this.#size = length;
  }
}

function storageError(message: string, cause: unknown): StrataError {
  return new StrataError('ERR_STORAGE', `${message}: ${(cause as Error).message}`, { cause });
}
