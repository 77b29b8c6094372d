// Which partition of __consumer_offsets holds a group: Kafka's `Utils.abs(groupId.hashCode()) % n`.
// Every broker and client-side tool must agree on it, so it follows Java to the bit.

/** Java's String.hashCode: 31-based polynomial over UTF-16 code units, wrapping at 32 bits. */
export function javaStringHashCode(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h;
}

/** Kafka's Utils.abs: like Math.abs, except that Integer.MIN_VALUE maps to 0 instead of itself. */
export function kafkaAbs(n: number): number {
  return n === -2147483648 ? 0 : Math.abs(n);
}

export function groupPartitionFor(groupId: string, numPartitions: number): number {
  return kafkaAbs(javaStringHashCode(groupId)) % numPartitions;
}
