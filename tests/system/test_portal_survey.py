"""The self-established CDC survey in a real browser: the LAO records a CDC with the survey
form and its establishing order (a text file and a file over 5 MB refused on the form, in
Thai), the province finds it in its pending list (a grandchild: the descendants), opens the
document and sends it back with a reason, the LAO reads the reason in English, corrects the
phone (a wrong one refused), attaches a PNG (a false PDF refused by the server) and
resubmits, the province verifies it and prints the survey form. Each step is checked through
the API; every page: axe-core serious/critical 0, nothing wider than 390 px, no missing
translation, no page error. The scenario: tests/browser/scenario_survey.py."""
import pytest

from tests.client import unique
from tests.system.portal_support import assert_clean, run_scenario


@pytest.mark.timeout(600)
def test_the_cdc_survey_pages(system, admin, tree):
    t = tree
    cdc = {"code": unique("CDC"), "name": "ศูนย์พัฒนาเด็กเล็กบ้านทดสอบ"}
    reason = "คำสั่งจัดตั้งยังไม่ได้ลงนาม"
    seen = run_scenario(
        system, "scenario_survey", password="test-password-1",
        lao={"username": t["lao_a"].user["username"], "unit_id": t.id("lao_a")},
        province={"username": t["province"].user["username"], "unit_id": t.id("province")},
        cdc=cdc, reason=reason, phone="081-234-5678", new_phone="053 123 456")
    assert_clean(seen)
    own_data = [u["name"] for u in t.units.values()] + [cdc["name"], cdc["code"], "big.pdf", "notes.txt",
                                                        "คำสั่งจัดตั้ง.pdf", "somsri@example.org"]
    latin = {c["name"]: [x for x in c.get("latin", []) if not any(d in x for d in own_data)]
             for c in seen["checks"] if c["lang"] == "th"}
    assert not any(latin.values()), latin

    # the LAO's form: the wrong type and the size refused in Thai before anything is sent
    lao = seen["lao"]
    assert "ไม่ใช่ไฟล์ PDF หรือไฟล์รูปภาพ" in lao["type_error"] and "notes.txt" in lao["type_error"], lao
    assert "เกินกำหนด 5 เมกะไบต์" in lao["size_error"], lao
    assert lao["none_created"] == 0, lao
    assert "รอจังหวัดตรวจสอบ" in lao["notice"], lao
    assert lao["unit"]["status"] == "pending" and lao["unit"]["name"] == cdc["name"], lao
    assert lao["profile"]["contact"]["phone"] == "0812345678", lao
    assert lao["profile"]["established_on"] == "2015-05-16", lao  # 16/05/2558 BE
    assert lao["profile"]["buildings"] == {"count": 2, "condition": "fair", "year_built": 2015}, lao
    assert lao["survey"] == {"established_by": "องค์การบริหารส่วนตำบลทดสอบ", "funding_source": "lao_budget",
                             "children_expected": 45}, lao
    assert [d["filename"] for d in lao["documents"]] == ["คำสั่งจัดตั้ง.pdf"], lao
    assert any(cdc["name"] in row for row in lao["rows"]), lao
    uid = lao["unit"]["id"]

    # the province's pending list (its grandchild), the document, the rejection
    pr = seen["province_reject"]
    assert any(cdc["name"] in row and "คำสั่งจัดตั้ง.pdf" in row for row in pr["rows"]), pr
    assert pr["count"].startswith("รอตรวจสอบ 1 แห่ง"), pr
    assert pr["download"].endswith(".pdf"), pr
    assert "เหตุผล" in pr["dialog"], pr
    assert "ส่ง" in pr["notice"] and cdc["name"] in pr["notice"], pr
    assert pr["api"]["status"] == "rejected" and pr["api"]["rejection_reason"] == reason, pr
    assert any(cdc["name"] in row for row in pr["units_rejected"]), pr

    # the LAO, in English: the reason, the phone refused then corrected, documents, resubmitted
    lr = seen["lao_resubmit"]
    assert reason in lr["reason"] and "sent it back" in lr["reason"], lr
    assert "Not a Thai phone number" in lr["phone_error"], lr
    assert "was saved" in lr["saved"] and "was attached" in lr["attached"], lr
    assert "not what its type says" in lr["invalid_document"], lr
    assert "resubmitted" in lr["resubmitted"], lr
    assert lr["api"]["status"] == "pending" and lr["api"]["rejection_reason"] is None, lr
    assert lr["api"]["profile"]["contact"]["phone"] == "053123456", lr
    assert sorted(d["content_type"] for d in lr["api_docs"]) == ["application/pdf", "image/png"], lr

    # the province verifies and prints the survey form
    pv = seen["province_verify"]
    assert any(cdc["name"] in row for row in pv["rows"]), pv
    assert pv["api"]["status"] == "active", pv
    assert "รับรอง" in pv["notice"], pv
    assert pv["print_name"].endswith(".html"), pv
    assert "แบบกรอกข้อมูลศูนย์พัฒนาเด็กเล็ก" in pv["print"] and "16 พฤษภาคม 2558" in pv["print"], pv
    assert "ลงชื่อ" in pv["print"], pv
    assert pv["en_heading"].startswith("CDCs awaiting a check"), pv
    assert (pv["profile_date"], pv["profile_year"], pv["profile_docs"]) == ("16/05/2558", "2558", 2), pv

    # ... and through the API as the test's own client
    final = t["province"].ok("GET", f"/org-units/{uid}")
    assert final["status"] == "active" and final["profile"]["contact"]["phone"] == "053123456"
    assert t["province"].ok("GET", f"/org-units/{uid}/documents")["total"] == 2
    actions = [e["action"] for e in admin.ok("GET", "/audit", params={
        "service": "registry", "entity": "org_unit", "entity_id": str(uid)})["items"]]
    assert {"create", "add_document", "reject", "update", "resubmit", "verify"} <= set(actions), actions
