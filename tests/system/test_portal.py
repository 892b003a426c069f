"""The portal in a real browser: a signed-in LAO officer sees the panels of
their unit, reads the API's refusal, creates an account for one of its schools,
resets its password and disables it (its own unit's accounts are changed from
above: no buttons for them); a school's officer sees no unit management. Runs where
Chromium is installed (Debian's ``chromium`` package; ``make test`` installs
it); skipped elsewhere, except that ``LEC_REQUIRE_BROWSER=1`` (set by ``make
test``) turns a missing browser into a failure with the command to run, unless
``LEC_TEST_SKIP_BROWSER=1``."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.client import PASSWORD, unique
from tests.system.enrollment_helpers import new_round

CHROMIUM = os.environ.get("LEC_TEST_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
FLOW = Path(__file__).with_name("portal_flow.py")


def need_browser():
    if not CHROMIUM:
        message = ("no Chromium: run `sudo apt-get install chromium fonts-thai-tlwg` (or set "
                   "LEC_TEST_CHROMIUM to a Chromium binary; LEC_TEST_SKIP_BROWSER=1 skips the browser tests)")
        if os.environ.get("LEC_REQUIRE_BROWSER") == "1" and os.environ.get("LEC_TEST_SKIP_BROWSER") != "1":
            pytest.fail(message)
        pytest.skip(message)
    pytest.importorskip("playwright")


def test_the_portal_in_a_browser(system, admin, tree):
    need_browser()
    new_round(admin)  # at least one open round, for the round panels
    new_username = unique("portal.")
    # a colleague in the LAO's own unit: the officer sees the account but no buttons to change it
    admin.ok("POST", "/users", 201, json={"username": unique("colleague."), "password": PASSWORD,
                                          "org_unit_id": tree.id("lao_a")})
    run = subprocess.run([sys.executable, str(FLOW), system.url, CHROMIUM, tree["lao_a"].user["username"],
                          tree["school_a"].user["username"], PASSWORD, new_username,
                          tree.units["school_a"]["name"]],
                         capture_output=True, text=True, timeout=110)
    assert run.returncode == 0, run.stderr[-3000:]
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    assert seen["errors"] == [] and seen["lao_panel_errors"] == [], seen
    assert seen["round"]
    assert any(h.startswith("Confirmation") for h in seen["lao_panels"])
    assert any(h.startswith("Manage units") for h in seen["lao_panels"])
    assert any(h.startswith("Accounts") for h in seen["lao_panels"])
    assert tree["lao_a"].user["username"] in seen["lao_header"]
    assert "disabled" in seen["disabled_row"]
    assert "code" in seen["unit_error"]
    assert seen["own_unit_resets"] == 0
    assert not any(h.startswith("Manage units") for h in seen["school_panels"])
    assert any(h.startswith("Accounts") for h in seen["school_panels"])
    # what the browser did, the API confirms: the account exists, disabled, with the reset password
    listed = {u["username"]: u for u in tree["lao_a"].ok("GET", "/users",
                                                         params={"org_unit_id": tree.id("school_a")})["items"]}
    assert listed[new_username]["active"] is False and listed[new_username]["password_changed_at"]
