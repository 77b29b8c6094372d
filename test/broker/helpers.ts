// A request context for calling handlers directly.
import type { RequestContext } from '../../src/broker/request-context.js';
import type { NodeFeatures, NodeInfo } from '../../src/broker/node-info.js';
import type { HandlerRegistry } from '../../src/broker/registry.js';

export function testNode(features?: NodeFeatures): NodeInfo {
  return {
    nodeId: 3,
    clusterId: 'AAAAAAAAAAAAAAAAAAAAAA',
    rack: null,
    controllerId: () => 3,
    advertisedEndpoint: (name) => (name === 'PLAINTEXT' ? { listenerName: 'PLAINTEXT', securityProtocol: 'PLAINTEXT', host: 'broker.example', port: 9093 } : name === 'INTERNAL' ? { listenerName: 'INTERNAL', securityProtocol: 'PLAINTEXT', host: '10.0.0.3', port: 19093 } : undefined),
    advertisedEndpoints: () => [],
    features: () => features ?? { supported: [], finalized: [], finalizedEpoch: -1n },
  };
}

export function testContext(registry: HandlerRegistry, apiKey: number, apiVersion: number, over: Partial<RequestContext> = {}): RequestContext {
  return {
    apiKey,
    apiVersion,
    correlationId: 1,
    clientId: 'test',
    listenerName: 'PLAINTEXT',
    securityProtocol: 'PLAINTEXT',
    clientAddress: '127.0.0.1',
    clientPort: 50000,
    connectionId: 'test-conn',
    node: testNode(),
    apiVersions: registry.apiVersions(),
    ...over,
  };
}
