// The four codecs of Kafka record batches, both directions, with a bound on decompressed output.
//
// Formats, as Kafka clients write them:
//   gzip   RFC 1952 (Node's zlib; concatenated members are accepted, as Java's GZIPInputStream does).
//   snappy Java clients frame it the xerial way: "\x82SNAPPY\0", int32 version, int32 compatible
//          version, then [int32 length, raw snappy block]*. librdkafka can send one raw snappy block.
//          We read both and write the xerial framing, which every client reads.
//   lz4    the LZ4 *frame* format (magic 04 22 4D 18). We write 64 KiB independent blocks without
//          checksums, as Kafka's own producer does, and read any frame (block/content checksums,
//          content size, linked blocks) through lz4-napi's frame decoder.
//   zstd   a standard zstd frame (@mongodb-js/zstd, async only).
//
// Decompression bombs: every decompressor takes `maxBytes` and fails with StrataError
// ERR_RECORD_TOO_LARGE before producing more. gzip: zlib's maxOutputLength stops inflating there.
// snappy: every raw block declares its length up front, checked before decompressing. lz4 and zstd:
// their libraries cannot stop early, so we walk the frame's block headers first and add up the most
// each block can produce (a stored block its size; a compressed one the format's block maximum, for
// lz4 also at most 255 bytes per input byte), or the declared content size where present; a frame
// whose bound exceeds `maxBytes` is refused unread. What remains: the zstd bound counts every
// compressed block at up to 128 KiB, so it can exceed the true size by up to 128 KiB per block; a frame
// cut into many small compressed blocks could be refused although honest. Real producers fill blocks,
// and the broker's bound is megabytes, so only that pathological framing is affected.
//
// Native modules are loaded lazily with a fallback to "unavailable": a codec whose module fails to load
// throws ERR_COMPRESSION and the broker answers UNSUPPORTED_COMPRESSION_TYPE. There is no pure-JS
// fallback; gzip is always Node's zlib.
import { createRequire } from 'node:module';
import * as zlib from 'node:zlib';
import { StrataError } from '../strata-error.js';
import { Compression } from './batch-header.js';
import { xxhash32 } from './xxhash32.js';

interface SnappyModule {
  compressSync(input: Buffer): Buffer;
  uncompressSync(input: Uint8Array, options?: { asBuffer?: boolean }): Buffer | string;
}
interface Lz4Module {
  compressSync(data: Buffer): Buffer;
  decompressFrameSync(data: Buffer): Buffer;
}
interface ZstdModule {
  compress(data: Buffer, level?: number): Promise<Buffer>;
  decompress(data: Buffer): Promise<Buffer>;
}

const require = createRequire(import.meta.url);

function load<T>(name: string): T | undefined {
  try {
    return require(name) as T;
  } catch {
    return undefined;
  }
}

const snappy = load<SnappyModule>('snappy');
const lz4 = load<Lz4Module>('lz4-napi');
const zstd = load<ZstdModule>('@mongodb-js/zstd');

/** Which library backs each codec, for the README and the startup log. */
export const compressionImplementations = {
  gzip: `node:zlib (zlib ${process.versions.zlib})`,
  snappy: snappy ? 'snappy (napi-rs, native)' : 'unavailable',
  lz4: lz4 ? 'lz4-napi (lz4_flex, native) with our own frame writer' : 'unavailable',
  zstd: zstd ? '@mongodb-js/zstd (libzstd, native, async only)' : 'unavailable',
} as const;

export const compressionName = (code: number): string =>
  (['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const)[code] ?? `unknown(${code})`;

/** Whether `code` is a codec this process can both read and write. */
export function isCompressionSupported(code: number): boolean {
  switch (code) {
    case Compression.none:
    case Compression.gzip:
      return true;
    case Compression.snappy:
      return snappy !== undefined;
    case Compression.lz4:
      return lz4 !== undefined;
    case Compression.zstd:
      return zstd !== undefined;
    default:
      return false;
  }
}

/** Whether the codec can run synchronously (zstd cannot with the library we use). */
export const hasSyncCodec = (code: number): boolean => code !== Compression.zstd && isCompressionSupported(code);

function unavailable(code: number): StrataError {
  return new StrataError('ERR_COMPRESSION', `compression ${compressionName(code)} is not available`);
}

function tooLarge(codec: string, size: number | string, maxBytes: number): StrataError {
  return new StrataError('ERR_RECORD_TOO_LARGE', `${codec} data decompresses to ${size} bytes, over the limit of ${maxBytes}`);
}

function malformed(codec: string, e: unknown): StrataError {
  const detail = e instanceof Error ? e.message : String(e);
  return new StrataError('ERR_COMPRESSION', `malformed ${codec} data: ${detail}`, { cause: e });
}

// ---------------------------------------------------------------------------------------------------
// Public entry points

export function compressSync(code: number, data: Buffer): Buffer {
  switch (code) {
    case Compression.none:
      return data;
    case Compression.gzip:
      return zlib.gzipSync(data);
    case Compression.snappy:
      return xerialCompress(data);
    case Compression.lz4:
      return lz4FrameCompress(data);
    case Compression.zstd:
      throw new StrataError('ERR_COMPRESSION', 'zstd has no synchronous compressor here; use compress()');
    default:
      throw unavailable(code);
  }
}

export async function compress(code: number, data: Buffer): Promise<Buffer> {
  if (code === Compression.zstd) {
    if (!zstd) throw unavailable(code);
    return zstd.compress(data, 3);
  }
  if (code === Compression.gzip) {
    return new Promise((resolve, reject) => zlib.gzip(data, (err, out) => (err ? reject(err) : resolve(out))));
  }
  return compressSync(code, data);
}

export function decompressSync(code: number, data: Buffer, maxBytes: number): Buffer {
  switch (code) {
    case Compression.none:
      if (data.length > maxBytes) throw tooLarge('uncompressed', data.length, maxBytes);
      return data;
    case Compression.gzip:
      try {
        return zlib.gunzipSync(data, { maxOutputLength: Math.max(1, maxBytes) });
      } catch (e) {
        throw gzipError(e, maxBytes);
      }
    case Compression.snappy:
      return snappyDecompress(data, maxBytes);
    case Compression.lz4:
      return lz4FrameDecompress(data, maxBytes);
    case Compression.zstd:
      throw new StrataError('ERR_COMPRESSION', 'zstd has no synchronous decompressor here; use decompress()');
    default:
      throw unavailable(code);
  }
}

export async function decompress(code: number, data: Buffer, maxBytes: number): Promise<Buffer> {
  if (code === Compression.gzip) {
    return new Promise((resolve, reject) =>
      zlib.gunzip(data, { maxOutputLength: Math.max(1, maxBytes) }, (err, out) =>
        err ? reject(gzipError(err, maxBytes)) : resolve(out),
      ),
    );
  }
  if (code === Compression.zstd) {
    if (!zstd) throw unavailable(code);
    const bound = zstdDecompressedBound(data);
    if (bound > maxBytes) throw tooLarge('zstd', `up to ${bound}`, maxBytes);
    let out: Buffer;
    try {
      out = await zstd.decompress(data);
    } catch (e) {
      throw malformed('zstd', e);
    }
    if (out.length > maxBytes) throw tooLarge('zstd', out.length, maxBytes);
    return out;
  }
  return decompressSync(code, data, maxBytes);
}

function gzipError(e: unknown, maxBytes: number): StrataError {
  if (e instanceof RangeError || (e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
    return tooLarge('gzip', `more than ${maxBytes}`, maxBytes);
  }
  return malformed('gzip', e);
}

// ---------------------------------------------------------------------------------------------------
// snappy: xerial framing and raw blocks

const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER = 16;
/** The chunk size xerial's SnappyOutputStream uses by default. */
const XERIAL_BLOCK = 32 * 1024;

export const isXerialSnappy = (data: Buffer): boolean =>
  data.length >= XERIAL_HEADER && data.subarray(0, 8).equals(XERIAL_MAGIC);

/** The length a raw snappy block declares in its leading varint (unsigned, at most 32 bits). */
function snappyDeclaredLength(block: Buffer): number {
  let u = 0;
  for (let i = 0; i < 5; i++) {
    if (i >= block.length) break;
    const b = block[i]!;
    u += (b & 0x7f) * 2 ** (7 * i);
    if (b < 0x80) return u;
  }
  throw new StrataError('ERR_COMPRESSION', 'malformed snappy block: bad length preamble');
}

function snappyRaw(block: Buffer, maxBytes: number): Buffer {
  if (!snappy) throw unavailable(Compression.snappy);
  const declared = snappyDeclaredLength(block);
  if (declared > maxBytes) throw tooLarge('snappy', declared, maxBytes);
  try {
    return snappy.uncompressSync(block, { asBuffer: true }) as Buffer;
  } catch (e) {
    throw malformed('snappy', e);
  }
}

function snappyDecompress(data: Buffer, maxBytes: number): Buffer {
  if (!isXerialSnappy(data)) return snappyRaw(data, maxBytes);
  const parts: Buffer[] = [];
  let total = 0;
  let pos = XERIAL_HEADER;
  while (pos < data.length) {
    if (pos + 4 > data.length) throw new StrataError('ERR_COMPRESSION', 'malformed xerial snappy: truncated chunk length');
    const len = data.readInt32BE(pos);
    pos += 4;
    if (len < 0 || len > data.length - pos) throw new StrataError('ERR_COMPRESSION', `malformed xerial snappy: chunk length ${len}`);
    const chunk = snappyRaw(data.subarray(pos, pos + len), maxBytes - total);
    total += chunk.length;
    parts.push(chunk);
    pos += len;
  }
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts, total);
}

function xerialCompress(data: Buffer): Buffer {
  if (!snappy) throw unavailable(Compression.snappy);
  const parts: Buffer[] = [];
  const header = Buffer.alloc(XERIAL_HEADER);
  XERIAL_MAGIC.copy(header, 0);
  header.writeInt32BE(1, 8);
  header.writeInt32BE(1, 12);
  parts.push(header);
  let total = XERIAL_HEADER;
  for (let p = 0; p < data.length; p += XERIAL_BLOCK) {
    const block = snappy.compressSync(data.subarray(p, Math.min(data.length, p + XERIAL_BLOCK)));
    const len = Buffer.allocUnsafe(4);
    len.writeInt32BE(block.length, 0);
    parts.push(len, block);
    total += 4 + block.length;
  }
  return Buffer.concat(parts, total);
}

/** Raw (unframed) snappy, for tests and for peers that send it. */
export function snappyRawCompress(data: Buffer): Buffer {
  if (!snappy) throw unavailable(Compression.snappy);
  return snappy.compressSync(data);
}

// ---------------------------------------------------------------------------------------------------
// lz4 frames

const LZ4_MAGIC = 0x184d2204;
const LZ4_BLOCK = 64 * 1024;
const LZ4_BD_64K = 0x40;
const LZ4_FLG_V1_INDEPENDENT = 0x60;
const LZ4_FLG_BLOCK_CHECKSUM = 0x10;
const LZ4_FLG_CONTENT_SIZE = 0x08;
const LZ4_FLG_CONTENT_CHECKSUM = 0x04;
const LZ4_FLG_DICT_ID = 0x01;
const LZ4_UNCOMPRESSED_BIT = 0x8000_0000;

/** The frame descriptor's checksum byte: second byte of XXH32 over FLG..(end of descriptor). */
export const lz4HeaderChecksum = (descriptor: Uint8Array): number => (xxhash32(descriptor) >>> 8) & 0xff;

function lz4FrameCompress(data: Buffer): Buffer {
  if (!lz4) throw unavailable(Compression.lz4);
  const blocks: Buffer[] = [];
  const header = Buffer.allocUnsafe(7);
  header.writeUInt32LE(LZ4_MAGIC, 0);
  header[4] = LZ4_FLG_V1_INDEPENDENT;
  header[5] = LZ4_BD_64K;
  header[6] = lz4HeaderChecksum(header.subarray(4, 6));
  blocks.push(header);
  let total = 7;
  for (let p = 0; p < data.length; p += LZ4_BLOCK) {
    const input = data.subarray(p, Math.min(data.length, p + LZ4_BLOCK));
    // lz4-napi prefixes the block with its uncompressed size (LE u32); the frame format does not.
    const compressed = lz4.compressSync(input).subarray(4);
    const stored = compressed.length >= input.length;
    const size = Buffer.allocUnsafe(4);
    size.writeUInt32LE(stored ? (input.length | LZ4_UNCOMPRESSED_BIT) >>> 0 : compressed.length, 0);
    blocks.push(size, stored ? input : compressed);
    total += 4 + (stored ? input.length : compressed.length);
  }
  const end = Buffer.alloc(4); // end mark
  blocks.push(end);
  total += 4;
  return Buffer.concat(blocks, total);
}

const BLOCK_MAX = [0, 0, 0, 0, 64 * 1024, 256 * 1024, 1024 * 1024, 4 * 1024 * 1024];

/**
 * Walks the frames in `data` (an LZ4 frame may be followed by more frames or skippable frames) and
 * returns the most bytes they can decompress to. Throws ERR_COMPRESSION on a malformed layout.
 */
export function lz4DecompressedBound(data: Buffer): number {
  let pos = 0;
  let bound = 0;
  const bad = (why: string): StrataError => new StrataError('ERR_COMPRESSION', `malformed lz4 frame: ${why}`);
  while (pos < data.length) {
    if (pos + 4 > data.length) throw bad('truncated magic');
    const magic = data.readUInt32LE(pos);
    if ((magic & 0xfffffff0) === 0x184d2a50) {
      if (pos + 8 > data.length) throw bad('truncated skippable frame');
      pos += 8 + data.readUInt32LE(pos + 4);
      continue;
    }
    if (magic !== LZ4_MAGIC) throw bad(`magic ${magic.toString(16)}`);
    if (pos + 7 > data.length) throw bad('truncated descriptor');
    const flg = data[pos + 4]!;
    const bd = data[pos + 5]!;
    if (flg >> 6 !== 1) throw bad(`version ${flg >> 6}`);
    const blockMax = BLOCK_MAX[(bd >> 4) & 7]!;
    if (blockMax === 0) throw bad(`block size code ${(bd >> 4) & 7}`);
    let p = pos + 6;
    let contentSize = -1;
    if (flg & LZ4_FLG_CONTENT_SIZE) {
      if (p + 8 > data.length) throw bad('truncated content size');
      contentSize = data.readUInt32LE(p) + data.readUInt32LE(p + 4) * 0x1_0000_0000;
      p += 8;
    }
    if (flg & LZ4_FLG_DICT_ID) p += 4;
    p += 1; // header checksum
    let frameBound = 0;
    for (;;) {
      if (p + 4 > data.length) throw bad('truncated block size');
      const word = data.readUInt32LE(p);
      p += 4;
      if (word === 0) break;
      const size = word & 0x7fff_ffff;
      if (size > blockMax) throw bad(`block of ${size} bytes over the frame's ${blockMax}`);
      // Each input byte of an LZ4 block yields at most 255 output bytes (a length-extension byte).
      frameBound += word & LZ4_UNCOMPRESSED_BIT ? size : Math.min(blockMax, size * 255);
      p += size + (flg & LZ4_FLG_BLOCK_CHECKSUM ? 4 : 0);
      if (p > data.length) throw bad('truncated block');
    }
    if (flg & LZ4_FLG_CONTENT_CHECKSUM) p += 4;
    if (p > data.length) throw bad('truncated content checksum');
    bound += contentSize >= 0 ? Math.min(contentSize, frameBound) : frameBound;
    pos = p;
  }
  return bound;
}

function lz4FrameDecompress(data: Buffer, maxBytes: number): Buffer {
  if (!lz4) throw unavailable(Compression.lz4);
  const bound = lz4DecompressedBound(data);
  if (bound > maxBytes) throw tooLarge('lz4', `up to ${bound}`, maxBytes);
  if (data.length === 0) return Buffer.alloc(0);
  try {
    return lz4.decompressFrameSync(data);
  } catch (e) {
    throw malformed('lz4', e);
  }
}

// ---------------------------------------------------------------------------------------------------
// zstd frames

const ZSTD_MAGIC = 0xfd2fb528;
const ZSTD_BLOCK_MAX = 128 * 1024;

/**
 * Walks zstd frames (and skippable frames) and returns the most bytes they can decompress to: the
 * declared content size where a frame has one, else per block its stored size (raw/RLE) or the block
 * maximum min(window, 128 KiB) for compressed blocks. Throws ERR_COMPRESSION on a malformed layout.
 */
export function zstdDecompressedBound(data: Buffer): number {
  let pos = 0;
  let bound = 0;
  const bad = (why: string): StrataError => new StrataError('ERR_COMPRESSION', `malformed zstd frame: ${why}`);
  if (data.length === 0) throw bad('empty input');
  while (pos < data.length) {
    if (pos + 4 > data.length) throw bad('truncated magic');
    const magic = data.readUInt32LE(pos);
    if ((magic & 0xfffffff0) === 0x184d2a50) {
      if (pos + 8 > data.length) throw bad('truncated skippable frame');
      pos += 8 + data.readUInt32LE(pos + 4);
      continue;
    }
    if (magic !== ZSTD_MAGIC) throw bad(`magic ${magic.toString(16)}`);
    let p = pos + 4;
    if (p >= data.length) throw bad('truncated header');
    const fhd = data[p++]!;
    const fcsFlag = fhd >> 6;
    const singleSegment = (fhd & 0x20) !== 0;
    if (fhd & 0x08) throw bad('reserved bit set');
    const checksum = (fhd & 0x04) !== 0;
    const dictIdBytes = [0, 1, 2, 4][fhd & 3]!;
    let window = 0;
    if (!singleSegment) {
      if (p >= data.length) throw bad('truncated window descriptor');
      const wd = data[p++]!;
      const base = 2 ** (10 + (wd >> 3));
      window = base + (base / 8) * (wd & 7);
    }
    p += dictIdBytes;
    const fcsBytes = [singleSegment ? 1 : 0, 2, 4, 8][fcsFlag]!;
    if (p + fcsBytes > data.length) throw bad('truncated header');
    let contentSize = -1;
    if (fcsBytes === 1) contentSize = data[p]!;
    else if (fcsBytes === 2) contentSize = data.readUInt16LE(p) + 256;
    else if (fcsBytes === 4) contentSize = data.readUInt32LE(p);
    else if (fcsBytes === 8) contentSize = data.readUInt32LE(p) + data.readUInt32LE(p + 4) * 0x1_0000_0000;
    p += fcsBytes;
    if (singleSegment) window = contentSize;
    const blockMax = Math.min(window, ZSTD_BLOCK_MAX);
    let frameBound = 0;
    for (;;) {
      if (p + 3 > data.length) throw bad('truncated block header');
      const h = data[p]! | (data[p + 1]! << 8) | (data[p + 2]! << 16);
      p += 3;
      const last = (h & 1) !== 0;
      const type = (h >> 1) & 3;
      const size = h >>> 3;
      if (type === 0) {
        frameBound += size;
        p += size;
      } else if (type === 1) {
        frameBound += size;
        p += 1;
      } else if (type === 2) {
        if (size > blockMax) throw bad(`compressed block of ${size} bytes over the block maximum ${blockMax}`);
        frameBound += blockMax;
        p += size;
      } else throw bad('reserved block type');
      if (p > data.length) throw bad('truncated block');
      if (last) break;
    }
    if (checksum) p += 4;
    if (p > data.length) throw bad('truncated checksum');
    bound += contentSize >= 0 ? Math.min(contentSize, frameBound) : frameBound;
    pos = p;
  }
  return bound;
}
