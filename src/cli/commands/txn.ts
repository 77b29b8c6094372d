// `strata txn list|describe|describe-producers|find-hanging|abort`: transactions against any
// Kafka-compatible broker, in the manner of kafka-transactions.sh — find the transactions left open on a
// partition with no coordinator to finish them, and abort one.
import { type Command, InvalidArgumentError } from 'commander';
import {
  abortTransaction,
  describeProducers,
  describeTransaction,
  findHangingTransactions,
  listTransactions,
} from '../../client/transactions.js';
import { StrataError } from '../../protocol/strata-error.js';
import { collect, integerArg, out, printJson, runWithClient, table, withClientOptions, type ClientCommandOptions } from './common.js';

interface ListOptions extends ClientCommandOptions {
  state: string[];
  producerId: string[];
  durationMs?: number;
}

interface PartitionOptions extends ClientCommandOptions {
  topic: string;
  partition: number;
}

interface HangingOptions extends ClientCommandOptions {
  topic: string[];
  maxTransactionTimeout: number;
}

interface AbortOptions extends PartitionOptions {
  startOffset?: number;
  producerId?: number;
  producerEpoch?: number;
  coordinatorEpoch?: number;
}

const producerIdArg = (raw: string, previous: string[] = []): string[] => {
  if (!/^\d+$/.test(raw)) throw new InvalidArgumentError(`expected a producer id, got '${raw}'`);
  return [...previous, raw];
};

const time = (ms: number): string => (ms < 0 ? '-' : new Date(ms).toISOString());

export function registerTxnCommands(program: Command): void {
  const txn = program.command('txn').description('list, describe, find hanging and abort transactions');

  withClientOptions(
    txn.command('list').description('transactions known to the coordinators')
      .option('--state <state>', 'only transactions in this state, e.g. Ongoing (repeatable)', collect, [])
      .option('--producer-id <id>', 'only this producer id (repeatable)', producerIdArg, [])
      .option('--duration-ms <ms>', 'only transactions running at least this long', integerArg(0)),
  ).action(async (opts: ListOptions, cmd: Command) =>
    runWithClient(opts, cmd, async (client) => {
      const listed = await listTransactions(client, {
        states: opts.state,
        producerIds: opts.producerId.map(Number),
        ...(opts.durationMs !== undefined ? { durationMs: opts.durationMs } : {}),
      });
      if (opts.json === true) return printJson(listed);
      await out(table(['TRANSACTIONAL-ID', 'COORDINATOR', 'PRODUCER-ID', 'STATE'], listed.map((t) => [t.transactionalId, String(t.coordinator), String(t.producerId), t.state])));
    }),
  );

  withClientOptions(txn.command('describe').description('one transactional id as its coordinator sees it').argument('<transactional-id>')).action(
    async (id: string, opts: ClientCommandOptions, cmd: Command) =>
      runWithClient(opts, cmd, async (client) => {
        const d = await describeTransaction(client, id);
        if (opts.json === true) return printJson(d);
        await out(table(
          ['COORDINATOR', 'TRANSACTIONAL-ID', 'PRODUCER-ID', 'PRODUCER-EPOCH', 'STATE', 'TIMEOUT-MS', 'START-TIME', 'PARTITIONS'],
          [[String(d.coordinator), d.transactionalId, String(d.producerId), String(d.producerEpoch), d.state, String(d.timeoutMs), time(d.startTimeMs),
            d.partitions.map((p) => `${p.topic}-${p.partition}`).join(',') || '-']],
        ));
      }),
  );

  withClientOptions(
    txn.command('describe-producers').description('producers with state on a partition, and their open transactions')
      .requiredOption('--topic <topic>', 'topic')
      .requiredOption('--partition <n>', 'partition', integerArg(0)),
  ).action(async (opts: PartitionOptions, cmd: Command) =>
    runWithClient(opts, cmd, async (client) => {
      const producers = await describeProducers(client, opts.topic, opts.partition);
      if (opts.json === true) return printJson(producers);
      await out(table(['PRODUCER-ID', 'PRODUCER-EPOCH', 'LAST-SEQUENCE', 'LAST-TIMESTAMP', 'COORDINATOR-EPOCH', 'CURRENT-TXN-START-OFFSET'],
        producers.map((p) => [String(p.producerId), String(p.producerEpoch), String(p.lastSequence), time(p.lastTimestamp), String(p.coordinatorEpoch),
          p.currentTxnStartOffset < 0 ? '-' : String(p.currentTxnStartOffset)])));
    }),
  );

  withClientOptions(
    txn.command('find-hanging').description('transactions open on partitions that no coordinator will finish')
      .option('--topic <topic>', 'only partitions of this topic (repeatable; default every topic)', collect, [])
      .option('--max-transaction-timeout <minutes>', 'transaction.max.timeout.ms of the cluster, in minutes', integerArg(0), 15),
  ).action(async (opts: HangingOptions, cmd: Command) =>
    runWithClient(opts, cmd, async (client) => {
      const hanging = await findHangingTransactions(client, opts.topic, { maxTransactionTimeoutMs: opts.maxTransactionTimeout * 60_000 });
      if (opts.json === true) return printJson(hanging);
      await out(table(['TOPIC', 'PARTITION', 'PRODUCER-ID', 'PRODUCER-EPOCH', 'COORDINATOR-EPOCH', 'START-OFFSET', 'LAST-TIMESTAMP', 'REASON'],
        hanging.map((h) => [h.topic, String(h.partition), String(h.producerId), String(h.producerEpoch), String(h.coordinatorEpoch),
          String(h.currentTxnStartOffset), time(h.lastTimestamp), h.reason])));
    }),
  );

  withClientOptions(
    txn.command('abort').description('abort the transaction open on a partition (an ABORT marker written to its leader)')
      .requiredOption('--topic <topic>', 'topic')
      .requiredOption('--partition <n>', 'partition', integerArg(0))
      .option('--start-offset <offset>', 'the first offset of the open transaction (see find-hanging)', integerArg(0))
      .option('--producer-id <id>', 'instead of --start-offset: the producer id', integerArg(0))
      .option('--producer-epoch <epoch>', 'with --producer-id', integerArg(0))
      .option('--coordinator-epoch <epoch>', 'with --producer-id', integerArg(0)),
  ).action(async (opts: AbortOptions, cmd: Command) =>
    runWithClient(opts, cmd, async (client) => {
      let r;
      if (opts.startOffset !== undefined) {
        r = await abortTransaction(client, { topic: opts.topic, partition: opts.partition, startOffset: opts.startOffset });
      } else if (opts.producerId !== undefined && opts.producerEpoch !== undefined && opts.coordinatorEpoch !== undefined) {
        r = await abortTransaction(client, {
          topic: opts.topic, partition: opts.partition, producerId: opts.producerId, producerEpoch: opts.producerEpoch, coordinatorEpoch: opts.coordinatorEpoch,
        });
      } else {
        throw new StrataError('ERR_CONFIG', 'give --start-offset, or --producer-id with --producer-epoch and --coordinator-epoch');
      }
      if (opts.json === true) return printJson({ topic: opts.topic, partition: opts.partition, ...r, aborted: true });
      await out(`Aborted the transaction of producer ${r.producerId} (epoch ${r.producerEpoch}) on ${opts.topic}-${opts.partition}\n`);
    }),
  );
}
