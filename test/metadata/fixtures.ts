// Record builders for the metadata tests: the generated record types with sensible defaults.
import type { MetadataImage } from '../../src/metadata/image.js';
import { type MetadataRecord, MetadataRecordType } from '../../src/metadata/records.js';

export const T1 = '11111111-1111-4111-8111-111111111111';
export const T2 = '22222222-2222-4222-8222-222222222222';
export const T3 = '33333333-3333-4333-8333-333333333333';

export const feature = (name: string, featureLevel: number): MetadataRecord => ({
  type: MetadataRecordType.FeatureLevel, version: 0, data: { name, featureLevel },
});

export const registerBroker = (brokerId: number, epoch: number, opts: { fenced?: boolean; incarnationId?: string; logDirs?: string[] } = {}): MetadataRecord => ({
  type: MetadataRecordType.RegisterBroker,
  version: 3,
  data: {
    brokerId,
    isMigratingZkBroker: false,
    incarnationId: opts.incarnationId ?? '00000000-0000-4000-8000-00000000000' + String(brokerId % 10),
    brokerEpoch: BigInt(epoch),
    endPoints: [{ name: 'PLAINTEXT', host: 'localhost', port: 9092 + brokerId, securityProtocol: 0 }],
    features: [{ name: 'metadata.version', minSupportedVersion: 1, maxSupportedVersion: 21 }],
    rack: null,
    fenced: opts.fenced ?? true,
    inControlledShutdown: false,
    logDirs: opts.logDirs ?? [],
  },
});

export const registrationChange = (brokerId: number, epoch: number, fenced: number): MetadataRecord => ({
  type: MetadataRecordType.BrokerRegistrationChange,
  version: 2,
  data: { brokerId, brokerEpoch: BigInt(epoch), fenced, inControlledShutdown: 0, logDirs: [] },
});

export const topic = (name: string, topicId: string): MetadataRecord => ({ type: MetadataRecordType.Topic, version: 0, data: { name, topicId } });

export const partition = (topicId: string, partitionId: number, replicas: number[], leader = replicas[0]!): MetadataRecord => ({
  type: MetadataRecordType.Partition,
  version: 1,
  data: {
    partitionId, topicId, replicas, isr: [...replicas], removingReplicas: [], addingReplicas: [], leader,
    leaderRecoveryState: 0, leaderEpoch: 0, partitionEpoch: 0, directories: replicas.map(() => '00000000-0000-0000-0000-000000000000'),
    eligibleLeaderReplicas: null, lastKnownElr: null,
  },
});

export const partitionChange = (topicId: string, partitionId: number, change: { leader?: number; isr?: number[] }): MetadataRecord => ({
  type: MetadataRecordType.PartitionChange,
  version: 1,
  data: {
    partitionId, topicId, isr: change.isr ?? null, leader: change.leader ?? -2, replicas: null, removingReplicas: null,
    addingReplicas: null, leaderRecoveryState: -1, directories: null, eligibleLeaderReplicas: null, lastKnownElr: null,
  },
});

export const removeTopic = (topicId: string): MetadataRecord => ({ type: MetadataRecordType.RemoveTopic, version: 0, data: { topicId } });

export const config = (resourceType: number, resourceName: string, name: string, value: string | null): MetadataRecord => ({
  type: MetadataRecordType.Config, version: 0, data: { resourceType, resourceName, name, value },
});

export const producerIds = (brokerId: number, epoch: number, next: number): MetadataRecord => ({
  type: MetadataRecordType.ProducerIds, version: 0, data: { brokerId, brokerEpoch: BigInt(epoch), nextProducerId: BigInt(next) },
});

/** A plain, comparable rendering of an image (everything but provenance). */
export function summarizeImage(image: MetadataImage): unknown {
  return {
    clusterId: image.clusterId,
    metadataVersion: image.features.metadataVersion,
    finalized: [...image.features.finalized].sort(),
    brokers: [...image.cluster.brokers.values()].sort((a, b) => a.id - b.id),
    topics: [...image.topics.byName.values()]
      .sort((a, b) => (a.name < b.name ? -1 : 1))
      .map((t) => ({ name: t.name, id: t.id, partitions: [...t.partitions].sort((a, b) => a[0] - b[0]) })),
    topicIdsByIdMatch: [...image.topics.byId.values()].every((t) => image.topics.byName.get(t.name) === t) &&
      image.topics.byId.size === image.topics.byName.size,
    configs: [...image.configs].map(([k, m]) => [k, [...m].sort()]).sort(),
    nextProducerId: image.producerIds.nextProducerId,
  };
}
