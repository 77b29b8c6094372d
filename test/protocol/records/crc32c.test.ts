import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { computeBatchCrc, CRC_OFFSET } from '../../../src/protocol/records/batch-header.js';
import { buildBatchSync } from '../../../src/protocol/records/builder.js';
import { crc32c, crc32cImplementation, crc32cPortable } from '../../../src/protocol/records/crc32c.js';

const require = createRequire(import.meta.url);
// kafkajs carries its own table-driven CRC32C: an independent reference.
const kafkajsCrc = require('kafkajs/src/protocol/recordBatch/crc32C/crc32C.js') as (b: Buffer) => number;

describe('crc32c', () => {
  it('matches the known check values', () => {
    assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
    assert.equal(crc32cPortable(Buffer.from('123456789')), 0xe3069283);
    assert.equal(crc32c(Buffer.alloc(0)), 0);
    // RFC 3720 (iSCSI) test vectors: 32 bytes of zeros, of 0xff, and ascending 0..31.
    assert.equal(crc32c(Buffer.alloc(32)), 0x8a9136aa);
    assert.equal(crc32c(Buffer.alloc(32, 0xff)), 0x62a8ab43);
    assert.equal(crc32c(Buffer.from(Array.from({ length: 32 }, (_, i) => i))), 0x46dd794e);
    // aws-crt ships a prebuilt binding for these; elsewhere the portable code is the expected answer.
    if (['linux', 'darwin'].includes(process.platform) && ['x64', 'arm64'].includes(process.arch)) {
      assert.equal(crc32cImplementation, 'aws-crt (native)');
    }
  });

  it('native and portable agree on large, unaligned inputs (where the native code interleaves streams)', () => {
    const big = Buffer.alloc(3 * 1024 * 1024 + 13);
    for (let i = 0, x = 0x9e3779b9; i < big.length; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      big[i] = x >>> 24;
    }
    for (const [start, end] of [[0, big.length], [1, 1_048_577], [7, 65_543], [3, 16_390], [5, 4_101]] as const) {
      const part = big.subarray(start, end);
      assert.equal(crc32c(part), crc32cPortable(part), `bytes ${start}..${end}`);
    }
    const cut = 1_000_003;
    assert.equal(crc32c(big.subarray(cut), crc32c(big.subarray(0, cut))), crc32cPortable(big));
  });

  it('native, portable and kafkajs agree on random data, and chaining works', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), fc.nat(2000), (arr, cut) => {
        const b = Buffer.from(arr);
        const whole = crc32c(b);
        assert.equal(crc32cPortable(b), whole);
        assert.equal(kafkajsCrc(b) >>> 0, whole);
        const k = Math.min(cut, b.length);
        assert.equal(crc32c(b.subarray(k), crc32c(b.subarray(0, k))), whole);
      }),
    );
  });

  it('a built batch carries the CRC of attributes..end', () => {
    const b = buildBatchSync([{ key: 'k', value: 'v', timestamp: 1 }], { timestamp: 1 });
    assert.equal(b.readUInt32BE(CRC_OFFSET), computeBatchCrc(b, 0, b.length));
    assert.equal(b.readUInt32BE(CRC_OFFSET), kafkajsCrc(b.subarray(21)) >>> 0);
  });
});
