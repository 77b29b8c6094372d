import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { BrokerConnection, CLIENT_SOFTWARE_NAME } from '../../src/client/connection.js';
import { ApiKey } from '../../src/protocol/generated/apis.js';
import { defaultMetadataRequest, defaultMetadataResponse, defaultMetadataResponseTopic, type MetadataRequest } from '../../src/protocol/generated/messages/metadata.js';
import type { ApiVersionsRequest } from '../../src/protocol/generated/messages/api-versions.js';
import { ZERO_UUID } from '../../src/protocol/codec-runtime.js';
import { isStrataError } from '../../src/protocol/strata-error.js';
import { DEFAULT_VERSIONS, ScriptBroker } from './helpers/script-broker.js';

const metadataFor = (name: string) => (v: number): MetadataRequest => ({ ...defaultMetadataRequest(), topics: [{ topicId: ZERO_UUID, name }], allowAutoTopicCreation: v < 4 });

async function withBroker(fn: (b: ScriptBroker) => Promise<void>, opts: Parameters<typeof ScriptBroker.start>[0] = {}): Promise<void> {
  const b = await ScriptBroker.start(opts);
  try {
    await fn(b);
  } finally {
    await b.close();
  }
}

test('handshake sends ApiVersions v4 with the client software name and negotiates the highest common version', () =>
  withBroker(async (b) => {
    b.versions.set(ApiKey.Metadata, [0, 9]);
    const conn = await BrokerConnection.connect({ host: '127.0.0.1', port: b.port, clientId: 'test-client' });
    try {
      const [hello] = b.requestsOf(ApiKey.ApiVersions);
      assert.equal(hello!.version, 4);
      assert.equal(hello!.header.clientId, 'test-client');
      assert.equal((hello!.body as ApiVersionsRequest).clientSoftwareName, CLIENT_SOFTWARE_NAME);
      assert.equal(conn.versionFor(ApiKey.Metadata), 9, 'broker max below ours');
      assert.equal(conn.versionFor(ApiKey.Produce), 11);
      assert.equal(conn.versionFor(ApiKey.Fetch, { maxVersion: 12 }), 12);
      assert.equal(conn.versionFor(ApiKey.Produce, { minVersion: 12 }), undefined);
      assert.equal(conn.versionFor(ApiKey.JoinGroup), undefined, 'not advertised');
      const { version, response } = await conn.send(ApiKey.Metadata, metadataFor('t'));
      assert.equal(version, 9);
      assert.equal(b.requestsOf(ApiKey.Metadata)[0]!.version, 9);
      assert.equal(response.clusterId, b.clusterId);
      await assert.rejects(conn.send(ApiKey.JoinGroup, () => assert.fail('must not build')), (e: unknown) => isStrataError(e, 'ERR_UNSUPPORTED_VERSION') && /does not support JoinGroup/.test(e.message));
    } finally {
      await conn.close();
    }
  }));

test('KIP-511: a broker that knows only older ApiVersions answers v0 UNSUPPORTED_VERSION and the client retries in its version', () =>
  withBroker(
    async (b) => {
      const conn = await BrokerConnection.connect({ host: '127.0.0.1', port: b.port });
      try {
        const hellos = b.requestsOf(ApiKey.ApiVersions);
        assert.deepEqual(hellos.map((h) => h.version), [4, 2]);
        assert.equal(hellos[0]!.body, undefined, 'first body was not readable by that broker');
        assert.equal(conn.versionFor(ApiKey.Metadata), 12);
        assert.equal(conn.apiVersions.get(ApiKey.ApiVersions)?.maxVersion, 2);
      } finally {
        await conn.close();
      }
    },
    { versions: new Map([...DEFAULT_VERSIONS, [ApiKey.ApiVersions, [0, 2]]]) },
  ));

test('KIP-511 fallback to v3 still sends the client software name', () =>
  withBroker(
    async (b) => {
      const conn = await BrokerConnection.connect({ host: '127.0.0.1', port: b.port, softwareName: 'my-app', softwareVersion: '1.2.3' });
      await conn.close();
      const [, second] = b.requestsOf(ApiKey.ApiVersions);
      assert.equal(second!.version, 3);
      assert.deepEqual({ ...(second!.body as ApiVersionsRequest), unknownTaggedFields: undefined }, { clientSoftwareName: 'my-app', clientSoftwareVersion: '1.2.3', unknownTaggedFields: undefined });
    },
    { versions: new Map([...DEFAULT_VERSIONS, [ApiKey.ApiVersions, [0, 3]]]) },
  ));

test('pipelined requests are all in flight at once and each caller gets its own response', () =>
  withBroker(async (b) => {
    const conn = await BrokerConnection.connect({ host: '127.0.0.1', port: b.port });
    let open!: () => void;
    b.gate = new Promise((res) => (open = res));
    b.scripts.set(ApiKey.Metadata, (req) => {
      const name = (req.body as MetadataRequest).topics![0]!.name;
      return { ...defaultMetadataResponse(), clusterId: `for-${name}`, topics: [{ ...defaultMetadataResponseTopic(), name }] };
    });
    try {
      const names = ['a', 'b', 'c', 'd', 'e'];
      const replies = names.map((n) => conn.send(ApiKey.Metadata, metadataFor(n)));
      while (b.requestsOf(ApiKey.Metadata).length < names.length) await new Promise((res) => setTimeout(res, 5));
      assert.equal(conn.inFlight, names.length, 'every request was sent before any answer');
      open();
      const got = await Promise.all(replies);
      assert.deepEqual(got.map((g) => g.response.clusterId), names.map((n) => `for-${n}`));
      const ids = b.requestsOf(ApiKey.Metadata).map((r) => r.header.correlationId);
      assert.equal(new Set(ids).size, ids.length, 'correlation ids are distinct');
      assert.deepEqual(ids, [...ids].sort((x, y) => x - y));
      assert.equal(conn.inFlight, 0);
    } finally {
      await conn.close();
    }
  }));

test('a request without an answer times out, and the connection closes failing the requests behind it', () =>
  withBroker(async (b) => {
    const conn = await BrokerConnection.connect({ host: '127.0.0.1', port: b.port, requestTimeoutMs: 150 });
    b.scripts.set(ApiKey.Metadata, () => 'silent');
    const first = conn.send(ApiKey.Metadata, metadataFor('x'));
    const second = conn.send(ApiKey.Metadata, metadataFor('y'), { timeoutMs: 60_000 });
    await assert.rejects(first, (e: unknown) => isStrataError(e, 'ERR_TIMEOUT') && /Metadata request to 127\.0\.0\.1:\d+ got no response within 150 ms/.test(e.message));
    await assert.rejects(second, (e: unknown) => isStrataError(e, 'ERR_NETWORK') && /timed out/.test(e.message));
    assert.equal(conn.closed, true);
    await assert.rejects(conn.send(ApiKey.Metadata, metadataFor('z')), (e: unknown) => isStrataError(e, 'ERR_NETWORK'));
  }));

test('a response with an unexpected correlation id closes the connection', () =>
  withBroker(async (b) => {
    const conn = await BrokerConnection.connect({ host: '127.0.0.1', port: b.port });
    b.scripts.set(ApiKey.Metadata, () => ({ rawCorrelationId: 999_999, body: defaultMetadataResponse() }));
    const closed = new Promise<Error | undefined>((res) => conn.onClose(res));
    await assert.rejects(conn.send(ApiKey.Metadata, metadataFor('x')), (e: unknown) => isStrataError(e, 'ERR_NETWORK') && /correlation id 999999/.test(e.message));
    assert.match((await closed)!.message, /correlation id/);
    assert.equal(conn.closed, true);
  }));

test('the broker closing the connection fails the requests in flight with ERR_NETWORK', () =>
  withBroker(async (b) => {
    const conn = await BrokerConnection.connect({ host: '127.0.0.1', port: b.port });
    b.scripts.set(ApiKey.Metadata, () => 'close');
    await assert.rejects(conn.send(ApiKey.Metadata, metadataFor('x')), (e: unknown) => isStrataError(e, 'ERR_NETWORK') && /was closed/.test(e.message));
    assert.equal(conn.closed, true);
  }));

test('a request that cannot be encoded in the negotiated version is refused before anything is sent', () =>
  withBroker(async (b) => {
    b.versions.set(ApiKey.Metadata, [0, 3]);
    const conn = await BrokerConnection.connect({ host: '127.0.0.1', port: b.port });
    try {
      // allowAutoTopicCreation=false does not exist before v4.
      await assert.rejects(conn.send(ApiKey.Metadata, { ...defaultMetadataRequest(), allowAutoTopicCreation: false }), (e: unknown) => isStrataError(e, 'ERR_ENCODE'));
      assert.equal(b.requestsOf(ApiKey.Metadata).length, 0);
      const ok = await conn.send(ApiKey.Metadata, metadataFor('t'));
      assert.equal(ok.version, 3, 'the connection is still usable');
    } finally {
      await conn.close();
    }
  }));

test('requests without a response (acks=0) leave nothing in flight', () =>
  withBroker(async (b) => {
    b.addTopic('t', 1);
    b.scripts.set(ApiKey.Produce, () => 'silent');
    const conn = await BrokerConnection.connect({ host: '127.0.0.1', port: b.port });
    try {
      const version = await conn.sendWithoutResponse(ApiKey.Produce, { transactionalId: null, acks: 0, timeoutMs: 1000, topicData: [] }, { minVersion: 3 });
      assert.equal(version, 11);
      assert.equal(conn.inFlight, 0);
      const { response } = await conn.send(ApiKey.Metadata, metadataFor('t'));
      assert.equal(response.topics[0]!.name, 't');
      assert.equal(b.requestsOf(ApiKey.Produce).length, 1);
    } finally {
      await conn.close();
    }
  }));

test('connecting to a closed port fails with a clear ERR_NETWORK', async () => {
  const server = createServer();
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', () => res()));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((res) => server.close(() => res()));
  await assert.rejects(BrokerConnection.connect({ host: '127.0.0.1', port }), (e: unknown) => isStrataError(e, 'ERR_NETWORK') && e.message === `cannot connect to 127.0.0.1:${port}: connection refused`);
});

test('a large response arriving in many TCP chunks is framed and matched to its request', async () => {
  await withBroker(async (b) => {
    const conn = await BrokerConnection.connect({ host: '127.0.0.1', port: b.port });
    try {
      const big = 'x'.repeat(200_000);
      b.scripts.set(ApiKey.Metadata, (req) => ({ ...defaultMetadataResponse(), clusterId: (req.body as MetadataRequest).topics![0]!.name === 'big' ? big : 'small' }));
      const [r1, r2, r3] = await Promise.all([conn.send(ApiKey.Metadata, metadataFor('big')), conn.send(ApiKey.Metadata, metadataFor('s')), conn.send(ApiKey.Metadata, metadataFor('s'))]);
      assert.equal(r1.response.clusterId, big);
      assert.equal(r2.response.clusterId, 'small');
      assert.equal(r3.response.clusterId, 'small');
    } finally {
      await conn.close();
    }
  });
});
