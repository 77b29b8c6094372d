// DescribeLogDirs (key 35), v0–4: every log dir of this node with its partitions' sizes and offset lag
// (all partitions, or the requested ones), whether the dir is online (KAFKA_STORAGE_ERROR when not), and
// from v4 the dir's total and usable bytes.
import { DescribeLogDirsApi } from '../../protocol/generated/apis.js';
import type {
  DescribeLogDirsRequest,
  DescribeLogDirsResponse,
  DescribeLogDirsResponseDescribeLogDirsTopic,
} from '../../protocol/generated/messages/describe-log-dirs.js';
import { ErrorCode } from '../../protocol/errors.js';
import type { DataPathDeps } from '../data-path-deps.js';
import { defineHandler, type ApiHandler } from '../registry.js';

export function describeLogDirsHandler(deps: DataPathDeps): ApiHandler<DescribeLogDirsRequest, DescribeLogDirsResponse> {
  return defineHandler(DescribeLogDirsApi, {
    minVersion: 0,
    maxVersion: 4,
    async handle(_ctx, request) {
      let wanted: ((topic: string, partition: number) => boolean) | undefined;
      if (request.topics !== null) {
        const set = new Set(request.topics.flatMap((t) => t.partitions.map((p) => `${t.topic}:${p}`)));
        wanted = (topic, partition) => set.has(`${topic}:${partition}`);
      }
      const dirs = await deps.replicaManager.describeLogDirs(wanted);
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.NONE,
        results: dirs.map((d) => {
          const topics: DescribeLogDirsResponseDescribeLogDirsTopic[] = [];
          const byName = new Map<string, DescribeLogDirsResponseDescribeLogDirsTopic>();
          for (const p of [...d.partitions].sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition))) {
            let t = byName.get(p.topic);
            if (t === undefined) {
              t = { name: p.topic, partitions: [] };
              byName.set(p.topic, t);
              topics.push(t);
            }
            t.partitions.push({ partitionIndex: p.partition, partitionSize: BigInt(p.size), offsetLag: BigInt(p.offsetLag), isFutureKey: false });
          }
          return { errorCode: d.errorCode, logDir: d.logDir, topics, totalBytes: BigInt(d.totalBytes), usableBytes: BigInt(d.usableBytes) };
        }),
      };
    },
  });
}
