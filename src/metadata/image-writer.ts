// An image as the records that rebuild it: what a metadata snapshot holds, and what a publisher that
// joins late could be told. Replaying `imageToRecords(image)` onto an empty image gives `image` back
// (provenance aside). Records are written at the versions of metadata.version 3.9-IV0.
import { configResourceKey, type MetadataImage, parseConfigResourceKey } from './image.js';
import { LeaderRecoveryState, METADATA_VERSION_FEATURE, type MetadataRecord, MetadataRecordType, RecordVersion } from './records.js';

const byName = <T extends { readonly name: string }>(a: T, b: T): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

export function imageToRecords(image: MetadataImage): MetadataRecord[] {
  const out: MetadataRecord[] = [];
  // metadata.version first: it decides how everything after it is read.
  if (image.features.metadataVersion !== 0) {
    out.push({ type: MetadataRecordType.FeatureLevel, version: RecordVersion.FeatureLevel,
      data: { name: METADATA_VERSION_FEATURE, featureLevel: image.features.metadataVersion } });
  }
  for (const [name, featureLevel] of [...image.features.finalized].sort()) {
    out.push({ type: MetadataRecordType.FeatureLevel, version: RecordVersion.FeatureLevel, data: { name, featureLevel } });
  }
  for (const b of [...image.cluster.brokers.values()].sort((x, y) => x.id - y.id)) {
    out.push({
      type: MetadataRecordType.RegisterBroker,
      version: RecordVersion.RegisterBroker,
      data: {
        brokerId: b.id,
        isMigratingZkBroker: false,
        incarnationId: b.incarnationId,
        brokerEpoch: BigInt(b.epoch),
        endPoints: b.listeners.map((l) => ({ ...l })),
        features: b.supportedFeatures.map((f) => ({ ...f })),
        rack: b.rack,
        fenced: b.fenced,
        inControlledShutdown: b.inControlledShutdown,
        logDirs: [...b.logDirs],
      },
    });
  }
  for (const t of [...image.topics.byId.values()].sort(byName)) {
    out.push({ type: MetadataRecordType.Topic, version: RecordVersion.Topic, data: { name: t.name, topicId: t.id } });
    for (const [partitionId, p] of [...t.partitions].sort((a, b) => a[0] - b[0])) {
      const elr = p.elr.length > 0 || p.lastKnownElr.length > 0;
      out.push({
        type: MetadataRecordType.Partition,
        // ELR fields exist from version 2 on; keep version 1 otherwise, as Kafka's writer does.
        version: elr ? 2 : RecordVersion.Partition,
        data: {
          partitionId,
          topicId: t.id,
          replicas: [...p.replicas],
          isr: [...p.isr],
          removingReplicas: [...p.removingReplicas],
          addingReplicas: [...p.addingReplicas],
          leader: p.leader,
          leaderRecoveryState: p.leaderRecoveryState ?? LeaderRecoveryState.RECOVERED,
          leaderEpoch: p.leaderEpoch,
          partitionEpoch: p.partitionEpoch,
          directories: [...p.directories],
          eligibleLeaderReplicas: elr ? [...p.elr] : null,
          lastKnownElr: elr ? [...p.lastKnownElr] : null,
        },
      });
    }
  }
  for (const key of [...image.configs.keys()].sort()) {
    const { type, name } = parseConfigResourceKey(key);
    for (const [configName, value] of [...image.configs.get(configResourceKey(type, name))!].sort()) {
      out.push({ type: MetadataRecordType.Config, version: RecordVersion.Config,
        data: { resourceType: type, resourceName: name, name: configName, value } });
    }
  }
  if (image.producerIds.nextProducerId !== 0) {
    out.push({ type: MetadataRecordType.ProducerIds, version: RecordVersion.ProducerIds,
      data: { brokerId: -1, brokerEpoch: -1n, nextProducerId: BigInt(image.producerIds.nextProducerId) } });
  }
  return out;
}
