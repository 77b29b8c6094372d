// `strata consume --topic T`: prints records as they arrive, like Kafka's console consumer.
//
// Without a group, positions live only in this process: the start is chosen by --from-beginning,
// --offset, --timestamp or --from-end (the default, as Kafka's console consumer starts at the end).
import type { Command } from 'commander';
import { ErrorCode } from '../../protocol/errors.js';
import { StrataError } from '../../protocol/strata-error.js';
import type { KafkaClient } from '../../client/kafka-client.js';
import { KafkaResponseError } from '../../client/errors.js';
import type { ConsumedRecord, FetchPosition } from '../../client/types.js';
import { integerArg, out, runWithClient, withClientOptions, type ClientCommandOptions } from './common.js';

interface ConsumeOptions extends ClientCommandOptions {
  topic: string;
  partition?: number;
  fromBeginning?: boolean;
  fromEnd?: boolean;
  offset?: number;
  timestamp?: number;
  count?: number;
  timeoutMs?: number;
  group?: string;
  printKey?: boolean;
  printHeaders?: boolean;
  printTimestamp?: boolean;
  printOffset?: boolean;
  printPartition?: boolean;
  keySeparator: string;
  isolationLevel: 'read_uncommitted' | 'read_committed';
}

export function registerConsumeCommand(program: Command): void {
  withClientOptions(
    program
      .command('consume')
      .description('print the records of a topic')
      .requiredOption('--topic <name>', 'topic to read')
      .option('--partition <n>', 'read only this partition', integerArg(0, 2147483647))
      .option('--from-beginning', 'start at the earliest offset')
      .option('--offset <n>', 'start at this offset (needs --partition)', integerArg(0))
      .option('--timestamp <ms>', 'start at the first record at or after this time (epoch ms)', integerArg(0))
      .option('--from-end', 'start after the last record (the default)')
      .option('--count <n>', 'exit after this many records', integerArg(1))
      .option('--timeout-ms <ms>', 'exit when no record arrives for this long', integerArg(1))
      .option('--group <id>', 'consumer group (not supported yet)')
      .option('--print-key', 'print the key before the value')
      .option('--print-headers', 'print the headers before the key')
      .option('--print-timestamp', 'print the timestamp first')
      .option('--print-offset', 'print the offset')
      .option('--print-partition', 'print the partition')
      .option('--key-separator <s>', 'separator between printed fields', '\t')
      .option('--isolation-level <level>', 'read_uncommitted or read_committed', 'read_uncommitted'),
  ).action(async (opts: ConsumeOptions, cmd: Command) =>
    runWithClient(opts, cmd, async (client) => {
      checkOptions(opts);
      const stats = await consume(client, opts);
      if (opts.json !== true || process.stderr.isTTY) process.stderr.write(`Processed a total of ${stats.records} message${stats.records === 1 ? '' : 's'}\n`);
    }),
  );
}

function checkOptions(opts: ConsumeOptions): void {
  if (opts.group !== undefined) {
    throw new StrataError('ERR_CONFIG', 'consumer groups (--group) are not supported by this client yet; consume without --group');
  }
  const starts = [opts.fromBeginning === true, opts.fromEnd === true, opts.offset !== undefined, opts.timestamp !== undefined].filter(Boolean).length;
  if (starts > 1) throw new StrataError('ERR_CONFIG', 'give only one of --from-beginning, --from-end, --offset and --timestamp');
  if (opts.offset !== undefined && opts.partition === undefined) throw new StrataError('ERR_CONFIG', '--offset needs --partition');
  if (opts.isolationLevel !== 'read_uncommitted' && opts.isolationLevel !== 'read_committed') {
    throw new StrataError('ERR_CONFIG', `--isolation-level must be read_uncommitted or read_committed, not '${opts.isolationLevel as string}'`);
  }
}

async function startPositions(client: KafkaClient, opts: ConsumeOptions): Promise<FetchPosition[]> {
  const [info] = await client.describeTopics([opts.topic]);
  const all = info!.partitions.map((p) => p.partition);
  if (opts.partition !== undefined && !all.includes(opts.partition)) {
    throw new KafkaResponseError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, {
      subject: `topic '${opts.topic}' partition ${opts.partition}`,
      serverMessage: `the topic has ${all.length} partitions`,
      retriable: false,
    });
  }
  const partitions = opts.partition === undefined ? all : [opts.partition];
  if (opts.offset !== undefined) return partitions.map((partition) => ({ topic: opts.topic, partition, offset: opts.offset! }));
  const spec = opts.fromBeginning === true ? 'earliest' : opts.timestamp !== undefined ? { timestamp: opts.timestamp } : 'latest';
  const offsets = await client.listOffsets(opts.topic, spec, partitions);
  // No record at or after the timestamp: start at the end.
  const ends = offsets.some((o) => o.offset < 0) ? await client.listOffsets(opts.topic, 'latest', partitions) : [];
  return offsets.map((o) => ({ topic: opts.topic, partition: o.partition, offset: o.offset >= 0 ? o.offset : ends.find((e) => e.partition === o.partition)!.offset }));
}

const text = (b: Buffer | null): string => (b === null ? 'null' : b.toString('utf8'));

function format(r: ConsumedRecord, opts: ConsumeOptions): string {
  if (opts.json === true) {
    return `${JSON.stringify({
      topic: r.topic,
      partition: r.partition,
      offset: r.offset,
      timestamp: r.timestamp,
      timestampType: r.timestampType,
      key: r.key === null ? null : r.key.toString('utf8'),
      value: r.value === null ? null : r.value.toString('utf8'),
      headers: r.headers.map((h) => ({ key: h.key, value: h.value === null ? null : h.value.toString('utf8') })),
    })}\n`;
  }
  const fields: string[] = [];
  if (opts.printTimestamp === true) fields.push(`${r.timestampType}:${r.timestamp}`);
  if (opts.printPartition === true) fields.push(`Partition:${r.partition}`);
  if (opts.printOffset === true) fields.push(`Offset:${r.offset}`);
  if (opts.printHeaders === true) fields.push(r.headers.length === 0 ? 'NO_HEADERS' : r.headers.map((h) => `${h.key}:${text(h.value)}`).join(','));
  if (opts.printKey === true) fields.push(text(r.key));
  fields.push(text(r.value));
  return `${fields.join(opts.keySeparator)}\n`;
}

export async function consume(client: KafkaClient, opts: ConsumeOptions): Promise<{ records: number }> {
  let positions = await startPositions(client, opts);
  let records = 0;
  let stopped = false;
  const stop = (): void => {
    stopped = true;
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  // A closed pipe (`| head`) ends consumption quietly, as it ends Kafka's console consumer.
  process.stdout.on('error', stop);
  let lastRecordAt = Date.now();
  let retryDelay = 100;
  try {
    while (!stopped && !process.stdout.destroyed) {
      const waitMs = opts.timeoutMs === undefined ? 500 : Math.max(1, Math.min(500, opts.timeoutMs - (Date.now() - lastRecordAt)));
      const results = await client.fetch(positions, { maxWaitMs: waitMs, isolationLevel: opts.isolationLevel });
      let retriable = false;
      const next = new Map(positions.map((p) => [p.partition, p]));
      for (const r of results) {
        if (r.error !== null) {
          if (!r.error.retriable) throw r.error;
          retriable = true;
          continue;
        }
        let text = '';
        for (const rec of r.records) {
          if (opts.count !== undefined && records >= opts.count) break;
          text += format(rec, opts);
          records++;
        }
        if (text !== '') {
          await out(text);
          lastRecordAt = Date.now();
        }
        next.set(r.partition, { topic: r.topic, partition: r.partition, offset: r.nextOffset });
      }
      positions = [...next.values()];
      if (opts.count !== undefined && records >= opts.count) break;
      if (opts.timeoutMs !== undefined && Date.now() - lastRecordAt >= opts.timeoutMs) break;
      if (retriable) {
        await new Promise((res) => setTimeout(res, retryDelay));
        retryDelay = Math.min(retryDelay * 2, 2_000);
      } else retryDelay = 100;
    }
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    process.stdout.off('error', stop);
  }
  return { records };
}
