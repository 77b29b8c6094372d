#!/usr/bin/env node
// The `strata` command.
import { resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { pino, type Logger } from 'pino';
import { parseBrokerConfig } from '../config/broker-config.js';
import { configFromEnv, readPropertiesFile } from '../config/properties.js';
import { StrataNode, DEFAULT_SHUTDOWN_TIMEOUT_MS } from '../server/node.js';
import { registerClientCommands } from './commands/index.js';

// File I/O of many partitions at once (start-up opens thousands of files) runs on libuv's thread pool,
// whose default of 4 threads makes it the bottleneck. It is sized on first use, so this comes first.
process.env.UV_THREADPOOL_SIZE ??= '16';

const integer =
  (min: number, max: number) =>
  (raw: string): number => {
    const n = Number(raw);
    if (!/^\d+$/.test(raw.trim()) || n < min || n > max) throw new InvalidArgumentError(`must be an integer in [${min}, ${max}]`);
    return n;
  };

const keyValue = (raw: string, previous: [string, string][]): [string, string][] => {
  const eq = raw.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`expected key=value, got '${raw}'`);
  return [...previous, [raw.slice(0, eq).trim(), raw.slice(eq + 1)]];
};

interface StartOptions {
  dataDir?: string;
  port?: number;
  host?: string;
  nodeId?: number;
  config?: string;
  set: [string, string][];
  override: [string, string][];
  logLevel: string;
}

/**
 * Properties in increasing precedence: built-in defaults for a local single node, the --config file,
 * STRATA_* environment variables, --set/--override pairs, then the dedicated flags.
 */
async function collectProperties(opts: StartOptions): Promise<Map<string, string>> {
  const props = new Map<string, string>([
    ['node.id', '1'],
    ['listeners', 'PLAINTEXT://127.0.0.1:9092'],
    ['log.dirs', resolve('data')],
  ]);
  const layers = [opts.config === undefined ? new Map<string, string>() : await readPropertiesFile(opts.config), configFromEnv(), new Map([...opts.set, ...opts.override])];
  for (const layer of layers) for (const [k, v] of layer) props.set(k, v);
  if (opts.nodeId !== undefined) props.set('node.id', String(opts.nodeId));
  if (opts.dataDir !== undefined) props.set('log.dirs', resolve(opts.dataDir));
  if (opts.port !== undefined || opts.host !== undefined) {
    const host = opts.host ?? '127.0.0.1';
    props.set('listeners', `PLAINTEXT://${host.includes(':') ? `[${host}]` : host}:${opts.port ?? 9092}`);
    props.delete('advertised.listeners');
  }
  return props;
}

async function start(opts: StartOptions, log: Logger): Promise<void> {
  const config = parseBrokerConfig(await collectProperties(opts));
  // Signal handlers go in before anything starts: a SIGTERM that arrives while the node is starting must
  // stop it cleanly, not kill the process half-way through opening its logs.
  const running: { node?: StrataNode } = {};
  let stopRequested = false;
  let signals = 0;
  const stop = (): void => {
    // Whatever still holds the event loop after a graceful stop must not keep the process alive.
    setTimeout(() => process.exit(0), DEFAULT_SHUTDOWN_TIMEOUT_MS + 5_000).unref();
    running.node!.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err: (err as Error).message }, 'Shutdown failed');
        process.exit(1);
      },
    );
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    if (++signals > 1) {
      log.warn({ signal }, 'Second signal: exiting without waiting');
      process.exit(1);
    }
    log.info({ signal }, 'Shutdown requested');
    if (running.node === undefined) stopRequested = true;
    else stop();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  running.node = await StrataNode.start({ config, log });
  if (stopRequested) stop();
}

export function buildProgram(): Command {
  const program = new Command('strata').description('A Kafka-compatible event streaming platform').showHelpAfterError();
  program
    .command('start')
    .description('run a broker (a single node that is also its own controller)')
    .option('--data-dir <dir>', 'directory for logs and metadata (log.dirs); default ./data')
    .option('--port <port>', 'port of the PLAINTEXT listener; default 9092', integer(0, 65535))
    .option('--host <host>', 'address to listen on and advertise; default 127.0.0.1')
    .option('--node-id <id>', 'node.id; default 1', integer(0, 2147483647))
    .option('--config <file>', 'a server.properties file')
    .option('--set <key=value>', 'set any broker configuration, by its Kafka name (repeatable)', keyValue, [])
    .option('--override <key=value>', 'the same as --set, as Kafka\'s kafka-server-start.sh spells it', keyValue, [])
    .option('--log-level <level>', 'trace, debug, info, warn, error or fatal', 'info')
    .action(async (opts: StartOptions) => {
      const log = pino({ level: opts.logLevel, base: { pid: process.pid } });
      try {
        await start(opts, log);
      } catch (err) {
        log.fatal({ err: (err as Error).message }, 'Strata failed to start');
        process.exitCode = 1;
      }
    });
  registerClientCommands(program);
  return program;
}

await buildProgram().parseAsync(process.argv);
