// `strata cluster info`: cluster id, controller and brokers. `strata cluster api-versions`: what a broker serves.
import type { Command } from 'commander';
import { API_SCHEMAS } from '../../protocol/generated/apis.js';
import { integerArg, runWithClient, out, printJson, table, withClientOptions, type ClientCommandOptions } from './common.js';

export function registerClusterCommands(program: Command): void {
  const cluster = program.command('cluster').description('inspect the cluster');
  withClientOptions(cluster.command('info').description('show the cluster id, the controller and the brokers')).action(
    async (opts: ClientCommandOptions, cmd: Command) =>
      runWithClient(opts, cmd, async (client) => {
        const info = await client.describeCluster();
        if (opts.json === true) return printJson(info);
        const rows = info.brokers.map((b) => [String(b.nodeId), `${b.host}:${b.port}`, b.rack ?? '-', b.nodeId === info.controllerId ? 'yes' : '']);
        await out(`Cluster id: ${info.clusterId ?? '(none)'}\nController: ${info.controllerId < 0 ? '(unknown)' : info.controllerId}\n\n`);
        await out(table(['ID', 'ADDRESS', 'RACK', 'CONTROLLER'], rows));
      }),
  );

  withClientOptions(
    cluster
      .command('api-versions')
      .description('list the APIs a broker serves, in which versions, and the version this client would use')
      .option('--broker <id>', 'ask this broker (default: any)', integerArg(0, 2147483647)),
  ).action(async (opts: ClientCommandOptions & { broker?: number }, cmd: Command) =>
    runWithClient(opts, cmd, async (client) => {
      const target = opts.broker === undefined ? ('any' as const) : { nodeId: opts.broker };
      const versions = await client.apiVersions(target);
      const rows = [...versions]
        .sort(([a], [b]) => a - b)
        .map(([apiKey, range]) => {
          const ours = API_SCHEMAS[apiKey];
          const max = ours === undefined ? -1 : Math.min(ours.maxVersion, range.maxVersion);
          const usable = ours !== undefined && max >= Math.max(ours.minVersion, range.minVersion);
          return { apiKey, name: ours?.name ?? `unknown(${apiKey})`, minVersion: range.minVersion, maxVersion: range.maxVersion, clientVersion: usable ? max : null };
        });
      if (opts.json === true) return printJson(rows);
      await out(table(['KEY', 'API', 'BROKER', 'CLIENT USES'], rows.map((r) => [String(r.apiKey), r.name, `${r.minVersion}-${r.maxVersion}`, r.clientVersion === null ? 'unusable' : `v${r.clientVersion}`])));
    }),
  );
}
