// The composition root of one Strata process: configuration in, a listening broker out, and an orderly stop.
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
import { ensureMetaProperties } from './meta-properties.js';

/** How long a graceful stop waits for in-flight requests before cutting connections. */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 30_000;

/** The handlers this build serves. Adding an API is adding its handler here. */
export function defaultRegistry(): HandlerRegistry {
  return new HandlerRegistry().register(apiVersionsHandler).register(metadataHandler);
}

const NO_FEATURES: NodeFeatures = { supported: [], finalized: [], finalizedEpoch: -1n };

class LocalNode implements NodeInfo {
  readonly nodeId: number;
  readonly clusterId: string;
  readonly rack: string | null = null;
  readonly #configured: readonly Endpoint[];
  readonly #boundPort: (listenerName: string) => number | undefined;

  constructor(nodeId: number, clusterId: string, advertised: readonly Endpoint[], boundPort: (listenerName: string) => number | undefined) {
    this.nodeId = nodeId;
    this.clusterId = clusterId;
    this.#configured = advertised;
    this.#boundPort = boundPort;
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

  features(): NodeFeatures {
    return NO_FEATURES;
  }
}

export interface StrataNodeOptions {
  readonly config: BrokerConfig;
  readonly log: Logger;
  /** Defaults to defaultRegistry(); tests register their own handlers. */
  readonly registry?: HandlerRegistry;
}

export class StrataNode {
  readonly #server: NetworkServer;
  readonly #node: LocalNode;
  readonly #log: Logger;
  #stopping: Promise<void> | null = null;

  private constructor(server: NetworkServer, node: LocalNode, log: Logger) {
    this.#server = server;
    this.#node = node;
    this.#log = log;
  }

  /** Prepares the data directories, binds every listener and starts serving. */
  static async start(opts: StrataNodeOptions): Promise<StrataNode> {
    const { config, log } = opts;
    if (config.nodeId < 0) {
      throw new StrataError('ERR_CONFIG', `Missing required configuration node.id: must be set to a non-negative id`);
    }
    const meta = await ensureMetaProperties(config.logDirs, config.nodeId);
    // The node asks the server for bound ports only when a request arrives, i.e. after the server exists.
    const node: LocalNode = new LocalNode(config.nodeId, meta.clusterId, config.advertisedListeners, (name): number | undefined =>
      server.boundPort(name),
    );
    const registry = opts.registry ?? defaultRegistry();
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
    const instance = new StrataNode(server, node, log);
    log.info(
      { nodeId: node.nodeId, clusterId: node.clusterId, listeners: instance.advertisedListeners() },
      'Strata started',
    );
    return instance;
  }

  get nodeId(): number {
    return this.#node.nodeId;
  }

  get clusterId(): string {
    return this.#node.clusterId;
  }

  /** What clients are told, e.g. ["PLAINTEXT://127.0.0.1:9092"]. */
  advertisedListeners(): string[] {
    return this.#node.advertisedEndpoints().map((e) => formatEndpoint(e));
  }

  /** The port a listener bound. */
  boundPort(listenerName: string): number | undefined {
    return this.#server.boundPort(listenerName);
  }

  /** Stops accepting, lets in-flight requests answer (up to `timeoutMs`), then closes. Idempotent. */
  stop(timeoutMs = DEFAULT_SHUTDOWN_TIMEOUT_MS): Promise<void> {
    this.#stopping ??= (async () => {
      this.#log.info('Strata shutting down');
      await this.#server.shutdown(timeoutMs);
      this.#log.info('Strata stopped');
    })();
    return this.#stopping;
  }
}

