import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { Compression } from '../../../src/protocol/records/batch-header.js';
import {
  compress,
  compressSync,
  compressionImplementations,
  decompress,
  decompressSync,
  isXerialSnappy,
  lz4DecompressedBound,
  lz4HeaderChecksum,
  snappyRawCompress,
  zstdDecompressedBound,
} from '../../../src/protocol/records/compression.js';
import { xxhash32 } from '../../../src/protocol/records/xxhash32.js';
import { isStrataError } from '../../../src/protocol/strata-error.js';

const require = createRequire(import.meta.url);
const lz4 = require('lz4-napi') as {
  compressFrameSync(d: Buffer, o?: { contentChecksum?: boolean; blockChecksums?: boolean }): Buffer;
  decompressFrameSync(d: Buffer): Buffer;
};
const snappy = require('snappy') as { uncompressSync(d: Buffer, o?: { asBuffer: boolean }): Buffer };

const MiB = 1024 * 1024;
const codecs = [Compression.gzip, Compression.snappy, Compression.lz4, Compression.zstd] as const;
const tooLarge = (e: unknown): boolean => isStrataError(e, 'ERR_RECORD_TOO_LARGE');

describe('codecs', () => {
  it('name their implementations', () => {
    for (const k of ['gzip', 'snappy', 'lz4', 'zstd'] as const) {
      assert.notEqual(compressionImplementations[k], 'unavailable', k);
    }
  });

  it('round-trip random data through every codec, async and sync', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...codecs),
        fc.oneof(
          fc.uint8Array({ maxLength: 3000 }),
          fc.integer({ min: 0, max: 300_000 }).map((n) => new Uint8Array(n).fill(n % 251)),
        ),
        async (codec, arr) => {
          const data = Buffer.from(arr);
          const packed = await compress(codec, data);
          // lz4's and zstd's bounds are computed from block headers and may exceed the truth by up to
          // a block maximum; gzip and snappy are exact.
          const limit = codec === Compression.zstd || codec === Compression.lz4 ? data.length + 128 * 1024 : data.length;
          assert.deepEqual(await decompress(codec, packed, limit), data);
          if (codec !== Compression.zstd) {
            assert.deepEqual(decompressSync(codec, compressSync(codec, data), limit), data);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('xxhash32 known answers', () => {
    assert.equal(xxhash32(Buffer.alloc(0)), 0x02cc5d05);
    assert.equal(xxhash32(Buffer.from('abc')), 0x32d153ff);
    assert.equal(xxhash32(Buffer.from('Nobody inspects the spammish repetition')), 0xe2293b2f);
  });
});

describe('snappy framing', () => {
  it('writes xerial framing: magic, versions, then length-prefixed raw blocks', () => {
    const data = Buffer.alloc(100_000, 'strata');
    const framed = compressSync(Compression.snappy, data);
    assert.ok(isXerialSnappy(framed));
    assert.equal(framed.subarray(0, 16).toString('hex'), '82534e41505059000000000100000001');
    // Walk the chunks by hand and decode each with the raw decoder.
    const parts: Buffer[] = [];
    for (let p = 16; p < framed.length; ) {
      const len = framed.readInt32BE(p);
      parts.push(snappy.uncompressSync(framed.subarray(p + 4, p + 4 + len), { asBuffer: true }));
      p += 4 + len;
    }
    assert.equal(parts.length, Math.ceil(data.length / 32768));
    assert.deepEqual(Buffer.concat(parts), data);
  });

  it('reads xerial frames built by hand and raw snappy blocks', () => {
    const a = Buffer.from('first chunk '.repeat(50));
    const b = Buffer.from('second chunk '.repeat(70));
    const ca = snappyRawCompress(a);
    const cb = snappyRawCompress(b);
    const header = Buffer.from('82534e41505059000000000100000001', 'hex');
    const len = (n: number): Buffer => {
      const x = Buffer.alloc(4);
      x.writeInt32BE(n);
      return x;
    };
    const framed = Buffer.concat([header, len(ca.length), ca, len(cb.length), cb]);
    assert.deepEqual(decompressSync(Compression.snappy, framed, 1 << 20), Buffer.concat([a, b]));
    assert.deepEqual(decompressSync(Compression.snappy, ca, 1 << 20), a);
    const truncated = framed.subarray(0, framed.length - 3);
    assert.throws(() => decompressSync(Compression.snappy, truncated, 1 << 20), (e) => isStrataError(e, 'ERR_COMPRESSION'));
  });

  it('refuses a raw block declaring more than the limit before decompressing it', () => {
    // A snappy block claiming 2^31 bytes: the preamble alone is enough to refuse it.
    const liar = Buffer.from([0x80, 0x80, 0x80, 0x80, 0x08, 0x00]);
    assert.throws(() => decompressSync(Compression.snappy, liar, MiB), tooLarge);
  });
});

describe('lz4 frames', () => {
  it('writes 64 KiB independent blocks with a valid header checksum, readable by lz4-napi', () => {
    const data = Buffer.alloc(200_000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7) % 13;
    const frame = compressSync(Compression.lz4, data);
    assert.equal(frame.readUInt32LE(0), 0x184d2204);
    assert.equal(frame[4], 0x60);
    assert.equal(frame[5], 0x40);
    assert.equal(frame[6], lz4HeaderChecksum(frame.subarray(4, 6)));
    assert.deepEqual(lz4.decompressFrameSync(frame), data);
  });

  it('reads frames with content and block checksums, and detects a damaged content checksum', () => {
    const data = Buffer.from('lz4 content checksum '.repeat(5000));
    for (const opts of [{ contentChecksum: true }, { contentChecksum: true, blockChecksums: true }, {}]) {
      const frame = lz4.compressFrameSync(data, opts);
      assert.deepEqual(decompressSync(Compression.lz4, frame, MiB), data);
    }
    const frame = Buffer.from(lz4.compressFrameSync(data, { contentChecksum: true }));
    frame[frame.length - 1] ^= 0xff;
    assert.throws(() => decompressSync(Compression.lz4, frame, MiB), (e) => isStrataError(e, 'ERR_COMPRESSION'));
  });

  it('bounds a frame by its blocks before decompressing', () => {
    const data = Buffer.alloc(4 * MiB);
    const ours = compressSync(Compression.lz4, data);
    assert.equal(lz4DecompressedBound(ours), 4 * MiB);
    assert.throws(() => decompressSync(Compression.lz4, ours, MiB), tooLarge);
    const theirs = lz4.compressFrameSync(data); // 4 MiB blocks
    assert.ok(lz4DecompressedBound(theirs) >= data.length);
    assert.throws(() => decompressSync(Compression.lz4, theirs, MiB), tooLarge);
    assert.throws(() => lz4DecompressedBound(Buffer.from('nope')), /magic/);
  });
});

describe('zstd frames', () => {
  it('bounds a frame by its blocks (no content size written by the library)', async () => {
    const data = Buffer.alloc(3 * MiB, 1);
    const frame = await compress(Compression.zstd, data);
    const bound = zstdDecompressedBound(frame);
    assert.ok(bound >= data.length && bound <= data.length + 128 * 1024, `bound ${bound}`);
    await assert.rejects(decompress(Compression.zstd, frame, MiB), tooLarge);
    assert.deepEqual(await decompress(Compression.zstd, frame, 4 * MiB), data);
  });

  it('uses a declared content size, and refuses garbage', async () => {
    // Hand-built single-segment frame: FCS 1 byte = 5, one raw last block "hello".
    const frame = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x20, 0x05, 0x29, 0x00, 0x00, ...Buffer.from('hello')]);
    assert.equal(zstdDecompressedBound(frame), 5);
    assert.deepEqual(await decompress(Compression.zstd, frame, 5), Buffer.from('hello'));
    await assert.rejects(decompress(Compression.zstd, frame, 4), tooLarge);
    await assert.rejects(decompress(Compression.zstd, Buffer.from('garbage!'), MiB), (e) => isStrataError(e, 'ERR_COMPRESSION'));
  });
});

describe('decompression bombs', () => {
  it('gzip: 1 GiB of zeros limited to 1 MiB fails quickly without inflating it all', async () => {
    // 1024 gzip members of 1 MiB of zeros each; gunzip reads concatenated members as one stream.
    const member = gzipSync(Buffer.alloc(MiB));
    const bomb = Buffer.concat(Array.from({ length: 1024 }, () => member));
    assert.ok(bomb.length < 2 * MiB);
    const before = process.memoryUsage().rss;
    assert.throws(() => decompressSync(Compression.gzip, bomb, MiB), tooLarge);
    await assert.rejects(decompress(Compression.gzip, bomb, MiB), tooLarge);
    // Nothing near 1 GiB was ever allocated.
    assert.ok(process.memoryUsage().rss - before < 256 * MiB);
    assert.equal(decompressSync(Compression.gzip, Buffer.concat([member, member]), 2 * MiB).length, 2 * MiB);
  });

  it('every codec refuses output over the limit with a typed error', async () => {
    const data = Buffer.alloc(2 * MiB);
    for (const codec of codecs) {
      const packed = await compress(codec, data);
      await assert.rejects(decompress(codec, packed, MiB), tooLarge, `codec ${codec}`);
    }
  });
});
