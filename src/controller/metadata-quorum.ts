// Wiring of the metadata side of one node in combined mode: the `__cluster_metadata-0` log (durable
// storage Log + quorum-state file) under a single-voter Raft client, the metadata loader that turns
// committed records into images for publishers, and the controller that writes records. The server
// composes this once; request handlers talk to the controller and read `loader.image`.
import { join } from 'node:path';
import { imageToRecords } from '../metadata/image-writer.js';
import { MetadataLoader } from '../metadata/loader.js';
import type { MetadataPublisher } from '../metadata/publisher.js';
import type { MetadataRecord } from '../metadata/records.js';
import { METADATA_PARTITION_DIR, StorageLogStore } from '../raft/log-store.js';
import { metadataRecordSerde } from '../raft/metadata-serde.js';
import { FileQuorumStateStore, QUORUM_STATE_FILE } from '../raft/quorum-state.js';
import { SingleVoterRaftClient } from '../raft/single-voter-raft-client.js';
import { FileSnapshotStore } from '../raft/snapshots.js';
import type { Clock } from '../storage/clock.js';
import type { StorageLogger } from '../storage/log.js';
import { QuorumController, type QuorumControllerOptions } from './quorum-controller.js';

export interface MetadataQuorumOptions {
  /** metadata.log.dir (or the first log dir): the partition directory is created inside it. */
  readonly metadataLogDir: string;
  readonly nodeId: number;
  readonly clusterId: string;
  readonly clock?: Clock;
  readonly logger?: StorageLogger;
  /** Installed before the log is replayed, so they see the replayed state as their first update. */
  readonly publishers?: readonly MetadataPublisher[];
  readonly onPublisherError?: (publisher: MetadataPublisher, error: unknown) => void;
  /** metadata.log.segment.bytes (Kafka's default: 1 GiB); the log is removed below a snapshot by whole segments. */
  readonly segmentBytes?: number;
  /** metadata.log.max.record.bytes.between.snapshots (Kafka's default: 20 MiB); 0 disables snapshots. */
  readonly snapshotMaxBytes?: number;
  readonly controller?: Omit<QuorumControllerOptions, 'nodeId' | 'clusterId' | 'raft'>;
}

export interface MetadataQuorum {
  readonly raft: SingleVoterRaftClient<MetadataRecord>;
  readonly loader: MetadataLoader;
  readonly controller: QuorumController;
  close(): Promise<void>;
}

/** Opens the metadata log, replays it, and starts the controller (bootstrapping a new cluster). */
export async function startMetadataQuorum(opts: MetadataQuorumOptions): Promise<MetadataQuorum> {
  const dir = join(opts.metadataLogDir, METADATA_PARTITION_DIR);
  const logStore = await StorageLogStore.open({
    dir,
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.logger ? { logger: opts.logger } : {}),
    ...(opts.segmentBytes ? { segmentBytes: opts.segmentBytes } : {}),
  });
  const raft = new SingleVoterRaftClient<MetadataRecord>({
    nodeId: opts.nodeId,
    logStore,
    quorumState: new FileQuorumStateStore(join(dir, QUORUM_STATE_FILE)),
    serde: metadataRecordSerde,
    snapshots: new FileSnapshotStore(dir),
    ...(opts.clock ? { clock: opts.clock } : {}),
  });
  const loader = new MetadataLoader({
    clusterId: opts.clusterId,
    ...(opts.onPublisherError ? { onPublisherError: opts.onPublisherError } : {}),
  });
  for (const p of opts.publishers ?? []) await loader.installPublisher(p);
  await raft.register({
    handleLoadSnapshot: (snapshot) => loader.handleLoadSnapshot(snapshot),
    handleCommit: (batch) => loader.handleCommit(batch),
    handleCatchUpComplete: () => loader.handleCatchUpComplete(),
  });
  const snapshotMaxBytes = opts.snapshotMaxBytes ?? 20 * 1024 * 1024;
  if (snapshotMaxBytes > 0) {
    // After this many bytes of log, the loader's (committed) image becomes the new snapshot.
    let bytes = 0;
    let caughtUp = false;
    let writing = false;
    await raft.register({
      handleLoadSnapshot: () => { bytes = 0; },
      handleCommit: (batch) => {
        bytes += batch.sizeInBytes;
        if (!caughtUp || writing || bytes < snapshotMaxBytes) return;
        const image = loader.image;
        writing = true;
        bytes = 0;
        raft.createSnapshot({ endOffset: image.provenance.offset + 1, epoch: image.provenance.epoch }, imageToRecords(image))
          .catch((e: unknown) => opts.logger?.warn(`metadata snapshot failed: ${(e as Error).message}`))
          .finally(() => { writing = false; });
      },
      handleCatchUpComplete: () => { caughtUp = true; },
    });
  }
  const controller = new QuorumController({ ...opts.controller, nodeId: opts.nodeId, clusterId: opts.clusterId, raft });
  try {
    await controller.start();
  } catch (e) {
    await raft.close().catch(() => undefined);
    throw e;
  }
  return {
    raft,
    loader,
    controller,
    async close(): Promise<void> {
      await controller.close();
      await raft.close();
      await loader.close();
    },
  };
}
