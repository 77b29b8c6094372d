import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { clientOptions, table, withClientOptions, type ClientCommandOptions } from '../../src/cli/commands/common.js';
import { isStrataError } from '../../src/protocol/strata-error.js';

async function parse(args: string[]): Promise<Awaited<ReturnType<typeof clientOptions>>> {
  let result: Awaited<ReturnType<typeof clientOptions>> | undefined;
  let failure: unknown;
  const cmd = withClientOptions(new Command('x').exitOverride()).action(async (opts: ClientCommandOptions, c: Command) => {
    try {
      result = await clientOptions(opts, c);
    } catch (err) {
      failure = err;
    }
  });
  await cmd.parseAsync(args, { from: 'user' });
  if (failure !== undefined) throw failure;
  return result!;
}

test('--command-config supplies client settings; an explicit --bootstrap-server wins over bootstrap.servers', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'strata-cli-'));
  try {
    const file = join(dir, 'client.properties');
    await writeFile(file, 'bootstrap.servers=10.0.0.1:9092,10.0.0.2:9092\nclient.id=reporting\nrequest.timeout.ms=1234\nretries=2\n');
    assert.deepEqual(await parse(['--command-config', file]), { bootstrapServers: '10.0.0.1:9092,10.0.0.2:9092', clientId: 'reporting', requestTimeoutMs: 1234, retries: 2 });
    assert.equal((await parse(['--command-config', file, '--bootstrap-server', 'h:1'])).bootstrapServers, 'h:1');
    assert.deepEqual(await parse([]), { bootstrapServers: '127.0.0.1:9092', clientId: 'strata-cli' });
    await writeFile(file, 'security.protocol=SASL_SSL\n');
    await assert.rejects(parse(['--command-config', file]), (e: unknown) => isStrataError(e, 'ERR_CONFIG') && /security.protocol=SASL_SSL is not supported/.test(e.message));
    await writeFile(file, 'retries=many\n');
    await assert.rejects(parse(['--command-config', file]), /retries=many .* is not a non-negative integer/);
    await assert.rejects(parse(['--command-config', join(dir, 'absent')]), (e: unknown) => isStrataError(e, 'ERR_CONFIG'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('tables pad every column but the last', () => {
  assert.equal(table(['ID', 'NAME'], [['1', 'a'], ['100', 'bbb']]), 'ID   NAME\n1    a\n100  bbb\n');
});
