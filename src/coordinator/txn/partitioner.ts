// Which partition of __transaction_state holds a transactional id: Kafka's
// `Utils.abs(transactionalId.hashCode()) % transaction.state.log.num.partitions`, the same Java-exact hash
// the group coordinator uses, so that clients' FindCoordinator answers and every broker agree.
import { javaStringHashCode, kafkaAbs } from '../group/partitioner.js';

export function transactionPartitionFor(transactionalId: string, numPartitions: number): number {
  return kafkaAbs(javaStringHashCode(transactionalId)) % numPartitions;
}
