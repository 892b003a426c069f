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


def test_readiness_is_the_gateway_and_the_broker_only(gw, rpc):
    """No service is asked: a service that is down must not take the gateway out."""
    healthy(rpc, enrollment=LecError("service_unavailable", "enrollment is not running"))
    r = gw.get("/readyz")
    assert r.status_code == 200, r.text
    assert r.json == {"status": "ready", "checks": {"broker": {"ok": True}}}
    assert [c for c in rpc.calls if c.method == "health"] == []


def test_verbose_readiness_shows_every_service_without_changing_the_answer(gw, rpc):
    healthy(rpc, enrollment=LecError("service_unavailable", "enrollment is not running"))
    r = gw.get("/readyz", params={"verbose": "1"})
    assert r.status_code == 200 and r.json["status"] == "ready"
    assert r.json["system"] == "degraded" and set(r.json["services"]) == set(settings.SERVICES)
    assert r.json["services"]["enrollment"] == {"ok": False, "error": "enrollment is not running"}
    assert r.json["services"]["registry"] == {"ok": True}
    asked = [c for c in rpc.calls if c.method == "health"]
    assert sorted(c.service for c in asked) == sorted(settings.SERVICES)
    assert all(c.actor == GATEWAY and c.timeout == 3 for c in asked)


def test_all_services_up_make_the_system_ready(gw, rpc):
    healthy(rpc)
    r = gw.get("/readyz", params={"verbose": "1"})
    assert r.status_code == 200 and r.json["system"] == "ready"


def test_a_broker_out_of_reach_makes_the_gateway_not_ready(make_gateway, rpc):
    healthy(rpc)
    gw = make_gateway(amqp_uri="pyamqp://guest:guest@127.0.0.1:1//")  # nothing listens there
    r = gw.get("/readyz")
    assert r.status_code == 503 and r.json["status"] == "not_ready"
    assert r.json["checks"]["broker"]["ok"] is False and r.json["checks"]["broker"]["error"]


def test_metrics_describe_each_family_once(gw, rpc):
    """One lec_service_up family (collected at scrape time, not a per-process gauge)."""
    healthy(rpc, enrollment=LecError("service_unavailable", "enrollment is not running"))
    gw.get("/healthz")
    text = gw.get("/metrics").text
    helps = [line.split()[2] for line in text.splitlines() if line.startswith("# HELP ")]
    assert len(helps) == len(set(helps)), sorted(h for h in helps if helps.count(h) > 1)
    assert 'lec_service_up{service="enrollment"} 0.0' in text
    assert 'lec_service_up{service="registry"} 1.0' in text
    assert text.count("# HELP lec_service_up ") == 1


def test_with_an_operator_token_set_readiness_needs_it(make_gateway, rpc):
    healthy(rpc)
    gw = make_gateway(ops_token=OPS_TOKEN)
    error(gw.get("/readyz"), 401, "unauthorized")
    error(gw.get("/readyz", headers={"Authorization": "Bearer wrong"}), 401, "unauthorized")
    error(gw.get("/readyz", "department"), 401, "unauthorized")  # a user's token is not the operators'
    assert gw.get("/readyz", headers={"Authorization": f"Bearer {OPS_TOKEN}"}).status_code == 200
