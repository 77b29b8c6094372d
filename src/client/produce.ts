// Produce: records → one v2 batch per partition (Kafka's default partitioner for records without one) →
// one Produce request per leader, retrying the partitions that fail with retriable errors.
import { ApiKey } from '../protocol/generated/apis.js';
import type { ProduceResponse } from '../protocol/generated/messages/produce.js';
import { ErrorCode } from '../protocol/errors.js';
import { Compression } from '../protocol/records/batch-header.js';
import { buildBatch } from '../protocol/records/builder.js';
import { isCompressionSupported } from '../protocol/records/compression.js';
import { StrataError } from '../protocol/strata-error.js';
import type { SendOptions } from './connection.js';
import { groupByLeader, pushTo, type ClientContext } from './context.js';
import { KafkaResponseError, isRetriableError, partitionSubject } from './errors.js';
import { partitionForKey, stickyPartition } from './partitioner.js';
import type { ProduceOptions, ProduceRecord, ProduceResult, ProducedPartition } from './types.js';

/**
 * Writes `records` to `topic`: one v2 batch per partition, one Produce request per leader. Records
 * without a partition go where Kafka's default partitioner would put them. Partitions that fail with a
 * retriable error are sent again (without idempotence, a retry after a lost response may duplicate).
 */
export async function produce(ctx: ClientContext, topic: string, records: readonly ProduceRecord[], opts: ProduceOptions = {}): Promise<ProduceResult> {
  const acks = opts.acks ?? -1;
  const codec = Compression[opts.compression ?? 'none'];
  if (codec === undefined || !isCompressionSupported(codec)) throw new StrataError('ERR_COMPRESSION', `compression '${opts.compression}' is not available`);
  const info = await ctx.topic(topic);
  const count = info.partitions.length;
  const withLeader = info.partitions.filter((p) => p.leader >= 0).map((p) => p.partition);
  let sticky = -1;
  const assigned = records.map((r) => {
    if (r.partition !== undefined) {
      if (!(Number.isInteger(r.partition) && r.partition >= 0 && r.partition < count)) {
        throw new KafkaResponseError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, { subject: partitionSubject(topic, r.partition), serverMessage: `the topic has ${count} partitions`, topic, retriable: false });
      }
      return r.partition;
    }
    if (r.key !== undefined && r.key !== null) return partitionForKey(typeof r.key === 'string' ? Buffer.from(r.key) : r.key, count);
    if (sticky < 0) sticky = stickyPartition(withLeader, count);
    return sticky;
  });
  const byPartition = new Map<number, number[]>();
  assigned.forEach((p, i) => pushTo(byPartition, p, i));
  const batches = new Map<number, Buffer>();
  const now = Date.now();
  for (const [p, idx] of byPartition) {
    batches.set(
      p,
      await buildBatch(
        idx.map((i) => {
          const r = records[i]!;
          return { key: r.key ?? null, value: r.value, headers: r.headers ?? [], timestamp: r.timestamp ?? now };
        }),
        { compression: codec },
      ),
    );
  }

  const done = new Map<number, ProducedPartition>();
  let todo = [...byPartition.keys()];
  const limits: SendOptions = { minVersion: codec === Compression.zstd ? 7 : 3 };
  await ctx.retrying(async (attempt) => {
    const current = attempt === 0 ? info : await ctx.topic(topic, true);
    const { byLeader, leaderless } = groupByLeader(current, todo);
    const retry: number[] = [...leaderless];
    let retryError: Error | undefined = leaderless.length > 0 ? new KafkaResponseError(ErrorCode.LEADER_NOT_AVAILABLE, { subject: partitionSubject(topic, leaderless[0]!), topic }) : undefined;
    await Promise.all(
      [...byLeader].map(async ([leader, parts]) => {
        const request = {
          transactionalId: null,
          acks,
          timeoutMs: opts.timeoutMs ?? ctx.requestTimeoutMs,
          topicData: [{ name: topic, partitionData: parts.map((p) => ({ index: p, records: batches.get(p)! })) }],
        };
        let response: ProduceResponse;
        try {
          const conn = await ctx.connection({ nodeId: leader });
          if (acks === 0) {
            await conn.sendWithoutResponse(ApiKey.Produce, request, limits);
            for (const p of parts) done.set(p, { partition: p, baseOffset: -1, recordCount: byPartition.get(p)!.length, logAppendTime: -1 });
            return;
          }
          response = (await conn.send(ApiKey.Produce, request, limits)).response;
        } catch (err) {
          if (!isRetriableError(err)) throw err;
          retry.push(...parts);
          retryError = err as Error;
          return;
        }
        for (const t of response.responses) {
          for (const p of t.partitionResponses) {
            if (p.errorCode !== ErrorCode.NONE) {
              const detail = p.errorMessage ?? p.recordErrors.map((e) => e.batchIndexErrorMessage).find((m) => m !== null) ?? null;
              const e = new KafkaResponseError(p.errorCode, { subject: partitionSubject(topic, p.index), serverMessage: detail, topic, partition: p.index });
              if (!e.retriable) throw e;
              retry.push(p.index);
              retryError = e;
              continue;
            }
            done.set(p.index, { partition: p.index, baseOffset: Number(p.baseOffset), recordCount: byPartition.get(p.index)?.length ?? 0, logAppendTime: Number(p.logAppendTimeMs) });
          }
        }
      }),
    );
    todo = retry;
    if (retryError !== undefined) throw retryError;
  });

  const position = new Map<number, number>();
  return {
    topic,
    partitions: [...done.values()].sort((a, b) => a.partition - b.partition),
    records: assigned.map((p) => {
      const k = position.get(p) ?? 0;
      position.set(p, k + 1);
      const base = done.get(p)!.baseOffset;
      return { partition: p, offset: base < 0 ? -1 : base + k };
    }),
  };
}
