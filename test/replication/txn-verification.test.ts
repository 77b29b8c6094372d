// KIP-890 part 1 through the ReplicaManager: the guard a partition hands out travels with the append
// (ProduceEntry.verificationGuard → Partition → Log) and is refused once a marker overtook it;
// transaction.partition.verification.enable switches the check for every hosted partition.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../src/protocol/errors.js';
import { buildControlBatch } from '../../src/protocol/records/builder.js';
import { ReplicaError } from '../../src/replication/errors.js';
import { VerificationGuard } from '../../src/storage/producer-state.js';
import { fixture, lead, records } from './helpers.js';

const PID = 11;
const txn = (seq: number, epoch = 0): Buffer => records([`v${seq}`], { producerId: PID, producerEpoch: epoch, baseSequence: seq, transactional: true });
const abort = (): Buffer => buildControlBatch({ type: 'abort', producerId: PID, producerEpoch: 0, coordinatorEpoch: 0 });

test('the guard travels with the append: a marker in between voids it, the next verification works', async () => {
  const f = await fixture({ transactionVerificationEnabled: true });
  try {
    const p = await lead(f.rm, 't');
    assert.equal(p.log.producerState.transactionVerificationEnabled, true);
    const append = async (buf: Buffer, guard?: VerificationGuard, origin?: 'coordinator') => {
      const [r] = await f.rm.appendRecords({
        entries: [{ topic: 't', partition: 0, records: buf, ...(guard ? { verificationGuard: guard } : {}) }],
        requiredAcks: -1, timeoutMs: 1000, ...(origin ? { origin } : {}),
      });
      return r!.errorCode;
    };
    const stale = f.rm.maybeStartTransactionVerification('t', 0, PID, 0, 0);
    assert.notEqual(stale, VerificationGuard.SENTINEL);
    assert.equal(await append(abort(), undefined, 'coordinator'), ErrorCode.NONE);
    assert.equal(await append(txn(0), stale), ErrorCode.INVALID_TXN_STATE);
    assert.equal(await append(txn(0)), ErrorCode.INVALID_TXN_STATE, 'an unverified write is refused too');
    assert.equal(p.log.lastStableOffset, p.log.logEndOffset, 'no transaction holds the LSO');

    const fresh = f.rm.maybeStartTransactionVerification('t', 0, PID, 0, 0);
    assert.equal(await append(txn(0), fresh), ErrorCode.NONE);
    assert.equal(f.rm.maybeStartTransactionVerification('t', 0, PID, 1, 0), VerificationGuard.SENTINEL);
    assert.equal(await append(txn(1)), ErrorCode.NONE);
    assert.equal(p.log.lastStableOffset, 1, 'the verified transaction is open');
    // Idempotent producers without transactions are not concerned.
    const [plain] = await f.rm.appendRecords({ entries: [{ topic: 't', partition: 0, records: records(['x'], { producerId: 12, producerEpoch: 0, baseSequence: 0 }) }], requiredAcks: 1, timeoutMs: 1000 });
    assert.equal(plain!.errorCode, ErrorCode.NONE);
  } finally {
    await f.close();
  }
});

test('verification is off unless enabled; the switch applies to hosted partitions; only a hosted leader hands out guards', async () => {
  const f = await fixture();
  try {
    const p = await lead(f.rm, 't');
    assert.equal(f.rm.transactionVerificationEnabled, false);
    assert.equal(f.rm.maybeStartTransactionVerification('t', 0, PID, 0, 0), VerificationGuard.SENTINEL, 'nothing to verify when off');
    const [r] = await f.rm.appendRecords({ entries: [{ topic: 't', partition: 0, records: txn(0) }], requiredAcks: 1, timeoutMs: 1000 });
    assert.equal(r!.errorCode, ErrorCode.NONE);

    f.rm.transactionVerificationEnabled = true;
    assert.equal(p.log.producerState.transactionVerificationEnabled, true);
    const q = await lead(f.rm, 'u');
    assert.equal(q.log.producerState.transactionVerificationEnabled, true, 'partitions created later follow the switch');
    assert.throws(() => f.rm.maybeStartTransactionVerification('nope', 0, PID, 0, 0),
      (e: unknown) => e instanceof ReplicaError && e.errorCode === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    q.makeFollower(99, 1);
    assert.throws(() => f.rm.maybeStartTransactionVerification('u', 0, PID, 0, 0),
      (e: unknown) => e instanceof ReplicaError && e.errorCode === ErrorCode.NOT_LEADER_OR_FOLLOWER);
  } finally {
    await f.close();
  }
});
