// Kafka's topic name rules (org.apache.kafka.common.internals.Topic), with its exact messages.

export const MAX_TOPIC_NAME_LENGTH = 249;
const LEGAL = /^[a-zA-Z0-9._-]*$/;

/** Why `name` is not a legal topic name, in Kafka's words, or undefined when it is legal. */
export function invalidTopicNameReason(name: string): string | undefined {
  let reason: string | undefined;
  if (name.length === 0) reason = 'the empty string is not allowed';
  else if (name === '.') reason = "'.' is not allowed";
  else if (name === '..') reason = "'..' is not allowed";
  else if (name.length > MAX_TOPIC_NAME_LENGTH) reason = `the length of '${name}' is longer than the max allowed length ${MAX_TOPIC_NAME_LENGTH}`;
  else if (!LEGAL.test(name)) reason = `'${name}' contains one or more characters other than ASCII alphanumerics, '.', '_' and '-'`;
  return reason === undefined ? undefined : `Topic name is invalid: ${reason}`;
}

/** '.' and '_' collide in metric names, so Kafka refuses topics that differ only by them. */
export const hasCollisionChars = (name: string): boolean => name.includes('.') || name.includes('_');
export const unifyCollisionChars = (name: string): string => name.replaceAll('.', '_');

/** Kafka's internal topics (Topic.isInternal). */
export const INTERNAL_TOPICS: ReadonlySet<string> = new Set(['__consumer_offsets', '__transaction_state']);
