"""The checks benchmark runs (at a small scale): the stored tallies and the answer
computed on request agree."""
import os
import subprocess
import sys

from services.common import migrate
from tests.conftest import ROOT


def test_the_checks_benchmark_runs_and_its_answers_agree(lec_env):
    env = dict(os.environ, **lec_env)
    done = subprocess.run([sys.executable, "-m", "bench.checks.run", "--scale", "0.005", "--samples", "3"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=110)
    try:
        assert done.returncode == 0, done.stdout + done.stderr
        for measured in ("(a) full refresh", "(b) department report", "(b) province report", "(c) LAO report",
                         "(c) institution report", "(e) progress column", "(d) baseline", "stored tallies agree"):
            assert measured in done.stdout, done.stdout
    finally:
        from bench.checks.run import db_url
        migrate.drop_database(db_url())
