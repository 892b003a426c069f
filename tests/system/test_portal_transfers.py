"""A child's transfer in a real browser, each result checked through the API afterwards:
school B meets duplicate_learner on its learners page, follows "ขอย้ายเด็กมา" to the
transfers page (filled in) and sends the request; school A, in another browser, accepts it:
the child is then at B and removed (moved_out) at A. In English, B asks for a second child
and A declines with a reason, which B reads in English and Thai; B's LAO asks for a third child
on B's behalf with the unit picker. Every page at 1280 and
390 px: axe-core serious/critical 0, no sideways scrolling, no missing translation, no page
error, no English on the Thai pages but the test's own data. The scenario:
tests/browser/scenario_transfers.py."""
import datetime as dt

import pytest

from tests.client import PASSWORD
from tests.system.enrollment_helpers import learner, learners_url, new_round
from tests.system.portal_support import assert_clean, axe_figures, run_scenario


def be(iso):
    d = dt.date.fromisoformat(iso)
    return f"{d.day:02d}/{d.month:02d}/{d.year + 543}"


@pytest.mark.timeout(600)
def test_the_transfers_pages(system, admin, tree):
    t = tree
    r = new_round(admin)
    rid = r["id"]
    child = learner(grade="p2", birth="2018-05-17", prefix="เด็กชาย", first_name="ภูผา", last_name="ย้ายบ้าน", sex="M")
    second = learner(grade="p3", birth="2017-04-02", prefix="เด็กหญิง", first_name="ลลิตา", last_name="อยู่ที่เดิม")
    held = t["school_a"].ok("POST", learners_url(r, t, "school_a"), 201, json=child)
    kept = t["school_a"].ok("POST", learners_url(r, t, "school_a"), 201, json=second)
    third = learner(grade="p3", birth="2017-01-09")
    t["school_a"].ok("POST", learners_url(r, t, "school_a"), 201, json=third)
    note = "ผู้ปกครองย้ายที่ทำงานมาอำเภอเมือง"
    reason = "เด็กยังมาเรียนที่โรงเรียนเดิมทุกวัน"

    seen = run_scenario(
        system, "scenario_transfers", password=PASSWORD, round_id=rid,
        school_a={"username": t["school_a"].user["username"], "unit_id": t.id("school_a")},
        school_b={"username": t["school_b"].user["username"], "unit_id": t.id("school_b")},
        lao_b={"username": t["lao_b"].user["username"], "unit_id": t.id("lao_b")},
        third={"national_id": third["national_id"]},
        child=dict(child, birth_be=be(child["birth_date"])), second={"national_id": second["national_id"]},
        note=note, decline_reason=reason)
    print("axe serious/critical per page and width:", axe_figures(seen))
    assert_clean(seen)
    own_data = [u["name"] for u in t.units.values()] + [u["code"] for u in t.units.values()] + \
        [c.user["username"] for c in t.clients.values()]
    latin = {c["name"]: [x for x in c.get("latin", []) if not any(d in x for d in own_data)]
             for c in seen["checks"] if c["lang"] == "th"}
    assert not any(latin.values()), latin

    b = seen["b"]
    assert "ขอย้ายเด็กมา" in b["duplicate"], b
    assert b["hash"] == f"#/u/{t.id('school_b')}/transfers" and b["prefilled"] == child["national_id"], b
    assert b["tab_pressed"] == "true", b
    assert "ส่งคำขอแล้ว" in b["sent"] and t.units["province"]["name"] in b["sent"], b
    # school b cannot read school a: the province only, and no name before the answer
    assert len(b["outgoing"]) == 1 and "รอตอบ" in b["outgoing"][0], b
    assert t.units["school_a"]["name"] not in b["outgoing"][0] and child["first_name"] not in b["outgoing"][0], b
    assert note in b["outgoing"][0], b

    a = seen["a"]
    assert len(a["incoming"]) == 1, a
    assert child["first_name"] in a["incoming"][0] and t.units["school_b"]["name"] in a["incoming"][0], a
    assert "ตอบรับและย้ายเด็ก" in a["buttons"] and "ไม่ตอบรับ" in a["buttons"], a
    assert "ย้ายเด็กไปยัง" in a["dialog"], a
    assert "ย้ายเด็กไปยัง" in a["accepted"] and "ย้ายแล้ว" in a["accepted_items"][0], a

    d = seen["decline"]
    assert d["heading"] == "Transfers of a child between institutions", d
    assert "Request sent" in d["sent_en"], d
    assert "already waiting for an answer" in d["pending_en"], d
    assert d["reason_required"] is True and "เหตุผล (ผู้ขอจะเห็นเหตุผลนี้)" in d["decline_dialog"], d
    assert "ไม่ตอบรับคำขอแล้ว" in d["declined"], d
    assert len(d["declined_items_en"]) == 1 and f"Declined because: {reason}" in d["declined_items_en"][0], d
    assert f"เหตุผลที่ไม่ตอบรับ: {reason}" in d["declined_items_th"][0], d

    # ... through the API: the child at b, removed (moved_out) at a; the second child stays at a
    at_b = t["school_b"].ok("GET", learners_url(r, t, "school_b"))
    assert [x["national_id"] for x in at_b["items"]] == [child["national_id"]], at_b
    assert at_b["items"][0]["first_name"] == child["first_name"] and at_b["items"][0]["grade"] == "p2"
    gone = t["school_a"].ok("GET", f"/learners/{held['id']}")
    assert gone["status"] == "removed" and gone["removal_reason"] == "moved_out", gone
    assert t["school_a"].ok("GET", f"/learners/{kept['id']}")["status"] == "active"
    outgoing = t["school_b"].ok("GET", f"/rounds/{rid}/transfers", params={"direction": "outgoing"})
    states = sorted((i["national_id"], i["state"]) for i in outgoing["items"])
    assert states == sorted([(child["national_id"], "accepted"), (second["national_id"], "declined"),
                             (third["national_id"], "pending")]), states
    declined = next(i for i in outgoing["items"] if i["state"] == "declined")
    assert declined["reason"] == reason and declined["note"] is None
    accepted = next(i for i in outgoing["items"] if i["state"] == "accepted")
    assert accepted["note"] == note and accepted["answered_by"] == t["school_a"].user["id"]
    # the LAO asked on its school's behalf, in grade p4
    lao = seen["lao"]
    assert any(t.units["school_b"]["name"] in o for o in lao["receiver_options"]), lao
    assert "ส่งคำขอแล้ว" in lao["sent"] and len(lao["outgoing"]) == 3, lao
    asked = next(i for i in outgoing["items"] if i["state"] == "pending")
    assert asked["grade"] == "p4" and asked["created_by"] == t["lao_b"].user["id"], asked
