"""Prometheus metrics of the gateway, and whether every service answers.

Request counters and latencies are kept per gunicorn worker in multiprocess
mode (``PROMETHEUS_MULTIPROC_DIR``, set up by gunicorn_conf.py, whose
``child_exit`` drops a dead worker's files); a scrape of ``/metrics`` also
reports each service's health and outbox backlog from the health check that
``/readyz?verbose`` shares (at most one every ``LEC_READY_CACHE_SECONDS``).
Those are collected at scrape time (:class:`ServiceHealthCollector`), never
through a multiprocess ``Gauge``: such a gauge leaves a file per worker, so
every scrape would repeat the family with one series per pid, dead workers'
included. A service's own figures (failed events, workers, database pool,
RPC durations) are on its process's ``/metrics`` (services.common.ops).
Operators only (see gateway/resources/health.py).
"""
import time

import falcon
from prometheus_client import (
    CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest,
)
from prometheus_client import multiprocess
from prometheus_client.core import GaugeMetricFamily

from gateway.resources.health import OperatorOnly
from services.common import settings

REQUESTS = Counter("lec_http_requests_total", "HTTP requests answered by the gateway",
                   ["method", "route", "status"])
LATENCY = Histogram("lec_http_request_duration_seconds", "Time to answer an HTTP request",
                    ["method", "route"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120))


class MetricsMiddleware:
    def process_request(self, req, resp):
        req.context.started = time.perf_counter()

    def process_response(self, req, resp, resource, req_succeeded):
        started = getattr(req.context, "started", None)
        if started is None:
            return
        route = req.uri_template or "unmatched"
        REQUESTS.labels(req.method, route, resp.status_code if hasattr(resp, "status_code")
                        else str(resp.status)[:3]).inc()
        LATENCY.labels(req.method, route).observe(time.perf_counter() - started)


class ServiceHealthCollector:
    """``lec_service_up`` and ``lec_outbox_pending`` of every service, one family
    each, from the shared health check at scrape time."""

    def __init__(self, health):
        self.health = health

    def collect(self):
        up = GaugeMetricFamily("lec_service_up", "1 when the service and its database answer",
                               labels=["service"])
        backlog = GaugeMetricFamily("lec_outbox_pending", "Events committed but not yet published",
                                    labels=["service"])
        checks = self.health.current()["checks"]
        for service in settings.SERVICES:
            check = checks.get(service) or {}
            up.add_metric([service], 1 if check.get("ok") else 0)
            if check.get("ok"):
                backlog.add_metric([service], check.get("outbox_pending", 0))
        yield up
        yield backlog


class Metrics:
    """Prometheus text format: gateway requests and each service's health."""
    policies = {"GET": OperatorOnly()}

    def __init__(self, ctx, health):
        self.ctx = ctx
        self.health = health

    def on_get(self, req, resp):
        registry = CollectorRegistry()
        if settings.current().prometheus_multiproc_dir:
            multiprocess.MultiProcessCollector(registry)
        else:  # one process: its own request counters
            from prometheus_client import REGISTRY
            registry.register(_Collected(REGISTRY))
        registry.register(ServiceHealthCollector(self.health))
        resp.content_type = CONTENT_TYPE_LATEST
        resp.data = generate_latest(registry)
        resp.status = falcon.HTTP_200


class _Collected:
    """Another registry's families, collected into this one."""

    def __init__(self, registry):
        self.registry = registry

    def collect(self):
        return self.registry.collect()
