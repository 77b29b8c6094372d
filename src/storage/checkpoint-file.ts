// Kafka's text checkpoint files, byte for byte:
//
//   <version>\n<count>\n<entry>\n...     (one entry per line, fields separated by a space)
//
// Used per log dir by recovery-point-offset-checkpoint, log-start-offset-checkpoint,
// replication-offset-checkpoint and cleaner-offset-checkpoint (entries `topic partition offset`,
// version 0), and per partition by leader-epoch-checkpoint (entries `epoch startOffset`, version 0,
// see leader-epoch-cache.ts). Writes go through atomic-file.ts.
//
// Reading follows Kafka's reader: a missing or empty file, or one that stops after the version or the
// count line, holds no entries; anything else that is off (unknown version, a line that does not
// parse, fewer or more entries than the count says) is an `ERR_CORRUPT_FILE` naming the file and line.
import { StrataError } from '../protocol/strata-error.js';
import { readFileIfExists, writeFileAtomic, type AtomicWriteOptions } from './atomic-file.js';

export const RECOVERY_POINT_CHECKPOINT_FILE = 'recovery-point-offset-checkpoint';
export const LOG_START_OFFSET_CHECKPOINT_FILE = 'log-start-offset-checkpoint';
export const REPLICATION_OFFSET_CHECKPOINT_FILE = 'replication-offset-checkpoint';
export const CLEANER_OFFSET_CHECKPOINT_FILE = 'cleaner-offset-checkpoint';
/** Written on clean shutdown, removed at startup; its absence means the log dir needs recovery. */
export const CLEAN_SHUTDOWN_FILE = '.kafka_cleanshutdown';

export const OFFSET_CHECKPOINT_VERSION = 0;

/** A storage file that does not parse; `line` is 1-based when the problem is on a given line. */
export class CorruptFileError extends StrataError {
  readonly file: string;
  readonly line: number | undefined;

  constructor(file: string, message: string, line?: number, options?: { cause?: unknown }) {
    super('ERR_CORRUPT_FILE', `${file}${line === undefined ? '' : `:${line}`}: ${message}`, options);
    this.name = 'CorruptFileError';
    this.file = file;
    this.line = line;
  }
}

/** How one entry maps to one line. `fromLine` returns undefined for a line that does not parse. */
export interface CheckpointFormatter<T> {
  toLine(entry: T): string;
  fromLine(line: string): T | undefined;
}

const INTEGER = /^[+-]?\d+$/;

/** Java's Integer.parseInt: an int32 in decimal, else undefined. */
export function parseInt32(text: string): number | undefined {
  if (!INTEGER.test(text)) return undefined;
  const n = Number(text);
  return n >= -0x8000_0000 && n <= 0x7fff_ffff ? n : undefined;
}

/** Java's Long.parseLong restricted to what a JS number holds exactly (every offset we accept). */
export function parseInt64(text: string): number | undefined {
  if (!INTEGER.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : undefined;
}

export function encodeCheckpoint<T>(version: number, entries: readonly T[], formatter: CheckpointFormatter<T>): string {
  let text = `${version}\n${entries.length}\n`;
  for (const entry of entries) text += formatter.toLine(entry) + '\n';
  return text;
}

/** Parses checkpoint text; `file` names the file in errors. */
export function decodeCheckpoint<T>(text: string, version: number, formatter: CheckpointFormatter<T>, file: string): T[] {
  const lines = text.split(/\r\n|\r|\n/);
  // Like a line reader, a final line terminator does not start another (empty) line.
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  if (lines.length === 0) return [];
  const readVersion = parseInt32(lines[0]!);
  if (readVersion === undefined) throw new CorruptFileError(file, `malformed version line '${lines[0]}'`, 1);
  if (readVersion !== version) {
    throw new CorruptFileError(file, `unrecognised version ${readVersion}, expected ${version}`, 1);
  }
  if (lines.length === 1) return [];
  const expected = parseInt32(lines[1]!);
  if (expected === undefined || expected < 0) throw new CorruptFileError(file, `malformed count line '${lines[1]}'`, 2);
  const entries: T[] = [];
  for (let i = 2; i < lines.length; i++) {
    const entry = formatter.fromLine(lines[i]!);
    if (entry === undefined) throw new CorruptFileError(file, `malformed line '${lines[i]}'`, i + 1);
    entries.push(entry);
  }
  if (entries.length !== expected) {
    throw new CorruptFileError(file, `expected ${expected} entries but found ${entries.length}`);
  }
  return entries;
}

/** A checkpoint file of entries `T`; every write replaces the whole file atomically. */
export class CheckpointFile<T> {
  readonly path: string;
  readonly #version: number;
  readonly #formatter: CheckpointFormatter<T>;

  constructor(path: string, version: number, formatter: CheckpointFormatter<T>) {
    this.path = path;
    this.#version = version;
    this.#formatter = formatter;
  }

  async read(): Promise<T[]> {
    const bytes = await readFileIfExists(this.path);
    if (bytes === undefined) return [];
    return decodeCheckpoint(bytes.toString('utf8'), this.#version, this.#formatter, this.path);
  }

  write(entries: readonly T[], options?: AtomicWriteOptions): Promise<void> {
    return writeFileAtomic(this.path, encodeCheckpoint(this.#version, entries, this.#formatter), options);
  }
}

export interface TopicPartitionOffset {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

const WHITESPACE = /\s+/;

export const topicPartitionOffsetFormatter: CheckpointFormatter<TopicPartitionOffset> = {
  toLine: (e) => `${e.topic} ${e.partition} ${e.offset}`,
  fromLine: (line) => {
    const parts = line.split(WHITESPACE);
    if (parts.length !== 3) return undefined;
    const partition = parseInt32(parts[1]!);
    const offset = parseInt64(parts[2]!);
    if (parts[0] === '' || partition === undefined || offset === undefined) return undefined;
    return { topic: parts[0]!, partition, offset };
  },
};

/** The partition directory name, `<topic>-<partition>`: the key of the maps below (unique: the partition is after the last '-'). */
export const topicPartitionKey = (topic: string, partition: number): string => `${topic}-${partition}`;

/** Splits a `<topic>-<partition>` key (or partition directory name); undefined when it is not one. */
export function parseTopicPartitionKey(key: string): { topic: string; partition: number } | undefined {
  const dash = key.lastIndexOf('-');
  if (dash <= 0) return undefined;
  const partition = parseInt32(key.slice(dash + 1));
  if (partition === undefined || partition < 0 || !/^\d+$/.test(key.slice(dash + 1))) return undefined;
  return { topic: key.slice(0, dash), partition };
}

/**
 * One of the per-log-dir offset checkpoints. The LogManager keeps a `Map` from `topicPartitionKey`
 * to offset and writes the whole map on its checkpoint timer and at shutdown.
 */
export class OffsetCheckpointFile {
  readonly #file: CheckpointFile<TopicPartitionOffset>;

  constructor(path: string) {
    this.#file = new CheckpointFile(path, OFFSET_CHECKPOINT_VERSION, topicPartitionOffsetFormatter);
  }

  get path(): string {
    return this.#file.path;
  }

  readEntries(): Promise<TopicPartitionOffset[]> {
    return this.#file.read();
  }

  /** Entries keyed by `topicPartitionKey`; a repeated partition keeps its last line, as Kafka does. */
  async read(): Promise<Map<string, number>> {
    const map = new Map<string, number>();
    for (const e of await this.#file.read()) map.set(topicPartitionKey(e.topic, e.partition), e.offset);
    return map;
  }

  writeEntries(entries: readonly TopicPartitionOffset[], options?: AtomicWriteOptions): Promise<void> {
    return this.#file.write(entries, options);
  }

  /** Writes a map keyed by `topicPartitionKey`; keys that are not such a key are a programming error. */
  write(offsets: ReadonlyMap<string, number>, options?: AtomicWriteOptions): Promise<void> {
    const entries: TopicPartitionOffset[] = [];
    for (const [key, offset] of offsets) {
      const tp = parseTopicPartitionKey(key);
      if (tp === undefined) throw new StrataError('ERR_STATE', `'${key}' is not a <topic>-<partition> key`);
      entries.push({ topic: tp.topic, partition: tp.partition, offset });
    }
    return this.#file.write(entries, options);
  }
}
