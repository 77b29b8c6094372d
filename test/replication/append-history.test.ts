import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { AppendHistory } from '../../src/replication/append-history.js';

/** What AppendHistory must answer: the plain list of every append, of which the last `capacity` count. */
function expectedBytesAt(entries: readonly [number, number][], capacity: number, offset: number): number | undefined {
  const kept = entries.slice(-capacity);
  if (kept.length === 0 || kept[0]![0] > offset) return undefined;
  let found = kept[0]![1];
  for (const [end, bytes] of kept) if (end <= offset) found = bytes;
  return found;
}

test('bytesAt answers the latest append ending at or before an offset, as a plain list would, across growth and wrap-around', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 2, max: 64 }),
      fc.array(fc.tuple(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 5000 })), { maxLength: 300 }),
      fc.array(fc.nat(20_000), { minLength: 1, maxLength: 20 }),
      (capacity, appends, probes) => {
        const entries: [number, number][] = [[100, 0]];
        const history = new AppendHistory(capacity, 100, 0);
        let end = 100;
        let bytes = 0;
        for (const [records, size] of appends) {
          end += records;
          bytes += size;
          history.record(end, bytes);
          entries.push([end, bytes]);
        }
        assert.equal(history.size, Math.min(capacity, entries.length));
        for (const p of [...probes, ...entries.map(([e]) => e)]) {
          assert.equal(history.bytesAt(p), expectedBytesAt(entries, capacity, p), `offset ${p}`);
        }
      },
    ),
  );
});

test('reset forgets everything but the entry it is given', () => {
  const history = new AppendHistory(4096, 0, 0);
  for (let i = 1; i <= 100; i++) history.record(i * 10, i * 1000);
  assert.equal(history.bytesAt(505), 50_000);
  history.reset(2000, 123_456);
  assert.equal(history.size, 1);
  assert.equal(history.bytesAt(1999), undefined);
  assert.equal(history.bytesAt(2000), 123_456);
  history.record(2010, 124_000);
  assert.equal(history.bytesAt(2500), 124_000);
});
