// Replica placement for new partitions. Kafka's StripedReplicaPlacer spreads replicas across racks with
// a random start; we keep its contract and error messages but place deterministically: replicas go
// round-robin over the usable brokers in id order, each partition starting one broker further, so
// leaders (the first replica) are spread evenly. Unfenced brokers are preferred; fenced ones are used
// only when the replication factor needs them, as Kafka does.

export interface PlacementSpec {
  /** The id of the first partition to place (0 for a new topic, the current count when adding). */
  readonly startPartition: number;
  readonly numPartitions: number;
  readonly replicationFactor: number;
}

export interface PlacementBroker {
  readonly id: number;
  readonly rack: string | null;
  readonly fenced: boolean;
}

/** Thrown when the spec cannot be satisfied; the message is Kafka's InvalidReplicationFactorException text. */
export class PlacementError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PlacementError';
  }
}

/** One replica list per partition, in partition order. */
export function placeReplicas(spec: PlacementSpec, brokers: readonly PlacementBroker[]): number[][] {
  const rf = spec.replicationFactor;
  if (rf <= 0) throw new PlacementError(`Invalid replication factor ${rf}: the replication factor must be positive.`);
  const unfenced = brokers.filter((b) => !b.fenced).sort((a, b) => a.id - b.id);
  if (unfenced.length === 0) throw new PlacementError('All brokers are currently fenced.');
  if (rf > brokers.length) {
    throw new PlacementError(`The target replication factor of ${rf} cannot be reached because only ${brokers.length} broker(s) are registered.`);
  }
  const fenced = brokers.filter((b) => b.fenced).sort((a, b) => a.id - b.id);
  const out: number[][] = [];
  for (let p = spec.startPartition; p < spec.startPartition + spec.numPartitions; p++) {
    const replicas: number[] = [];
    for (let i = 0; i < Math.min(rf, unfenced.length); i++) replicas.push(unfenced[(p + i) % unfenced.length]!.id);
    // Too few unfenced brokers: the rest of the replicas go to fenced ones (they join the ISR later).
    for (let i = 0; replicas.length < rf; i++) replicas.push(fenced[(p + i) % fenced.length]!.id);
    out.push(replicas);
  }
  return out;
}
