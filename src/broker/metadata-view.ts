// What request handlers read about the cluster: an adapter from the latest published MetadataImage
// (topics, partitions, brokers, dynamic configs) plus this node's static configuration, shaped the way
// Kafka's KRaftMetadataCache answers. It also implements the data-path handlers' TopicLookup, so Produce
// and Fetch resolve topics against the same image as Metadata does.
//
// The image is read through a function on every call, never cached: a handler that needs a consistent
// view across several reads takes `view.image` once and works on that.
import { type BrokerConfigLayers } from '../config/topic-config.js';
import { INTERNAL_TOPICS } from '../controller/topic-names.js';
import type { BrokerRegistration, MetadataImage, PartitionRegistration, TopicImage } from '../metadata/image.js';
import type { RequestContext } from './request-context.js';
import type { TopicLookup } from './topic-lookup.js';

/** A broker as a client reaches it through one listener. */
export interface BrokerNode {
  readonly nodeId: number;
  readonly host: string;
  readonly port: number;
  readonly rack: string | null;
}

export interface MetadataViewOptions {
  /** The latest published image (e.g. `() => loader.image`). */
  readonly image: () => MetadataImage;
  readonly nodeId: number;
  /** This node's static configuration as given (server.properties plus overrides), unparsed. */
  readonly staticConfig?: ReadonlyMap<string, string>;
}

const EMPTY: ReadonlyMap<string, string> = new Map();

/** Kafka's Topic.isInternal. */
export const isInternalTopic = (name: string): boolean => INTERNAL_TOPICS.has(name);

export class MetadataView implements TopicLookup {
  readonly #image: () => MetadataImage;
  readonly nodeId: number;
  readonly staticConfig: ReadonlyMap<string, string>;

  constructor(opts: MetadataViewOptions) {
    this.#image = opts.image;
    this.nodeId = opts.nodeId;
    this.staticConfig = opts.staticConfig ?? EMPTY;
  }

  get image(): MetadataImage {
    return this.#image();
  }

  // ---- TopicLookup ---------------------------------------------------------------------------------

  topicId(name: string): string | undefined {
    return this.image.topic(name)?.id;
  }

  topicName(id: string): string | undefined {
    return this.image.topicById(id)?.name;
  }

  partitionCount(name: string): number | undefined {
    return this.image.topic(name)?.partitions.size;
  }

  // ---- brokers -------------------------------------------------------------------------------------

  /** This node's broker epoch (the offset of its registration), or -1 when it is not registered. */
  brokerEpoch(image: MetadataImage = this.image): number {
    return image.broker(this.nodeId)?.epoch ?? -1;
  }

  /** Kafka's getAliveBrokerNodes: unfenced brokers that have `listenerName`, by id. */
  aliveBrokerNodes(listenerName: string, image: MetadataImage = this.image): BrokerNode[] {
    const out: BrokerNode[] = [];
    for (const b of [...image.cluster.brokers.values()].sort((x, y) => x.id - y.id)) {
      if (b.fenced) continue;
      const node = nodeOf(b, listenerName);
      if (node !== undefined) out.push(node);
    }
    return out;
  }

  // ---- configs -------------------------------------------------------------------------------------

  /** The broker layers a topic's effective configuration falls back to on this node. */
  brokerLayers(image: MetadataImage = this.image): BrokerConfigLayers {
    return {
      dynamicBroker: image.brokerConfigs(this.nodeId),
      dynamicDefault: image.clusterDefaultConfigs(),
      static: this.staticConfig,
    };
  }

  /** A boolean broker setting from the static configuration (Kafka parses booleans case-insensitively). */
  booleanSetting(key: string, dflt: boolean): boolean {
    const raw = this.staticConfig.get(key)?.trim().toLowerCase();
    return raw === 'true' ? true : raw === 'false' ? false : dflt;
  }

  /** An integer broker setting from the static configuration; `dflt` when unset or not an integer. */
  intSetting(key: string, dflt: number): number {
    const raw = this.staticConfig.get(key)?.trim();
    if (raw === undefined || !/^[+-]?\d+$/.test(raw)) return dflt;
    const n = Number(raw);
    return Number.isSafeInteger(n) ? n : dflt;
  }
}

/** The endpoint of `broker` on `listenerName`, if it has that listener. */
export function nodeOf(broker: BrokerRegistration, listenerName: string): BrokerNode | undefined {
  const l = broker.listeners.find((e) => e.name === listenerName);
  return l === undefined ? undefined : { nodeId: broker.id, host: l.host, port: l.port, rack: broker.rack };
}

/**
 * Kafka's getOfflineReplicas: replicas whose broker is unknown, fenced, or lacks the listener. (Offline
 * log directories are not tracked yet.)
 */
export function offlineReplicas(image: MetadataImage, partition: PartitionRegistration, listenerName: string): number[] {
  return partition.replicas.filter((id) => {
    const b = image.broker(id);
    return b === undefined || b.fenced || !b.listeners.some((l) => l.name === listenerName);
  });
}

/** Kafka's getAliveEndpoint: the leader's node on the listener, fenced or not. */
export function leaderNode(image: MetadataImage, partition: PartitionRegistration, listenerName: string): BrokerNode | undefined {
  const b = image.broker(partition.leader);
  return b === undefined ? undefined : nodeOf(b, listenerName);
}

/** Partitions of a topic in index order. */
export function sortedPartitions(topic: TopicImage): [number, PartitionRegistration][] {
  return [...topic.partitions].sort((a, b) => a[0] - b[0]);
}

/**
 * The brokers a client can reach through this listener: from the image once this node is registered,
 * otherwise (metadata not wired yet) this node alone.
 */
export function reachableBrokers(ctx: RequestContext, view: MetadataView | undefined): BrokerNode[] {
  if (view !== undefined && view.image.cluster.brokers.size > 0) return view.aliveBrokerNodes(ctx.listenerName);
  const endpoint = ctx.node.advertisedEndpoint(ctx.listenerName);
  return endpoint === undefined ? [] : [{ nodeId: ctx.node.nodeId, host: endpoint.host, port: endpoint.port, rack: ctx.node.rack }];
}

/**
 * A KRaft broker cannot point clients at the controller quorum, so Kafka reports a live broker as the
 * "controller" (a random one; we prefer the active controller when it is also a live broker, then the
 * lowest id). -1 when no broker is reachable.
 */
export function reportedControllerId(ctx: RequestContext, brokers: readonly BrokerNode[]): number {
  const active = ctx.node.controllerId();
  if (brokers.some((b) => b.nodeId === active)) return active;
  return brokers[0]?.nodeId ?? -1;
}
