import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { FileQuorumStateStore, formatQuorumState, parseQuorumState } from '../../src/raft/quorum-state.js';
import { isStrataError } from '../../src/protocol/strata-error.js';

describe('quorum-state', () => {
  test('is written as Kafka writes data_version 0', () => {
    assert.equal(
      formatQuorumState({ leaderEpoch: 3, leaderId: 1, votedId: 1, voters: [1] }),
      '{"clusterId":"","leaderId":1,"leaderEpoch":3,"votedId":1,"appliedOffset":0,"currentVoters":[{"voterId":1}],"data_version":0}',
    );
  });

  test('reads Kafka files of data_version 0 and 1', () => {
    assert.deepEqual(parseQuorumState('{"clusterId":"","leaderId":1,"leaderEpoch":2,"votedId":-1,"appliedOffset":0,"currentVoters":[],"data_version":0}\n'),
      { leaderEpoch: 2, leaderId: 1, votedId: -1, voters: [] });
    assert.deepEqual(parseQuorumState('{"leaderId":-1,"leaderEpoch":2,"votedId":1,"votedDirectoryId":"J8aAPcfLQt2bqs1JT_rMgQ","data_version":1}'),
      { leaderEpoch: 2, leaderId: -1, votedId: 1, voters: [] });
  });

  test('refuses what it cannot trust', () => {
    for (const text of ['', 'nope', '[]', '{"leaderId":1,"leaderEpoch":2,"votedId":1}', '{"leaderId":1,"leaderEpoch":2,"votedId":1,"data_version":2}',
      '{"leaderId":"1","leaderEpoch":2,"votedId":1,"data_version":0}', '{"leaderId":1,"leaderEpoch":2.5,"votedId":1,"data_version":1}']) {
      assert.throws(() => parseQuorumState(text), (e) => isStrataError(e, 'ERR_CORRUPT_FILE'), text);
    }
  });

  test('the file store round-trips and reports a missing file as no state', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'strata-qs-'));
    try {
      const store = new FileQuorumStateStore(path.join(dir, 'quorum-state'));
      assert.equal(await store.read(), undefined);
      await store.write({ leaderEpoch: 7, leaderId: 2, votedId: 2, voters: [2] });
      assert.deepEqual(await store.read(), { leaderEpoch: 7, leaderId: 2, votedId: 2, voters: [2] });
      assert.deepEqual(await fs.readdir(dir), ['quorum-state']);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
