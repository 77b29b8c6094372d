// Frames from the reference lz4 and zstd command-line tools (liblz4 and libzstd, the libraries
// librdkafka links) must decode here, and ours must decode there. Skips when the tools are missing.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { Compression } from '../../../src/protocol/records/batch-header.js';
import { compress, compressSync, decompress, decompressSync } from '../../../src/protocol/records/compression.js';

function has(tool: string): boolean {
  try {
    execFileSync(tool, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const run = (tool: string, args: string[], input: Buffer): Buffer =>
  execFileSync(tool, args, { input, maxBuffer: 64 * 1024 * 1024 });

const sample = (): Buffer => {
  const b = Buffer.alloc(300_000);
  for (let i = 0; i < b.length; i++) b[i] = (i % 97) ^ ((i >> 10) & 0xff);
  return b;
};
const MiB = 1024 * 1024;

describe('reference lz4 tool', { skip: has('lz4') ? false : 'lz4 CLI not installed' }, () => {
  it('decodes frames written with every block layout and checksum option', () => {
    const data = sample();
    const variants = [
      ['-B4'], // 64 KiB blocks, as Kafka's Java producer
      ['-B7'], // 4 MiB blocks
      ['-B4', '-BD'], // linked blocks
      ['-B4', '-BX'], // block checksums
      ['-B5', '--content-size'],
      ['-B4', '--no-frame-crc'],
    ];
    for (const args of variants) {
      const frame = run('lz4', ['-c', '-q', ...args], data);
      assert.deepEqual(decompressSync(Compression.lz4, frame, MiB), data, args.join(' '));
    }
  });

  it('decodes our frames', () => {
    const data = sample();
    assert.deepEqual(run('lz4', ['-d', '-c', '-q'], compressSync(Compression.lz4, data)), data);
  });
});

describe('reference zstd tool', { skip: has('zstd') ? false : 'zstd CLI not installed' }, () => {
  it('decodes its frames, with and without content size and checksum', async () => {
    const data = sample();
    for (const args of [[], ['--no-check'], ['--no-content-size'], ['-19']]) {
      const frame = run('zstd', ['-c', '-q', ...args], data);
      assert.deepEqual(await decompress(Compression.zstd, frame, MiB), data, args.join(' '));
    }
    // The same frames streamed (no content size known up front) are bounded by their blocks.
    const streamed = execFileSync('sh', ['-c', 'cat | zstd -c -q --no-content-size'], { input: data });
    await assert.rejects(decompress(Compression.zstd, streamed, 100_000), /over the limit/);
  });

  it('decodes our frames', async () => {
    const data = sample();
    assert.deepEqual(run('zstd', ['-d', '-c', '-q'], await compress(Compression.zstd, data)), data);
  });
});
