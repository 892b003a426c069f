"""Running the portal's browser scenarios (tests/browser/scenario_*.py) from pytest.

Playwright cannot run in the test process (eventlet's monkey-patching), so each scenario
runs in a process of its own through tests/browser/driver.py; ``run_scenario`` returns what
it printed. Chromium is Debian's ``chromium`` (``make test`` installs it) or
``LEC_TEST_CHROMIUM``; without one the test fails with the command to run when
``LEC_REQUIRE_BROWSER=1`` (set by ``make test``), unless ``LEC_TEST_SKIP_BROWSER=1``, and is
skipped otherwise.
"""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DRIVER = ROOT / "tests" / "browser" / "driver.py"
CHROMIUM = os.environ.get("LEC_TEST_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


def need_browser():
    if os.environ.get("LEC_TEST_SKIP_BROWSER") == "1":
        pytest.skip("LEC_TEST_SKIP_BROWSER=1")
    if not CHROMIUM:
        message = ("no Chromium: run `sudo apt-get install chromium fonts-thai-tlwg` (or set "
                   "LEC_TEST_CHROMIUM to a Chromium binary; LEC_TEST_SKIP_BROWSER=1 skips the browser tests)")
        if os.environ.get("LEC_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    pytest.importorskip("playwright")
    pytest.importorskip("axe_playwright_python")


def run_scenario(system, name, timeout=600, **args):
    """Run ``tests/browser/<name>.py``'s ``run(p, args)`` against the system under test
    (``url`` and ``chromium`` are added to ``args``); its JSON answer (with ``checks`` and
    ``errors``). A scenario that raised fails the test with its traceback."""
    need_browser()
    args = {"url": system.url, "chromium": CHROMIUM, **args}
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(ROOT)
    run = subprocess.run([sys.executable, str(DRIVER), name, json.dumps(args, ensure_ascii=False)],
                         capture_output=True, text=True, timeout=timeout, cwd=str(ROOT), env=env)
    lines = [line for line in run.stdout.strip().splitlines() if line.startswith("{")]
    if not lines:
        pytest.fail(f"scenario {name} printed no answer (exit {run.returncode}):\n{run.stderr[-4000:]}")
    result = json.loads(lines[-1])
    if run.returncode != 0 or "exception" in result:
        pytest.fail(f"scenario {name} failed:\n{result.get('exception', '')}\n"
                    f"screenshots: {result.get('failure_screenshots')}\nerrors: {result.get('errors')}\n"
                    f"{run.stderr[-2000:]}")
    return result


def problems(check, latin=False):
    """What is wrong with one ``check_page`` result: axe serious/critical violations,
    sideways scrolling at 390 px, missing translations, page errors (and, with ``latin``,
    Latin text outside user data in Thai mode)."""
    found = {}
    if check.get("violations"):
        found["axe"] = check["violations"]
    if check.get("overflow"):
        found["overflow"] = check.get("scroll")
    if check.get("missing"):
        found["missing"] = check["missing"]
    if check.get("errors"):
        found["errors"] = check["errors"]
    if latin and check.get("latin"):
        found["latin"] = check["latin"]
    return found


def assert_clean(result, latin=False):
    """Every page the scenario checked is clean (see ``problems``), and no page errors."""
    assert result.get("checks"), "the scenario checked no page"
    bad = {c["name"]: problems(c, latin) for c in result["checks"] if problems(c, latin)}
    assert not bad, json.dumps(bad, ensure_ascii=False, indent=1)
    assert not result.get("errors"), result["errors"]


def axe_figures(result):
    """{page name: {width: serious+critical count}} of a scenario's checks."""
    return {c["name"]: c["axe"] for c in result.get("checks", [])}
