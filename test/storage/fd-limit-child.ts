// Child for log-manager.test.ts: runs under a low `ulimit -n` with a descriptor budget far above it;
// prints "ok <partitions>" when every partition could be written and read back.
import { buildBatchSync } from '../../src/protocol/records/builder.js';
import { LogManager } from '../../src/storage/log-manager.js';

const [dir, countArg] = process.argv.slice(2);
const count = Number(countArg);
const m = await LogManager.start({ logDirs: [dir!], scheduleTimers: false, maxOpenFiles: 4096, loadConcurrency: 4 });
for (let p = 0; p < count; p++) {
  const log = await m.getOrCreateLog('fd', p);
  await log.append(buildBatchSync([{ key: `k${p}`, value: `v${p}` }], { timestamp: 1 }));
}
for (let p = 0; p < count; p++) {
  const r = await m.getLog('fd', p)!.read(0, 1000);
  if (r.records.length !== 1) throw new Error(`partition ${p} read nothing`);
}
await m.shutdown();
process.stdout.write(`ok ${count}\n`);
