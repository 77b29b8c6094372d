// The definition model every configuration table (topic, broker, later client quotas) is written in:
// one row per key with its type, default, validator, importance, our own short doc and, for broker
// keys, how it may be updated at run time. Parsing follows Kafka's ConfigDef so that a value Kafka
// accepts is accepted here and a value Kafka refuses is refused, with a message naming the key and
// the allowed values. The wire error for a refused value is INVALID_CONFIG (40); `ConfigError`
// carries the message the broker returns with it.
//
// Where we differ from Kafka on purpose: every bad-value message has one shape, `Invalid value 'x'
// for configuration k: must be …`, stating the full allowed range or set (Kafka's wording varies and
// often names only the bound that failed; no client parses these texts); NaN is refused for doubles
// (Java accepts it and it then passes every range check).
import { StrataError } from '../protocol/strata-error.js';

export const ConfigType = {
  BOOLEAN: 'boolean',
  SHORT: 'short',
  INT: 'int',
  LONG: 'long',
  DOUBLE: 'double',
  STRING: 'string',
  LIST: 'list',
  CLASS: 'class',
  PASSWORD: 'password',
} as const;
export type ConfigType = (typeof ConfigType)[keyof typeof ConfigType];

/**
 * A secret value. `toString`/`toJSON` hide it so that logging a parsed config cannot leak it;
 * read it deliberately with `value()`.
 */
export class Password {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  value(): string {
    return this.#value;
  }
  toString(): string {
    return '[hidden]';
  }
  toJSON(): string {
    return '[hidden]';
  }
}

/**
 * The parsed value of each type. LONG is a bigint so that Kafka's full int64 range — Long.MAX_VALUE
 * is a common default — survives parsing and is rendered back exactly (DescribeConfigs); code that
 * needs a JS number uses `longToNumber`.
 */
export interface ConfigValueTypes {
  boolean: boolean;
  short: number;
  int: number;
  long: bigint;
  double: number;
  string: string;
  list: readonly string[];
  class: string;
  password: Password;
}
export type ConfigValue = ConfigValueTypes[ConfigType];

export const Importance = { HIGH: 'high', MEDIUM: 'medium', LOW: 'low' } as const;
export type Importance = (typeof Importance)[keyof typeof Importance];

/** How a broker key may change without a restart (Kafka's "Dynamic update mode"). */
export const UpdateMode = {
  READ_ONLY: 'read-only',
  PER_BROKER: 'per-broker',
  CLUSTER_WIDE: 'cluster-wide',
} as const;
export type UpdateMode = (typeof UpdateMode)[keyof typeof UpdateMode];

/** Where an effective value came from: the int8 `ConfigSource` of DescribeConfigs v1+. */
export const ConfigSource = {
  UNKNOWN: 0,
  TOPIC_CONFIG: 1,
  DYNAMIC_BROKER_CONFIG: 2,
  DYNAMIC_DEFAULT_BROKER_CONFIG: 3,
  STATIC_BROKER_CONFIG: 4,
  DEFAULT_CONFIG: 5,
  DYNAMIC_BROKER_LOGGER_CONFIG: 6,
  CLIENT_METRICS_CONFIG: 7,
  GROUP_CONFIG: 8,
} as const;
export type ConfigSource = (typeof ConfigSource)[keyof typeof ConfigSource];

/** The int8 `ConfigType` of DescribeConfigs v3+. */
export const DescribeConfigType: Readonly<Record<ConfigType, number>> = Object.freeze({
  boolean: 1,
  string: 2,
  int: 3,
  short: 4,
  long: 5,
  double: 6,
  list: 7,
  class: 8,
  password: 9,
});

/** The Kafka error code a refused configuration is reported with. */
export const INVALID_CONFIG_ERROR_CODE = 40;

/** A refused configuration: `message` is exactly what the broker puts in the response. */
export class ConfigError extends StrataError {
  readonly kafkaErrorCode = INVALID_CONFIG_ERROR_CODE;
  /** The offending key, when the problem is about one key. */
  readonly configName: string | undefined;

  constructor(message: string, configName?: string, options?: { cause?: unknown }) {
    super('ERR_CONFIG', message, options);
    this.name = 'ConfigError';
    this.configName = configName;
  }
}

/** `Invalid value 'x' for configuration k: must be …` — the one shape of a bad-value message. */
export function invalidValue(name: string, raw: string | null, reason: string): ConfigError {
  const shown = raw === null ? 'null' : `'${raw}'`;
  return new ConfigError(`Invalid value ${shown} for configuration ${name}: ${reason}`, name);
}

// ---------------------------------------------------------------------------------------------
// Validators

export interface Validator {
  accepts(value: ConfigValue, type: ConfigType): boolean;
  /** The rule as a phrase for error messages: "must be an integer in [1, 2147483647]". */
  expect(type: ConfigType): string;
  /** The rule as Kafka's documentation column shows it: "[1,...]", "[compact, delete]". */
  readonly validValues: string;
}

type Numeric = number | bigint;

const TYPE_BOUNDS: Partial<Record<ConfigType, readonly [bigint, bigint]>> = {
  short: [-(2n ** 15n), 2n ** 15n - 1n],
  int: [-(2n ** 31n), 2n ** 31n - 1n],
  long: [-(2n ** 63n), 2n ** 63n - 1n],
};

function numericExpectation(type: ConfigType, min: Numeric | undefined, max: Numeric | undefined): string {
  const bounds = TYPE_BOUNDS[type];
  if (bounds !== undefined) {
    const lo = min === undefined ? bounds[0] : min;
    const hi = max === undefined ? bounds[1] : max;
    return `must be an integer in [${lo}, ${hi}]`;
  }
  if (min !== undefined && max !== undefined) return `must be a number in [${min}, ${max}]`;
  if (min !== undefined) return `must be a number >= ${min}`;
  if (max !== undefined) return `must be a number <= ${max}`;
  return 'must be a number';
}

/** Kafka's ConfigDef.Range: inclusive bounds, either may be open. */
export function range(min: Numeric | undefined, max: Numeric | undefined): Validator {
  return {
    accepts(value) {
      if (typeof value !== 'number' && typeof value !== 'bigint') return false;
      if (typeof value === 'number' && Number.isNaN(value)) return false;
      // Mixed bigint/number comparison is exact in JS, so long bounds need no conversion.
      if (min !== undefined && value < min) return false;
      if (max !== undefined && value > max) return false;
      return true;
    },
    expect: (type) => numericExpectation(type, min, max),
    validValues:
      min === undefined ? `[...,${max}]` : max === undefined ? `[${min},...]` : `[${min},...,${max}]`,
  };
}
export const atLeast = (min: Numeric): Validator => range(min, undefined);
export const between = (min: Numeric, max: Numeric): Validator => range(min, max);

/** Kafka's ValidString (case-sensitive, as Kafka's is). */
export function validString(...allowed: string[]): Validator {
  const set = new Set(allowed);
  return {
    accepts: (value) => typeof value === 'string' && set.has(value),
    expect: () => `must be one of [${allowed.join(', ')}]`,
    validValues: `[${allowed.join(', ')}]`,
  };
}

/** Kafka's CaseInsensitiveValidString. */
export function caseInsensitiveValidString(...allowed: string[]): Validator {
  const set = new Set(allowed.map((s) => s.toUpperCase()));
  return {
    accepts: (value) => typeof value === 'string' && set.has(value.toUpperCase()),
    expect: () => `must be one of [${allowed.join(', ')}] (case-insensitive)`,
    validValues: `(case insensitive) [${allowed.join(', ')}]`,
  };
}

/** Kafka's ValidList.in: every element is one of `allowed`; the empty list is accepted. */
export function validList(...allowed: string[]): Validator {
  const set = new Set(allowed);
  return {
    accepts: (value) => Array.isArray(value) && value.every((v: string) => set.has(v)),
    expect: () => `must be a list of [${allowed.join(', ')}]`,
    validValues: `[${allowed.join(', ')}]`,
  };
}

/** A string with at least one non-whitespace character (Kafka's NonEmptyString). */
export const nonEmptyString: Validator = {
  accepts: (value) => typeof value === 'string' && value.trim().length > 0,
  expect: () => 'must be a non-empty string',
  validValues: 'non-empty string',
};

/** A list without empty elements and without duplicates (Kafka's ValidList.anyNonDuplicateValues). */
export function nonDuplicateList(allowEmptyList: boolean): Validator {
  return {
    accepts(value) {
      if (!Array.isArray(value)) return false;
      if (!allowEmptyList && value.length === 0) return false;
      return value.every((v: string) => v.length > 0) && new Set(value).size === value.length;
    },
    expect: () =>
      allowEmptyList
        ? 'must be a list of non-empty, distinct values'
        : 'must be a non-empty list of non-empty, distinct values',
    validValues: allowEmptyList ? 'list of distinct values' : 'non-empty list of distinct values',
  };
}

/** A one-off rule. */
export function validator(
  accepts: (value: ConfigValue, type: ConfigType) => boolean,
  expect: string,
  validValues: string,
): Validator {
  return { accepts, expect: () => expect, validValues };
}

// ---------------------------------------------------------------------------------------------
// Definitions

/** Marks a key that has no default: a configuration without it is refused. */
export const REQUIRED: unique symbol = Symbol('required');

interface ConfigDefBase {
  readonly name: string;
  readonly importance: Importance;
  /** Our own one-line description (never Kafka's text). */
  readonly doc: string;
  readonly validator?: Validator;
  /** Broker keys only: how the key may change at run time. Absent means read-only. */
  readonly updateMode?: UpdateMode;
  /** Not shown in documentation or DescribeConfigs (Kafka's defineInternal). */
  readonly internal?: boolean;
}

/** One key. The default's JS type follows `type` (LONG defaults are bigint literals: `604800000n`). */
export type ConfigDef = {
  [T in ConfigType]: ConfigDefBase & {
    readonly type: T;
    /** null = no value unless configured; REQUIRED = must be configured. */
    readonly default: ConfigValueTypes[T] | null | typeof REQUIRED;
  };
}[ConfigType];

export const isSensitive = (def: ConfigDef): boolean => def.type === 'password';

// ---------------------------------------------------------------------------------------------
// Parsing: string → typed value, as Kafka's ConfigDef.parseType does for string input.

const INTEGER = /^[+-]?\d+$/;
// Java's Double.parseDouble accepts a trailing f/F/d/D and the words NaN/Infinity; hex floats are
// not worth supporting in a config file.
const DOUBLE = /^[+-]?(?:NaN|Infinity|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?[fFdD]?)$/;
// Java's \s is ASCII whitespace only; JS's would also eat e.g. a no-break space.
const LIST_SEPARATOR = /[ \t\n\v\f\r]*,[ \t\n\v\f\r]*/;

/** Trimmed like Java's String.trim (every char ≤ U+0020), not JS's Unicode-aware trim. */
export function javaTrim(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && s.charCodeAt(start) <= 0x20) start++;
  while (end > start && s.charCodeAt(end - 1) <= 0x20) end--;
  return start === 0 && end === s.length ? s : s.slice(start, end);
}

/** The typed value of `raw`, or undefined when it does not parse as `type`. No validator applied. */
export function parseType(type: ConfigType, raw: string): ConfigValue | undefined {
  const s = javaTrim(raw);
  switch (type) {
    case 'boolean': {
      const lower = s.toLowerCase();
      return lower === 'true' ? true : lower === 'false' ? false : undefined;
    }
    case 'short':
    case 'int':
    case 'long': {
      if (!INTEGER.test(s)) return undefined;
      const n = BigInt(s);
      const [lo, hi] = TYPE_BOUNDS[type]!;
      if (n < lo || n > hi) return undefined;
      return type === 'long' ? n : Number(n);
    }
    case 'double': {
      if (!DOUBLE.test(s)) return undefined;
      const n = Number(/[fFdD]$/.test(s) ? s.slice(0, -1) : s);
      // Java accepts NaN, but a NaN slips through every range check; refuse it.
      return Number.isNaN(n) ? undefined : n;
    }
    case 'string':
    case 'class':
      return s;
    case 'password':
      return new Password(s);
    case 'list':
      return s === '' ? [] : s.split(LIST_SEPARATOR);
  }
}

function typeExpectation(type: ConfigType): string {
  switch (type) {
    case 'boolean':
      return 'must be true or false';
    case 'short':
    case 'int':
    case 'long':
    case 'double':
      return numericExpectation(type, undefined, undefined);
    case 'list':
      return 'must be a comma-separated list';
    default:
      return `must be a ${type}`;
  }
}

/** What a value of `def` must look like, for error messages. */
export function expectation(def: ConfigDef): string {
  return def.validator !== undefined ? def.validator.expect(def.type) : typeExpectation(def.type);
}

/** Parses and validates `raw` for `def`; throws ConfigError naming the key and what is allowed. */
export function parseValue(def: ConfigDef, raw: string): ConfigValue {
  const value = parseType(def.type, raw);
  if (value === undefined || (def.validator !== undefined && !def.validator.accepts(value, def.type))) {
    throw invalidValue(def.name, isSensitive(def) ? '[hidden]' : raw, expectation(def));
  }
  return value;
}

/** Checks a typed value (e.g. a default written in a table) against `def`. */
export function checkValue(def: ConfigDef, value: ConfigValue): void {
  const typeOk = (() => {
    switch (def.type) {
      case 'boolean':
        return typeof value === 'boolean';
      case 'short':
      case 'int':
        return typeof value === 'number' && Number.isInteger(value) && parseType(def.type, String(value)) !== undefined;
      case 'long':
        return typeof value === 'bigint' && value >= TYPE_BOUNDS.long![0] && value <= TYPE_BOUNDS.long![1];
      case 'double':
        return typeof value === 'number' && !Number.isNaN(value);
      case 'list':
        return Array.isArray(value) && value.every((v) => typeof v === 'string');
      case 'password':
        return value instanceof Password;
      default:
        return typeof value === 'string';
    }
  })();
  if (!typeOk || (def.validator !== undefined && !def.validator.accepts(value, def.type))) {
    throw invalidValue(def.name, formatValue(def.type, value), expectation(def));
  }
}

// ---------------------------------------------------------------------------------------------
// Rendering: typed value → string, as Kafka's ConfigDef.convertToString (what DescribeConfigs shows).

/** Java's Double.toString: "1.0", "0.5", "1.0E7", "1.0E-4". */
export function javaDoubleToString(d: number): string {
  if (Number.isNaN(d)) return 'NaN';
  if (d === Infinity) return 'Infinity';
  if (d === -Infinity) return '-Infinity';
  if (d === 0) return Object.is(d, -0) ? '-0.0' : '0.0';
  const abs = Math.abs(d);
  if (abs >= 1e-3 && abs < 1e7) {
    const s = String(d);
    return s.includes('.') ? s : `${s}.0`;
  }
  const [mantissa, exponent] = d.toExponential().split('e') as [string, string];
  return `${mantissa.includes('.') ? mantissa : `${mantissa}.0`}E${exponent.replace('+', '')}`;
}

export function formatValue(type: ConfigType, value: ConfigValue | null): string | null {
  if (value === null) return null;
  if (type === 'double' && typeof value === 'number') return javaDoubleToString(value);
  if (Array.isArray(value)) return value.join(',');
  return String(value);
}

/** An int64 config value as a JS number; beyond ±2^53 it saturates (Long.MAX_VALUE → MAX_SAFE_INTEGER). */
export function longToNumber(value: bigint): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) return Number.MAX_SAFE_INTEGER;
  if (value < BigInt(Number.MIN_SAFE_INTEGER)) return Number.MIN_SAFE_INTEGER;
  return Number(value);
}

// ---------------------------------------------------------------------------------------------
// A table of definitions.

export interface ParseOptions {
  /** What to do with keys the table does not define: ignore them (broker files) or refuse them. */
  readonly unknownKeys?: 'ignore' | 'reject';
}

export class ConfigDefTable<D extends ConfigDef = ConfigDef> {
  readonly #defs: ReadonlyMap<string, D>;

  /** Refuses duplicate names and defaults that their own validator would refuse, as Kafka does. */
  constructor(defs: readonly D[]) {
    const map = new Map<string, D>();
    for (const def of defs) {
      if (map.has(def.name)) throw new StrataError('ERR_CONFIG', `configuration ${def.name} is defined twice`);
      if (def.default !== null && def.default !== REQUIRED) checkValue(def, def.default);
      map.set(def.name, def);
    }
    this.#defs = map;
  }

  get(name: string): D | undefined {
    return this.#defs.get(name);
  }

  has(name: string): boolean {
    return this.#defs.has(name);
  }

  /** Names in definition order. */
  names(): string[] {
    return [...this.#defs.keys()];
  }

  defs(): IterableIterator<D> {
    return this.#defs.values();
  }

  /** Parses one value; an unknown key is a ConfigError. */
  parse(name: string, raw: string): ConfigValue {
    const def = this.#defs.get(name);
    if (def === undefined) throw new ConfigError(`Unknown configuration ${name}`, name);
    return parseValue(def, raw);
  }

  /** The default of `name` (null when it has none or is required). */
  defaultValue(name: string): ConfigValue | null {
    const def = this.#defs.get(name);
    if (def === undefined || def.default === REQUIRED) return null;
    return def.default;
  }

  /**
   * Every defined key with its parsed value, or its default when `props` does not set it. A missing
   * required key is a ConfigError; unknown keys are ignored unless `unknownKeys: 'reject'`.
   */
  parseAll(
    props: ReadonlyMap<string, string> | Readonly<Record<string, string>>,
    options: ParseOptions = {},
  ): Map<string, ConfigValue | null> {
    const entries = props instanceof Map ? props : new Map(Object.entries(props));
    if (options.unknownKeys === 'reject') {
      for (const name of entries.keys()) {
        if (!this.#defs.has(name)) throw new ConfigError(`Unknown configuration ${name}`, name);
      }
    }
    const out = new Map<string, ConfigValue | null>();
    for (const def of this.#defs.values()) {
      const raw = entries.get(def.name);
      if (raw !== undefined) {
        out.set(def.name, parseValue(def, raw));
      } else if (def.default === REQUIRED) {
        throw new ConfigError(`Missing required configuration ${def.name} which has no default value`, def.name);
      } else {
        out.set(def.name, def.default);
      }
    }
    return out;
  }
}
