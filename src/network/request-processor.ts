// Turns a request frame into a response frame: header parsing, dispatch through the handler registry, and
// response encoding. What Kafka's SocketServer and RequestContext do before and after KafkaApis:
//  - an unknown API key, an API this broker does not serve, or an unsupported version of one → the
//    connection is closed (Kafka throws InvalidRequestException while parsing the header);
//  - ApiVersions in a version newer than ours → answered in v0 with UNSUPPORTED_VERSION and our ApiVersions
//    range, so the client can retry with a version we know (KIP-511);
//  - a header or body that does not decode → the connection is closed.
// Bytes after a well-formed body are ignored, as Kafka ignores them.
import type { Logger } from 'pino';
import { Reader } from '../protocol/reader.js';
import { Writer } from '../protocol/writer.js';
import { API_SCHEMAS, ApiKey, ApiVersionsApi, type ApiSchema } from '../protocol/generated/apis.js';
import { decodeRequestHeader, encodeResponseHeader, type RequestHeader } from '../protocol/generated/headers.js';
import { ErrorCode } from '../protocol/errors.js';
import { StrataError } from '../protocol/strata-error.js';
import { sharedBufferPool } from '../protocol/buffer-pool.js';
import type { HandlerRegistry } from '../broker/registry.js';
import type { RequestContext } from '../broker/request-context.js';
import type { NodeInfo } from '../broker/node-info.js';
import { apiVersionsResponse } from '../broker/handlers/api-versions.js';
import type { ConnectionInfo, FrameProcessor, FrameResult } from './connection.js';

export class RequestProcessor implements FrameProcessor {
  readonly #registry: HandlerRegistry;
  readonly #node: NodeInfo;
  readonly #log: Logger;

  constructor(registry: HandlerRegistry, node: NodeInfo, log: Logger) {
    this.#registry = registry;
    this.#node = node;
    this.#log = log;
  }

  /**
   * Produce requests, the bulk of what arrives, are read into pooled memory: their handling keeps no view
   * of the request once it has settled (the log's tail cache retains what it keeps). Fetch requests keep
   * nothing either and may share Node's small-buffer slabs. Other requests may leave views of their bytes
   * in coordinator state, so they get memory of exactly their size, which pins nothing else.
   */
  allocateFrame(size: number, apiKey: number): Buffer {
    if (apiKey === ApiKey.Produce) return sharedBufferPool.allocate(size);
    return apiKey === ApiKey.Fetch ? Buffer.allocUnsafe(size) : Buffer.allocUnsafeSlow(size);
  }

  frameDone(frame: Buffer): void {
    sharedBufferPool.release(frame);
  }

  /** A fetch response's records come from reads made for it alone (see the storage tail cache). */
  responseOwnsPooledBuffers(frame: Buffer): boolean {
    return frame.length >= 2 && frame.readInt16BE(0) === ApiKey.Fetch;
  }

  process(frame: Buffer, conn: ConnectionInfo): FrameResult | Promise<FrameResult> {
    if (frame.length < 4) throw new StrataError('ERR_DECODE', `request of ${frame.length} bytes has no header`);
    const apiKey = frame.readInt16BE(0);
    const version = frame.readInt16BE(2);
    const schema: ApiSchema | undefined = apiKey >= 0 ? API_SCHEMAS[apiKey] : undefined;
    if (schema === undefined) throw new StrataError('ERR_DECODE', `Unknown API key ${apiKey}`);
    const handler = this.#registry.get(apiKey);
    const range = this.#registry.range(apiKey);
    if (handler === undefined || range === undefined) {
      throw new StrataError('ERR_DECODE', `Received request api key ${apiKey} (${schema.name}) which is not enabled`);
    }
    const supported = version >= range.minVersion && version <= range.maxVersion;
    if (!supported && apiKey === ApiKey.ApiVersions) return this.#unsupportedApiVersions(frame, version);
    if (!supported) {
      throw new StrataError('ERR_UNSUPPORTED_VERSION', `Received request api key ${apiKey} (${schema.name}) with version ${version} which is not enabled`);
    }

    const reader = new Reader(frame);
    let header: RequestHeader;
    let body: unknown;
    try {
      header = decodeRequestHeader(reader, schema.requestHeaderVersion(version));
      body = schema.decodeRequest(reader, version);
    } catch (err) {
      throw new StrataError(
        'ERR_DECODE',
        `Error getting request for apiKey: ${schema.name}(${apiKey}), apiVersion: ${version}, connectionId: ${conn.id}, listenerName: ${conn.listenerName}: ${(err as Error).message}`,
        { cause: err },
      );
    }
    if (reader.remaining > 0) {
      this.#log.debug({ connection: conn.id, apiKey, version, trailing: reader.remaining }, 'Ignoring bytes after the request body');
    }
    const ctx: RequestContext = {
      apiKey,
      apiVersion: version,
      correlationId: header.correlationId,
      clientId: header.clientId,
      listenerName: conn.listenerName,
      securityProtocol: conn.securityProtocol,
      clientAddress: conn.remoteAddress,
      clientPort: conn.remotePort,
      connectionId: conn.id,
      node: this.#node,
      apiVersions: this.#registry.apiVersions(),
    };
    const result = handler.handle(ctx, body);
    if (result instanceof Promise) return result.then((res) => encodeResponse(schema, version, header.correlationId, res));
    return encodeResponse(schema, version, header.correlationId, result);
  }

  /**
   * A client newer than us sends ApiVersions in a version we do not know. Its body cannot be parsed, but
   * the header's first fields are fixed, so it is answered in v0 with our own ApiVersions range.
   */
  #unsupportedApiVersions(frame: Buffer, version: number): FrameResult {
    const flexibleHeader = ApiVersionsApi.flexibleMinVersion !== null && version >= ApiVersionsApi.flexibleMinVersion;
    let header: RequestHeader;
    try {
      header = decodeRequestHeader(new Reader(frame), flexibleHeader ? 2 : 1);
    } catch (err) {
      throw new StrataError('ERR_DECODE', `Error parsing request header: ${(err as Error).message}`, { cause: err });
    }
    const own = this.#registry.apiVersions().filter((v) => v.apiKey === ApiKey.ApiVersions);
    const body = apiVersionsResponse(ErrorCode.UNSUPPORTED_VERSION, own, null, 0);
    return encodeResponse(ApiVersionsApi as ApiSchema, 0, header.correlationId, body);
  }
}

/** Size prefix, response header and body, as chunks (large buffers in the body stay by reference). */
export function encodeResponse(schema: ApiSchema, version: number, correlationId: number, body: unknown): FrameResult {
  if (body === null || body === undefined) return null;
  const w = new Writer();
  const size = w.startFrame();
  encodeResponseHeader(w, schema.responseHeaderVersion(version), { correlationId });
  schema.encodeResponse(w, version, body);
  w.endFrame(size);
  return w.toChunks();
}
