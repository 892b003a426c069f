"""JSON logs across processes: one API call with a given X-Request-Id leaves, in
the gateway's log and in the log of the service it called, a JSON line with that
request id, the acting user's id and one trace id: the service continued the
gateway's trace, and so does the handler of the event the change emitted (the
outbox carries the trace). The registry, reporting and the gateway run on a
vhost of their own, with ``LEC_LOG_FORMAT=json``."""
import json
import os
import re
import time
import uuid

import pytest

from tests.client import unique
from tests.conftest import ADMIN, ROOT, TEST_ID, _free_port

pytestmark = pytest.mark.system


@pytest.fixture(scope="module")
def json_system(lec_env):
    from deploy import infra
    from deploy.launcher import System
    from tests.client import Client

    from services.common import migrate, settings

    amqp = lec_env["AMQP_URI"]
    env = dict(lec_env, LEC_LOG_FORMAT="json", LEC_ACCESS_LOG="")
    if not os.environ.get("LEC_TEST_AMQP_URI"):
        # a vhost and databases of their own: no other system's registry answers these
        # calls, and no other system's outbox relay (woken by the same database's
        # notifications) publishes these services' events to its own broker
        vhost = f"lec_{TEST_ID}_telemetry"
        infra.ensure_vhost(vhost)
        amqp = f"pyamqp://guest:guest@127.0.0.1:5672/{vhost}"
        env["LEC_DB_PREFIX"] = f"lec_{TEST_ID}_telemetry_"
        base = env["LEC_PG_URL"].rstrip("/")
        for service in ("registry", "reporting"):
            url = settings.normalise_db_url(f"{base}/lec_{TEST_ID}_telemetry_{service}")
            migrate.drop_database(url)
            migrate.migrate(service, url)
    env["AMQP_URI"] = amqp
    system = System(env=env, port=_free_port(), log_dir=ROOT / ".lec" / f"test-logs-{TEST_ID}" / "telemetry")
    for f in system.log_dir.glob("*.log"):
        f.unlink()
    system.start(services=["registry", "reporting"])
    try:
        deadline = time.monotonic() + 120
        while True:
            assert not system.dead(), f"exited: {system.dead()}; logs in {system.log_dir}"
            try:
                admin = Client(system.url).login(*ADMIN)
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)
        yield system, admin
    finally:
        system.stop()


def json_lines(path):
    """Every line of a log, each of which must be one JSON object."""
    found = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        try:
            entry = json.loads(line)
        except ValueError:
            raise AssertionError(f"{path.name}:{number} is not JSON: {line[:200]!r}") from None
        assert isinstance(entry, dict), line
        found.append(entry)
    return found


def wait_for(path, predicate, timeout=15):
    deadline = time.monotonic() + timeout
    while True:
        matching = [e for e in json_lines(path) if predicate(e)] if path.exists() else []
        if matching or time.monotonic() > deadline:
            return matching
        time.sleep(0.3)


def test_a_request_id_and_one_trace_id_in_the_gateway_and_the_service_logs(json_system):
    system, admin = json_system
    request_id = f"telemetry-{uuid.uuid4().hex[:12]}"
    answer = admin.get("/me", headers={"X-Request-ID": request_id})
    assert answer.status_code == 200, answer.text
    assert answer.headers["X-Request-ID"] == request_id
    user_id = answer.json()["id"]

    gateway = wait_for(system.log_dir / "gateway.log",
                       lambda e: e.get("request_id") == request_id and e["logger"] == "lec.http")
    service = wait_for(system.log_dir / "registry.log",
                       lambda e: e.get("request_id") == request_id and e["logger"] == "lec.rpc")
    assert len(gateway) == 1, gateway
    assert service, f"no line of request {request_id} in registry.log"
    (http,) = gateway
    assert http["service"] == "gateway" and http["level"] == "INFO"
    assert http["message"].startswith("GET /api/v1/me 200 in ")
    assert http["user_id"] == user_id
    assert re.fullmatch(r"[0-9a-f]{32}", http["trace_id"]) and re.fullmatch(r"[0-9a-f]{16}", http["span_id"])
    for entry in service:
        assert entry["service"] == "registry"
        assert entry["trace_id"] == http["trace_id"], (entry, http)
        assert entry["span_id"] != http["span_id"]        # the service's own span of the same trace
        assert entry["user_id"] in (user_id, 0)           # the user, or the gateway's own lookups
        assert re.fullmatch(r"rpc registry\.\w+ ok in \d+\.\d ms", entry["message"]), entry["message"]
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", entry["ts"])
    assert any(entry["user_id"] == user_id for entry in service)
    # ids only: the account's name is in no line of the request
    username = answer.json().get("username") or ADMIN[0]
    for entry in gateway + service:
        assert username not in json.dumps(entry, ensure_ascii=False).replace('"logger"', "")
        assert set(entry) >= {"ts", "level", "logger", "message", "service", "request_id", "user_id",
                              "unit_id", "trace_id", "span_id"}


def test_the_handler_of_an_event_continues_the_trace_of_the_change(json_system):
    system, admin = json_system
    request_id = f"telemetry-{uuid.uuid4().hex[:12]}"
    root = admin.get("/me").json()["org_unit_id"]
    made = admin.post("/org-units", json={"code": unique("TRC"), "name": "จังหวัดทดสอบการติดตาม",
                                          "type": "province", "parent_id": root},
                      headers={"X-Request-ID": request_id})
    assert made.status_code == 201, made.text
    (http,) = wait_for(system.log_dir / "gateway.log",
                       lambda e: e.get("request_id") == request_id and e["logger"] == "lec.http")
    handled = wait_for(system.log_dir / "reporting.log",
                       lambda e: e.get("trace_id") == http["trace_id"]
                       and e["message"].startswith("event registry.unit_changed applied"), timeout=30)
    assert handled, f"reporting applied no unit_changed in trace {http['trace_id']}"
    (entry,) = handled
    assert entry["service"] == "reporting" and entry["span_id"] != http["span_id"]
    # the other unit_changed events reporting applied (the start's own) are in traces of their own
    applied = [e for e in json_lines(system.log_dir / "reporting.log")
               if e["message"].startswith("event registry.unit_changed")]
    assert [e["trace_id"] for e in applied].count(http["trace_id"]) == 1


def test_every_line_the_processes_wrote_is_json(json_system):
    system, _ = json_system
    for name in ("gateway.log", "registry.log", "reporting.log"):
        entries = json_lines(system.log_dir / name)
        assert entries, name
        assert all(e.get("level") and e.get("logger") and "ts" in e for e in entries), name
