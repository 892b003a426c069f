"""Liveness, readiness and the OpenAPI document.

``/healthz`` is open and cheap: the gateway process answers. ``/readyz`` and
``/metrics`` are for operators: with ``LEC_OPS_TOKEN`` set they answer only a
request carrying ``Authorization: Bearer <LEC_OPS_TOKEN>`` (401 otherwise);
production (``LEC_ENV=production``) refuses to start without it, development
leaves them open when it is unset.

``/readyz`` is the readiness of this gateway process: it answers and the broker
accepts a connection (:class:`BrokerCheck`, at most one connection every
``BrokerCheck.TTL`` seconds). It never depends on a service's health: a service
that is down makes its own routes answer 503 ``service_unavailable`` while the
rest of the API goes on, and taking every gateway out of the load balancer for
it would stop them too. ``/readyz?verbose=1`` adds each service's health
(:class:`ServiceHealth`, the ``health`` RPC, asked at most once every
``LEC_READY_CACHE_SECONDS``; ``/metrics`` reads the same) and ``system``:
``ready`` when all of them answer, ``degraded`` otherwise, without changing the
status code.
"""
import hmac
import threading
import time

import falcon
from kombu import Connection

from gateway.access import GATEWAY, Policy, Public
from services.common import settings
from services.common.errors import LecError

MIN_OPS_TOKEN = 32


class OperatorOnly(Policy):
    """Operators' routes: the bearer must be ``LEC_OPS_TOKEN`` when it is set
    (not a user's token: no user reads the health of the services)."""
    public = True

    def authorise(self, req, params, ctx):
        expected = ctx.config.ops_token
        if not expected:
            return
        given = (req.get_header("Authorization") or "").partition(" ")
        if given[0].lower() != "bearer" or not hmac.compare_digest(given[2].strip().encode(),
                                                                   expected.encode()):
            raise LecError("unauthorized", "this route is for operators: send "
                                           "Authorization: Bearer <the operator token>")


def check_ops_token(config):
    """Production needs an operator token of at least 32 characters, not the
    manifests' placeholder (the error names the setting), so that readiness and
    metrics never answer anyone."""
    if not settings.production():
        return
    token = config.ops_token or ""
    if len(token) < MIN_OPS_TOKEN or settings.PLACEHOLDER in token:
        raise settings.SettingsError(
            f"LEC_OPS_TOKEN must be a secret of at least {MIN_OPS_TOKEN} characters of your own in "
            "production (LEC_ENV=production): it guards /readyz and /metrics")


class Healthz:
    """The gateway process is up."""
    policies = {"GET": Public()}

    def __init__(self, ctx):
        self.ctx = ctx

    def on_get(self, req, resp):
        resp.media = {"status": "ok"}


class ServiceHealth:
    """For operators' eyes (``/readyz?verbose``, ``/metrics``), never for readiness:
    the broker's and every service's health (each service's answer to its
    ``health`` RPC: database, outbox backlog, failed events), asked at most once
    every ``ttl`` seconds in this process; a not-ready answer is kept one second
    at most, so that a recovery shows at once. Callers that arrive while a
    check runs wait for its result rather than start their own."""
    NOT_READY_TTL = 1.0

    def __init__(self, ctx, ttl):
        self.ctx = ctx
        self.ttl = ttl
        self._lock = threading.Lock()
        self._checked = None  # (time.monotonic() when it expires, {"ready", "checks"})

    def current(self):
        with self._lock:
            if self._checked is None or time.monotonic() >= self._checked[0]:
                state = self._check()
                ttl = self.ttl if state["ready"] else min(self.ttl, self.NOT_READY_TTL)
                self._checked = (time.monotonic() + ttl, state)
            return self._checked[1]

    def _check(self):
        checks = {"broker": self._broker()}
        for service in settings.SERVICES:
            if not checks["broker"]["ok"]:
                checks[service] = {"ok": False, "error": "broker unavailable"}
                continue
            try:
                checks[service] = self.ctx.rpc.call(service, "health", timeout=3, actor=GATEWAY)
            except LecError as exc:
                checks[service] = {"ok": False, "error": exc.description}
        return {"ready": all(check.get("ok") for check in checks.values()), "checks": checks}

    def _broker(self):
        return broker_check(self.ctx.config.amqp_uri)


def broker_check(amqp_uri):
    """One connection to the broker, opened and closed: ``{"ok": True}`` or the error."""
    try:
        with Connection(amqp_uri, connect_timeout=3) as conn:
            conn.ensure_connection(max_retries=1)
        return {"ok": True}
    except Exception as exc:
        return {"ok": False, "error": str(exc)}


class BrokerCheck:
    """Whether the broker accepts a connection, asked at most once every ``TTL``
    seconds in this process; callers that arrive while a check runs wait for its
    result."""
    TTL = 2.0

    def __init__(self, ctx, check=broker_check):
        self.ctx = ctx
        self._check = check
        self._lock = threading.Lock()
        self._checked = None  # (time.monotonic() when it expires, the answer)

    def current(self):
        with self._lock:
            if self._checked is None or time.monotonic() >= self._checked[0]:
                self._checked = (time.monotonic() + self.TTL, self._check(self.ctx.config.amqp_uri))
            return self._checked[1]


class Readyz:
    """This gateway process and the broker are ready (operators only); with
    ``?verbose`` also every service's health, which does not change the answer."""
    policies = {"GET": OperatorOnly()}

    def __init__(self, ctx, health, broker=None):
        self.ctx = ctx
        self.health = health
        self.broker = broker or BrokerCheck(ctx)

    def on_get(self, req, resp):
        broker = self.broker.current()
        body = {"status": "ready" if broker["ok"] else "not_ready", "checks": {"broker": broker}}
        if req.get_param_as_bool("verbose", blank_as_true=True):
            state = self.health.current()
            services = {name: check for name, check in state["checks"].items() if name != "broker"}
            body["services"] = services
            body["system"] = "ready" if state["ready"] else "degraded"
        resp.media = body
        resp.status = falcon.HTTP_200 if broker["ok"] else falcon.HTTP_503


class OpenApi:
    policies = {"GET": Public()}

    def __init__(self, ctx, spec):
        self.ctx = ctx
        self.spec = spec

    def on_get(self, req, resp):
        resp.media = self.spec
