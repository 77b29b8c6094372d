import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Histogram } from '../../../bench/lib/histogram.js';

/** The exact nearest-rank percentile of a sorted array. */
function exact(sorted: readonly number[], p: number): number {
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

test('percentiles are within 1/64 of the exact nearest-rank value', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 600_000_000 }), { minLength: 1, maxLength: 400 }), fc.constantFrom(1, 50, 90, 99, 99.9), (values, p) => {
      const h = new Histogram();
      for (const v of values) h.record(v);
      const want = exact([...values].sort((a, b) => a - b), p);
      const got = h.percentile(p);
      assert.ok(Math.abs(got - want) <= Math.max(1, want / 64), `p${p}: got ${got}, want ${want}`);
    }),
  );
});

test('small values are exact, and min, max, count and mean are kept', () => {
  const h = new Histogram();
  for (let v = 1; v <= 100; v++) h.record(v);
  const s = h.summary();
  assert.equal(s.count, 100);
  assert.equal(s.p50Us, 50);
  assert.equal(s.p99Us, 99);
  assert.equal(s.minUs, 1);
  assert.equal(s.maxUs, 100);
  assert.equal(s.meanUs, 50.5);
});

test('an empty histogram reports NaN rather than zero latency', () => {
  const s = new Histogram().summary();
  assert.equal(s.count, 0);
  assert.ok(Number.isNaN(s.p99Us));
});
