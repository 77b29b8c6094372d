import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InlineWrites } from '../../src/storage/inline-writes.js';
import { batch, openLog, readAll, tempDir } from './helpers.js';

const nextTurn = (): Promise<void> => new Promise((r) => setImmediate(r));

let root: string;
let cleanup: () => Promise<void>;
let n = 0;
before(async () => ({ dir: root, cleanup } = await tempDir()));
after(() => cleanup());

describe('InlineWrites', () => {

  /** An open file and a gate whose clock the test drives; `writeTakes` is what the clock moves during a write. */
  function fixture(opts: ConstructorParameters<typeof InlineWrites>[0] = {}) {
    const file = path.join(root, `f-${n++}`);
    const fd = fs.openSync(file, 'w+');
    const clock = { now: 0, writeTakes: 0, pending: 0 };
    const pauses: [number, number, number][] = [];
    const gate = new InlineWrites({
      dirtyPages: null,
      // A write reads the clock before and after itself: the first reading moves it on by the write's time.
      now: () => {
        const t = clock.now;
        clock.now += clock.pending;
        clock.pending = 0;
        return t;
      },
      onPause: (took, bytes, pause) => pauses.push([took, bytes, pause]),
      ...opts,
    });
    const write = (bytes: number, position = 0): void => {
      clock.pending = clock.writeTakes;
      gate.write(fd, Buffer.alloc(bytes, 7), 0, bytes, position);
    };
    return { file, fd, clock, gate, pauses, write, close: () => fs.closeSync(fd) };
  }

  it('writes the bytes in place, at the position given', () => {
    const f = fixture();
    try {
      f.gate.write(f.fd, Buffer.from('hello world'), 6, 5, 3);
      assert.deepEqual(fs.readFileSync(f.file), Buffer.from('\0\0\0world'));
      assert.equal(f.gate.inlineCount, 1);
    } finally {
      f.close();
    }
  });

  it('takes writes up to maxBytes and, within one turn of the event loop, up to maxBytesPerTurn', async () => {
    const f = fixture({ maxBytes: 1024, maxBytesPerTurn: 2048 });
    try {
      assert.equal(f.gate.allows(1024), true);
      assert.equal(f.gate.allows(1025), false);
      f.write(1024);
      f.write(1000);
      assert.equal(f.gate.allows(24), true);
      assert.equal(f.gate.allows(25), false, '2,024 bytes written this turn');
      await nextTurn();
      assert.equal(f.gate.allows(1024), true, 'a new turn starts from zero');
    } finally {
      f.close();
    }
  });

  it('a slow write sends writes to the pool for pauseMs, doubling while the first write after a pause is slow', () => {
    const f = fixture({ slowWriteMs: 10, pauseMs: 100, maxPauseMs: 250 });
    try {
      f.clock.writeTakes = 9;
      f.write(100);
      assert.equal(f.gate.allows(100), true, '9 ms is not slow');
      assert.equal(f.gate.pauses, 0);

      f.clock.writeTakes = 10;
      f.write(100);
      assert.deepEqual(f.pauses, [[10, 100, 100]]);
      assert.equal(f.gate.allows(1), false);
      f.clock.now += 99;
      assert.equal(f.gate.allows(1), false);
      f.clock.now += 1;
      assert.equal(f.gate.allows(1), true, 'the pause is over');

      f.write(100);
      assert.deepEqual(f.pauses.at(-1), [10, 100, 200]);
      f.clock.now += 200;
      f.write(100);
      assert.deepEqual(f.pauses.at(-1), [10, 100, 250], 'doubled up to maxPauseMs');
      f.clock.now += 250;

      f.clock.writeTakes = 1;
      f.write(100);
      f.clock.writeTakes = 50;
      f.write(100);
      assert.deepEqual(f.pauses.at(-1), [50, 100, 100], 'a fast write between resets the pause');
      assert.equal(f.gate.pauses, 4);
    } finally {
      f.close();
    }
  });

  it('turns writes away while the dirty page watch says the kernel is about to pause writers, and tells it what was written', async () => {
    let near = false;
    const noted: number[] = [];
    const f = fixture({ dirtyPages: { nearThrottle: () => near, noteWritten: (bytes) => noted.push(bytes) } });
    try {
      assert.equal(f.gate.allows(4096), true);
      f.write(4096);
      near = true;
      assert.equal(f.gate.allows(4096), false);
      await f.gate.writeWhereAllowed(f.fd, Buffer.alloc(8192, 1), 0, 8192, 4096);
      assert.equal(fs.statSync(f.file).size, 4096 + 8192, 'written from the pool');
      near = false;
      assert.equal(f.gate.allows(4096), true);
      assert.deepEqual(noted, [4096, 8192], 'writes made in place and in the pool both count');
      assert.deepEqual([f.gate.inlineCount, f.gate.pooledCount], [1, 1]);
    } finally {
      f.close();
    }
  });
});

describe('appends and InlineWrites', () => {

  it('a 1 MiB append is written in place within the call; while the gate refuses, appends go through the pool with the same result', async () => {
    let near = false;
    const gate = new InlineWrites({ dirtyPages: { nearThrottle: () => near } });
    const log = await openLog(path.join(root, `log-${n++}`), { maxMessageBytes: 2 * 1024 * 1024 }, { inlineWrites: gate });
    try {
      // Appends patch offsets into the buffers they are given: what was sent is copied afterwards.
      const sent: Buffer[] = [];
      const first = batch(2, 10, { seed: 1 });
      await log.append(first, { leaderEpoch: 0 });
      sent.push(Buffer.from(first));
      assert.equal(gate.inlineCount, 1, 'the asynchronous path writes in place too when the gate allows');

      const big = batch(1100, 1024, { seed: 2 });
      assert.ok(big.length > 1024 * 1024);
      const second = log.appendNow(big, { leaderEpoch: 0 });
      sent.push(Buffer.from(big));
      assert.equal(second?.firstOffset, 2, 'appended within the call');
      assert.equal(gate.inlineCount, 2);

      near = true;
      const small = batch(5, 100, { seed: 3 });
      assert.equal(log.appendNow(small, { leaderEpoch: 0 }), undefined, 'declined, nothing appended');
      assert.equal(log.logEndOffset, 1102);
      const third = await log.append(small, { leaderEpoch: 0 });
      sent.push(Buffer.from(small));
      assert.equal(third.firstOffset, 1102);
      assert.equal(gate.inlineCount, 2);
      assert.equal(gate.pooledCount, 1);

      near = false;
      const last = batch(3, 10, { seed: 4 });
      assert.equal(log.appendNow(last, { leaderEpoch: 0 })?.firstOffset, 1107);
      sent.push(Buffer.from(last));
      assert.equal(gate.inlineCount, 3);
      assert.deepEqual(await readAll(log, 4 * 1024 * 1024), sent);
    } finally {
      await log.close();
    }
  });
});
