// Child process for crash.test.ts: appends to one partition as fast as it can until the parent
// SIGKILLs it, printing on stdout what it was promised:
//   ready <logEndOffset>
//   ack <firstOffset> <lastOffset> <crc32c of the batch as written>   (after the append resolved)
//   flushed <offset>                                                  (after a flush up to offset resolved)
// Usage: node --import tsx test/storage/crash-child.ts <logDir> <durable|default> <producerId>
import { buildBatchSync } from '../../src/protocol/records/builder.js';
import { crc32c } from '../../src/protocol/records/crc32c.js';
import { logConfig } from '../../src/storage/log-config.js';
import { LogManager } from '../../src/storage/log-manager.js';

const [logDir, mode, pidArg] = process.argv.slice(2);
const durable = mode === 'durable';
const producerId = Number(pidArg);
export const CRASH_LOG_CONFIG = { segmentBytes: 64 * 1024, indexIntervalBytes: 1024, durableAppend: durable };

const manager = await LogManager.start({
  logDirs: [logDir!],
  configFor: () => logConfig(CRASH_LOG_CONFIG),
  recoveryPointCheckpointIntervalMs: 20,
  flushCheckIntervalMs: 1_000_000,
});
const log = await manager.getOrCreateLog('crash', 0);
const out = (line: string): void => {
  process.stdout.write(line + '\n');
};
out(`ready ${log.logEndOffset}`);

let seq = 0;
let n = 0;
const appendOne = async (): Promise<void> => {
  const count = 1 + (n % 7);
  const size = 50 + ((n * 7919) % 3000);
  const records = Array.from({ length: count }, (_, i) => ({ key: `p${producerId}-${n}-${i}`, value: Buffer.alloc(size, (n + i) & 0xff) }));
  const b = buildBatchSync(records, { producerId, producerEpoch: 0, baseSequence: seq, timestamp: Date.now() });
  seq += count;
  n++;
  const r = await log.append(b, { leaderEpoch: 1 });
  out(`ack ${r.firstOffset} ${r.lastOffset} ${crc32c(b)}`);
};

const writers = durable ? 8 : 1;
await Promise.all(Array.from({ length: writers }, async () => {
  for (;;) {
    await appendOne();
    if (!durable && n % 16 === 0) {
      const end = log.logEndOffset;
      await log.flush(end);
      out(`flushed ${end}`);
    }
  }
}));
