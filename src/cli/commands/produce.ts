// `strata produce --topic T`: one record per line of stdin.
//
// Lines are sent in batches of up to --batch-size records; a batch also leaves after --linger-ms without a
// new line, so typed lines go out as they are typed. One request is in flight at a time, which keeps the
// records of a partition in input order; reading stops while too much is queued (large piped inputs).
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { Command } from 'commander';
import { StrataError } from '../../protocol/strata-error.js';
import type { KafkaClient } from '../../client/kafka-client.js';
import type { CompressionName, ProduceRecord } from '../../client/types.js';
import { choice, collectKeyValue, integerArg, printJson, runWithClient, withClientOptions, type ClientCommandOptions } from './common.js';

interface ProduceCommandOptions extends ClientCommandOptions {
  topic: string;
  keySeparator?: string;
  header: [string, string][];
  partition?: number;
  acks: string;
  compression: CompressionName;
  batchSize: number;
  lingerMs: number;
}

export interface ProduceSummary {
  readonly topic: string;
  readonly records: number;
  readonly partitions: { partition: number; records: number; firstOffset: number; lastOffset: number }[];
}

export function registerProduceCommand(program: Command): void {
  withClientOptions(
    program
      .command('produce')
      .description('write lines from stdin to a topic, one record per line')
      .requiredOption('--topic <name>', 'topic to write to')
      .option('--key-separator <s>', 'split each line at the first <s> into key and value')
      .option('--header <key=value>', 'a header added to every record (repeatable)', collectKeyValue, [])
      .option('--partition <n>', 'write every record to this partition (default: by key, else one partition per batch)', integerArg(0, 2147483647))
      .addOption(choice('--acks <acks>', 'acknowledgement: all (-1), 1 or 0', ['all', '-1', '1', '0'], 'all'))
      .addOption(choice('--compression <codec>', 'compression of the batches', ['none', 'gzip', 'snappy', 'lz4', 'zstd'], 'none'))
      .option('--batch-size <n>', 'records per request at most', integerArg(1, 1_000_000), 1000)
      .option('--linger-ms <ms>', 'send a partial batch after this long without input', integerArg(0, 60_000), 20),
  ).action(async (opts: ProduceCommandOptions, cmd: Command) =>
    runWithClient(opts, cmd, async (client) => {
      const summary = await produceLines(client, opts, process.stdin);
      if (opts.json === true) await printJson(summary);
      else if (process.stderr.isTTY) process.stderr.write(`Produced ${summary.records} record${summary.records === 1 ? '' : 's'} to topic '${summary.topic}'.\n`);
    }),
  );
}

export async function produceLines(client: KafkaClient, opts: ProduceCommandOptions, input: Readable): Promise<ProduceSummary> {
  // Fail early, before reading anything, when the topic or partition does not exist.
  const [info] = await client.describeTopics([opts.topic]);
  if (opts.partition !== undefined && opts.partition >= info!.partitions.length) {
    throw new StrataError('ERR_CONFIG', `topic '${opts.topic}' has ${info!.partitions.length} partitions; partition ${opts.partition} does not exist`);
  }
  const acks = opts.acks === 'all' ? -1 : (Number(opts.acks) as 0 | 1 | -1);
  const headers = opts.header.map(([key, value]) => ({ key, value }));
  const perPartition = new Map<number, { records: number; firstOffset: number; lastOffset: number }>();
  let produced = 0;
  let queued = 0;
  let lineNo = 0;
  let pending: ProduceRecord[] = [];
  let chain: Promise<void> = Promise.resolve();
  let failure: unknown;
  let linger: NodeJS.Timeout | undefined;
  let closed = false;
  const highWater = opts.batchSize * 4;

  const rl = createInterface({ input, crlfDelay: Infinity });
  const progress = process.stderr.isTTY ? setInterval(() => process.stderr.write(`\rproduced ${produced} records`), 1000) : undefined;

  const flush = (): void => {
    clearTimeout(linger);
    linger = undefined;
    if (pending.length === 0 || failure !== undefined) return;
    const batch = pending;
    pending = [];
    chain = chain.then(async () => {
      if (failure !== undefined) return;
      try {
        const result = await client.produce(opts.topic, batch, { acks, compression: opts.compression });
        for (const p of result.partitions) {
          const seen = perPartition.get(p.partition);
          const last = p.baseOffset < 0 ? -1 : p.baseOffset + p.recordCount - 1;
          if (seen === undefined) perPartition.set(p.partition, { records: p.recordCount, firstOffset: p.baseOffset, lastOffset: last });
          else perPartition.set(p.partition, { records: seen.records + p.recordCount, firstOffset: seen.firstOffset, lastOffset: last });
        }
        produced += batch.length;
      } catch (err) {
        failure ??= err;
        rl.close();
      } finally {
        queued -= batch.length;
        if (queued < highWater && !closed) input.resume();
      }
    });
  };

  rl.on('line', (line) => {
    lineNo++;
    if (failure !== undefined) return;
    let key: string | null = null;
    let value = line;
    if (opts.keySeparator !== undefined) {
      const at = line.indexOf(opts.keySeparator);
      if (at < 0) {
        failure = new StrataError('ERR_CONFIG', `line ${lineNo} has no key separator '${opts.keySeparator}'`);
        rl.close();
        return;
      }
      key = line.slice(0, at);
      value = line.slice(at + opts.keySeparator.length);
    }
    pending.push({ key, value, headers, ...(opts.partition !== undefined ? { partition: opts.partition } : {}) });
    queued++;
    if (queued >= highWater) input.pause();
    if (pending.length >= opts.batchSize) flush();
    else linger ??= setTimeout(flush, opts.lingerMs);
  });

  await new Promise<void>((res) =>
    rl.once('close', () => {
      closed = true;
      res();
    }),
  );
  flush();
  await chain;
  clearInterval(progress);
  if (progress !== undefined) process.stderr.write('\r\x1b[K');
  if (failure !== undefined) {
    // Whatever is still being piped in will not be read: let the process end instead of draining it.
    input.destroy();
    throw failure;
  }
  return {
    topic: opts.topic,
    records: produced,
    partitions: [...perPartition].sort(([a], [b]) => a - b).map(([partition, s]) => ({ partition, ...s })),
  };
}
