// `strata start` as a user runs it: configuration errors are reported by key and the process exits 1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startStrata } from './helpers/strata-process.js';
import { WireClient } from './helpers/wire.js';
import { MetadataApi } from '../../src/protocol/generated/apis.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

function runCli(args: string[]): { status: number | null; lines: Record<string, unknown>[] } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(REPO, 'src/cli/main.ts'), ...args], { encoding: 'utf8', timeout: 30_000 });
  const lines = r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { status: r.status, lines };
}

test('an invalid configuration value stops the start with a message naming the key', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'strata-cli-'));
  try {
    const r = runCli(['start', '--data-dir', dir, '--port', '0', '--override', 'socket.request.max.bytes=abc']);
    assert.equal(r.status, 1);
    const fatal = r.lines.find((l) => l.msg === 'Strata failed to start');
    assert.equal(fatal?.err, "Invalid value 'abc' for configuration socket.request.max.bytes: must be an integer in [1, 2147483647]");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a server.properties file and overrides configure the broker; flags win', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'strata-cli-'));
  try {
    const props = join(dir, 'server.properties');
    await writeFile(props, '# test\nnode.id=9\nlisteners=PLAINTEXT://127.0.0.1:0\nadvertised.listeners=PLAINTEXT://advertised.example:1234\n');
    const strata = await startStrata(['--config', props, '--override', 'node.id=11'], { nodeId: 12, listenersFromConfig: true });
    try {
      assert.equal(strata.nodeId, 12);
      // Clients are told the configured advertised endpoint, not the bound one.
      const c = await WireClient.connect(strata.port);
      const md = await c.request(MetadataApi, 12, { topics: null, allowAutoTopicCreation: false, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false });
      assert.deepEqual(md.body.brokers.map((b) => [b.nodeId, b.host, b.port]), [[12, 'advertised.example', 1234]]);
      c.close();
    } finally {
      assert.equal(await strata.stop(), 0);
    }
    assert.match(await readFile(join(strata.dataDir, 'meta.properties'), 'utf8'), /^node\.id=12$/m);
    await strata.cleanup();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
