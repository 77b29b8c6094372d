// Turning IncrementalAlterConfigs / AlterConfigs / CreateTopics config requests into ConfigRecords,
// with Kafka's checks: the resource must be addressable (ConfigurationControlManager's resource check),
// the resulting topic config must pass validateTopicConfigs, and dynamic broker configs must be
// dynamically updatable at the level they are set. A null value in a ConfigRecord deletes the key.
import { BROKER_CONFIGS } from '../config/broker-config.js';
import { ConfigError, type ConfigDef, formatValue, parseValue, UpdateMode } from '../config/config-def.js';
import { BROKER_LOG_CONFIG_DEFS, type BrokerConfigLayers, TOPIC_CONFIG_DEFS, validateTopicConfigs } from '../config/topic-config.js';
import type { MetadataImage } from '../metadata/image.js';
import { ConfigResourceType, type MetadataRecord, MetadataRecordType, RecordVersion } from '../metadata/records.js';
import { ErrorCode } from '../protocol/errors.js';
import { AlterConfigOp, type ApiError, apiError, NONE } from './results.js';
import { invalidTopicNameReason } from './topic-names.js';

export interface ConfigContext {
  readonly image: MetadataImage;
  /** This node's static broker configuration (server.properties), for topic config cross-checks. */
  readonly staticBrokerConfig: ReadonlyMap<string, string>;
  readonly nodeId: number;
  readonly remoteStorageSystemEnabled: boolean;
}

export type ConfigOutcome = { readonly error: ApiError } | { readonly records: MetadataRecord[] };

const configRecord = (resourceType: number, resourceName: string, name: string, value: string | null): MetadataRecord => ({
  type: MetadataRecordType.Config,
  version: RecordVersion.Config,
  data: { resourceType, resourceName, name, value },
});

/** The broker layers topic validation resolves defaults from: dynamic per-broker, cluster default, static. */
export function brokerLayers(ctx: ConfigContext): BrokerConfigLayers {
  return {
    dynamicBroker: ctx.image.brokerConfigs(ctx.nodeId),
    dynamicDefault: ctx.image.clusterDefaultConfigs(),
    static: ctx.staticBrokerConfig,
  };
}

/** Kafka's ConfigurationControlManager.checkConfigResource. */
export function checkConfigResource(type: number, name: string): ApiError {
  switch (type) {
    case ConfigResourceType.BROKER_LOGGER:
      return apiError(ErrorCode.INVALID_REQUEST, 'Unsupported configuration resource type BROKER_LOGGER ');
    case ConfigResourceType.BROKER:
      // An empty name is the cluster-wide default of every broker.
      if (name !== '') {
        if (!/^[+-]?\d+$/.test(name) || !Number.isSafeInteger(Number(name)) || Math.abs(Number(name)) > 2 ** 31 - 1) {
          return apiError(ErrorCode.INVALID_REQUEST, 'Illegal non-integral BROKER resource type name.');
        }
        if (Number(name) < 0) return apiError(ErrorCode.INVALID_REQUEST, 'Illegal negative broker ID in BROKER resource.');
      }
      return NONE;
    case ConfigResourceType.TOPIC:
      if (invalidTopicNameReason(name) !== undefined) return apiError(ErrorCode.INVALID_REQUEST, 'Illegal topic name.');
      return NONE;
    case ConfigResourceType.UNKNOWN:
      return apiError(ErrorCode.INVALID_REQUEST, 'Unsupported configuration resource type UNKNOWN.');
    default:
      // CLIENT_METRICS and GROUP resources are not handled by this controller yet.
      return apiError(ErrorCode.INVALID_REQUEST, `Unsupported configuration resource type ${type}.`);
  }
}

function brokerDef(name: string): ConfigDef | undefined {
  return BROKER_CONFIGS.get(name) ?? BROKER_LOG_CONFIG_DEFS.get(name);
}

/** Validates the complete new config map of a resource; `existing` is the current one. */
function validateResource(ctx: ConfigContext, type: number, name: string, next: ReadonlyMap<string, string>,
  existing: ReadonlyMap<string, string>, newlyCreated: boolean, altered: readonly string[]): ApiError {
  try {
    if (type === ConfigResourceType.TOPIC) {
      if (!newlyCreated && ctx.image.topic(name) === undefined) {
        return apiError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `The topic '${name}' does not exist.`);
      }
      validateTopicConfigs(next, { broker: brokerLayers(ctx), existing, remoteStorageSystemEnabled: ctx.remoteStorageSystemEnabled });
    } else if (type === ConfigResourceType.BROKER) {
      const readOnly: string[] = [];
      const perBroker: string[] = [];
      for (const key of altered) {
        const def = brokerDef(key);
        if (def === undefined) continue;
        const mode = def.updateMode ?? UpdateMode.READ_ONLY;
        if (mode === UpdateMode.READ_ONLY) readOnly.push(key);
        else if (mode === UpdateMode.PER_BROKER && name === '') perBroker.push(key);
        const value = next.get(key);
        if (value !== undefined) parseValue(def, value);
      }
      if (readOnly.length > 0) return apiError(ErrorCode.INVALID_CONFIG, `Cannot update these configs dynamically: Set(${readOnly.join(', ')})`);
      if (perBroker.length > 0) {
        return apiError(ErrorCode.INVALID_CONFIG, `Cannot update these configs at default cluster level, broker id must be specified: Set(${perBroker.join(', ')})`);
      }
    }
  } catch (e) {
    if (e instanceof ConfigError) return apiError(ErrorCode.INVALID_CONFIG, e.message);
    throw e;
  }
  return NONE;
}

/** Whether APPEND/SUBTRACT apply to `key` (list-typed), and its default as a string. */
function listKey(type: number, key: string): { readonly splittable: boolean; readonly dflt: string | null } {
  const def = type === ConfigResourceType.TOPIC ? TOPIC_CONFIG_DEFS.get(key) : brokerDef(key);
  if (def === undefined || def.type !== 'list') return { splittable: false, dflt: null };
  const d = def.default;
  return { splittable: true, dflt: d === null || typeof d === 'symbol' ? null : formatValue(def.type, d) };
}

const OP_NAMES = ['SET', 'DELETE', 'APPEND', 'SUBTRACT'];

/** Kafka's incrementalAlterConfigResource: applies the operations, then validates the result. */
export function incrementalAlterConfigRecords(
  ctx: ConfigContext,
  type: number,
  name: string,
  ops: readonly { readonly name: string; readonly configOperation: number; readonly value: string | null }[],
  newlyCreated = false,
): ConfigOutcome {
  const check = checkConfigResource(type, name);
  if (check.errorCode !== ErrorCode.NONE) return { error: check };
  const current = ctx.image.configsOf(type, name);
  const next = new Map(current);
  const records: MetadataRecord[] = [];
  const altered: string[] = [];
  for (const op of ops) {
    const currentValue = next.get(op.name) ?? null;
    let newValue: string | null;
    switch (op.configOperation) {
      case AlterConfigOp.SET:
        newValue = op.value;
        break;
      case AlterConfigOp.DELETE:
        newValue = null;
        break;
      case AlterConfigOp.APPEND:
      case AlterConfigOp.SUBTRACT: {
        const { splittable, dflt } = listKey(type, op.name);
        if (!splittable) {
          return { error: apiError(ErrorCode.INVALID_CONFIG, `Can't ${OP_NAMES[op.configOperation]} to key ${op.name} because its type is not LIST.`) };
        }
        const parts = (currentValue ?? dflt ?? '').split(',').filter((s) => s !== '');
        for (const v of (op.value ?? '').split(',')) {
          if (op.configOperation === AlterConfigOp.APPEND) {
            if (!parts.includes(v)) parts.push(v);
          } else {
            const i = parts.indexOf(v);
            if (i >= 0) parts.splice(i, 1);
          }
        }
        newValue = parts.join(',');
        break;
      }
      default:
        return { error: apiError(ErrorCode.INVALID_REQUEST, `Unknown alter configs operation type ${op.configOperation}`) };
    }
    if (newValue === null) next.delete(op.name);
    else next.set(op.name, newValue);
    altered.push(op.name);
    // Broker configs are written even when unchanged, so brokers reload them (Kafka's KAFKA-14136).
    if (currentValue !== newValue || type === ConfigResourceType.BROKER) records.push(configRecord(type, name, op.name, newValue));
  }
  const error = validateResource(ctx, type, name, next, current, newlyCreated, altered);
  return error.errorCode === ErrorCode.NONE ? { records } : { error };
}

/** Kafka's legacyAlterConfigResource: the given set replaces every dynamic config of the resource. */
export function legacyAlterConfigRecords(
  ctx: ConfigContext,
  type: number,
  name: string,
  configs: readonly { readonly name: string; readonly value: string | null }[],
): ConfigOutcome {
  const check = checkConfigResource(type, name);
  if (check.errorCode !== ErrorCode.NONE) return { error: check };
  const current = ctx.image.configsOf(type, name);
  const next = new Map<string, string>();
  const records: MetadataRecord[] = [];
  const given = new Set<string>();
  for (const c of configs) {
    given.add(c.name);
    if (c.value !== null) next.set(c.name, c.value);
    if ((current.get(c.name) ?? null) !== c.value || type === ConfigResourceType.BROKER) records.push(configRecord(type, name, c.name, c.value));
  }
  for (const key of current.keys()) if (!given.has(key)) records.push(configRecord(type, name, key, null));
  const error = validateResource(ctx, type, name, next, current, false, [...given]);
  return error.errorCode === ErrorCode.NONE ? { records } : { error };
}
