// The KRaft log's own control records. A leader writes a LeaderChangeMessage at the start of its epoch
// (as Kafka's KafkaRaftClient does), so the log itself records who led each epoch and from where.
import {
  decodeLeaderChangeMessage,
  encodeLeaderChangeMessage,
  type LeaderChangeMessage,
} from '../protocol/generated/data/leader-change-message.js';
import { buildBatchSync } from '../protocol/records/builder.js';
import { ControlRecordType, decodeControlRecordKey, encodeControlRecordKey } from '../protocol/records/record.js';
import { Reader } from '../protocol/reader.js';
import { Writer } from '../protocol/writer.js';
import { ZERO_UUID } from '../protocol/codec-runtime.js';

/** A control batch holding one LeaderChangeMessage (version 0: static voters). */
export function leaderChangeBatch(opts: { leaderId: number; voters: readonly number[]; epoch: number; baseOffset: number; timestamp: number }): Buffer {
  const voters = opts.voters.map((voterId) => ({ voterId, voterDirectoryId: ZERO_UUID }));
  const msg: LeaderChangeMessage = { version: 0, leaderId: opts.leaderId, voters, grantingVoters: voters };
  const w = new Writer(32);
  encodeLeaderChangeMessage(w, 0, msg);
  return buildBatchSync([{ key: encodeControlRecordKey(ControlRecordType.LEADER_CHANGE), value: w.toBuffer() }], {
    baseOffset: opts.baseOffset,
    partitionLeaderEpoch: opts.epoch,
    timestamp: opts.timestamp,
    control: true,
  });
}

/** The LeaderChangeMessage of a control record, or undefined for other control record types. */
export function readLeaderChange(key: Buffer | null, value: Buffer | null): LeaderChangeMessage | undefined {
  const k = decodeControlRecordKey(key);
  if (k.type !== ControlRecordType.LEADER_CHANGE || value === null) return undefined;
  const r = new Reader(value);
  const version = r.int16('version');
  return decodeLeaderChangeMessage(new Reader(value), Math.min(Math.max(version, 0), 1));
}
