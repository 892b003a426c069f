"""Health, readiness, OpenAPI, size limits and error shapes."""
import json
import re

from openapi_spec_validator import validate

from services.common.heartbeat import age
from tests.client import Client


def test_healthz_and_readyz(api):
    assert api.get("/healthz").json() == {"status": "ok"}
    r = api.get("/readyz")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "ready"
    assert body["checks"]["broker"]["ok"] is True
    for service in ("registry", "rounds", "enrollment", "confirmation", "reporting"):
        assert body["checks"][service]["ok"] is True, service
        assert body["checks"][service]["database"] == "ok"


def test_every_service_process_keeps_its_heartbeat(system):
    for name in ("registry", "rounds", "enrollment", "confirmation", "reporting"):
        path = system.heartbeat_file(name)
        assert age(path) < 15, name
        assert json.loads(path.read_text())["pid"] == system.procs[name].pid, name
    assert system.hung(max_age=15) == {}


def test_openapi_document_is_valid_and_lists_the_contract(api):
    r = api.get("/api/v1/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    validate(doc)
    paths = doc["paths"]
    for path, method in [("/auth/token", "post"), ("/me", "get"), ("/org-units", "post"),
                         ("/org-units/{id}", "get"), ("/org-units/{id}/children", "get"),
                         ("/org-units/{id}/verify", "post"), ("/org-units/{id}/close", "post"),
                         ("/users", "post"), ("/users", "get"), ("/rounds", "post"), ("/rounds", "get"),
                         ("/rounds/{id}", "get"), ("/rounds/{id}", "patch"),
                         ("/rounds/{id}/extensions", "post")]:
        assert method in paths.get(path, {}), (path, method)
    assert "security" not in paths["/auth/token"]["post"]
    assert paths["/me"]["get"]["security"] == [{"bearer": []}]
    assert "Error" in doc["components"]["schemas"]


def test_unknown_route_is_json_404(api, admin):
    r = admin.get("/no-such-thing")
    assert r.status_code == 404
    assert r.json()["code"] == "not_found"


def test_body_over_the_limit_is_413(api, admin):
    # the gateway answers before reading the body and drops the connection: a client of
    # its own, so that the shared session does not reuse a dropped connection
    once = Client(admin.base_url, admin.token, admin.user)
    r = once.post("/org-units", data=b"{" + b" " * (2 * 1024 * 1024) + b"}",
                  headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    assert r.json()["code"] == "payload_too_large"


def test_json_that_is_not_an_object_is_a_validation_error(admin):
    r = admin.post("/org-units", json=[1, 2, 3])
    assert r.status_code == 422
    assert r.json()["code"] == "validation_error"


def test_portal_page_is_served(api):
    r = api.get("/")
    assert r.status_code == 200
    assert "text/html" in r.headers["Content-Type"]
    assert "LEC" in r.text
    # every script and style sheet the page names is there
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', r.text)
    assert "/static/accounts.js" in assets and "/static/portal.js" in assets
    for asset in assets:
        got = api.get(api.base_url + asset)
        assert got.status_code == 200 and got.content, asset


def test_metrics_count_requests_and_report_every_service(api, admin):
    before = api.get("/metrics")
    assert before.status_code == 200
    for _ in range(3):
        admin.get("/me")
    text = api.get("/metrics").text
    assert 'lec_http_requests_total{method="GET",route="/api/v1/me",status="200"}' in text
    count = [line for line in text.splitlines()
             if line.startswith('lec_http_requests_total{method="GET",route="/api/v1/me",status="200"}')]
    assert float(count[0].split()[-1]) >= 3
    for service in ("registry", "rounds", "enrollment", "confirmation", "reporting"):
        assert f'lec_service_up{{service="{service}"}} 1.0' in text
        assert f'lec_outbox_pending{{service="{service}"}}' in text


def test_requests_the_http_server_refuses_get_json_errors_too(api):
    """Over gunicorn's limits, before the application reads the request: still the API's shape."""
    resp = api.get("/rounds", params={"q": "x" * 6000})
    assert resp.status_code == 414
    assert resp.headers["Content-Type"] == "application/json"
    assert resp.json()["code"] == "uri_too_long"
    resp = api.get("/rounds", headers={f"X-Filler-{i}": "y" for i in range(120)})
    assert resp.status_code == 431 and resp.json()["code"] == "header_too_large"
