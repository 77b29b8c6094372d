import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../src/storage/clock.js';
import { Throttler } from '../../../src/storage/cleaner/throttler.js';

function setup(maxBytesPerSecond: number): { clock: ManualClock; throttler: Throttler; sleeps: number[] } {
  const clock = new ManualClock(0);
  const sleeps: number[] = [];
  const throttler = new Throttler({
    maxBytesPerSecond,
    clock,
    checkIntervalMs: 100,
    sleep: async (ms) => {
      sleeps.push(ms);
      clock.advance(ms);
    },
  });
  return { clock, throttler, sleeps };
}

test('waits so that the observed rate falls back to the cap', async () => {
  const { clock, throttler, sleeps } = setup(1000);
  // 1000 bytes in 100 ms is 10,000 B/s: the window must last a full second.
  await throttler.maybeThrottle(500);
  clock.advance(100);
  await throttler.maybeThrottle(500);
  assert.deepEqual(sleeps, [900]);
  assert.equal(throttler.totalSleptMs, 900);
});

test('does not wait while under the cap or inside a window', async () => {
  const { clock, throttler, sleeps } = setup(1_000_000);
  for (let i = 0; i < 10; i++) {
    await throttler.maybeThrottle(1000);
    clock.advance(50);
  }
  assert.deepEqual(sleeps, []);
});

test('an infinite cap disables throttling', async () => {
  const { clock, throttler, sleeps } = setup(Infinity);
  assert.equal(throttler.enabled, false);
  clock.advance(1000);
  await throttler.maybeThrottle(1e12);
  assert.deepEqual(sleeps, []);
});

test('over many windows the average rate stays at the cap', async () => {
  const { clock, throttler } = setup(10_000);
  const start = clock.now();
  let bytes = 0;
  for (let i = 0; i < 200; i++) {
    await throttler.maybeThrottle(1000);
    bytes += 1000;
    clock.advance(10);
  }
  const seconds = (clock.now() - start) / 1000;
  assert.ok(bytes / seconds <= 10_000 * 1.05, `rate ${bytes / seconds}`);
  assert.ok(bytes / seconds >= 10_000 * 0.8, `rate ${bytes / seconds}`);
});
