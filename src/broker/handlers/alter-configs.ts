// AlterConfigs (key 33), v0–2: the legacy, replace-everything form. Each resource's listed configs
// become its complete set of dynamic configs (keys not listed are removed), for topics and for dynamic
// broker configs (this node's id, or "" for the cluster-wide default). validate_only checks without
// writing. The broker refuses what Kafka's broker refuses before forwarding (see config-preprocess.ts);
// the controller validates values and answers INVALID_CONFIG with a message naming the key.
import { AlterConfigsApi } from '../../protocol/generated/apis.js';
import type { AlterConfigsResponse } from '../../protocol/generated/messages/alter-configs.js';
import type { LegacyConfigResource } from '../../controller/results.js';
import { preprocess, type ResourceAnswer } from '../config-preprocess.js';
import { type AdminDeps, callController } from '../controller-api.js';
import { defineHandler } from '../registry.js';

export function alterConfigsHandler(deps: AdminDeps) {
  return defineHandler(AlterConfigsApi, {
    minVersion: 0,
    maxVersion: 2,
    async handle(_ctx, request): Promise<AlterConfigsResponse> {
      const answers = preprocess(request.resources, deps.metadata.nodeId, () => false);
      const forward: { index: number; resource: LegacyConfigResource }[] = [];
      request.resources.forEach((r, index) => {
        if (!answers.has(index)) {
          forward.push({ index, resource: { resourceType: r.resourceType, resourceName: r.resourceName, configs: r.configs.map((c) => ({ name: c.name, value: c.value })) } });
        }
      });
      if (forward.length > 0) {
        const outcome = await callController(
          () => deps.controller.alterConfigs(forward.map((f) => f.resource), { validateOnly: request.validateOnly }),
          0,
        );
        forward.forEach((f, i) => {
          const a: ResourceAnswer = outcome.ok ? outcome.value[i]! : outcome.error;
          answers.set(f.index, { errorCode: a.errorCode, errorMessage: a.errorMessage });
        });
      }
      return {
        throttleTimeMs: 0,
        responses: request.resources.map((r, i) => ({ ...answers.get(i)!, resourceType: r.resourceType, resourceName: r.resourceName })),
      };
    },
  });
}
