// A tiny Kafka wire client for tests: encodes requests with the generated codecs, sends raw bytes, and
// reads size-prefixed responses. Raw access matters here: the tests send things no real client would.
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { Reader } from '../../../src/protocol/reader.js';
import { Writer } from '../../../src/protocol/writer.js';
import { API_SCHEMAS, type ApiSchema } from '../../../src/protocol/generated/apis.js';
import { decodeResponseHeader, encodeRequestHeader } from '../../../src/protocol/generated/headers.js';
import { FrameReader } from '../../../src/network/frame.js';

export function encodeRequest<Req>(
  schema: ApiSchema<Req, unknown>,
  version: number,
  correlationId: number,
  body: Req,
  clientId: string | null = 'strata-test',
): Buffer {
  const w = new Writer();
  const size = w.startFrame();
  encodeRequestHeader(w, schema.requestHeaderVersion(version), {
    requestApiKey: schema.apiKey,
    requestApiVersion: version,
    correlationId,
    clientId,
  });
  schema.encodeRequest(w, version, body);
  w.endFrame(size);
  return w.toBuffer();
}

export interface DecodedResponse<Res> {
  readonly correlationId: number;
  readonly body: Res;
}

export function decodeResponse<Res>(schema: ApiSchema<unknown, Res>, version: number, frame: Buffer): DecodedResponse<Res> {
  const r = new Reader(frame);
  const header = decodeResponseHeader(r, schema.responseHeaderVersion(version));
  const body = schema.decodeResponse(r, version);
  r.ensureEnd('response');
  return { correlationId: header.correlationId, body };
}

export const schemaOf = (apiKey: number): ApiSchema => API_SCHEMAS[apiKey]!;

/** A connection that hands out response frames in arrival order. */
export class WireClient {
  readonly socket: Socket;
  readonly #decoder = new FrameReader({ maxFrameBytes: 512 * 1024 * 1024 });
  readonly #frames: Buffer[] = [];
  readonly #waiters: { resolve: (b: Buffer) => void; reject: (e: Error) => void }[] = [];
  #ended = false;
  readonly closed: Promise<void>;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      for (const f of this.#decoder.push(chunk)) {
        const w = this.#waiters.shift();
        if (w !== undefined) w.resolve(f);
        else this.#frames.push(f);
      }
    });
    socket.on('error', () => {});
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.#ended = true;
        for (const w of this.#waiters.splice(0)) w.reject(new Error('connection closed'));
        resolve();
      }),
    );
  }

  static async connect(port: number, host = '127.0.0.1'): Promise<WireClient> {
    const socket = connect({ port, host, noDelay: true });
    await once(socket, 'connect');
    return new WireClient(socket);
  }

  get isClosed(): boolean {
    return this.#ended;
  }

  send(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** The next response frame (without size prefix); rejects if the connection closes first. */
  next(): Promise<Buffer> {
    const f = this.#frames.shift();
    if (f !== undefined) return Promise.resolve(f);
    if (this.#ended) return Promise.reject(new Error('connection closed'));
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  async request<Req, Res>(schema: ApiSchema<Req, Res>, version: number, body: Req, correlationId = 1): Promise<DecodedResponse<Res>> {
    this.send(encodeRequest(schema, version, correlationId, body));
    return decodeResponse(schema, version, await this.next());
  }

  close(): void {
    this.socket.destroy();
  }
}
