import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CoordinatorError } from '../../src/coordinator/errors.js';
import { CoordinatorRuntime } from '../../src/coordinator/runtime.js';
import type { CoordinatorRecord, CoordinatorShard, OperationContext, ShardEnvironment } from '../../src/coordinator/runtime.js';
import { ManualScheduler } from '../../src/coordinator/scheduler.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { MemoryCoordinatorLog, isPending, peek, settle } from './memory-log.js';

// A tiny shard: a map of named counters, persisted as key=name, value=int32 count.
class CounterShard implements CoordinatorShard {
  readonly counters = new Map<string, number>();
  loadedCalls = 0;
  unloaded = false;

  constructor(readonly env: ShardEnvironment) {}

  replay(record: CoordinatorRecord): void {
    const name = record.key.toString();
    if (record.value === null) this.counters.delete(name);
    else this.counters.set(name, record.value.readInt32BE(0));
  }

  onLoaded(): void {
    this.loadedCalls++;
  }

  onUnloaded(): void {
    this.unloaded = true;
  }

  increment(ctx: OperationContext, name: string): number {
    const next = (this.counters.get(name) ?? 0) + 1;
    this.counters.set(name, next);
    const value = Buffer.alloc(4);
    value.writeInt32BE(next);
    ctx.append({ key: Buffer.from(name), value });
    return next;
  }
}

function setup(): {
  scheduler: ManualScheduler;
  logs: Map<number, MemoryCoordinatorLog>;
  shards: CounterShard[];
  failures: number[];
  runtime: CoordinatorRuntime<CounterShard>;
} {
  const scheduler = new ManualScheduler();
  const logs = new Map<number, MemoryCoordinatorLog>();
  const shards: CounterShard[] = [];
  const failures: number[] = [];
  const runtime = new CoordinatorRuntime<CounterShard>({
    scheduler,
    logFor: (p) => {
      let log = logs.get(p);
      if (log === undefined) logs.set(p, (log = new MemoryCoordinatorLog()));
      return log;
    },
    createShard: (env) => {
      const s = new CounterShard(env);
      shards.push(s);
      return s;
    },
    onShardFailure: (p) => failures.push(p),
  });
  return { scheduler, logs, shards, failures, runtime };
}

const codeOf = (v: unknown): number | undefined => {
  const e = (v as { rejected?: unknown }).rejected;
  return e instanceof CoordinatorError ? e.errorCode : undefined;
};

describe('CoordinatorRuntime', () => {
  it('refuses operations on partitions it does not own', async () => {
    const { runtime } = setup();
    await assert.rejects(runtime.scheduleWrite(3, () => 1), (e: unknown) => e instanceof CoordinatorError && e.errorCode === ErrorCode.NOT_COORDINATOR);
    await assert.rejects(runtime.scheduleRead(3, () => 1), (e: unknown) => e instanceof CoordinatorError && e.errorCode === ErrorCode.NOT_COORDINATOR);
  });

  it('releases a write response only once its records are committed, in order', async () => {
    const { runtime, logs } = setup();
    await runtime.load(0, 1);
    const log = logs.get(0)!;
    log.autoCommit = false;
    const a = runtime.scheduleWrite(0, (s, ctx) => s.increment(ctx, 'x'));
    const b = runtime.scheduleWrite(0, (s, ctx) => s.increment(ctx, 'x'));
    // Both appended without waiting for each other (pipelined), neither answered.
    assert.equal(log.records.length, 2);
    assert.equal(await isPending(a), true);
    assert.equal(await isPending(b), true);
    // A read sees the latest state but answers only after the writes it saw are committed.
    const r = runtime.scheduleRead(0, (s) => s.counters.get('x'));
    assert.equal(await isPending(r), true);
    log.commit();
    assert.equal(await a, 1);
    assert.equal(await b, 2);
    assert.equal(await r, 2);
    assert.equal(runtime.lastCommittedOffset(0), 1);
  });

  it('answers an operation without records after the earlier writes commit', async () => {
    const { runtime, logs } = setup();
    await runtime.load(0, 1);
    const log = logs.get(0)!;
    log.autoCommit = false;
    void runtime.scheduleWrite(0, (s, ctx) => s.increment(ctx, 'x'));
    const noRecords = runtime.scheduleWrite(0, (s) => s.counters.get('x'));
    assert.equal(await isPending(noRecords), true);
    log.commit();
    assert.equal(await noRecords, 1);
  });

  it('answers a keyed read once the writes of its key and keyless writes commit, not other keys\' writes', async () => {
    const { runtime, logs } = setup();
    await runtime.load(0, 1);
    const log = logs.get(0)!;
    log.autoCommit = false;
    const a = runtime.scheduleWrite(0, (s, ctx) => s.increment(ctx, 'a'), 'a');
    // Another key's pending write does not hold this read back; its own key's does, and so does an unkeyed read.
    assert.equal(await runtime.scheduleRead(0, (s) => s.counters.get('b') ?? 0, 'b'), 0);
    const readA = runtime.scheduleRead(0, (s) => s.counters.get('a'), 'a');
    const readAny = runtime.scheduleRead(0, (s) => s.counters.get('a'));
    assert.equal(await isPending(readA), true);
    assert.equal(await isPending(readAny), true);
    // A keyed write that appends nothing is answered like a keyed read.
    assert.equal(await runtime.scheduleWrite(0, (s) => s.counters.get('b') ?? 0, 'b'), 0);
    assert.equal(await isPending(runtime.scheduleWrite(0, (s) => s.counters.get('a'), 'a')), true);
    log.commit();
    assert.equal(await a, 1);
    assert.equal(await readA, 1);
    assert.equal(await readAny, 1);
    // Once committed, the key holds nothing back: a later pending write of another key is no obstacle.
    const b = runtime.scheduleWrite(0, (s, ctx) => s.increment(ctx, 'b'), 'b');
    assert.equal(await runtime.scheduleRead(0, (s) => s.counters.get('a'), 'a'), 1);
    assert.equal(await isPending(b), true);
    log.commit();
    assert.equal(await b, 1);
  });

  it('holds every keyed answer behind a pending keyless write, which may touch any key', async () => {
    const { runtime, logs } = setup();
    await runtime.load(0, 1);
    const log = logs.get(0)!;
    log.autoCommit = false;
    const keyed = runtime.scheduleWrite(0, (s, ctx) => s.increment(ctx, 'a'), 'a');
    const keyless = runtime.scheduleWrite(0, (s, ctx) => s.increment(ctx, 'b'));
    const readA = runtime.scheduleRead(0, (s) => s.counters.get('a'), 'a');
    const readB = runtime.scheduleRead(0, (s) => s.counters.get('b'), 'b');
    const readC = runtime.scheduleRead(0, (s) => s.counters.get('c') ?? 0, 'c');
    for (const p of [keyed, keyless, readA, readB, readC]) assert.equal(await isPending(p), true);
    log.commit();
    assert.deepEqual(await Promise.all([keyed, keyless, readA, readB, readC]), [1, 1, 1, 1, 0]);
  });

  it('fails a keyed read still waiting when an append fails, and keeps answers already given', async () => {
    const { runtime, logs } = setup();
    await runtime.load(0, 1);
    const log = logs.get(0)!;
    log.autoCommit = false;
    const a = runtime.scheduleWrite(0, (s, ctx) => s.increment(ctx, 'a'), 'a');
    const readA = runtime.scheduleRead(0, (s) => s.counters.get('a'), 'a');
    assert.equal(await runtime.scheduleRead(0, (s) => s.counters.get('b') ?? 0, 'b'), 0);
    log.fail(ErrorCode.NOT_LEADER_OR_FOLLOWER);
    assert.equal(codeOf(await peek(a)), ErrorCode.NOT_COORDINATOR);
    assert.equal(codeOf(await peek(readA)), ErrorCode.NOT_COORDINATOR);
    assert.equal(runtime.isActive(0), false);
  });

  it('passes an operation error to its caller and keeps serving', async () => {
    const { runtime } = setup();
    await runtime.load(0, 1);
    await assert.rejects(
      runtime.scheduleWrite(0, () => {
        throw new CoordinatorError(ErrorCode.INVALID_REQUEST);
      }),
      (e: unknown) => e instanceof CoordinatorError && e.errorCode === ErrorCode.INVALID_REQUEST,
    );
    assert.equal(await runtime.scheduleWrite(0, (s, ctx) => s.increment(ctx, 'y')), 1);
  });

  it('replays the log into a fresh shard on load', async () => {
    const first = setup();
    await first.runtime.load(0, 1);
    for (let i = 0; i < 5; i++) await first.runtime.scheduleWrite(0, (s, ctx) => s.increment(ctx, i % 2 === 0 ? 'even' : 'odd'));
    // A second runtime (another broker, or this one after a restart) over the same log.
    const second = setup();
    second.logs.set(0, first.logs.get(0)!);
    await second.runtime.load(0, 2);
    assert.equal(second.shards[0]!.loadedCalls, 1);
    assert.equal(await second.runtime.scheduleRead(0, (s) => s.counters.get('even')), 3);
    assert.equal(await second.runtime.scheduleRead(0, (s) => s.counters.get('odd')), 2);
  });

  it('answers COORDINATOR_LOAD_IN_PROGRESS while loading', async () => {
    const { runtime, logs } = setup();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    logs.set(0, Object.assign(new MemoryCoordinatorLog(), {
      async *replay(): AsyncIterable<CoordinatorRecord> {
        await gate;
      },
    }));
    const loading = runtime.load(0, 1);
    const during = await peek(runtime.scheduleWrite(0, () => 1));
    assert.equal(codeOf(during), ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    release();
    await loading;
    assert.equal(await runtime.scheduleWrite(0, () => 7), 7);
  });

  it('fails waiting operations with NOT_COORDINATOR on unload and ignores stale epochs', async () => {
    const { runtime, logs, shards } = setup();
    await runtime.load(0, 5);
    logs.get(0)!.autoCommit = false;
    const waiting = runtime.scheduleWrite(0, (s, ctx) => s.increment(ctx, 'x'));
    runtime.unload(0, 4); // an older epoch's resignation must not drop the newer leadership
    assert.equal(runtime.isActive(0), true);
    runtime.unload(0, 5);
    assert.equal(codeOf(await peek(waiting)), ErrorCode.NOT_COORDINATOR);
    assert.equal(shards[0]!.unloaded, true);
    assert.equal(codeOf(await peek(runtime.scheduleWrite(0, () => 1))), ErrorCode.NOT_COORDINATOR);
    // A late commit of the dropped write does not resurrect anything.
    logs.get(0)!.commit();
    await settle();
    assert.equal(runtime.isActive(0), false);
  });

  it('unloads the partition when an append fails, failing every uncommitted response', async () => {
    const { runtime, logs, failures } = setup();
    await runtime.load(0, 1);
    const log = logs.get(0)!;
    log.autoCommit = false;
    const a = runtime.scheduleWrite(0, (s, ctx) => s.increment(ctx, 'x'));
    const b = runtime.scheduleWrite(0, (s, ctx) => s.increment(ctx, 'x'));
    log.fail(ErrorCode.NOT_LEADER_OR_FOLLOWER);
    // Produce errors are mapped to what a coordinator client understands.
    assert.equal(codeOf(await peek(a)), ErrorCode.NOT_COORDINATOR);
    assert.equal(codeOf(await peek(b)), ErrorCode.NOT_COORDINATOR);
    assert.deepEqual(failures, [0]);
    assert.equal(runtime.isActive(0), false);
  });

  it('maps NOT_ENOUGH_REPLICAS to COORDINATOR_NOT_AVAILABLE', async () => {
    const { runtime, logs } = setup();
    await runtime.load(0, 1);
    logs.get(0)!.failWith = ErrorCode.NOT_ENOUGH_REPLICAS;
    assert.equal(codeOf(await peek(runtime.scheduleWrite(0, (s, ctx) => s.increment(ctx, 'x')))), ErrorCode.COORDINATOR_NOT_AVAILABLE);
  });

  it('runs keyed timers as operations; rescheduling a key replaces it; unload cancels them', async () => {
    const { runtime, scheduler, shards, logs } = setup();
    await runtime.load(0, 1);
    const shard = shards[0]!;
    const fired: string[] = [];
    await runtime.scheduleWrite(0, (s) => {
      s.env.timer.schedule('t', 1000, (ctx) => {
        fired.push('first');
        s.increment(ctx, 'timer');
      });
      s.env.timer.schedule('t', 2000, (ctx) => {
        fired.push('second');
        s.increment(ctx, 'timer');
      });
      s.env.timer.schedule('other', 500, () => fired.push('other'));
    });
    assert.equal(shard.env.timer.has('t'), true);
    scheduler.advance(1500);
    assert.deepEqual(fired, ['other']);
    scheduler.advance(500);
    assert.deepEqual(fired, ['other', 'second']);
    assert.equal(logs.get(0)!.records.length, 1);
    await runtime.scheduleWrite(0, (s) => s.env.timer.schedule('late', 1000, () => fired.push('late')));
    runtime.unload(0);
    scheduler.advance(5000);
    assert.deepEqual(fired, ['other', 'second']);
    assert.equal(scheduler.pending, 0);
  });
});
