import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BROKER_CONFIGS, BROKER_CONFIG_DEFS, parseBrokerConfig } from '../../src/config/broker-config.js';
import { isStrataError } from '../../src/protocol/strata-error.js';

const refuses = (props: Record<string, string>, pattern: RegExp): void => {
  assert.throws(
    () => parseBrokerConfig(props),
    (e) => isStrataError(e, 'ERR_CONFIG') && pattern.test(e.message),
    JSON.stringify(props),
  );
};

test('defaults are Kafka\'s', () => {
  const c = parseBrokerConfig({});
  assert.equal(c.nodeId, -1);
  assert.equal(c.socketRequestMaxBytes, 104857600);
  assert.equal(c.connectionsMaxIdleMs, 600000);
  assert.equal(c.maxConnections, 2147483647);
  assert.equal(c.maxConnectionsPerIp, 2147483647);
  assert.deepEqual(c.listeners, [{ listenerName: 'PLAINTEXT', securityProtocol: 'PLAINTEXT', host: '', port: 9092 }]);
  assert.deepEqual(c.advertisedListeners, c.listeners);
  assert.deepEqual(c.logDirs, ['/tmp/kafka-logs']);
  assert.equal(c.values['connections.max.idle.ms'], 600000n);
  // Every row has a doc of our own and a valid default (the table constructor checks them).
  for (const def of BROKER_CONFIG_DEFS) assert.ok(def.doc.length > 10, def.name);
  assert.equal(BROKER_CONFIGS.names().length, BROKER_CONFIG_DEFS.length);
});

test('values parse as Kafka parses them: trimmed, typed, lists split on commas', () => {
  const c = parseBrokerConfig({
    'node.id': ' 4 ',
    listeners: 'PLAINTEXT://127.0.0.1:0 , internal://[::1]:9094',
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,INTERNAL:PLAINTEXT',
    'advertised.listeners': 'PLAINTEXT://broker1.example:9092',
    'socket.request.max.bytes': '1048576',
    'log.dirs': '/a, /b',
    'some.plugin.key': 'kept',
  });
  assert.equal(c.nodeId, 4);
  assert.deepEqual(c.listeners.map((l) => [l.listenerName, l.host, l.port]), [
    ['PLAINTEXT', '127.0.0.1', 0],
    ['INTERNAL', '::1', 9094],
  ]);
  assert.deepEqual(c.advertisedListeners.map((l) => [l.listenerName, l.host, l.port]), [['PLAINTEXT', 'broker1.example', 9092]]);
  assert.equal(c.socketRequestMaxBytes, 1048576);
  assert.deepEqual(c.logDirs, ['/a', '/b']);
  assert.equal(c.unknown.get('some.plugin.key'), 'kept');
});

test('a bad value names the key and what is allowed', () => {
  refuses({ 'socket.request.max.bytes': 'abc' }, /^Invalid value 'abc' for configuration socket\.request\.max\.bytes: must be an integer in \[1, 2147483647\]$/);
  refuses({ 'socket.request.max.bytes': '0' }, /socket\.request\.max\.bytes: must be an integer in \[1, 2147483647\]/);
  refuses({ 'socket.request.max.bytes': '2147483648' }, /socket\.request\.max\.bytes/);
  refuses({ 'max.connections': '-1' }, /max\.connections: must be an integer in \[0, 2147483647\]/);
  refuses({ 'node.id': '-2' }, /node\.id/);
  refuses({ 'connections.max.idle.ms': '10m' }, /connections\.max\.idle\.ms/);
});

test('listeners are validated as Kafka validates them', () => {
  refuses({ listeners: 'localhost:9092' }, /listeners: 'localhost:9092' is not of the form NAME:\/\/host:port/);
  refuses({ listeners: 'PLAINTEXT://:99999' }, /listeners: port 99999/);
  refuses({ listeners: 'PLAINTEXT://:9092,PLAINTEXT://:9093' }, /different name/);
  refuses({ listeners: 'PLAINTEXT://:9092,INTERNAL://:9092', 'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,INTERNAL:PLAINTEXT' }, /different port/);
  refuses({ listeners: 'CLIENT://:9092' }, /no security protocol is defined for listener CLIENT/);
  refuses({ listeners: 'SSL://:9093' }, /security protocol SSL of listener SSL is not supported yet/);
  refuses({ 'advertised.listeners': 'PLAINTEXT://0.0.0.0:9092' }, /advertised\.listeners: cannot use the nonroutable meta-address 0\.0\.0\.0/);
  refuses({ 'advertised.listeners': 'OTHER://h:1', 'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,OTHER:PLAINTEXT' }, /subset of those in listeners/);
  // Binding every interface is fine; only advertising it is not.
  assert.equal(parseBrokerConfig({ listeners: 'PLAINTEXT://0.0.0.0:9092', 'advertised.listeners': 'PLAINTEXT://h:9092' }).listeners[0]!.host, '0.0.0.0');
});
