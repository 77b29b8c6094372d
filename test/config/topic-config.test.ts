import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ConfigError, ConfigSource, formatValue, parseValue } from '../../src/config/config-def.js';
import {
  BROKER_LOG_CONFIG_DEFS,
  brokerSynonymsOf,
  isKnownMessageFormatVersion,
  resolveTopicConfig,
  timestampBounds,
  TOPIC_CONFIG_DEFS,
  topicConfigSynonyms,
  topicLogConfig,
  topicSynonymBrokerKeys,
  toLogConfig,
  validateTopicConfigs,
  type ConfigSynonymEntry,
} from '../../src/config/topic-config.js';
import { DEFAULT_LOG_CONFIG } from '../../src/storage/log-config.js';

const LONG_MAX = '9223372036854775807';

// Kafka 3.9's topic configs and their documented defaults, written out from the Kafka 3.9 topic
// configuration reference (not derived from our table), plus Strata's durable.append.
const KAFKA_39_DEFAULTS: Record<string, string> = {
  'segment.bytes': '1073741824',
  'segment.ms': '604800000',
  'segment.jitter.ms': '0',
  'segment.index.bytes': '10485760',
  'flush.messages': LONG_MAX,
  'flush.ms': LONG_MAX,
  'retention.bytes': '-1',
  'retention.ms': '604800000',
  'max.message.bytes': '1048588',
  'index.interval.bytes': '4096',
  'delete.retention.ms': '86400000',
  'min.compaction.lag.ms': '0',
  'max.compaction.lag.ms': LONG_MAX,
  'file.delete.delay.ms': '60000',
  'min.cleanable.dirty.ratio': '0.5',
  'cleanup.policy': 'delete',
  'unclean.leader.election.enable': 'false',
  'min.insync.replicas': '1',
  'compression.type': 'producer',
  'compression.gzip.level': '-1',
  'compression.lz4.level': '9',
  'compression.zstd.level': '3',
  preallocate: 'false',
  'message.format.version': '3.0-IV1',
  'message.timestamp.type': 'CreateTime',
  'message.timestamp.difference.max.ms': LONG_MAX,
  'message.timestamp.before.max.ms': LONG_MAX,
  'message.timestamp.after.max.ms': LONG_MAX,
  'leader.replication.throttled.replicas': '',
  'follower.replication.throttled.replicas': '',
  'message.downconversion.enable': 'true',
  'remote.storage.enable': 'false',
  'local.retention.ms': '-2',
  'local.retention.bytes': '-2',
  'remote.log.copy.disable': 'false',
  'remote.log.delete.on.disable': 'false',
  'durable.append': 'false',
};

// Kafka 3.9's ServerTopicConfigSynonyms (+ log.durable.append), highest priority first.
const KAFKA_39_SYNONYMS: Record<string, string[]> = {
  'segment.bytes': ['log.segment.bytes'],
  'segment.ms': ['log.roll.ms', 'log.roll.hours'],
  'segment.jitter.ms': ['log.roll.jitter.ms', 'log.roll.jitter.hours'],
  'segment.index.bytes': ['log.index.size.max.bytes'],
  'flush.messages': ['log.flush.interval.messages'],
  'flush.ms': ['log.flush.interval.ms', 'log.flush.scheduler.interval.ms'],
  'retention.bytes': ['log.retention.bytes'],
  'retention.ms': ['log.retention.ms', 'log.retention.minutes', 'log.retention.hours'],
  'max.message.bytes': ['message.max.bytes'],
  'index.interval.bytes': ['log.index.interval.bytes'],
  'delete.retention.ms': ['log.cleaner.delete.retention.ms'],
  'min.compaction.lag.ms': ['log.cleaner.min.compaction.lag.ms'],
  'max.compaction.lag.ms': ['log.cleaner.max.compaction.lag.ms'],
  'file.delete.delay.ms': ['log.segment.delete.delay.ms'],
  'min.cleanable.dirty.ratio': ['log.cleaner.min.cleanable.ratio'],
  'cleanup.policy': ['log.cleanup.policy'],
  'unclean.leader.election.enable': ['unclean.leader.election.enable'],
  'min.insync.replicas': ['min.insync.replicas'],
  'compression.type': ['compression.type'],
  'compression.gzip.level': ['compression.gzip.level'],
  'compression.lz4.level': ['compression.lz4.level'],
  'compression.zstd.level': ['compression.zstd.level'],
  preallocate: ['log.preallocate'],
  'message.format.version': ['log.message.format.version'],
  'message.timestamp.type': ['log.message.timestamp.type'],
  'message.timestamp.difference.max.ms': ['log.message.timestamp.difference.max.ms'],
  'message.timestamp.before.max.ms': ['log.message.timestamp.before.max.ms'],
  'message.timestamp.after.max.ms': ['log.message.timestamp.after.max.ms'],
  'message.downconversion.enable': ['log.message.downconversion.enable'],
  'local.retention.ms': ['log.local.retention.ms'],
  'local.retention.bytes': ['log.local.retention.bytes'],
  'durable.append': ['log.durable.append'],
};

function refusal(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected a ConfigError');
}

const syn = (name: string, value: string | null, source: number): ConfigSynonymEntry => ({ name, value, source: source as ConfigSynonymEntry['source'] });

test('the table holds exactly Kafka 3.9 topic configs plus durable.append', () => {
  assert.deepEqual(TOPIC_CONFIG_DEFS.names().sort(), Object.keys(KAFKA_39_DEFAULTS).sort());
});

test("every key's default renders as Kafka's, parses back to itself and passes its validator", () => {
  for (const def of TOPIC_CONFIG_DEFS.defs()) {
    const dflt = TOPIC_CONFIG_DEFS.defaultValue(def.name);
    const shown = formatValue(def.type, dflt);
    assert.equal(shown, KAFKA_39_DEFAULTS[def.name], def.name);
    assert.deepEqual(parseValue(def, shown!), dflt, def.name);
    assert.ok(def.doc.length > 10, `${def.name} has a doc`);
  }
  // And the broker synonyms' defaults round-trip too.
  for (const def of BROKER_LOG_CONFIG_DEFS.defs()) {
    const dflt = BROKER_LOG_CONFIG_DEFS.defaultValue(def.name);
    if (dflt !== null) assert.deepEqual(parseValue(def, formatValue(def.type, dflt)!), dflt, def.name);
  }
});

test("broker synonyms follow Kafka 3.9's ServerTopicConfigSynonyms, in priority order", () => {
  for (const def of TOPIC_CONFIG_DEFS.defs()) {
    assert.deepEqual(
      brokerSynonymsOf(def.name).map((s) => s.name),
      KAFKA_39_SYNONYMS[def.name] ?? [],
      def.name,
    );
  }
  assert.equal(topicConfigSynonyms().get('retention.ms'), 'log.retention.ms');
  assert.equal(topicConfigSynonyms().get('max.message.bytes'), 'message.max.bytes');
  assert.equal(topicConfigSynonyms().has('remote.storage.enable'), false);
  // Every synonym is a defined broker key, and the broker table defines nothing else.
  assert.deepEqual(topicSynonymBrokerKeys().sort(), BROKER_LOG_CONFIG_DEFS.names().sort());
  assert.equal(BROKER_LOG_CONFIG_DEFS.get('log.retention.hours')!.updateMode, 'read-only');
  assert.equal(BROKER_LOG_CONFIG_DEFS.get('log.retention.ms')!.updateMode, 'cluster-wide');
});

test('with nothing configured every key resolves to its default, sourced DEFAULT_CONFIG', () => {
  const eff = resolveTopicConfig();
  for (const [name, r] of eff) {
    assert.equal(r.valueString, KAFKA_39_DEFAULTS[name], name);
    assert.equal(r.source, ConfigSource.DEFAULT_CONFIG, name);
  }
  assert.deepEqual(eff.get('segment.bytes')!.synonyms, [syn('log.segment.bytes', '1073741824', ConfigSource.DEFAULT_CONFIG)]);
  assert.deepEqual(eff.get('retention.ms')!.synonyms, [syn('log.retention.hours', '168', ConfigSource.DEFAULT_CONFIG)]);
  assert.deepEqual(eff.get('flush.ms')!.synonyms, [syn('log.flush.scheduler.interval.ms', LONG_MAX, ConfigSource.DEFAULT_CONFIG)]);
  assert.deepEqual(eff.get('remote.storage.enable')!.synonyms, []);
  assert.equal(eff.get('retention.ms')!.value, 604800000n);
});

test('synonyms list the topic override, then dynamic broker, dynamic default, static, default', () => {
  const eff = resolveTopicConfig(
    { 'retention.ms': '1000' },
    {
      dynamicBroker: { 'log.retention.ms': '2000' },
      dynamicDefault: new Map([['log.retention.ms', '3000']]),
      static: { 'log.retention.ms': '4000', 'log.retention.hours': '24' },
    },
  );
  const r = eff.get('retention.ms')!;
  assert.equal(r.value, 1000n);
  assert.equal(r.source, ConfigSource.TOPIC_CONFIG);
  assert.deepEqual(r.synonyms, [
    syn('retention.ms', '1000', ConfigSource.TOPIC_CONFIG),
    syn('log.retention.ms', '2000', ConfigSource.DYNAMIC_BROKER_CONFIG),
    syn('log.retention.ms', '3000', ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG),
    syn('log.retention.ms', '4000', ConfigSource.STATIC_BROKER_CONFIG),
    syn('log.retention.hours', '24', ConfigSource.STATIC_BROKER_CONFIG),
    syn('log.retention.hours', '168', ConfigSource.DEFAULT_CONFIG),
  ]);
  // Without the override the highest broker layer wins.
  const noOverride = resolveTopicConfig({}, { dynamicBroker: { 'log.retention.ms': '2000' }, static: { 'log.retention.ms': '4000' } });
  assert.equal(noOverride.get('retention.ms')!.value, 2000n);
  assert.equal(noOverride.get('retention.ms')!.source, ConfigSource.DYNAMIC_BROKER_CONFIG);
});

test('a higher-priority synonym beats a lower one from a higher layer, as in KafkaConfig', () => {
  // log.retention.ms (static) outranks log.retention.minutes (dynamic): Kafka derives retention from
  // the first synonym that is set, and its describe output starts at that entry.
  const r = resolveTopicConfig({}, { dynamicBroker: { 'log.retention.minutes': '5' }, static: { 'log.retention.ms': '1000' } }).get('retention.ms')!;
  assert.equal(r.value, 1000n);
  assert.equal(r.source, ConfigSource.STATIC_BROKER_CONFIG);
  assert.deepEqual(r.synonyms, [
    syn('log.retention.ms', '1000', ConfigSource.STATIC_BROKER_CONFIG),
    syn('log.retention.hours', '168', ConfigSource.DEFAULT_CONFIG),
  ]);
});

test('an unparsable broker synonym is refused rather than skipped', () => {
  // Kafka refuses to start with log.retention.minutes= (empty is not an int); so do we.
  const e = refusal(() => resolveTopicConfig({}, { static: { 'log.retention.hours': '24', 'log.retention.minutes': '' } }));
  assert.equal(e.configName, 'log.retention.minutes');
});

test('hours and minutes synonyms give milliseconds; a negative retention means forever', () => {
  const eff = resolveTopicConfig({}, { static: { 'log.retention.hours': '24', 'log.roll.hours': '1' } });
  assert.equal(eff.get('retention.ms')!.value, 86400000n);
  assert.equal(eff.get('retention.ms')!.source, ConfigSource.STATIC_BROKER_CONFIG);
  assert.deepEqual(eff.get('retention.ms')!.synonyms, [
    syn('log.retention.hours', '24', ConfigSource.STATIC_BROKER_CONFIG),
    syn('log.retention.hours', '168', ConfigSource.DEFAULT_CONFIG),
  ]);
  assert.equal(eff.get('segment.ms')!.value, 3600000n);
  assert.equal(resolveTopicConfig({}, { static: { 'log.retention.minutes': '2' } }).get('retention.ms')!.value, 120000n);
  assert.equal(resolveTopicConfig({}, { static: { 'log.retention.hours': '-5' } }).get('retention.ms')!.value, -1n);
  assert.equal(resolveTopicConfig({}, { static: { 'log.flush.interval.ms': '500' } }).get('flush.ms')!.value, 500n);
});

test('a bad broker value is refused with its broker key named', () => {
  const e = refusal(() => resolveTopicConfig({}, { static: { 'log.segment.bytes': '10' } }));
  assert.equal(e.message, "Invalid value '10' for configuration log.segment.bytes: must be an integer in [14, 2147483647]");
});

test('a broker value looser than its topic key is refused as that key\'s default', () => {
  assert.equal(
    refusal(() => resolveTopicConfig({}, { static: { 'log.roll.ms': '0' } })).message,
    "Invalid value '0' for configuration log.roll.ms: as the default of segment.ms it must be an integer in [1, 9223372036854775807]",
  );
  // A topic override makes the broker default irrelevant.
  assert.equal(resolveTopicConfig({ 'segment.ms': '10' }, { static: { 'log.roll.ms': '0' } }).get('segment.ms')!.value, 10n);
});

test("override values render as Kafka does (doubles, lists) and unknown stored keys are ignored", () => {
  const eff = resolveTopicConfig({ 'min.cleanable.dirty.ratio': '1', 'cleanup.policy': 'compact , delete', 'no.such.key': 'x' });
  assert.equal(eff.get('min.cleanable.dirty.ratio')!.valueString, '1.0');
  assert.equal(eff.get('cleanup.policy')!.valueString, 'compact,delete');
  assert.deepEqual(eff.get('cleanup.policy')!.synonyms[0], syn('cleanup.policy', 'compact,delete', ConfigSource.TOPIC_CONFIG));
  assert.equal(eff.has('no.such.key'), false);
});

test('validation refuses nulls, unknown keys and bad values with messages naming the key', () => {
  assert.equal(
    refusal(() => validateTopicConfigs({ 'retention.ms': null, 'segment.ms': null })).message,
    'Null value not supported for topic configs: retention.ms,segment.ms',
  );
  assert.equal(refusal(() => validateTopicConfigs({ 'retention.mss': '1' })).message, 'Unknown topic config name: retention.mss');
  assert.equal(
    refusal(() => validateTopicConfigs({ 'cleanup.policy': 'x' })).message,
    "Invalid value 'x' for configuration cleanup.policy: must be a list of [compact, delete]",
  );
  assert.equal(
    refusal(() => validateTopicConfigs({ 'compression.type': 'brotli' })).message,
    "Invalid value 'brotli' for configuration compression.type: must be one of [uncompressed, zstd, lz4, snappy, gzip, producer]",
  );
  assert.equal(
    refusal(() => validateTopicConfigs({ 'compression.gzip.level': '0' })).message,
    "Invalid value '0' for configuration compression.gzip.level: must be an integer in [1, 9] or -1",
  );
  assert.equal(
    refusal(() => validateTopicConfigs({ 'retention.ms': '-2' })).message,
    "Invalid value '-2' for configuration retention.ms: must be an integer in [-1, 9223372036854775807]",
  );
  assert.equal(
    refusal(() => validateTopicConfigs({ 'leader.replication.throttled.replicas': '0:1,x' })).message,
    "Invalid value '0:1,x' for configuration leader.replication.throttled.replicas: must be '*' or a list of [partitionId]:[brokerId] pairs",
  );
  const ok = validateTopicConfigs(new Map([['retention.ms', '-1'], ['leader.replication.throttled.replicas', '*'], ['follower.replication.throttled.replicas', '0:1, 1:2']]));
  assert.equal(ok.get('retention.ms'), -1n);
  assert.deepEqual(ok.get('follower.replication.throttled.replicas'), ['0:1', '1:2']);
});

test('every key refuses a value of the wrong shape, naming itself', () => {
  const bad: Record<string, string> = { boolean: 'maybe', int: '1.5', long: 'abc', double: 'x', list: 'nope' };
  for (const def of TOPIC_CONFIG_DEFS.defs()) {
    const value = def.type === 'string' ? 'not-a-valid-value' : bad[def.type]!;
    if (def.type === 'list' && def.validator === undefined) continue;
    const e = refusal(() => validateTopicConfigs({ [def.name]: value }));
    assert.ok(e.message.startsWith(`Invalid value '${value}' for configuration ${def.name}: must be`), e.message);
  }
});

test('compaction lags must be ordered, also against a broker default', () => {
  assert.match(refusal(() => validateTopicConfigs({ 'min.compaction.lag.ms': '10', 'max.compaction.lag.ms': '5' })).message, /min\.compaction\.lag\.ms \(10\).*max\.compaction\.lag\.ms \(5\)/);
  assert.throws(
    () => validateTopicConfigs({ 'min.compaction.lag.ms': '10' }, { broker: { static: { 'log.cleaner.max.compaction.lag.ms': '5' } } }),
    ConfigError,
  );
  validateTopicConfigs({ 'min.compaction.lag.ms': '5', 'max.compaction.lag.ms': '5' });
});

test('tiered storage rules: system switch, no compaction, local retention within total, copy-disable', () => {
  const on = { remoteStorageSystemEnabled: true };
  assert.match(refusal(() => validateTopicConfigs({ 'remote.storage.enable': 'true' })).message, /Tiered storage is disabled on the broker/);
  validateTopicConfigs({ 'remote.storage.enable': 'true' }, on);
  assert.match(
    refusal(() => validateTopicConfigs({ 'remote.storage.enable': 'true', 'cleanup.policy': 'compact,delete' }, on)).message,
    /compacted/,
  );
  assert.match(
    refusal(() => validateTopicConfigs({ 'remote.storage.enable': 'true' }, { ...on, broker: { static: { 'log.cleanup.policy': 'compact' } } })).message,
    /compacted/,
  );
  const e = refusal(() => validateTopicConfigs({ 'remote.storage.enable': 'true', 'retention.bytes': '100', 'local.retention.bytes': '-1' }, on));
  assert.equal(e.configName, 'local.retention.bytes');
  assert.match(e.message, /^Invalid value '-1' for configuration local.retention.bytes: must not be -1/);
  assert.match(
    refusal(() => validateTopicConfigs({ 'remote.storage.enable': 'true', 'retention.ms': '1000', 'local.retention.ms': '2000' }, on)).message,
    /local.retention.ms: must not be more than retention.ms \(1000\)/,
  );
  // Unlimited total retention allows any local retention.
  validateTopicConfigs({ 'remote.storage.enable': 'true', 'retention.ms': '-1', 'local.retention.ms': '-1' }, on);
  assert.match(
    refusal(() =>
      validateTopicConfigs({ 'remote.storage.enable': 'true', 'remote.log.copy.disable': 'true', 'retention.ms': '5000', 'local.retention.ms': '1000' }, on),
    ).message,
    /remote.log.copy.disable=true, local.retention.ms must equal retention.ms/,
  );
  validateTopicConfigs({ 'remote.storage.enable': 'true', 'remote.log.copy.disable': 'true', 'retention.ms': '5000', 'local.retention.ms': '5000' }, on);
});

test('turning tiered storage off requires remote.log.delete.on.disable', () => {
  const existing = { 'remote.storage.enable': 'true' };
  assert.match(refusal(() => validateTopicConfigs({ 'remote.storage.enable': 'false' }, { existing })).message, /remote.log.delete.on.disable=true/);
  assert.throws(() => validateTopicConfigs({}, { existing }), ConfigError, 'removing the override also turns it off');
  validateTopicConfigs({ 'remote.storage.enable': 'false', 'remote.log.delete.on.disable': 'true' }, { existing });
  validateTopicConfigs({ 'remote.storage.enable': 'false' }, { existing: { 'remote.storage.enable': 'false' } });
});

test('toLogConfig of the defaults is exactly the storage default LogConfig', () => {
  assert.deepEqual(toLogConfig(resolveTopicConfig()), DEFAULT_LOG_CONFIG);
});

test('toLogConfig maps overrides and broker defaults onto storage fields', () => {
  const c = topicLogConfig(
    { 'cleanup.policy': 'delete,compact', 'segment.bytes': '1048576', 'retention.ms': LONG_MAX, 'durable.append': 'true', 'message.timestamp.type': 'LogAppendTime' },
    { static: { 'log.retention.bytes': '1000000', 'log.roll.hours': '2', 'log.preallocate': 'true' } },
  );
  assert.equal(c.cleanupPolicy, 'compact,delete');
  assert.equal(c.segmentBytes, 1048576);
  assert.equal(c.retentionMs, Number.MAX_SAFE_INTEGER);
  assert.equal(c.retentionBytes, 1000000);
  assert.equal(c.segmentMs, 7200000);
  assert.equal(c.durableAppend, true);
  assert.equal(c.preallocate, true);
  assert.equal(c.messageTimestampType, 'LogAppendTime');
  assert.equal(topicLogConfig({ 'cleanup.policy': 'compact' }).cleanupPolicy, 'compact');
  assert.equal(topicLogConfig({}, { dynamicDefault: { 'log.durable.append': 'true' } }).durableAppend, true);
  // An empty policy (no cleanup at all) keeps everything.
  const none = topicLogConfig({ 'cleanup.policy': '', 'retention.ms': '1000', 'retention.bytes': '10' });
  assert.deepEqual([none.cleanupPolicy, none.retentionMs, none.retentionBytes], ['delete', -1, -1]);
});

test('property: any map of valid values validates, resolves and maps to a LogConfig', () => {
  const valueFor: Record<string, fc.Arbitrary<string>> = {
    'segment.bytes': fc.integer({ min: 14, max: 2 ** 31 - 1 }).map(String),
    'segment.ms': fc.bigInt({ min: 1n, max: 2n ** 63n - 1n }).map(String),
    'retention.ms': fc.bigInt({ min: -1n, max: 2n ** 63n - 1n }).map(String),
    'retention.bytes': fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String),
    'cleanup.policy': fc.constantFrom('', 'delete', 'compact', 'compact,delete', ' delete , compact '),
    'min.cleanable.dirty.ratio': fc.double({ min: 0, max: 1, noNaN: true }).map(String),
    'compression.type': fc.constantFrom('uncompressed', 'zstd', 'lz4', 'snappy', 'gzip', 'producer'),
    'message.timestamp.type': fc.constantFrom('CreateTime', 'LogAppendTime'),
    'durable.append': fc.constantFrom('true', 'FALSE', ' True '),
  };
  fc.assert(
    fc.property(fc.record(valueFor, { requiredKeys: [] }), (overrides) => {
      const map = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)) as Record<string, string>;
      validateTopicConfigs(map);
      const eff = resolveTopicConfig(map);
      const c = toLogConfig(eff);
      assert.ok(c.segmentBytes >= 14 && Number.isSafeInteger(c.retentionMs));
      for (const key of Object.keys(map)) assert.equal(eff.get(key)!.source, ConfigSource.TOPIC_CONFIG);
    }),
    { numRuns: 200 },
  );
});

test('timestamp bounds fall back to the deprecated difference key while at their default', () => {
  assert.deepEqual(timestampBounds(resolveTopicConfig({ 'message.timestamp.difference.max.ms': '100' })), { beforeMaxMs: 100n, afterMaxMs: 100n });
  assert.deepEqual(
    timestampBounds(resolveTopicConfig({ 'message.timestamp.difference.max.ms': '100', 'message.timestamp.after.max.ms': '5' })),
    { beforeMaxMs: 100n, afterMaxMs: 5n },
  );
});

test('message.format.version accepts what MetadataVersion.fromVersionString accepts', () => {
  for (const v of ['3.0', '3.0-IV1', '2.8.1', '0.10.2', '0.10.2.1', '0.8.0', '3.9-IV0', '1.0']) assert.ok(isKnownMessageFormatVersion(v), v);
  for (const v of ['0.10', '4.0', '3.0-IV9', 'abc', '']) assert.ok(!isKnownMessageFormatVersion(v), v);
  assert.throws(() => validateTopicConfigs({ 'message.format.version': '9.9' }), /message.format.version: must be a Kafka version/);
});
