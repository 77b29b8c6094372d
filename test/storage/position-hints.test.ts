import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { PositionHints } from '../../src/storage/position-hints.js';

test('PositionHints answers like a map of the most recently added offsets', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 40 }),
      fc.array(fc.tuple(fc.nat(60), fc.nat(1_000_000)), { maxLength: 200 }),
      (capacity, ops) => {
        const hints = new PositionHints(capacity);
        // The model: insertion order of distinct offsets; an update keeps an offset's place.
        const model = new Map<number, number>();
        for (const [offset, position] of ops) {
          hints.set(offset, position);
          if (model.has(offset)) {
            model.set(offset, position);
          } else {
            if (model.size === capacity) model.delete(model.keys().next().value!);
            model.set(offset, position);
          }
        }
        for (let offset = 0; offset <= 60; offset++) assert.equal(hints.get(offset), model.get(offset), `offset ${offset}`);
      },
    ),
  );
});

test('clear forgets every hint', () => {
  const hints = new PositionHints(4);
  hints.set(10, 100);
  hints.set(20, 200);
  hints.clear();
  assert.equal(hints.get(10), undefined);
  assert.equal(hints.get(20), undefined);
  hints.set(30, 300);
  assert.equal(hints.get(30), 300);
});
