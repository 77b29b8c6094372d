// Broker configuration: Kafka's key names, types and defaults, as a table of definitions.
//
// Adding a key is adding a row to BROKER_CONFIG_DEFS; parsing, validation, error messages and the typed
// `values` object all follow from the row. Derived views that need more than one key (listeners resolved to
// endpoints, the effective log directories) are computed once in parseBrokerConfig.
import {
  ConfigDefTable,
  atLeast,
  validList,
  invalidValue,
  longToNumber,
  type ConfigDef,
  type ConfigType,
  type ConfigValueTypes,
  Importance,
  UpdateMode,
} from './config-def.js';
import { BROKER_LOG_CONFIG_DEFS } from './topic-config.js';

const INT_MAX = 2147483647;

// ---- the table -------------------------------------------------------------------------------------

export const BROKER_CONFIG_DEFS = [
  {
    name: 'node.id',
    type: 'int',
    default: -1,
    validator: atLeast(-1),
    importance: Importance.HIGH,
    doc: 'The id of this node; unique in the cluster, and required (not negative) to start.',
  },
  {
    name: 'listeners',
    type: 'list',
    default: ['PLAINTEXT://:9092'],
    importance: Importance.HIGH,
    updateMode: UpdateMode.PER_BROKER,
    doc: 'NAME://host:port addresses to accept connections on; an empty host binds every interface, port 0 picks a free port.',
  },
  {
    name: 'advertised.listeners',
    type: 'list',
    default: null,
    importance: Importance.HIGH,
    updateMode: UpdateMode.PER_BROKER,
    doc: 'NAME://host:port addresses clients are told to use, per listener; defaults to listeners.',
  },
  {
    name: 'listener.security.protocol.map',
    type: 'list',
    default: ['PLAINTEXT:PLAINTEXT', 'SSL:SSL', 'SASL_PLAINTEXT:SASL_PLAINTEXT', 'SASL_SSL:SASL_SSL'],
    importance: Importance.LOW,
    updateMode: UpdateMode.PER_BROKER,
    doc: 'NAME:PROTOCOL pairs giving each listener its security protocol.',
  },
  {
    name: 'socket.request.max.bytes',
    type: 'int',
    default: 104857600,
    validator: atLeast(1),
    importance: Importance.HIGH,
    doc: 'The largest request a client may send, in bytes; a larger size prefix closes the connection.',
  },
  {
    name: 'connections.max.idle.ms',
    type: 'long',
    default: 600000n,
    importance: Importance.MEDIUM,
    doc: 'Connections without traffic for this long are closed.',
  },
  {
    name: 'max.connections',
    type: 'int',
    default: INT_MAX,
    validator: atLeast(0),
    importance: Importance.MEDIUM,
    updateMode: UpdateMode.CLUSTER_WIDE,
    doc: 'The most connections the broker keeps open at once; further ones are closed on accept.',
  },
  {
    name: 'max.connections.per.ip',
    type: 'int',
    default: INT_MAX,
    validator: atLeast(0),
    importance: Importance.MEDIUM,
    updateMode: UpdateMode.CLUSTER_WIDE,
    doc: 'The most connections one client address may keep open.',
  },
  {
    name: 'log.dirs',
    type: 'list',
    default: null,
    importance: Importance.HIGH,
    doc: 'The directories holding log data; when set, log.dir is ignored.',
  },
  {
    name: 'log.dir',
    type: 'string',
    default: '/tmp/kafka-logs',
    importance: Importance.HIGH,
    doc: 'The directory holding log data when log.dirs is not set.',
  },
  {
    name: 'process.roles',
    type: 'list',
    default: ['broker', 'controller'],
    validator: validList('broker', 'controller'),
    importance: Importance.HIGH,
    doc: 'The roles of this process; a single Strata node runs both (combined mode).',
  },
  {
    name: 'metadata.log.dir',
    type: 'string',
    default: null,
    importance: Importance.HIGH,
    doc: 'Where the __cluster_metadata log lives; defaults to the first log directory.',
  },
  {
    name: 'broker.rack',
    type: 'string',
    default: null,
    importance: Importance.MEDIUM,
    doc: 'The rack of this broker, for rack-aware placement.',
  },
  {
    name: 'num.partitions',
    type: 'int',
    default: 1,
    validator: atLeast(1),
    importance: Importance.MEDIUM,
    doc: 'Partitions of a topic created without an explicit count (including auto-created topics).',
  },
  {
    name: 'default.replication.factor',
    type: 'int',
    default: 1,
    validator: atLeast(1),
    importance: Importance.MEDIUM,
    doc: 'Replication factor of a topic created without an explicit one.',
  },
  {
    name: 'auto.create.topics.enable',
    type: 'boolean',
    default: true,
    importance: Importance.HIGH,
    doc: 'Create a topic when a client asks for its metadata and it does not exist.',
  },
  {
    name: 'delete.topic.enable',
    type: 'boolean',
    default: true,
    importance: Importance.HIGH,
    doc: 'Allow DeleteTopics.',
  },
  {
    name: 'log.retention.check.interval.ms',
    type: 'long',
    default: 300000n,
    validator: atLeast(1),
    importance: Importance.MEDIUM,
    doc: 'How often logs are checked for segments to delete under their retention settings.',
  },
  {
    name: 'log.flush.offset.checkpoint.interval.ms',
    type: 'int',
    default: 60000,
    validator: atLeast(0),
    importance: Importance.HIGH,
    doc: 'How often recovery points are written to disk.',
  },
  {
    name: 'log.flush.start.offset.checkpoint.interval.ms',
    type: 'int',
    default: 60000,
    validator: atLeast(0),
    importance: Importance.HIGH,
    doc: 'How often log start offsets are written to disk.',
  },
  {
    name: 'log.cleaner.enable',
    type: 'boolean',
    default: true,
    importance: Importance.MEDIUM,
    doc: 'Run the log cleaner for topics whose cleanup.policy includes compact.',
  },
  {
    name: 'log.cleaner.threads',
    type: 'int',
    default: 1,
    validator: atLeast(0),
    importance: Importance.MEDIUM,
    updateMode: UpdateMode.CLUSTER_WIDE,
    doc: 'How many logs are cleaned at once.',
  },
  {
    name: 'log.cleaner.dedupe.buffer.size',
    type: 'long',
    default: 134217728n,
    importance: Importance.MEDIUM,
    updateMode: UpdateMode.CLUSTER_WIDE,
    doc: 'Memory for the cleaner\'s key-to-offset map, shared by its threads.',
  },
  {
    name: 'log.cleaner.io.buffer.load.factor',
    type: 'double',
    default: 0.9,
    importance: Importance.MEDIUM,
    updateMode: UpdateMode.CLUSTER_WIDE,
    doc: 'How full the cleaner\'s key-to-offset map may become.',
  },
  {
    name: 'log.cleaner.io.max.bytes.per.second',
    type: 'double',
    default: 1.7976931348623157e308,
    importance: Importance.MEDIUM,
    updateMode: UpdateMode.CLUSTER_WIDE,
    doc: 'The cleaner reads and writes at most this many bytes per second.',
  },
  {
    name: 'log.cleaner.backoff.ms',
    type: 'long',
    default: 15000n,
    validator: atLeast(0),
    importance: Importance.MEDIUM,
    updateMode: UpdateMode.CLUSTER_WIDE,
    doc: 'How long the cleaner sleeps when no log needs cleaning.',
  },
  {
    name: 'producer.id.expiration.ms',
    type: 'int',
    default: 86400000,
    validator: atLeast(1),
    importance: Importance.LOW,
    updateMode: UpdateMode.CLUSTER_WIDE,
    doc: 'How long a producer id with no writes is remembered by a partition.',
  },
  {
    name: 'max.incremental.fetch.session.cache.slots',
    type: 'int',
    default: 1000,
    validator: atLeast(0),
    importance: Importance.MEDIUM,
    doc: 'How many incremental fetch sessions (KIP-227) the broker keeps.',
  },
  {
    name: 'fetch.max.bytes',
    type: 'int',
    default: 57671680,
    validator: atLeast(1024),
    importance: Importance.MEDIUM,
    doc: 'The most bytes one fetch response carries, whatever the request asks.',
  },
  {
    name: 'offsets.topic.num.partitions',
    type: 'int',
    default: 50,
    validator: atLeast(1),
    importance: Importance.HIGH,
    doc: 'Partitions of __consumer_offsets; fixed once the topic exists.',
  },
  {
    name: 'offsets.topic.replication.factor',
    type: 'short',
    default: 1,
    validator: atLeast(1),
    importance: Importance.HIGH,
    doc: 'Replication factor of __consumer_offsets (1 here so a single node works out of the box; Kafka says 3).',
  },
  {
    name: 'transaction.state.log.num.partitions',
    type: 'int',
    default: 50,
    validator: atLeast(1),
    importance: Importance.HIGH,
    doc: 'Partitions of __transaction_state; fixed once the topic exists.',
  },
  {
    name: 'transaction.state.log.replication.factor',
    type: 'short',
    default: 1,
    validator: atLeast(1),
    importance: Importance.HIGH,
    doc: 'Replication factor of __transaction_state (1 here so a single node works out of the box; Kafka says 3).',
  },
  {
    name: 'transaction.max.timeout.ms',
    type: 'int',
    default: 900000,
    validator: atLeast(1),
    importance: Importance.HIGH,
    doc: 'The longest transaction timeout a producer may ask for.',
  },
  {
    name: 'transactional.id.expiration.ms',
    type: 'int',
    default: 604800000,
    validator: atLeast(1),
    importance: Importance.HIGH,
    doc: 'How long a transactional id with no transaction in progress is remembered.',
  },
  {
    name: 'transaction.abort.timed.out.transaction.cleanup.interval.ms',
    type: 'int',
    default: 10000,
    validator: atLeast(1),
    importance: Importance.LOW,
    doc: 'How often transactions past their timeout are looked for and aborted.',
  },
  {
    name: 'transaction.remove.expired.transaction.cleanup.interval.ms',
    type: 'int',
    default: 3600000,
    validator: atLeast(1),
    importance: Importance.LOW,
    doc: 'How often expired transactional ids are looked for and removed.',
  },
  {
    name: 'transaction.partition.verification.enable',
    type: 'boolean',
    default: true,
    importance: Importance.LOW,
    // Read at start-up (Kafka lets it change dynamically).
    doc: 'KIP-890: a partition takes a transactional write that would start a transaction only after the transaction coordinator confirms the partition is in it.',
  },
  {
    name: 'group.initial.rebalance.delay.ms',
    type: 'int',
    default: 3000,
    importance: Importance.MEDIUM,
    doc: 'How long the first rebalance of an empty group waits for more members.',
  },
  {
    name: 'group.min.session.timeout.ms',
    type: 'int',
    default: 6000,
    importance: Importance.MEDIUM,
    doc: 'The shortest session timeout a group member may ask for.',
  },
  {
    name: 'group.max.session.timeout.ms',
    type: 'int',
    default: 1800000,
    importance: Importance.MEDIUM,
    doc: 'The longest session timeout a group member may ask for.',
  },
  {
    name: 'group.max.size',
    type: 'int',
    default: INT_MAX,
    validator: atLeast(1),
    importance: Importance.MEDIUM,
    doc: 'The most members one group may have.',
  },
  {
    name: 'offsets.retention.minutes',
    type: 'int',
    default: 10080,
    validator: atLeast(1),
    importance: Importance.HIGH,
    doc: 'How long the committed offsets of an empty group are kept.',
  },
  {
    name: 'offset.metadata.max.bytes',
    type: 'int',
    default: 4096,
    importance: Importance.HIGH,
    doc: 'The largest metadata string an offset commit may carry.',
  },
  {
    name: 'unstable.api.versions.enable',
    type: 'boolean',
    default: false,
    importance: Importance.LOW,
    doc: 'Advertise API versions that Kafka marks unstable.',
  },
] as const satisfies readonly ConfigDef[];

type Defs = (typeof BROKER_CONFIG_DEFS)[number];
type ValueOf<D> = D extends { readonly type: infer T extends ConfigType; readonly default: infer V }
  ? ConfigValueTypes[T] | (null extends V ? null : never)
  : never;
export type BrokerConfigName = Defs['name'];
export type BrokerConfigValues = { readonly [D in Defs as D['name']]: ValueOf<D> };

export const BROKER_CONFIGS: ConfigDefTable = new ConfigDefTable(BROKER_CONFIG_DEFS);

// ---- derived views ---------------------------------------------------------------------------------

export interface Endpoint {
  /** Listener name, upper-cased as Kafka normalises it. */
  readonly listenerName: string;
  readonly securityProtocol: string;
  /** '' = every interface (for advertised endpoints it is replaced by the machine's host name). */
  readonly host: string;
  readonly port: number;
}

export interface BrokerConfig {
  /** Every defined key, parsed and validated; unset keys hold their defaults. */
  readonly values: BrokerConfigValues;
  /** Every key as the operator set it (server.properties, environment, overrides), unparsed. */
  readonly raw: ReadonlyMap<string, string>;
  /** Keys the caller set that no definition knows (kept, as Kafka does, for plugins and later issues). */
  readonly unknown: ReadonlyMap<string, string>;
  readonly nodeId: number;
  readonly listeners: readonly Endpoint[];
  /** Per listener, what clients are told; a port of 0 means "the port the listener bound". */
  readonly advertisedListeners: readonly Endpoint[];
  readonly logDirs: readonly string[];
  readonly socketRequestMaxBytes: number;
  readonly connectionsMaxIdleMs: number;
  readonly maxConnections: number;
  readonly maxConnectionsPerIp: number;
}

const SUPPORTED_PROTOCOLS = new Set(['PLAINTEXT']);
const ENDPOINT_PATTERN = /^(.*):\/\/\[?([0-9a-zA-Z\-%._:]*)\]?:(-?[0-9]+)$/;

function securityProtocolMap(entries: readonly string[]): Map<string, string> {
  const map = new Map<string, string>();
  for (const entry of entries) {
    const [name, protocol, extra] = entry.split(':').map((x) => x.trim());
    if (!name || !protocol || extra !== undefined) {
      throw invalidValue('listener.security.protocol.map', entries.join(','), 'must be a list of NAME:PROTOCOL pairs');
    }
    map.set(name.toUpperCase(), protocol.toUpperCase());
  }
  return map;
}

function parseEndpoints(key: string, entries: readonly string[], protocols: Map<string, string>): Endpoint[] {
  const endpoints: Endpoint[] = [];
  for (const entry of entries) {
    const m = ENDPOINT_PATTERN.exec(entry);
    if (m === null) {
      throw invalidValue(key, entries.join(','), `'${entry}' is not of the form NAME://host:port`);
    }
    const listenerName = m[1]!.toUpperCase();
    const port = Number(m[3]);
    if (!(port >= 0 && port <= 65535)) throw invalidValue(key, entries.join(','), `port ${m[3]} of '${entry}' must be in [0, 65535]`);
    const securityProtocol = protocols.get(listenerName);
    if (securityProtocol === undefined) {
      throw invalidValue(key, entries.join(','), `no security protocol is defined for listener ${listenerName} in listener.security.protocol.map`);
    }
    if (!SUPPORTED_PROTOCOLS.has(securityProtocol)) {
      throw invalidValue(key, entries.join(','), `security protocol ${securityProtocol} of listener ${listenerName} is not supported yet (supported: ${[...SUPPORTED_PROTOCOLS].join(', ')})`);
    }
    if (endpoints.some((e) => e.listenerName === listenerName)) {
      throw invalidValue(key, entries.join(','), `each listener must have a different name (${listenerName} is repeated)`);
    }
    endpoints.push({ listenerName, securityProtocol, host: m[2]!, port });
  }
  return endpoints;
}

/**
 * Parses and validates a broker configuration from string properties (server.properties, command line
 * overrides). Throws ConfigError (ERR_CONFIG) naming the key and what it allows.
 */
export function parseBrokerConfig(props: Readonly<Record<string, string>> | ReadonlyMap<string, string>): BrokerConfig {
  const entries = props instanceof Map ? props : new Map(Object.entries(props));
  const v = Object.fromEntries(BROKER_CONFIGS.parseAll(entries)) as BrokerConfigValues;
  // Broker defaults of topic configs (log.retention.ms, message.max.bytes, …) are defined with the topic
  // configs they feed; a bad value must stop the start just like a bad network setting.
  for (const [name, raw] of entries) if (BROKER_LOG_CONFIG_DEFS.has(name)) BROKER_LOG_CONFIG_DEFS.parse(name, raw);
  const unknown = new Map([...entries].filter(([name]) => !BROKER_CONFIGS.has(name) && !BROKER_LOG_CONFIG_DEFS.has(name)));

  const protocols = securityProtocolMap(v['listener.security.protocol.map']);
  const listeners = parseEndpoints('listeners', v.listeners, protocols);
  const ports = listeners.filter((e) => e.port !== 0).map((e) => e.port);
  if (new Set(ports).size !== ports.length) {
    throw invalidValue('listeners', v.listeners.join(','), 'each listener must have a different port');
  }
  const advertisedListeners =
    v['advertised.listeners'] === null ? listeners : parseEndpoints('advertised.listeners', v['advertised.listeners'], protocols);
  for (const e of advertisedListeners) {
    if (e.host === '0.0.0.0') {
      throw invalidValue(
        'advertised.listeners',
        advertisedListeners.map((x) => `${x.listenerName}://${x.host}:${x.port}`).join(','),
        'cannot use the nonroutable meta-address 0.0.0.0; use a routable IP address',
      );
    }
    if (!listeners.some((l) => l.listenerName === e.listenerName)) {
      throw invalidValue(
        'advertised.listeners',
        (v['advertised.listeners'] ?? []).join(','),
        `listener names must be a subset of those in listeners (${listeners.map((l) => l.listenerName).join(', ')})`,
      );
    }
  }
  const logDirs = v['log.dirs'] ?? v['log.dir'].split(/\s*,\s*/);
  if (logDirs.length === 0 || logDirs.some((d) => d === '')) {
    throw invalidValue(v['log.dirs'] === null ? 'log.dir' : 'log.dirs', logDirs.join(','), 'must name at least one non-empty directory');
  }
  return {
    values: v,
    raw: entries,
    unknown,
    nodeId: v['node.id'],
    listeners,
    advertisedListeners,
    logDirs,
    socketRequestMaxBytes: v['socket.request.max.bytes'],
    connectionsMaxIdleMs: longToNumber(v['connections.max.idle.ms']),
    maxConnections: v['max.connections'],
    maxConnectionsPerIp: v['max.connections.per.ip'],
  };
}

export const formatEndpoint = (e: Endpoint): string =>
  `${e.listenerName}://${e.host.includes(':') ? `[${e.host}]` : e.host}:${e.port}`;
