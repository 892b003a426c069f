"""mypy over the shared code and every service's domain module ([tool.mypy] in
pyproject.toml): the typed values and rules stay consistent with their uses."""
from pathlib import Path

from mypy import api

ROOT = Path(__file__).resolve().parents[2]


def test_mypy_finds_no_errors():
    paths = [str(ROOT / "services" / "common")] + sorted(str(p) for p in (ROOT / "services").glob("*/domain.py"))
    stdout, stderr, status = api.run(["--config-file", str(ROOT / "pyproject.toml"),
                                      "--cache-dir", str(ROOT / ".mypy_cache"), "--no-error-summary",
                                      *paths])
    assert status == 0, stdout + stderr
