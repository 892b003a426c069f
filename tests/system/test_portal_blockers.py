"""Who blocks me and the notices in a real browser, at 1280 and 390 px, in Thai and English,
each page compared with the API: a round whose institutions' deadline passed an hour ago
(the LAOs' is two hours ahead, the province's a day later); school b has an extension of two
days; school a holds a child school b asked to receive. The province sees its LAOs, the CDC
and the schools, the overdue ones in red first; the LAO's bell counts its deadline reminder;
the school reads the transfer it must answer. The scenario: tests/browser/scenario_blockers.py."""
import datetime as dt

import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from services.common.context import system_context
from tests.client import PASSWORD
from tests.system.confirmation_support import wait_until
from tests.system.enrollment_helpers import learner, learners_url, new_round
from tests.system.portal_support import assert_clean, run_scenario

BKK = dt.timezone(dt.timedelta(hours=7))


def remind(lec_env):
    with ClusterRpcProxy({"AMQP_URI": lec_env["AMQP_URI"]}, timeout=30,
                         context_data=system_context("tests")) as proxy:
        return proxy.reporting.remind()


@pytest.mark.timeout(600)
def test_the_blockers_and_notices_pages(system, lec_env, admin, tree):
    t = tree
    r = new_round(admin)
    rid = r["id"]
    child = learner()
    t["school_a"].ok("POST", learners_url(r, t, "school_a"), 201, json=child)
    transfer = t["school_b"].ok("POST", f"/rounds/{rid}/transfers", 201,
                                json={"national_id": child["national_id"], "to_institution_id": t.id("school_b")})
    now = dt.datetime.now(BKK).replace(microsecond=0)
    admin.ok("PATCH", f"/rounds/{rid}", json={"closes_at": (now - dt.timedelta(hours=1)).isoformat(), "deadlines": {
        "lao": (now + dt.timedelta(hours=2)).isoformat(), "province": (now + dt.timedelta(hours=26)).isoformat()}})
    admin.ok("POST", f"/rounds/{rid}/extensions", 201, json={
        "org_unit_id": t.id("school_b"), "closes_at": (now + dt.timedelta(hours=48)).isoformat(), "level": "institution"})

    def reminded():
        remind(lec_env)
        notices = t["lao_a"].ok("GET", "/me/notices", params={"round_id": rid})["items"]
        return [n for n in notices if n["kind"] == "deadline"]
    wait_until(reminded, 30, 0.5, "the LAO's deadline reminder")
    wait_until(lambda: all(i["unit"]["id"] != t.id("school_b") or i["extended"] for i in t["province"].ok(
        "GET", f"/rounds/{rid}/blockers", params={"org_unit_id": t.id("province")})["items"]), 20, 0.3,
        "the extension in the read model")

    seen = run_scenario(
        system, "scenario_blockers", password=PASSWORD, round_id=rid,
        province={"username": t["province"].user["username"], "unit_id": t.id("province")},
        lao={"username": t["lao_a"].user["username"], "unit_id": t.id("lao_a")},
        school={"username": t["school_a"].user["username"], "unit_id": t.id("school_a")})
    assert_clean(seen)
    names = {u["id"]: u["name"] for u in t.units.values()}

    # the province: what the API lists, in its order; the institutions overdue, in red, first
    p = seen["province"]
    listed = [i["unit"]["id"] for i in p["api"]["items"]]
    assert [row["unit"] for row in p["rows"]] == listed == [row["unit"] for row in p["en_rows"]]
    assert set(listed) == {t.id(k) for k in ("lao_a", "lao_b", "school_a", "cdc_a", "school_b")}
    overdue = {i["unit"]["id"] for i in p["api"]["items"] if i["overdue"]}
    assert overdue == {t.id("school_a"), t.id("cdc_a")}, p["api"]
    assert {row["unit"] for row in p["rows"] if row["overdue"]} == overdue and p["overdue_red"] == 2
    assert set(listed[:2]) == overdue  # the soonest deadlines: passed already
    assert listed[-1] == t.id("school_b")  # its extension puts it last
    rows = {row["unit"]: row["text"] for row in p["rows"]}
    assert "เลยกำหนด" in rows[t.id("school_a")] and names[t.id("school_a")] in rows[t.id("school_a")]
    assert "ขยายกำหนดส่งแล้ว" in rows[t.id("school_b")]
    assert t["school_a"].user["username"] in rows[t.id("school_a")]          # the contact
    assert "คำขอย้ายที่รอดำเนินการ 1" in rows[t.id("school_a")]                # the transfer it holds
    assert "ยืนยันแล้ว 0 จาก 2" in rows[t.id("lao_a")]
    # Buddhist-era dates: the deadline of the LAOs is this year + 543
    lao_deadline = dt.datetime.fromisoformat(next(i["deadline"] for i in p["api"]["items"]
                                                  if i["unit"]["id"] == t.id("lao_a"))).astimezone(BKK)
    assert str(lao_deadline.year + 543) in rows[t.id("lao_a")]
    assert p["tab"] == "ใครยังไม่ยืนยัน" and "ยังไม่ยืนยัน 5 หน่วยงาน" in p["total"]
    assert p["en_heading"].startswith("Units that have not confirmed")
    assert "Overdue" in next(row["text"] for row in p["en_rows"] if row["unit"] == t.id("school_a"))
    assert str(lao_deadline.year) in next(row["text"] for row in p["en_rows"] if row["unit"] == t.id("lao_a"))

    # the LAO: the bell's count is the API's, and leads to its reminder
    lao = seen["lao"]
    assert lao["count"] == str(lao["api"]["total"]) and lao["api"]["total"] >= 1
    assert str(lao["api"]["total"]) in lao["bell"]
    assert lao["hash"] == f"#/u/{t.id('lao_a')}/notices"
    assert lao["kinds"] == [n["kind"] for n in lao["api"]["items"]]
    # (other tests' rounds may remind the same unit too: this round's reminder is the one)
    deadline = next(i for i, n in zip(lao["items"], lao["api"]["items"])
                    if n["kind"] == "deadline" and n["round_id"] == rid)
    assert "ไม่ถึง 3 ชั่วโมง" in deadline, lao["items"]
    assert any("less than 3 hours" in text for text in lao["en_items"]), lao["en_items"]

    # the school: the transfer to answer, linked to the transfers page; no reminder once overdue
    s = seen["school"]
    # (other tests' open rounds may remind the school too: only this round's items count)
    ours = [n for n in s["api"]["items"] if n["round_id"] == rid]
    assert [(n["kind"], n["ref_id"]) for n in ours] == [("transfer", transfer["id"])], s["api"]
    assert s["kinds"] == [n["kind"] for n in s["api"]["items"]]
    k = next(i for i, n in enumerate(s["api"]["items"]) if n["kind"] == "transfer")
    assert s["links"][k] == f"#/u/{t.id('school_a')}/transfers", s["links"]
    assert names[t.id("school_b")] in s["items"][k] and "รอการตอบ" in s["items"][k]
    assert "waiting for an answer" in s["en_items"][k]
