import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DirtyPageWatch, parseVmstat } from '../../src/storage/dirty-pages.js';
import { tempDir } from './helpers.js';

function vmstat(dirty: number, writeback: number, threshold = 1_000_000, background = 500_000): string {
  return [
    'nr_free_pages 4000000',
    `nr_dirty ${dirty}`,
    `nr_writeback ${writeback}`,
    'nr_writeback_temp 0',
    `nr_dirty_threshold ${threshold}`,
    `nr_dirty_background_threshold ${background}`,
    'pgpgin 1234',
    '',
  ].join('\n');
}

async function until(cond: () => boolean, what: string): Promise<void> {
  const started = Date.now();
  while (!cond()) {
    if (Date.now() - started > 5_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('parseVmstat', () => {
  it('adds dirty and writeback pages and puts the throttle point halfway between the two thresholds', () => {
    assert.deepEqual(parseVmstat(vmstat(300, 20, 1_000_000, 500_000)), { unwritten: 320, throttleFrom: 750_000 });
  });

  it('ignores fields that merely start with a wanted name (nr_writeback_temp, nr_dirtied)', () => {
    const text = `nr_dirtied 99999999\nnr_writeback_temp 77777\n${vmstat(1, 2)}`;
    assert.deepEqual(parseVmstat(text), { unwritten: 3, throttleFrom: 750_000 });
  });

  it('has no state when a field is missing, unreadable or the threshold is zero', () => {
    assert.equal(parseVmstat(vmstat(1, 2).replace(/^nr_dirty_threshold .*$/m, '')), undefined);
    assert.equal(parseVmstat(vmstat(1, 2).replace('nr_writeback 2', 'nr_writeback many')), undefined);
    assert.equal(parseVmstat(vmstat(1, 2, 0, 0)), undefined);
    assert.equal(parseVmstat(''), undefined);
  });

  it('reads this machine\'s /proc/vmstat where there is one', async (t) => {
    const text = await fs.readFile('/proc/vmstat', 'latin1').catch(() => undefined);
    if (text === undefined) return t.skip('no /proc/vmstat here');
    const state = parseVmstat(text);
    assert.ok(state !== undefined);
    assert.ok(state.throttleFrom > 0 && state.unwritten >= 0);
  });
});

describe('DirtyPageWatch', () => {
  let root: string;
  let cleanup: () => Promise<void>;
  before(async () => ({ dir: root, cleanup } = await tempDir()));
  after(() => cleanup());

  it('is near the throttle point from the margin on, as of its last reading', async () => {
    const file = path.join(root, 'vmstat-margin');
    // Throttle point 750,000 pages; with a margin of 0.75 "near" starts at 562,500.
    await fs.writeFile(file, vmstat(562_499, 0));
    const watch = new DirtyPageWatch({ path: file, margin: 0.75 });
    assert.equal(watch.nearThrottle(), false, 'nothing read yet');
    await watch.refresh();
    assert.equal(watch.nearThrottle(), false);
    await fs.writeFile(file, vmstat(500_000, 62_500));
    await watch.refresh();
    assert.equal(watch.nearThrottle(), true);
  });

  it('counts the bytes written since its reading started, in 4 KiB pages, until a later reading completes', async () => {
    const file = path.join(root, 'vmstat-written');
    // Throttle point 750,000 pages; with the default margin of 0.9 "near" starts at 675,000.
    await fs.writeFile(file, vmstat(600_000, 0));
    const watch = new DirtyPageWatch({ path: file, refreshMs: 60_000 });
    await watch.refresh();
    watch.noteWritten(74_999 * 4096);
    assert.equal(watch.nearThrottle(), false);
    watch.noteWritten(4096);
    assert.equal(watch.nearThrottle(), true, '600,000 read + 75,000 written since');
    // A reading taken after those writes includes them (or their writeback): they are not counted twice.
    await watch.refresh();
    assert.equal(watch.nearThrottle(), false);
    await fs.writeFile(file, vmstat(675_000, 0));
    await watch.refresh();
    assert.equal(watch.nearThrottle(), true);
  });

  it('reads again only once its reading is older than refreshMs, and then in the background', async () => {
    const file = path.join(root, 'vmstat-refresh');
    await fs.writeFile(file, vmstat(10, 0));
    let now = 0;
    const watch = new DirtyPageWatch({ path: file, refreshMs: 200, now: () => now });
    await watch.refresh();
    assert.equal(watch.state?.unwritten, 10);
    await fs.writeFile(file, vmstat(900_000, 0));
    now = 199;
    assert.equal(watch.nearThrottle(), false);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(watch.state?.unwritten, 10, 'a reading 199 ms old is still used');
    now = 200;
    assert.equal(watch.nearThrottle(), false, 'the answer comes from the last reading; the new one is under way');
    await until(() => watch.state?.unwritten === 900_000, 'the background reading');
    assert.equal(watch.nearThrottle(), true);
  });

  it('says "not near" for good where the file is missing or unparsable, and tries again after other failures', async () => {
    const missing = path.join(root, 'no-such-vmstat');
    const watch = new DirtyPageWatch({ path: missing, refreshMs: 0 });
    await watch.refresh();
    assert.equal(watch.state, undefined);
    await fs.writeFile(missing, vmstat(900_000, 0));
    assert.equal(watch.nearThrottle(), false);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(watch.state, undefined, 'an unavailable source is not read again');

    // Any other failure (here EISDIR) is tried again once refreshMs has passed.
    const flaky = path.join(root, 'vmstat-flaky');
    await fs.mkdir(flaky);
    let now = 0;
    const retried = new DirtyPageWatch({ path: flaky, refreshMs: 100, now: () => now });
    await retried.refresh();
    assert.equal(retried.state, undefined);
    await fs.rmdir(flaky);
    await fs.writeFile(flaky, vmstat(900_000, 0));
    now = 100;
    assert.equal(retried.nearThrottle(), false);
    await until(() => retried.state !== undefined, 'the reading after the failure');
    assert.equal(retried.nearThrottle(), true);

    const garbled = path.join(root, 'vmstat-garbled');
    await fs.writeFile(garbled, 'not a vmstat\n');
    const other = new DirtyPageWatch({ path: garbled });
    await other.refresh();
    assert.equal(other.nearThrottle(), false);
    assert.equal(other.state, undefined);
  });
});
