// KIP-890 part 1 at the log: a transactional write that would start a transaction must present the
// verification guard the partition handed out before the coordinator was asked, and that guard dies with
// the next marker (or transactional write) of the producer. These tests drive the interleavings the race
// fix is about, deterministically, through Log.append on real files.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { buildControlBatch } from '../../src/protocol/records/builder.js';
import { isLogError } from '../../src/storage/log-errors.js';
import { AppendOrigin, type Log } from '../../src/storage/log.js';
import { VerificationGuard } from '../../src/storage/producer-state.js';
import { batch, openLog, tempDir } from './helpers.js';

const PID = 7;

/** A transactional batch of `count` records from producer PID at `epoch`, starting at `seq`. */
const txn = (seq: number, count = 1, epoch = 0, producerId = PID): Buffer =>
  batch(count, 10, { producerId, producerEpoch: epoch, baseSequence: seq, transactional: true, seed: seq });

const marker = (type: 'commit' | 'abort', epoch = 0, producerId = PID): Buffer =>
  buildControlBatch({ type, producerId, producerEpoch: epoch, coordinatorEpoch: 0 });

async function refused(p: Promise<unknown>, kafkaError: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => isLogError(e) && e.kafkaError === kafkaError);
}

/** The LSO once the whole log is replicated: stuck below the end while any transaction is open. */
function settledLso(log: Log): number {
  log.updateHighWatermark(log.logEndOffset);
  return log.lastStableOffset;
}

describe('transaction verification at the log (KIP-890 part 1)', () => {
  let root: string;
  let cleanup: () => Promise<void>;
  let n = 0;
  const open = async (): Promise<Log> => {
    const log = await openLog(path.join(root, `t-${n++}`));
    log.producerState.transactionVerificationEnabled = true;
    return log;
  };
  before(async () => ({ dir: root, cleanup } = await tempDir('strata-txn-verify-')));
  after(() => cleanup());

  it('a marker between the verification and the append voids the guard: refused, no transaction opened, LSO not stuck', async () => {
    const log = await open();
    // The produce path takes the guard, then the coordinator confirms the partition is in the transaction...
    const guard = log.producerState.maybeStartTransactionVerification(PID, 0, 0);
    assert.notEqual(guard, VerificationGuard.SENTINEL);
    // ...but before the append the transaction is aborted and its marker lands here.
    await log.append(marker('abort'), { origin: AppendOrigin.coordinator });
    const end = log.logEndOffset;
    // The late write must not start a transaction nobody will ever end.
    await refused(log.append(txn(0), { verificationGuard: guard }), 'INVALID_TXN_STATE');
    assert.equal(log.logEndOffset, end, 'nothing was written');
    assert.equal(log.producerState.hasOngoingTransaction(PID), false);
    assert.equal(log.producerState.firstUnstableOffset(), undefined);
    assert.equal(settledLso(log), log.logEndOffset);
    await log.close();
  });

  it('a newer verification supersedes an older guard; repeated verifications before the append share one', async () => {
    const log = await open();
    const first = log.producerState.maybeStartTransactionVerification(PID, 0, 0);
    assert.equal(log.producerState.maybeStartTransactionVerification(PID, 0, 0), first, 'a retry continues the same verification');
    await log.append(marker('abort'), { origin: AppendOrigin.coordinator });
    // The next transaction verifies again and gets a new guard (the ABA case: same producer, same epoch).
    const second = log.producerState.maybeStartTransactionVerification(PID, 0, 0);
    assert.notEqual(second, first);
    await refused(log.append(txn(0), { verificationGuard: first }), 'INVALID_TXN_STATE');
    const r = await log.append(txn(0), { verificationGuard: second });
    assert.equal(r.firstOffset, 1);
    assert.equal(log.producerState.hasOngoingTransaction(PID, 0), true);
    assert.equal(settledLso(log), 1, 'the verified transaction is open from its first offset');
    // The guard was spent by the write: it does not open a second transaction after the commit either.
    await log.append(marker('commit'), { origin: AppendOrigin.coordinator });
    await refused(log.append(txn(1), { verificationGuard: second }), 'INVALID_TXN_STATE');
    assert.equal(settledLso(log), log.logEndOffset);
    await log.close();
  });

  it('fast paths: an open transaction at the epoch needs no guard; non-transactional writes never do', async () => {
    const log = await open();
    // An idempotent (non-transactional) producer is not concerned.
    await log.append(batch(2, 10, { producerId: 99, producerEpoch: 0, baseSequence: 0 }));
    // Without any verification, a transactional write is refused; with the sentinel too.
    await refused(log.append(txn(0)), 'INVALID_TXN_STATE');
    await refused(log.append(txn(0), { verificationGuard: VerificationGuard.SENTINEL }), 'INVALID_TXN_STATE');
    const guard = log.producerState.maybeStartTransactionVerification(PID, 0, 0);
    await log.append(txn(0, 3), { verificationGuard: guard });
    // The transaction is open here at epoch 0: nothing to verify, no coordinator round trip.
    assert.equal(log.producerState.maybeStartTransactionVerification(PID, 3, 0), VerificationGuard.SENTINEL);
    await log.append(txn(3, 2));
    // Another epoch is verified again (its coordinator must vouch for it).
    assert.notEqual(log.producerState.maybeStartTransactionVerification(PID, 0, 1), VerificationGuard.SENTINEL);
    // Markers never need a guard.
    await log.append(marker('commit'), { origin: AppendOrigin.coordinator });
    assert.equal(settledLso(log), log.logEndOffset);
    // Switched off (transaction.partition.verification.enable=false), transactional writes go through as before.
    log.producerState.transactionVerificationEnabled = false;
    assert.equal(log.producerState.verificationStateEntry(PID), undefined, 'pending verifications are dropped');
    await log.append(txn(0, 1, 1));
    assert.equal(log.producerState.hasOngoingTransaction(PID, 1), true);
    await log.close();
  });

  it('while a verification is pending, a higher sequence of the producer cannot slip in first', async () => {
    const log = await open();
    const g0 = log.producerState.maybeStartTransactionVerification(PID, 0, 0);
    await log.append(txn(0, 5), { verificationGuard: g0 });
    await log.append(marker('commit'), { origin: AppendOrigin.coordinator });
    // Two pipelined requests of the next transaction, sequences 5 and 6, both verifying.
    const a = log.producerState.maybeStartTransactionVerification(PID, 5, 0);
    const b = log.producerState.maybeStartTransactionVerification(PID, 6, 0);
    assert.equal(a, b);
    // The coordinator answers the second one first: it must wait for sequence 5.
    await refused(log.append(txn(6), { verificationGuard: b }), 'OUT_OF_ORDER_SEQUENCE_NUMBER');
    await log.append(txn(5), { verificationGuard: a });
    await log.append(txn(6)); // the retry: the transaction is open now
    assert.equal(log.producerState.lastEntry(PID)!.lastSeq, 6);
    await log.close();
  });

  it('any interleaving of verifications, markers and late appends: a write is taken only with a live guard or an open transaction', async () => {
    type Op = { kind: 'verify' } | { kind: 'marker' } | { kind: 'append'; guard: number };
    const op = fc.oneof(
      fc.constant<Op>({ kind: 'verify' }),
      fc.constant<Op>({ kind: 'marker' }),
      fc.nat({ max: 7 }).map<Op>((guard) => ({ kind: 'append', guard })),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 25 }), async (ops) => {
        const log = await open();
        try {
          // The model: the guard handed out since the last spend, and whether a transaction is open.
          const guards: VerificationGuard[] = [];
          let live: VerificationGuard | undefined;
          let open = false;
          let seq = 0;
          for (const o of ops) {
            if (o.kind === 'verify') {
              const g = log.producerState.maybeStartTransactionVerification(PID, seq, 0);
              if (open) assert.equal(g, VerificationGuard.SENTINEL);
              else {
                if (live !== undefined) assert.equal(g, live);
                live = g;
              }
              guards.push(g);
            } else if (o.kind === 'marker') {
              await log.append(marker('abort'), { origin: AppendOrigin.coordinator });
              open = false;
              live = undefined;
            } else {
              const g = guards[o.guard % Math.max(1, guards.length)] ?? VerificationGuard.SENTINEL;
              const ok = open || (live !== undefined && g === live);
              if (ok) {
                await log.append(txn(seq), { verificationGuard: g });
                seq++;
                open = true;
                live = undefined;
              } else {
                await refused(log.append(txn(seq), { verificationGuard: g }), 'INVALID_TXN_STATE');
              }
            }
            assert.equal(log.producerState.hasOngoingTransaction(PID), open);
          }
          assert.equal(settledLso(log) === log.logEndOffset, !open, 'the LSO is held back exactly by an open transaction');
        } finally {
          await log.close();
        }
      }),
      { numRuns: 40 },
    );
  });
});
