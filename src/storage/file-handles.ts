// A bounded pool of file descriptors shared by every segment of a LogManager. Thousands of
// partitions would otherwise hold tens of thousands of descriptors: idle ones are closed in LRU
// order and reopened on demand. Also the small promise wrappers over fd-level fs calls the log
// uses (the callback API avoids the per-call objects of fs.promises' FileHandle).
import fs from 'node:fs';

export function readAt(fd: number, buf: Buffer, offset: number, length: number, position: number): Promise<number> {
  return new Promise((resolve, reject) => {
    fs.read(fd, buf, offset, length, position, (err, n) => (err ? reject(err) : resolve(n)));
  });
}

/** Reads exactly `length` bytes unless the file ends first; returns the bytes read. */
export async function readFully(fd: number, buf: Buffer, offset: number, length: number, position: number): Promise<number> {
  let done = 0;
  while (done < length) {
    const n = await readAt(fd, buf, offset + done, length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}

/** Writes all of `length` bytes in this call, on this thread (see inline-writes.ts for when that is wise). */
export function writeFullyNow(fd: number, buf: Buffer, offset: number, length: number, position: number): void {
  let done = 0;
  while (done < length) done += fs.writeSync(fd, buf, offset + done, length - done, position + done);
}

/** Writes all of `length` bytes from libuv's thread pool. */
export async function writeFully(fd: number, buf: Buffer, offset: number, length: number, position: number): Promise<void> {
  let done = 0;
  while (done < length) {
    done += await new Promise<number>((resolve, reject) => {
      fs.write(fd, buf, offset + done, length - done, position + done, (err, n) => (err ? reject(err) : resolve(n)));
    });
  }
}

export function fdatasync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.fdatasync(fd, (err) => (err ? reject(err) : resolve())));
}

export function ftruncate(fd: number, length: number): Promise<void> {
  return new Promise((resolve, reject) => fs.ftruncate(fd, length, (err) => (err ? reject(err) : resolve())));
}

export function fstatSize(fd: number): Promise<number> {
  return new Promise((resolve, reject) => fs.fstat(fd, (err, st) => (err ? reject(err) : resolve(st.size))));
}

/** A directory's entry names (the callback API: cheaper per call than fs.promises, which matters at start-up). */
export function readdirNames(dir: string): Promise<string[]> {
  return new Promise((resolve, reject) => fs.readdir(dir, (err, names) => (err ? reject(err) : resolve(names))));
}

/** A file's size, or undefined when it does not exist. */
export function statSize(path: string): Promise<number | undefined> {
  return new Promise((resolve, reject) => fs.stat(path, (err, st) => {
    if (!err) resolve(st.size);
    else if (err.code === 'ENOENT') resolve(undefined);
    else reject(err);
  }));
}

/** fsync of a directory, so a created or renamed entry survives a crash. */
export function fsyncDir(dir: string): Promise<void> {
  // Callers that arrive while a sync of `dir` runs share the next one, which starts after it: a sync
  // started after a caller's change covers it. Creating a 1,000-partition topic then syncs the parent
  // directory a handful of times instead of a thousand.
  let state = dirSyncs.get(dir);
  if (state === undefined) {
    state = { running: undefined, next: undefined };
    dirSyncs.set(dir, state);
  }
  if (state.running === undefined) return startDirSync(dir, state);
  state.next ??= state.running.catch(() => undefined).then(() => {
    state.next = undefined;
    return startDirSync(dir, state);
  });
  return state.next;
}

interface DirSyncState {
  running: Promise<void> | undefined;
  next: Promise<void> | undefined;
}

const dirSyncs = new Map<string, DirSyncState>();

function startDirSync(dir: string, state: DirSyncState): Promise<void> {
  const run = syncDirOnce(dir).finally(() => {
    if (state.running === run) state.running = undefined;
    if (state.running === undefined && state.next === undefined) dirSyncs.delete(dir);
  });
  state.running = run;
  return run;
}

function syncDirOnce(dir: string): Promise<void> {
  return new Promise((resolve, reject) => {
    fs.open(dir, 'r', (openErr, fd) => {
      if (openErr) return reject(openErr);
      fs.fsync(fd, (syncErr) => fs.close(fd, () => (syncErr ? reject(syncErr) : resolve())));
    });
  });
}

/**
 * The process's soft limit on open files, where the platform tells (Linux: /proc/self/limits); Node has
 * no getrlimit. The LogManager keeps its descriptor budget well below it, leaving room for sockets and
 * the state files opened outside the pool.
 */
export function openFileLimit(): number | undefined {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

interface Entry {
  readonly path: string;
  fd: number;
  refs: number;
  /** Removed from the pool (renamed/deleted/evicted while busy): close at the last release. */
  detached: boolean;
  /** Used since eviction last passed it: it gets a second chance (see #evictIdle). */
  recent: boolean;
}

const OPEN_FLAGS = fs.constants.O_RDWR;
const CREATE_FLAGS = fs.constants.O_RDWR | fs.constants.O_CREAT;

export class FileHandlePool {
  #maxOpen: number;
  /** In Map order, eviction passes the least recently used entries first (approximately: see #evictIdle). */
  readonly #entries = new Map<string, Entry>();
  readonly #opening = new Map<string, Promise<Entry>>();
  #opened = 0;

  constructor(maxOpen = 1024) {
    this.#maxOpen = Math.max(2, maxOpen);
  }

  /** Descriptors currently open (busy ones may push this past the limit for a moment). */
  get openCount(): number {
    return this.#opened;
  }

  /** Total opens since creation (a test hook for "idle handles are reopened on demand"). */
  openCalls = 0;

  /**
   * Runs `fn` with a read-write descriptor for `path`. Only `create` makes a missing file: a read
   * racing a segment deletion must fail, not resurrect an empty file under the old name.
   */
  use<T>(path: string, fn: (fd: number) => Promise<T>, create = false): Promise<T> {
    // An open descriptor is used at once: no promise hop before `fn` on the append and fetch hot paths.
    const existing = this.#entries.get(path);
    if (existing !== undefined) return this.#run(this.#touch(existing), fn);
    return this.#acquire(path, create).then((entry) => this.#run(entry, fn));
  }

  /**
   * Runs `fn` synchronously on `path`'s descriptor if it is open, and returns true; returns false (and
   * runs nothing) if opening it would have to wait.
   */
  useNow(path: string, fn: (fd: number) => void): boolean {
    const existing = this.#entries.get(path);
    if (existing === undefined) return false;
    const entry = this.#touch(existing);
    try {
      fn(entry.fd);
    } finally {
      this.#release(entry);
    }
    return true;
  }

  async #run<T>(entry: Entry, fn: (fd: number) => Promise<T>): Promise<T> {
    try {
      return await fn(entry.fd);
    } finally {
      this.#release(entry);
    }
  }

  /** Marks `entry` recently used and takes a reference. */
  #touch(entry: Entry): Entry {
    entry.recent = true;
    entry.refs++;
    return entry;
  }

  /** Closes `path`'s descriptor (now, or when its last user is done); the next use reopens. */
  forget(path: string): void {
    const entry = this.#entries.get(path);
    if (!entry) return;
    this.#entries.delete(path);
    entry.detached = true;
    if (entry.refs === 0) this.#close(entry);
  }

  /** Closes every idle descriptor; busy ones close when released. */
  closeAll(): void {
    for (const path of [...this.#entries.keys()]) this.forget(path);
  }

  async #acquire(path: string, create: boolean): Promise<Entry> {
    const existing = this.#entries.get(path);
    if (existing) return this.#touch(existing);
    let pending = this.#opening.get(path);
    if (!pending) {
      pending = this.#open(path, create);
      this.#opening.set(path, pending);
      pending.finally(() => this.#opening.delete(path)).catch(() => undefined);
    }
    const entry = await pending;
    entry.refs++;
    return entry;
  }

  async #open(path: string, create: boolean): Promise<Entry> {
    this.#evictIdle(1);
    // Counted from now on, so concurrent opens see each other when deciding what to evict.
    this.#opened++;
    const open = (): Promise<number> => new Promise<number>((resolve, reject) =>
      fs.open(path, create ? CREATE_FLAGS : OPEN_FLAGS, 0o644, (err, n) => (err ? reject(err) : resolve(n))),
    );
    let fd: number;
    try {
      try {
        fd = await open();
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== 'EMFILE' && code !== 'ENFILE') throw e;
        // The process limit is below our budget: shrink the budget, close idle descriptors, retry once.
        this.#maxOpen = Math.max(2, Math.floor((this.#opened - 1) * 0.9));
        this.#evictIdle(0);
        fd = await open();
      }
    } catch (e) {
      this.#opened--;
      throw e;
    }
    this.openCalls++;
    const entry: Entry = { path, fd, refs: 0, detached: false, recent: false };
    this.#entries.set(path, entry);
    return entry;
  }

  #release(entry: Entry): void {
    entry.refs--;
    if (entry.refs === 0 && entry.detached) this.#close(entry);
    else if (this.#opened > this.#maxOpen) this.#evictIdle(0);
  }

  /**
   * Closes idle descriptors, oldest first, until `room` more fit. The order is the CLOCK approximation of
   * LRU: an entry used since it was last passed moves to the back instead of closing. Moving every entry
   * on every use would rehash the long-lived Map per file operation, and each new table is garbage in the
   * old generation, which is what drives V8's full collections.
   */
  #evictIdle(room: number): void {
    if (this.#opened + room <= this.#maxOpen) return;
    // An entry moved to the back is visited again, now without its second chance, so this ends.
    for (const [path, entry] of this.#entries) {
      if (this.#opened + room <= this.#maxOpen) break;
      if (entry.refs > 0) continue;
      if (entry.recent) {
        entry.recent = false;
        this.#entries.delete(path);
        this.#entries.set(path, entry);
        continue;
      }
      this.#entries.delete(path);
      entry.detached = true;
      this.#close(entry);
    }
  }

  #close(entry: Entry): void {
    this.#opened--;
    // Closing is fire-and-forget: a failed close of a descriptor has nothing left to lose.
    fs.close(entry.fd, () => undefined);
  }
}
