// IncrementalAlterConfigs (key 44), v0–1: SET, DELETE, APPEND and SUBTRACT (the last two on list-typed
// keys) applied to a resource's current dynamic configs — topics, this node's broker configs, or the
// cluster-wide broker default (name ""). validate_only checks without writing. BROKER_LOGGER resources
// are answered by the broker itself, as in Kafka; Strata has no per-logger levels, so every named
// logger is unknown. Everything else goes to the controller, which validates the resulting config.
import { IncrementalAlterConfigsApi } from '../../protocol/generated/apis.js';
import type {
  IncrementalAlterConfigsRequestAlterConfigsResource,
  IncrementalAlterConfigsResponse,
} from '../../protocol/generated/messages/incremental-alter-configs.js';
import { AlterConfigOp, type IncrementalConfigResource } from '../../controller/results.js';
import { ConfigResourceType } from '../../metadata/records.js';
import { ErrorCode } from '../../protocol/errors.js';
import { answer, answerWithController, checkCurrentNode, OK, preprocess, type ResourceAnswer } from '../config-preprocess.js';
import type { AdminDeps } from '../controller-api.js';
import { defineHandler } from '../registry.js';

/** Kafka's validateLogLevelConfigs with no loggers to change. */
function brokerLoggerAnswer(r: IncrementalAlterConfigsRequestAlterConfigsResource, nodeId: number): ResourceAnswer {
  const wrong = checkCurrentNode(r.resourceName, nodeId);
  if (wrong !== undefined) return wrong;
  for (const op of r.configs) {
    switch (op.configOperation) {
      case AlterConfigOp.SET:
      case AlterConfigOp.DELETE:
        return answer(ErrorCode.INVALID_CONFIG, `Logger ${op.name} does not exist!`);
      case AlterConfigOp.APPEND:
        return answer(ErrorCode.INVALID_REQUEST, 'APPEND operation is not allowed for the BROKER_LOGGER resource');
      case AlterConfigOp.SUBTRACT:
        return answer(ErrorCode.INVALID_REQUEST, 'SUBTRACT operation is not allowed for the BROKER_LOGGER resource');
      default:
        return answer(ErrorCode.INVALID_REQUEST, `Unknown operation type ${op.configOperation} is not allowed for the BROKER_LOGGER resource`);
    }
  }
  return OK;
}

export function incrementalAlterConfigsHandler(deps: AdminDeps) {
  return defineHandler(IncrementalAlterConfigsApi, {
    minVersion: 0,
    maxVersion: 1,
    async handle(_ctx, request): Promise<IncrementalAlterConfigsResponse> {
      const nodeId = deps.metadata.nodeId;
      const answers = preprocess(
        request.resources,
        nodeId,
        (c) => c.configOperation === AlterConfigOp.DELETE,
        (r) => (r.resourceType === ConfigResourceType.BROKER_LOGGER ? brokerLoggerAnswer(r, nodeId) : undefined),
      );
      const results = await answerWithController(
        request.resources,
        answers,
        (r): IncrementalConfigResource => ({
          resourceType: r.resourceType,
          resourceName: r.resourceName,
          configs: r.configs.map((c) => ({ name: c.name, configOperation: c.configOperation, value: c.value })),
        }),
        (resources) => deps.controller.incrementalAlterConfigs(resources, { validateOnly: request.validateOnly }),
      );
      return {
        throttleTimeMs: 0,
        responses: request.resources.map((r, i) => ({ ...results[i]!, resourceType: r.resourceType, resourceName: r.resourceName })),
      };
    },
  });
}
