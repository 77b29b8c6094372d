#!/usr/bin/env node
// Runs the whole suite with node:test. Installs the third-party clients the compatibility tests
// need first (Debian packages, when running as root and they are missing), then runs every
// test/**/*.test.ts file through tsx so no build step is needed.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);
const skipIntegration = args.includes('--skip-integration');
const filters = args.filter((a) => !a.startsWith('--'));

if (!skipIntegration && existsSync('scripts/install-test-deps.sh')) {
  const r = spawnSync('bash', ['scripts/install-test-deps.sh'], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

let files = walk('test', []).sort();
if (skipIntegration) files = files.filter((f) => !f.includes('/integration/') && !f.includes('/compat/'));
if (filters.length > 0) files = files.filter((f) => filters.some((x) => f.includes(x)));
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}

const concurrency = process.env.STRATA_TEST_CONCURRENCY ?? '2';
// The suite takes about four minutes; far past that something hangs, and a failed run says so sooner.
const SUITE_TIMEOUT_MS = 45 * 60_000;
// A file's process ends once its tests have (--test-force-exit), even if a failed test left a child process
// or a socket behind, and a test without its own timeout gets ten minutes: one hang must not stall the suite.
const r = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-force-exit', '--test-timeout=600000', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files],
  { stdio: 'inherit', env: { ...process.env, NODE_ENV: 'test' }, timeout: SUITE_TIMEOUT_MS, killSignal: 'SIGKILL' },
);
if (r.error?.code === 'ETIMEDOUT') console.error(`the test suite did not finish within ${SUITE_TIMEOUT_MS / 60_000} minutes and was stopped`);
process.exit(r.status ?? 1);
