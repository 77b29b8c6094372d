import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { OffsetMap } from '../../../src/storage/cleaner/offset-map.js';

const key = (s: string): Buffer => Buffer.from(s, 'utf8');

test('put and get keep the latest offset per key', () => {
  const map = new OffsetMap({ memory: 24 * 100 });
  assert.equal(map.slots, 100);
  assert.equal(map.get(key('a')), -1);
  map.put(key('a'), 5);
  map.put(key('b'), 7);
  map.put(key('a'), 9);
  assert.equal(map.get(key('a')), 9);
  assert.equal(map.get(key('b')), 7);
  assert.equal(map.size, 2);
  assert.equal(map.latestOffset, 9);
});

test('the map counts as full at the load factor, and clear empties it', () => {
  const map = new OffsetMap({ memory: 24 * 10, loadFactor: 0.5 });
  assert.equal(map.maxDesiredSize, 5);
  for (let i = 0; i < 5; i++) map.put(key(`k${i}`), i);
  assert.equal(map.isFull, true);
  map.clear();
  assert.equal(map.size, 0);
  assert.equal(map.latestOffset, -1);
  assert.equal(map.get(key('k1')), -1);
});

test('a completely full map still finds every key and refuses a new one', () => {
  const map = new OffsetMap({ memory: 24 * 16, loadFactor: 1 });
  for (let i = 0; i < 16; i++) map.put(key(`key-${i}`), 1000 + i);
  for (let i = 0; i < 16; i++) assert.equal(map.get(key(`key-${i}`)), 1000 + i);
  assert.equal(map.get(key('absent')), -1);
  assert.throws(() => map.put(key('one-more'), 1), /full/);
  map.put(key('key-3'), 2000);
  assert.equal(map.get(key('key-3')), 2000);
});

test('offsets beyond 2^32 survive the 8-byte slot', () => {
  const map = new OffsetMap({ memory: 24 * 4 });
  map.put(key('big'), 2 ** 40 + 17);
  assert.equal(map.get(key('big')), 2 ** 40 + 17);
});

test('property: behaves like a Map of the latest offsets', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.uint8Array({ maxLength: 6 }), fc.nat({ max: 1_000_000 })), { maxLength: 200 }), (ops) => {
      const map = new OffsetMap({ memory: 24 * 256, loadFactor: 1 });
      const model = new Map<string, number>();
      for (const [k, off] of ops) {
        map.put(Buffer.from(k), off);
        model.set(Buffer.from(k).toString('hex'), off);
      }
      assert.equal(map.size, model.size);
      for (const [hex, off] of model) assert.equal(map.get(Buffer.from(hex, 'hex')), off);
    }),
    { numRuns: 100 },
  );
});

test('refuses a memory budget that holds no slot', () => {
  assert.throws(() => new OffsetMap({ memory: 10 }), /holds no entry/);
});
