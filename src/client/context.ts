// What the operation modules (admin, produce, fetch, list-offsets) need from the client: routing, retries
// and topic metadata, behind one narrow interface so each operation lives in its own module.
import type { ApiMessages } from '../protocol/generated/apis.js';
import { ErrorCode } from '../protocol/errors.js';
import type { BrokerConnection, SendOptions, Sent } from './connection.js';
import { KafkaResponseError, partitionSubject } from './errors.js';
import type { TopicInfo } from './types.js';

/** Where a request goes: any broker, the controller, or one broker by node id. */
export type Target = 'any' | 'controller' | { readonly nodeId: number };

export interface ClientContext {
  readonly requestTimeoutMs: number;
  /** One request to `target`, without retries. */
  send<K extends keyof ApiMessages>(
    target: Target,
    apiKey: K,
    build: ApiMessages[K]['request'] | ((version: number) => ApiMessages[K]['request']),
    opts?: SendOptions,
  ): Promise<Sent<ApiMessages[K]['response']>>;
  connection(target: Target): Promise<BrokerConnection>;
  /** Runs `fn` again after a backoff (and with fresh metadata) while it fails with retriable errors. */
  retrying<T>(fn: (attempt: number) => Promise<T>): Promise<T>;
  /** The topic's metadata, from the cache unless stale or `refresh`; throws when it does not exist. */
  topic(name: string, refresh?: boolean): Promise<TopicInfo>;
  /** Drops cached metadata so the next routing decision looks leaders up again. */
  forgetMetadata(): void;
}

/** Splits partitions of a topic by leader; a partition the topic does not have is an error (not retried). */
export function groupByLeader(info: TopicInfo, partitions: readonly number[]): { byLeader: Map<number, number[]>; leaderless: number[] } {
  const byLeader = new Map<number, number[]>();
  const leaderless: number[] = [];
  for (const p of partitions) {
    const meta = info.partitions.find((x) => x.partition === p);
    if (meta === undefined) {
      throw new KafkaResponseError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, {
        subject: partitionSubject(info.name, p),
        serverMessage: `the topic has ${info.partitions.length} partitions`,
        topic: info.name,
        partition: p,
        retriable: false,
      });
    }
    if (meta.leader < 0) leaderless.push(p);
    else pushTo(byLeader, meta.leader, p);
  }
  return { byLeader, leaderless };
}

export function pushTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}
