// ApiVersions (key 18): the versions of every API this broker serves, derived from the handler registry,
// plus the feature ranges the node supports and the cluster's finalized features.
//
// A request whose version is newer than ours never reaches this handler: the network layer answers it
// itself in v0 with UNSUPPORTED_VERSION (KIP-511), because its body cannot be parsed.
import { ApiVersionsApi } from '../../protocol/generated/apis.js';
import type { ApiVersionsResponse } from '../../protocol/generated/messages/api-versions.js';
import { ErrorCode } from '../../protocol/errors.js';
import { defineHandler, type ApiVersionRange } from '../registry.js';
import type { NodeFeatures } from '../node-info.js';

/** What Kafka accepts as a client software name or version (KIP-511). */
const SOFTWARE_PATTERN = /^[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?$/;

/** The body of an ApiVersions response; `features` null leaves the feature fields at their defaults. */
export function apiVersionsResponse(
  errorCode: number,
  apiKeys: readonly ApiVersionRange[],
  features: NodeFeatures | null,
  version: number,
): ApiVersionsResponse {
  return {
    errorCode,
    apiKeys: apiKeys.map((k) => ({ apiKey: k.apiKey, minVersion: k.minVersion, maxVersion: k.maxVersion })),
    throttleTimeMs: 0,
    // Before v4 a feature whose minimum is 0 cannot be expressed (old clients took 0 for "absent").
    supportedFeatures:
      features === null
        ? []
        : features.supported
            .filter((f) => version >= 4 || f.minVersion > 0)
            .map((f) => ({ name: f.name, minVersion: f.minVersion, maxVersion: f.maxVersion })),
    finalizedFeaturesEpoch: features === null ? -1n : features.finalizedEpoch,
    finalizedFeatures:
      features === null || features.finalizedEpoch < 0n
        ? []
        : features.finalized.map((f) => ({
            name: f.name,
            maxVersionLevel: f.maxVersionLevel,
            minVersionLevel: f.minVersionLevel,
          })),
    zkMigrationReady: false,
  };
}

export const apiVersionsHandler = defineHandler(ApiVersionsApi, {
  minVersion: 0,
  maxVersion: 4,
  handle(ctx, request) {
    if (
      ctx.apiVersion >= 3 &&
      !(SOFTWARE_PATTERN.test(request.clientSoftwareName) && SOFTWARE_PATTERN.test(request.clientSoftwareVersion))
    ) {
      return apiVersionsResponse(ErrorCode.INVALID_REQUEST, [], null, ctx.apiVersion);
    }
    return apiVersionsResponse(ErrorCode.NONE, ctx.apiVersions, ctx.node.features(), ctx.apiVersion);
  },
});
