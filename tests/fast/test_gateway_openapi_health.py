"""The OpenAPI document, the portal page, liveness and the operators' routes."""
import re

import pytest
from openapi_spec_validator import validate

from gateway.app import api_routes
from gateway.access import GATEWAY, responder_methods
from services.common import settings
from services.common.errors import LecError
from tests.fast.conftest import Gateway, error, gateway_config
from tests.fast.fakes import FakeRpc, World

OPS_TOKEN = "an-operator-token-of-at-least-32-characters"


@pytest.fixture(scope="module")
def document():
    """The document as create_app builds it (once for this module: the build is slow)."""
    rpc = FakeRpc()
    gw = Gateway(gateway_config(), rpc, World(rpc))
    r = gw.get("/openapi.json")
    assert r.status_code == 200
    return gw, r


def test_the_openapi_document_is_valid_and_cacheable(document):
    gw, r = document
    validate(r.json)
    assert r.json["openapi"].startswith("3.")
    assert r.headers.get("cache-control") != "no-store"
    assert gw.rpc.calls == []


def test_the_openapi_document_describes_every_operation_with_its_errors(document):
    gw, r = document
    paths = r.json["paths"]
    for uri, resource in api_routes(gw.ctx):
        if uri.endswith("/openapi.json"):
            continue
        template = re.sub(r"\{([a-z_]+):int\}", r"{\1}", uri[len("/api/v1"):])
        assert template in paths, template
        for method in responder_methods(resource):
            operation = paths[template][method.lower()]
            assert operation.get("summary"), (method, template)
            codes = set(operation["responses"])
            if template != "/auth/token":
                assert "401" in codes, (method, template)


def test_the_portal_page_and_its_files_are_served(gw):
    r = gw.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert r.headers["x-frame-options"] == "DENY"
    assert gw.get("/static/app.js").status_code == 200


def test_liveness_asks_nobody(gw):
    assert gw.get("/healthz").json == {"status": "ok"}
    assert gw.rpc.calls == []


def healthy(rpc, **broken):
    for service in settings.SERVICES:
        rpc.answer(service, "health", broken.get(service) or {"ok": True})


def test_readiness_asks_every_service_and_answers_ready(gw, rpc):
    healthy(rpc)
    r = gw.get("/readyz")
    assert r.status_code == 200, r.text
    assert r.json["status"] == "ready" and set(r.json["checks"]) == {"broker", *settings.SERVICES}
    asked = [c for c in rpc.calls if c.method == "health"]
    assert sorted(c.service for c in asked) == sorted(settings.SERVICES)
    assert all(c.actor == GATEWAY and c.timeout == 3 for c in asked)


def test_a_service_away_makes_the_gateway_not_ready(gw, rpc):
    healthy(rpc, enrollment=LecError("service_unavailable", "enrollment is not running"))
    r = gw.get("/readyz")
    assert r.status_code == 503 and r.json["status"] == "not_ready"
    assert r.json["checks"]["enrollment"] == {"ok": False, "error": "enrollment is not running"}


def test_with_an_operator_token_set_readiness_needs_it(make_gateway, rpc):
    healthy(rpc)
    gw = make_gateway(ops_token=OPS_TOKEN)
    error(gw.get("/readyz"), 401, "unauthorized")
    error(gw.get("/readyz", headers={"Authorization": "Bearer wrong"}), 401, "unauthorized")
    error(gw.get("/readyz", "department"), 401, "unauthorized")  # a user's token is not the operators'
    assert gw.get("/readyz", headers={"Authorization": f"Bearer {OPS_TOKEN}"}).status_code == 200
