// Which partitions of a coordinator's internal topic this node serves: the ones it leads, each loaded at
// the leader epoch it was elected with. Shared by the group and the transaction coordinator wiring.
import type { Logger } from 'pino';
import type { MetadataImage } from '../metadata/image.js';
import type { MetadataUpdate } from '../metadata/publisher.js';

export interface ElectableCoordinator {
  onElection(partition: number, epoch: number): Promise<unknown>;
  onResignation(partition: number): void;
}

export interface CoordinatorLeadershipOptions {
  readonly topic: string;
  readonly nodeId: number;
  readonly coordinator: ElectableCoordinator;
  /** The latest metadata image, to reload a partition after a failed write. */
  readonly image: () => MetadataImage;
  readonly log: Logger;
}

export class CoordinatorLeadership {
  readonly #opts: CoordinatorLeadershipOptions;
  /** Loaded partitions and the leader epoch each was loaded at. */
  readonly #loaded = new Map<number, number>();
  #closed = false;

  constructor(opts: CoordinatorLeadershipOptions) {
    this.#opts = opts;
  }

  /**
   * Follows a metadata update. When the topic was deleted everything is unloaded first: a re-created topic
   * starts its leader epochs again, so the epoch comparison alone would not notice it.
   */
  update(update: MetadataUpdate, image: MetadataImage): void {
    if (this.#closed) return;
    // topicsDeleted is keyed by topic id.
    if ([...update.changes.topicsDeleted.values()].some((t) => t.name === this.#opts.topic)) {
      for (const p of [...this.#loaded.keys()]) this.#resign(p);
    }
    this.#follow(image);
  }

  /** An append failed and the runtime dropped the partition: reload it from the log if still leader. */
  onShardFailure(partition: number, epoch: number, error: unknown): void {
    this.#opts.log.warn({ err: error, partition, epoch }, `A ${this.#opts.topic} write failed; reloading the partition`);
    if (this.#closed || this.#loaded.get(partition) !== epoch) return;
    this.#loaded.delete(partition);
    this.#follow(this.#opts.image());
  }

  /** Stops following; the owner closes the coordinator, which unloads every partition. */
  close(): void {
    this.#closed = true;
    this.#loaded.clear();
  }

  /** Loads the partitions this node leads (at a newer epoch than loaded) and unloads the others. */
  #follow(image: MetadataImage): void {
    const topic = image.topic(this.#opts.topic);
    const led = new Set<number>();
    if (topic !== undefined) {
      for (const [partition, reg] of topic.partitions) {
        if (reg.leader !== this.#opts.nodeId) continue;
        led.add(partition);
        const epoch = this.#loaded.get(partition);
        if (epoch === undefined || epoch < reg.leaderEpoch) this.#elect(partition, reg.leaderEpoch);
      }
    }
    for (const p of [...this.#loaded.keys()]) if (!led.has(p)) this.#resign(p);
  }

  #elect(partition: number, epoch: number): void {
    const { topic, coordinator, log } = this.#opts;
    this.#loaded.set(partition, epoch);
    const started = Date.now();
    coordinator.onElection(partition, epoch).then(
      () => log.debug({ partition, epoch, ms: Date.now() - started }, `Loaded a ${topic} partition`),
      (err: unknown) => {
        log.error({ err, partition, epoch }, `Loading a ${topic} partition failed`);
        if (this.#loaded.get(partition) === epoch) this.#loaded.delete(partition);
      },
    );
  }

  #resign(partition: number): void {
    this.#loaded.delete(partition);
    this.#opts.coordinator.onResignation(partition);
  }
}
