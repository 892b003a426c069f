"""The agencies page in a real browser, checked through the API afterwards: the department
officer creates an agency (its secret shown once, with a copy button and a warning), rotates
its secret (the old one refused, the new one taken), and, in English, disables it (its
secret refused). Every page: axe-core serious/critical 0, nothing wider than 390 px, no
missing translation, no page error, no untranslated text. The scenario:
tests/browser/scenario_agencies.py."""
import pytest

from tests.client import PASSWORD, unique
from tests.system.agency_support import token_response
from tests.system.confirmation_support import new_round
from tests.system.portal_support import assert_clean, axe_figures, run_scenario


@pytest.mark.timeout(600)
def test_the_agencies_page(system, api, admin):
    rid = new_round(admin)["id"]
    officer = unique("dept.ag.")
    admin.ok("POST", "/users", 201, json={"username": officer, "password": PASSWORD,
                                          "org_unit_id": admin.user["org_unit_id"]})
    name = f"สำนักงานสถิติจังหวัดทดสอบ {rid}"
    seen = run_scenario(system, "scenario_agencies", password=PASSWORD, round_id=rid,
                        department={"username": officer, "unit_id": admin.user["org_unit_id"]},
                        agency_name=name, description="ใช้จัดสรรงบประมาณอาหารกลางวัน")
    print("axe serious/critical per page and width:", axe_figures(seen))
    assert_clean(seen, latin=True)
    d = seen["department"]
    assert d["heading"] == "หน่วยงานภายนอกที่ดึงข้อมูลจำนวนที่ยืนยันแล้ว" and d["nav"] == "หน่วยงานภายนอก", d
    assert d["required"] == "กรุณากรอกชื่อหน่วยงาน", d
    # the secret shown once, with the warning and a copy button that worked
    assert name in d["created_title"] and "แสดงรหัสลับนี้ครั้งเดียวเท่านั้น" in d["created_warning"], d
    assert d["created_client_id"].startswith("lec-agency-") and len(d["created_secret"]) >= 32, d
    assert d["created_copy_status"] == "คัดลอกรหัสลับแล้ว", d
    assert d["created_gone"] is True and f"สร้างรหัสเข้าถึงของ {name} แล้ว" in d["created_notice"], d
    assert d["created_client_id"] in d["row"] and "ใช้งาน" in d["row"] and "ยังไม่เคยใช้" in d["row"], d
    assert d["token_first"] == 200, d
    # rotated: the old secret refused, the new one taken; shown once too
    assert "ใช้ไม่ได้ทันที" in d["rotate_dialog"], d
    assert d["rotated_secret"] != d["created_secret"] and d["rotated_client_id"] == d["created_client_id"], d
    assert d["rotated_gone"] is True and "ออกรหัสลับใหม่ของ" in d["rotated_notice"], d
    assert (d["token_old"], d["token_new"]) == (401, 200), d
    # disabled, in English
    assert d["en_heading"] == "Agencies that pull the confirmed counts", d
    assert "cannot be undone" in d["disable_dialog"], d
    assert f"{name} is disabled" in d["disabled_notice"] and "Disabled" in d["disabled_row"], d
    assert d["disabled_buttons"] == 0 and d["token_disabled"] == 401, d
    # ... through the API
    agency = next(a for a in admin.ok("GET", "/agencies", params={"limit": 1000})["items"]
                  if a["id"] == d["agency_id"])
    assert agency["name"] == name and agency["active"] is False and agency["rotated_at"], agency
    assert agency["description"] == "ใช้จัดสรรงบประมาณอาหารกลางวัน" and agency["last_token_at"], agency
    assert token_response(api, d["created_client_id"], d["rotated_secret"]).status_code == 401
    audit = admin.ok("GET", "/audit", params={"service": "registry", "entity": "agency_client",
                                              "entity_id": str(d["agency_id"])})
    assert sorted((e["action"], e["actor_username"]) for e in audit["items"]) == \
        [("create", officer), ("disable", officer), ("rotate", officer)], audit
