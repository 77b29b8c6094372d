// kill -9 of a process running the controller: everything it acknowledged is in the metadata log after
// a restart, and producer id blocks are never handed out twice, across any number of crashes.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { METADATA_PARTITION_DIR } from '../../src/raft/log-store.js';
import { openQuorum, tempDir } from './helpers.js';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'crash-child.ts');

interface Acks {
  readonly topics: Map<string, string>;
  readonly pids: number[];
}

/** Runs the child until it has acknowledged `target` operations, then SIGKILLs it. */
async function runAndKill(dir: string, run: number, target: number): Promise<Acks> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dir, String(run)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const acks: Acks = { topics: new Map(), pids: [] };
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  let buffered = '';
  let count = 0;
  const exited = once(child, 'exit');
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      buffered += d.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        const [kind, a, b] = line.split(' ');
        if (kind === 'topic') acks.topics.set(a!, b!);
        else if (kind === 'pid') acks.pids.push(Number(a));
        else continue;
        if (++count === target) {
          child.kill('SIGKILL');
          resolve();
        }
      }
    });
    void exited.then(() => reject(new Error(`child exited early: ${stderr}`)));
  });
  await exited;
  return acks;
}

describe('controller crash safety', () => {
  test('acknowledged topics and producer id blocks survive kill -9; blocks never repeat', { timeout: 120_000 }, async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const first = await runAndKill(dir, 1, 150);
      const second = await runAndKill(dir, 2, 150);
      // The runs were long enough to snapshot and cut the log, so recovery went through a snapshot.
      const files = await fs.readdir(path.join(dir, METADATA_PARTITION_DIR));
      assert.ok(files.some((f) => f.endsWith('.checkpoint')), files.join(', '));
      const q = await openQuorum(dir);
      try {
        const image = q.loader.image;
        for (const acks of [first, second]) {
          assert.ok(acks.topics.size > 0);
          for (const [name, id] of acks.topics) {
            const t = image.topic(name);
            assert.ok(t, `acknowledged topic ${name} is missing after the crash`);
            assert.equal(t.id, id);
            assert.equal(t.partitions.size, 2);
          }
        }
        const all = [...first.pids, ...second.pids];
        assert.equal(new Set(all).size, all.length, 'a producer id block was handed out twice');
        // The second run started above every block the first acknowledged.
        assert.ok(Math.min(...second.pids) > Math.max(...first.pids));
        const broker = image.broker(1)!;
        const next = await q.controller.allocateProducerIds(1, broker.epoch);
        assert.equal(next.errorCode, 0);
        assert.ok(next.producerIdStart >= Math.max(...all) + 1000);
        assert.ok(all.every((start) => start % 1000 === 0));
      } finally {
        await q.close();
      }
    } finally {
      await cleanup();
    }
  });
});
