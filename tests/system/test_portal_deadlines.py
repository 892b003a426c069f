"""Deadlines per level in a real browser, Thai then English, each result checked through the
API afterwards: the department refuses itself a province day before the LAOs' (a message in
words, nothing changed), sets the LAO, province and department days in the Buddhist era, and
gives one LAO a later deadline for the LAO level only; that LAO's officer sees it in the
shell. Every page: axe-core serious/critical 0, nothing wider than 390 px, no missing
translation, no page error, no untranslated text outside the test's own data. The scenario:
tests/browser/scenario_deadlines.py."""
import datetime as dt

import pytest

from tests.client import PASSWORD, unique
from tests.system.confirmation_support import new_round
from tests.system.portal_support import assert_clean, axe_figures, run_scenario

BKK = dt.timezone(dt.timedelta(hours=7))
TH_MONTHS = ["ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.", "ก.ค.", "ส.ค.", "ก.ย.", "ต.ค.", "พ.ย.", "ธ.ค."]
EN_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def be(day):
    return f"{day.day:02d}/{day.month:02d}/{day.year + 543}"


def th(day):
    return f"ภายในวันที่ {day.day} {TH_MONTHS[day.month - 1]} {day.year + 543} (เวลา 24.00 น.)"


def en(day):
    return f"by {day.day} {EN_MONTHS[day.month - 1]} {day.year} (24:00)"


def end_of(day):
    """The instant a deadline day ends: midnight after it, Bangkok time."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), BKK)


def instant(text):
    return dt.datetime.fromisoformat(text)


@pytest.mark.timeout(900)
def test_the_deadlines_pages(system, admin, tree):
    t = tree
    today = dt.datetime.now(BKK).date()
    inst = today + dt.timedelta(days=10)
    days = {"lao": today + dt.timedelta(days=12), "province": today + dt.timedelta(days=14),
            "department": today + dt.timedelta(days=20)}
    bad_province = today + dt.timedelta(days=10)  # before the LAOs' new day (the dialog shows day 11)
    extension_day = today + dt.timedelta(days=16)
    r = new_round(admin, opens_at=(today - dt.timedelta(days=5)).isoformat(), closes_at=inst.isoformat())
    rid = r["id"]
    department_user = unique("dept.dl.")
    admin.ok("POST", "/users", 201, json={"username": department_user, "password": PASSWORD,
                                          "org_unit_id": admin.user["org_unit_id"]})
    lao = t.units["lao_a"]

    seen = run_scenario(
        system, "scenario_deadlines", password=PASSWORD, round_id=rid,
        round_name=f"ปีการศึกษา {r['academic_year']} รอบที่ {r['number']}",
        round_year=r["academic_year"], round_number=r["number"],
        department={"username": department_user, "unit_id": admin.user["org_unit_id"]},
        province={"unit_id": t.id("province")},
        lao={"username": t["lao_a"].user["username"], "unit_id": lao["id"]},
        bad={"province": be(bad_province)}, days={k: be(v) for k, v in days.items()},
        extension_date=be(extension_day))
    print("axe serious/critical per page and width:", axe_figures(seen))
    assert_clean(seen)
    own_data = [u["name"] for u in t.units.values()] + [u["code"] for u in t.units.values()] + \
        [c.user["username"] for c in t.clients.values()] + [department_user]
    latin = {c["name"]: [x for x in c.get("latin", []) if not any(d in x for d in own_data)]
             for c in seen["checks"] if c["lang"] == "th"}
    assert not any(latin.values()), latin

    d = seen["department"]
    # before: each level's default, in Thai with Buddhist-era days
    assert th(inst) in d["row_before"], d["row_before"]
    assert f"จังหวัด: {th(inst + dt.timedelta(days=1))}" in d["row_before"], d["row_before"]
    assert "กรม (สรุปผล): ไม่กำหนด" in d["row_before"], d["row_before"]
    assert d["prefilled"] == {"closes_on": be(inst), "lao_on": be(inst), "province_on": be(inst + dt.timedelta(days=1)),
                              "department_on": ""}, d["prefilled"]
    assert any("อปท." in label for label in d["labels"]) and any("จังหวัด" in label for label in d["labels"]), d
    # the province day before the LAOs' was refused in words
    assert d["bad_notice"] and "เรียง" in d["bad_notice"] and "จังหวัด" in d["bad_notice"], d["bad_notice"]
    # then set: shown per level
    assert "เปลี่ยนกำหนดส่ง" in d["notice"], d["notice"]
    assert [x.split(" · ")[0] for x in d["levels"]] == [
        f"สถานศึกษา: {th(inst)}", f"อปท.: {th(days['lao'])}", f"จังหวัด: {th(days['province'])}",
        f"กรม (สรุปผล): {th(days['department'])}"], d["levels"]
    # the extension: the LAO level, chosen among every level and the three levels
    assert d["level_options"] == ["ทุกระดับ", "สถานศึกษา", "อปท.", "จังหวัด"], d["level_options"]
    assert lao["name"] in d["ext_notice"] and "อปท." in d["ext_notice"], d["ext_notice"]
    row = next(x for x in d["ext_rows"] if lao["name"] in x)
    assert "อปท." in row and th(extension_day) in row and "ขยายโดยเจ้าหน้าที่" in row, row
    assert th(days["lao"]) in d["ext_deadlines"], d["ext_deadlines"]
    # English
    row_en = next(x for x in d["en_ext_rows"] if lao["name"] in x)
    assert "LAOs" in row_en and en(extension_day) in row_en and "By an officer" in row_en, row_en
    assert d["en_level_options"] == ["Every level", "Institutions", "LAOs", "Provinces"], d
    assert [x.split(" · ")[0] for x in d["en_levels"]] == [
        f"Institutions: {en(inst)}", f"LAOs: {en(days['lao'])}", f"Provinces: {en(days['province'])}",
        f"Department (finalisation): {en(days['department'])}"], d["en_levels"]
    assert any("LAOs" in label for label in d["en_labels"]), d["en_labels"]
    # the LAO's officer sees its own deadline, extended
    assert seen["lao"]["deadline"] == th(extension_day), seen["lao"]
    assert seen["lao"]["deadline_en"] == en(extension_day), seen["lao"]
    assert seen["lao"]["tags"], seen["lao"]

    # ... through the API
    got = admin.ok("GET", f"/rounds/{rid}")
    assert {k: instant(v) for k, v in got["deadlines"].items()} == {
        "institution": end_of(inst), "lao": end_of(days["lao"]), "province": end_of(days["province"]),
        "department": end_of(days["department"])}, got["deadlines"]
    exts = [e for e in admin.ok("GET", f"/rounds/{rid}/extensions")["items"] if e["org_unit_id"] == lao["id"]]
    assert [(e["level"], instant(e["closes_at"]), e["automatic"]) for e in exts] == [
        ("lao", end_of(extension_day), False)], exts
    w = t["lao_a"].ok("GET", f"/rounds/{rid}/window")
    assert w["level"] == "lao" and w["extended"] and instant(w["closes_at"]) == end_of(extension_day), w
    # the LAO level's extension leaves its schools at the institutions' deadline
    school = t["school_a"].ok("GET", f"/rounds/{rid}/window")
    assert not school["extended"] and instant(school["closes_at"]) == end_of(inst), school
