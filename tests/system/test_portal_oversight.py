"""The LAO, province and department officers' pages in a real browser, in Thai, each action
checked through the API afterwards: the LAO sees its children by name and revokes a
school's confirmation with a reason, enters an other-affiliation school's headcount,
creates an account and resets its password, adds a school; the province verifies that
school, grants a deadline extension and reads its audit log and reports; the department
creates a round with Buddhist-era dates and changes its settings (a bad tier refused beside
its field, a rate and the CDC milk price saved after the confirmation step), and verifies
a CDC the LAO recorded; the LAO enables again the account it disabled; LAO b, confirmed,
sees why it cannot revoke its school. Every page is checked (axe-core serious/critical
0, nothing wider than 390 px, no missing translation, no untranslated text, no page
error). The scenario: tests/browser/scenario_oversight.py."""
import datetime as dt

import pytest

from tests.client import CHECKS_OFF, PASSWORD, Client, academic_year, unique
from tests.system.enrollment_helpers import BKK, learner, learners_url, new_round
from tests.system.portal_support import assert_clean, axe_figures, run_scenario


SCHOOL_NOTE = "ครูประจำชั้นตรวจนับตัวนักเรียนครบทุกห้องแล้ว"


def be(day):
    return f"{day.day:02d}/{day.month:02d}/{day.year + 543}"


@pytest.mark.timeout(900)
def test_the_oversight_pages(system, api, admin, tree):
    t = tree
    today = dt.datetime.now(BKK).date()
    closes = today + dt.timedelta(days=20)
    opened = (today - dt.timedelta(days=5)).isoformat()
    # round 1 of a year with the other school's headcount; round 2 is the one worked on
    census_year = academic_year()
    r1 = new_round(admin, year=census_year, number=1, opens_at=opened)
    t["lao_a"].ok("PUT", f"/rounds/{r1['id']}/institutions/{t.id('other_a')}/headcount",
                  json={"counts": {"p1": 10, "p2": 7}})
    # of the checks before confirming only "no learners" runs (a query: the empty CDC has one)
    only_empty = {"checks": {"rules": {**CHECKS_OFF["checks"]["rules"], "no_active_learners": {"enabled": True}}}}
    r = new_round(admin, year=census_year, number=2, opens_at=opened, closes_at=closes.isoformat(),
                  settings=only_empty)
    rid = r["id"]
    # the school has a learner and has confirmed; the CDC has not; LAO b's school has confirmed
    t["school_a"].ok("POST", learners_url(r, t, "school_a"), 201, json=learner())
    t["school_a"].ok("POST", f"/rounds/{rid}/confirmations/{t.id('school_a')}", json={"note": SCHOOL_NOTE})
    t["school_b"].ok("POST", learners_url(r, t, "school_b"), 201, json=learner(grade="p2"))
    t["school_b"].ok("POST", f"/rounds/{rid}/confirmations/{t.id('school_b')}")
    department_user = unique("dept.ov.")
    admin.ok("POST", "/users", 201, json={"username": department_user, "password": PASSWORD,
                                          "org_unit_id": admin.user["org_unit_id"]})
    new_account = {"username": unique("school.ov."), "password": "school-a-clerk-pass-phrase-7"}
    new_school = {"code": unique("NS")[:12], "name": "โรงเรียนบ้านใหม่พัฒนา"}
    extension_day = today + dt.timedelta(days=45)
    year = academic_year()
    census, opens, ends = dt.date(year - 543, 6, 10), dt.date(year - 543, 6, 1), dt.date(year - 543, 7, 15)
    new_ends = dt.date(year - 543, 7, 31)
    close_day = today - dt.timedelta(days=2)
    headcount = {"p1": 12, "p2": 8, "m1": 5}
    units = t.units
    # a CDC that LAO a records through the API: pending until the department verifies it
    pending_cdc = t["lao_a"].ok("POST", "/org-units", 201, json={
        "code": unique("PC")[:12], "name": "ศูนย์พัฒนาเด็กเล็กบ้านรอรับรอง", "type": "cdc",
        "parent_id": t.id("lao_a")})
    assert pending_cdc["status"] == "pending", pending_cdc
    # the LAO's checks read once (its institutions' findings stored): the CDC has no learner yet
    t["lao_a"].ok("GET", f"/rounds/{rid}/checks", params={"org_unit_id": t.id("lao_a")})
    checks_before = {i["unit"]["id"]: i["checks"] for i in t["lao_a"].ok(
        "GET", f"/rounds/{rid}/reports/progress", params={"org_unit_id": t.id("lao_a")})["items"]}
    assert checks_before[t.id("cdc_a")] == {"errors": 0, "queries": 1, "explained": 0, "unexplained": 1}, checks_before

    seen = run_scenario(
        system, "scenario_oversight", password=PASSWORD, round_id=rid,
        lao={"username": t["lao_a"].user["username"], "unit_id": t.id("lao_a")},
        lao_b={"username": t["lao_b"].user["username"], "unit_id": t.id("lao_b")},
        province={"username": t["province"].user["username"], "unit_id": t.id("province")},
        department={"username": department_user, "unit_id": admin.user["org_unit_id"]},
        school={"id": t.id("school_a"), "name": units["school_a"]["name"]},
        school_b={"id": t.id("school_b"), "name": units["school_b"]["name"]},
        pending_cdc={"id": pending_cdc["id"], "name": pending_cdc["name"]},
        cdc={"id": t.id("cdc_a"), "name": units["cdc_a"]["name"]},
        other_school={"id": t.id("other_a"), "name": units["other_a"]["name"]},
        revoke_reason="ขอแก้ไขชั้นเรียนของนักเรียน", headcount=headcount,
        new_account=new_account, new_school=new_school,
        extension={"unit_id": t.id("lao_b"), "date": be(extension_day)},
        close_date=be(close_day),
        new_round={"academic_year": year, "number": 1, "census": be(census), "opens": be(opens), "closes": be(ends),
                   "new_closes": be(new_ends)})
    print("axe serious/critical per page and width:", axe_figures(seen))
    assert_clean(seen, latin=True)

    # the approval screen: the children by name, state and who has not confirmed
    children = seen["children"]
    assert set(children["names"]) >= {units["school_a"]["name"], units["cdc_a"]["name"]}, children
    school_row = next(row for row in children["rows"] if units["school_a"]["name"] in row)
    assert "ยืนยันแล้ว" in school_row and t["school_a"].user["username"] in school_row, school_row
    assert f"หมายเหตุ: {SCHOOL_NOTE}" in school_row, school_row  # the school's note, seen from above
    assert "2569" in school_row or str(today.year + 543) in school_row, school_row
    assert units["cdc_a"]["name"] in children["not_yet"] and units["school_a"]["name"] not in children["not_yet"]
    assert "ยกเลิกการยืนยัน" in children["dialog"], children
    assert "ยกเลิกการยืนยันของ" in children["after_notice"], children
    # ... through the API: the school is open again, with the reason recorded
    state = t["lao_a"].ok("GET", f"/rounds/{rid}/confirmations/{t.id('school_a')}")
    assert state["state"] == "open", state
    history = t["lao_a"].ok("GET", f"/rounds/{rid}/confirmations/{t.id('school_a')}/history")
    assert any((h.get("details") or {}).get("reason") == "ขอแก้ไขชั้นเรียนของนักเรียน"
               for h in history["items"] if h["action"] in ("revoke", "unsealed")), history
    after_row = next(row for row in children["after_rows"] if units["school_a"]["name"] in row)
    assert "ยังไม่ยืนยัน" in after_row, after_row
    # the checks column: explained/queries (and errors) of each child, as the progress report has them
    for key in ("school_a", "cdc_a"):
        tally = checks_before[t.id(key)]
        want = f"{tally['explained']}/{tally['queries']}" + (f" · ข้อผิดพลาด {tally['errors']}" if tally["errors"] else "")
        cell = children["checks"][units[key]["name"]]
        assert cell == {"text": want, "href": f"#/u/{t.id(key)}/checks"}, (key, cell, tally)

    # headcounts: Thai grade names, the total, saved
    hc = seen["headcounts"]
    assert {"ป.1", "ม.6", "อ.1"} <= set(hc["labels"]), hc
    assert "ระดับประถมศึกษา" in hc["legends"], hc
    assert "รอบก่อน" in hc["previous"] and "17" in hc["previous"], hc
    assert hc["after_use_previous"] == "เท่ากับรอบก่อน" and hc["p1_after_use_previous"] == "10", hc
    assert "25" in hc["total_shown"] and "25" in hc["total_after"], hc
    saved = t["lao_a"].ok("GET", f"/rounds/{rid}/institutions/{t.id('other_a')}/headcount")
    assert saved["counts"]["total"] == 25 and saved["counts"]["by_grade"] == headcount, saved

    # LAO b confirmed its own unit after the summary and the explicit step
    lc = seen["lao_confirm"]
    assert "หน่วยงานในสังกัดยืนยันครบทุกแห่งแล้ว" in lc["summary"], lc
    assert "ผู้เรียน" in lc["dialog"] and "ป.2" in lc["dialog"] and "ยืนยันข้อมูล" in lc["dialog"], lc
    assert "ยืนยันข้อมูลของ" in lc["notice"] and "ยืนยันแล้วเมื่อ" in lc["after"], lc
    lao_b = t["lao_b"].ok("GET", f"/rounds/{rid}/confirmations/{t.id('lao_b')}")
    assert lao_b["state"] == "confirmed" and lao_b["confirmed_by"] == t["lao_b"].user["id"], lao_b
    assert lao_b["counts"]["total"] == 1, lao_b
    # the money at stake for the whole LAO, on the page and in the dialog: the API's preview
    preview = t["lao_b"].ok("GET", f"/rounds/{rid}/reports/budget",
                            params={"org_unit_id": t.id("lao_b"), "preview": "true"})["preview"]
    money = preview["totals"]["all"]
    assert money["total"] > 0 and preview["change"]["total"] == 0, preview
    assert lc["money_total"] == lc["dialog_money_total"] == f"{money['total']:,.2f}", (lc, money)
    for text in (lc["summary"], lc["dialog"]):
        assert f"ค่าอาหารกลางวัน {money['lunch']:,.2f} บาท, อาหารเสริม (นม) {money['milk']:,.2f} บาท" in text, text
        assert "ต่อปีการศึกษา" in text and "เท่ากับที่ยืนยันครั้งล่าสุด" in text, text

    # accounts: created for the school, its password reset: the new one signs in, the old not
    acc = seen["accounts"]
    assert "สั้นเกินไป" in acc["weak"] and "ดี" in acc["strong"], acc
    assert new_account["username"] in acc["listed"], acc
    users = t["lao_a"].ok("GET", "/users", params={"org_unit_id": t.id("school_a")})
    assert any(u["username"] == new_account["username"] and u["role"] == "institution" for u in users["items"])
    client = Client(api.base_url)
    assert client.post("/auth/token", json={"username": new_account["username"],
                                            "password": new_account["password"]}).status_code == 401
    # ... then disabled: the reset password no longer signs in (asked while it was disabled)
    assert "ระงับใช้งาน" in acc["disabled_notice"] and "ระงับใช้งาน" in acc["disabled_row"], acc
    enable = seen["enable"]
    assert enable["refused_while_disabled"] in (401, 403), enable
    # ... and enabled again: active, and the reset password signs in once more
    assert "เปิดใช้งานบัญชี" in enable["notice"] and new_account["username"] in enable["notice"], enable
    assert enable["badge"] == "ใช้งาน" and enable["disable_offered"] == 1, enable
    user = next(u for u in t["lao_a"].ok("GET", "/users", params={"org_unit_id": t.id("school_a")})["items"]
                if u["username"] == new_account["username"])
    assert user["active"] is True, user
    signed = client.post("/auth/token", json={"username": new_account["username"], "password": acc["reset_password"]})
    assert signed.status_code == 200, signed.text

    # LAO b has confirmed: its school's revoke is not offered, the reason stands in its place
    pc = seen["parent_confirmed"]
    assert pc["revoke_buttons"] == 0 and pc["any_revoke"] == 0, pc
    assert f"{units['lao_b']['name']} ยืนยันแล้ว ต้องยกเลิกการยืนยันของ {units['lao_b']['name']} ก่อน" in pc["row"], pc
    school_b = t["lao_b"].ok("GET", f"/rounds/{rid}/confirmations/{t.id('school_b')}")
    assert school_b["state"] == "confirmed", school_b

    # units: the LAO's new school, verified by the province
    assert "รอจังหวัดรับรอง" in seen["units"]["notice"], seen["units"]
    children_now = t["lao_a"].ok("GET", f"/org-units/{t.id('lao_a')}/children", params={"q": new_school["code"]})
    assert children_now["total"] == 1, children_now
    made = children_now["items"][0]
    assert (made["name"], made["type"], made["status"]) == (new_school["name"], "school", "active"), made
    assert "รับรอง" in seen["verify"]["notice"], seen["verify"]
    # the CDC closed on the day typed
    cdc = t["lao_a"].ok("GET", f"/org-units/{t.id('cdc_a')}")
    assert cdc["status"] == "closed" and cdc["closed_on"] == close_day.isoformat(), cdc
    assert "ปิด" in seen["units"]["closed_notice"], seen["units"]

    # the extension: LAO b's window closes at the end of the chosen day
    ext = t["lao_b"].ok("GET", f"/rounds/{rid}/window")
    deadline = dt.datetime.fromisoformat(ext["closes_at"]).astimezone(BKK)
    assert ext["extended"] and deadline == dt.datetime.combine(extension_day + dt.timedelta(days=1), dt.time(0), BKK), ext
    assert units["lao_b"]["name"] in " ".join(seen["extension"]["rows"]), seen["extension"]

    # the province's audit log shows the verification and the LAO's revocation
    audit = " ".join(seen["audit"])
    assert "รับรอง" in audit and "ยกเลิกการยืนยัน" in audit, seen["audit"]
    assert any("ยกเลิกการยืนยัน" in row for row in seen["lao_audit"]), seen["lao_audit"]

    # reports of the province, with a download
    assert "สรุปจำนวนผู้เรียน" in seen["reports"]["summary"], seen["reports"]
    assert seen["reports"]["download"].endswith(".csv"), seen["reports"]

    # the department's round: Buddhist-era dates typed, stored as the days meant
    made = admin.ok("GET", "/rounds", params={"academic_year": year})["items"]
    assert len(made) == 1, made
    assert made[0]["census_date"] == census.isoformat(), made
    assert dt.datetime.fromisoformat(made[0]["opens_at"]).astimezone(BKK).date() == opens
    # created with the last day typed (shown as the deadline day), then moved (below)
    row = next(row for row in seen["round"]["rows"] if f"ปีการศึกษา {year} รอบที่ 1" in row)
    assert f"ภายในวันที่ 15 ก.ค. {year}" in row, row
    assert made[0]["settings"]["lunch"]["school"]["days"] == 200, made
    assert any(f"ปีการศึกษา {year} รอบที่ 1" in row for row in seen["round"]["rows"]), seen["round"]
    # the new round is offered in the round selector at once, without signing in again
    assert any(f"{year} รอบที่ 1" in option for option in seen["round"]["options"]), seen["round"]
    assert "เปลี่ยนกำหนดส่ง" in seen["round"]["deadline_notice"], seen["round"]
    moved = admin.ok("GET", f"/rounds/{made[0]['id']}")
    assert dt.datetime.fromisoformat(moved["closes_at"]).astimezone(BKK) == \
        dt.datetime.combine(new_ends + dt.timedelta(days=1), dt.time(0), BKK), moved

    # the round's settings in the portal: Thai labels and grade names
    st = seen["settings"]
    assert st["round_id"] == made[0]["id"], st
    assert {"อัตรา (บาท/คน/วัน)", "ราคานมต่อถุง (บาท/ถุง)", "จำนวนวัน (วัน)", "อายุต่ำสุด (ปี)", "ตั้งแต่ (คน)",
            "ถึง (คน)", "อ.1", "ป.6", "ม.6"} <= set(st["labels"]), st["labels"]
    assert {"อาหารกลางวันโรงเรียน", "อาหารเสริม (นม) ศูนย์พัฒนาเด็กเล็ก", "ขั้นที่ 1", "ขั้นที่ 4"} <= set(st["legends"]), st
    # a tier ending before it starts: refused beside that field, in Thai, and nothing saved
    assert "การเปลี่ยนอัตราจะมีผลกับการคำนวณงบประมาณของรอบนี้" in st["bad_dialog"], st["bad_dialog"]
    assert "ขั้นที่ 2: จำนวนสูงสุดต้องไม่น้อยกว่าจำนวนเริ่มต้นของขั้น" in st["bad_error"], st
    assert "ขั้นที่ 2" in st["bad_summary"] and st["bad_invalid"] == "true", st
    assert st["after_bad"] == st["before"], (st["after_bad"], st["before"])
    # a tier added then removed: back to four, the last open-ended
    assert (st["tiers_added"], st["tiers_removed"]) == (5, 4), st
    assert "ขึ้นไป" in st["last_open"], st
    assert st["tier3_min"] == "101", st  # the next tier follows the upper bound typed
    # the confirmation step lists exactly the two changes
    assert "การเปลี่ยนอัตราจะมีผลกับการคำนวณงบประมาณของรอบนี้" in st["dialog"], st["dialog"]
    assert "ขั้นที่ 2 · อัตรา (บาท/คน/วัน): 27.00 → 28.50" in st["dialog"], st["dialog"]
    assert "ราคานมต่อถุง (บาท/ถุง): 7.35 → 7.82" in st["dialog"], st["dialog"]
    assert st["dialog"].count("→") == 2, st["dialog"]
    assert "บันทึกค่ากำหนดของ" in st["notice"], st
    # ... through the API: exactly those two values changed
    after = admin.ok("GET", f"/rounds/{made[0]['id']}")
    expected = st["before"]["settings"]
    expected["lunch"]["school"]["tiers"][1]["rate"] = 28.5
    expected["milk"]["cdc"]["price_per_pack"] = 7.82
    assert after["settings"] == expected, (after["settings"], expected)
    assert after["version"] == st["before"]["version"] + 1, (after["version"], st["before"]["version"])
    # the province reads the settings without a form
    ps = seen["province_settings"]
    assert ps["forms"] == 0 and "แก้ไขได้เฉพาะเจ้าหน้าที่ของกรม" in ps["text"], ps
    assert any("ขั้นที่ 1" in row and "36.00 บาท" in row for row in ps["tiers"]), ps

    # the department verified the CDC that LAO a recorded
    dv = seen["department_verify"]
    assert "ศูนย์พัฒนาเด็กเล็กบ้านรอรับรอง" in dv["dialog"] and "รับรอง" in dv["notice"], dv
    verified = admin.ok("GET", f"/org-units/{pending_cdc['id']}")
    assert verified["status"] == "active", verified
