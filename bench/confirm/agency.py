"""The agency of ``bench/confirm/run.py``: a process of its own (plain threads, no
eventlet, nothing else to do), as an agency's consumer is. It binds a queue to
``confirmation.events`` (``unit_confirmed``) and, for the baseline, publishes a
timestamped message every ``--interval`` seconds (persistent, in confirm mode, as
the outbox relay publishes) to a queue of its own on the same broker, consumed on
the same connection. It writes one line per message to ``--out``:
``event <seconds after confirmed_at> <event_id>`` or ``bare <seconds after publishing>``,
after a first line ``ready``.

    python -m bench.confirm.agency --amqp-uri pyamqp://... --out /tmp/agency.txt
"""
import argparse
import datetime as dt
import os
import sys
import threading
import time
import uuid

from kombu import Connection, Consumer, Exchange, Producer, Queue, binding


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--amqp-uri", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--interval", type=float, default=0.02)
    args = parser.parse_args(argv)
    tag = uuid.uuid4().hex[:6]
    events = Exchange("confirmation.events", type="topic", durable=True)
    agency = Queue(f"bench-agency-{tag}", exclusive=True,
                   bindings=[binding(events, routing_key="unit_confirmed")])
    bare = Queue(f"bench-bare-{tag}", exclusive=True)   # the default exchange: key = queue name
    out = open(args.out, "a", buffering=1)
    lock = threading.Lock()
    seen = set()

    def write(line):
        with lock:
            out.write(line + "\n")

    def on(body, message):
        arrived = time.time()
        if "sent_at" in body:
            write(f"bare {arrived - body['sent_at']:.6f}")
        elif body["event_id"] not in seen:
            seen.add(body["event_id"])
            confirmed = dt.datetime.fromisoformat(body["confirmed_at"]).timestamp()
            write(f"event {arrived - confirmed:.6f} {body['event_id']}")
        message.ack()

    def publish():
        with Connection(args.amqp_uri, transport_options={"confirm_publish": True}) as conn:
            producer = Producer(conn.channel())
            while True:
                time.sleep(args.interval)
                producer.publish({"sent_at": time.time()}, routing_key=bare.name, serializer="json",
                                 delivery_mode=2)

    with Connection(args.amqp_uri) as conn:
        with Consumer(conn, queues=[agency, bare], callbacks=[on], accept=["json"], prefetch_count=200):
            threading.Thread(target=publish, daemon=True).start()
            write("ready")
            parent = os.getppid()
            while os.getppid() == parent:   # until the benchmark ends this process (or itself ends)
                try:
                    conn.drain_events(timeout=1)
                except TimeoutError:
                    pass


if __name__ == "__main__":
    sys.exit(main())
