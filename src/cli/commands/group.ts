// `strata group list|describe|reset-offsets|delete`: consumer groups and their lag, against any
// Kafka-compatible broker, in the manner of kafka-consumer-groups.sh (a reset is a dry run unless
// --execute is given).
import { type Command, InvalidArgumentError } from 'commander';
import {
  applyOffsetReset,
  deleteGroups,
  groupLag,
  listGroups,
  planOffsetReset,
  type OffsetResetSpec,
  type TopicPartitionRef,
} from '../../client/groups.js';
import { StrataError } from '../../protocol/strata-error.js';
import { collect, integerArg, out, printJson, runWithClient, table, withClientOptions, type ClientCommandOptions } from './common.js';

interface ListOptions extends ClientCommandOptions {
  state: string[];
}

interface ResetOptions extends ClientCommandOptions {
  topic: string[];
  allTopics?: boolean;
  toEarliest?: boolean;
  toLatest?: boolean;
  toOffset?: number;
  toDatetime?: string;
  shiftBy?: number;
  dryRun?: boolean;
  execute?: boolean;
}

/** `topic` or `topic:0,2,5` (Kafka's tool's --topic syntax). */
export function parseTopicArg(raw: string): TopicPartitionRef[] {
  const colon = raw.indexOf(':');
  if (colon < 0) return [{ topic: raw, partition: -1 }];
  const topic = raw.slice(0, colon);
  const parts = raw.slice(colon + 1).split(',').map((p) => p.trim());
  if (topic === '' || parts.some((p) => !/^\d+$/.test(p))) throw new InvalidArgumentError(`expected topic or topic:p1,p2, got '${raw}'`);
  return parts.map((p) => ({ topic, partition: Number(p) }));
}

/** ISO-8601 date-time (as Kafka's --to-datetime) or epoch milliseconds. */
export function parseDatetime(raw: string): number {
  if (/^\d+$/.test(raw)) return Number(raw);
  const ms = Date.parse(raw);
  if (Number.isNaN(ms)) throw new InvalidArgumentError(`expected an ISO-8601 date-time such as 2024-01-31T12:00:00.000Z, got '${raw}'`);
  return ms;
}

function resetSpec(opts: ResetOptions): OffsetResetSpec {
  const given: OffsetResetSpec[] = [];
  if (opts.toEarliest === true) given.push({ to: 'earliest' });
  if (opts.toLatest === true) given.push({ to: 'latest' });
  if (opts.toOffset !== undefined) given.push({ to: 'offset', offset: opts.toOffset });
  if (opts.toDatetime !== undefined) given.push({ to: 'timestamp', timestamp: parseDatetime(opts.toDatetime) });
  if (opts.shiftBy !== undefined) given.push({ to: 'shift-by', shift: opts.shiftBy });
  if (given.length !== 1) {
    throw new StrataError('ERR_CONFIG', 'give exactly one of --to-earliest, --to-latest, --to-offset, --to-datetime, --shift-by');
  }
  return given[0]!;
}

const dash = (v: string | number | null): string => (v === null || v === '' ? '-' : String(v));

export function registerGroupCommands(program: Command): void {
  const group = program.command('group').description('list, describe, reset the offsets of, and delete consumer groups');

  withClientOptions(
    group.command('list').description('list consumer groups with their state').option('--state <state>', 'only groups in this state (repeatable)', collect, []),
  ).action(async (opts: ListOptions, cmd: Command) =>
    runWithClient(opts, cmd, async (client) => {
      const groups = await listGroups(client, { states: opts.state });
      if (opts.json === true) return printJson(groups);
      await out(table(['GROUP', 'STATE', 'PROTOCOL-TYPE', 'COORDINATOR'], groups.map((g) => [g.groupId, dash(g.state), dash(g.protocolType), String(g.coordinator)])));
    }),
  );

  withClientOptions(group.command('describe').description('state, members, and per partition the committed offset, log end offset and lag').argument('<groups...>')).action(
    async (groupIds: string[], opts: ClientCommandOptions, cmd: Command) =>
      runWithClient(opts, cmd, async (client) => {
        const described = [];
        for (const id of groupIds) described.push(await groupLag(client, id));
        if (opts.json === true) return printJson(described);
        for (const { group: g, partitions } of described) {
          await out(`Group '${g.groupId}': ${g.state}, protocol ${dash(g.protocol)}, coordinator ${g.coordinator}, ${g.members.length} member(s)\n\n`);
          if (g.members.length > 0) {
            await out(table(['MEMBER-ID', 'GROUP-INSTANCE-ID', 'CLIENT-ID', 'HOST', 'PARTITIONS'],
              g.members.map((m) => [m.memberId, dash(m.groupInstanceId), m.clientId, m.clientHost, String(m.assignment.length)])));
            await out('\n');
          }
          await out(partitions.length === 0
            ? 'No committed offsets and no assigned partitions.\n\n'
            : table(['TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'LOG-END-OFFSET', 'LAG', 'CONSUMER-ID', 'HOST', 'CLIENT-ID'],
              partitions.map((p) => [p.topic, String(p.partition), dash(p.committed), String(p.logEndOffset), dash(p.lag), dash(p.memberId), dash(p.clientHost), dash(p.clientId)])) + '\n');
        }
      }),
  );

  withClientOptions(
    group
      .command('reset-offsets')
      .description('move a group\'s committed offsets (a dry run unless --execute; the group must have no active members)')
      .argument('<group>')
      .option('--topic <topic[:partitions]>', 'a topic, or topic:0,1,2 for some partitions (repeatable)', collect, [])
      .option('--all-topics', 'every topic the group has committed offsets for')
      .option('--to-earliest', 'to the log start offset')
      .option('--to-latest', 'to the log end offset')
      .option('--to-offset <n>', 'to this offset (clamped to the log)', integerArg(0))
      .option('--to-datetime <time>', 'to the first offset at or after this time (ISO-8601 or epoch ms)')
      .option('--shift-by <n>', 'move the committed offsets by n (negative: back)', integerArg(Number.MIN_SAFE_INTEGER))
      .option('--dry-run', 'show the new offsets without committing them (the default)')
      .option('--execute', 'commit the new offsets'),
  ).action(async (groupId: string, opts: ResetOptions, cmd: Command) =>
    runWithClient(opts, cmd, async (client) => {
      if (opts.execute === true && opts.dryRun === true) throw new StrataError('ERR_CONFIG', '--dry-run and --execute exclude each other');
      const spec = resetSpec(opts);
      let targets: TopicPartitionRef[] = opts.topic.flatMap(parseTopicArg);
      if (opts.allTopics === true) {
        const { partitions } = await groupLag(client, groupId);
        targets = [...targets, ...partitions.map((p) => ({ topic: p.topic, partition: p.partition }))];
      }
      if (targets.length === 0) throw new StrataError('ERR_CONFIG', 'name the partitions to reset with --topic or --all-topics');
      const plan = await planOffsetReset(client, groupId, targets, spec);
      const execute = opts.execute === true;
      if (execute) await applyOffsetReset(client, groupId, plan);
      if (opts.json === true) return printJson({ group: groupId, executed: execute, offsets: plan });
      await out(table(['TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'NEW-OFFSET'], plan.map((p) => [p.topic, String(p.partition), dash(p.current), String(p.target)])));
      if (!execute) await out('\nDry run: nothing was committed. Add --execute to apply.\n');
    }),
  );

  withClientOptions(group.command('delete').description('delete empty groups and their committed offsets').argument('<groups...>')).action(
    async (groupIds: string[], opts: ClientCommandOptions, cmd: Command) =>
      runWithClient(opts, cmd, async (client) => {
        const results = await deleteGroups(client, groupIds);
        if (opts.json === true) await printJson(results.map((r) => ({ groupId: r.groupId, error: r.error?.message ?? null })));
        else for (const r of results) await out(r.error === null ? `Deleted group '${r.groupId}'.\n` : `Group '${r.groupId}' not deleted: ${r.error.message}\n`);
        if (results.some((r) => r.error !== null)) process.exitCode = 1;
      }),
  );
}
