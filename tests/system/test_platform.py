"""Health, readiness, OpenAPI, size limits, error shapes and the headers of every answer."""
import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from openapi_spec_validator import validate
from prometheus_client.parser import text_string_to_metric_families

from services.common.heartbeat import age
from tests.client import PASSWORD, Client
from tests.services.test_ops_endpoint import promtool_check
from tests.system.enrollment_helpers import new_round
from tests.system.portal_support import run_scenario


def test_healthz_and_readyz(api, system):
    assert api.get("/healthz").json() == {"status": "ok"}
    r = api.get("/readyz", headers=system.ops_headers())
    assert r.status_code == 200, r.text
    # the gateway's own readiness: this process and the broker, no service
    assert r.json() == {"status": "ready", "checks": {"broker": {"ok": True}}}
    body = api.get("/readyz", params={"verbose": "1"}, headers=system.ops_headers()).json()
    assert body["status"] == "ready" and body["system"] == "ready"
    for service in ("registry", "rounds", "enrollment", "confirmation", "reporting"):
        assert body["services"][service]["ok"] is True, service
        assert body["services"][service]["database"] == "ok"


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
    assert "/static/app.js" in assets and "/static/portal.css" in assets
    for asset in assets:
        got = api.get(api.base_url + asset)
        assert got.status_code == 200 and got.content, asset


def test_metrics_count_requests_and_report_every_service(api, admin, system):
    before = api.get("/metrics", headers=system.ops_headers())
    assert before.status_code == 200
    for _ in range(3):
        admin.get("/me")
    text = api.get("/metrics", headers=system.ops_headers()).text
    assert 'lec_http_requests_total{method="GET",route="/api/v1/me",status="200"}' in text
    count = [line for line in text.splitlines()
             if line.startswith('lec_http_requests_total{method="GET",route="/api/v1/me",status="200"}')]
    assert float(count[0].split()[-1]) >= 3
    for service in ("registry", "rounds", "enrollment", "confirmation", "reporting"):
        assert f'lec_service_up{{service="{service}"}} 1.0' in text
        assert f'lec_outbox_pending{{service="{service}"}}' in text
    # one family each (no per-worker copies), and nothing promtool objects to
    assert text.count("# HELP lec_service_up ") == 1 and text.count("# TYPE lec_service_up ") == 1
    assert "pid=" not in text
    promtool_check(text)


def ops_url(system, service):
    """The operations endpoint of the test system's ``service`` process (the launcher gives each
    a free port, recorded in its heartbeat file)."""
    path = system.heartbeat_file(service)
    port = json.loads(path.read_text()).get("ops_port") if path and path.exists() else None
    assert port, f"no ops_port in {path}"
    return f"http://127.0.0.1:{port}"


def test_every_service_process_answers_its_own_probes(system, admin):
    for service in ("registry", "rounds", "enrollment", "confirmation", "reporting"):
        url = ops_url(system, service)
        assert requests.get(url + "/livez", timeout=10).json() == {"status": "alive", "service": service}
        ready = requests.get(url + "/readyz", timeout=10)
        assert ready.status_code == 200 and ready.json() == {"status": "ready", "service": service}
    admin.get("/me")  # an RPC to the registry
    text = requests.get(ops_url(system, "registry") + "/metrics", timeout=10).text
    families = {f.name: f for f in text_string_to_metric_families(text)}
    for name in ("lec_rpc_duration_seconds", "lec_workers_busy", "lec_workers_max", "lec_outbox_backlog",
                 "lec_outbox_oldest_age_seconds", "lec_failed_events", "lec_db_pool_checked_out",
                 "lec_db_pool_size"):
        assert name in families, name
        assert {s.labels["service"] for s in families[name].samples} == {"registry"}, name
    methods = {s.labels["method"] for s in families["lec_rpc_duration_seconds"].samples}
    assert methods, text[:2000]
    promtool_check(text)


def test_a_service_down_leaves_the_gateway_ready_and_only_its_routes_unavailable(api, system, admin):
    """Enrollment stopped: the gateway stays in the load balancer (its /readyz is 200), the
    learners' routes answer 503 ``service_unavailable``, the registry's go on, and the
    operators see which service is missing in ``/readyz?verbose``."""
    assert admin.get("/learners/999999999").status_code == 404
    system.stop_process("enrollment")
    try:
        r = api.get("/readyz", headers=system.ops_headers())
        assert r.status_code == 200 and r.json()["status"] == "ready", r.text
        resp = admin.get("/learners/999999999")
        assert resp.status_code == 503, resp.text
        assert resp.json()["code"] == "service_unavailable"
        assert admin.get("/me").status_code == 200  # a registry route
        verbose = api.get("/readyz", params={"verbose": "1"}, headers=system.ops_headers())
        assert verbose.status_code == 200
        body = verbose.json()
        assert body["system"] == "degraded" and body["services"]["enrollment"]["ok"] is False
        assert body["services"]["registry"]["ok"] is True
        metrics = api.get("/metrics", headers=system.ops_headers()).text
        assert 'lec_service_up{service="enrollment"} 0.0' in metrics
    finally:
        system.start_service("enrollment")
    system.wait_ready(timeout=90)
    assert admin.get("/learners/999999999").status_code == 404


def test_requests_the_http_server_refuses_get_json_errors_too(api):
    """Over gunicorn's limits, before the application reads the request: still the API's shape."""
    resp = api.get("/rounds", params={"q": "x" * 6000})
    assert resp.status_code == 414
    assert resp.headers["Content-Type"] == "application/json"
    assert resp.json()["code"] == "uri_too_long"
    resp = api.get("/rounds", headers={f"X-Filler-{i}": "y" for i in range(120)})
    assert resp.status_code == 431 and resp.json()["code"] == "header_too_large"


# -- the headers of every answer -------------------------------------------------------------

def raw_answer(system, request_line, headers=()):
    """An answer as the server wrote it (status line and headers), for requests no
    HTTP client library sends."""
    with socket.create_connection((system.host, system.port), timeout=30) as sock:
        sock.sendall((request_line + "\r\n" + "".join(f"{h}\r\n" for h in headers)
                      + "Connection: close\r\n\r\n").encode("latin-1"))
        raw = b""
        while chunk := sock.recv(65536):
            raw += chunk
    head = raw.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    return head[0], {line.split(":", 1)[0].lower(): line.split(":", 1)[1].strip() for line in head[1:]}


def assert_protected(headers, what):
    headers = {k.lower(): v for k, v in headers.items()}
    csp = headers.get("content-security-policy", "")
    directives = dict((d.strip().split(" ", 1) + [""])[:2] for d in csp.split(";") if d.strip())
    assert directives.get("default-src") == "'self'", (what, csp)
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp, (what, csp)
    assert directives.get("frame-ancestors") == "'none'" and directives.get("object-src") == "'none'", what
    assert headers.get("x-frame-options") == "DENY", what
    assert headers.get("x-content-type-options") == "nosniff", what
    assert headers.get("referrer-policy") == "no-referrer", what
    assert "server" not in headers, (what, headers.get("server"))


def test_every_kind_of_answer_carries_the_security_headers(api, admin, system):
    answers = {
        "portal page": api.get("/"),
        "static file": api.get(api.base_url + "/static/app.js"),
        "health": api.get("/healthz"),
        "openapi": api.get("/api/v1/openapi.json"),
        "api 200": admin.get("/me"),
        "api 401": api.get("/me"),
        "api 404": admin.get("/no-such-thing"),
        "api 405": admin.delete("/me"),
        "api 422": admin.post("/org-units", json=[1]),
        "unknown path": api.get(api.base_url + "/nothing-here"),
    }
    for what, response in answers.items():
        assert_protected(response.headers, what)
    # what gunicorn answers itself, before the application: a request line over its limit
    status, headers = raw_answer(system, f"GET /api/v1/rounds?q={'x' * 6000} HTTP/1.1",
                                 [f"Host: {system.host}"])
    assert " 414 " in status
    assert_protected(headers, "gunicorn's own answer")
    assert headers["cache-control"] == "no-store"


def test_api_answers_are_never_cached_but_the_portal_and_openapi_may_be(api, admin, tree):
    for response in (admin.get("/me"), api.get("/me"), admin.get("/no-such-thing"),
                     tree["lao_a"].get("/users", params={"org_unit_id": tree.id("lao_a")}),
                     admin.delete("/me")):
        assert response.headers["Cache-Control"] == "no-store", response.request.url
    for response in (api.get("/api/v1/openapi.json"), api.get("/"),
                     api.get(api.base_url + "/static/app.js")):
        assert "no-store" not in response.headers.get("Cache-Control", ""), response.request.url


def test_method_not_allowed_names_the_methods_that_are(admin, tree):
    cases = [("DELETE", "/me", "GET, OPTIONS"), ("PUT", "/rounds", "GET, POST, OPTIONS"),
             ("POST", f"/org-units/{tree.id('school_a')}", "GET, PATCH, OPTIONS"),
             ("PATCH", "/users", "GET, POST, OPTIONS")]
    for method, path, allowed in cases:
        r = admin.request(method, path)
        assert r.status_code == 405, (method, path, r.status_code)
        assert r.json()["code"] == "method_not_allowed"
        assert r.headers.get("Allow") == allowed, (method, path)
        assert admin.request("OPTIONS", path).headers.get("Allow") == allowed, path


@pytest.mark.timeout(600)
def test_the_portal_runs_under_its_content_security_policy(system, admin, tree):
    """Every script of the portal runs and the printable report keeps its styles and
    its print button, with nothing refused by the policy."""
    new_round(admin)  # an open round: the reports page and its printable reports
    seen = run_scenario(system, "scenario_csp", username=tree["lao_a"].user["username"], password=PASSWORD)
    assert seen["violations"] == [] and seen["console"] == [] and seen["errors"] == [], seen
    assert "overview" in seen["pages"] and "reports" in seen["pages"], seen
    assert seen["report_table_style"] == "collapse", seen
    assert seen["report_printed"] is True, seen


# -- the operators' routes --------------------------------------------------------------------

OPS_TOKEN = "ops-token-for-the-tests-0123456789abcdef"


def test_readiness_and_metrics_answer_only_the_operator_token(system, lec_env, admin):
    """A gateway with LEC_OPS_TOKEN: /readyz and /metrics refuse anyone else, /healthz
    stays open, and the launcher (as the probes) waits on /readyz with the token."""
    from deploy.launcher import System
    from tests.conftest import TEST_ID, _free_port

    guarded = System(env=dict(lec_env, LEC_OPS_TOKEN=OPS_TOKEN), port=_free_port(),
                     log_dir=system.log_dir / f"ops-token-{TEST_ID}")
    guarded.start_gateway()
    try:
        assert guarded.wait_ready(timeout=90)["status"] == "ready"
        url = guarded.url
        assert requests.get(url + "/healthz", timeout=30).status_code == 200
        for path in ("/readyz", "/metrics"):
            for headers in ({}, {"Authorization": "Bearer not-the-token"},
                            {"Authorization": f"Bearer {admin.token}"}, {"Authorization": OPS_TOKEN}):
                r = requests.get(url + path, headers=headers, timeout=30)
                assert r.status_code == 401, (path, headers, r.status_code)
                assert r.json()["code"] == "unauthorized"
                assert "checks" not in r.text and "lec_http_requests_total" not in r.text
            r = requests.get(url + path, headers=guarded.ops_headers(), timeout=30)
            assert r.status_code == 200, (path, r.text)
        assert "lec_service_up" in requests.get(url + "/metrics", headers=guarded.ops_headers(),
                                                timeout=30).text
        # the containers' readiness probe (deploy/k8s, docker-compose.yml) sends the token
        env = {k: v for k, v in os.environ.items() if k != "LEC_OPS_TOKEN"}
        env["PORT"] = str(guarded.port)
        probe = [sys.executable, "-m", "gateway.probe"]
        root = Path(__file__).resolve().parents[2]
        assert subprocess.run(probe, cwd=root, env=dict(env, LEC_OPS_TOKEN=OPS_TOKEN), timeout=60).returncode == 0
        assert subprocess.run(probe, cwd=root, env=env, capture_output=True, timeout=60).returncode == 1
    finally:
        guarded.stop()
