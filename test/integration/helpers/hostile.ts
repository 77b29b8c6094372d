// A seeded generator of hostile inputs for a Kafka listener, and a runner that throws each at a server on
// its own connection. Shared by test/integration/hostile.test.ts (bounded) and scripts/fuzz.ts (long runs).
import { connect, type Socket } from 'node:net';
import { FrameReader } from '../../../src/network/frame.js';
import { ApiVersionsApi, MetadataApi } from '../../../src/protocol/generated/apis.js';
import { ZERO_UUID } from '../../../src/protocol/codec-runtime.js';
import { encodeRequest, decodeResponse } from './wire.js';

export { seededRandom as rng } from '../../helpers/seeded-random.js';

export type Expectation =
  /** The server must close the connection without answering. */
  | 'close'
  /** The first answer must be the ApiVersions response to correlation id 4242; anything may follow. */
  | 'api-versions-first'
  /** Any well-framed answers, or a close. */
  | 'any';

export interface HostileCase {
  readonly kind: string;
  readonly bytes: Buffer;
  readonly expect: Expectation;
  /** Keep the connection open (with its partial frame) until the batch ends. */
  readonly hold?: boolean;
}

const MAX_REQUEST = 104857600;

const int = (r: () => number, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const randomBytes = (r: () => number, n: number): Buffer => {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(r() * 256);
  return b;
};
const prefixed = (payload: Buffer, declared = payload.length): Buffer => {
  const p = Buffer.alloc(4);
  p.writeInt32BE(declared, 0);
  return Buffer.concat([p, payload]);
};
const topicName = (r: () => number): string => 'topic-' + Math.floor(r() * 1e6).toString(36);

function validRequest(r: () => number, correlationId: number): Buffer {
  if (r() < 0.5) {
    const v = int(r, 0, 4);
    return encodeRequest(ApiVersionsApi, v, correlationId, { clientSoftwareName: 'fuzz', clientSoftwareVersion: '1.0' });
  }
  const v = int(r, 0, 12);
  const n = int(r, 0, 4);
  const topics = Array.from({ length: n }, () => ({ name: topicName(r), topicId: ZERO_UUID }));
  return encodeRequest(MetadataApi, v, correlationId, {
    topics: v >= 1 && r() < 0.2 ? null : topics,
    allowAutoTopicCreation: v >= 4 ? r() < 0.5 : true,
    includeClusterAuthorizedOperations: v >= 8 && v <= 10 ? r() < 0.5 : false,
    includeTopicAuthorizedOperations: v >= 8 ? r() < 0.5 : false,
  });
}

/** A request header for `apiKey`/`version` (v1 layout, or v2 with an empty tagged-field section). */
function header(apiKey: number, version: number, flexible: boolean): Buffer {
  const b = Buffer.alloc(10 + 4 + (flexible ? 1 : 0));
  b.writeInt16BE(apiKey, 0);
  b.writeInt16BE(version, 2);
  b.writeInt32BE(7, 4);
  b.writeInt16BE(4, 8);
  b.write('fuzz', 10, 'latin1');
  return b;
}

const generators: readonly ((r: () => number) => HostileCase)[] = [
  (r) => ({ kind: 'random frame', bytes: prefixed(randomBytes(r, int(r, 0, 300))), expect: 'any' }),
  (r) => {
    const b = Buffer.from(validRequest(r, int(r, 0, 1000)));
    const flips = int(r, 1, 6);
    for (let i = 0; i < flips; i++) b[int(r, 4, b.length - 1)] ^= 1 << int(r, 0, 7);
    return { kind: 'byte flips', bytes: b, expect: 'any' };
  },
  (r) => {
    const payload = validRequest(r, 1).subarray(4);
    const cut = payload.subarray(0, int(r, 0, payload.length - 1));
    return { kind: 'truncated body', bytes: prefixed(cut), expect: 'any' };
  },
  (r) => {
    const full = validRequest(r, 1);
    return { kind: 'prefix never completes', bytes: full.subarray(0, int(r, 5, full.length - 1)), expect: 'any', hold: r() < 0.3 };
  },
  (r) => ({
    kind: 'absurd length',
    bytes: prefixed(randomBytes(r, int(r, 0, 64)), pick(r, [0x7fffffff, -1, -0x80000000, MAX_REQUEST + 1, int(r, -1000, -2)])),
    expect: 'close',
  }),
  (r) => ({
    // Allowed by the limit, so the server must wait for it without allocating 100 MiB up front.
    kind: 'declared 100 MiB, partly sent',
    bytes: prefixed(randomBytes(r, int(r, 1, 256 * 1024)), MAX_REQUEST),
    expect: 'any',
    hold: true,
  }),
  (r) => {
    const key = r() < 0.5 ? int(r, 88, 32767) : int(r, -32768, -1);
    return { kind: 'unknown api key', bytes: prefixed(Buffer.concat([header(key, int(r, 0, 5), false), randomBytes(r, int(r, 0, 40))])), expect: 'close' };
  },
  (r) => {
    const v = int(r, 13, 32767);
    return { kind: 'unsupported Metadata version', bytes: prefixed(Buffer.concat([header(3, v, true), randomBytes(r, 8)])), expect: 'close' };
  },
  (r) => {
    const v = int(r, 0, 12);
    const flexible = v >= 9;
    const count = flexible
      ? Buffer.from([0xff, 0xff, 0xff, 0xff, 0x07]) // 2^31 as an unsigned varint (count + 1)
      : Buffer.from(pick(r, [[0x7f, 0xff, 0xff, 0xff], [0x00, 0x10, 0x00, 0x00]]));
    return { kind: 'huge array count', bytes: prefixed(Buffer.concat([header(3, v, flexible), count, randomBytes(r, int(r, 0, 16))])), expect: 'close' };
  },
  (r) => {
    // ApiVersions v3: header v2, then compact strings. An over-long varint where a length or count goes.
    const overlong = Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]);
    const h = header(18, 3, false);
    const where = int(r, 0, 1);
    const bytes =
      where === 0
        ? Buffer.concat([h, overlong]) // the header's tagged-field count
        : Buffer.concat([h, Buffer.from([0]), overlong, randomBytes(r, 4)]); // the client software name length
    return { kind: 'over-long varint', bytes: prefixed(bytes), expect: 'close' };
  },
  (r) => ({
    kind: 'garbage after a valid request',
    bytes: Buffer.concat([encodeRequest(ApiVersionsApi, int(r, 0, 4), 4242, { clientSoftwareName: 'fuzz', clientSoftwareVersion: '1.0' }), randomBytes(r, int(r, 1, 200))]),
    expect: 'api-versions-first',
  }),
  (r) => {
    // Several valid requests pipelined in one write: every one is answered, in order.
    const reqs = Array.from({ length: int(r, 2, 8) }, (_, i) => validRequest(r, i));
    return { kind: 'pipelined valid requests', bytes: Buffer.concat(reqs), expect: 'any' };
  },
];

export function makeCase(r: () => number): HostileCase {
  return pick(r, generators)(r);
}

export interface CaseOutcome {
  readonly frames: Buffer[];
  readonly closedByServer: boolean;
  /** The bytes we got back were not a sequence of size-prefixed frames. */
  readonly badFraming: boolean;
  readonly socket: Socket;
}

/** Sends one case on a fresh connection and watches for answers until the server closes or `waitMs` passes. */
/** How long a case that must end in a close or an answer waits for it. */
const OUTCOME_WAIT_MS = 15_000;

export function runCase(port: number, c: HostileCase, waitMs: number): Promise<CaseOutcome> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    const decoder = new FrameReader({ maxFrameBytes: 0x7fffffff });
    const frames: Buffer[] = [];
    let badFraming = false;
    let done = false;
    const finish = (closedByServer: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ frames, closedByServer, badFraming, socket });
    };
    // A case that must end in a close or in an answer waits for it (up to a generous bound, since a loaded
    // machine may take its time); the others only look for what happens within `waitMs`.
    const timer = setTimeout(() => finish(false), c.expect === 'any' ? waitMs : Math.max(waitMs, OUTCOME_WAIT_MS));
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      try {
        frames.push(...decoder.push(chunk));
        if (c.expect === 'api-versions-first' && frames.length > 0) finish(false);
      } catch {
        badFraming = true;
      }
    });
    socket.on('connect', () => socket.write(c.bytes));
    socket.on('end', () => finish(true));
    socket.on('close', () => finish(true));
  });
}

/** Why an outcome is wrong for its case, or undefined when it is acceptable. */
export function checkOutcome(c: HostileCase, o: CaseOutcome): string | undefined {
  if (o.badFraming) return 'answer bytes are not size-prefixed frames';
  switch (c.expect) {
    case 'close':
      if (o.frames.length > 0) return `expected a close without answer, got ${o.frames.length} frames`;
      if (!o.closedByServer) return 'expected the server to close the connection';
      return undefined;
    case 'api-versions-first': {
      const first = o.frames[0];
      if (first === undefined) return 'the valid request before the garbage was not answered';
      try {
        const version = c.bytes.readInt16BE(6);
        const res = decodeResponse(ApiVersionsApi, version, first);
        if (res.correlationId !== 4242 || res.body.errorCode !== 0) return `unexpected first answer ${JSON.stringify({ cid: res.correlationId, err: res.body.errorCode })}`;
      } catch (err) {
        return `first answer does not decode: ${(err as Error).message}`;
      }
      return undefined;
    }
    case 'any':
      return undefined;
  }
}
