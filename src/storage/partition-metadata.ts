// `partition.metadata` in each partition directory: the topic id the directory belongs to, so a
// directory left behind by a deleted topic is never mistaken for a new topic of the same name.
// Exact Kafka text (no final newline):
//
//   version: 0
//   topic_id: <topic id in Kafka's base64url form>
//
// Kafka prints a Uuid as the URL-safe base64 of its 16 bytes without padding (22 characters); the
// protocol codecs use the canonical 8-4-4-4-12 hex form. Helpers below convert between the two; the
// API of this module takes and returns the canonical form.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { StrataError } from '../protocol/strata-error.js';
import { readFileIfExists, writeFileAtomic, type AtomicWriteOptions } from './atomic-file.js';
import { CorruptFileError, parseInt32 } from './checkpoint-file.js';

export const PARTITION_METADATA_FILE = 'partition.metadata';
export const PARTITION_METADATA_VERSION = 0;

export const ZERO_UUID = '00000000-0000-0000-0000-000000000000';
/** Kafka's fixed topic id of `__cluster_metadata` (Uuid(0, 1)). */
export const METADATA_TOPIC_ID = '00000000-0000-0000-0000-000000000001';

const CANONICAL = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const BASE64URL = /^[A-Za-z0-9_-]{22}(==)?$/;

export const isCanonicalUuid = (s: string): boolean => CANONICAL.test(s);

export function uuidToBytes(canonical: string): Buffer {
  if (!CANONICAL.test(canonical)) throw new StrataError('ERR_DECODE', `'${canonical}' is not a uuid`);
  return Buffer.from(canonical.replaceAll('-', ''), 'hex');
}

export function uuidFromBytes(bytes: Uint8Array): string {
  if (bytes.length !== 16) throw new StrataError('ERR_DECODE', `a uuid has 16 bytes, not ${bytes.length}`);
  const hex = Buffer.from(bytes.buffer, bytes.byteOffset, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Canonical 8-4-4-4-12 form → Kafka's `Uuid.toString()` form. */
export const uuidToBase64 = (canonical: string): string => uuidToBytes(canonical).toString('base64url');

/** Kafka's base64url form (22 characters, or 24 with `==`) → canonical form. */
export function uuidFromBase64(text: string): string {
  if (!BASE64URL.test(text)) throw new StrataError('ERR_DECODE', `'${text}' is not a base64url uuid`);
  return uuidFromBytes(Buffer.from(text.slice(0, 22), 'base64url'));
}

/**
 * A new random topic id, avoiding the ids Kafka never hands out: the zero uuid, the metadata topic's
 * id, and ids whose base64 form starts with '-' (they would read as an option on a command line).
 */
export function randomTopicId(random: (n: number) => Buffer = randomBytes): string {
  for (;;) {
    const id = uuidFromBytes(random(16));
    if (id !== ZERO_UUID && id !== METADATA_TOPIC_ID && !uuidToBase64(id).startsWith('-')) return id;
  }
}

export interface PartitionMetadata {
  readonly version: number;
  /** Canonical form. */
  readonly topicId: string;
}

export const encodePartitionMetadata = (topicId: string): string =>
  `version: ${PARTITION_METADATA_VERSION}\ntopic_id: ${uuidToBase64(topicId)}`;

/** Parses the file's text; `file` names the file in errors. Like Kafka, later versions are accepted. */
export function decodePartitionMetadata(text: string, file: string): PartitionMetadata {
  const lines = text.split(/\r\n|\r|\n/);
  const version = parseInt32(valueOf(lines[0], 'version', file, 1));
  if (version === undefined) throw new CorruptFileError(file, `malformed line '${lines[0]}'`, 1);
  if (version < PARTITION_METADATA_VERSION) throw new CorruptFileError(file, `unrecognized version ${version}`, 1);
  const rawId = valueOf(lines[1], 'topic_id', file, 2);
  let topicId: string;
  try {
    topicId = uuidFromBase64(rawId);
  } catch (cause) {
    throw new CorruptFileError(file, `malformed line '${lines[1]}'`, 2, { cause });
  }
  if (topicId === ZERO_UUID) throw new CorruptFileError(file, 'invalid topic id (the zero uuid)', 2);
  return { version, topicId };
}

function valueOf(line: string | undefined, key: string, file: string, lineNo: number): string {
  if (line === undefined) throw new CorruptFileError(file, `missing '${key}' line`, lineNo);
  const m = /^([^:]*):\s+([\s\S]*)$/.exec(line);
  if (m === null || m[1] !== key) throw new CorruptFileError(file, `malformed line '${line}'`, lineNo);
  return m[2]!;
}

/** `partition.metadata` of the partition directory `dir`. */
export class PartitionMetadataFile {
  readonly path: string;

  constructor(dir: string) {
    this.path = join(dir, PARTITION_METADATA_FILE);
  }

  /** The recorded metadata, or undefined when the file does not exist (an empty file is corrupt). */
  async read(): Promise<PartitionMetadata | undefined> {
    const bytes = await readFileIfExists(this.path);
    return bytes === undefined ? undefined : decodePartitionMetadata(bytes.toString('utf8'), this.path);
  }

  /** Records `topicId` (canonical form), replacing the file atomically. */
  write(topicId: string, options?: AtomicWriteOptions): Promise<void> {
    return writeFileAtomic(this.path, encodePartitionMetadata(topicId), options);
  }
}
