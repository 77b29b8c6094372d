// Configuration entries as DescribeConfigs (and CreateTopics v5+) report them: effective value, source,
// sensitivity, read-only flag, synonyms in Kafka's order, type and our own short documentation. Topic
// entries come from C1's resolveTopicConfig; broker entries follow Kafka's ConfigHelper: every defined
// key (and every key set anywhere, even unknown ones) with the value of the highest layer that sets it.
import { BROKER_CONFIGS } from '../config/broker-config.js';
import {
  type ConfigDef,
  ConfigSource,
  DescribeConfigType,
  formatValue,
  isSensitive,
  parseType,
  REQUIRED,
} from '../config/config-def.js';
import { BROKER_LOG_CONFIG_DEFS, type BrokerConfigLayers, resolveTopicConfig, TOPIC_CONFIG_DEFS } from '../config/topic-config.js';

export interface ConfigSynonym {
  readonly name: string;
  readonly value: string | null;
  readonly source: number;
}

export interface ConfigEntry {
  readonly name: string;
  /** null for sensitive keys and for keys without a value. */
  readonly value: string | null;
  readonly readOnly: boolean;
  readonly source: number;
  readonly isSensitive: boolean;
  readonly synonyms: readonly ConfigSynonym[];
  /** DescribeConfigs' ConfigType (0 when the key is unknown). */
  readonly configType: number;
  readonly documentation: string | null;
}

type StringMap = ReadonlyMap<string, string>;

/** Every (non-internal) topic key of a topic with `overrides`, resolved against the broker's layers. */
export function topicConfigEntries(overrides: StringMap, layers: BrokerConfigLayers): ConfigEntry[] {
  const out: ConfigEntry[] = [];
  for (const r of resolveTopicConfig(overrides, layers).values()) {
    if (r.def.internal === true) continue;
    out.push({
      name: r.name,
      value: r.valueString,
      readOnly: false,
      source: r.source,
      isSensitive: isSensitive(r.def),
      synonyms: r.synonyms.map((s) => ({ name: s.name, value: s.value, source: s.source })),
      configType: DescribeConfigType[r.def.type],
      documentation: r.def.doc,
    });
  }
  return out;
}

/** The definition of a broker key, if we know it. */
export function brokerDef(name: string): ConfigDef | undefined {
  return BROKER_CONFIGS.get(name) ?? BROKER_LOG_CONFIG_DEFS.get(name);
}

/** Kafka's DynamicBrokerConfig.brokerConfigSynonyms: the keys sharing one setting, highest priority first. */
function brokerSynonymNames(name: string): readonly string[] {
  for (const def of TOPIC_CONFIG_DEFS.defs()) {
    const names = def.synonyms.map((s) => s.name);
    if (names.length > 1 && names.includes(name)) return names;
  }
  return [name];
}

function defaultString(def: ConfigDef | undefined): string | undefined {
  if (def === undefined || def.default === null || def.default === REQUIRED) return undefined;
  return formatValue(def.type, def.default) ?? undefined;
}

/** A configured string as Kafka renders the parsed value (e.g. lists without spaces). */
function rendered(def: ConfigDef | undefined, raw: string): string {
  if (def === undefined) return raw;
  const v = parseType(def.type, raw);
  return v === undefined ? raw : (formatValue(def.type, v) ?? raw);
}

export interface BrokerConfigSources {
  readonly dynamicBroker: StringMap;
  readonly dynamicDefault: StringMap;
  readonly static: StringMap;
}

const LAYERS = [
  ['dynamicBroker', ConfigSource.DYNAMIC_BROKER_CONFIG],
  ['dynamicDefault', ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG],
  ['static', ConfigSource.STATIC_BROKER_CONFIG],
] as const;

/** Kafka's createBrokerConfigEntry for one key; `perBroker` false describes the cluster-wide default. */
function brokerEntry(name: string, value: string | null, sources: BrokerConfigSources, perBroker: boolean): ConfigEntry {
  const def = brokerDef(name);
  // Kafka treats a key it has no type for as possibly secret.
  const sensitive = def === undefined || isSensitive(def);
  const names = brokerSynonymNames(name);
  const all: ConfigSynonym[] = [];
  for (const [layer, source] of LAYERS) {
    for (const n of names) {
      const v = sources[layer].get(n);
      if (v !== undefined) all.push({ name: n, value: sensitive ? null : v, source });
    }
  }
  for (const n of names) {
    const d = defaultString(brokerDef(n));
    if (d !== undefined) all.push({ name: n, value: sensitive ? null : d, source: ConfigSource.DEFAULT_CONFIG });
  }
  const first = all.findIndex((s) => s.name === name);
  const synonyms = (first < 0 ? [] : all.slice(first)).filter((s) => perBroker || s.source === ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG);
  const mode = def?.updateMode;
  return {
    name,
    value: sensitive ? null : value,
    readOnly: !(mode === 'per-broker' || mode === 'cluster-wide'),
    source: synonyms[0]?.source ?? ConfigSource.DEFAULT_CONFIG,
    isSensitive: sensitive,
    synonyms,
    configType: def === undefined ? 0 : DescribeConfigType[def.type],
    documentation: def?.doc ?? null,
  };
}

/** The BROKER resource of this node: every known key plus every key set in some layer. */
export function brokerConfigEntries(sources: BrokerConfigSources): ConfigEntry[] {
  const names: string[] = [];
  const seen = new Set<string>();
  const add = (n: string): void => {
    if (!seen.has(n)) {
      seen.add(n);
      names.push(n);
    }
  };
  for (const def of [...BROKER_CONFIGS.defs(), ...BROKER_LOG_CONFIG_DEFS.defs()]) if (def.internal !== true) add(def.name);
  for (const [layer] of LAYERS) for (const n of sources[layer].keys()) add(n);
  return names.map((n) => {
    const def = brokerDef(n);
    let value: string | null = null;
    for (const [layer] of LAYERS) {
      const raw = sources[layer].get(n);
      if (raw !== undefined) {
        value = rendered(def, raw);
        break;
      }
    }
    value ??= defaultString(def) ?? null;
    return brokerEntry(n, value, sources, true);
  });
}

/** The BROKER resource with the empty name: only the cluster-wide dynamic defaults that are set. */
export function clusterDefaultConfigEntries(sources: BrokerConfigSources): ConfigEntry[] {
  return [...sources.dynamicDefault].map(([n, v]) => brokerEntry(n, v, sources, false));
}
