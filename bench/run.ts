// `npm run bench` (about 10 minutes) and `npm run bench -- --quick` (about 2): issue 6's scenarios against a
// `strata start` process with librdkafka's rdkafka_performance, alternating in the same run with the two
// references (librdkafka's mock cluster, a raw TCP floor). Prints a table; writes bench/results/latest.json
// (and a dated copy) and bench/results/latest.svg.
//
// Options: --quick; --only <id,id>; --systems <strata,mock,floor>; --rounds <n>;
//          --profile (broker runs with --cpu-prof; a summary of the hot functions is printed and kept).
// A run narrowed by any option but --quick writes its results to bench/results/tmp/ instead.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { analyzeProfile, renderProfile } from './lib/cpu-profile.js';
import { sampledPhases } from './lib/proc-stats.js';
import { rdkafkaPerformance } from './lib/rdkafka-perf.js';
import { buildStrata } from './lib/strata-process.js';
import { checkGoals, renderTable, summarize } from './lib/report.js';
import { FULL, QUICK, SCENARIOS, type Measurement } from './lib/scenarios.js';
import { renderSvg } from './lib/svg-chart.js';
import { SYSTEMS, type BenchEnv, type System } from './lib/systems.js';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const resultsDir = join(repoRoot, 'bench', 'results');

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    systems: { type: 'string' },
    rounds: { type: 'string' },
    profile: { type: 'boolean', default: false },
  },
});

const log = (line: string): void => {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
};

function librdkafkaVersion(bin: string): string {
  try {
    execFileSync(bin, ['-h'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const out = String((err as { stdout?: string }).stdout ?? '') + String((err as { stderr?: string }).stderr ?? '');
    return /librdkafka version (\S+)/.exec(out)?.[1] ?? 'unknown';
  }
  return 'unknown';
}

/**
 * Writes every dirty page to disk before a system's turn. Without it the kernel writes one run's data back
 * about 30 s later (dirty_expire_centisecs), during whichever system runs then, which on a small machine
 * charges one system's disk work to another's figures.
 */
function flushDirtyPages(): number {
  const t0 = performance.now();
  execFileSync('sync', [], { stdio: 'ignore' });
  return performance.now() - t0;
}

async function main(): Promise<void> {
  const sizes = { ...(args.quick ? QUICK : FULL), ...(args.rounds === undefined ? {} : { rounds: Number(args.rounds) }) };
  const only = args.only?.split(',').map((s) => s.trim());
  const systems = (args.systems?.split(',').map((s) => s.trim()) ?? [...SYSTEMS]) as System[];
  for (const s of systems) if (!SYSTEMS.includes(s)) throw new Error(`unknown system '${s}' (${SYSTEMS.join(', ')})`);
  const scenarios = SCENARIOS.filter((s) => only === undefined || only.includes(s.id) || (s.id === 'restart' && only.includes('consume-catchup')));
  if (scenarios.length === 0) throw new Error(`no scenario matches --only ${args.only}; ids: ${SCENARIOS.map((s) => s.id).join(', ')}`);

  log('locating rdkafka_performance (built once into ~/.cache/strata-bench)');
  const bin = rdkafkaPerformance(repoRoot);
  if (systems.includes('strata')) {
    log('compiling Strata into dist/ (what npm start runs)');
    buildStrata(repoRoot);
  }
  const startedAt = new Date();
  const workDir = await mkdtemp(join(tmpdir(), 'strata-bench-'));
  const profileDir = args.profile ? join(resultsDir, 'tmp', `profiles-${startedAt.toISOString().replace(/[:.]/g, '-')}`) : undefined;
  if (profileDir !== undefined) mkdirSync(profileDir, { recursive: true });
  const env: BenchEnv = { repoRoot, bin, workDir, profileDir, log };
  const machine = {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    librdkafka: librdkafkaVersion(bin),
    loadAverageAtStart: loadavg().map((x) => Number(x.toFixed(2))),
  };
  log(`${args.quick ? 'quick' : 'full'} run, ${sizes.rounds} round(s), on ${machine.cores} x ${machine.cpu}, load ${machine.loadAverageAtStart.join(' ')}`);

  const measurements: Measurement[] = [];
  try {
    for (let round = 0; round < sizes.rounds; round++) {
      for (const sc of scenarios.filter((s) => s.derived !== true)) {
        // Alternate the order each round so slow drift of a shared machine does not favour one system.
        const order = sc.systems.filter((s) => systems.includes(s));
        if (round % 2 === 1) order.reverse();
        for (const system of order) {
          const flushMs = flushDirtyPages();
          const t0 = performance.now();
          log(`round ${round + 1}: ${sc.id} on ${system} (dirty pages flushed in ${flushMs.toFixed(0)} ms)`);
          try {
            const ms = await sc.run(env, sizes, system, round);
            measurements.push(...ms);
            for (const m of ms) {
              const figure = m.latency?.endToEnd !== undefined ? `p99 ${(m.latency.endToEnd.p99Us / 1000).toFixed(2)} ms` : m.mbPerSec !== undefined ? `${m.mbPerSec.toFixed(1)} MB/s` : m.ms !== undefined ? `${m.ms.toFixed(0)} ms` : '';
              const cpu = m.usage === undefined ? '' : `, CPU ${m.usage.cpuSeconds.toFixed(2)} s`;
              log(`  ${m.scenario} ${system}: ${figure}${cpu}${m.error === undefined ? '' : ` ERROR ${m.error.split('\n')[0]}`}`);
            }
          } catch (err) {
            const message = (err as Error).stack ?? String(err);
            log(`  ${sc.id} ${system} failed: ${message.split('\n')[0]}`);
            measurements.push({ scenario: sc.id, system, round, error: message });
          }
          log(`  (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
        }
      }
    }
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }

  const reports = summarize(scenarios, measurements);
  const goals = checkGoals(reports);
  const finishedAt = new Date();
  const loadAverageAtEnd = loadavg().map((x) => Number(x.toFixed(2)));
  const caption = `${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC, ${args.quick ? 'quick' : 'full'} run; ${machine.cores} x ${machine.cpu}, ${machine.memoryGiB} GiB, Linux ${machine.kernel}, Node ${machine.node}, librdkafka ${machine.librdkafka}; load average ${machine.loadAverageAtStart.join(' ')} at start, ${loadAverageAtEnd.join(' ')} at end`;
  const result = {
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    mode: args.quick ? 'quick' : 'full',
    units: { mbPerSec: '10^6 bytes per second', latency: 'microseconds', rss: 'bytes' },
    machine: { ...machine, loadAverageAtEnd },
    sizes,
    goals,
    scenarios: reports,
    measurements,
  };
  // Only a complete run replaces latest.*; a partial one (--only, --systems, --rounds, --profile) goes to tmp/.
  const partial = only !== undefined || args.systems !== undefined || args.rounds !== undefined || args.profile === true;
  const outDir = partial ? join(resultsDir, 'tmp') : resultsDir;
  mkdirSync(outDir, { recursive: true });
  const json = `${JSON.stringify(result, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`;
  const stamp = `${startedAt.toISOString().slice(0, 16).replace(':', '')}${args.quick ? '-quick' : ''}${partial ? '-partial' : ''}`;
  const written = partial ? [`${stamp}.json`, `${stamp}.svg`] : ['latest.json', `${stamp}.json`, 'latest.svg'];
  for (const name of written) writeFileSync(join(outDir, name), name.endsWith('.svg') ? renderSvg(reports, caption) : json);

  process.stdout.write(`\n${caption}\n\n${renderTable(reports, goals)}\n`);
  const rel = partial ? 'bench/results/tmp' : 'bench/results';
  process.stdout.write(`\nwrote ${written.map((n) => `${rel}/${n}`).join(', ')} (${((finishedAt.getTime() - startedAt.getTime()) / 1000).toFixed(0)} s)\n`);

  if (profileDir !== undefined) {
    const texts: string[] = [];
    for (const broker of readdirSync(profileDir, { withFileTypes: true }).filter((d) => d.isDirectory())) {
      const dir = join(profileDir, broker.name);
      for (const f of readdirSync(dir).filter((n) => n.endsWith('.cpuprofile'))) {
        // Node names profiles CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile.
        const pid = Number(f.split('.')[3]);
        const phases = sampledPhases.filter((w) => w.pid === pid);
        for (const label of new Set(phases.map((w) => w.label))) {
          const a = await analyzeProfile(join(dir, f), repoRoot, phases.filter((w) => w.label === label));
          // tsx's module-loader thread only compiles sources at startup; the broker's work is on the main thread.
          if (a.functions.some((fn) => fn.fn.startsWith('handleMessage node:internal/modules/esm/worker') && fn.totalMs > a.totalMs * 0.01)) continue;
          if (!a.functions.some((fn) => !fn.fn.startsWith('(') && fn.totalMs >= 1)) continue;
          texts.push(renderProfile(`${label} — ${broker.name}/${f}`, a));
        }
      }
    }
    writeFileSync(join(profileDir, 'summary.txt'), `${texts.join('\n\n')}\n`);
    process.stdout.write(`\nCPU profiles in ${profileDir} (summary.txt):\n\n${texts.join('\n\n')}\n`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
