// Small shared helpers for the generated codecs in ./generated (kept here so the generated modules
// stay compact). Hand-written; the generator only calls into it.
import type { Reader } from './reader.js';
import { StrataError } from './strata-error.js';
import { Writer } from './writer.js';

export const ZERO_UUID = '00000000-0000-0000-0000-000000000000';
/** Shared empty default for `bytes` fields; zero-length, so nothing can be written into it. */
export const EMPTY_BUFFER: Buffer = Buffer.alloc(0);

/** A tagged field the schema of the decoded version does not know, kept as raw bytes. */
export interface TaggedField {
  tag: number;
  data: Buffer;
}

/** One of the schema version metadata entries every API / record family exposes. */
export interface ApiSchema<Req = unknown, Res = unknown> {
  readonly apiKey: number;
  readonly name: string;
  readonly minVersion: number;
  readonly maxVersion: number;
  /** First flexible (KIP-482) version, or null when the API is never flexible. */
  readonly flexibleMinVersion: number | null;
  readonly listeners: readonly string[];
  readonly latestVersionUnstable: boolean;
  readonly deprecatedVersions: readonly [number, number] | null;
  requestHeaderVersion(version: number): 0 | 1 | 2;
  responseHeaderVersion(version: number): 0 | 1;
  decodeRequest(r: Reader, version: number): Req;
  encodeRequest(w: Writer, version: number, msg: Req): void;
  decodeResponse(r: Reader, version: number): Res;
  encodeResponse(w: Writer, version: number, msg: Res): void;
}

export function checkVersion(name: string, version: number, min: number, max: number): void {
  if (!(version >= min && version <= max) || !Number.isInteger(version)) {
    throw new StrataError('ERR_UNSUPPORTED_VERSION', `${name}: version ${version} is outside ${min}-${max}`);
  }
}

export function fieldAbsent(struct: string, field: string, version: number): StrataError {
  return new StrataError(
    'ERR_ENCODE',
    `${struct}.${field}: holds a non-default value but does not exist in version ${version}`,
  );
}

export function notNull<T>(value: T | null, field: string): T {
  if (value === null) {
    throw new StrataError('ERR_ENCODE', `${field}: null in a version where it is not nullable`);
  }
  return value;
}

// ---- arrays ------------------------------------------------------------------------------------

export type ElementReader<T> = (r: Reader, v: number) => T;
export type ElementWriter<T> = (w: Writer, x: T, v: number) => void;

export function readArray<T>(r: Reader, compact: boolean, field: string, read: ElementReader<T>, v: number): T[] {
  const n = compact ? r.compactArrayLength(field) : r.arrayLength(field);
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(read(r, v));
  return out;
}

export function readNullableArray<T>(
  r: Reader,
  compact: boolean,
  field: string,
  read: ElementReader<T>,
  v: number,
): T[] | null {
  const n = compact ? r.compactNullableArrayLength(field) : r.nullableArrayLength(field);
  if (n < 0) return null;
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(read(r, v));
  return out;
}

export function writeArray<T>(
  w: Writer,
  compact: boolean,
  field: string,
  items: readonly T[] | null,
  write: ElementWriter<T>,
  v: number,
): void {
  if (items === null) throw new StrataError('ERR_ENCODE', `${field}: null in a version where it is not nullable`);
  if (compact) w.uvarint(items.length + 1);
  else w.int32(items.length);
  for (let i = 0; i < items.length; i++) write(w, items[i]!, v);
}

export function writeNullableArray<T>(
  w: Writer,
  compact: boolean,
  field: string,
  items: readonly T[] | null,
  write: ElementWriter<T>,
  v: number,
): void {
  if (items === null) {
    if (compact) w.uvarint(0);
    else w.int32(-1);
    return;
  }
  writeArray(w, compact, field, items, write, v);
}

// Element codecs for arrays of primitives (module-level functions: no closure per call).
export const rdInt8: ElementReader<number> = (r) => r.int8();
export const rdInt16: ElementReader<number> = (r) => r.int16();
export const rdInt32: ElementReader<number> = (r) => r.int32();
export const rdInt64: ElementReader<bigint> = (r) => r.int64();
export const rdUint16: ElementReader<number> = (r) => r.uint16();
export const rdUint32: ElementReader<number> = (r) => r.uint32();
export const rdFloat64: ElementReader<number> = (r) => r.float64();
export const rdBool: ElementReader<boolean> = (r) => r.bool();
export const rdUuid: ElementReader<string> = (r) => r.uuid();
export const rdString: ElementReader<string> = (r) => r.string();
export const rdCompactString: ElementReader<string> = (r) => r.compactString();
export const rdBytes: ElementReader<Buffer> = (r) => r.bytes();
export const rdCompactBytes: ElementReader<Buffer> = (r) => r.compactBytes();

export const wrInt8: ElementWriter<number> = (w, x) => w.int8(x);
export const wrInt16: ElementWriter<number> = (w, x) => w.int16(x);
export const wrInt32: ElementWriter<number> = (w, x) => w.int32(x);
export const wrInt64: ElementWriter<bigint> = (w, x) => w.int64(x);
export const wrUint16: ElementWriter<number> = (w, x) => w.uint16(x);
export const wrUint32: ElementWriter<number> = (w, x) => w.uint32(x);
export const wrFloat64: ElementWriter<number> = (w, x) => w.float64(x);
export const wrBool: ElementWriter<boolean> = (w, x) => w.bool(x);
export const wrUuid: ElementWriter<string> = (w, x) => w.uuid(x);
export const wrString: ElementWriter<string> = (w, x) => w.string(x);
export const wrCompactString: ElementWriter<string> = (w, x) => w.compactString(x);
export const wrBytes: ElementWriter<Buffer> = (w, x) => w.bytes(x);
export const wrCompactBytes: ElementWriter<Buffer> = (w, x) => w.compactBytes(x);

// ---- tagged fields -----------------------------------------------------------------------------

/** A known tagged field ready to be written: its value already encoded into `data`. */
export interface TaggedOut {
  tag: number;
  data: Writer;
}

/** Starts the encoding of one tagged field's value. */
export function taggedWriter(): Writer {
  return new Writer(64);
}

/**
 * Writes a tagged-field section: the known fields (already in ascending tag order) merged with
 * the unknown ones carried over from a decode, all in ascending tag order.
 */
export function writeTaggedFields(
  w: Writer,
  known: readonly TaggedOut[] | undefined,
  unknown: readonly TaggedField[] | undefined,
): void {
  const nk = known === undefined ? 0 : known.length;
  const nu = unknown === undefined ? 0 : unknown.length;
  w.uvarint(nk + nu);
  if (nu === 0) {
    for (let i = 0; i < nk; i++) writeOneTagged(w, known![i]!.tag, known![i]!.data);
    return;
  }
  const extra = nu === 1 ? unknown! : [...unknown!].sort((a, b) => a.tag - b.tag);
  let i = 0;
  let j = 0;
  let last = -1;
  while (i < nk || j < nu) {
    const k = i < nk ? known![i]! : undefined;
    const u = j < nu ? extra[j]! : undefined;
    const tag = k !== undefined && (u === undefined || k.tag < u.tag) ? k.tag : u!.tag;
    if (tag === last || (k !== undefined && u !== undefined && k.tag === u.tag)) {
      throw new StrataError('ERR_ENCODE', `tagged field ${tag} appears twice`);
    }
    last = tag;
    if (k !== undefined && k.tag === tag) {
      writeOneTagged(w, tag, k.data);
      i++;
    } else {
      writeOneTagged(w, tag, u!.data);
      j++;
    }
  }
}

function writeOneTagged(w: Writer, tag: number, data: Writer | Buffer): void {
  w.uvarint(tag);
  if (data instanceof Writer) {
    w.uvarint(data.length);
    w.appendWriter(data);
  } else {
    w.uvarint(data.length);
    w.appendBuffer(data);
  }
}

/** Reads a tagged-field section of a struct that knows no tags in this version. */
export function readUnknownTaggedFields(r: Reader): TaggedField[] | undefined {
  return r.taggedFields();
}

export function noTaggedFields(struct: string, version: number): StrataError {
  return new StrataError('ERR_ENCODE', `${struct}: unknown tagged fields cannot be written in non-flexible version ${version}`);
}
