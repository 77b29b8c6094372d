// Generated decoders against hostile input: random bytes, truncated and corrupted encodings of valid
// messages. The only acceptable failure is StrataError ERR_DECODE — never a RangeError, a TypeError
// or an allocation sized by the input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Reader } from '../../../src/protocol/reader.js';
import { Writer } from '../../../src/protocol/writer.js';
import { isStrataError } from '../../../src/protocol/strata-error.js';
import { MODEL, messageArb, type MessageModel } from './schema-arbitraries.js';

type Encode = (w: Writer, v: number, m: unknown) => void;
type Decode = (r: Reader, v: number) => unknown;

async function codecs(m: MessageModel): Promise<{ encode: Encode; decode: Decode }> {
  const mod = (await import(`../../../src/protocol/generated/${m.module}.js`)) as Record<string, unknown>;
  return { encode: mod[m.encode] as Encode, decode: mod[m.decode] as Decode };
}

function decodeOrDecodeError(decode: Decode, v: number, bytes: Buffer): boolean {
  try {
    const r = new Reader(bytes);
    decode(r, v);
    r.ensureEnd();
    return true;
  } catch (e) {
    assert.ok(isStrataError(e, 'ERR_DECODE'), `expected ERR_DECODE, got ${e instanceof Error ? e.stack : String(e)}`);
    return false;
  }
}

test('random bytes into every decoder, every version: success or ERR_DECODE only', async () => {
  for (const m of MODEL.messages) {
    const { decode } = await codecs(m);
    for (let v = m.valid[0]; v <= m.valid[1]; v++) {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
          decodeOrDecodeError(decode, v, Buffer.from(bytes));
        }),
        { numRuns: 8 },
      );
    }
  }
});

test('every strict prefix of a valid encoding is refused; corrupted bytes never crash', async () => {
  const apis = MODEL.messages.filter((m) => m.kind === 'request' || m.kind === 'response');
  for (const m of apis) {
    const { encode, decode } = await codecs(m);
    for (let v = m.valid[0]; v <= m.valid[1]; v++) {
      fc.assert(
        fc.property(messageArb(m, v), fc.nat(), fc.nat(255), (value, at, byte) => {
          const w = new Writer();
          encode(w, v, value);
          const bytes = w.toBuffer();
          // The decoder follows the same path over a prefix, so it must run out of bytes.
          for (const cut of new Set([0, bytes.length >> 1, bytes.length - 1])) {
            if (cut >= 0 && cut < bytes.length) assert.equal(decodeOrDecodeError(decode, v, bytes.subarray(0, cut)), false, `prefix ${cut}`);
          }
          if (bytes.length > 0) {
            const corrupt = Buffer.from(bytes);
            corrupt[at % corrupt.length] = byte;
            decodeOrDecodeError(decode, v, corrupt);
          }
        }),
        { numRuns: 3 },
      );
    }
  }
});
