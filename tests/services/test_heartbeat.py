"""The per-process heartbeat: a nameko process keeps its file fresh; a stopped
(hung) one lets it go stale, and the liveness check and the launcher see it."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from deploy.launcher import BIN, ROOT, System
from services.common import heartbeat, healthcheck


def test_age_of_a_heartbeat_file(tmp_path):
    path = tmp_path / "x.json"
    assert heartbeat.age(path) is None
    heartbeat.beat(path, "x")
    assert json.loads(path.read_text())["pid"] == os.getpid()
    assert heartbeat.age(path) < 1
    assert 99 < heartbeat.age(path, now=time.time() + 100) < 101
    path.write_text("{not json")
    assert heartbeat.age(path) is None
    assert healthcheck.main(["--heartbeat", str(path)]) == 1
    heartbeat.beat(path, "x")
    assert healthcheck.main(["--heartbeat", str(path), "--max-age", "5"]) == 0
    assert healthcheck.main(["--heartbeat", str(path), "--max-age"]) == 2
    assert healthcheck.main(["--heartbeat"]) == 2


def cli(path, max_age):
    return subprocess.run([sys.executable, "-m", "services.common.healthcheck", "--heartbeat", str(path),
                           "--max-age", str(max_age)], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


def test_a_stopped_process_goes_stale_and_is_seen_hung(lec_env, tmp_path):
    system = System(env=dict(lec_env, LEC_HEARTBEAT_FILE=str(tmp_path / "{service}.json"),
                             LEC_HEARTBEAT_INTERVAL="0.2"), log_dir=tmp_path / "logs")
    path = tmp_path / "heartbeat_probe.json"
    path.write_text(json.dumps({"at": time.time()}))  # left by an earlier process: removed at start
    proc = system._spawn("heartbeat_probe", [str(BIN / "nameko"), "run", "--config",
                                             str(ROOT / "deploy" / "nameko.yml"),
                                             "tests.services.heartbeat_probe:HeartbeatProbe"])
    try:
        assert system.hung(max_age=2, grace=60) == {}  # starting: no file yet, within the grace
        wait_for(path.exists, 60, "the first heartbeat")
        assert json.loads(path.read_text())["pid"] == proc.pid
        first = json.loads(path.read_text())["at"]
        wait_for(lambda: heartbeat.age(path) is not None and json.loads(path.read_text())["at"] > first,
                 10, "the heartbeat renewed")
        assert cli(path, 2).returncode == 0
        assert system.hung(max_age=2) == {}

        os.killpg(proc.pid, signal.SIGSTOP)  # alive, but its event loop no longer turns
        try:
            wait_for(lambda: (heartbeat.age(path) or 0) > 1.5, 10, "the heartbeat to go stale")
            result = cli(path, 1)
            assert result.returncode == 1 and "old" in result.stderr
            assert list(system.hung(max_age=1)) == ["heartbeat_probe"]
        finally:
            os.killpg(proc.pid, signal.SIGCONT)
        wait_for(lambda: (heartbeat.age(path) or 99) < 0.5, 10, "the heartbeat to come back")
        assert system.hung(max_age=1) == {}
    finally:
        system.stop()
    assert proc.poll() is not None
