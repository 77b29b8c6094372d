import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DIRECT_ABOVE_BYTES, FrameBudget, FrameReader, type FrameReaderOptions } from '../../src/network/frame.js';
import { seededRandom } from '../helpers/seeded-random.js';
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
    const d = new FrameReader({ maxFrameBytes: 1024 });
    const out = [...d.push(stream.subarray(0, cut)), ...d.push(stream.subarray(cut))];
    assert.deepEqual(out, payloads, `cut at ${cut}`);
    assert.equal(d.bufferedBytes, 0);
  }
});

test('a stream fed one byte at a time yields the same frames', () => {
  const d = new FrameReader({ maxFrameBytes: 1024 });
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
        const d = new FrameReader({ maxFrameBytes: 64 });
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

test('frames are copied out of the chunk, which may be a read buffer shared by every connection', () => {
  const d = new FrameReader({ maxFrameBytes: 1024 });
  const chunk = Buffer.from(stream);
  const out = d.push(chunk);
  chunk.fill(0xee);
  assert.deepEqual(out, payloads);
});

test('many frames in one chunk', () => {
  const many = Array.from({ length: 1000 }, (_, i) => Buffer.from(`request-${i}`));
  const d = new FrameReader({ maxFrameBytes: 1024 });
  assert.deepEqual(d.push(Buffer.concat(many.map(frame))), many);
});

test('a size over the limit is refused from the prefix alone', () => {
  const d = new FrameReader({ maxFrameBytes: 100 });
  const prefix = Buffer.alloc(4);
  prefix.writeInt32BE(101, 0);
  assert.deepEqual(d.push(prefix), []);
  assert.ok(isStrataError(d.error, 'ERR_FRAME_TOO_LARGE') && /101 larger than 100/.test(d.error.message));
  assert.equal(d.bufferedBytes, 0);
  assert.deepEqual(d.push(frame(Buffer.from('later'))), [], 'nothing after a bad prefix is framed');
});

test('a size over the limit is refused even when its prefix arrives split', () => {
  const d = new FrameReader({ maxFrameBytes: 100 });
  assert.deepEqual(d.push(Buffer.from([0x7f, 0xff])), []);
  assert.equal(d.error, undefined);
  assert.deepEqual(d.push(Buffer.from([0xff, 0xff])), []);
  assert.ok(isStrataError(d.error, 'ERR_FRAME_TOO_LARGE'));
});

test('a negative size is refused', () => {
  const d = new FrameReader({ maxFrameBytes: 100 });
  d.push(Buffer.from([0xff, 0xff, 0xff, 0xfe, 1, 2]));
  assert.ok(isStrataError(d.error, 'ERR_FRAME_TOO_LARGE'));
});

test('frames before a bad size prefix are still delivered', () => {
  const d = new FrameReader({ maxFrameBytes: 100 });
  const good = [Buffer.from('one'), Buffer.from('two')];
  const split = Buffer.concat([...good.map(frame), Buffer.from([0x7f, 0xff, 0xff, 0xff, 9, 9])]);
  assert.deepEqual(d.push(split), good);
  assert.ok(isStrataError(d.error, 'ERR_FRAME_TOO_LARGE'));
  const d2 = new FrameReader({ maxFrameBytes: 100 });
  const f = frame(Buffer.from('pending'));
  assert.deepEqual(d2.push(f.subarray(0, 6)), []);
  assert.deepEqual(d2.push(Buffer.concat([f.subarray(6), Buffer.from([0xff, 0xff, 0xff, 0xff])])), [Buffer.from('pending')]);
  assert.ok(d2.error !== undefined);
});

test('a frame exactly at the limit is accepted', () => {
  const d = new FrameReader({ maxFrameBytes: 10 });
  assert.deepEqual(d.push(frame(Buffer.alloc(10, 1))), [Buffer.alloc(10, 1)]);
});

test('an announced frame that never completes holds only the bytes received once the budget is spent', () => {
  const budget = new FrameBudget(1024 * 1024);
  const d = new FrameReader({ maxFrameBytes: 100 * 1024 * 1024, budget });
  const prefix = Buffer.alloc(4);
  prefix.writeInt32BE(100 * 1024 * 1024, 0);
  assert.deepEqual(d.push(prefix), []);
  assert.deepEqual(d.push(Buffer.alloc(10)), []);
  assert.equal(d.bufferedBytes, 10);
  assert.equal(budget.used, 0);
});

test('a frame spread over chunks gets memory from the allocator, given its API key', () => {
  const calls: [number, number][] = [];
  const decoder = new FrameReader({
    maxFrameBytes: 1 << 20,
    allocate: (size, apiKey) => {
      calls.push([size, apiKey]);
      return Buffer.alloc(size);
    },
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

// ---- reads into the reader's own buffers (readBuffer / commit) ----

const PRODUCE = 0;
const METADATA = 3;

/** A frame (size prefix included) whose payload starts with `apiKey` and is filled from `seed`. */
function framed(apiKey: number, payloadBytes: number, seed: number): Buffer {
  const f = Buffer.alloc(4 + payloadBytes);
  f.writeInt32BE(payloadBytes, 0);
  for (let i = 6; i < f.length; i++) f[i] = (i * 31 + seed) & 0xff;
  if (payloadBytes >= 2) f.writeInt16BE(apiKey, 4);
  return f;
}

interface Harness {
  reader: FrameReader;
  budget: FrameBudget;
  allocated: Buffer[];
  discarded: Buffer[];
}

function harness(opts: Partial<FrameReaderOptions> & { budgetBytes?: number } = {}): Harness {
  const budget = new FrameBudget(opts.budgetBytes ?? 64 * 1024 * 1024);
  const allocated: Buffer[] = [];
  const discarded: Buffer[] = [];
  const reader = new FrameReader({
    maxFrameBytes: opts.maxFrameBytes ?? 8 * 1024 * 1024,
    allocate: (size) => {
      const b = Buffer.alloc(size);
      allocated.push(b);
      return b;
    },
    budget,
    discard: (f) => discarded.push(f),
  });
  return { reader, budget, allocated, discarded };
}

/**
 * Delivers `bytes` as a socket would: each read fills at most the buffer the reader offers and at most
 * `nextRead()` bytes. Returns the frames in order.
 */
function feed(reader: FrameReader, bytes: Buffer, nextRead: () => number): Buffer[] {
  const frames: Buffer[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    const into = reader.readBuffer();
    assert.ok(into.length > 0, 'the reader offers room for every read');
    const n = Math.min(into.length, nextRead(), bytes.length - pos);
    bytes.copy(into, 0, pos, pos + n);
    pos += n;
    frames.push(...reader.commit(n));
  }
  return frames;
}

test('frames of every size arrive intact whatever the read boundaries (seeded)', () => {
  for (let seed = 1; seed <= 40; seed++) {
    const random = seededRandom(seed);
    const sizes = Array.from({ length: 30 }, () => {
      const r = random();
      return r < 0.5 ? Math.floor(random() * 2000) + 2 : r < 0.8 ? Math.floor(random() * 40_000) + 2 : Math.floor(random() * 400_000) + 2;
    });
    const frames = sizes.map((s, i) => framed(i % 2 === 0 ? PRODUCE : METADATA, s, seed + i));
    const { reader, budget } = harness();
    const got = feed(reader, Buffer.concat(frames), () => (random() < 0.3 ? Math.floor(random() * 7) + 1 : Math.floor(random() * 200_000) + 1));
    assert.equal(got.length, frames.length, `seed ${seed}`);
    for (let i = 0; i < frames.length; i++) assert.ok(got[i]!.equals(frames[i]!.subarray(4)), `seed ${seed}, frame ${i}`);
    assert.equal(budget.used, 0, 'every early allocation was given back');
    assert.equal(reader.bufferedBytes, 0);
  }
});

test('a large frame is read straight into its own buffer: the frame handed on is that buffer', () => {
  const { reader, budget, allocated } = harness();
  const big = framed(PRODUCE, 1024 * 1024, 7);
  const before = framed(PRODUCE, 100, 1);
  const bytes = Buffer.concat([before, big]);
  // First read: the small frame and the start of the large one.
  let into = reader.readBuffer();
  bytes.copy(into, 0, 0, 4096);
  const first = reader.commit(4096);
  assert.equal(first.length, 1);
  const own = allocated.filter((b) => b.length === 1024 * 1024);
  assert.equal(own.length, 1, 'the large frame got its buffer once its size and API key arrived');
  assert.equal(budget.used, 1024 * 1024);
  // Later reads land in that buffer, at the position where the received part ends.
  into = reader.readBuffer();
  assert.equal(into.buffer, own[0]!.buffer);
  assert.equal(into.length, 1024 * 1024 - (4096 - before.length - 4));
  bytes.copy(into, 0, 4096);
  const rest = reader.commit(into.length);
  assert.equal(rest.length, 1);
  assert.equal(rest[0], own[0], 'no copy: the frame is the buffer that was read into');
  assert.ok(rest[0]!.equals(big.subarray(4)));
  assert.equal(budget.used, 0);
  // The read after a direct frame is short, so a following large frame's head is copied only a little.
  assert.ok(reader.readBuffer().length <= 4096);
});

test('frames read through the shared landing buffer stay intact while other connections read into it', () => {
  const a = harness();
  const b = harness();
  const fromA = [framed(PRODUCE, 50, 1), framed(METADATA, 3000, 2)];
  const fromB = [framed(PRODUCE, 70, 3), framed(PRODUCE, 9000, 4)];
  const gotA = feed(a.reader, Buffer.concat(fromA).subarray(0, 1000), () => 1 << 20);
  // Reader A now holds the first frame and part of the second; B's reads overwrite the landing buffer.
  const gotB = feed(b.reader, Buffer.concat(fromB), () => 1 << 20);
  gotA.push(...feed(a.reader, Buffer.concat(fromA).subarray(1000), () => 1 << 20));
  assert.equal(a.reader.readBuffer().buffer, b.reader.readBuffer().buffer, 'both read into one buffer');
  assert.deepEqual(gotA, fromA.map((f) => f.subarray(4)));
  assert.deepEqual(gotB, fromB.map((f) => f.subarray(4)));
});

test('when the budget is spent, large frames are gathered as they arrive and still complete', () => {
  const { reader, budget } = harness({ budgetBytes: 100_000 });
  const frames = [framed(PRODUCE, 300_000, 1), framed(PRODUCE, 60_000, 2), framed(PRODUCE, 300_000, 3)];
  const bytes = Buffer.concat(frames);
  const reserved: number[] = [];
  const got: Buffer[] = [];
  for (let pos = 0; pos < bytes.length; ) {
    const into = reader.readBuffer();
    const n = Math.min(into.length, 50_000, bytes.length - pos);
    bytes.copy(into, 0, pos, pos + n);
    pos += n;
    got.push(...reader.commit(n));
    reserved.push(budget.used);
  }
  assert.equal(got.length, 3);
  for (let i = 0; i < 3; i++) assert.ok(got[i]!.equals(frames[i]!.subarray(4)));
  // Only the 60 kB frame fit the budget and was read directly; the larger ones were assembled at the end.
  assert.deepEqual([...new Set(reserved)].sort((x, y) => x - y), [0, 60_000]);
  assert.equal(budget.used, 0);
});

test('a frame that never completes gives its early allocation back when the connection goes', () => {
  const { reader, budget, discarded } = harness();
  const big = framed(PRODUCE, 500_000, 1);
  feed(reader, big.subarray(0, 10_000), () => 10_000);
  assert.equal(budget.used, 500_000);
  reader.dispose();
  assert.equal(budget.used, 0);
  assert.equal(discarded.length, 1);
  assert.equal(discarded[0]!.length, 500_000);
});

test('a declared size is checked before anything is allocated for it', () => {
  const { reader, budget, allocated } = harness({ maxFrameBytes: 1000 });
  const lie = Buffer.alloc(64);
  lie.writeInt32BE(100 * 1024 * 1024, 0);
  assert.deepEqual(feed(reader, lie, () => 64), []);
  assert.equal(reader.error?.code, 'ERR_FRAME_TOO_LARGE');
  assert.equal(allocated.length, 0);
  assert.equal(budget.used, 0);
  const negative = harness();
  const neg = Buffer.alloc(8);
  neg.writeInt32BE(-5, 0);
  feed(negative.reader, neg, () => 8);
  assert.equal(negative.reader.error?.code, 'ERR_FRAME_TOO_LARGE');
});

test('a large frame waits for its API key before it is given a buffer', () => {
  const { reader, allocated } = harness();
  const big = framed(PRODUCE, DIRECT_ABOVE_BYTES + 1, 1);
  // Size prefix and one byte of the API key: not enough to choose the memory.
  feed(reader, big.subarray(0, 5), () => 5);
  assert.equal(allocated.length, 0);
  const got = feed(reader, big.subarray(5), () => 3);
  assert.equal(allocated.length, 1);
  assert.equal(got.length, 1);
  assert.ok(got[0]!.equals(big.subarray(4)));
});
