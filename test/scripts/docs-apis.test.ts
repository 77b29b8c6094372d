// The README's table of supported APIs is generated from what a live node advertises; this keeps the two
// from drifting apart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { renderTable, replaceTable } from '../../scripts/docs-apis.js';

const run = promisify(execFile);

test('the README lists exactly the API versions the broker advertises', { timeout: 60_000 }, async () => {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'scripts/docs-apis.ts', '--check']);
  assert.match(stdout, /up to date/);
});

test('the table shows our range beside Kafka 3.9\'s', () => {
  const table = renderTable(new Map([[0, { minVersion: 3, maxVersion: 11 }], [61, { minVersion: 0, maxVersion: 0 }]]));
  assert.match(table, /\| 0 \| Produce \| 3–11 \| 0–11 \|/);
  assert.match(table, /\| 61 \| DescribeProducers \| 0 \| 0 \|/);
  assert.throws(() => replaceTable('no markers here', table), /no <!-- apis:begin/);
});
