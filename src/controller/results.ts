// The controller's answers: Kafka error codes and messages as data, per item, which the broker's
// request handlers copy into their responses. Inputs are plain shapes, independent of API versions.
import { ErrorCode } from '../protocol/errors.js';

export interface ApiError {
  readonly errorCode: number;
  /** null where Kafka sends no message (clients then show the code's default text). */
  readonly errorMessage: string | null;
}

export const NONE: ApiError = Object.freeze({ errorCode: ErrorCode.NONE, errorMessage: null });

export const apiError = (errorCode: number, errorMessage: string | null = null): ApiError => ({ errorCode, errorMessage });

export interface CreatableTopic {
  readonly name: string;
  /** -1: the default (num.partitions); must be -1 with manual assignments. */
  readonly numPartitions: number;
  /** -1: the default (default.replication.factor); must be -1 with manual assignments. */
  readonly replicationFactor: number;
  readonly assignments?: readonly { readonly partitionIndex: number; readonly brokerIds: readonly number[] }[];
  readonly configs?: readonly { readonly name: string; readonly value: string | null }[];
}

export interface CreateTopicResult extends ApiError {
  readonly name: string;
  /** Set on success (canonical uuid). */
  readonly topicId?: string;
  readonly numPartitions?: number;
  readonly replicationFactor?: number;
  /** The topic's config overrides as created (defaults are resolved by the caller). */
  readonly configs?: ReadonlyMap<string, string>;
}

export interface DeletableTopic {
  /** Either a name or a topic id (canonical uuid); a name wins when both are set. */
  readonly name?: string | null;
  readonly topicId?: string | null;
}

export interface DeleteTopicResult extends ApiError {
  readonly name: string | null;
  readonly topicId: string | null;
}

export interface CreatePartitionsTopic {
  readonly name: string;
  /** The new total number of partitions. */
  readonly count: number;
  /** One replica list per added partition, or null for automatic placement. */
  readonly assignments: readonly (readonly number[])[] | null;
}

export interface CreatePartitionsResult extends ApiError {
  readonly name: string;
}

/** IncrementalAlterConfigs operations, as numbered on the wire. */
export const AlterConfigOp = { SET: 0, DELETE: 1, APPEND: 2, SUBTRACT: 3 } as const;

export interface IncrementalConfigResource {
  readonly resourceType: number;
  readonly resourceName: string;
  readonly configs: readonly { readonly name: string; readonly configOperation: number; readonly value: string | null }[];
}

export interface LegacyConfigResource {
  readonly resourceType: number;
  readonly resourceName: string;
  /** The complete new set of dynamic configs; keys not listed are removed. */
  readonly configs: readonly { readonly name: string; readonly value: string | null }[];
}

export interface AlterConfigsResult extends ApiError {
  readonly resourceType: number;
  readonly resourceName: string;
}

export interface ProducerIdsBlock extends ApiError {
  readonly producerIdStart: number;
  readonly producerIdLen: number;
}

export interface BrokerRegistrationRequest {
  readonly brokerId: number;
  /** Canonical uuid, new for every broker process start. */
  readonly incarnationId: string;
  readonly listeners: readonly { readonly name: string; readonly host: string; readonly port: number; readonly securityProtocol: number }[];
  readonly rack: string | null;
  /** Supported feature ranges; metadata.version must cover the cluster's level when present. */
  readonly features?: readonly { readonly name: string; readonly minSupportedVersion: number; readonly maxSupportedVersion: number }[];
  /** Canonical uuids of the broker's log directories (meta.properties directory.id). */
  readonly logDirs?: readonly string[];
}

export interface BrokerRegistrationReply extends ApiError {
  readonly brokerEpoch: number;
}
