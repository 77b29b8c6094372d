import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Reader } from '../../../src/protocol/reader.js';
import { Writer } from '../../../src/protocol/writer.js';
import { ApiVersionsApi } from '../../../src/protocol/generated/apis.js';
import type { ApiVersionsRequest, ApiVersionsResponse } from '../../../src/protocol/generated/messages/api-versions.js';
import { ErrorCode } from '../../../src/protocol/errors.js';
import { apiVersionsHandler } from '../../../src/broker/handlers/api-versions.js';
import { metadataHandler } from '../../../src/broker/handlers/metadata.js';
import { HandlerRegistry } from '../../../src/broker/registry.js';
import { testContext, testNode } from '../helpers.js';

const registry = new HandlerRegistry().register(metadataHandler).register(apiVersionsHandler);

function ask(version: number, req: ApiVersionsRequest, features?: Parameters<typeof testNode>[0]): ApiVersionsResponse {
  const ctx = testContext(registry, 18, version, { node: testNode(features) });
  const res = apiVersionsHandler.handle(ctx, req) as ApiVersionsResponse;
  const w = new Writer();
  ApiVersionsApi.encodeResponse(w, version, res);
  const r = new Reader(w.toBuffer());
  const decoded = ApiVersionsApi.decodeResponse(r, version);
  r.ensureEnd();
  return decoded;
}

const good: ApiVersionsRequest = { clientSoftwareName: 'strata-test', clientSoftwareVersion: '1.0.0' };

test('every version lists exactly the registered APIs', () => {
  for (let v = 0; v <= 4; v++) {
    const res = ask(v, good);
    assert.equal(res.errorCode, ErrorCode.NONE);
    assert.deepEqual(res.apiKeys.map((k) => [k.apiKey, k.minVersion, k.maxVersion]), [
      [3, 0, 12],
      [18, 0, 4],
    ]);
    if (v >= 3) assert.equal(res.finalizedFeaturesEpoch, -1n);
  }
});

test('v3+ refuses client software names Kafka refuses, with INVALID_REQUEST', () => {
  for (const bad of [{ ...good, clientSoftwareName: '' }, { ...good, clientSoftwareVersion: '1.0 beta' }, { ...good, clientSoftwareName: '-x' }]) {
    const res = ask(3, bad);
    assert.equal(res.errorCode, ErrorCode.INVALID_REQUEST);
    assert.deepEqual(res.apiKeys, []);
  }
  // v0-2 have no such fields, so nothing to check.
  assert.equal(ask(2, { clientSoftwareName: '', clientSoftwareVersion: '' }).errorCode, ErrorCode.NONE);
});

test('features: minimum 0 only from v4 on; finalized ones only with a known epoch', () => {
  const features = {
    supported: [
      { name: 'metadata.version', minVersion: 1, maxVersion: 21 },
      { name: 'kraft.version', minVersion: 0, maxVersion: 1 },
    ],
    finalized: [{ name: 'metadata.version', minVersionLevel: 21, maxVersionLevel: 21 }],
    finalizedEpoch: 12n,
  };
  assert.deepEqual(ask(3, good, features).supportedFeatures.map((f) => f.name), ['metadata.version']);
  assert.deepEqual(ask(4, good, features).supportedFeatures.map((f) => f.name), ['metadata.version', 'kraft.version']);
  const v4 = ask(4, good, features);
  assert.equal(v4.finalizedFeaturesEpoch, 12n);
  assert.deepEqual(v4.finalizedFeatures.map((f) => [f.name, f.minVersionLevel, f.maxVersionLevel]), [['metadata.version', 21, 21]]);
  assert.deepEqual(ask(4, good, { ...features, finalizedEpoch: -1n }).finalizedFeatures, []);
});
