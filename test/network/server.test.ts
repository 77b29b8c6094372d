import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, Socket } from 'node:net';
import { pino } from 'pino';
import { NetworkServer } from '../../src/network/server.js';
import { RequestProcessor } from '../../src/network/request-processor.js';
import { earlyFrameBytes, type ConnectionLimits } from '../../src/network/connection.js';
import { HandlerRegistry, defineHandler } from '../../src/broker/registry.js';
import type { NodeInfo } from '../../src/broker/node-info.js';
import { apiVersionsHandler } from '../../src/broker/handlers/api-versions.js';
import { ApiVersionsApi, MetadataApi } from '../../src/protocol/generated/apis.js';
import type { MetadataRequest, MetadataResponse } from '../../src/protocol/generated/messages/metadata.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { WireClient, encodeRequest, decodeResponse } from '../integration/helpers/wire.js';

const log = pino({ level: 'silent' });

const node: NodeInfo = {
  nodeId: 7,
  clusterId: 'test-cluster',
  rack: null,
  controllerId: () => 7,
  advertisedEndpoint: () => undefined,
  advertisedEndpoints: () => [],
  features: () => ({ supported: [], finalized: [], finalizedEpoch: -1n }),
};

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const emptyMetadata = (): MetadataResponse => ({
  throttleTimeMs: 0,
  brokers: [],
  clusterId: null,
  controllerId: -1,
  topics: [],
  clusterAuthorizedOperations: -2147483648,
});

/**
 * A test-only Metadata handler steered by the client id: `delay-N` answers after N ms, `none` answers
 * nothing (like Produce with acks=0), `big-N` answers with about N KiB. The answer carries the
 * correlation id in controllerId so the test can match it.
 */
function steeredRegistry(stats: { active: number; maxActive: number; handled: number }): HandlerRegistry {
  const handler = defineHandler(MetadataApi, {
    minVersion: 0,
    maxVersion: 12,
    async handle(ctx, _request: MetadataRequest) {
      stats.handled++;
      stats.active++;
      stats.maxActive = Math.max(stats.maxActive, stats.active);
      try {
        const cid = ctx.clientId ?? '';
        const delay = /^delay-(\d+)$/.exec(cid);
        if (delay !== null) await sleep(Number(delay[1]));
        if (cid === 'none') return null;
        const res = emptyMetadata();
        res.controllerId = ctx.correlationId;
        const big = /^big-(\d+)$/.exec(cid);
        if (big !== null) {
          const kib = Number(big[1]);
          for (let i = 0; i < kib / 16; i++) {
            res.topics.push({ errorCode: 0, name: 'x'.repeat(16 * 1024), topicId: '00000000-0000-0000-0000-000000000000', isInternal: false, partitions: [], topicAuthorizedOperations: -2147483648 });
          }
        }
        return res;
      } finally {
        stats.active--;
      }
    },
  });
  return new HandlerRegistry().register(apiVersionsHandler).register(handler);
}

async function startServer(
  limits: Partial<ConnectionLimits> = {},
  extra: { maxConnections?: number; maxConnectionsPerIp?: number } = {},
): Promise<{ server: NetworkServer; port: number; stats: { active: number; maxActive: number; handled: number } }> {
  const stats = { active: 0, maxActive: 0, handled: 0 };
  const server = new NetworkServer({
    listeners: [{ name: 'PLAINTEXT', securityProtocol: 'PLAINTEXT', host: '127.0.0.1', port: 0 }],
    processor: new RequestProcessor(steeredRegistry(stats), node, log),
    limits: { maxFrameBytes: 1024 * 1024, idleMs: 0, maxInFlight: 100, maxUnsentBytes: 8 * 1024 * 1024, ...limits },
    maxConnections: extra.maxConnections ?? 1000,
    maxConnectionsPerIp: extra.maxConnectionsPerIp ?? 1000,
    log,
  });
  await server.start();
  return { server, port: server.boundPort('PLAINTEXT')!, stats };
}

const metadataReq = (cid: number, clientId: string): Buffer =>
  encodeRequest(MetadataApi, 9, cid, { topics: [], allowAutoTopicCreation: false, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false }, clientId);

test('responses follow request order even when handlers finish out of order; no-response requests are skipped', async () => {
  const { server, port } = await startServer();
  const c = await WireClient.connect(port);
  const plan = ['delay-80', 'delay-5', 'none', 'delay-40', 'delay-0', 'none', 'delay-20'];
  c.send(Buffer.concat(plan.map((clientId, i) => metadataReq(i + 1, clientId))));
  const expected = plan.flatMap((p, i) => (p === 'none' ? [] : [i + 1]));
  const got: number[] = [];
  for (let i = 0; i < expected.length; i++) {
    const r = decodeResponse(MetadataApi, 9, await c.next());
    assert.equal(r.body.controllerId, r.correlationId);
    got.push(r.correlationId);
  }
  assert.deepEqual(got, expected);
  // Interleave an ApiVersions request after a no-response one: still answered, in order.
  c.send(Buffer.concat([metadataReq(100, 'none'), encodeRequest(ApiVersionsApi, 3, 101, { clientSoftwareName: 'x', clientSoftwareVersion: '1' })]));
  assert.equal(decodeResponse(ApiVersionsApi, 3, await c.next()).correlationId, 101);
  c.close();
  await server.shutdown(1000);
});

test('tens of thousands of tiny pipelined requests in one write are all answered, in order', async () => {
  const { server, port } = await startServer({ maxInFlight: 100000 });
  const c = await WireClient.connect(port);
  const n = 30000;
  // ApiVersions v0 with a null client id: 14 bytes each, answered synchronously.
  c.send(Buffer.concat(Array.from({ length: n }, (_, i) => encodeRequest(ApiVersionsApi, 0, i, { clientSoftwareName: '', clientSoftwareVersion: '' }, null))));
  for (let i = 0; i < n; i++) assert.equal(decodeResponse(ApiVersionsApi, 0, await c.next()).correlationId, i);
  c.close();
  await server.shutdown(1000);
});

test('requests that arrive together and are answered at once get their responses in one socket write', async () => {
  const { server, port } = await startServer();
  const c = await WireClient.connect(port);
  const n = 50;
  // Every write a stream makes goes through _write (one chunk) or _writev (several, after cork/uncork).
  const proto = Socket.prototype as unknown as Record<'_write' | '_writev', (...args: unknown[]) => void>;
  const original = { _write: proto._write, _writev: proto._writev };
  let serverWrites = 0;
  for (const name of ['_write', '_writev'] as const) {
    proto[name] = function (this: Socket, ...args: unknown[]) {
      if (this !== c.socket) serverWrites++;
      return original[name].apply(this, args);
    };
  }
  try {
    // ApiVersions v0 is answered synchronously; 50 of them are 700 bytes, which loopback delivers in one read.
    c.send(Buffer.concat(Array.from({ length: n }, (_, i) => encodeRequest(ApiVersionsApi, 0, i, { clientSoftwareName: '', clientSoftwareVersion: '' }, null))));
    for (let i = 0; i < n; i++) assert.equal(decodeResponse(ApiVersionsApi, 0, await c.next()).correlationId, i);
    // One write per read of the server; a few reads at most if the kernel split the bytes.
    assert.ok(serverWrites >= 1 && serverWrites <= 3, `${serverWrites} socket writes for ${n} responses`);
  } finally {
    Object.assign(proto, original);
    c.close();
    await server.shutdown(1000);
  }
});

test('no more than maxInFlight requests of one connection are handled at once', async () => {
  const { server, port, stats } = await startServer({ maxInFlight: 3 });
  const c = await WireClient.connect(port);
  const n = 30;
  c.send(Buffer.concat(Array.from({ length: n }, (_, i) => metadataReq(i, 'delay-5'))));
  for (let i = 0; i < n; i++) assert.equal(decodeResponse(MetadataApi, 9, await c.next()).correlationId, i);
  assert.equal(stats.handled, n);
  assert.ok(stats.maxActive <= 3, `max concurrently handled ${stats.maxActive}`);
  assert.ok(stats.maxActive >= 2, 'requests of one connection are handled concurrently');
  c.close();
  await server.shutdown(1000);
});

test('a client that does not read stops the server from handling more of its requests', async () => {
  const { server, port, stats } = await startServer({ maxUnsentBytes: 512 * 1024 });
  const c = await WireClient.connect(port);
  c.socket.pause();
  const n = 300; // 300 × 256 KiB = 75 MiB of responses, far beyond socket buffers
  c.send(Buffer.concat(Array.from({ length: n }, (_, i) => metadataReq(i, 'big-256'))));
  // Wait until handling stalls: the count stops moving while nothing is read.
  let last = -1;
  while (stats.handled !== last) {
    last = stats.handled;
    await sleep(200);
  }
  assert.ok(stats.handled < n, `handled ${stats.handled} of ${n} without the client reading`);
  c.socket.resume();
  for (let i = 0; i < n; i++) assert.equal(decodeResponse(MetadataApi, 9, await c.next()).correlationId, i);
  assert.equal(stats.handled, n);
  c.close();
  await server.shutdown(1000);
});

test('graceful shutdown delivers the response of an in-flight request before closing', async () => {
  const { server, port, stats } = await startServer();
  const c = await WireClient.connect(port);
  c.send(metadataReq(42, 'delay-300'));
  while (stats.active === 0) await sleep(5);
  const stopping = server.shutdown(5000);
  // New connections are refused once shutdown has begun.
  const late = connect({ port, host: '127.0.0.1' });
  late.on('error', () => {});
  const lateClosed = new Promise((resolve) => late.once('close', resolve));
  const r = decodeResponse(MetadataApi, 9, await c.next());
  assert.equal(r.correlationId, 42);
  await c.closed;
  await stopping;
  await lateClosed;
  assert.equal(server.connectionCount, 0);
});

test('unknown api keys, unserved apis and unsupported versions close the connection', async () => {
  const { server, port } = await startServer();
  const frames: [string, Buffer][] = [];
  const header = (apiKey: number, version: number): Buffer => {
    const b = Buffer.alloc(4 + 10);
    b.writeInt32BE(10, 0);
    b.writeInt16BE(apiKey, 4);
    b.writeInt16BE(version, 6);
    b.writeInt32BE(1, 8);
    b.writeInt16BE(-1, 12);
    return b;
  };
  frames.push(['unknown key 999', header(999, 0)]);
  frames.push(['negative key', header(-5, 0)]);
  frames.push(['known but not served (Produce)', header(0, 9)]);
  frames.push(['Metadata v13', header(3, 13)]);
  frames.push(['Metadata v-1', header(3, -1)]);
  frames.push(['header too short', Buffer.from([0, 0, 0, 2, 0, 3])]);
  frames.push(['truncated Metadata body', header(3, 1)]);
  for (const [what, bytes] of frames) {
    const c = await WireClient.connect(port);
    c.send(bytes);
    await assert.rejects(c.next(), /connection closed/, what);
  }
  // The server is unaffected.
  const ok = await WireClient.connect(port);
  const r = await ok.request(ApiVersionsApi, 3, { clientSoftwareName: 'a', clientSoftwareVersion: 'b' });
  assert.equal(r.body.errorCode, ErrorCode.NONE);
  ok.close();
  await server.shutdown(1000);
});

test('a malformed request closes the connection after the answers to the requests before it', async () => {
  const { server, port } = await startServer();
  const c = await WireClient.connect(port);
  const malformed = Buffer.from('0000000a000300010000000300ff', 'hex'); // Metadata v1, client id length 255 with 0 bytes left
  c.send(Buffer.concat([
    encodeRequest(ApiVersionsApi, 0, 1, { clientSoftwareName: '', clientSoftwareVersion: '' }),
    metadataReq(2, 'delay-100'),
    malformed,
    encodeRequest(ApiVersionsApi, 0, 4, { clientSoftwareName: '', clientSoftwareVersion: '' }),
  ]));
  assert.equal(decodeResponse(ApiVersionsApi, 0, await c.next()).correlationId, 1);
  assert.equal(decodeResponse(MetadataApi, 9, await c.next()).correlationId, 2);
  await assert.rejects(c.next(), /connection closed/);
  await server.shutdown(1000);
});

test('ApiVersions in a version we do not know is answered in v0 with UNSUPPORTED_VERSION (KIP-511)', async () => {
  const { server, port } = await startServer();
  const c = await WireClient.connect(port);
  // v7 with a flexible (v2) header and a body we cannot know.
  const w = Buffer.from([0x00, 0x12, 0x00, 0x07, 0x00, 0x00, 0x00, 0x2a, 0x00, 0x01, 0x41, 0x00, 0xde, 0xad, 0xbe, 0xef]);
  const frame = Buffer.concat([Buffer.from([0, 0, 0, w.length]), w]);
  c.send(frame);
  const res = decodeResponse(ApiVersionsApi, 0, await c.next());
  assert.equal(res.correlationId, 42);
  assert.equal(res.body.errorCode, ErrorCode.UNSUPPORTED_VERSION);
  assert.deepEqual(res.body.apiKeys.map((k) => [k.apiKey, k.minVersion, k.maxVersion]), [[18, 0, 4]]);
  // The connection stays usable: the client retries with a version we know.
  const again = await c.request(ApiVersionsApi, 3, { clientSoftwareName: 'a', clientSoftwareVersion: 'b' }, 43);
  assert.equal(again.correlationId, 43);
  assert.deepEqual(again.body.apiKeys.map((k) => k.apiKey), [3, 18]);
  c.close();
  await server.shutdown(1000);
});

test('a large request trickling in lands in memory reserved for it, which a dropped connection gives back', async () => {
  const { server, port } = await startServer();
  // Metadata v9 with a few long topic names: about 200 KiB, so it is read into a buffer of its own.
  const names = Array.from({ length: 12 }, (_, i) => ({ name: String(i).repeat(16 * 1024), topicId: '00000000-0000-0000-0000-000000000000' }));
  const big = encodeRequest(MetadataApi, 9, 42, { topics: names, allowAutoTopicCreation: false, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false });
  const c = await WireClient.connect(port);
  for (let at = 0; at < big.length; at += 7 * 1024) {
    c.send(big.subarray(at, Math.min(big.length, at + 7 * 1024)));
    if (at === 14 * 1024) {
      // Once the size prefix and API key are in, the whole frame is reserved before the rest arrives.
      for (let i = 0; i < 100 && earlyFrameBytes() === 0; i++) await sleep(10);
      assert.equal(earlyFrameBytes(), big.length - 4);
    }
  }
  assert.equal(decodeResponse(MetadataApi, 9, await c.next()).correlationId, 42);
  assert.equal(earlyFrameBytes(), 0);

  const dropped = await WireClient.connect(port);
  dropped.send(big.subarray(0, 50 * 1024));
  for (let i = 0; i < 100 && earlyFrameBytes() === 0; i++) await sleep(10);
  assert.equal(earlyFrameBytes(), big.length - 4);
  dropped.socket.destroy();
  for (let i = 0; i < 100 && earlyFrameBytes() !== 0; i++) await sleep(10);
  assert.equal(earlyFrameBytes(), 0);
  c.close();
  await server.shutdown(1000);
});

test('a size prefix over socket.request.max.bytes closes the connection', async () => {
  const { server, port } = await startServer({ maxFrameBytes: 1000 });
  const c = await WireClient.connect(port);
  c.send(Buffer.from([0, 0, 0x03, 0xe9])); // 1001
  await c.closed;
  await server.shutdown(1000);
});

test('connections beyond max.connections.per.ip and max.connections are closed at once', async () => {
  const perIp = await startServer({}, { maxConnectionsPerIp: 2 });
  const a = await WireClient.connect(perIp.port);
  const b = await WireClient.connect(perIp.port);
  const c = await WireClient.connect(perIp.port);
  await c.closed;
  assert.equal((await a.request(ApiVersionsApi, 0, { clientSoftwareName: '', clientSoftwareVersion: '' })).body.errorCode, 0);
  // Closing one frees a slot.
  b.close();
  await b.closed;
  while (perIp.server.connectionCount > 1) await sleep(5);
  const d = await WireClient.connect(perIp.port);
  assert.equal((await d.request(ApiVersionsApi, 0, { clientSoftwareName: '', clientSoftwareVersion: '' })).body.errorCode, 0);
  a.close();
  d.close();
  await perIp.server.shutdown(1000);

  const total = await startServer({}, { maxConnections: 1 });
  const e = await WireClient.connect(total.port);
  const f = await WireClient.connect(total.port);
  await f.closed;
  assert.equal(e.isClosed, false);
  e.close();
  await total.server.shutdown(1000);
});

test('an idle connection is closed after connections.max.idle.ms', async () => {
  const { server, port } = await startServer({ idleMs: 150 });
  const c = await WireClient.connect(port);
  await c.request(ApiVersionsApi, 0, { clientSoftwareName: '', clientSoftwareVersion: '' });
  await c.closed;
  assert.equal(c.isClosed, true);
  await server.shutdown(1000);
});

test('several listeners at once, each on its own ephemeral port', async () => {
  const server = new NetworkServer({
    listeners: [
      { name: 'PLAINTEXT', securityProtocol: 'PLAINTEXT', host: '127.0.0.1', port: 0 },
      { name: 'INTERNAL', securityProtocol: 'PLAINTEXT', host: '', port: 0 },
    ],
    processor: new RequestProcessor(new HandlerRegistry().register(apiVersionsHandler), node, log),
    limits: { maxFrameBytes: 1024, idleMs: 0, maxInFlight: 10, maxUnsentBytes: 1024 * 1024 },
    maxConnections: 10,
    maxConnectionsPerIp: 10,
    log,
  });
  await server.start();
  const ports = server.listeners.map((l) => l.port);
  assert.equal(ports.length, 2);
  assert.notEqual(ports[0], ports[1]);
  for (const port of ports) {
    const c = await WireClient.connect(port);
    assert.equal((await c.request(ApiVersionsApi, 1, { clientSoftwareName: '', clientSoftwareVersion: '' })).body.errorCode, 0);
    c.close();
  }
  await server.shutdown(1000);
});

test('binding a port in use fails with a clear error', async () => {
  const { server, port } = await startServer();
  const clash = new NetworkServer({
    listeners: [{ name: 'PLAINTEXT', securityProtocol: 'PLAINTEXT', host: '127.0.0.1', port }],
    processor: new RequestProcessor(new HandlerRegistry(), node, log),
    limits: { maxFrameBytes: 1024, idleMs: 0, maxInFlight: 10, maxUnsentBytes: 1024 },
    maxConnections: 10,
    maxConnectionsPerIp: 10,
    log,
  });
  await assert.rejects(clash.start(), (e: Error) => e.message.includes(`failed to bind to 127.0.0.1:${port}`));
  await server.shutdown(1000);
});
