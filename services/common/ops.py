"""The operations endpoint of one service process: probes and metrics over HTTP.

:class:`Ops` is a nameko dependency (every service has it through
``HealthMixin``) that serves, on ``LEC_OPS_HOST:LEC_OPS_PORT`` (8001; ``0``
picks a free port, which the heartbeat file then records as ``ops_port``; ``-1``
turns the endpoint off), from a green thread of the service's own container:

``GET /livez``
    200 while this process's heartbeat loop turns (its last beat is younger
    than ``LEC_HEARTBEAT_MAX_AGE``); depends on neither the broker nor the
    database, so an outage of theirs restarts nothing.
``GET /readyz``
    200 only when this process's own AMQP consumer is connected and its own
    database answers ``SELECT 1`` (within ``DB_TIMEOUT``; the answer is kept
    ``DB_CACHE_SECONDS``); 503 with ``{"status": "not_ready", "reason": ...}``
    otherwise. Unlike the ``health`` RPC, which any replica may answer, it
    speaks for this very process, and costs no process start.
``GET /metrics``
    Prometheus text of this process, from a registry of its own: RPC and event
    handler durations, busy workers, outbox backlog, failed events and the
    database pool.
"""
import json
import logging
import threading
import time

import eventlet
import eventlet.wsgi
from nameko.extensions import DependencyProvider
from nameko.messaging import QueueConsumer
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import text

from services.common import settings
from services.common.db import Database

log = logging.getLogger(__name__)

DB_TIMEOUT = 2.0  # seconds a readiness check waits for SELECT 1
DB_CACHE_SECONDS = 2.0  # how long a readiness answer of the database is kept
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120)


class ConsumerWatch:
    """Whether a container's QueueConsumer holds a live broker connection.

    nameko does not keep the connection its consumer drains; the consumer's
    ``on_consume_ready`` callback (called after every (re)connection) is wrapped
    to remember it, and kombu closes it when the consumer loses it."""

    def __init__(self, consumer):
        self.consumer = consumer
        self.connection = None
        ready = consumer.on_consume_ready

        def on_consume_ready(connection, channel, consumers, **kwargs):
            self.connection = connection
            return ready(connection, channel, consumers, **kwargs)

        consumer.on_consume_ready = on_consume_ready

    def problem(self):
        """None when connected, otherwise why not."""
        gt = getattr(self.consumer, "_gt", None)
        if gt is None or gt.dead:
            return "the AMQP consumer is not running"
        if getattr(self.consumer, "should_stop", False):
            return "the AMQP consumer is stopping"
        conn = self.connection
        try:
            connected = conn is not None and conn.connected
        except Exception:  # a half-closed connection may fail to answer
            connected = False
        return None if connected else "the AMQP consumer is not connected to the broker"


class ServiceCollector:
    """Values read at scrape time: workers, outbox, failed events, database pool."""

    def __init__(self, ops):
        self.ops = ops

    def collect(self):
        service = self.ops.service
        container = self.ops.container

        def gauge(name, doc, value):
            family = GaugeMetricFamily(name, doc, labels=["service"])
            if value is not None:
                family.add_metric([service], value)
            return family

        yield gauge("lec_workers_busy", "Workers of this process running an entrypoint",
                    len(getattr(container, "_worker_threads", {})))
        yield gauge("lec_workers_max", "Workers this process runs at most", container.max_workers)
        engine = self.ops.engine()
        backlog = oldest = failed = checked_out = size = None
        if engine is not None:
            from services.common.inbox import failed_count
            from services.common.outbox import backlog as outbox_backlog
            try:
                backlog, oldest = outbox_backlog(engine)
                failed = failed_count(engine)
            except Exception as exc:  # a scrape during a database outage still answers
                log.warning("metrics of %s: database unavailable: %s", service, exc)
            pool = engine.pool
            checked_out, size = pool.checkedout(), pool.size()
        yield gauge("lec_outbox_backlog", "Events committed but not yet published", backlog)
        yield gauge("lec_outbox_oldest_age_seconds", "Age of the oldest unpublished event (0 when none)",
                    oldest)
        yield gauge("lec_failed_events", "Consumed events waiting for a retry", failed)
        yield gauge("lec_db_pool_checked_out", "Database connections in use", checked_out)
        yield gauge("lec_db_pool_size", "Database connections the pool keeps", size)


class Ops(DependencyProvider):
    """Probes and metrics of this process on its own HTTP port (see the module)."""

    def setup(self):
        self.service = self.container.service_name
        configured = settings.current()
        self.max_age = configured.heartbeat_max_age
        self.registry = CollectorRegistry()
        self.durations = Histogram(
            "lec_rpc_duration_seconds", "Time an RPC or event handler entrypoint of this process took",
            ["service", "method"], buckets=BUCKETS, registry=self.registry)
        self.registry.register(ServiceCollector(self))
        self._started = {}
        self._db_answer = None  # (time.monotonic() when it expires, problem or None)
        self._db_lock = threading.Lock()
        self.watches = [ConsumerWatch(ext) for ext in self.container.extensions
                        if isinstance(ext, QueueConsumer)]
        self.sock = None
        self.ops_port = None
        self._thread = None
        port = configured.ops_port
        if port < 0:
            return
        try:
            self.sock = eventlet.listen((configured.ops_host, port))
        except OSError as exc:  # another process holds the port: the service still runs
            log.warning("%s: no operations endpoint on %s:%s (%s)", self.service, configured.ops_host,
                        port, exc)
            return
        self.ops_port = self.sock.getsockname()[1]

    def start(self):
        if self.sock is not None:
            self._thread = self.container.spawn_managed_thread(self._serve, identifier="ops-endpoint")

    def _serve(self):
        eventlet.wsgi.server(self.sock, self.app, log_output=False, max_size=64,
                             socket_timeout=10)

    def stop(self):
        if self._thread is not None:
            self._thread.kill()
            self._thread = None
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    kill = stop

    def heartbeat_fields(self):
        """What the heartbeat file records of this endpoint (where tests and the launcher find it)."""
        return {"ops_port": self.ops_port} if self.ops_port else {}

    # -- measuring entrypoints ------------------------------------------------------
    def worker_setup(self, worker_ctx):
        self._started[worker_ctx] = time.perf_counter()

    def worker_result(self, worker_ctx, result=None, exc_info=None):
        started = self._started.pop(worker_ctx, None)
        if started is not None:
            self.durations.labels(self.service, worker_ctx.entrypoint.method_name).observe(
                time.perf_counter() - started)

    def worker_teardown(self, worker_ctx):
        self._started.pop(worker_ctx, None)

    # -- probes -------------------------------------------------------------------------
    def engine(self):
        """The engine of this container's Database dependency (None without one)."""
        for ext in self.container.extensions:
            if isinstance(ext, Database):
                return ext.engine
        return None

    def heartbeat_age(self):
        for ext in self.container.extensions:
            last = getattr(ext, "last_beat", None)
            if last is not None:
                return time.monotonic() - last
        return None

    def liveness(self):
        age = self.heartbeat_age()
        if age is None:
            return "no heartbeat yet"
        if age > self.max_age:
            return f"heartbeat {age:.0f} s old (more than {self.max_age:g} s)"
        return None

    def readiness(self):
        if not self.watches:
            return "no AMQP consumer in this process"
        for watch in self.watches:
            problem = watch.problem()
            if problem:
                return problem
        return self._database()

    def _database(self):
        with self._db_lock:
            if self._db_answer is not None and time.monotonic() < self._db_answer[0]:
                return self._db_answer[1]
        problem = self._ask_database()
        with self._db_lock:
            self._db_answer = (time.monotonic() + DB_CACHE_SECONDS, problem)
        return problem

    def _ask_database(self):
        engine = self.engine()
        if engine is None:
            return None  # a process without a database answers for its consumer only
        try:
            with eventlet.Timeout(DB_TIMEOUT):
                with engine.connect() as conn:
                    conn.execute(text("SELECT 1"))
            return None
        except eventlet.Timeout:
            return f"the database did not answer within {DB_TIMEOUT:g} s"
        except Exception as exc:
            return f"the database is unavailable: {type(exc).__name__}"

    # -- HTTP ----------------------------------------------------------------------------
    def app(self, environ, start_response):
        method, path = environ.get("REQUEST_METHOD"), environ.get("PATH_INFO", "")
        if method not in ("GET", "HEAD"):
            return self._json(start_response, "405 Method Not Allowed", {"error": "GET only"})
        if path == "/livez":
            problem = self.liveness()
            return self._probe(start_response, problem, "alive")
        if path == "/readyz":
            return self._probe(start_response, self.readiness(), "ready")
        if path == "/metrics":
            body = generate_latest(self.registry)
            start_response("200 OK", [("Content-Type", CONTENT_TYPE_LATEST),
                                      ("Content-Length", str(len(body)))])
            return [body]
        return self._json(start_response, "404 Not Found", {"error": "not found"})

    def _probe(self, start_response, problem, good):
        if problem is None:
            return self._json(start_response, "200 OK", {"status": good, "service": self.service})
        return self._json(start_response, "503 Service Unavailable",
                          {"status": f"not_{good}", "service": self.service, "reason": problem})

    @staticmethod
    def _json(start_response, status, body):
        data = json.dumps(body).encode()
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
        return [data]

