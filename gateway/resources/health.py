"""Liveness, readiness and the OpenAPI document."""
import falcon
from kombu import Connection

from gateway.access import Public
from services.common import settings
from services.common.errors import LecError


class Healthz:
    """The gateway process is up."""
    policies = {"GET": Public()}

    def __init__(self, ctx):
        self.ctx = ctx

    def on_get(self, req, resp):
        resp.media = {"status": "ok"}


class Readyz:
    """The broker, every service and its database answer."""
    policies = {"GET": Public()}

    def __init__(self, ctx):
        self.ctx = ctx

    def on_get(self, req, resp):
        checks, ready = {}, True
        try:
            with Connection(self.ctx.config.amqp_uri, connect_timeout=3) as conn:
                conn.ensure_connection(max_retries=1)
            checks["broker"] = {"ok": True}
        except Exception as exc:
            checks["broker"] = {"ok": False, "error": str(exc)}
            ready = False
        for service in settings.SERVICES:
            if not checks["broker"]["ok"]:
                checks[service] = {"ok": False, "error": "broker unavailable"}
                continue
            try:
                checks[service] = self.ctx.rpc.call(service, "health", timeout=3)
            except LecError as exc:
                checks[service] = {"ok": False, "error": exc.description}
                ready = False
        resp.media = {"status": "ready" if ready else "not_ready", "checks": checks}
        resp.status = falcon.HTTP_200 if ready else falcon.HTTP_503


class OpenApi:
    policies = {"GET": Public()}

    def __init__(self, ctx, spec):
        self.ctx = ctx
        self.spec = spec

    def on_get(self, req, resp):
        resp.media = self.spec
