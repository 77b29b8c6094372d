// An internal topic a coordinator lives on (__consumer_offsets, __transaction_state): created through the
// controller on first use, however many FindCoordinator requests race for it, and the broker that leads the
// partition a key maps to.
import type { Logger } from 'pino';
import type { ControllerApi } from '../broker/controller-api.js';
import type { CoordinatorLocation } from '../broker/group-handlers.js';
import type { MetadataView } from '../broker/metadata-view.js';
import { ErrorCode } from '../protocol/errors.js';

export interface InternalTopicOptions {
  readonly name: string;
  readonly numPartitions: number;
  readonly replicationFactor: number;
  readonly configs: readonly { readonly name: string; readonly value: string }[];
  readonly controller: ControllerApi;
  readonly metadata: MetadataView;
  readonly log: Logger;
}

export class InternalTopic {
  readonly #opts: InternalTopicOptions;
  #creating: Promise<void> | null = null;

  constructor(opts: InternalTopicOptions) {
    this.#opts = opts;
  }

  /** The live broker leading `partition`, as reachable through `listenerName`, creating the topic first if needed. */
  async locate(partition: number, listenerName: string): Promise<CoordinatorLocation> {
    const { name, metadata } = this.#opts;
    if (metadata.image.topic(name) === undefined) await this.#ensure();
    const leader = metadata.image.topic(name)?.partitions.get(partition)?.leader ?? -1;
    if (leader < 0) {
      return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, message: `${name}-${partition} has no leader` };
    }
    const node = metadata.aliveBrokerNodes(listenerName).find((n) => n.nodeId === leader);
    if (node === undefined) {
      return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, message: `broker ${leader} is not reachable through listener ${listenerName}` };
    }
    return { errorCode: ErrorCode.NONE, node };
  }

  #ensure(): Promise<void> {
    const { name, numPartitions, replicationFactor, configs, controller, log } = this.#opts;
    this.#creating ??= (async () => {
      try {
        const [r] = await controller.createTopics([{ name, numPartitions, replicationFactor, configs }]);
        if (r !== undefined && r.errorCode !== ErrorCode.NONE && r.errorCode !== ErrorCode.TOPIC_ALREADY_EXISTS) {
          log.warn({ errorCode: r.errorCode, message: r.errorMessage }, `Creating ${name} failed`);
        } else if (r?.errorCode === ErrorCode.NONE) {
          log.info({ partitions: numPartitions }, `Created ${name}`);
        }
      } catch (err) {
        log.warn({ err }, `Creating ${name} failed`);
      } finally {
        this.#creating = null;
      }
    })();
    return this.#creating;
  }
}
