// One TCP connection to one broker: framing, correlation ids, pipelined requests answered in order, the
// ApiVersions handshake (KIP-511) and per-API version negotiation.
//
// Kafka answers the requests of a connection in the order they were sent, so the pending requests are a
// FIFO queue and a response whose correlation id is not the head's means the stream can no longer be
// trusted: the connection is closed. For the same reason a request that times out closes the connection
// (as Kafka's NetworkClient does): its response may still arrive and there is no way to skip it.
import { Socket, connect as netConnect } from 'node:net';
import { API_SCHEMAS, ApiKey, type ApiMessages, type ApiSchema } from '../protocol/generated/apis.js';
import { decodeResponseHeader, encodeRequestHeader } from '../protocol/generated/headers.js';
import type { ApiVersionsResponse } from '../protocol/generated/messages/api-versions.js';
import { ErrorCode } from '../protocol/errors.js';
import { Reader } from '../protocol/reader.js';
import { StrataError } from '../protocol/strata-error.js';
import { Writer } from '../protocol/writer.js';
import { KafkaResponseError } from './errors.js';
import { FrameSplitter } from './frame-splitter.js';

export const CLIENT_SOFTWARE_NAME = 'strata-client';
export const CLIENT_SOFTWARE_VERSION = '0.1.0';

export interface ConnectionOptions {
  readonly host: string;
  readonly port: number;
  /** The request header's client id. */
  readonly clientId?: string;
  readonly connectTimeoutMs?: number;
  /** Time a request may wait for its response before the connection is given up. */
  readonly requestTimeoutMs?: number;
  /** KIP-511 client software name and version, sent in ApiVersions v3+. */
  readonly softwareName?: string;
  readonly softwareVersion?: string;
  /** Largest response frame accepted. */
  readonly maxResponseBytes?: number;
  /** ApiVersions version to try first (default: the newest this client knows). */
  readonly apiVersionsVersion?: number;
}

export interface VersionRange {
  readonly minVersion: number;
  readonly maxVersion: number;
}

export interface SendOptions {
  /** Restricts the versions this request may use (e.g. Produce needs v3+ for record batch v2). */
  readonly minVersion?: number;
  readonly maxVersion?: number;
  readonly timeoutMs?: number;
}

export interface Sent<Res> {
  readonly version: number;
  readonly response: Res;
}

type Body<K extends keyof ApiMessages> = ApiMessages[K]['request'];
type RequestBuilder<K extends keyof ApiMessages> = Body<K> | ((version: number) => Body<K>);

interface Pending {
  readonly correlationId: number;
  readonly schema: ApiSchema;
  readonly version: number;
  readonly resolve: (response: unknown) => void;
  readonly reject: (err: Error) => void;
  timer: NodeJS.Timeout | undefined;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_RESPONSE_BYTES = 512 * 1024 * 1024;

export class BrokerConnection {
  readonly host: string;
  readonly port: number;
  readonly #socket: Socket;
  readonly #clientId: string;
  readonly #requestTimeoutMs: number;
  readonly #splitter: FrameSplitter;
  readonly #pending: Pending[] = [];
  readonly #closeListeners: ((err: Error | undefined) => void)[] = [];
  #nextCorrelationId = 0;
  #apiVersions = new Map<number, VersionRange>();
  #closedWith: Error | null = null;
  #closedPromise: Promise<void>;

  private constructor(socket: Socket, opts: ConnectionOptions) {
    this.host = opts.host;
    this.port = opts.port;
    this.#socket = socket;
    this.#clientId = opts.clientId ?? CLIENT_SOFTWARE_NAME;
    this.#requestTimeoutMs = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.#splitter = new FrameSplitter(opts.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', (err) => this.#fail(new StrataError('ERR_NETWORK', `connection to ${this.address} failed: ${err.message}`, { cause: err })));
    this.#closedPromise = new Promise((res) => socket.once('close', () => res()));
    socket.once('close', () => this.#fail(new StrataError('ERR_NETWORK', `connection to ${this.address} was closed`)));
  }

  /** Opens a connection and performs the ApiVersions handshake. */
  static async connect(opts: ConnectionOptions): Promise<BrokerConnection> {
    const socket = await openSocket(opts.host, opts.port, opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS);
    const conn = new BrokerConnection(socket, opts);
    try {
      await conn.#handshake(opts);
    } catch (err) {
      conn.destroy();
      throw err;
    }
    return conn;
  }

  get address(): string {
    return `${this.host.includes(':') ? `[${this.host}]` : this.host}:${this.port}`;
  }

  get closed(): boolean {
    return this.#closedWith !== null;
  }

  /** Requests sent and not yet answered. */
  get inFlight(): number {
    return this.#pending.length;
  }

  /** The version range the broker advertised for each API key. */
  get apiVersions(): ReadonlyMap<number, VersionRange> {
    return this.#apiVersions;
  }

  /** Calls `listener` once when the connection closes (with the error that closed it, if any). */
  onClose(listener: (err: Error | undefined) => void): void {
    this.#closeListeners.push(listener);
  }

  /**
   * The highest version of `apiKey` that both sides support within `limits`, or undefined when there is
   * none (the broker does not offer the API, or not in a version we can use).
   */
  versionFor(apiKey: number, limits: SendOptions = {}): number | undefined {
    const ours = API_SCHEMAS[apiKey];
    const theirs = this.#apiVersions.get(apiKey);
    if (ours === undefined || theirs === undefined) return undefined;
    const max = Math.min(ours.maxVersion, theirs.maxVersion, limits.maxVersion ?? Infinity);
    const min = Math.max(ours.minVersion, theirs.minVersion, limits.minVersion ?? 0);
    return max >= min ? max : undefined;
  }

  supports(apiKey: number, limits: SendOptions = {}): boolean {
    return this.versionFor(apiKey, limits) !== undefined;
  }

  /**
   * Sends a request in the negotiated version and resolves with its decoded response. `build` may be a
   * function of the version, for requests whose shape depends on it.
   */
  async send<K extends keyof ApiMessages>(apiKey: K, build: RequestBuilder<K>, opts: SendOptions = {}): Promise<Sent<ApiMessages[K]['response']>> {
    const version = this.#negotiate(apiKey, opts);
    const body = typeof build === 'function' ? (build as (v: number) => Body<K>)(version) : build;
    const response = await this.#request(API_SCHEMAS[apiKey]!, version, body, true, opts.timeoutMs);
    return { version, response: response as ApiMessages[K]['response'] };
  }

  /**
   * Sends a request the broker does not answer (Produce with acks=0); resolves once the bytes are handed
   * to the socket.
   */
  async sendWithoutResponse<K extends keyof ApiMessages>(apiKey: K, build: RequestBuilder<K>, opts: SendOptions = {}): Promise<number> {
    const version = this.#negotiate(apiKey, opts);
    const body = typeof build === 'function' ? (build as (v: number) => Body<K>)(version) : build;
    await this.#request(API_SCHEMAS[apiKey]!, version, body, false, opts.timeoutMs);
    return version;
  }

  /** Closes the connection; requests still in flight fail with ERR_NETWORK. */
  async close(): Promise<void> {
    this.#fail(new StrataError('ERR_NETWORK', `connection to ${this.address} was closed by the client`), true);
    this.#socket.end();
    const timer = setTimeout(() => this.#socket.destroy(), 1_000);
    await this.#closedPromise;
    clearTimeout(timer);
  }

  /** Closes at once without waiting for the peer. */
  destroy(): void {
    this.#fail(new StrataError('ERR_NETWORK', `connection to ${this.address} was closed by the client`), true);
    this.#socket.destroy();
  }

  #negotiate(apiKey: number, opts: SendOptions): number {
    const version = this.versionFor(apiKey, opts);
    if (version !== undefined) return version;
    const schema = API_SCHEMAS[apiKey];
    const name = schema?.name ?? `api key ${apiKey}`;
    const theirs = this.#apiVersions.get(apiKey);
    if (theirs === undefined) throw new StrataError('ERR_UNSUPPORTED_VERSION', `broker ${this.address} does not support ${name}`);
    const wanted = `${Math.max(schema?.minVersion ?? 0, opts.minVersion ?? 0)}-${Math.min(schema?.maxVersion ?? 0, opts.maxVersion ?? Infinity)}`;
    throw new StrataError('ERR_UNSUPPORTED_VERSION', `broker ${this.address} supports ${name} v${theirs.minVersion}-${theirs.maxVersion}, this request needs v${wanted}`);
  }

  async #handshake(opts: ConnectionOptions): Promise<void> {
    const schema = API_SCHEMAS[ApiKey.ApiVersions]!;
    let version = opts.apiVersionsVersion ?? schema.maxVersion;
    const request = {
      clientSoftwareName: opts.softwareName ?? CLIENT_SOFTWARE_NAME,
      clientSoftwareVersion: opts.softwareVersion ?? CLIENT_SOFTWARE_VERSION,
    };
    for (let attempt = 0; ; attempt++) {
      const response = (await this.#request(schema, version, version >= 3 ? request : { clientSoftwareName: '', clientSoftwareVersion: '' }, true)) as ApiVersionsResponse;
      if (response.errorCode === ErrorCode.UNSUPPORTED_VERSION && attempt === 0) {
        // KIP-511: the broker lists the ApiVersions versions it knows; retry with the newest of them we know.
        const theirs = response.apiKeys.find((k) => k.apiKey === ApiKey.ApiVersions);
        const fallback = theirs === undefined ? 0 : Math.min(theirs.maxVersion, schema.maxVersion);
        if (fallback < version) {
          version = fallback;
          continue;
        }
      }
      if (response.errorCode !== ErrorCode.NONE) {
        throw new KafkaResponseError(response.errorCode, { subject: `ApiVersions v${version} to ${this.address}` });
      }
      this.#apiVersions = new Map(response.apiKeys.map((k) => [k.apiKey, { minVersion: k.minVersion, maxVersion: k.maxVersion }]));
      return;
    }
  }

  #request(schema: ApiSchema, version: number, body: unknown, expectResponse: boolean, timeoutMs?: number): Promise<unknown> {
    if (this.#closedWith !== null) return Promise.reject(this.#closedWith);
    const correlationId = this.#nextCorrelationId;
    this.#nextCorrelationId = (this.#nextCorrelationId + 1) & 0x7fffffff;
    const w = new Writer();
    const size = w.startFrame();
    try {
      encodeRequestHeader(w, schema.requestHeaderVersion(version), {
        requestApiKey: schema.apiKey,
        requestApiVersion: version,
        correlationId,
        clientId: this.#clientId,
      });
      schema.encodeRequest(w, version, body);
    } catch (err) {
      return Promise.reject(err);
    }
    w.endFrame(size);
    return new Promise((resolve, reject) => {
      if (expectResponse) {
        const pending: Pending = { correlationId, schema, version, resolve, reject, timer: undefined };
        const limit = timeoutMs ?? this.#requestTimeoutMs;
        pending.timer = setTimeout(() => this.#timedOut(pending, limit), limit);
        this.#pending.push(pending);
      }
      const chunks = w.toChunks();
      this.#socket.cork();
      for (let i = 0; i < chunks.length; i++) {
        const last = i === chunks.length - 1;
        this.#socket.write(chunks[i]!, last && !expectResponse ? (err) => (err ? reject(err) : resolve(undefined)) : undefined);
      }
      this.#socket.uncork();
    });
  }

  #timedOut(pending: Pending, limit: number): void {
    pending.timer = undefined;
    const idx = this.#pending.indexOf(pending);
    if (idx < 0) return;
    this.#pending.splice(idx, 1);
    pending.reject(new StrataError('ERR_TIMEOUT', `${pending.schema.name} request to ${this.address} got no response within ${limit} ms`));
    this.#fail(new StrataError('ERR_NETWORK', `connection to ${this.address} was closed after a ${pending.schema.name} request timed out`));
    this.#socket.destroy();
  }

  #onData(chunk: Buffer): void {
    let frames: Buffer[];
    try {
      frames = this.#splitter.push(chunk);
    } catch (err) {
      this.#fail(err as Error);
      this.#socket.destroy();
      return;
    }
    for (const frame of frames) {
      if (this.#closedWith !== null) return;
      this.#onFrame(frame);
    }
  }

  #onFrame(frame: Buffer): void {
    const pending = this.#pending[0];
    const correlationId = frame.length >= 4 ? frame.readInt32BE(0) : -1;
    if (pending === undefined || pending.correlationId !== correlationId) {
      const expected = pending === undefined ? 'none was pending' : `expected ${pending.correlationId}`;
      this.#fail(new StrataError('ERR_NETWORK', `broker ${this.address} answered correlation id ${correlationId} (${expected}); closing the connection`));
      this.#socket.destroy();
      return;
    }
    this.#pending.shift();
    clearTimeout(pending.timer);
    try {
      pending.resolve(decodeResponse(pending.schema, pending.version, frame));
    } catch (err) {
      pending.reject(new StrataError('ERR_DECODE', `${pending.schema.name} v${pending.version} response from ${this.address} does not decode: ${(err as Error).message}`, { cause: err }));
    }
  }

  #fail(err: Error, quiet = false): void {
    if (this.#closedWith !== null) return;
    this.#closedWith = err;
    const pending = this.#pending.splice(0);
    for (const p of pending) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    for (const listener of this.#closeListeners.splice(0)) listener(quiet ? undefined : err);
  }
}

/**
 * ApiVersions answers a version it does not know in v0 with UNSUPPORTED_VERSION (KIP-511), so the body is
 * read as v0 whenever its leading error code says so, whatever version was asked.
 */
function decodeResponse(schema: ApiSchema, version: number, frame: Buffer): unknown {
  const r = new Reader(frame);
  decodeResponseHeader(r, schema.responseHeaderVersion(version));
  let bodyVersion = version;
  if (schema.apiKey === ApiKey.ApiVersions && r.remaining >= 2 && frame.readInt16BE(r.offset) === ErrorCode.UNSUPPORTED_VERSION) bodyVersion = 0;
  return schema.decodeResponse(r, bodyVersion);
}

function openSocket(host: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new StrataError('ERR_TIMEOUT', `could not connect to ${host}:${port} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const why = err.code === 'ECONNREFUSED' ? 'connection refused' : err.code === 'ENOTFOUND' ? 'host not found' : err.message;
      reject(new StrataError('ERR_NETWORK', `cannot connect to ${host}:${port}: ${why}`, { cause: err }));
    });
  });
}

