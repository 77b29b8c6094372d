// The `quorum-state` file: a voter's durable election state (epoch, vote, known leader), which it must
// never forget across restarts or it could vote twice in one epoch. The format is Kafka's
// FileQuorumStateStore: one line of JSON holding the QuorumStateData fields of the written version
// plus `data_version`. We write version 0 (static voters, kraft.version 0) and read 0 and 1.
import fs from 'node:fs/promises';
import { StrataError } from '../protocol/strata-error.js';
import { writeFileAtomic } from '../storage/atomic-file.js';

export const QUORUM_STATE_FILE = 'quorum-state';

export interface ElectionState {
  readonly leaderEpoch: number;
  /** -1 when no leader is known in this epoch. */
  readonly leaderId: number;
  /** -1 when this voter has not voted in this epoch. */
  readonly votedId: number;
  /** The voter set (version 0 files record it; empty when unknown). */
  readonly voters: readonly number[];
}

export interface QuorumStateStore {
  read(): Promise<ElectionState | undefined>;
  write(state: ElectionState): Promise<void>;
}

/** The file's content as Kafka writes data_version 0 (field order included). */
export function formatQuorumState(state: ElectionState): string {
  return JSON.stringify({
    clusterId: '',
    leaderId: state.leaderId,
    leaderEpoch: state.leaderEpoch,
    votedId: state.votedId,
    appliedOffset: 0,
    currentVoters: state.voters.map((voterId) => ({ voterId })),
    data_version: 0,
  });
}

function corrupt(message: string): StrataError {
  return new StrataError('ERR_CORRUPT_FILE', `quorum-state: ${message}`);
}

const int32 = (o: Record<string, unknown>, key: string): number => {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < -(2 ** 31) || v >= 2 ** 31) throw corrupt(`${key} is not an int32`);
  return v;
};

/** Parses data_version 0 or 1; anything else is ERR_CORRUPT_FILE. */
export function parseQuorumState(text: string): ElectionState {
  const line = text.split('\n', 1)[0]!;
  let o: unknown;
  try {
    o = JSON.parse(line);
  } catch (cause) {
    throw new StrataError('ERR_CORRUPT_FILE', `quorum-state: not JSON: ${(cause as Error).message}`, { cause });
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw corrupt('not a JSON object');
  const obj = o as Record<string, unknown>;
  const version = obj.data_version;
  if (version !== 0 && version !== 1) throw corrupt(`data_version ${JSON.stringify(version)} is not 0 or 1`);
  let voters: number[] = [];
  if (version === 0 && Array.isArray(obj.currentVoters)) {
    voters = obj.currentVoters.map((v: unknown) => {
      if (typeof v !== 'object' || v === null) throw corrupt('currentVoters holds a non-object');
      return int32(v as Record<string, unknown>, 'voterId');
    });
  }
  return {
    leaderEpoch: int32(obj, 'leaderEpoch'),
    leaderId: int32(obj, 'leaderId'),
    votedId: int32(obj, 'votedId'),
    voters,
  };
}

export class FileQuorumStateStore implements QuorumStateStore {
  readonly path: string;

  constructor(path: string) {
    this.path = path;
  }

  async read(): Promise<ElectionState | undefined> {
    let text: string;
    try {
      text = await fs.readFile(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new StrataError('ERR_STORAGE', `cannot read ${this.path}: ${(e as Error).message}`, { cause: e });
    }
    return parseQuorumState(text);
  }

  /** Written through a temporary file, fsynced and renamed, as Kafka does. */
  write(state: ElectionState): Promise<void> {
    return writeFileAtomic(this.path, formatQuorumState(state));
  }
}

/** A quorum-state store in memory, for deterministic tests and simulations. */
export class MemoryQuorumStateStore implements QuorumStateStore {
  state: ElectionState | undefined;
  writes = 0;

  read(): Promise<ElectionState | undefined> {
    return Promise.resolve(this.state);
  }

  write(state: ElectionState): Promise<void> {
    this.state = state;
    this.writes++;
    return Promise.resolve();
  }
}
