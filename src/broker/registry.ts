// The API handlers a broker serves. Each handler module declares its API key and version range; the
// registry collects them, dispatches by key, and is the single source of the ApiVersions answer: a version
// is advertised only if a handler implements it and the protocol schema defines it.
import { StrataError } from '../protocol/strata-error.js';
import type { ApiSchema } from '../protocol/generated/apis.js';
import type { RequestContext } from './request-context.js';

/** A response, or null/undefined when the request gets none (e.g. Produce with acks=0). */
export type HandlerResult<Res> = Res | null | undefined;

export interface ApiHandler<Req = unknown, Res = unknown> {
  readonly apiKey: number;
  readonly minVersion: number;
  readonly maxVersion: number;
  /** The codec of this API, so the network layer can decode requests and encode responses for it. */
  readonly schema: ApiSchema<Req, Res>;
  handle(ctx: RequestContext, request: Req): HandlerResult<Res> | Promise<HandlerResult<Res>>;
}

export interface ApiVersionRange {
  readonly apiKey: number;
  readonly minVersion: number;
  readonly maxVersion: number;
}

/** Types a handler against its schema: `defineHandler(MetadataApi, { minVersion, maxVersion, handle })`. */
export function defineHandler<Req, Res>(
  schema: ApiSchema<Req, Res>,
  impl: Omit<ApiHandler<Req, Res>, 'apiKey' | 'schema'>,
): ApiHandler<Req, Res> {
  return { apiKey: schema.apiKey, schema, minVersion: impl.minVersion, maxVersion: impl.maxVersion, handle: impl.handle };
}

export class HandlerRegistry {
  readonly #handlers = new Map<number, ApiHandler>();
  #versions: readonly ApiVersionRange[] | null = null;
  #ranges: ReadonlyMap<number, ApiVersionRange> | null = null;

  /** Adds a handler; its range must lie within its schema's and its key must be new. */
  register<Req, Res>(handler: ApiHandler<Req, Res>): this {
    const { apiKey, minVersion, maxVersion, schema } = handler;
    if (this.#handlers.has(apiKey)) throw new StrataError('ERR_STATE', `a handler for api key ${apiKey} is already registered`);
    if (schema.apiKey !== apiKey) throw new StrataError('ERR_STATE', `handler for api key ${apiKey} carries the schema of ${schema.apiKey}`);
    if (!(minVersion <= maxVersion && minVersion >= schema.minVersion && maxVersion <= schema.maxVersion)) {
      throw new StrataError(
        'ERR_STATE',
        `handler for ${schema.name} declares versions ${minVersion}-${maxVersion} outside the schema's ${schema.minVersion}-${schema.maxVersion}`,
      );
    }
    this.#handlers.set(apiKey, handler as ApiHandler);
    this.#versions = null;
    this.#ranges = null;
    return this;
  }

  get(apiKey: number): ApiHandler | undefined {
    return this.#handlers.get(apiKey);
  }

  /** The advertised versions of one API, or undefined when it is not served. */
  range(apiKey: number): ApiVersionRange | undefined {
    this.#ranges ??= new Map(this.apiVersions().map((v) => [v.apiKey, v]));
    return this.#ranges.get(apiKey);
  }

  /** Every served API with the versions both implemented and defined, sorted by key. */
  apiVersions(): readonly ApiVersionRange[] {
    this.#versions ??= [...this.#handlers.values()]
      .map((h) => ({
        apiKey: h.apiKey,
        minVersion: Math.max(h.minVersion, h.schema.minVersion),
        maxVersion: Math.min(h.maxVersion, h.schema.maxVersion),
      }))
      .filter((v) => v.minVersion <= v.maxVersion)
      .sort((a, b) => a.apiKey - b.apiKey);
    return this.#versions;
  }
}
