// CreatePartitions (key 37), v0–3: raises topics' partition counts, optionally with explicit replica
// assignments for the new partitions; validate_only checks without writing. A topic named twice is an
// INVALID_REQUEST (listed first, as Kafka's ControllerApis does); the controller answers the rest
// (UNKNOWN_TOPIC_OR_PARTITION, INVALID_PARTITIONS when the count does not increase,
// INVALID_REPLICA_ASSIGNMENT, INVALID_REPLICATION_FACTOR).
import { CreatePartitionsApi } from '../../protocol/generated/apis.js';
import type {
  CreatePartitionsResponse,
  CreatePartitionsResponseCreatePartitionsTopicResult,
} from '../../protocol/generated/messages/create-partitions.js';
import { ErrorCode } from '../../protocol/errors.js';
import type { CreatePartitionsTopic } from '../../controller/results.js';
import { type AdminDeps, callController } from '../controller-api.js';
import { defineHandler } from '../registry.js';

type Result = CreatePartitionsResponseCreatePartitionsTopicResult;

export function createPartitionsHandler(deps: AdminDeps) {
  return defineHandler(CreatePartitionsApi, {
    minVersion: 0,
    maxVersion: 3,
    async handle(_ctx, request): Promise<CreatePartitionsResponse> {
      const counts = new Map<string, number>();
      for (const t of request.topics) counts.set(t.name, (counts.get(t.name) ?? 0) + 1);
      const results: Result[] = [];
      for (const [name, n] of counts) {
        if (n > 1) results.push({ name, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Duplicate topic name.' });
      }
      const topics: CreatePartitionsTopic[] = request.topics
        .filter((t) => counts.get(t.name) === 1)
        .map((t) => ({ name: t.name, count: t.count, assignments: t.assignments === null ? null : t.assignments.map((a) => a.brokerIds) }));
      if (topics.length > 0) {
        const outcome = await callController(
          () => deps.controller.createPartitions(topics, { validateOnly: request.validateOnly }),
          request.timeoutMs,
        );
        if (outcome.ok) {
          for (const r of outcome.value) results.push({ name: r.name, errorCode: r.errorCode, errorMessage: r.errorMessage });
        } else {
          for (const t of topics) results.push({ name: t.name, ...outcome.error });
        }
      }
      return { throttleTimeMs: 0, results };
    },
  });
}
