// How the data-path handlers learn which topics exist: names, ids and partition counts. The metadata
// image implements it once KRaft is wired; tests and the single-node wiring use MapTopicLookup.

export interface TopicLookup {
  /** The topic's id (a UUID string), or undefined when no such topic exists. */
  topicId(name: string): string | undefined;
  /** The topic named by `id`, or undefined when unknown. */
  topicName(id: string): string | undefined;
  /** How many partitions the topic has, or undefined when it does not exist. */
  partitionCount(name: string): number | undefined;
}

/** Whether `partition` of topic `name` exists. */
export function hasPartition(lookup: TopicLookup, name: string, partition: number): boolean {
  const count = lookup.partitionCount(name);
  return count !== undefined && partition >= 0 && partition < count;
}

/** A TopicLookup over a plain map, for tests and the single-node wiring before the metadata image. */
export class MapTopicLookup implements TopicLookup {
  readonly #byName = new Map<string, { id: string; partitions: number }>();
  readonly #byId = new Map<string, string>();

  set(name: string, id: string, partitions: number): this {
    const old = this.#byName.get(name);
    if (old !== undefined) this.#byId.delete(old.id);
    this.#byName.set(name, { id, partitions });
    this.#byId.set(id, name);
    return this;
  }

  delete(name: string): boolean {
    const old = this.#byName.get(name);
    if (old === undefined) return false;
    this.#byName.delete(name);
    this.#byId.delete(old.id);
    return true;
  }

  topicId(name: string): string | undefined {
    return this.#byName.get(name)?.id;
  }

  topicName(id: string): string | undefined {
    return this.#byId.get(id);
  }

  partitionCount(name: string): number | undefined {
    return this.#byName.get(name)?.partitions;
  }

  names(): string[] {
    return [...this.#byName.keys()];
  }
}
