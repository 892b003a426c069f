"""Listening to the broker as an outside consumer would."""
import time
import uuid

from kombu import Connection, Consumer, Exchange, Queue, binding


class EventCollector:
    """Binds its own queue to ``<service>.events`` for the given routing keys."""

    def __init__(self, amqp_uri, service, routing_keys, durable=False, queue_name=None):
        self.conn = Connection(amqp_uri)
        self.exchange = Exchange(f"{service}.events", type="topic", durable=True)
        name = queue_name or f"test-{service}-{uuid.uuid4().hex[:8]}"
        self.queues = [Queue(name, bindings=[binding(self.exchange, routing_key=key) for key in routing_keys],
                             durable=durable, auto_delete=not durable)]
        self.events = []
        self.consumer = Consumer(self.conn, queues=self.queues, callbacks=[self._on], accept=["json"])
        self.consumer.consume()

    def _on(self, body, message):
        self.events.append(body)
        message.ack()

    def drain(self, seconds=0.2):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                self.conn.drain_events(timeout=max(0.01, deadline - time.monotonic()))
            except (TimeoutError, OSError):
                pass
        return self.events

    def wait_for(self, predicate, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in self.events:
                if predicate(event):
                    return event
            self.drain(0.2)
        raise AssertionError(f"no matching event within {timeout}s; got {self.events!r}")

    def close(self):
        try:
            self.consumer.cancel()
        finally:
            self.conn.release()
