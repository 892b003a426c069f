"""The portal's shell in a real browser, as the officer of every level: Thai by default and
English after the switch, the round chosen by default and the deadline in the Buddhist era,
the overview of a unit and the search among its units, session renewal (the new token works
through the API), the re-login that keeps the page, one's own password, sign-out clearing
every field; every page checked (axe-core serious/critical 0, nothing wider than 390 px, no
missing translation, no page error). The scenario: tests/browser/scenario_shell.py."""
import datetime as dt

import pytest

from tests.client import PASSWORD, unique
from tests.system.enrollment_helpers import BKK, new_round
from tests.system.portal_support import assert_clean, axe_figures, run_scenario
from tests.system.confirmation_support import wait_until

TH_MONTHS = ["ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.", "ก.ค.", "ส.ค.", "ก.ย.", "ต.ค.", "พ.ย.", "ธ.ค."]
EN_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def new_user(admin, tree, key):
    username = unique(f"shell.{key}.")
    admin.ok("POST", "/users", 201, json={"username": username, "password": PASSWORD, "org_unit_id": tree.id(key)})
    return username


@pytest.mark.timeout(900)
def test_the_shell_for_every_level(system, api, admin, tree):
    # two open rounds: the one with the nearer deadline (Bangkok midnight in 4 days: the
    # deadline DAY is the day before) is every officer's default
    today = dt.datetime.now(BKK).date()
    later = new_round(admin, closes_at="2099-06-30T00:00:00+07:00")
    deadline_day = today + dt.timedelta(days=3)
    midnight = dt.datetime.combine(today + dt.timedelta(days=4), dt.time(0, 0), BKK)
    nearer = new_round(admin, closes_at=midnight.isoformat())
    province = tree.units["province"]
    accounts = {
        "school": {"username": tree["school_a"].user["username"], "unit_id": tree.id("school_a")},
        "lao": {"username": tree["lao_a"].user["username"], "unit_id": tree.id("lao_a"), "search": "school_a"},
        "province": {"username": tree["province"].user["username"], "unit_id": tree.id("province"), "search": "lao_b"},
        "department": {"username": None, "unit_id": admin.user["org_unit_id"], "search": province["code"]},
    }
    victim = new_user(admin, tree, "school_b")
    throttled = new_user(admin, tree, "school_b")
    lao_new_password = "lao-renewed-pass-phrase-4"
    victim_new_password = "school-b-new-pass-phrase-8"
    # a department account of the test's own (the scenario signs every account in with one password)
    accounts["department"]["username"] = new_user_at(admin, admin.user["org_unit_id"])

    seen = run_scenario(system, "scenario_shell", password=PASSWORD, accounts=accounts, victim=victim,
                        victim_new_password=victim_new_password, throttled=throttled,
                        lao_new_password=lao_new_password, round_ids=[later["id"], nearer["id"]])
    print("axe serious/critical per page and width:", axe_figures(seen))
    assert_clean(seen, latin=True)

    # the sign-in page: Thai first, refusals in plain words, no password kept
    login = seen["login"]
    assert login["lang"] == "th" and login["title"] == "เข้าสู่ระบบ", login
    assert login["labels"] == ["ชื่อผู้ใช้", "รหัสผ่าน"], login
    assert "ชื่อผู้ใช้หรือรหัสผ่านไม่ถูกต้อง" in login["wrong"], login
    assert login["password_kept"] == ""
    assert "กรุณารอ" in login["throttled"] and "วินาที" in login["throttled"], login
    assert login["title_en"] == "Sign in" and login["labels_en"] == ["Username", "Password"], login
    assert "try again in" in login["throttled_en"] or "not right" in login["throttled_en"], login

    def expected_th(day):
        return f"ภายในวันที่ {day.day} {TH_MONTHS[day.month - 1]} {day.year + 543} (เวลา 24.00 น.)"

    def expected_en(day):
        return f"by {day.day} {EN_MONTHS[day.month - 1]} {day.year} (24:00)"
    levels_th = {"school": "สถานศึกษา", "lao": "องค์กรปกครองส่วนท้องถิ่น", "province": "จังหวัด", "department": "กรม"}
    levels_en = {"school": "Institution", "lao": "Local administration", "province": "Province", "department": "Department"}
    for level, account in accounts.items():
        s = seen["levels"][level]
        # each officer sees their level's deadline: the provinces' (shown to the department too)
        # is a day after the institutions' and LAOs'
        later_days = 1 if level in ("province", "department") else 0
        day = deadline_day + dt.timedelta(days=later_days)
        unit = admin.ok("GET", f"/org-units/{account['unit_id']}")
        assert s["title"] == unit["name"], (level, s["title"])
        assert account["username"] in s["account"] and levels_th[level] in s["account"], (level, s["account"])
        assert s["hash"] == f"#/u/{unit['id']}/overview", (level, s["hash"])
        assert s["round"] == str(nearer["id"]), (level, s["round"], s["rounds"])
        assert s["deadline"] == expected_th(day), (level, s["deadline"])
        assert s["countdown"].startswith((f"เหลือ {3 + later_days} วัน", f"เหลือ {2 + later_days} วัน")), s["countdown"]
        assert s["badge"] == "เปิดรับข้อมูล", s["badge"]
        assert s["tabs"] and s["tabs"][0] == "ข้อมูลหน่วยงาน", s["tabs"]
        assert any(unit["code"] in row for row in s["details"]), s["details"]
        assert s["breadcrumb"][-1] == unit["name"], s["breadcrumb"]
        # English after the switch, Thai again after switching back
        en = s["en"]
        assert en["lang"] == "en" and levels_en[level] in en["account"], en
        assert en["tabs"][0] == "Unit" and en["deadline"] == expected_en(day) and en["badge"] == "Open for entries", en
        assert levels_th[level] in s["th_again"]
        # the renewed token was the session's; signing out ended it on the server
        assert s["renewed"] == s["stored"] and s["renewed"]
        me = api.get("/me", headers={"Authorization": f"Bearer {s['renewed']}"})
        assert me.status_code == 401 and me.json()["code"] == "unauthorized", me.text
        # signed out: the form empty, nothing stored
        out = s["signed_out"]
        assert out == {"view": "login", "username": "", "password": "", "storage": 0, "hash": "",
                       "notice": out["notice"]}, out
        assert "ออกจากระบบแล้ว" in out["notice"]

    # the units under a unit: searched by name or code, each a link to it
    lao = seen["levels"]["lao"]
    assert lao["children_count"] == 3 and lao["search_rows"] == [tree.units["school_a"]["name"]], lao
    assert lao["child"]["title"] == tree.units["school_a"]["name"]
    assert lao["child"]["hash"] == f"#/u/{tree.id('school_a')}/overview"
    assert lao["child"]["breadcrumb"] == [tree.units["lao_a"]["name"], tree.units["school_a"]["name"]]
    assert seen["levels"]["province"]["search_rows"] == [tree.units["lao_b"]["name"]]
    dept = seen["levels"]["department"]
    assert dept["search_rows"] == [province["name"]], dept["search_rows"]
    assert dept["child"]["breadcrumb"][-1] == province["name"]
    assert "school" not in seen["levels"] or "children_count" not in seen["levels"]["school"]

    # Buddhist-era dates, typed and shown; a deadline at midnight is 24.00 of the day before
    assert seen["dates"] == {
        "be": "2023-11-05", "ce": "2023-11-05", "iso": "2023-11-05", "bad": None, "junk": None,
        "shown": "10 พ.ย. 2566", "input": "10/11/2566", "inputIso": "2023-11-10",
        "placeholder": "วว/ดด/ปปปป (พ.ศ.)",
        "midnight": "ภายในวันที่ 10 พ.ย. 2566 (เวลา 24.00 น.)",
        "noon": "ภายในวันที่ 10 พ.ย. 2566 (เวลา 12.30 น.)",
        "utcMidnight": "ภายในวันที่ 10 พ.ย. 2566 (เวลา 24.00 น.)",
        "time": "10 พ.ย. 2566 เวลา 14.05 น.",
        "passed": "เลยกำหนดแล้ว", "left": "เหลือ 2 วัน 5 ชั่วโมง",
    }, seen["dates"]

    # switching rounds twice quickly: one page, of the round chosen last
    assert seen["switch"]["round"] == str(later["id"]), seen["switch"]
    assert seen["switch"]["overviews"] == 1 and seen["switch"]["details"] == 1, seen["switch"]
    assert seen["switch"]["deadline"] == "ภายในวันที่ 29 มิ.ย. 2642 (เวลา 24.00 น.)", seen["switch"]

    # the warning when idle renews the session; the re-login keeps the page and its form
    assert "ใกล้หมดเวลา" in seen["warning"]["text"], seen["warning"]
    relogin = seen["relogin"]
    assert relogin["changed"] == 204 and relogin["refused"] == 401, relogin
    assert "กรุณาเข้าสู่ระบบอีกครั้ง" in relogin["dialog"], relogin
    assert "ชื่อผู้ใช้หรือรหัสผ่านไม่ถูกต้อง" in relogin["wrong"], relogin
    assert relogin["probe"] == accounts["lao"]["username"], relogin
    assert relogin["search_kept"] == "school_a" and relogin["rows_kept"] == 1, relogin
    me = api.get("/me", headers={"Authorization": f"Bearer {relogin['token']}"})
    assert me.status_code == 200 and me.json()["username"] == accounts["lao"]["username"]
    # the token renewed before the password change ended with it
    wait_until(lambda: api.get("/me", headers={"Authorization": f"Bearer {seen['warning']['renewed']}"})
               .status_code == 401, 10, 0.05, "the renewed token refused")

    # the session's timers: renewed while at work, a warning (no renewal) when idle
    timers = seen["timers"]
    assert timers["renewed"] != timers["first"] and timers["warned_while_active"] == 0, timers
    assert timers["idle_token"] == timers["renewed"], "renewed although idle"
    assert "ใกล้หมดเวลาการใช้งาน" in timers["warning"] and "วินาที" in timers["warning"], timers["warning"]
    assert timers["stayed"] != timers["renewed"]
    for token in (timers["renewed"], timers["stayed"]):
        me = api.get("/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200 and me.json()["username"] == accounts["province"]["username"]

    # one's own password: Thai messages beside the fields, then a new sign-in
    pw = seen["password"]
    assert "รหัสผ่านใหม่ทั้งสองช่องไม่ตรงกัน" in pw["mismatch"]["summary"], pw
    assert "รหัสผ่านปัจจุบันไม่ถูกต้อง" in pw["wrong_current"]["summary"], pw
    assert "รหัสผ่านปัจจุบันไม่ถูกต้อง" in pw["wrong_current"]["fields"], pw
    assert any("เดาง่ายเกินไป" in f or "มีผู้ใช้มากที่สุด" in f for f in pw["weak"]["fields"]), pw
    assert pw["after"]["view"] == "login" and pw["after"]["storage"] == 0
    assert "เปลี่ยนรหัสผ่านแล้ว" in pw["after"]["notice"], pw
    assert victim in pw["signed_in_again"]
    assert api.login(victim, victim_new_password).user["username"] == victim


def new_user_at(admin, unit_id):
    username = unique("shell.dept.")
    admin.ok("POST", "/users", 201, json={"username": username, "password": PASSWORD, "org_unit_id": unit_id})
    return username
