// Which partition a record goes to when the caller does not say: Kafka's default partitioner, so that a
// key lands in the same partition whether it was written by this client or by Kafka's Java producer.
// Keyed records: murmur2(key) made positive, modulo the partition count. Keyless records: one partition
// per send ("sticky", KIP-480), so they travel as one batch instead of one tiny batch per partition.

const SEED = 0x9747b28c;
const M = 0x5bd1e995;

/** Kafka's 32-bit murmur2 (org.apache.kafka.common.utils.Utils.murmur2), as a signed int32. */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let h = SEED ^ length;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  // The tail bytes, as Kafka's switch with fall-through does them.
  const tail = length & 3;
  if (tail >= 3) h ^= data[whole + 2]! << 16;
  if (tail >= 2) h ^= data[whole + 1]! << 8;
  if (tail >= 1) {
    h ^= data[whole]!;
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** The partition Kafka's default partitioner picks for `key` among `partitionCount` partitions. */
export function partitionForKey(key: Uint8Array, partitionCount: number): number {
  return (murmur2(key) & 0x7fffffff) % partitionCount;
}

/** A partition for keyless records: random among those that currently have a leader, else among all. */
export function stickyPartition(available: readonly number[], partitionCount: number, random: () => number = Math.random): number {
  if (available.length > 0) return available[Math.floor(random() * available.length)]!;
  return Math.floor(random() * partitionCount);
}
