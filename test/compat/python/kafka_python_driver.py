#!/usr/bin/python3
"""Drives kafka-python for test/compat: `kafka_python_driver.py COMMAND` reads one JSON request on stdin and
prints one JSON result as its last stdout line (bytes as hex). Broker errors are reported as data."""
import json
import sys
import time

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic


def unhex(h):
    return None if h is None else bytes.fromhex(h)


def tohex(b):
    return None if b is None else b.hex()


def err(e):
    return {'name': type(e).__name__, 'errno': getattr(e, 'errno', None), 'str': str(e)}


def produce(req):
    p = KafkaProducer(bootstrap_servers=req['bootstrap'], acks='all', retries=5, linger_ms=5,
                      compression_type=req.get('compression'), **req.get('config', {}))
    futures = []
    for r in req['records']:
        futures.append(p.send(req['topic'], key=unhex(r.get('key')), value=unhex(r.get('value')),
                              partition=r.get('partition'), timestamp_ms=r.get('timestamp'),
                              headers=[(k, unhex(v)) for k, v in r.get('headers') or []]))
    p.flush(60)
    delivered = []
    for i, f in enumerate(futures):
        try:
            md = f.get(60)
            delivered.append({'index': i, 'error': None, 'partition': md.partition, 'offset': md.offset})
        except Exception as e:  # noqa: BLE001 - reported to the test as data
            delivered.append({'index': i, 'error': err(e), 'partition': None, 'offset': None})
    p.close(10)
    return {'delivered': delivered}


def consume(req):
    """Assigns the partitions (no group), reads from the beginning up to the end offsets seen at start."""
    c = KafkaConsumer(bootstrap_servers=req['bootstrap'], group_id=None, enable_auto_commit=False,
                      auto_offset_reset='earliest', check_crcs=True)
    parts = [TopicPartition(req['topic'], p) for p in req['partitions']]
    c.assign(parts)
    c.seek_to_beginning(*parts)
    ends = c.end_offsets(parts)
    records = []
    deadline = time.time() + req.get('timeout_s', 60)
    while any(c.position(tp) < ends[tp] for tp in parts) and time.time() < deadline:
        for tp, msgs in c.poll(timeout_ms=500).items():
            for m in msgs:
                records.append({'partition': m.partition, 'offset': m.offset, 'key': tohex(m.key),
                                'value': tohex(m.value), 'timestamp': m.timestamp,
                                'timestampType': m.timestamp_type,
                                'headers': [[k, tohex(v)] for k, v in m.headers]})
    positions = {tp.partition: c.position(tp) for tp in parts}
    c.close()
    return {'records': records, 'ends': {tp.partition: o for tp, o in ends.items()}, 'positions': positions}


def admin(req):
    return KafkaAdminClient(bootstrap_servers=req['bootstrap'], request_timeout_ms=30000)


def topic_errors(response):
    """{name: null | {code, message}} from a CreateTopics/DeleteTopics response of any version."""
    out = {}
    for t in response.topic_errors if hasattr(response, 'topic_errors') else response.topic_error_codes:
        name, code = t[0], t[1]
        message = t[2] if len(t) > 2 and isinstance(t[2], str) else None
        out[name] = None if code == 0 else {'code': code, 'message': message}
    return out


def create_topics(req):
    a = admin(req)
    try:
        topics = [NewTopic(t['name'], t.get('partitions', 1), t.get('replication', 1),
                           topic_configs=t.get('config', {})) for t in req['topics']]
        try:
            return {'results': topic_errors(a.create_topics(topics, timeout_ms=30000))}
        except Exception as e:  # noqa: BLE001 - kafka-python raises on the first topic error
            return {'raised': err(e)}
    finally:
        a.close()


def delete_topics(req):
    a = admin(req)
    try:
        try:
            return {'results': topic_errors(a.delete_topics(req['topics'], timeout_ms=30000))}
        except Exception as e:  # noqa: BLE001
            return {'raised': err(e)}
    finally:
        a.close()


def list_topics(req):
    a = admin(req)
    try:
        return {'topics': sorted(a.list_topics())}
    finally:
        a.close()


COMMANDS = {f.__name__: f for f in [produce, consume, create_topics, delete_topics, list_topics]}

if __name__ == '__main__':
    result = COMMANDS[sys.argv[1]](json.load(sys.stdin))
    print(json.dumps(result), flush=True)
