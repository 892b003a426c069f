"""Runs one browser scenario of the portal in a process of its own (Playwright's driver
does not survive the test process's eventlet monkey-patching) and prints one JSON line.

    python tests/browser/driver.py <scenario module> '<json args>'

``<scenario module>`` is a module of tests/browser (``scenario_shell``) or a dotted path;
it defines ``run(p, args) -> dict`` where ``p`` is the Playwright object and ``args`` the
JSON arguments (``url`` and ``chromium`` always among them). The line printed is the
scenario's dict plus ``checks`` (every ``common.check_page`` result), ``errors`` (page
errors and failed scripts seen in any page) and, when the scenario raised, ``exception``
(the traceback) and a screenshot of each open page in ``.lec/screenshots/failed-*.png``;
the exit status is then 1, and what the scenario had put in ``common.RESULT`` is kept.
"""
import importlib
import json
import sys
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.browser import common  # noqa: E402


def main(name, raw_args):
    args = json.loads(raw_args or "{}")
    module = importlib.import_module(name if "." in name else f"tests.browser.{name}")
    out, status = {}, 0
    with sync_playwright() as p:
        try:
            out = module.run(p, args) or {}
        except Exception:  # noqa: BLE001  (reported whole, as JSON, to the test)
            status = 1
            out = dict(common.RESULT, exception=traceback.format_exc())
            out["failure_screenshots"] = common.screenshot_open_pages(f"failed-{name.rsplit('.', 1)[-1]}")
        finally:
            common.close_all()
    out["checks"] = common.CHECKS
    out["errors"] = out.get("errors", []) + common.ERRORS
    print(json.dumps(out, ensure_ascii=False, default=str))
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "{}"))
