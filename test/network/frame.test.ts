import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FrameDecoder } from '../../src/network/frame.js';
import { isStrataError } from '../../src/protocol/strata-error.js';

const frame = (payload: Buffer): Buffer => {
  const b = Buffer.alloc(4 + payload.length);
  b.writeInt32BE(payload.length, 0);
  payload.copy(b, 4);
  return b;
};

const payloads = [Buffer.from('hello'), Buffer.alloc(0), Buffer.from([1, 2, 3, 4, 5, 6, 7, 8, 9]), Buffer.alloc(300, 7)];
const stream = Buffer.concat(payloads.map(frame));

test('a stream split at every byte boundary yields the same frames', () => {
  for (let cut = 0; cut <= stream.length; cut++) {
    const d = new FrameDecoder(1024);
    const out = [...d.push(stream.subarray(0, cut)), ...d.push(stream.subarray(cut))];
    assert.deepEqual(out, payloads, `cut at ${cut}`);
    assert.equal(d.bufferedBytes, 0);
  }
});

test('a stream fed one byte at a time yields the same frames', () => {
  const d = new FrameDecoder(1024);
  const out: Buffer[] = [];
  for (let i = 0; i < stream.length; i++) out.push(...d.push(stream.subarray(i, i + 1)));
  assert.deepEqual(out, payloads);
});

test('any chunking of any frames yields the frames in order', () => {
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 12 }),
      fc.array(fc.nat({ max: 80 }), { maxLength: 20 }),
      (bodies, cuts) => {
        const expected = bodies.map((b) => Buffer.from(b));
        const all = Buffer.concat(expected.map(frame));
        const d = new FrameDecoder(64);
        const out: Buffer[] = [];
        let pos = 0;
        for (const c of cuts) {
          out.push(...d.push(all.subarray(pos, pos + c)));
          pos = Math.min(all.length, pos + c);
        }
        out.push(...d.push(all.subarray(pos)));
        assert.deepEqual(out, expected);
      },
    ),
    { numRuns: 300 },
  );
});

test('frames wholly inside one chunk are views of it, not copies', () => {
  const d = new FrameDecoder(1024);
  const out = d.push(stream);
  assert.equal(out.length, payloads.length);
  for (const f of out) assert.equal(f.buffer, stream.buffer);
});

test('many frames in one chunk', () => {
  const many = Array.from({ length: 1000 }, (_, i) => Buffer.from(`request-${i}`));
  const d = new FrameDecoder(1024);
  assert.deepEqual(d.push(Buffer.concat(many.map(frame))), many);
});

test('a size over the limit is refused from the prefix alone', () => {
  const d = new FrameDecoder(100);
  const prefix = Buffer.alloc(4);
  prefix.writeInt32BE(101, 0);
  assert.deepEqual(d.push(prefix), []);
  assert.ok(isStrataError(d.error, 'ERR_FRAME_TOO_LARGE') && /101 larger than 100/.test(d.error.message));
  assert.equal(d.bufferedBytes, 0);
  assert.deepEqual(d.push(frame(Buffer.from('later'))), [], 'nothing after a bad prefix is framed');
});

test('a size over the limit is refused even when its prefix arrives split', () => {
  const d = new FrameDecoder(100);
  assert.deepEqual(d.push(Buffer.from([0x7f, 0xff])), []);
  assert.equal(d.error, undefined);
  assert.deepEqual(d.push(Buffer.from([0xff, 0xff])), []);
  assert.ok(isStrataError(d.error, 'ERR_FRAME_TOO_LARGE'));
});

test('a negative size is refused', () => {
  const d = new FrameDecoder(100);
  d.push(Buffer.from([0xff, 0xff, 0xff, 0xfe, 1, 2]));
  assert.ok(isStrataError(d.error, 'ERR_FRAME_TOO_LARGE'));
});

test('frames before a bad size prefix are still delivered', () => {
  const d = new FrameDecoder(100);
  const good = [Buffer.from('one'), Buffer.from('two')];
  const split = Buffer.concat([...good.map(frame), Buffer.from([0x7f, 0xff, 0xff, 0xff, 9, 9])]);
  assert.deepEqual(d.push(split), good);
  assert.ok(isStrataError(d.error, 'ERR_FRAME_TOO_LARGE'));
  const d2 = new FrameDecoder(100);
  const f = frame(Buffer.from('pending'));
  assert.deepEqual(d2.push(f.subarray(0, 6)), []);
  assert.deepEqual(d2.push(Buffer.concat([f.subarray(6), Buffer.from([0xff, 0xff, 0xff, 0xff])])), [Buffer.from('pending')]);
  assert.ok(d2.error !== undefined);
});

test('a frame exactly at the limit is accepted', () => {
  const d = new FrameDecoder(10);
  assert.deepEqual(d.push(frame(Buffer.alloc(10, 1))), [Buffer.alloc(10, 1)]);
});

test('an announced frame that never completes holds only the bytes received', () => {
  const d = new FrameDecoder(100 * 1024 * 1024);
  const prefix = Buffer.alloc(4);
  prefix.writeInt32BE(100 * 1024 * 1024, 0);
  assert.deepEqual(d.push(prefix), []);
  assert.deepEqual(d.push(Buffer.alloc(10)), []);
  assert.equal(d.bufferedBytes, 14);
});

test('a frame spread over chunks is assembled in memory from the allocator, given its API key', () => {
  const calls: [number, number][] = [];
  const decoder = new FrameDecoder(1 << 20, (size, apiKey) => {
    calls.push([size, apiKey]);
    return Buffer.alloc(size);
  });
  const produce = Buffer.concat([Buffer.from([0x00, 0x00, 0x00, 0x09]), Buffer.from('hello wor')]);
  const negative = Buffer.concat([Buffer.from([0x00, 0x00, 0x00, 0x03]), Buffer.from([0xff, 0xfe, 0x01])]);
  const tiny = Buffer.from([0x00, 0x00, 0x00, 0x01, 0x07]);
  const out: Buffer[] = [];
  // Split inside the API key bytes, so the key itself spans two chunks (the tiny one after its prefix).
  for (const [stream, at] of [[produce, 5], [negative, 5], [tiny, 4]] as const) {
    out.push(...decoder.push(stream.subarray(0, at)), ...decoder.push(stream.subarray(at)));
  }
  assert.deepEqual(out.map((f) => f.toString('hex')), [produce.subarray(4), negative.subarray(4), tiny.subarray(4)].map((f) => f.toString('hex')));
  assert.deepEqual(calls, [[9, 0x6865], [3, -2], [1, -1]]);
});
