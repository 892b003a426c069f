"""Reaching across the subtree and signing out, in a real browser, in Thai, each outcome checked
through the API afterwards: the province grants a deadline extension to a school two levels
down found by typing part of its Thai name, and creates an account for it through the same
unit search; the LAO lists every account of its subtree and finds one by typing; signing out
shows the sign-in page with empty fields (after Back and a reload too) and the token read from
the page before answers 401; a sign-out that cannot reach the server still clears the page.
Every page state is checked (axe-core serious/critical 0, nothing wider than 390 px, no
missing translation, no untranslated text, no page error). The scenario:
tests/browser/scenario_reach.py."""
import datetime as dt

import pytest

from tests.client import PASSWORD, unique
from tests.system.confirmation_support import wait_until
from tests.system.enrollment_helpers import BKK, new_round
from tests.system.portal_support import assert_clean, axe_figures, run_scenario


def be(day):
    return f"{day.day:02d}/{day.month:02d}/{day.year + 543}"


@pytest.mark.timeout(900)
def test_reach_across_the_subtree_and_sign_out(system, api, admin, tree):
    t = tree
    today = dt.datetime.now(BKK).date()
    closes = today + dt.timedelta(days=20)
    r = new_round(admin, opens_at=(today - dt.timedelta(days=5)).isoformat(), closes_at=closes.isoformat())
    rid = r["id"]
    # a school two levels below the province, with a Thai name of its own
    school = admin.ok("POST", "/org-units", 201, json={
        "code": unique("REACH"), "name": "โรงเรียนบ้านหนองบัวทองพัฒนา", "type": "school", "parent_id": t.id("lao_b")})
    # an account of LAO a's subtree to be found by part of its username
    clerk = unique("kru.somsri.")
    admin.ok("POST", "/users", 201, json={"username": clerk, "password": PASSWORD, "org_unit_id": t.id("cdc_a")})
    extension_day = today + dt.timedelta(days=40)
    new_account = {"username": unique("reach.clerk."), "password": "deep-school-clerk-phrase-8"}

    seen = run_scenario(
        system, "scenario_reach", password=PASSWORD, round_id=rid,
        province={"username": t["province"].user["username"], "unit_id": t.id("province")},
        lao={"username": t["lao_a"].user["username"], "unit_id": t.id("lao_a")},
        school={"id": school["id"], "name": school["name"], "code": school["code"], "search": "หนองบัวทอง",
                "lao_name": t.units["lao_b"]["name"]},
        extension_date=be(extension_day), new_account=new_account,
        account={"username": clerk, "search": clerk[4:10]})
    print("axe serious/critical per page and width:", axe_figures(seen))
    assert_clean(seen, latin=True)

    # the extension: the school was offered by its Thai name with its type, code and LAO
    ext = seen["extension"]
    assert school["name"] not in " ".join(ext["nearby"]), ext  # not at hand: found by searching
    assert ext["search_label"] == "ค้นหาหน่วยงานในสังกัด", ext
    assert len(ext["options"]) == 1, ext
    option = ext["options"][0]
    assert school["name"] in option and "โรงเรียน" in option and school["code"] in option, option
    assert t.units["lao_b"]["name"] in option, option
    assert ext["expanded"] == "true" and "พบ 1 หน่วยงาน" in ext["status"], ext
    assert school["name"] in ext["active"], ext
    assert school["name"] in ext["chosen"] and school["code"] in ext["chosen"], ext
    assert ext["chosen_value"] == str(school["id"]) and ext["expanded_after"] == "false", ext
    assert ext["notice_before"] is None, ext  # Enter chose the unit; the form was not sent
    assert school["name"] in ext["notice"] and "ขยายกำหนดส่ง" in ext["notice"], ext
    assert any(school["name"] in row for row in ext["rows"]), ext
    # ... through the API: the school's window closes at the end of the chosen day
    window = t["province"].ok("GET", f"/rounds/{rid}/window", params={"org_unit_id": school["id"]})
    deadline = dt.datetime.fromisoformat(window["closes_at"]).astimezone(BKK)
    assert window["extended"] is True, window
    assert deadline == dt.datetime.combine(extension_day + dt.timedelta(days=1), dt.time(0), BKK), window
    # its neighbour under the same LAO keeps the round's deadline
    other = t["province"].ok("GET", f"/rounds/{rid}/window", params={"org_unit_id": t.id("school_b")})
    assert not other["extended"], other

    # the account made for the school through the same unit search
    acc = seen["province_account"]
    assert any(school["name"] in o for o in acc["options"]), acc
    assert school["name"] in acc["chosen"] and school["name"] in acc["heading"], acc
    assert new_account["username"] in acc["notice"], acc
    assert acc["mode"] == "all" and acc["search_kept"] == new_account["username"], acc
    assert len(acc["listed"]) == 1 and new_account["username"] in acc["listed"][0], acc
    assert school["name"] in acc["listed"][0], acc
    made = t["province"].ok("GET", "/users", params={"q": new_account["username"]})
    assert made["total"] == 1 and made["items"][0]["org_unit_id"] == school["id"], made
    assert made["items"][0]["role"] == "institution", made

    # every account of the LAO's subtree, then one found by typing part of its name
    la = seen["lao_accounts"]
    assert "ทุกบัญชีในสังกัดของท่าน (ค้นหาได้)" in la["options"], la
    expected = {t["lao_a"].user["username"], t["school_a"].user["username"], t["cdc_a"].user["username"], clerk}
    assert set(la["all_rows"]) == expected and "พบ 4 บัญชี" in la["all_count"], la
    assert la["found_count"] == "พบ 1 บัญชี" and len(la["found_rows"]) == 1, la
    assert clerk in la["found_rows"][0] and t.units["cdc_a"]["name"] in la["found_rows"][0], la
    found = admin.ok("GET", "/users", params={"q": clerk[4:10]})
    assert [u["username"] for u in found["items"]] == [clerk], found

    # signed out: the sign-in page with empty fields, nothing stored, after Back and a reload too
    empty = {"view": "login", "username": "", "password": "", "storage": 0, "token": None, "fields": 0}
    out = dict(seen["lao_signed_out"])
    assert "ออกจากระบบแล้ว" in out.pop("notice"), seen["lao_signed_out"]
    assert out == empty, out
    assert seen["lao_hash_before"].endswith("/accounts"), seen
    back = dict(seen["lao_back"])
    back.pop("hash")
    assert back == empty, seen["lao_back"]
    assert seen["lao_reload"] == empty, seen["lao_reload"]
    # ... and the token the page held before ends on the server: 401, renewal refused too
    token = seen["lao_token"]
    assert token
    headers = {"Authorization": f"Bearer {token}"}
    wait_until(lambda: api.get("/me", headers=headers).status_code == 401, 10, 0.05, "the signed-out token refused")
    r = api.get("/me", headers=headers)
    assert r.status_code == 401 and r.json()["code"] == "unauthorized", r.text
    assert api.post("/auth/renew", headers=headers).status_code == 401
    # the API client of the same account, signed in before, ended with it; a fresh sign-in works
    wait_until(lambda: t["lao_a"].get("/me").status_code == 401, 10, 0.05, "the account's other token refused")
    assert admin.login(t["lao_a"].user["username"]).ok("GET", "/me")["username"] == t["lao_a"].user["username"]
    logouts = admin.ok("GET", "/audit", params={"service": "registry", "action": "logout",
                                                "entity_id": str(t["lao_a"].user["id"])})["items"]
    assert len(logouts) == 1, logouts

    # the province signed out while the server could not be reached: the page is cleared all the
    # same, and its token, never ended on the server, still works
    assert seen["province_signed_out"] == empty, seen["province_signed_out"]
    assert api.get("/me", headers={"Authorization": f"Bearer {seen['province_token']}"}).status_code == 200
