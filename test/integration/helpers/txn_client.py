# Transactional scenarios with confluent-kafka-python (librdkafka), driven by test/integration/transactions.test.ts.
# Prints one JSON object on stdout with what happened.
import json
import sys
import time
from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition

bootstrap = sys.argv[1]
scenario = sys.argv[2]
args = sys.argv[3:]


def producer(txn_id, **extra):
    conf = {'bootstrap.servers': bootstrap, 'transactional.id': txn_id, 'transaction.timeout.ms': 10000}
    conf.update(extra)
    return Producer(conf)


def consume_all(topics, isolation, expect, group=None, timeout=30):
    c = Consumer({'bootstrap.servers': bootstrap, 'group.id': group or f'reader-{isolation}-{time.time()}',
                  'auto.offset.reset': 'earliest', 'isolation.level': isolation, 'enable.auto.commit': False})
    c.subscribe(topics)
    out = []
    deadline = time.time() + timeout
    while time.time() < deadline and len(out) < expect:
        m = c.poll(0.5)
        if m is None or m.error():
            continue
        out.append({'topic': m.topic(), 'partition': m.partition(), 'offset': m.offset(), 'value': m.value().decode()})
    # Linger briefly: anything beyond `expect` would be a bug the test must see.
    end = time.time() + 1.5
    while time.time() < end:
        m = c.poll(0.2)
        if m is not None and not m.error():
            out.append({'topic': m.topic(), 'partition': m.partition(), 'offset': m.offset(), 'value': m.value().decode()})
    c.close()
    return out


def err_name(e):
    err = e.args[0]
    return {'name': err.name(), 'fatal': err.fatal(), 'abortable': err.txn_requires_abort(), 'retriable': err.retriable()}


result = {}
if scenario == 'commit-abort':
    # args: topicA topicB group input_topic
    ta, tb, group, src = args
    p = producer('py-txn-1')
    p.init_transactions(30)
    # The transaction that commits: several partitions of two topics, plus the offsets of a group.
    p.begin_transaction()
    for i in range(6):
        p.produce(ta, value=f'c1-{i}', partition=i % 3)
        p.produce(tb, value=f'c1-{i}', partition=i % 2)
    meta = p.list_topics(timeout=10)
    p.send_offsets_to_transaction([TopicPartition(src, 0, 42)], Consumer({'bootstrap.servers': bootstrap, 'group.id': group}).consumer_group_metadata(), 30)
    p.commit_transaction(30)
    # The transaction that aborts.
    p.begin_transaction()
    for i in range(4):
        p.produce(ta, value=f'a-{i}', partition=i % 3)
    p.flush(30)
    p.abort_transaction(30)
    # A second commit, so a reader must see both commits in order around the aborted one.
    p.begin_transaction()
    for i in range(3):
        p.produce(ta, value=f'c2-{i}', partition=i % 3)
    p.commit_transaction(30)
    c = Consumer({'bootstrap.servers': bootstrap, 'group.id': group})
    committed = c.committed([TopicPartition(src, 0)], timeout=10)
    c.close()
    result['committedOffset'] = committed[0].offset
    result['committed'] = consume_all([ta, tb], 'read_committed', 6 + 6 + 3)
    result['uncommitted'] = consume_all([ta, tb], 'read_uncommitted', 6 + 6 + 4 + 3)
elif scenario == 'fence':
    (topic,) = args
    p1 = producer('py-fence')
    p1.init_transactions(30)
    p1.begin_transaction()
    p1.produce(topic, value='zombie', partition=0)
    p1.flush(30)
    p2 = producer('py-fence')
    p2.init_transactions(30)
    p2.begin_transaction()
    p2.produce(topic, value='winner', partition=0)
    p2.commit_transaction(30)
    try:
        p1.produce(topic, value='zombie-2', partition=0)
        p1.commit_transaction(30)
        result['zombie'] = 'committed'
    except KafkaException as e:
        result['zombie'] = err_name(e)
    result['committed'] = consume_all([topic], 'read_committed', 1)
elif scenario == 'timeout':
    # A transaction left open: the coordinator aborts it after transaction.timeout.ms.
    topic = args[0]
    p = producer('py-timeout', **{'transaction.timeout.ms': 2000})
    p.init_transactions(30)
    p.begin_transaction()
    p.produce(topic, value='abandoned', partition=0)
    p.flush(30)
    time.sleep(float(args[1]) if len(args) > 1 else 8)
    try:
        p.produce(topic, value='late', partition=0)
        p.commit_transaction(30)
        result['late'] = 'committed'
    except KafkaException as e:
        result['late'] = err_name(e)
elif scenario == 'open':
    # Leaves a transaction open and exits without ending it (the broker is then restarted).
    (topic,) = args
    p = producer('py-open', **{'transaction.timeout.ms': 3000})
    p.init_transactions(30)
    p.begin_transaction()
    for i in range(3):
        p.produce(topic, value=f'open-{i}', partition=0)
    p.flush(30)
    result['ok'] = True
elif scenario == 'read':
    topic, isolation, expect = args
    result['records'] = consume_all([topic], isolation, int(expect), timeout=20)
else:
    raise SystemExit(f'unknown scenario {scenario}')
print(json.dumps(result), flush=True)
