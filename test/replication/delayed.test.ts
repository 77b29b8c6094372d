import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DelayedOperation, Purgatory } from '../../src/replication/delayed.js';

/** Completes when `ready()` says so; records how it ended. */
class Op extends DelayedOperation {
  ended: 'completed' | 'expired' | undefined;
  checks = 0;
  constructor(delayMs: number, private readonly ready: () => boolean) {
    super(delayMs);
  }
  tryComplete(): boolean {
    this.checks++;
    return this.ready() ? this.forceComplete() : false;
  }
  protected override onExpiration(): void {
    this.ended = 'expired';
  }
  protected onComplete(): void {
    this.ended ??= 'completed';
  }
}

test('an operation that can complete at once is never watched', () => {
  const p = new Purgatory<Op>('t');
  const op = new Op(10_000, () => true);
  assert.equal(p.tryCompleteElseWatch(op, ['a']), true);
  assert.deepEqual([op.ended, p.delayed, p.watchedKeys], ['completed', 0, 0]);
});

test('checkAndComplete re-checks only the watchers of that key and forgets completed ones', () => {
  const p = new Purgatory<Op>('t');
  let aReady = false;
  const onA = new Op(10_000, () => aReady);
  const onB = new Op(10_000, () => false);
  const onBoth = new Op(10_000, () => aReady);
  p.tryCompleteElseWatch(onA, ['a']);
  p.tryCompleteElseWatch(onB, ['b']);
  p.tryCompleteElseWatch(onBoth, ['a', 'b']);
  assert.equal(p.delayed, 3);
  const bChecks = onB.checks;
  assert.equal(p.checkAndComplete('a'), 0);
  assert.equal(onB.checks, bChecks, 'b watchers untouched');
  aReady = true;
  assert.equal(p.checkAndComplete('a'), 2);
  assert.deepEqual([onA.ended, onBoth.ended, onB.ended], ['completed', 'completed', undefined]);
  assert.equal(p.delayed, 1);
  assert.equal(p.watchedKeys, 1, 'only b is still watched');
  p.completeAll();
  assert.deepEqual([onB.ended, p.delayed, p.watchedKeys], ['completed', 0, 0]);
});

test('an operation expires after its delay and completes once', async () => {
  const p = new Purgatory<Op>('t');
  const op = new Op(20, () => false);
  p.tryCompleteElseWatch(op, ['a']);
  await new Promise((r) => setTimeout(r, 60));
  assert.deepEqual([op.ended, op.isCompleted, p.delayed, p.watchedKeys], ['expired', true, 0, 0]);
  assert.equal(op.forceComplete(), false);
});
