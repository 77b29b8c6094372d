import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  LEADER_EPOCH_CHECKPOINT_FILE,
  LeaderEpochFileCache,
  type EpochEntry,
} from '../../src/storage/leader-epoch-cache.js';
import { isStrataError } from '../../src/protocol/strata-error.js';

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'strata-epoch-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const cacheOf = (...entries: Array<[number, number]>): LeaderEpochFileCache =>
  new LeaderEpochFileCache(undefined, entries.map(([epoch, startOffset]) => ({ epoch, startOffset })));
const pairs = (c: LeaderEpochFileCache): Array<[number, number]> => c.entries().map((e) => [e.epoch, e.startOffset]);

test('assign: a repeat of the latest epoch at a later offset is a no-op', async () => {
  const c = cacheOf();
  assert.equal(await c.assign(2, 6), true);
  assert.equal(await c.assign(2, 7), false);
  assert.equal(await c.assign(2, 6), false);
  assert.deepEqual(pairs(c), [[2, 6]]);
  assert.equal(c.latestEpoch(), 2);
});

test('assign: the latest epoch at an earlier offset moves its start back', async () => {
  const c = cacheOf([1, 0], [2, 6]);
  assert.equal(await c.assign(2, 5), true);
  assert.deepEqual(pairs(c), [[1, 0], [2, 5]]);
});

test('assign: entries not below the new one in both epoch and offset are dropped (Kafka rule)', async () => {
  const c = cacheOf([1, 5]);
  await c.assign(2, 4); // offset went back: (1,5) starts at/after 4
  assert.deepEqual(pairs(c), [[2, 4]]);
  const d = cacheOf([2, 6], [3, 8]);
  await d.assign(1, 10); // epoch went back: every entry has epoch ≥ 1
  assert.deepEqual(pairs(d), [[1, 10]]);
  const e = cacheOf([1, 0], [2, 5], [4, 10]);
  await e.assign(3, 7);
  assert.deepEqual(pairs(e), [[1, 0], [2, 5], [3, 7]]);
  await e.assign(5, 7); // same start offset as the latest: it had no data, the new epoch replaces it
  assert.deepEqual(pairs(e), [[1, 0], [2, 5], [5, 7]]);
});

test('assign refuses negative epochs and offsets', async () => {
  const c = cacheOf();
  await assert.rejects(c.assign(-1, 0), (e) => isStrataError(e, 'ERR_STATE'));
  await assert.rejects(c.assign(0, -1), (e) => isStrataError(e, 'ERR_STATE'));
});

test('endOffsetFor follows OffsetForLeaderEpoch semantics', () => {
  const c = cacheOf([1, 0], [2, 5], [4, 10]);
  const leo = 15;
  assert.deepEqual(c.endOffsetFor(-1, leo), { epoch: -1, endOffset: -1 });
  assert.deepEqual(c.endOffsetFor(4, leo), { epoch: 4, endOffset: 15 }); // latest → LEO
  assert.deepEqual(c.endOffsetFor(5, leo), { epoch: -1, endOffset: -1 }); // above every epoch
  assert.deepEqual(c.endOffsetFor(3, leo), { epoch: 2, endOffset: 10 }); // unknown epoch → largest ≤ it
  assert.deepEqual(c.endOffsetFor(2, leo), { epoch: 2, endOffset: 10 });
  assert.deepEqual(c.endOffsetFor(1, leo), { epoch: 1, endOffset: 5 });
  assert.deepEqual(c.endOffsetFor(0, leo), { epoch: 0, endOffset: 0 }); // below the first → its start
  assert.deepEqual(cacheOf().endOffsetFor(0, leo), { epoch: -1, endOffset: -1 });
  assert.deepEqual(cacheOf([0, 0]).endOffsetFor(0, 42), { epoch: 0, endOffset: 42 });
});

test('epochForOffset, previous and next epochs', () => {
  const c = cacheOf([1, 3], [2, 5], [4, 10]);
  assert.equal(c.epochForOffset(0), undefined);
  assert.equal(c.epochForOffset(3), 1);
  assert.equal(c.epochForOffset(4), 1);
  assert.equal(c.epochForOffset(5), 2);
  assert.equal(c.epochForOffset(9), 2);
  assert.equal(c.epochForOffset(1000), 4);
  assert.equal(c.previousEpoch(), 2);
  assert.equal(c.nextEpoch(2), 4);
  assert.equal(c.nextEpoch(4), undefined);
  assert.deepEqual(c.earliestEntry(), { epoch: 1, startOffset: 3 });
  assert.deepEqual(c.epochEntry(2), { epoch: 2, startOffset: 5 });
});

test('truncateFromEnd removes entries starting at or after the new end', async () => {
  const c = cacheOf([1, 0], [2, 5], [4, 10]);
  assert.equal(await c.truncateFromEnd(100), false);
  assert.equal(await c.truncateFromEnd(-1), false);
  assert.equal(await c.truncateFromEnd(11), false);
  assert.equal(await c.truncateFromEnd(10), true);
  assert.deepEqual(pairs(c), [[1, 0], [2, 5]]);
  assert.equal(await c.truncateFromEnd(3), true);
  assert.deepEqual(pairs(c), [[1, 0]]);
  assert.equal(await c.truncateFromEnd(0), true);
  assert.deepEqual(pairs(c), []);
});

test('truncateFromStart keeps the epoch covering the new start, moved up to it', async () => {
  const base: Array<[number, number]> = [[1, 0], [2, 5], [4, 10]];
  let c = cacheOf(...base);
  assert.equal(await c.truncateFromStart(7), true);
  assert.deepEqual(pairs(c), [[2, 7], [4, 10]]);
  c = cacheOf(...base);
  await c.truncateFromStart(10);
  assert.deepEqual(pairs(c), [[4, 10]]);
  c = cacheOf(...base);
  await c.truncateFromStart(3);
  assert.deepEqual(pairs(c), [[1, 3], [2, 5], [4, 10]]);
  c = cacheOf(...base);
  await c.truncateFromStart(50);
  assert.deepEqual(pairs(c), [[4, 50]]);
  c = cacheOf([2, 5]);
  assert.equal(await c.truncateFromStart(4), false);
  assert.deepEqual(pairs(c), [[2, 5]]);
});

test('the checkpoint is written in Kafka format on every change and reloaded on open', () =>
  withDir(async (dir) => {
    const c = await LeaderEpochFileCache.open(dir);
    assert.equal(c.isEmpty, true);
    const path = join(dir, LEADER_EPOCH_CHECKPOINT_FILE);
    await c.assign(0, 0);
    await c.assign(0, 10); // no change, no write needed
    await c.assign(3, 120);
    await c.assign(7, 9007199254740000);
    assert.equal(await readFile(path, 'utf8'), '0\n3\n0 0\n3 120\n7 9007199254740000\n');
    await c.truncateFromEnd(200);
    assert.equal(await readFile(path, 'utf8'), '0\n2\n0 0\n3 120\n');
    await c.truncateFromStart(50);
    assert.equal(await readFile(path, 'utf8'), '0\n2\n0 50\n3 120\n');
    const reopened = await LeaderEpochFileCache.open(dir);
    assert.deepEqual(pairs(reopened), [[0, 50], [3, 120]]);
    await reopened.clear();
    assert.equal(await readFile(path, 'utf8'), '0\n0\n');
  }));

test('mutations issued without waiting still leave the file equal to the final state', () =>
  withDir(async (dir) => {
    const c = await LeaderEpochFileCache.open(dir);
    const ops: Promise<unknown>[] = [];
    for (let e = 0; e < 30; e++) ops.push(c.assign(e, e * 10));
    ops.push(c.truncateFromEnd(150), c.truncateFromStart(25));
    await Promise.all(ops);
    const reopened = await LeaderEpochFileCache.open(dir);
    assert.deepEqual(reopened.entries(), c.entries());
    assert.deepEqual(pairs(c)[0], [2, 25]);
  }));

test('a corrupt checkpoint fails to open with ERR_CORRUPT_FILE', () =>
  withDir(async (dir) => {
    const path = join(dir, LEADER_EPOCH_CHECKPOINT_FILE);
    for (const text of ['1\n0\n', '0\n1\n-1 5\n', '0\n1\n1 -5\n', '0\n2\n1 5\n', '0\n1\n1 5 6\n']) {
      await writeFile(path, text);
      await assert.rejects(LeaderEpochFileCache.open(dir), (e) => isStrataError(e, 'ERR_CORRUPT_FILE'), text);
    }
  }));

test('property: entries stay strictly increasing in epoch and start offset; endOffsetFor is consistent', () => {
  const op = fc.oneof(
    fc.record({ kind: fc.constant('assign' as const), epoch: fc.nat(20), offset: fc.nat(200) }),
    fc.record({ kind: fc.constant('end' as const), offset: fc.integer({ min: -1, max: 200 }) }),
    fc.record({ kind: fc.constant('start' as const), offset: fc.nat(200) }),
  );
  fc.assert(
    fc.asyncProperty(fc.array(op, { maxLength: 40 }), async (ops) => {
      const c = cacheOf();
      for (const o of ops) {
        if (o.kind === 'assign') await c.assign(o.epoch, o.offset);
        else if (o.kind === 'end') await c.truncateFromEnd(o.offset);
        else await c.truncateFromStart(o.offset);
      }
      const es: EpochEntry[] = c.entries();
      for (let i = 1; i < es.length; i++) {
        assert.ok(es[i]!.epoch > es[i - 1]!.epoch && es[i]!.startOffset > es[i - 1]!.startOffset);
      }
      const leo = 1000;
      for (const e of es) {
        const r = c.endOffsetFor(e.epoch, leo);
        assert.equal(r.epoch, e.epoch);
        const next = es.find((x) => x.epoch > e.epoch);
        assert.equal(r.endOffset, next === undefined ? leo : next.startOffset);
        // Every offset in [start, end) belongs to this epoch.
        assert.equal(c.epochForOffset(e.startOffset), e.epoch);
        assert.equal(c.epochForOffset(r.endOffset - 1), e.epoch);
      }
    }),
  );
});
