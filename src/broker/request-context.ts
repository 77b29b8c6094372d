// What a handler is told about the request it serves, besides the request body itself.
import type { NodeInfo } from './node-info.js';
import type { ApiVersionRange } from './registry.js';

export interface RequestContext {
  readonly apiKey: number;
  readonly apiVersion: number;
  readonly correlationId: number;
  readonly clientId: string | null;
  /** The listener the request came in on (Kafka answers Metadata with that listener's endpoints). */
  readonly listenerName: string;
  readonly securityProtocol: string;
  readonly clientAddress: string;
  readonly clientPort: number;
  readonly connectionId: string;
  readonly node: NodeInfo;
  /** The API versions this broker serves, as ApiVersions advertises them. */
  readonly apiVersions: readonly ApiVersionRange[];
}
