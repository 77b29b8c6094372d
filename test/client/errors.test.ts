import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KafkaResponseError, checkErrorCode, isRetriableError, partitionSubject, topicSubject } from '../../src/client/errors.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { StrataError } from '../../src/protocol/strata-error.js';

test('messages name the subject and the Kafka error in one line', () => {
  assert.equal(new KafkaResponseError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, { subject: topicSubject('x') }).message, "topic 'x' does not exist (UNKNOWN_TOPIC_OR_PARTITION)");
  assert.equal(
    new KafkaResponseError(ErrorCode.INVALID_REPLICATION_FACTOR, { subject: topicSubject('x'), serverMessage: 'Replication factor 3 is larger than 1 broker' }).message,
    "topic 'x': Replication factor 3 is larger than 1 broker (INVALID_REPLICATION_FACTOR)",
  );
  assert.equal(new KafkaResponseError(ErrorCode.POLICY_VIOLATION, { subject: partitionSubject('x', 2) }).message, "topic 'x' partition 2: The request violates a configured policy (POLICY_VIOLATION)");
  assert.equal(new KafkaResponseError(4242, { subject: 'broker 1' }).message, 'broker 1: unknown error (UNKNOWN_ERROR_CODE(4242))');
});

test('errors carry the Kafka code as data and know whether a retry may help', () => {
  const e = new KafkaResponseError(ErrorCode.NOT_LEADER_OR_FOLLOWER, { subject: partitionSubject('t', 0), topic: 't', partition: 0 });
  assert.equal(e.code, 'ERR_KAFKA');
  assert.equal(e.errorCode, 6);
  assert.equal(e.errorName, 'NOT_LEADER_OR_FOLLOWER');
  assert.equal(e.topic, 't');
  assert.equal(e.partition, 0);
  assert.equal(isRetriableError(e), true);
  assert.equal(isRetriableError(new KafkaResponseError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, { subject: 'x', retriable: false })), false);
  assert.equal(isRetriableError(new StrataError('ERR_NETWORK', 'gone')), true);
  assert.equal(isRetriableError(new StrataError('ERR_TIMEOUT', 'slow')), true);
  assert.equal(isRetriableError(new StrataError('ERR_DECODE', 'bad')), false);
  assert.equal(isRetriableError(new Error('other')), false);
  assert.doesNotThrow(() => checkErrorCode(0, { subject: 'x' }));
  assert.throws(() => checkErrorCode(ErrorCode.TOPIC_ALREADY_EXISTS, { subject: topicSubject('x') }), /topic 'x' already exists \(TOPIC_ALREADY_EXISTS\)/);
});
