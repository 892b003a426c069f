"""The operations endpoint of a service process (services.common.ops): a real
service process, started on its own with a free ops port, answers /livez,
/readyz and /metrics for itself; with a database it cannot reach it stays alive
but not ready."""
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import requests
from nameko.standalone.rpc import ClusterRpcProxy
from prometheus_client.parser import text_string_to_metric_families

from deploy.launcher import System
from services.common.context import system_context

FAMILIES = ("lec_rpc_duration_seconds", "lec_workers_busy", "lec_workers_max", "lec_outbox_backlog",
            "lec_outbox_oldest_age_seconds", "lec_failed_events", "lec_db_pool_checked_out",
            "lec_db_pool_size")


PROMTOOL_LOCAL = Path(__file__).resolve().parents[2] / ".lec" / "tools" / "bin" / "promtool"


def promtool():
    """promtool from PATH or .lec/tools (deploy/scripts/ensure-promtool.sh puts it there).
    Without it the check is skipped, except under LEC_REQUIRE_TOOLS=1 (``make test``), where
    it fails."""
    found = shutil.which("promtool") or (str(PROMTOOL_LOCAL) if os.access(PROMTOOL_LOCAL, os.X_OK) else None)
    if found:
        return found
    reason = "no promtool: run deploy/scripts/ensure-promtool.sh (make test does)"
    if os.environ.get("LEC_REQUIRE_TOOLS") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


def promtool_check(text):
    """``promtool check metrics`` finds nothing wrong with the exposition ``text``."""
    result = subprocess.run([promtool(), "check", "metrics"], input=text, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0 and not result.stdout.strip() and not result.stderr.strip(), (
        result.returncode, result.stdout, result.stderr)


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


def ops_port(path):
    try:
        return json.loads(path.read_text()).get("ops_port")
    except (OSError, ValueError):
        return None


@pytest.fixture(scope="module")
def amqp_uri(lec_env):
    """A vhost of these tests' own: the whole test system's registry, when it runs, must
    not answer (and be counted for) the calls made to the process under test."""
    from deploy import infra
    from tests.conftest import TEST_ID
    if os.environ.get("LEC_TEST_AMQP_URI"):
        return lec_env["AMQP_URI"]
    vhost = f"lec_{TEST_ID}_ops"
    infra.ensure_vhost(vhost)
    return f"pyamqp://guest:guest@127.0.0.1:5672/{vhost}"


@pytest.fixture
def start_service(lec_env, amqp_uri, tmp_path):
    systems = []

    def start(service, **env):
        system = System(env=dict(lec_env, AMQP_URI=amqp_uri,
                                 LEC_HEARTBEAT_FILE=str(tmp_path / "{service}.json"),
                                 LEC_HEARTBEAT_INTERVAL="0.2", LEC_OPS_PORT="0", **env),
                        log_dir=tmp_path / "logs")
        systems.append(system)
        system.start_service(service)
        beat = tmp_path / f"{service}.json"
        port = wait_for(lambda: ops_port(beat), 60, "the ops port in the heartbeat")
        return f"http://127.0.0.1:{port}"

    yield start
    for system in systems:
        system.stop()


def families(text):
    return {family.name: family for family in text_string_to_metric_families(text)}


def test_a_service_process_answers_its_probes_and_metrics(amqp_uri, start_service):
    url = start_service("registry")
    assert requests.get(url + "/livez", timeout=5).json() == {"status": "alive", "service": "registry"}
    ready = wait_for(lambda: (lambda r: r if r.status_code == 200 else None)(
        requests.get(url + "/readyz", timeout=5)), 30, "readiness")
    assert ready.json() == {"status": "ready", "service": "registry"}
    assert requests.get(url + "/nothing", timeout=5).status_code == 404

    with ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=10,
                         context_data=system_context("tests")) as proxy:
        for _ in range(3):
            assert proxy.registry.health()["ok"] is True

    resp = requests.get(url + "/metrics", timeout=5)
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("text/plain")
    found = families(resp.text)
    assert set(FAMILIES) <= set(found), sorted(found)
    count = [s for s in found["lec_rpc_duration_seconds"].samples
             if s.name == "lec_rpc_duration_seconds_count" and s.labels == {"service": "registry",
                                                                            "method": "health"}]
    assert count and count[0].value >= 3, found["lec_rpc_duration_seconds"].samples[:5]
    for name in FAMILIES[1:]:
        samples = found[name].samples
        assert [s.labels for s in samples] == [{"service": "registry"}], (name, samples)
    value = {name: found[name].samples[0].value for name in FAMILIES[1:]}
    assert value["lec_workers_max"] == 10 and 0 <= value["lec_workers_busy"] <= 10
    assert value["lec_outbox_backlog"] >= 0 and value["lec_outbox_oldest_age_seconds"] >= 0
    assert value["lec_db_pool_size"] >= 1 and value["lec_db_pool_checked_out"] >= 0
    # one registry per process: each family is described once
    assert resp.text.count("# HELP lec_rpc_duration_seconds ") == 1
    promtool_check(resp.text)


def test_promtool_finds_a_duplicate_family():
    """The check itself can fail: a family described twice is refused."""
    twice = "# HELP x_total a\n# TYPE x_total counter\nx_total 1\n"
    with pytest.raises(AssertionError):
        promtool_check(twice + twice)


def test_a_process_without_its_database_is_alive_but_not_ready(lec_env, start_service):
    """Its own database, not the service's: another process of it may well be fine."""
    url = start_service("confirmation", CONFIRMATION_DB_URL="postgresql://postgres@127.0.0.1:1/nowhere")
    assert requests.get(url + "/livez", timeout=5).status_code == 200
    # while it starts its consumer is not connected yet; then only the database is missing
    resp = wait_for(lambda: (lambda r: [r] if "database" in r.text else None)(
        requests.get(url + "/readyz", timeout=10)), 30, "the consumer connected")[0]
    assert resp.status_code == 503
    body = resp.json()
    assert body["status"] == "not_ready" and body["service"] == "confirmation"
    assert "database" in body["reason"], body
    # the scrape still answers, without the values it could not read
    found = families(requests.get(url + "/metrics", timeout=10).text)
    assert found["lec_outbox_backlog"].samples == []
    assert found["lec_workers_max"].samples[0].value == 10
