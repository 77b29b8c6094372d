import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkGoals, renderTable, summarize } from '../../../bench/lib/report.js';
import { SCENARIOS, type Measurement } from '../../../bench/lib/scenarios.js';
import { renderSvg } from '../../../bench/lib/svg-chart.js';

const MiB = 1024 * 1024;
const usage = (rssMiB: number) => ({ peakRssBytes: rssMiB * MiB, cpuSeconds: 1 });
const lat = (p99Us: number) => ({ count: 100, minUs: 100, meanUs: 900, p50Us: 800, p90Us: 1000, p99Us, p999Us: p99Us * 2, p9999Us: p99Us * 3, maxUs: p99Us * 4 });

const MEASUREMENTS: Measurement[] = [
  { scenario: 'produce-1k', system: 'strata', round: 0, mbPerSec: 300, msgsPerSec: 293_000, usage: usage(200) },
  { scenario: 'produce-1k', system: 'strata', round: 1, mbPerSec: 500, msgsPerSec: 488_000, usage: usage(300) },
  { scenario: 'produce-1k', system: 'strata', round: 2, mbPerSec: 100, error: 'producer delivered 10/100' },
  { scenario: 'produce-1k', system: 'mock', round: 0, mbPerSec: 800, usage: usage(40) },
  { scenario: 'produce-1k', system: 'floor', round: 0, mbPerSec: 400, usage: usage(100) },
  { scenario: 'consume-catchup', system: 'strata', round: 0, mbPerSec: 450, usage: usage(150), extra: { fillPeakRssBytes: 600 * MiB } },
  { scenario: 'consume-catchup', system: 'mock', round: 0, mbPerSec: 1000, usage: usage(500) },
  { scenario: 'e2e-latency', system: 'strata', round: 0, mbPerSec: 10, latency: { endToEnd: lat(4000), produceAck: lat(2000) }, usage: usage(150) },
];

test('medians over rounds skip failed rounds; ratios are Strata over each reference', () => {
  const reports = summarize(SCENARIOS, MEASUREMENTS);
  const produce = reports.find((r) => r.id === 'produce-1k')!;
  assert.equal(produce.systems.strata?.mbPerSec, 400);
  assert.equal(produce.systems.strata?.errors.length, 1);
  assert.equal(produce.ratios.vsMock, 0.5);
  assert.equal(produce.ratios.vsFloor, 1);
  // The RSS peak is the worst round's.
  assert.equal(produce.systems.strata?.peakRssBytes, 300 * MiB);
});

test('goals: ratios, the p99 ceiling, and the RSS ceiling over every phase', () => {
  const goals = checkGoals(summarize(SCENARIOS, MEASUREMENTS));
  const by = (prefix: string) => goals.find((g) => g.name.startsWith(prefix))!;
  assert.equal(by('produce acks=1 vs mock').pass, true);
  assert.equal(by('produce acks=1 vs raw floor').pass, true);
  assert.equal(by('catch-up consume').pass, false);
  assert.equal(by('end-to-end p99').pass, true);
  // The catch-up's fill phase went over 512 MiB even though its consume phase did not.
  assert.equal(by('broker peak RSS').pass, false);
  assert.match(by('broker peak RSS').actual, /600 MiB \(consume-catchup\)/);
});

test('missing data is unknown, not a pass', () => {
  const goals = checkGoals(summarize(SCENARIOS, []));
  assert.ok(goals.every((g) => g.pass === null));
});

test('the table and the chart carry the figures', () => {
  const reports = summarize(SCENARIOS, MEASUREMENTS);
  const table = renderTable(reports, checkGoals(reports));
  assert.match(table, /produce-1k\s+400\.0/);
  assert.match(table, /\[MISS\] catch-up consume vs mock cluster \(MB\/s\): 45%/);
  const svg = renderSvg(reports, 'test machine');
  assert.match(svg, /^<svg /);
  assert.match(svg, /test machine/);
  assert.match(svg, /Strata end-to-end/);
  assert.ok(svg.trimEnd().endsWith('</svg>'));
});
