// Long-running hostile-input fuzzing of a Strata listener: the generator of test/integration/hostile.test.ts
// for as long as you like. Starts its own `strata start` unless --broker is given.
//
//   npm run fuzz -- --duration 600 --seed 42
//   npm run fuzz -- --broker 127.0.0.1:9092 --duration 60
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { ApiVersionsApi } from '../src/protocol/generated/apis.js';
import { startStrata, type StrataProcess } from '../test/integration/helpers/strata-process.js';
import { WireClient } from '../test/integration/helpers/wire.js';
import { checkOutcome, makeCase, rng, runCase } from '../test/integration/helpers/hostile.js';

const opts = new Command('fuzz')
  .option('--duration <seconds>', 'how long to run', (v) => Number(v), 60)
  .option('--seed <n>', 'seed of the case generator (default: random)', (v) => Number(v))
  .option('--broker <host:port>', 'fuzz a running broker instead of starting one')
  .option('--concurrency <n>', 'connections in parallel', (v) => Number(v), 32)
  .option('--wait-ms <ms>', 'how long to watch each connection for answers', (v) => Number(v), 300)
  .parse()
  .opts<{ duration: number; seed?: number; broker?: string; concurrency: number; waitMs: number }>();

const seed = opts.seed ?? Math.floor(Math.random() * 2 ** 31);
let strata: StrataProcess | undefined;
let port: number;
if (opts.broker === undefined) {
  strata = await startStrata();
  port = strata.port;
} else {
  port = Number(opts.broker.split(':').pop());
}
const rssMiB = (): number => {
  if (strata === undefined) return 0;
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${strata.pid}/status`, 'utf8'));
  return m === null ? 0 : Math.round(Number(m[1]) / 1024);
};

console.log(JSON.stringify({ msg: 'fuzzing', seed, port, durationSeconds: opts.duration }));
const deadline = Date.now() + opts.duration * 1000;
const random = rng(seed);
const kinds = new Map<string, number>();
const problems: string[] = [];
let cases = 0;
let maxRss = 0;

const healthy = await WireClient.connect(port);
const watcher = (async () => {
  let cid = 0;
  while (Date.now() < deadline && problems.length === 0) {
    try {
      const res = await healthy.request(ApiVersionsApi, 3, { clientSoftwareName: 'healthy', clientSoftwareVersion: '1' }, ++cid);
      if (res.correlationId !== cid || res.body.errorCode !== 0) problems.push(`healthy connection got a wrong answer (cid ${res.correlationId})`);
    } catch (err) {
      problems.push(`healthy connection failed: ${(err as Error).message}`);
    }
    maxRss = Math.max(maxRss, rssMiB());
    await new Promise((r) => setTimeout(r, 100));
  }
})();

const worker = async (): Promise<void> => {
  while (Date.now() < deadline && problems.length === 0) {
    const index = cases++;
    const c = makeCase(random);
    kinds.set(c.kind, (kinds.get(c.kind) ?? 0) + 1);
    const outcome = await runCase(port, c, opts.waitMs);
    outcome.socket.destroy();
    const why = checkOutcome(c, outcome);
    if (why !== undefined) problems.push(`case ${index} (${c.kind}, ${c.bytes.toString('hex').slice(0, 200)}): ${why}`);
    if (strata !== undefined && strata.child.exitCode !== null) problems.push(`server exited with ${strata.child.exitCode}`);
  }
};
await Promise.all(Array.from({ length: opts.concurrency }, worker));
await watcher;
healthy.close();
const exitCode = strata === undefined ? null : await strata.stop();
await strata?.cleanup();
console.log(JSON.stringify({ msg: 'done', seed, cases, maxRssMiB: maxRss, kinds: Object.fromEntries(kinds), serverExitCode: exitCode, problems }));
process.exit(problems.length === 0 && (exitCode === null || exitCode === 0) ? 0 : 1);
