// `strata topic create|list|describe|delete|alter|alter-config`.
import type { Command } from 'commander';
import { ApiKey } from '../../protocol/generated/apis.js';
import { ErrorCode } from '../../protocol/errors.js';
import { StrataError } from '../../protocol/strata-error.js';
import type { KafkaClient } from '../../client/kafka-client.js';
import { isKafkaError } from '../../client/errors.js';
import type { ConfigAlteration, TopicInfo } from '../../client/types.js';
import { collect, collectKeyValue, integerArg, out, printJson, runWithClient, table, withClientOptions, type ClientCommandOptions } from './common.js';

interface CreateOptions extends ClientCommandOptions {
  partitions?: number;
  replicationFactor?: number;
  config: [string, string][];
  validateOnly?: boolean;
  ifNotExists?: boolean;
}

interface ListOptions extends ClientCommandOptions {
  includeInternal?: boolean;
}

interface DeleteOptions extends ClientCommandOptions {
  ifExists?: boolean;
}

interface AlterOptions extends ClientCommandOptions {
  partitions: number;
  validateOnly?: boolean;
}

interface AlterConfigOptions extends ClientCommandOptions {
  set: [string, string][];
  delete: string[];
  append: [string, string][];
  subtract: [string, string][];
  validateOnly?: boolean;
}

export function registerTopicCommands(program: Command): void {
  const topic = program.command('topic').description('create, list, describe, change and delete topics');

  withClientOptions(
    topic
      .command('create')
      .description('create a topic')
      .argument('<name>')
      .option('--partitions <n>', 'number of partitions (default: the broker\'s num.partitions)', integerArg(1, 2147483647))
      .option('--replication-factor <n>', "replicas per partition (default: the broker's default.replication.factor)", integerArg(1, 32767))
      .option('--config <key=value>', 'a topic config (repeatable)', collectKeyValue, [])
      .option('--validate-only', 'check the request without creating anything')
      .option('--if-not-exists', 'succeed when the topic exists already'),
  ).action(async (name: string, opts: CreateOptions, cmd: Command) =>
    runWithClient(opts, cmd, async (client) => {
      const [result] = await client.createTopics(
        [{ name, numPartitions: opts.partitions ?? -1, replicationFactor: opts.replicationFactor ?? -1, configs: Object.fromEntries(opts.config) }],
        { validateOnly: opts.validateOnly === true },
      );
      const r = result!;
      if (r.error !== null && !(opts.ifNotExists === true && r.error.errorCode === ErrorCode.TOPIC_ALREADY_EXISTS)) throw r.error;
      const existed = r.error !== null;
      if (opts.json === true) {
        return printJson({ name, created: !existed && opts.validateOnly !== true, topicId: r.topicId, partitions: r.numPartitions, replicationFactor: r.replicationFactor, validateOnly: opts.validateOnly === true });
      }
      if (existed) return out(`Topic '${name}' exists already.\n`);
      const shape = r.numPartitions > 0 ? ` (${r.numPartitions} partition${r.numPartitions === 1 ? '' : 's'}, replication factor ${r.replicationFactor})` : '';
      await out(opts.validateOnly === true ? `Topic '${name}' can be created${shape}.\n` : `Created topic '${name}'${shape}.\n`);
    }),
  );

  withClientOptions(topic.command('list').description('list topic names').option('--include-internal', 'also list internal topics')).action(
    async (opts: ListOptions, cmd: Command) =>
      runWithClient(opts, cmd, async (client) => {
        const names = await client.listTopics({ includeInternal: opts.includeInternal === true });
        if (opts.json === true) return printJson(names);
        await out(names.map((n) => `${n}\n`).join(''));
      }),
  );

  withClientOptions(topic.command('describe').description('show partitions, leaders, replicas and config overrides').argument('[names...]', 'topics (default: all)')).action(
    async (names: string[], opts: ClientCommandOptions, cmd: Command) =>
      runWithClient(opts, cmd, async (client) => {
        const topics = await client.describeTopics(names.length === 0 ? undefined : names);
        const configs = await overrides(client, topics.map((t) => t.name));
        if (opts.json === true) {
          return printJson(
            topics.map((t) => ({
              name: t.name,
              topicId: t.topicId,
              internal: t.isInternal,
              partitions: t.partitions.map((p) => ({ partition: p.partition, leader: p.leader, leaderEpoch: p.leaderEpoch, replicas: p.replicas, isr: p.isr, offlineReplicas: p.offlineReplicas })),
              configs: configs.get(t.name) ?? null,
            })),
          );
        }
        for (const t of topics) await out(describeText(t, configs.get(t.name)));
      }),
  );

  withClientOptions(topic.command('delete').description('delete topics').argument('<names...>').option('--if-exists', 'succeed for topics that do not exist')).action(
    async (names: string[], opts: DeleteOptions, cmd: Command) =>
      runWithClient(opts, cmd, async (client) => {
        const results = await client.deleteTopics(names);
        const failed = results.filter((r) => r.error !== null && !(opts.ifExists === true && r.error.errorCode === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION));
        if (opts.json === true) await printJson(results.map((r) => ({ name: r.name, deleted: r.error === null, error: r.error?.errorName ?? null })));
        else for (const r of results) if (r.error === null) await out(`Deleted topic '${r.name}'.\n`);
        if (failed.length > 0) throw failed[0]!.error;
      }),
  );

  withClientOptions(
    topic
      .command('alter')
      .description('raise the partition count of a topic')
      .argument('<name>')
      .requiredOption('--partitions <n>', 'the new total number of partitions', integerArg(1, 2147483647))
      .option('--validate-only', 'check the request without changing anything'),
  ).action(async (name: string, opts: AlterOptions, cmd: Command) =>
    runWithClient(opts, cmd, async (client) => {
      const [r] = await client.createPartitions({ [name]: opts.partitions }, { validateOnly: opts.validateOnly === true });
      if (r?.error) throw r.error;
      if (opts.json === true) return printJson({ name, partitions: opts.partitions, validateOnly: opts.validateOnly === true });
      await out(`Topic '${name}' ${opts.validateOnly === true ? 'can have' : 'now has'} ${opts.partitions} partitions.\n`);
    }),
  );

  withClientOptions(
    topic
      .command('alter-config')
      .description("change a topic's configs (incremental: other settings are kept)")
      .argument('<name>')
      .option('--set <key=value>', 'set a config (repeatable)', collectKeyValue, [])
      .option('--delete <key>', 'remove an override, back to the default (repeatable)', collect, [])
      .option('--append <key=value>', 'add a value to a list config (repeatable)', collectKeyValue, [])
      .option('--subtract <key=value>', 'remove a value from a list config (repeatable)', collectKeyValue, [])
      .option('--validate-only', 'check the change without applying it'),
  ).action(async (name: string, opts: AlterConfigOptions, cmd: Command) =>
    runWithClient(opts, cmd, async (client) => {
      const alterations: ConfigAlteration[] = [
        ...opts.set.map(([k, v]) => ({ name: k, op: 'set' as const, value: v })),
        ...opts.delete.map((k) => ({ name: k, op: 'delete' as const, value: null })),
        ...opts.append.map(([k, v]) => ({ name: k, op: 'append' as const, value: v })),
        ...opts.subtract.map(([k, v]) => ({ name: k, op: 'subtract' as const, value: v })),
      ];
      if (alterations.length === 0) {
        throw new StrataError('ERR_CONFIG', 'nothing to change: give --set, --delete, --append or --subtract');
      }
      await client.describeTopics([name]);
      const [r] = await client.incrementalAlterConfigs([{ type: 'topic', name, alterations }], { validateOnly: opts.validateOnly === true });
      if (r?.error) throw r.error;
      if (opts.json === true) return printJson({ name, alterations, validateOnly: opts.validateOnly === true });
      await out(`${opts.validateOnly === true ? 'Validated' : 'Updated'} ${alterations.length} config${alterations.length === 1 ? '' : 's'} of topic '${name}'.\n`);
    }),
  );
}

/** Per topic, its configs that are not defaults; empty when the broker cannot describe configs. */
async function overrides(client: KafkaClient, names: readonly string[]): Promise<Map<string, Record<string, string | null>>> {
  const result = new Map<string, Record<string, string | null>>();
  if (names.length === 0 || (await client.versionFor('any', ApiKey.DescribeConfigs)) === undefined) return result;
  try {
    for (const r of await client.describeConfigs(names.map((name) => ({ type: 'topic' as const, name })))) {
      if (r.error !== null) continue;
      result.set(r.name, Object.fromEntries(r.configs.filter((c) => !c.isDefault && c.source === 'DYNAMIC_TOPIC_CONFIG').map((c) => [c.name, c.isSensitive ? null : c.value])));
    }
  } catch (err) {
    if (!isKafkaError(err)) throw err;
  }
  return result;
}

function describeText(t: TopicInfo, configs: Record<string, string | null> | undefined): string {
  const rf = t.partitions[0]?.replicas.length ?? 0;
  const cfg = configs === undefined ? '' : `\tConfigs: ${Object.entries(configs).map(([k, v]) => `${k}=${v ?? '(sensitive)'}`).join(',')}`;
  const head = `Topic: ${t.name}\tTopicId: ${t.topicId}\tPartitionCount: ${t.partitions.length}\tReplicationFactor: ${rf}${cfg}\n`;
  const rows = t.partitions.map((p) => [
    '',
    String(p.partition),
    p.leader < 0 ? 'none' : String(p.leader),
    p.replicas.join(','),
    p.isr.join(','),
    p.offlineReplicas.length > 0 ? p.offlineReplicas.join(',') : '',
  ]);
  return head + table(['', 'PARTITION', 'LEADER', 'REPLICAS', 'ISR', 'OFFLINE'], rows);
}
