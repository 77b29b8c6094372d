#!/usr/bin/python3
"""Drives confluent-kafka-python (librdkafka) for test/compat: `confluent_driver.py COMMAND` reads one JSON
request on stdin and prints one JSON result as its last stdout line. Bytes travel as hex so that the test
compares them exactly. Broker-side errors are reported as data ({code, name, str}); only a bug in this
script makes it exit non-zero."""
import json
import os
import sys
import time

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource, NewPartitions, NewTopic


def unhex(h):
    return None if h is None else bytes.fromhex(h)


def tohex(b):
    return None if b is None else b.hex()


def err(e):
    if e is None:
        return None
    if isinstance(e, KafkaException):
        e = e.args[0]
    if isinstance(e, KafkaError):
        return {'code': e.code(), 'name': e.name(), 'str': e.str()}
    return {'code': None, 'name': type(e).__name__, 'str': str(e)}


def produce(req):
    conf = {'bootstrap.servers': req['bootstrap']}
    conf.update(req.get('config', {}))
    p = Producer(conf)
    delivered = []

    def report(index):
        def cb(e, msg):
            delivered.append({'index': index, 'error': err(e), 'partition': msg.partition(), 'offset': msg.offset(),
                              'timestamp': msg.timestamp()[1]})
        return cb

    for i, r in enumerate(req['records']):
        kwargs = {'value': unhex(r.get('value')), 'key': unhex(r.get('key')), 'on_delivery': report(i)}
        if r.get('partition') is not None:
            kwargs['partition'] = r['partition']
        if r.get('headers') is not None:
            kwargs['headers'] = [(k, unhex(v)) for k, v in r['headers']]
        if r.get('timestamp') is not None:
            kwargs['timestamp'] = r['timestamp']
        while True:
            try:
                p.produce(req['topic'], **kwargs)
                break
            except BufferError:
                p.poll(0.1)
        p.poll(0)
    left = p.flush(req.get('flush_s', 60))
    delivered.sort(key=lambda d: d['index'])
    return {'delivered': delivered, 'undelivered': left}


def consume(req):
    """Reads the given partitions from the beginning until each reports end-of-partition."""
    # The Python binding insists on a group.id even for assign(); nothing is committed, so no group is used.
    conf = {'bootstrap.servers': req['bootstrap'], 'group.id': 'compat-assign-only', 'enable.partition.eof': True,
            'enable.auto.commit': False, 'enable.auto.offset.store': False,
            'auto.offset.reset': 'earliest', 'check.crcs': True}
    conf.update(req.get('config', {}))
    c = Consumer(conf)
    parts = req['partitions']
    c.assign([TopicPartition(req['topic'], p, -2) for p in parts])  # -2: OFFSET_BEGINNING
    pending = set(parts)
    records = []
    errors = []
    deadline = time.time() + req.get('timeout_s', 60)
    while pending and time.time() < deadline:
        msg = c.poll(0.5)
        if msg is None:
            continue
        if msg.error() is not None:
            if msg.error().code() == KafkaError._PARTITION_EOF:
                pending.discard(msg.partition())
            else:
                errors.append(err(msg.error()))
            continue
        ts_type, ts = msg.timestamp()
        headers = msg.headers()
        records.append({'partition': msg.partition(), 'offset': msg.offset(), 'key': tohex(msg.key()),
                        'value': tohex(msg.value()), 'timestamp': ts, 'timestampType': ts_type,
                        'headers': None if headers is None else [[k, tohex(v)] for k, v in headers]})
    c.close()
    return {'records': records, 'errors': errors, 'unfinished': sorted(pending)}


def wait_all(futures, name=str):
    out = {}
    for key, f in futures.items():
        try:
            f.result(30)
            out[name(key)] = None
        except Exception as e:  # noqa: BLE001 - reported to the test as data
            out[name(key)] = err(e)
    return out


_admin = []


def admin(req):
    # The futures fail with _DESTROY if the client is collected before they resolve: keep it alive.
    if not _admin:
        _admin.append(AdminClient({'bootstrap.servers': req['bootstrap']}))
    return _admin[0]


def create_topics(req):
    topics = [NewTopic(t['name'], num_partitions=t.get('partitions', 1), replication_factor=t.get('replication', 1),
                       config=t.get('config', {})) for t in req['topics']]
    fs = admin(req).create_topics(topics, operation_timeout=30, validate_only=req.get('validate_only', False))
    return {'results': wait_all(fs)}


def delete_topics(req):
    return {'results': wait_all(admin(req).delete_topics(req['topics'], operation_timeout=30))}


def create_partitions(req):
    fs = admin(req).create_partitions([NewPartitions(t, n) for t, n in req['totals'].items()], operation_timeout=30)
    return {'results': wait_all(fs)}


RESOURCE = {'topic': ConfigResource.Type.TOPIC, 'broker': ConfigResource.Type.BROKER}


def describe_configs(req):
    resources = [ConfigResource(RESOURCE[r['type']], r['name']) for r in req['resources']]
    out = {}
    for res, f in admin(req).describe_configs(resources).items():
        try:
            entries = f.result(30)
            out[res.name] = {'configs': {k: {'value': v.value, 'source': getattr(v.source, 'value', v.source), 'is_default': v.is_default,
                                             'read_only': v.is_read_only, 'is_sensitive': v.is_sensitive}
                                         for k, v in entries.items()}, 'error': None}
        except Exception as e:  # noqa: BLE001
            out[res.name] = {'configs': None, 'error': err(e)}
    return out


def alter_configs(req):
    resources = [ConfigResource(RESOURCE[r['type']], r['name'], set_config=r['configs']) for r in req['resources']]
    return {'results': wait_all(admin(req).alter_configs(resources), lambda res: res.name)}


def list_topics(req):
    md = admin(req).list_topics(timeout=30)
    return {'cluster_id': md.cluster_id, 'controller_id': md.controller_id,
            'brokers': sorted([[b.id, b.host, b.port] for b in md.brokers.values()]),
            'topics': {name: {'error': err(t.error),
                              'partitions': sorted([[p.id, p.leader, list(p.replicas), list(p.isrs)]
                                                    for p in t.partitions.values()])}
                       for name, t in md.topics.items()}}


def idempotent_stream(req):
    """Produces `count` records (value = id) at about `rate` per second with an idempotent producer, printing
    `acked N` progress lines so that the test can kill the broker mid-stream; the last line is the result."""
    conf = {'bootstrap.servers': req['bootstrap'], 'enable.idempotence': True, 'linger.ms': 5,
            'message.timeout.ms': req.get('message_timeout_ms', 120000), 'retry.backoff.ms': 200,
            'reconnect.backoff.ms': 100, 'reconnect.backoff.max.ms': 1000}
    p = Producer(conf)
    acked = []
    failed = []
    reported = [0]

    def cb(e, msg):
        if e is None:
            acked.append(int(msg.value()))
        else:
            failed.append({'id': int(msg.value()), 'error': err(e)})

    def report_progress():
        if len(acked) - reported[0] >= 1000:
            reported[0] = len(acked)
            print(f'acked {len(acked)}', flush=True)

    count = req['count']
    per_tick = max(1, req['rate'] // 100)
    i = 0
    while i < count:
        for _ in range(min(per_tick, count - i)):
            while True:
                try:
                    p.produce(req['topic'], key=str(i).encode(), value=str(i).encode(), on_delivery=cb)
                    break
                except BufferError:
                    p.poll(0.05)
            i += 1
        p.poll(0.01)
        report_progress()
    # Drain while still reporting progress: the test may be waiting for a kill point.
    deadline = time.time() + req.get('message_timeout_ms', 120000) / 1000 + 30
    while len(p) > 0 and time.time() < deadline:
        p.poll(0.05)
        report_progress()
    left = p.flush(0)
    return {'acked': acked, 'failed': failed, 'undelivered': left}


COMMANDS = {f.__name__: f for f in [produce, consume, create_topics, delete_topics, create_partitions,
                                     describe_configs, alter_configs, list_topics, idempotent_stream]}

if __name__ == '__main__':
    result = COMMANDS[sys.argv[1]](json.load(sys.stdin))
    print(json.dumps(result), flush=True)
    # confluent-kafka-python 1.7 under-references None header values (Message.headers()), which aborts the
    # interpreter at shutdown ("none_dealloc"); the result is out, so skip the finalizer.
    os._exit(0)
