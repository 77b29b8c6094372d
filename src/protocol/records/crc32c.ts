// CRC32C (Castagnoli), the checksum of RecordBatch v2, computed on every produced batch. The native code
// is the AWS Common Runtime's (aws-c-checksums): it interleaves three streams of the CPU's crc32 instruction
// (SSE4.2 on x86-64, the CRC extension on arm64), about 2.5x one serial stream on large batches, and ships
// prebuilt, so nothing is compiled at install. Only its checksums module is loaded, not the rest of the CRT.
// A table-driven fallback keeps the protocol layer usable when the binding cannot load (the README names
// which one is active via `crc32cImplementation`).
import { createRequire } from 'node:module';

type NativeCrc = (buf: Buffer, previous?: number) => number;

const TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

/** Portable CRC32C; `initial` continues a previous checksum. */
export function crc32cPortable(buf: Uint8Array, initial = 0): number {
  let crc = ~initial;
  for (let i = 0; i < buf.length; i++) crc = TABLE[(crc ^ buf[i]!) & 0xff]! ^ (crc >>> 8);
  return ~crc >>> 0;
}

function loadNative(): NativeCrc | undefined {
  try {
    const require = createRequire(import.meta.url);
    const { crc32c: crc } = require('aws-crt/dist/native/checksums.js') as { crc32c: NativeCrc };
    // Guard against a broken binding: the check value of "123456789" is fixed by the algorithm.
    return crc(Buffer.from('123456789')) >>> 0 === 0xe3069283 ? crc : undefined;
  } catch {
    return undefined;
  }
}

const native = loadNative();

export const crc32cImplementation: 'aws-crt (native)' | 'portable (JavaScript)' = native ? 'aws-crt (native)' : 'portable (JavaScript)';

/** CRC32C of `buf` as an unsigned 32-bit integer. */
export const crc32c: (buf: Buffer, initial?: number) => number = native
  ? (buf, initial = 0) => native(buf, initial) >>> 0
  : crc32cPortable;
