// Child process for crash.test.ts: opens the metadata quorum on a directory, registers broker 1, then
// creates topics and allocates producer id blocks as fast as it can until the parent SIGKILLs it,
// printing on stdout only what was acknowledged (the operation's promise resolved):
//   ready <brokerEpoch>
//   topic <name> <topicId>
//   pid <producerIdStart>
// Usage: node --import tsx test/controller/crash-child.ts <metadataLogDir> <run>
import { startMetadataQuorum } from '../../src/controller/metadata-quorum.js';

const [dir, run] = process.argv.slice(2);
// Small segments and frequent snapshots, so kills also land in snapshot writes and log truncation.
const q = await startMetadataQuorum({
  metadataLogDir: dir!, nodeId: 1, clusterId: 'MkU3OEVBNTcwNTJENDM2Qk', segmentBytes: 8192, snapshotMaxBytes: 16384,
});
const epoch = await q.controller.registerLocalBroker({
  brokerId: 1,
  incarnationId: crypto.randomUUID(),
  listeners: [{ name: 'PLAINTEXT', host: 'localhost', port: 9092, securityProtocol: 0 }],
  rack: null,
});
const out = (line: string): void => {
  process.stdout.write(line + '\n');
};
out(`ready ${epoch}`);

let n = 0;
await Promise.all(Array.from({ length: 4 }, async (_, worker) => {
  for (;;) {
    const i = n++;
    if (i % 2 === 0) {
      const name = `t-${run}-${worker}-${i}`;
      const [r] = await q.controller.createTopics([{ name, numPartitions: 2, replicationFactor: 1 }]);
      if (r!.errorCode !== 0) throw new Error(`create ${name}: ${r!.errorCode} ${r!.errorMessage}`);
      out(`topic ${name} ${r!.topicId}`);
    } else {
      const b = await q.controller.allocateProducerIds(1, epoch);
      if (b.errorCode !== 0) throw new Error(`allocate: ${b.errorCode} ${b.errorMessage}`);
      out(`pid ${b.producerIdStart}`);
    }
  }
}));
