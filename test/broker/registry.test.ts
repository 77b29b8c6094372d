import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HandlerRegistry, defineHandler } from '../../src/broker/registry.js';
import { ApiVersionsApi, FetchApi, MetadataApi } from '../../src/protocol/generated/apis.js';
import { isStrataError } from '../../src/protocol/strata-error.js';

const stub = <Req, Res>(schema: Parameters<typeof defineHandler<Req, Res>>[0], minVersion: number, maxVersion: number) =>
  defineHandler(schema, { minVersion, maxVersion, handle: () => null });

test('ApiVersions is derived from the registered handlers, sorted by key', () => {
  const r = new HandlerRegistry().register(stub(MetadataApi, 1, 9)).register(stub(ApiVersionsApi, 0, 4)).register(stub(FetchApi, 4, 17));
  assert.deepEqual(r.apiVersions(), [
    { apiKey: 1, minVersion: 4, maxVersion: 17 },
    { apiKey: 3, minVersion: 1, maxVersion: 9 },
    { apiKey: 18, minVersion: 0, maxVersion: 4 },
  ]);
  assert.equal(r.get(3)?.schema, MetadataApi);
  assert.equal(r.get(0), undefined);
});

test('a handler cannot claim versions its schema does not define, nor a key twice', () => {
  assert.throws(() => new HandlerRegistry().register(stub(MetadataApi, 0, 13)), (e) => isStrataError(e, 'ERR_STATE'));
  assert.throws(() => new HandlerRegistry().register(stub(MetadataApi, 5, 4)), (e) => isStrataError(e, 'ERR_STATE'));
  assert.throws(
    () => new HandlerRegistry().register(stub(MetadataApi, 0, 12)).register(stub(MetadataApi, 0, 1)),
    (e) => isStrataError(e, 'ERR_STATE') && /already registered/.test(e.message),
  );
});
