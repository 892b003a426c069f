"""A revocation request in a real browser, each result checked through the API afterwards:
school and CDC confirmed, their LAO confirmed; the school officer reads the confirmations
above it (LAO confirmed, province not) and asks to reopen, with a reason; the request goes to
the province; the LAO lists it without the means to answer; the province approves, which
reopens the LAO and the school top-down; the school reads the outcome in English. Every
page: axe-core serious/critical 0 at 1280 and 390 px, nothing wider than 390 px, no missing
translation, no page error, no untranslated text outside the test's own data. The
scenario: tests/browser/scenario_revocations.py."""
import pytest

from tests.client import PASSWORD
from tests.system.confirmation_support import add_learners, confirm, new_round
from tests.system.portal_support import assert_clean, axe_figures, run_scenario

REASON = "ครูบันทึกชั้นเรียนผิด 2 คน ขอแก้ไข"
NOTE = "อนุมัติ แก้ไขแล้วยืนยันใหม่ภายในสัปดาห์นี้"


@pytest.mark.timeout(900)
def test_a_school_gets_its_confirmation_reopened(system, admin, tree):
    t = tree
    rid = new_round(admin)["id"]
    sid, lid, pid = t.id("school_a"), t.id("lao_a"), t.id("province")
    add_learners(t["school_a"], rid, sid, ["p1", "p2"])
    add_learners(t["cdc_a"], rid, t.id("cdc_a"), ["cdc"])
    school_confirmed = confirm(t["school_a"], rid, sid)
    confirm(t["cdc_a"], rid, t.id("cdc_a"))
    lao_confirmed = confirm(t["lao_a"], rid, lid)
    units = t.units

    def who(key):
        return {"username": t[key].user["username"], "unit_id": t.id(key), "name": units[key]["name"]}

    seen = run_scenario(system, "scenario_revocations", password=PASSWORD, round_id=rid, reason=REASON,
                        note=NOTE, school=who("school_a"), lao=who("lao_a"), province=who("province"))
    print("axe serious/critical per page and width:", axe_figures(seen))
    assert_clean(seen)
    own_data = [u["name"] for u in units.values()] + [u["code"] for u in units.values()] + \
        [c.user["username"] for c in t.clients.values()]
    latin = {c["name"]: [x for x in c.get("latin", []) if not any(d in x for d in own_data)]
             for c in seen["checks"] if c["lang"] == "th"}
    assert not any(latin.values()), latin

    # the school: the chain above, the request sent to the province
    s = seen["school"]
    chain = s["chain"]
    assert len(chain) == 3 and units["lao_a"]["name"] in chain[2] and "ยืนยันแล้ว" in chain[2], chain
    assert t["lao_a"].user["username"] in chain[2], chain
    assert units["province"]["name"] in chain[1] and "ยังไม่ยืนยัน" in chain[1], chain
    assert "ยกเลิกการยืนยันของตนเองไม่ได้" in s["reopen_help"], s
    assert "เหตุผลที่ขอแก้ไขข้อมูล" in s["dialog"] and s["reason_required"] is True, s
    assert f"ส่งคำขอถึง {units['province']['name']} แล้ว" in s["notice"], s
    assert "รอพิจารณา" in s["pending"] and REASON in s["pending"] and s["ask_buttons"] == 0, s
    assert s["api"] == [{"state": "pending", "routed_to": pid, "reason": REASON}], s
    assert len(s["own_list"]) == 1 and REASON in s["own_list"][0], s

    # the LAO (confirmed itself) sees it and cannot answer
    lao = seen["lao"]
    assert lao["buttons"] == 0 and "ไม่มีคำขอที่รอท่านพิจารณา" in lao["waiting"], lao
    assert len(lao["all"]) == 1 and units["school_a"]["name"] in lao["all"][0], lao
    # on its own page: the province and the department above it, and its own request button
    assert len(lao["chain"]) == 2 and units["province"]["name"] in lao["chain"][1], lao
    assert "ยังไม่ยืนยัน" in lao["chain"][1] and lao["ask_buttons"] == 1, lao

    # the province approves: both confirmations reopened, top-down
    pv = seen["province"]
    assert len(pv["waiting"]) == 1 and REASON in pv["waiting"][0], pv
    assert "จากบนลงล่าง" in pv["dialog"] and REASON in pv["dialog"], pv
    assert "อนุมัติแล้ว ยกเลิกการยืนยัน 2 หน่วยงาน" in pv["notice"], pv
    assert "อนุมัติแล้ว" in pv["all"][0] and NOTE in pv["all"][0], pv
    assert (pv["school_state"], pv["lao_state"]) == ("open", "open"), pv
    assert pv["en_heading"] == "Requests to reopen a confirmation" and "Approved" in pv["en_all"][0], pv

    # ... through the API: the request approved, both open, each revoked with the reason
    items = t["school_a"].ok("GET", f"/rounds/{rid}/revocation-requests")["items"]
    assert [(i["state"], i["revoked"], i["answer_reason"]) for i in items] == [("approved", [lid, sid], NOTE)]
    assert t["school_a"].ok("GET", f"/rounds/{rid}/confirmations/{sid}")["state"] == "open"
    assert t["lao_a"].ok("GET", f"/rounds/{rid}/confirmations/{lid}")["state"] == "open"
    for unit_id, client, before in ((sid, t["school_a"], school_confirmed), (lid, t["lao_a"], lao_confirmed)):
        history = client.ok("GET", f"/rounds/{rid}/confirmations/{unit_id}/history")["items"]
        revoke = [h for h in history if h["action"] == "revoke"]
        assert len(revoke) == 1 and revoke[0]["details"]["reason"] == REASON, history
        assert revoke[0]["actor_id"] == t["province"].user["id"] and before["state"] == "confirmed"

    # the school reads the outcome, in English
    o = seen["outcome"]
    assert "Not confirmed" in o["state"] or "Unconfirmed" in o["state"] or "Open" in o["state"], o
    assert "Approved" in o["outcome"] and NOTE in o["outcome"] and o["ask_buttons"] == 0, o
    assert "Not confirmed" in o["chain"][2], o
    assert len(o["list"]) == 1 and "2 confirmation(s) revoked" in o["list"][0], o
