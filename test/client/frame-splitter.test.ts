import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FrameSplitter } from '../../src/client/frame-splitter.js';
import { isStrataError } from '../../src/protocol/strata-error.js';

const frame = (payload: Uint8Array): Buffer => {
  const b = Buffer.alloc(4 + payload.length);
  b.writeInt32BE(payload.length, 0);
  b.set(payload, 4);
  return b;
};

test('frames come out whole and in order however the stream is cut', () => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 8 }), fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1 }), (payloads, cuts) => {
      const stream = Buffer.concat(payloads.map(frame));
      const s = new FrameSplitter(1024);
      const got: Buffer[] = [];
      let pos = 0;
      for (let i = 0; pos < stream.length; i++) {
        const n = cuts[i % cuts.length]!;
        got.push(...s.push(stream.subarray(pos, pos + n)));
        pos += n;
      }
      assert.deepEqual(got.map((g) => Buffer.from(g)), payloads.map((p) => Buffer.from(p)));
    }),
  );
});

test('a size prefix over the limit or negative is refused', () => {
  const s = new FrameSplitter(10);
  assert.throws(() => s.push(frame(new Uint8Array(11))), (e: unknown) => isStrataError(e, 'ERR_FRAME_TOO_LARGE'));
  const neg = Buffer.alloc(4);
  neg.writeInt32BE(-1, 0);
  assert.throws(() => new FrameSplitter(10).push(neg), (e: unknown) => isStrataError(e, 'ERR_FRAME_TOO_LARGE'));
});
