// An in-process Strata node for the group handler tests: the real node (metadata quorum, data path,
// __consumer_offsets wiring) over a temp directory, with the handlers taken from its registry and called
// through the generated codecs at a chosen version (as on the wire), with `call` from the admin harness.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { parseBrokerConfig } from '../../../src/config/broker-config.js';
import { HandlerRegistry, type ApiHandler } from '../../../src/broker/registry.js';
import { apiVersionsHandler } from '../../../src/broker/handlers/api-versions.js';
import { StrataNode } from '../../../src/server/node.js';
import type { ApiMessages } from '../../../src/protocol/generated/apis.js';
import { call } from './admin-harness.js';

export interface GroupNode {
  readonly node: StrataNode;
  readonly registry: HandlerRegistry;
  /** Calls the node's handler of `apiKey` at `version`, through the codecs. */
  call<K extends keyof ApiMessages>(apiKey: K, version: number, request: ApiMessages[K]['request']): Promise<ApiMessages[K]['response']>;
  close(): Promise<void>;
}

export async function startGroupNode(extra: Record<string, string> = {}): Promise<GroupNode> {
  const dir = await mkdtemp(join(tmpdir(), 'strata-group-handlers-'));
  const registry = new HandlerRegistry().register(apiVersionsHandler);
  const node = await StrataNode.start({
    config: parseBrokerConfig({
      'node.id': '3',
      'log.dirs': dir,
      listeners: 'PLAINTEXT://127.0.0.1:0',
      'offsets.topic.num.partitions': '3',
      'group.initial.rebalance.delay.ms': '0',
      'group.min.session.timeout.ms': '100',
      ...extra,
    }),
    log: pino({ level: 'silent' }),
    registry,
  });
  return {
    node,
    registry,
    call: (apiKey, version, request) => call(registry.get(apiKey) as ApiHandler<typeof request, ApiMessages[typeof apiKey]['response']>, version, request),
    async close() {
      await node.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Retries a call while the coordinator is still loading its partition (right after creation). */
export async function whenLoaded<T extends { errorCode: number }>(fn: () => Promise<T>, loading: readonly number[]): Promise<T> {
  for (let i = 0; ; i++) {
    const r = await fn();
    if (!loading.includes(r.errorCode) || i > 100) return r;
    await new Promise((res) => setTimeout(res, 20));
  }
}
