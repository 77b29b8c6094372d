// Random sequences of client requests, clock moves, marker failures and coordinator reloads; checks the
// invariants that matter for exactly-once: the log only ever records legal transitions, the state in
// memory is what a replay of the log gives, epochs of a producer id never go back, and every decided
// transaction ends up completed with its markers written under the decided outcome.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { TransactionResult } from '../../../src/coordinator/txn/marker-dispatcher.js';
import { decodeTransactionRecord } from '../../../src/coordinator/txn/records.js';
import type { TransactionMetadata } from '../../../src/coordinator/txn/transaction-metadata.js';
import { TRANSACTION_STATE_NAMES, TransactionState, isValidTransition } from '../../../src/coordinator/txn/transaction-metadata.js';
import { ErrorCode } from '../../../src/protocol/errors.js';
import { MemoryCoordinatorLog } from '../memory-log.js';
import type { Harness } from './harness.js';
import { FakeMarkerSender, flush, start, tp } from './harness.js';

const IDS = ['a', 'b', 'c'];

type Op =
  | { kind: 'init'; id: number; kip360: boolean }
  | { kind: 'add'; id: number; partitions: number[] }
  | { kind: 'end'; id: number; commit: boolean }
  | { kind: 'advance'; ms: number }
  | { kind: 'failMarker'; partition: number; code: number }
  | { kind: 'reload' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('init' as const), id: fc.nat(2), kip360: fc.boolean() }),
  fc.record({ kind: fc.constant('add' as const), id: fc.nat(2), partitions: fc.uniqueArray(fc.nat(3), { minLength: 1, maxLength: 3 }) }),
  fc.record({ kind: fc.constant('end' as const), id: fc.nat(2), commit: fc.boolean() }),
  fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 25_000 }) }),
  fc.record({
    kind: fc.constant('failMarker' as const),
    partition: fc.nat(3),
    code: fc.constantFrom(ErrorCode.NOT_LEADER_OR_FOLLOWER, ErrorCode.REQUEST_TIMED_OUT, ErrorCode.NOT_ENOUGH_REPLICAS),
  }),
  fc.record({ kind: fc.constant('reload' as const) }),
);

function replayLog(log: MemoryCoordinatorLog): Map<string, TransactionMetadata> {
  const m = new Map<string, TransactionMetadata>();
  for (const r of log.records) {
    const d = decodeTransactionRecord(r);
    if (d.kind !== 'txn') continue;
    if (d.metadata === null) m.delete(d.transactionalId);
    else m.set(d.transactionalId, d.metadata);
  }
  return m;
}

function checkLog(log: MemoryCoordinatorLog): void {
  const last = new Map<string, TransactionMetadata>();
  for (const r of log.records) {
    const d = decodeTransactionRecord(r);
    if (d.kind !== 'txn') continue;
    const prev = last.get(d.transactionalId);
    if (d.metadata === null) {
      last.delete(d.transactionalId);
      continue;
    }
    const next = d.metadata;
    if (prev !== undefined) {
      const fenced = prev.state === TransactionState.ONGOING && next.state === TransactionState.PREPARE_ABORT && next.producerEpoch === prev.producerEpoch + 1;
      assert.ok(fenced || isValidTransition(prev.state, next.state), `${d.transactionalId}: ${TRANSACTION_STATE_NAMES[prev.state]} → ${TRANSACTION_STATE_NAMES[next.state]}`);
      if (next.producerId === prev.producerId) assert.ok(next.producerEpoch >= prev.producerEpoch, `${d.transactionalId}: epoch went back`);
      if (next.state === TransactionState.COMPLETE_COMMIT) assert.equal(prev.state, TransactionState.PREPARE_COMMIT);
      if (next.state === TransactionState.COMPLETE_ABORT) assert.equal(prev.state, TransactionState.PREPARE_ABORT);
    }
    last.set(d.transactionalId, next);
  }
}

async function checkMemoryMatchesLog(h: Harness): Promise<void> {
  const replayed = replayLog(h.log);
  for (const id of IDS) {
    const d = await h.tc.describeTransaction(id);
    const m = replayed.get(id);
    if (m === undefined) {
      assert.equal(d.errorCode, ErrorCode.TRANSACTIONAL_ID_NOT_FOUND, `${id} should be unknown`);
      continue;
    }
    assert.equal(d.errorCode, ErrorCode.NONE);
    assert.deepEqual(
      [d.transactionState, Number(d.producerId), d.producerEpoch, Number(d.transactionStartTimeMs), d.topics],
      [TRANSACTION_STATE_NAMES[m.state], m.producerId, m.producerEpoch, m.txnStartTimestamp, m.partitions.byTopic().map((g) => ({ topic: g.topic, partitions: g.partitions }))],
      id,
    );
  }
}

describe('transaction coordinator under random operations', () => {
  it('keeps the log legal, memory equal to the log, and completes every decided transaction', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 30 }), async (ops) => {
        const log = new MemoryCoordinatorLog();
        const sender = new FakeMarkerSender();
        let epoch = 1;
        let h = await start({ log, sender, epoch, config: { abortTimedOutTransactionsIntervalMs: 5_000, transactionalIdExpirationMs: 120_000, removeExpiredTransactionalIdsIntervalMs: 30_000 } });
        const known = new Map<string, { pid: number; epoch: number }>();
        const committedOk: { pid: number; epoch: number }[] = [];
        for (const op of ops) {
          switch (op.kind) {
            case 'init': {
              const id = IDS[op.id] ?? 'a';
              const k = known.get(id);
              const r = await h.tc.handleInitProducerId(id, 20_000, op.kip360 && k !== undefined ? { producerId: k.pid, producerEpoch: k.epoch } : undefined);
              if (r.errorCode === ErrorCode.NONE) known.set(id, { pid: r.producerId, epoch: r.producerEpoch });
              break;
            }
            case 'add': {
              const id = IDS[op.id] ?? 'a';
              const k = known.get(id);
              if (k !== undefined) await h.tc.handleAddPartitions(id, k.pid, k.epoch, op.partitions.map((p) => tp('t', p)));
              break;
            }
            case 'end': {
              const id = IDS[op.id] ?? 'a';
              const k = known.get(id);
              if (k === undefined) break;
              const code = await h.tc.handleEndTxn(id, k.pid, k.epoch, op.commit ? TransactionResult.COMMIT : TransactionResult.ABORT);
              if (code === ErrorCode.NONE && op.commit) committedOk.push(k);
              break;
            }
            case 'advance':
              h.scheduler.advance(op.ms);
              break;
            case 'failMarker':
              sender.script.set(`t-${op.partition}`, [op.code]);
              break;
            case 'reload':
              h.tc.close();
              h = await start({ log, sender, scheduler: h.scheduler, epoch: ++epoch, config: { abortTimedOutTransactionsIntervalMs: 5_000, transactionalIdExpirationMs: 120_000, removeExpiredTransactionalIdsIntervalMs: 30_000 } });
              break;
          }
          await flush();
          await checkMemoryMatchesLog(h);
        }
        // Let every retry run out.
        sender.script.clear();
        for (let i = 0; i < 20; i++) {
          h.scheduler.advance(1_000);
          await flush();
        }
        checkLog(log);
        for (const m of replayLog(log).values()) {
          assert.ok(m.state !== TransactionState.PREPARE_COMMIT && m.state !== TransactionState.PREPARE_ABORT, `${m.transactionalId} left in ${TRANSACTION_STATE_NAMES[m.state]}`);
        }
        // A commit acknowledged to the client had its COMMIT markers sent under that producer epoch.
        for (const c of committedOk) {
          assert.ok(sender.calls.some((call) => call.producerId === c.pid && call.producerEpoch === c.epoch && call.result === TransactionResult.COMMIT));
        }
        h.tc.close();
      }),
      { numRuns: 60 },
    );
  });
});
