"""The reporting benchmark runs (at a small scale) and its three answers agree."""
import os
import subprocess
import sys

from services.common import migrate
from tests.conftest import ROOT


def test_the_benchmark_runs_and_its_answers_agree(lec_env):
    env = dict(os.environ, **lec_env)
    done = subprocess.run([sys.executable, "-m", "bench.report.run", "--scale", "0.005", "--samples", "3"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=110)
    try:
        assert done.returncode == 0, done.stdout + done.stderr
        lines = done.stdout.splitlines()
        levels = [line.split()[0] for line in lines if line.split()[:1] and
                  line.split()[0] in ("department", "province", "LAO", "institution")]
        assert levels == ["department", "province", "LAO", "institution"], done.stdout
        assert "active learners" in done.stdout
    finally:
        from bench.report.run import db_url
        migrate.drop_database(db_url())
