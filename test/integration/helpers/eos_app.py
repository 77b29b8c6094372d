# An exactly-once consume-transform-produce application with confluent-kafka-python (librdkafka), for
# test/integration/eos-chaos.test.ts, which kills it (and the broker) with SIGKILL at random moments.
#
#   eos_app.py BOOTSTRAP app IN OUT GROUP TXN_ID SEED
#       Reads IN in the consumer group GROUP (read_committed, no auto commit, static membership so that a
#       restarted instance takes its predecessor's place at once), and for every poll batch runs one
#       transaction: the value "out-<input value>" to the same partition of OUT, plus the consumed
#       positions (send_offsets_to_transaction). Errors are handled as librdkafka asks an application to:
#       retriable → the same call again; abortable → abort_transaction and rewind the consumer to the
#       group's committed offsets; fatal (fenced included) or anything else → exit 3, to be restarted.
#       After each commit prints {"committed": {partition: next offset}} for the partitions it covered.
#   eos_app.py BOOTSTRAP read TOPIC ISOLATION EXPECT
#       Reads TOPIC from the beginning of every partition and prints {"records": [[partition, value], ...]}
#       once EXPECT records arrived (plus a short linger, so that extra records are seen) or input dried up.
#   eos_app.py BOOTSTRAP end TOPIC TXN_ID commit|abort|open COUNT [GROUP SRC_TOPIC OFFSET]
#       One transaction of COUNT records "<TXN_ID>-<i>" spread over TOPIC's partitions (plus, with GROUP, the
#       offset SRC_TOPIC:0 → OFFSET for GROUP), then commit, abort, or exit leaving it open. Prints
#       {"ok": true} once commit_transaction / abort_transaction returned (or the records were flushed).
import faulthandler
import json
import random
import signal
import sys
import time
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, Producer, TopicPartition

bootstrap = sys.argv[1]
mode = sys.argv[2]
args = sys.argv[3:]
# SIGUSR1 prints every thread's Python stack to stderr: the test asks for it before it kills an instance
# that stopped making progress, to say where it hung.
faulthandler.register(signal.SIGUSR1, all_threads=True)


def emit(obj):
    print(json.dumps(obj), flush=True)


class Restart(Exception):
    """The application cannot go on with this producer/consumer: exit and be restarted."""


def kafka_error(e):
    return e.args[0] if e.args and hasattr(e.args[0], 'code') else None


def retrying(what, fn, attempts=30):
    """Calls fn again while librdkafka says the error is retriable; other errors propagate."""
    for i in range(attempts):
        try:
            return fn()
        except KafkaException as e:
            err = kafka_error(e)
            if err is None or not err.retriable() or err.fatal() or err.txn_requires_abort() or i == attempts - 1:
                raise
            emit({'retry': what, 'error': err.name()})


def app(src, dst, group, txn_id, seed):
    rnd = random.Random(seed)
    # librdkafka reports a client's fatal error (a fenced static member, say) only here: the client is
    # unusable from then on, so the application restarts.
    fatal = []

    def on_error(err):
        if err.fatal():
            fatal.append(err)

    consumer = Consumer({
        'error_cb': on_error,
        'bootstrap.servers': bootstrap, 'group.id': group, 'group.instance.id': f'{txn_id}-member',
        'auto.offset.reset': 'earliest', 'isolation.level': 'read_committed', 'enable.auto.commit': False,
        'session.timeout.ms': 10000, 'heartbeat.interval.ms': 500,
    })
    producer = Producer({
        'error_cb': on_error,
        # Short enough that a broker kept down for a while makes the reloaded coordinator abort the open
        # transaction on timeout and fence this producer, which must then exit and be restarted.
        'bootstrap.servers': bootstrap, 'transactional.id': txn_id, 'transaction.timeout.ms': 4000,
        'linger.ms': 5,
    })
    # Fences any previous instance with this transactional.id and finishes (or aborts) its transaction.
    retrying('init', lambda: producer.init_transactions(30))
    consumer.subscribe([src])
    emit({'started': True})

    def rewind():
        """After an abort: back to the group's committed offsets for every assigned partition."""
        assignment = consumer.assignment()
        if not assignment:
            return
        committed = retrying('committed', lambda: consumer.committed(assignment, timeout=10))
        for tp in committed:
            if tp.error is not None:
                raise Restart(f'committed offset of {tp.partition}: {tp.error}')
            consumer.seek(TopicPartition(tp.topic, tp.partition, tp.offset if tp.offset >= 0 else OFFSET_BEGINNING))

    def produce(m):
        value = b'out-' + m.value()
        while True:
            try:
                producer.produce(dst, value=value, partition=m.partition())
                return
            except BufferError:
                producer.poll(0.1)

    while True:
        if fatal:
            raise Restart(f'fatal: {fatal[0].name()}: {fatal[0].str()}')
        msgs = consumer.consume(rnd.randint(1, 60), 0.5)
        for m in msgs:
            if m.error() is not None and m.error().fatal():
                raise Restart(f'consumer: {m.error().name()}')
        msgs = [m for m in msgs if m.error() is None]
        if not msgs:
            continue
        positions = {}
        for m in msgs:
            positions[m.partition()] = m.offset() + 1
        try:
            producer.begin_transaction()
            for m in msgs:
                produce(m)
                # Pauses at random places, so that kills land inside transactions as often as between them.
                if rnd.random() < 0.02:
                    time.sleep(rnd.random() * 0.1)
            offsets = [TopicPartition(src, p, o) for p, o in positions.items()]
            retrying('send_offsets', lambda: producer.send_offsets_to_transaction(offsets, consumer.consumer_group_metadata(), 30))
            if rnd.random() < 0.3:
                time.sleep(rnd.random() * 0.1)
            retrying('commit', lambda: producer.commit_transaction(30))
        except KafkaException as e:
            err = kafka_error(e)
            if err is None or err.fatal() or not err.txn_requires_abort():
                raise Restart(f'{err.name() if err else e}: {err.str() if err else ""}')
            emit({'abort': err.name()})
            retrying('abort', lambda: producer.abort_transaction(30))
            rewind()
            continue
        emit({'committed': {str(p): o for p, o in positions.items()}})


def read(topic, isolation, expect):
    c = Consumer({'bootstrap.servers': bootstrap, 'group.id': f'eos-reader-{time.time()}', 'auto.offset.reset': 'earliest',
                  'isolation.level': isolation, 'enable.auto.commit': False})
    meta = c.list_topics(topic, timeout=30)
    c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in meta.topics[topic].partitions])
    out = []
    last = time.time()
    deadline = last + 60
    while time.time() < deadline:
        m = c.poll(0.2)
        if m is not None and m.error() is None:
            out.append([m.partition(), m.value().decode()])
            last = time.time()
        # Enough, and a quiet second to catch anything beyond it; or nothing new for a while (five seconds
        # when nothing is expected, fifteen when records are still missing).
        quiet = time.time() - last
        if (len(out) >= expect and quiet > 1) or quiet > (5 if expect == 0 else 15):
            break
    c.close()
    emit({'records': out})


def end(topic, txn_id, how, count, group=None, src=None, offset=None):
    p = Producer({'bootstrap.servers': bootstrap, 'transactional.id': txn_id, 'transaction.timeout.ms': 10000})
    p.init_transactions(30)
    partitions = len(p.list_topics(topic, timeout=30).topics[topic].partitions)
    p.begin_transaction()
    for i in range(count):
        p.produce(topic, value=f'{txn_id}-{i}', partition=i % partitions)
    if group is not None:
        cgm = Consumer({'bootstrap.servers': bootstrap, 'group.id': group}).consumer_group_metadata()
        p.send_offsets_to_transaction([TopicPartition(src, 0, offset)], cgm, 30)
    p.flush(30)
    if how == 'commit':
        p.commit_transaction(30)
    elif how == 'abort':
        p.abort_transaction(30)
    emit({'ok': True})


if mode == 'app':
    src, dst, group, txn_id, seed = args
    try:
        app(src, dst, group, txn_id, int(seed))
    except (Restart, KafkaException) as e:
        emit({'exit': str(e)})
        sys.exit(3)
elif mode == 'read':
    topic, isolation, expect = args
    read(topic, isolation, int(expect))
elif mode == 'end':
    topic, txn_id, how, count = args[:4]
    extra = args[4:]
    if extra:
        end(topic, txn_id, how, int(count), extra[0], extra[1], int(extra[2]))
    else:
        end(topic, txn_id, how, int(count))
else:
    raise SystemExit(f'unknown mode {mode}')
