// CRC32C (Castagnoli), the checksum of RecordBatch v2. The native sse4_crc32 addon uses the SSE4.2
// instruction when present; a table-driven fallback keeps the protocol layer usable when the addon
// fails to load (the README names which one is active via `crc32cImplementation`).
import { createRequire } from 'node:module';

type NativeCrc = { calculate(buf: Buffer, initial?: number): number };

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
    const mod = require('sse4_crc32') as NativeCrc;
    // Guard against a broken build: the check value of "123456789" is fixed by the algorithm.
    return mod.calculate(Buffer.from('123456789')) === 0xe3069283 ? mod : undefined;
  } catch {
    return undefined;
  }
}

const native = loadNative();

export const crc32cImplementation: 'sse4_crc32 (native)' | 'portable (JavaScript)' = native
  ? 'sse4_crc32 (native)'
  : 'portable (JavaScript)';

/** CRC32C of `buf` as an unsigned 32-bit integer. */
export const crc32c: (buf: Buffer, initial?: number) => number = native
  ? (buf, initial = 0) => native.calculate(buf, initial) >>> 0
  : crc32cPortable;
