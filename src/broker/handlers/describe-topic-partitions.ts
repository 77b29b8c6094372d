// DescribeTopicPartitions (key 75), v0 (KIP-966): topics (all, or the named ones) in name order with
// their partitions, at most response_partition_limit partitions per response (capped by the broker's
// max.request.partition.size.limit, default 2000) and a cursor where the next page starts. As in
// Kafka 3.9: the cursor's topic must be among the named topics; when listing all topics, topics that
// do not exist are skipped, otherwise they are answered UNKNOWN_TOPIC_OR_PARTITION (or
// INVALID_TOPIC_EXCEPTION for illegal names).
import { DescribeTopicPartitionsApi } from '../../protocol/generated/apis.js';
import type {
  DescribeTopicPartitionsResponse,
  DescribeTopicPartitionsResponsePartition,
  DescribeTopicPartitionsResponseTopic,
} from '../../protocol/generated/messages/describe-topic-partitions.js';
import { ZERO_UUID } from '../../protocol/codec-runtime.js';
import { ErrorCode } from '../../protocol/errors.js';
import { invalidTopicNameReason } from '../../controller/topic-names.js';
import type { MetadataImage, TopicImage } from '../../metadata/image.js';
import { isInternalTopic, leaderNode, type MetadataView, offlineReplicas } from '../metadata-view.js';
import { defineHandler } from '../registry.js';
import { TOPIC_OPERATIONS } from './metadata.js';

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function partitionsOf(image: MetadataImage, topic: TopicImage, listenerName: string, start: number, maxCount: number):
  { partitions: DescribeTopicPartitionsResponsePartition[]; next: number } {
  const size = topic.partitions.size;
  const upper = Math.min(size, start + maxCount);
  const partitions: DescribeTopicPartitionsResponsePartition[] = [];
  for (let id = start; id < upper; id++) {
    const p = topic.partitions.get(id);
    if (p === undefined) continue;
    partitions.push({
      errorCode: ErrorCode.NONE,
      partitionIndex: id,
      leaderId: leaderNode(image, p, listenerName) === undefined ? -1 : p.leader,
      leaderEpoch: p.leaderEpoch,
      replicaNodes: [...p.replicas],
      isrNodes: [...p.isr],
      eligibleLeaderReplicas: [...p.elr],
      lastKnownElr: [...p.lastKnownElr],
      offlineReplicas: offlineReplicas(image, p, listenerName),
    });
  }
  return { partitions, next: upper < size ? upper : -1 };
}

export function describeTopicPartitionsHandler(deps: { readonly metadata: MetadataView }) {
  return defineHandler(DescribeTopicPartitionsApi, {
    minVersion: 0,
    maxVersion: 0,
    handle(ctx, request): DescribeTopicPartitionsResponse {
      const view = deps.metadata;
      const image = view.image;
      const fetchAll = request.topics.length === 0;
      const cursor = request.cursor;
      const cursorTopic = cursor?.topicName ?? '';
      const names = new Set<string>();
      for (const n of fetchAll ? image.topics.byName.keys() : request.topics.map((t) => t.name)) if (n >= cursorTopic) names.add(n);
      if (!fetchAll && cursor !== null && !names.has(cursor.topicName)) {
        return {
          throttleTimeMs: 0,
          nextCursor: null,
          topics: request.topics.map((t) => ({
            errorCode: ErrorCode.INVALID_REQUEST,
            name: t.name,
            topicId: ZERO_UUID,
            isInternal: false,
            partitions: [],
            topicAuthorizedOperations: -2147483648,
          })),
        };
      }
      let remaining = Math.min(view.intSetting('max.request.partition.size.limit', 2000), request.responsePartitionLimit);
      const topics: DescribeTopicPartitionsResponseTopic[] = [];
      let nextCursor: DescribeTopicPartitionsResponse['nextCursor'] = null;
      for (const name of [...names].sort(byName)) {
        if (remaining <= 0) {
          // The page is full: the next one starts at this topic.
          if (remaining === 0) nextCursor = { topicName: name, partitionIndex: 0 };
          break;
        }
        const topic = image.topic(name);
        if (topic === undefined) {
          if (!fetchAll) {
            topics.push({
              errorCode: invalidTopicNameReason(name) === undefined ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : ErrorCode.INVALID_TOPIC_EXCEPTION,
              name,
              topicId: ZERO_UUID,
              isInternal: isInternalTopic(name),
              partitions: [],
              topicAuthorizedOperations: TOPIC_OPERATIONS,
            });
          }
          continue;
        }
        const start = name === cursorTopic && cursor !== null ? cursor.partitionIndex : 0;
        const { partitions, next } = partitionsOf(image, topic, ctx.listenerName, start, remaining);
        topics.push({ errorCode: ErrorCode.NONE, name, topicId: topic.id, isInternal: isInternalTopic(name), partitions, topicAuthorizedOperations: TOPIC_OPERATIONS });
        if (next !== -1) {
          nextCursor = { topicName: name, partitionIndex: next };
          break;
        }
        remaining -= partitions.length;
      }
      return { throttleTimeMs: 0, topics, nextCursor };
    },
  });
}
