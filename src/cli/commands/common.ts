// What every client command shares: the connection options, building a KafkaClient from them, output for
// people or for scripts (--json), and turning a failure into one line on stderr and a non-zero exit.
import { type Command, InvalidArgumentError, Option } from 'commander';
import { readPropertiesFile } from '../../config/properties.js';
import { KafkaClient, type KafkaClientOptions } from '../../client/kafka-client.js';
import { StrataError } from '../../protocol/strata-error.js';

export const DEFAULT_BOOTSTRAP = '127.0.0.1:9092';

export interface ClientCommandOptions {
  bootstrapServer: string;
  commandConfig?: string;
  json?: boolean;
}

/** Adds --bootstrap-server, --command-config and --json to a command. */
export function withClientOptions(cmd: Command): Command {
  return cmd
    .option('--bootstrap-server <host:port>', 'broker(s) to connect to, comma-separated', DEFAULT_BOOTSTRAP)
    .option('--command-config <file>', 'client properties (client.id, request.timeout.ms, retries, retry.backoff.ms, bootstrap.servers)')
    .option('--json', 'machine-readable output');
}

const SUPPORTED_SECURITY = new Set(['PLAINTEXT']);

/** Client options from the flags and the --command-config file (flags win). */
export async function clientOptions(opts: ClientCommandOptions, cmd: Command): Promise<KafkaClientOptions> {
  const props = opts.commandConfig === undefined ? new Map<string, string>() : await readPropertiesFile(opts.commandConfig);
  const security = props.get('security.protocol') ?? 'PLAINTEXT';
  if (!SUPPORTED_SECURITY.has(security.toUpperCase())) {
    throw new StrataError('ERR_CONFIG', `security.protocol=${security} is not supported by this client yet (only PLAINTEXT)`);
  }
  const num = (key: string): number | undefined => {
    const raw = props.get(key);
    if (raw === undefined) return undefined;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0) throw new StrataError('ERR_CONFIG', `${key}=${raw} in ${opts.commandConfig} is not a non-negative integer`);
    return n;
  };
  const flagGiven = cmd.getOptionValueSource('bootstrapServer') !== 'default';
  const bootstrap = flagGiven ? opts.bootstrapServer : (props.get('bootstrap.servers') ?? opts.bootstrapServer);
  const requestTimeoutMs = num('request.timeout.ms');
  const retries = num('retries');
  const retryBackoffMs = num('retry.backoff.ms');
  return {
    bootstrapServers: bootstrap,
    clientId: props.get('client.id') ?? 'strata-cli',
    ...(requestTimeoutMs !== undefined ? { requestTimeoutMs } : {}),
    ...(retries !== undefined ? { retries } : {}),
    ...(retryBackoffMs !== undefined ? { retryBackoffMs } : {}),
  };
}

/**
 * Runs a command body with a connected client; any failure becomes "error: <cause>" on stderr and exit
 * code 1. The client is always closed.
 */
export async function runWithClient(opts: ClientCommandOptions, cmd: Command, body: (client: KafkaClient) => Promise<void>): Promise<void> {
  let client: KafkaClient | undefined;
  try {
    client = new KafkaClient(await clientOptions(opts, cmd));
    await body(client);
  } catch (err) {
    fail(err);
  } finally {
    await client?.close().catch(() => undefined);
  }
}

/** Reports a failure in one line and marks the process as failed. */
export function fail(err: unknown): void {
  const message = err instanceof StrataError || err instanceof Error ? err.message : String(err);
  process.stderr.write(`error: ${message}\n`);
  process.exitCode = 1;
}

/**
 * Writes to stdout, waiting when the pipe is full so large outputs do not pile up in memory. A reader that
 * went away (`strata consume | head -1`) ends the wait instead of hanging it.
 */
export async function out(text: string): Promise<void> {
  if (process.stdout.destroyed || process.stdout.write(text)) return;
  await new Promise<void>((res) => {
    const done = (): void => {
      process.stdout.off('drain', done);
      process.stdout.off('error', done);
      process.stdout.off('close', done);
      res();
    };
    process.stdout.once('drain', done);
    process.stdout.once('error', done);
    process.stdout.once('close', done);
  });
}

export const printJson = (value: unknown): Promise<void> => out(`${JSON.stringify(value)}\n`);

/** Left-aligned columns for people. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

export const integerArg =
  (min: number, max = Number.MAX_SAFE_INTEGER) =>
  (raw: string): number => {
    const n = Number(raw);
    if (!/^-?\d+$/.test(raw.trim()) || n < min || n > max) throw new InvalidArgumentError(`must be an integer in [${min}, ${max}]`);
    return n;
  };

export const collectKeyValue = (raw: string, previous: [string, string][] = []): [string, string][] => {
  const eq = raw.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`expected key=value, got '${raw}'`);
  return [...previous, [raw.slice(0, eq), raw.slice(eq + 1)]];
};

export const collect = (raw: string, previous: string[] = []): string[] => [...previous, raw];

export const choice = (flags: string, description: string, choices: readonly string[], defaultValue?: string): Option => {
  const o = new Option(flags, description).choices(choices);
  return defaultValue === undefined ? o : o.default(defaultValue);
};
