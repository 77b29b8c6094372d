// The TCP side of a broker: one listening socket per configured listener, connection limits, and a graceful
// shutdown that lets in-flight requests answer before sockets close.
import { createServer, type Server, type Socket, type AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { Connection, type ConnectionInfo, type ConnectionLimits, type FrameProcessor } from './connection.js';
import { StrataError } from '../protocol/strata-error.js';

export interface ListenerSpec {
  /** Upper-case listener name, e.g. PLAINTEXT or INTERNAL. */
  readonly name: string;
  readonly securityProtocol: string;
  /** null or '' = every interface. */
  readonly host: string | null;
  /** 0 = an ephemeral port, see boundPort(). */
  readonly port: number;
}

export interface NetworkServerOptions {
  readonly listeners: readonly ListenerSpec[];
  readonly processor: FrameProcessor;
  readonly limits: ConnectionLimits;
  /** Broker-wide cap on open connections; excess connections are closed on accept. */
  readonly maxConnections: number;
  /** Cap per client IP address. */
  readonly maxConnectionsPerIp: number;
  readonly log: Logger;
}

export interface BoundListener {
  readonly name: string;
  readonly securityProtocol: string;
  readonly host: string | null;
  readonly port: number;
}

interface Bound {
  readonly spec: ListenerSpec;
  readonly server: Server;
  port: number;
}

export class NetworkServer {
  readonly #opts: NetworkServerOptions;
  readonly #bound: Bound[] = [];
  readonly #connections = new Set<Connection>();
  readonly #perIp = new Map<string, number>();
  #nextIndex = 0;
  #stopping = false;

  constructor(opts: NetworkServerOptions) {
    this.#opts = opts;
  }

  /** Binds every listener; rejects (after closing what was bound) if any bind fails. */
  async start(): Promise<void> {
    try {
      for (const spec of this.#opts.listeners) this.#bound.push(await this.#listen(spec));
    } catch (err) {
      await this.#closeListeners();
      throw err;
    }
  }

  /** The port a listener actually bound (the ephemeral one when configured with port 0). */
  boundPort(listenerName: string): number | undefined {
    return this.#bound.find((b) => b.spec.name === listenerName)?.port;
  }

  get listeners(): BoundListener[] {
    return this.#bound.map((b) => ({ ...b.spec, port: b.port }));
  }

  get connectionCount(): number {
    return this.#connections.size;
  }

  /**
   * Stops accepting, lets every connection finish its in-flight requests and flush their responses, and
   * closes it; connections still busy after `timeoutMs` are cut.
   */
  async shutdown(timeoutMs: number): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    const closing = this.#closeListeners();
    await Promise.all([...this.#connections].map((c) => c.shutdown(timeoutMs)));
    await closing;
  }

  #listen(spec: ListenerSpec): Promise<Bound> {
    const server = createServer({ noDelay: true, keepAlive: true, pauseOnConnect: true });
    const bound: Bound = { spec, server, port: spec.port };
    server.on('connection', (socket) => this.#accept(bound, socket));
    server.on('error', (err) => this.#opts.log.error({ listener: spec.name, err: err.message }, 'Listener error'));
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => {
        server.close();
        reject(
          new StrataError('ERR_NETWORK', `Socket server failed to bind to ${spec.host ?? ''}:${spec.port}: ${err.message}`, {
            cause: err,
          }),
        );
      };
      server.once('error', onError);
      const host = spec.host === null || spec.host === '' ? undefined : spec.host;
      server.listen({ host, port: spec.port }, () => {
        server.off('error', onError);
        bound.port = (server.address() as AddressInfo).port;
        this.#opts.log.info({ listener: spec.name, host: host ?? '', port: bound.port }, 'Awaiting socket connections');
        resolve(bound);
      });
    });
  }

  #accept(bound: Bound, socket: Socket): void {
    const remoteAddress = socket.remoteAddress;
    if (this.#stopping || remoteAddress === undefined) {
      socket.destroy();
      return;
    }
    const { maxConnections, maxConnectionsPerIp, log } = this.#opts;
    if (this.#connections.size >= maxConnections) {
      log.info({ client: remoteAddress, limit: maxConnections }, 'Rejected connection: broker connection limit reached');
      socket.destroy();
      return;
    }
    const fromIp = this.#perIp.get(remoteAddress) ?? 0;
    if (fromIp >= maxConnectionsPerIp) {
      log.info({ client: remoteAddress, limit: maxConnectionsPerIp }, 'Rejected connection: address has the maximum number of connections');
      socket.destroy();
      return;
    }
    this.#perIp.set(remoteAddress, fromIp + 1);
    const info: ConnectionInfo = {
      id: `${socket.localAddress}:${socket.localPort}-${remoteAddress}:${socket.remotePort}-${this.#nextIndex++}`,
      listenerName: bound.spec.name,
      securityProtocol: bound.spec.securityProtocol,
      remoteAddress,
      remotePort: socket.remotePort ?? 0,
      localAddress: socket.localAddress ?? '',
      localPort: socket.localPort ?? 0,
    };
    const conn = new Connection(socket, info, this.#opts.processor, this.#opts.limits, log);
    this.#connections.add(conn);
    void conn.whenClosed().then(() => {
      this.#connections.delete(conn);
      const n = (this.#perIp.get(remoteAddress) ?? 1) - 1;
      if (n <= 0) this.#perIp.delete(remoteAddress);
      else this.#perIp.set(remoteAddress, n);
    });
  }

  async #closeListeners(): Promise<void> {
    await Promise.all(
      this.#bound.map((b) => new Promise<void>((resolve) => (b.server.listening ? b.server.close(() => resolve()) : resolve()))),
    );
  }
}
