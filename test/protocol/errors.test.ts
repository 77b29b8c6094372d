import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode, KAFKA_ERRORS, errorInfo, errorMessage, errorName, isRetriable } from '../../src/protocol/errors.js';

describe('Kafka error codes', () => {
  it('cover -1..127 exactly once each, ordered by code', () => {
    assert.deepEqual(
      KAFKA_ERRORS.map((e) => e.code),
      Array.from({ length: 129 }, (_, i) => i - 1),
    );
    assert.equal(new Set(KAFKA_ERRORS.map((e) => e.name)).size, KAFKA_ERRORS.length);
    for (const e of KAFKA_ERRORS) {
      assert.equal(ErrorCode[e.name as keyof typeof ErrorCode], e.code);
      assert.ok(e.message.length > 5, e.name);
    }
  });

  it('carry the wire numbers clients switch on', () => {
    assert.equal(ErrorCode.UNKNOWN_SERVER_ERROR, -1);
    assert.equal(ErrorCode.CORRUPT_MESSAGE, 2);
    assert.equal(ErrorCode.NOT_LEADER_OR_FOLLOWER, 6);
    assert.equal(ErrorCode.UNSUPPORTED_VERSION, 35);
    assert.equal(ErrorCode.UNSUPPORTED_COMPRESSION_TYPE, 76);
    assert.equal(ErrorCode.INVALID_RECORD, 87);
    assert.equal(ErrorCode.PRODUCER_FENCED, 90);
    assert.equal(ErrorCode.TRANSACTION_ABORTABLE, 120);
    assert.equal(ErrorCode.VOTER_NOT_FOUND, 127);
  });

  it('classify retriable errors as Kafka clients do', () => {
    for (const c of [2, 3, 5, 6, 7, 13, 14, 15, 16, 19, 20, 41, 51, 56, 74, 75, 78, 89]) assert.ok(isRetriable(c), errorName(c));
    for (const c of [-1, 0, 1, 10, 29, 35, 42, 45, 47, 76, 87, 90, 120]) assert.ok(!isRetriable(c), errorName(c));
  });

  it('name unknown codes without throwing', () => {
    assert.equal(errorName(0), 'NONE');
    assert.equal(errorName(87), 'INVALID_RECORD');
    assert.equal(errorName(999), 'UNKNOWN_ERROR_CODE(999)');
    assert.equal(errorInfo(999), undefined);
    assert.equal(isRetriable(999), false);
    assert.match(errorMessage(999), /999/);
    assert.equal(errorInfo(76)?.name, 'UNSUPPORTED_COMPRESSION_TYPE');
  });
});
