"""The gateway built by ``create_app(config, ctx)`` over a fake RPC client
(tests/fast/fakes.py) and driven through ``falcon.testing``: no broker, no
database, no process. Every test gets a fresh app, so that no cache (units,
account states, learner paths) carries over from another test."""
import falcon.testing
import pytest

from gateway import app as gateway_app
from gateway.app import PREFIX, create_app
from gateway.config import GatewayConfig
from gateway.context import AppContext
from services.common import settings
from tests.fast import guard
from tests.fast.fakes import KEYS, TOKEN_TTL, FakeRpc, World

# autouse: no test here reaches the broker or the database
no_broker_or_database = guard.no_broker_or_database


def gateway_config(**overrides):
    values = dict(amqp_uri="memory://", rpc_timeout=5.0, keys=KEYS, token_ttl=TOKEN_TTL,
                  trusted_proxies=0, max_body=64 * 1024, max_upload=8 * 1024 * 1024,
                  unit_cache_ttl=300.0, unit_cache_size=1000, token_state_ttl=60.0, ops_token="",
                  ready_cache_ttl=0.0, listen_events=False)
    values.update(overrides)
    return GatewayConfig(**values)


class Gateway:
    """One app over one fake RPC client, and the accounts of the fake world."""

    def __init__(self, config, rpc, world):
        self.config = config
        self.rpc = rpc
        self.world = world
        self.ctx = AppContext(config, rpc=rpc)
        self.app = create_app(config, self.ctx)
        self.client = falcon.testing.TestClient(self.app)

    def request(self, method, path, who=None, headers=None, **kwargs):
        """``path`` under /api/v1 (or absolute when it does not start with one of its routes);
        ``who``: an account key of :data:`tests.fast.fakes.ACCOUNTS`, or ``agency``."""
        headers = dict(headers or {})
        if who is not None:
            headers.update(self.world.headers(who))
        url = path if path.startswith(("/api/", "/healthz", "/readyz", "/metrics", "/static")) or path == "/" \
            else PREFIX + path
        return self.client.simulate_request(method, url, headers=headers, **kwargs)

    def get(self, path, who=None, **kwargs):
        return self.request("GET", path, who, **kwargs)

    def post(self, path, who=None, **kwargs):
        return self.request("POST", path, who, **kwargs)


@pytest.fixture
def env(monkeypatch):
    """Set environment variables for this test and read the settings again."""
    def set_env(**values):
        for name, value in values.items():
            monkeypatch.setenv(name, str(value))
        if hasattr(settings, "reload"):
            settings.reload()
    yield set_env
    monkeypatch.undo()
    if hasattr(settings, "reload"):
        settings.reload()


@pytest.fixture
def rpc():
    return FakeRpc()


@pytest.fixture
def world(rpc):
    return World(rpc)


_real_build_spec = gateway_app.build_spec
_specs = {}


def built_once(routes, prefix):
    """The OpenAPI document of the shipped routes, built by the first app of the
    run (it is most of the time create_app takes; the same routes give the same
    document). test_gateway_openapi_health.py builds its own."""
    if prefix not in _specs:
        _specs[prefix] = _real_build_spec(routes, prefix)
    return _specs[prefix]


@pytest.fixture
def make_gateway(rpc, world, monkeypatch):
    def make(**config):
        monkeypatch.setattr(gateway_app, "build_spec", built_once)
        return Gateway(gateway_config(**config), rpc, world)
    return make


@pytest.fixture
def gw(make_gateway):
    return make_gateway()


def error(resp, status, code):
    """The error answer of the API: its status, JSON ``{code, title, description}``."""
    assert resp.status_code == status, (resp.status_code, resp.text[:500])
    assert resp.headers["content-type"].startswith("application/json"), resp.headers
    body = resp.json
    assert body["code"] == code, body
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["description"], str)
    return body

