// Thousands of hostile inputs against a live `strata start` process. Throughout, a separate healthy
// connection keeps getting correct ApiVersions answers, the process never exits, and its memory stays
// bounded even while many connections announce 100 MiB frames they never finish.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { ApiVersionsApi } from '../../src/protocol/generated/apis.js';
import { startStrata } from './helpers/strata-process.js';
import { WireClient } from './helpers/wire.js';
import { checkOutcome, makeCase, rng, runCase } from './helpers/hostile.js';

const SEED = Number(process.env.STRATA_HOSTILE_SEED ?? 20261122);
const CASES = Number(process.env.STRATA_HOSTILE_CASES ?? 3000);
const CONCURRENCY = 24;
const WAIT_MS = 300;
const RSS_LIMIT_KIB = 300 * 1024;

const rssKiB = (pid: number): number => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m === null ? 0 : Number(m[1]);
};

test(`${CASES} hostile cases (seed ${SEED}) leave the server healthy and bounded`, { timeout: 120_000 }, async (t) => {
  const strata = await startStrata();
  const healthy = await WireClient.connect(strata.port);
  let healthyAnswers = 0;
  let maxRss = 0;
  let stop = false;
  const problems: string[] = [];

  // The healthy client and the memory probe run alongside the attack.
  const watcher = (async () => {
    let cid = 0;
    while (!stop) {
      const res = await healthy.request(ApiVersionsApi, 3, { clientSoftwareName: 'healthy', clientSoftwareVersion: '1' }, ++cid);
      if (res.correlationId !== cid || res.body.errorCode !== 0 || !res.body.apiKeys.some((k) => k.apiKey === 18)) {
        problems.push(`healthy connection got a wrong answer: ${JSON.stringify(res.correlationId)}`);
      }
      healthyAnswers++;
      maxRss = Math.max(maxRss, rssKiB(strata.pid));
      await new Promise((r) => setTimeout(r, 50));
    }
  })();

  const random = rng(SEED);
  const held: Socket[] = [];
  const kinds = new Map<string, number>();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < CASES) {
      const index = next++;
      const c = makeCase(random);
      kinds.set(c.kind, (kinds.get(c.kind) ?? 0) + 1);
      const outcome = await runCase(strata.port, c, WAIT_MS);
      const why = checkOutcome(c, outcome);
      if (why !== undefined) problems.push(`case ${index} (${c.kind}, ${c.bytes.subarray(0, 48).toString('hex')}): ${why}`);
      if (c.hold === true && !outcome.closedByServer) held.push(outcome.socket);
      else outcome.socket.destroy();
      if (strata.child.exitCode !== null) problems.push(`server exited with ${strata.child.exitCode} at case ${index}`);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  maxRss = Math.max(maxRss, rssKiB(strata.pid));
  stop = true;
  await watcher;

  t.diagnostic(`healthy answers ${healthyAnswers}, peak RSS ${Math.round(maxRss / 1024)} MiB, partial frames held ${held.length}`);
  t.diagnostic(`cases: ${[...kinds].map(([k, n]) => `${k} ${n}`).join(', ')}`);
  try {
    assert.deepEqual(problems.slice(0, 20), []);
    assert.equal(strata.child.exitCode, null, 'the server is still running');
    assert.ok(healthyAnswers > 10, `healthy connection answered ${healthyAnswers} times`);
    assert.ok(held.length > 0, 'some connections held partial frames open');
    assert.ok(maxRss < RSS_LIMIT_KIB, `RSS peaked at ${Math.round(maxRss / 1024)} MiB with ${held.length} partial frames held`);
    assert.ok(kinds.size >= 10, `case kinds exercised: ${[...kinds.keys()].join(', ')}`);
  } finally {
    for (const s of held) s.destroy();
    healthy.close();
    assert.equal(await strata.stop(), 0);
    await strata.cleanup();
  }
});
