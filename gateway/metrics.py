"""Prometheus metrics of the gateway, and of every service through its health RPC.

Request counters and latencies are kept per gunicorn worker in multiprocess
mode (``PROMETHEUS_MULTIPROC_DIR``, set up by gunicorn_conf.py); a scrape of
``/metrics`` also reports each service's outbox backlog and failed events from
the health check that ``/readyz`` shares (at most one every
``LEC_READY_CACHE_SECONDS``). Operators only (see gateway/resources/health.py).
"""
import time

import falcon
from prometheus_client import (
    CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest,
)
from prometheus_client import multiprocess

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


class Metrics:
    """Prometheus text format: gateway requests and each service's health."""
    policies = {"GET": OperatorOnly()}

    def __init__(self, ctx, health):
        self.ctx = ctx
        self.health = health

    def on_get(self, req, resp):
        if settings.current().prometheus_multiproc_dir:
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
        else:
            from prometheus_client import REGISTRY as registry
        services = CollectorRegistry()
        up = Gauge("lec_service_up", "1 when the service and its database answer", ["service"],
                   registry=services)
        backlog = Gauge("lec_outbox_pending", "Events committed but not yet published", ["service"],
                        registry=services)
        failed = Gauge("lec_failed_events", "Consumed events waiting for a retry", ["service"],
                       registry=services)
        checks = self.health.current()["checks"]
        for service in settings.SERVICES:
            check = checks.get(service) or {}
            up.labels(service).set(1 if check.get("ok") else 0)
            if check.get("ok"):
                backlog.labels(service).set(check.get("outbox_pending", 0))
                failed.labels(service).set(check.get("failed_events", 0))
        resp.content_type = CONTENT_TYPE_LATEST
        resp.data = generate_latest(registry) + generate_latest(services)
        resp.status = falcon.HTTP_200
