// The composition root of one Strata process: configuration in, a listening broker out, and an orderly stop.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { BrokerConfig, Endpoint } from '../config/broker-config.js';
import { formatEndpoint } from '../config/broker-config.js';
import { HandlerRegistry } from '../broker/registry.js';
import type { AdvertisedEndpoint, NodeFeatures, NodeInfo } from '../broker/node-info.js';
import { apiVersionsHandler } from '../broker/handlers/api-versions.js';
import { metadataHandler } from '../broker/handlers/metadata.js';
import { NetworkServer } from '../network/server.js';
import { RequestProcessor } from '../network/request-processor.js';
import { DEFAULT_MAX_IN_FLIGHT, DEFAULT_MAX_UNSENT_BYTES } from '../network/connection.js';
import { StrataError } from '../protocol/strata-error.js';
import { longToNumber } from '../config/config-def.js';
import type { BrokerConfigLayers } from '../config/topic-config.js';
import { MetadataView } from '../broker/metadata-view.js';
import { registerAdminHandlers } from '../broker/admin-handlers.js';
import { startMetadataQuorum, type MetadataQuorum } from '../controller/metadata-quorum.js';
import type { MetadataImage } from '../metadata/image.js';
import { BrokerMetadataPublisher } from './broker-metadata-publisher.js';
import { registerGroupHandlers } from '../broker/group-handlers.js';
import { GroupCoordinatorWiring } from './group-coordinator-wiring.js';
import { registerTxnHandlers } from '../broker/txn-handlers.js';
import { PendingTxnOffsets, TxnCoordinatorWiring, registerDataPath, txnCoordinatorConfigFrom } from './txn-coordinator-wiring.js';
import { DataPath, partitionConfigFor } from './data-path.js';
import { ensureMetaProperties } from './meta-properties.js';

/** How long a graceful stop waits for in-flight requests before cutting connections. */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 30_000;

/** The handlers that need no broker state; the rest are added in StrataNode.start with their dependencies. */
export function defaultRegistry(): HandlerRegistry {
  return new HandlerRegistry().register(apiVersionsHandler).register(metadataHandler);
}

/** metadata.version levels this build supports: 3.0-IV1 (1) through 3.9-IV0 (21), as Kafka 3.9. */
const METADATA_VERSION_RANGE = { name: 'metadata.version', minVersion: 1, maxVersion: 21 } as const;

/** Kafka's SecurityProtocol ids, as broker registrations record them. */
const SECURITY_PROTOCOL_IDS: Readonly<Record<string, number>> = { PLAINTEXT: 0, SSL: 1, SASL_PLAINTEXT: 2, SASL_SSL: 3 };

class LocalNode implements NodeInfo {
  readonly nodeId: number;
  readonly clusterId: string;
  readonly rack: string | null;
  readonly #configured: readonly Endpoint[];
  readonly #boundPort: (listenerName: string) => number | undefined;
  readonly #image: () => MetadataImage;

  constructor(opts: {
    nodeId: number;
    clusterId: string;
    rack: string | null;
    advertised: readonly Endpoint[];
    boundPort: (listenerName: string) => number | undefined;
    image: () => MetadataImage;
  }) {
    this.nodeId = opts.nodeId;
    this.clusterId = opts.clusterId;
    this.rack = opts.rack;
    this.#configured = opts.advertised;
    this.#boundPort = opts.boundPort;
    this.#image = opts.image;
  }

  // A single node in combined mode is its own controller.
  controllerId(): number {
    return this.nodeId;
  }

  advertisedEndpoint(listenerName: string): AdvertisedEndpoint | undefined {
    const e = this.#configured.find((x) => x.listenerName === listenerName);
    return e === undefined ? undefined : this.#advertise(e);
  }

  advertisedEndpoints(): readonly AdvertisedEndpoint[] {
    return this.#configured.map((e) => this.#advertise(e));
  }

  /**
   * As Kafka advertises a listener: an empty host becomes the machine's host name, port 0 the port the
   * listener actually bound (resolved on use, so it is right from the first request on that listener).
   */
  #advertise(e: Endpoint): AdvertisedEndpoint {
    const port = e.port === 0 ? (this.#boundPort(e.listenerName) ?? 0) : e.port;
    return { listenerName: e.listenerName, securityProtocol: e.securityProtocol, host: e.host === '' ? hostname() : e.host, port };
  }

  /** What ApiVersions v3+ reports: the supported range and the level the metadata log finalized. */
  features(): NodeFeatures {
    const image = this.#image();
    const level = image.features.metadataVersion;
    return {
      supported: [METADATA_VERSION_RANGE],
      finalized: level > 0 ? [{ name: METADATA_VERSION_RANGE.name, minVersionLevel: level, maxVersionLevel: level }] : [],
      finalizedEpoch: BigInt(image.provenance.offset),
    };
  }
}

export interface StrataNodeOptions {
  readonly config: BrokerConfig;
  readonly log: Logger;
  /** Extra handlers for tests; the node adds its own to it. Defaults to defaultRegistry(). */
  readonly registry?: HandlerRegistry;
}

const int = (v: bigint | number): number => (typeof v === 'bigint' ? longToNumber(v) : v);

export class StrataNode {
  readonly #server: NetworkServer;
  readonly #node: LocalNode;
  readonly #quorum: MetadataQuorum;
  readonly #dataPath: DataPath;
  readonly #log: Logger;
  readonly #groups: GroupCoordinatorWiring;
  readonly #txns: TxnCoordinatorWiring;
  #stopping: Promise<void> | null = null;

  private constructor(server: NetworkServer, node: LocalNode, quorum: MetadataQuorum, dataPath: DataPath, groups: GroupCoordinatorWiring, txns: TxnCoordinatorWiring, log: Logger) {
    this.#groups = groups;
    this.#txns = txns;
    this.#server = server;
    this.#node = node;
    this.#quorum = quorum;
    this.#dataPath = dataPath;
    this.#log = log;
  }

  /**
   * Starts one node in combined mode: the metadata log is replayed first (so every partition opens with
   * its topic's config), then the data path, then the listeners; last, the broker registers with its own
   * controller, which elects it leader of its partitions.
   */
  static async start(opts: StrataNodeOptions): Promise<StrataNode> {
    const { config, log } = opts;
    if (config.nodeId < 0) {
      throw new StrataError('ERR_CONFIG', `Missing required configuration node.id: must be set to a non-negative id`);
    }
    const v = config.values;
    const meta = await ensureMetaProperties(config.logDirs, config.nodeId);
    const storageLogger = { info: (m: string) => log.info(m), warn: (m: string) => log.warn(m) };

    const quorum = await startMetadataQuorum({
      metadataLogDir: v['metadata.log.dir'] ?? config.logDirs[0]!,
      nodeId: config.nodeId,
      clusterId: meta.clusterId,
      logger: storageLogger,
      onPublisherError: (publisher, err) => log.error({ publisher: publisher.name, err }, 'Metadata publisher failed'),
      controller: {
        defaultNumPartitions: v['num.partitions'],
        defaultReplicationFactor: v['default.replication.factor'],
        staticBrokerConfig: config.raw,
        logger: { info: (m: string) => log.info(m), warn: (m: string) => log.warn(m) },
      },
    });
    const image = (): MetadataImage => quorum.loader.image;
    const brokerLayers = (): BrokerConfigLayers => ({
      dynamicBroker: image().brokerConfigs(config.nodeId),
      dynamicDefault: image().clusterDefaultConfigs(),
      static: config.raw,
    });

    let dataPath: DataPath;
    try {
      const view = new MetadataView({ image, nodeId: config.nodeId, staticConfig: config.raw });
      dataPath = await DataPath.start({
        nodeId: config.nodeId,
        logDirs: config.logDirs,
        log,
        topics: view,
        brokerLayers: brokerLayers(),
        configFor: (topic) => partitionConfigFor(image().topicConfigs(topic), brokerLayers()).log,
        fetchSessionCacheSlots: v['max.incremental.fetch.session.cache.slots'],
        fetchMaxBytes: v['fetch.max.bytes'],
        retentionCheckIntervalMs: int(v['log.retention.check.interval.ms']),
        producerIdExpirationMs: v['producer.id.expiration.ms'],
        cleaner: {
          enable: v['log.cleaner.enable'],
          threads: v['log.cleaner.threads'],
          dedupeBufferSize: int(v['log.cleaner.dedupe.buffer.size']),
          ioBufferLoadFactor: v['log.cleaner.io.buffer.load.factor'],
          maxIoBytesPerSecond: v['log.cleaner.io.max.bytes.per.second'],
          backoffMs: int(v['log.cleaner.backoff.ms']),
        },
      });
      // KIP-890 part 1: the produce path asks this node's transaction coordinator (registerDataPath).
      dataPath.replicaManager.transactionVerificationEnabled = v['transaction.partition.verification.enable'];
      const brokerPublisher = new BrokerMetadataPublisher({ nodeId: config.nodeId, replicaManager: dataPath.replicaManager, staticConfig: config.raw, log });
      const pendingTxnOffsets = new PendingTxnOffsets();
      const groups = new GroupCoordinatorWiring({
        pendingTransactionalOffsets: pendingTxnOffsets,
        nodeId: config.nodeId,
        replicaManager: dataPath.replicaManager,
        controller: quorum.controller,
        metadata: view,
        replicationFactor: v['offsets.topic.replication.factor'],
        config: {
          offsetsTopicNumPartitions: v['offsets.topic.num.partitions'],
          groupMinSessionTimeoutMs: v['group.min.session.timeout.ms'],
          groupMaxSessionTimeoutMs: v['group.max.session.timeout.ms'],
          groupInitialRebalanceDelayMs: v['group.initial.rebalance.delay.ms'],
          groupMaxSize: v['group.max.size'],
          offsetMetadataMaxBytes: v['offset.metadata.max.bytes'],
          offsetsRetentionMs: v['offsets.retention.minutes'] * 60_000,
        },
        log,
      });
      const txns = new TxnCoordinatorWiring({
        nodeId: config.nodeId,
        replicaManager: dataPath.replicaManager,
        controller: quorum.controller,
        metadata: view,
        replicationFactor: v['transaction.state.log.replication.factor'],
        config: txnCoordinatorConfigFrom(config.raw, {
          transactionStateLogNumPartitions: v['transaction.state.log.num.partitions'],
          transactionMaxTimeoutMs: v['transaction.max.timeout.ms'],
          offsetsTopicNumPartitions: v['offsets.topic.num.partitions'],
        }),
        groups: groups.coordinator,
        pendingOffsets: pendingTxnOffsets,
        log,
      });

      const node: LocalNode = new LocalNode({
        nodeId: config.nodeId,
        clusterId: meta.clusterId,
        rack: v['broker.rack'],
        advertised: config.advertisedListeners,
        boundPort: (name): number | undefined => server.boundPort(name),
        image,
      });
      const registry = opts.registry ?? new HandlerRegistry().register(apiVersionsHandler);
      registerAdminHandlers(registry, { controller: quorum.controller, metadata: view, transactions: () => txns.coordinator });
      registerDataPath(dataPath, registry, txns);
      registerGroupHandlers(registry, { coordinator: groups.coordinator, locator: groups, transactionLocator: txns });
      registerTxnHandlers(registry, { coordinator: txns.coordinator, markers: txns.markers, groups: groups.coordinator, pendingOffsets: txns.offsetLog });
      const server: NetworkServer = new NetworkServer({
        listeners: config.listeners.map((l) => ({ name: l.listenerName, securityProtocol: l.securityProtocol, host: l.host, port: l.port })),
        processor: new RequestProcessor(registry, node, log),
        limits: {
          maxFrameBytes: config.socketRequestMaxBytes,
          idleMs: config.connectionsMaxIdleMs,
          maxInFlight: DEFAULT_MAX_IN_FLIGHT,
          maxUnsentBytes: DEFAULT_MAX_UNSENT_BYTES,
        },
        maxConnections: config.maxConnections,
        maxConnectionsPerIp: config.maxConnectionsPerIp,
        log,
      });
      await server.start();
      const instance = new StrataNode(server, node, quorum, dataPath, groups, txns, log);
      await quorum.controller.registerLocalBroker({
        brokerId: config.nodeId,
        incarnationId: randomUUID(),
        listeners: node.advertisedEndpoints().map((e) => ({
          name: e.listenerName,
          host: e.host,
          port: e.port,
          securityProtocol: SECURITY_PROTOCOL_IDS[e.securityProtocol] ?? 0,
        })),
        rack: node.rack,
        features: [
          { name: METADATA_VERSION_RANGE.name, minSupportedVersion: METADATA_VERSION_RANGE.minVersion, maxSupportedVersion: METADATA_VERSION_RANGE.maxVersion },
        ],
      });
      // Leadership is taken from the metadata only now: the replayed image still names this node leader at
      // the epochs of its previous run, and acting on them (loading coordinators, writing markers) would be
      // undone a moment later by the re-election its registration causes. The BrokerMetadataPublisher goes
      // first, so the __consumer_offsets and __transaction_state partitions the coordinators load are open.
      await quorum.loader.installPublisher(brokerPublisher);
      await quorum.loader.installPublisher(groups);
      await quorum.loader.installPublisher(txns);
      if (config.unknown.size > 0) {
        log.warn({ keys: [...config.unknown.keys()] }, 'These configurations were supplied but are not known; they are ignored');
      }
      log.info({ nodeId: node.nodeId, clusterId: node.clusterId, listeners: instance.advertisedListeners() }, 'Strata started');
      return instance;
    } catch (e) {
      await quorum.close().catch(() => undefined);
      throw e;
    }
  }

  get nodeId(): number {
    return this.#node.nodeId;
  }

  get clusterId(): string {
    return this.#node.clusterId;
  }

  /** The data path, for tests and tools that act on partitions directly. */
  get dataPath(): DataPath {
    return this.#dataPath;
  }

  /** The transaction coordinator's wiring (coordinator, markers, transactional offsets), for tests and tools. */
  get transactions(): TxnCoordinatorWiring {
    return this.#txns;
  }

  /** The group coordinator's wiring, for tests and tools. */
  get groups(): GroupCoordinatorWiring {
    return this.#groups;
  }

  /** What clients are told, e.g. ["PLAINTEXT://127.0.0.1:9092"]. */
  advertisedListeners(): string[] {
    return this.#node.advertisedEndpoints().map((e) => formatEndpoint(e));
  }

  /** The port a listener bound. */
  boundPort(listenerName: string): number | undefined {
    return this.#server.boundPort(listenerName);
  }

  /**
   * Stops accepting, lets in-flight requests answer (up to `timeoutMs`), then closes the data path (its
   * logs are flushed and the clean-shutdown marker written) and the metadata log. Idempotent.
   */
  stop(timeoutMs = DEFAULT_SHUTDOWN_TIMEOUT_MS): Promise<void> {
    this.#stopping ??= (async () => {
      this.#log.info('Strata shutting down');
      await this.#server.shutdown(timeoutMs);
      this.#txns.close();
      this.#groups.close();
      await this.#dataPath.shutdown();
      await this.#quorum.close();
      this.#log.info('Strata stopped');
    })();
    return this.#stopping;
  }
}
