// ListOffsets: the earliest, latest or max-timestamp offset, or the first offset at or after a time, of
// each partition, asked of each partition's leader.
import { ApiKey, type ApiMessages } from '../protocol/generated/apis.js';
import { ErrorCode } from '../protocol/errors.js';
import type { Sent } from './connection.js';
import { groupByLeader, type ClientContext } from './context.js';
import { KafkaResponseError, isRetriableError, partitionSubject } from './errors.js';
import type { OffsetSpec, PartitionOffset } from './types.js';

const EARLIEST = -2n;
const LATEST = -1n;
const MAX_TIMESTAMP = -3n;

/** Offsets of every partition of `topic` (or those listed) for `spec`, sorted by partition. */
export async function listOffsets(ctx: ClientContext, topic: string, spec: OffsetSpec, partitions?: readonly number[]): Promise<PartitionOffset[]> {
  const timestamp = spec === 'earliest' ? EARLIEST : spec === 'latest' ? LATEST : spec === 'max-timestamp' ? MAX_TIMESTAMP : BigInt(spec.timestamp);
  const results = new Map<number, PartitionOffset>();
  let todo: number[] | undefined = partitions === undefined ? undefined : [...partitions];
  await ctx.retrying(async () => {
    const info = await ctx.topic(topic);
    todo ??= info.partitions.map((p) => p.partition);
    const { byLeader, leaderless } = groupByLeader(info, todo);
    const retry: number[] = [...leaderless];
    let retryError: KafkaResponseError | undefined = leaderless.length > 0 ? new KafkaResponseError(ErrorCode.LEADER_NOT_AVAILABLE, { subject: partitionSubject(topic, leaderless[0]!), topic }) : undefined;
    await Promise.all(
      [...byLeader].map(async ([leader, parts]) => {
        let sent: Sent<ApiMessages[2]['response']>;
        try {
          sent = await ctx.send({ nodeId: leader }, ApiKey.ListOffsets, () => ({
            replicaId: -1,
            isolationLevel: 0,
            topics: [{ name: topic, partitions: parts.map((p) => ({ partitionIndex: p, currentLeaderEpoch: -1, timestamp, maxNumOffsets: 1 })) }],
          }), { minVersion: timestamp === MAX_TIMESTAMP ? 7 : 0 });
        } catch (err) {
          if (!isRetriableError(err)) throw err;
          retry.push(...parts);
          retryError = err as KafkaResponseError;
          return;
        }
        for (const t of sent.response.topics) {
          for (const p of t.partitions) {
            if (p.errorCode !== ErrorCode.NONE) {
              const e = new KafkaResponseError(p.errorCode, { subject: partitionSubject(topic, p.partitionIndex), topic, partition: p.partitionIndex });
              if (!e.retriable) throw e;
              retry.push(p.partitionIndex);
              retryError = e;
              continue;
            }
            const offset = sent.version === 0 ? Number(p.oldStyleOffsets[0] ?? -1n) : Number(p.offset);
            results.set(p.partitionIndex, { partition: p.partitionIndex, offset, timestamp: Number(p.timestamp), leaderEpoch: p.leaderEpoch });
          }
        }
      }),
    );
    todo = retry;
    if (retryError !== undefined) throw retryError;
  });
  return [...results.values()].sort((a, b) => a.partition - b.partition);
}
