"""The gateway: ``create_app(config)`` builds the Falcon app; gunicorn loads
``gateway.wsgi:app``."""
import importlib
import logging
import os

import falcon

from gateway import errors
from gateway.access import AccessMiddleware, Public, RegistryEvents, check_policies
from gateway.config import GatewayConfig
from gateway.context import AppContext
from gateway.metrics import Metrics, MetricsMiddleware
from gateway.middleware import ActorLogs, BodyLimit, InputRules, RequestId, Telemetry, install_media
from gateway.openapi import build_spec
from gateway.resources.health import Healthz, OpenApi, Readyz, ServiceHealth, check_ops_token
from gateway.security import SecurityHeaders
from services.common import settings

log = logging.getLogger(__name__)

PREFIX = "/api/v1"
STATIC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static")

# each module has ROUTES = [(path under /api/v1, resource class taking ctx)]
RESOURCE_MODULES = [
    "gateway.resources.platform",
    "gateway.resources.profiles",
    "gateway.resources.enrollment",
    "gateway.resources.newyear",
    "gateway.resources.staff",
    "gateway.resources.transfers",
    "gateway.resources.confirmation",
    "gateway.resources.agencies",
    "gateway.resources.reporting",
    "gateway.resources.notices",
]


class Portal:
    """The portal page (a single page using this API)."""
    policies = {"GET": Public()}

    def __init__(self, ctx):
        self.ctx = ctx

    def on_get(self, req, resp):
        resp.content_type = falcon.MEDIA_HTML
        with open(os.path.join(STATIC, "index.html"), "rb") as fh:
            resp.data = fh.read()


def api_routes(ctx):
    routes = []
    for name in RESOURCE_MODULES:
        module = importlib.import_module(name)
        for path, resource_cls in module.ROUTES:
            routes.append((PREFIX + path, resource_cls(ctx)))
    return routes


def create_app(config=None, ctx=None):
    settings.check_production("the gateway")  # refuses unsafe settings in production
    config = config or GatewayConfig()
    check_ops_token(config)
    ctx = ctx or AppContext(config)
    app = falcon.App(middleware=[SecurityHeaders(), RequestId(), Telemetry(), MetricsMiddleware(), InputRules(),
                                 BodyLimit(config.max_body), AccessMiddleware(ctx), ActorLogs()])
    app.req_options.strip_url_path_trailing_slash = True
    # JSON in and out (Thai text as UTF-8, not as \u escapes), under the input rules
    install_media(app)
    errors.install(app)

    routes = api_routes(ctx)
    health = ServiceHealth(ctx, config.ready_cache_ttl)  # shared by /readyz and /metrics
    routes += [("/healthz", Healthz(ctx)), ("/readyz", Readyz(ctx, health)), ("/metrics", Metrics(ctx, health)),
               ("/", Portal(ctx))]
    routes.append((PREFIX + "/openapi.json", OpenApi(ctx, build_spec(routes, PREFIX))))
    check_policies(routes)
    for uri, resource in routes:
        app.add_route(uri, resource)
    app.add_static_route("/static", STATIC)
    if config.listen_events:
        RegistryEvents(ctx.units, ctx.tokens).listen(config.amqp_uri)
    return app
