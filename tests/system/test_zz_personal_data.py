"""The last system test of a run (pytest runs the files of a directory in name
order, and tests/unit, which runs after, starts no system): whatever the whole run
wrote to the logs of the five services and the gateway, and every event it
published for agencies, carries no national ID or G-Code the run used, and no
password or signing key. It first walks the paths that once let an ID out: a
search that fails in the database, a revocation reason and a removal note."""
import json
import re
import time

import pytest
from kombu import Connection

from services.common import settings
from services.registry.handlers import DEV_ADMIN_PASSWORD
from tests.client import PASSWORD
from tests.conftest import ADMIN, JWT_SECRET
from tests.events import EventCollector
from tests.system.confirmation_support import confirm, revoke
from tests.system.enrollment_helpers import (
    enrollment_rows, error, g_code, learner, learners_url, new_round,
)

_DIGIT_RUN = re.compile(r"\d(?:[ \-]?\d){12,}")
_G_CODE = re.compile(r"[Gg][ \-]?\d(?:[ \-]?\d){11}")
SECRETS = (ADMIN[1], JWT_SECRET, PASSWORD, settings.current().admin_password, DEV_ADMIN_PASSWORD)


def personal_ids(text):
    """Every 13-digit run (inside longer runs too, separators dropped) and every G-Code in ``text``."""
    found = set()
    for match in _DIGIT_RUN.findall(text):
        digits = re.sub(r"\D", "", match)
        found.update(digits[i:i + 13] for i in range(len(digits) - 12))
    found.update("G" + re.sub(r"\D", "", m) for m in _G_CODE.findall(text))
    return found


@pytest.fixture(scope="module")
def used():
    """The IDs this module sends on purpose (some never reach the database), and
    the unit whose revocation it published."""
    return {"ids": set(), "revoked": None}


def test_the_paths_that_leaked_an_id_are_closed(admin, tree, used):
    t, r = tree, new_round(admin)
    url = learners_url(r, t, "school_a")
    child = t["school_a"].ok("POST", url, 201, json=learner())
    other = t["school_a"].ok("POST", url, 201, json=learner(national_id=None, g_code=g_code()))
    stranger = learner()["national_id"]                     # an ID nobody recorded
    used["ids"].update({child["national_id"], other["g_code"], stranger})

    # searches that fail in the database (their answers are the bad-input tests' business):
    # whatever is logged of them must not hold the ID searched for
    for q in (child["national_id"], other["g_code"], stranger):
        for params in ({"q": q, "offset": "99999999999999999999"}, {"q": q, "limit": "99999999999999999999"},
                       {"q": q + "\x00"}, {"q": q, "grade": "\x00"}):
            t["school_a"].get(url, params=params)
            t["lao_a"].get(url, params=params)

    # free text that travels (stored, shown above, published) refuses an ID, naming the field
    for text in (f"ย้ายไปโรงเรียนอื่น {child['national_id']}",
                 "เลข " + "-".join((stranger[0], stranger[1:5], stranger[5:10], stranger[10:12], stranger[12])),
                 f"รหัส {other['g_code']}"):
        body = error(t["school_a"].delete(f"/learners/{child['id']}", json={"reason": "other", "note": text}),
                     422, "validation_error")
        assert list(body["errors"]) == ["note"], body
        assert error(t["school_a"].delete(f"/learners/{child['id']}", params={"reason": "other", "note": text}),
                     422, "validation_error")["errors"].keys() == {"note"}
    confirm(t["school_a"], r["id"], t.id("school_a"))
    for text in (f"นักเรียน {child['national_id']} ซ้ำ", f"G-Code {other['g_code']} ผิด"):
        path = f"/rounds/{r['id']}/confirmations/{t.id('school_a')}"
        body = error(t["lao_a"].delete(path, json={"reason": text}), 422, "validation_error")
        assert list(body["errors"]) == ["reason"], body
    revoke(t["lao_a"], r["id"], t.id("school_a"), reason="ข้อมูลนักเรียนซ้ำ ต้องแก้ไข")
    used["revoked"] = t.id("school_a")
    t["school_a"].ok("DELETE", f"/learners/{child['id']}", 204, json={"reason": "other", "note": "ย้ายออกกลางปี"})


def _agency_events(amqp_uri, queue, school_id, timeout=60):
    """Everything the run published on ``confirmation.events``, once this module's
    revocation has arrived too."""
    collector = EventCollector(amqp_uri, "confirmation", ["#"], durable=True, queue_name=queue)
    try:
        collector.wait_for(lambda e: e.get("type") == "unit_revoked"
                           and (e.get("org_unit") or {}).get("id") == school_id, timeout=timeout)
        deadline = time.monotonic() + timeout
        with Connection(amqp_uri) as conn:
            channel = conn.channel()
            while channel.queue_declare(queue, passive=True).message_count and time.monotonic() < deadline:
                collector.drain(0.5)
        return collector.drain(0.5)
    finally:
        collector.close()


def test_no_log_line_and_no_agency_event_carries_a_personal_id_or_a_secret(lec_env, system, agency_queue, used):
    ids = {r["id_number"] for r in enrollment_rows("SELECT DISTINCT id_number FROM learners")} | used["ids"]
    assert used["revoked"] is not None and len(ids) >= 3
    logs = {p.name: p.read_text(errors="replace") for p in sorted(system.log_dir.glob("*.log"))}
    assert {"gateway.log", "registry.log", "rounds.log", "enrollment.log", "confirmation.log",
            "reporting.log"} <= set(logs)
    for name, content in logs.items():
        leaked = personal_ids(content) & ids
        assert not leaked, f"{name} holds the personal IDs {sorted(leaked)[:5]}"
        for secret in filter(None, SECRETS):
            assert secret not in content, f"{name} holds a secret"

    events = _agency_events(lec_env["AMQP_URI"], agency_queue, used["revoked"])
    assert {e["type"] for e in events} >= {"unit_confirmed", "unit_revoked"}
    for event in events:
        leaked = personal_ids(json.dumps(event, ensure_ascii=False)) & ids
        assert not leaked, f"{event['type']} {event['event_id']} holds the personal IDs {sorted(leaked)[:5]}"
