// The admin handlers of a node whose metadata comes from the KRaft image, ready to register:
// `for (const h of adminHandlers(deps)) registry.register(h)`. The Metadata handler here replaces the
// image-less `metadataHandler`.
import type { AdminDeps } from './controller-api.js';
import { alterConfigsHandler } from './handlers/alter-configs.js';
import { createPartitionsHandler } from './handlers/create-partitions.js';
import { createTopicsHandler } from './handlers/create-topics.js';
import { deleteTopicsHandler } from './handlers/delete-topics.js';
import { describeClusterHandler } from './handlers/describe-cluster.js';
import { describeConfigsHandler } from './handlers/describe-configs.js';
import { describeTopicPartitionsHandler } from './handlers/describe-topic-partitions.js';
import { incrementalAlterConfigsHandler } from './handlers/incremental-alter-configs.js';
import { initProducerIdHandler } from './handlers/init-producer-id.js';
import { createMetadataHandler } from './handlers/metadata.js';
import { ProducerIdManager } from './producer-id-manager.js';
import type { HandlerRegistry } from './registry.js';

/** Registers Metadata and every admin API on `registry`; returns the registry. */
export function registerAdminHandlers(registry: HandlerRegistry, deps: AdminDeps): HandlerRegistry {
  const producerIds = new ProducerIdManager({
    controller: deps.controller,
    nodeId: deps.metadata.nodeId,
    brokerEpoch: () => deps.metadata.brokerEpoch(),
  });
  return registry
    .register(createMetadataHandler(deps))
    .register(createTopicsHandler(deps))
    .register(deleteTopicsHandler(deps))
    .register(createPartitionsHandler(deps))
    .register(describeConfigsHandler(deps))
    .register(alterConfigsHandler(deps))
    .register(incrementalAlterConfigsHandler(deps))
    .register(describeClusterHandler(deps))
    .register(describeTopicPartitionsHandler(deps))
    .register(initProducerIdHandler({ producerIds, metadata: deps.metadata, ...(deps.transactions ? { transactions: deps.transactions } : {}) }));
}
