// AlterConfigs (key 33), v0–2: the legacy, replace-everything form. Each resource's listed configs
// become its complete set of dynamic configs (keys not listed are removed), for topics and for dynamic
// broker configs (this node's id, or "" for the cluster-wide default). validate_only checks without
// writing. The broker refuses what Kafka's broker refuses before forwarding (see config-preprocess.ts);
// the controller validates values and answers INVALID_CONFIG with a message naming the key.
import { AlterConfigsApi } from '../../protocol/generated/apis.js';
import type { AlterConfigsResponse } from '../../protocol/generated/messages/alter-configs.js';
import type { LegacyConfigResource } from '../../controller/results.js';
import { answerWithController, preprocess } from '../config-preprocess.js';
import type { AdminDeps } from '../controller-api.js';
import { defineHandler } from '../registry.js';

export function alterConfigsHandler(deps: AdminDeps) {
  return defineHandler(AlterConfigsApi, {
    minVersion: 0,
    maxVersion: 2,
    async handle(_ctx, request): Promise<AlterConfigsResponse> {
      const answers = preprocess(request.resources, deps.metadata.nodeId, () => false);
      const results = await answerWithController(
        request.resources,
        answers,
        (r): LegacyConfigResource => ({ resourceType: r.resourceType, resourceName: r.resourceName, configs: r.configs.map((c) => ({ name: c.name, value: c.value })) }),
        (resources) => deps.controller.alterConfigs(resources, { validateOnly: request.validateOnly }),
      );
      return {
        throttleTimeMs: 0,
        responses: request.resources.map((r, i) => ({ ...results[i]!, resourceType: r.resourceType, resourceName: r.resourceName })),
      };
    },
  });
}
