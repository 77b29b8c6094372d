// Committed offsets of the groups of one __consumer_offsets partition: group → topic → partition.
import type { OffsetAndMetadata } from './records.js';

export interface StoredOffset {
  readonly topic: string;
  readonly partition: number;
  readonly offset: OffsetAndMetadata;
}

export class OffsetStore {
  readonly #byGroup = new Map<string, Map<string, Map<number, OffsetAndMetadata>>>();

  get(group: string, topic: string, partition: number): OffsetAndMetadata | undefined {
    return this.#byGroup.get(group)?.get(topic)?.get(partition);
  }

  set(group: string, topic: string, partition: number, offset: OffsetAndMetadata): void {
    let topics = this.#byGroup.get(group);
    if (topics === undefined) this.#byGroup.set(group, (topics = new Map()));
    let partitions = topics.get(topic);
    if (partitions === undefined) topics.set(topic, (partitions = new Map()));
    partitions.set(partition, offset);
  }

  /** Removes one offset; true if there was one. */
  delete(group: string, topic: string, partition: number): boolean {
    const topics = this.#byGroup.get(group);
    const partitions = topics?.get(topic);
    if (topics === undefined || partitions === undefined || !partitions.delete(partition)) return false;
    if (partitions.size === 0) topics.delete(topic);
    if (topics.size === 0) this.#byGroup.delete(group);
    return true;
  }

  hasOffsets(group: string): boolean {
    return this.#byGroup.has(group);
  }

  /** Every offset of the group, topics and partitions in commit order. */
  list(group: string): StoredOffset[] {
    const out: StoredOffset[] = [];
    for (const [topic, partitions] of this.#byGroup.get(group) ?? []) {
      for (const [partition, offset] of partitions) out.push({ topic, partition, offset });
    }
    return out;
  }

  /** Partitions of `topic` the group has offsets for. */
  partitionsOf(group: string, topic: string): number[] {
    return [...(this.#byGroup.get(group)?.get(topic)?.keys() ?? [])];
  }

  groups(): string[] {
    return [...this.#byGroup.keys()];
  }
}
