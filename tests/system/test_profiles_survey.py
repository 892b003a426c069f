"""Institution profiles and the self-established CDC survey, through the gateway:
who edits a profile, what it accepts, its audit entry and event, the contacts it
gives the blockers view; a new CDC's documents (size, type, bytes, access), the
province's rejection with a reason, the LAO's resubmission, verification, the
pending list and the printable survey form."""
import csv
import io

import pytest

from tests.client import unique
from tests.events import EventCollector

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32

PROFILE = {
    "address": {"line": "99 หมู่ 3 ถนนห้วยแก้ว", "province_code": "50", "district_code": "5001",
                "subdistrict_code": "500105", "postcode": "50200"},
    "established_on": "2015-05-16",
    "authorisation_ref": "คำสั่ง อบต. ที่ 12/2558",
    "contact": {"name": "สมศรี ใจดี", "position": "หัวหน้าศูนย์", "phone": "081-234-5678",
                "email": "somsri@example.org"},
    "capacity": 60,
    "buildings": {"count": 2, "condition": "fair", "year_built": 2015},
}
SURVEY = {"established_by": "องค์การบริหารส่วนตำบลทดสอบ", "funding_source": "lao_budget",
          "children_expected": 45}


@pytest.fixture(scope="module")
def events(lec_env):
    collector = EventCollector(lec_env["AMQP_URI"], "registry", ["unit_changed"])
    yield collector
    collector.close()


@pytest.fixture(scope="module")
def t(admin):
    from tests.client import Tree
    return Tree.build(admin)


def new_cdc(t, **extra):
    body = {"code": unique("CDC"), "name": "ศูนย์พัฒนาเด็กเล็กบ้านใหม่", "type": "cdc",
            "parent_id": t.id("lao_a"), "profile": PROFILE, "survey": SURVEY, **extra}
    return t["lao_a"].ok("POST", "/org-units", 201, json=body)


def upload(client, unit_id, body, content_type="application/pdf", filename="คำสั่งจัดตั้ง.pdf", **params):
    return client.post(f"/org-units/{unit_id}/documents", data=body,
                       headers={"Content-Type": content_type},
                       params={"filename": filename, **params})


# -- the profile -----------------------------------------------------------------------------

def test_profile_is_edited_by_the_institution_and_its_lao_audited_and_announced(t, admin, events):
    cdc = t.id("cdc_a")
    r = t["cdc_a"].patch(f"/org-units/{cdc}", json={"profile": PROFILE})
    assert r.status_code == 200, r.text
    unit = r.json()
    assert unit["profile"]["contact"]["phone"] == "0812345678"  # kept as digits
    assert unit["profile"]["buildings"] == {"count": 2, "condition": "fair", "year_built": 2015}
    assert r.headers["ETag"] == f'"{unit["version"]}"'
    # the LAO changes one field of the contact: the rest stays
    changed = t["lao_a"].ok("PATCH", f"/org-units/{cdc}", json={
        "profile": {"contact": {"email": "head@example.org"}, "capacity": 80},
        "version": unit["version"]})
    assert changed["profile"]["contact"] == {"name": "สมศรี ใจดี", "position": "หัวหน้าศูนย์",
                                             "phone": "0812345678", "email": "head@example.org"}
    assert changed["profile"]["capacity"] == 80 and changed["version"] == unit["version"] + 1
    assert t["province"].ok("GET", f"/org-units/{cdc}")["profile"] == changed["profile"]
    # an old version (body or If-Match) is a conflict
    stale = t["lao_a"].patch(f"/org-units/{cdc}", json={"profile": {"capacity": 1}, "version": unit["version"]})
    assert stale.status_code == 409 and stale.json()["code"] == "conflict", stale.text
    stale = t["lao_a"].patch(f"/org-units/{cdc}", json={"profile": {"capacity": 1}},
                             headers={"If-Match": f'"{unit["version"]}"'})
    assert stale.status_code == 409
    # the other LAO and a sibling school do not see it; the school edits only itself
    assert t["lao_b"].patch(f"/org-units/{cdc}", json={"profile": {"capacity": 1}}).status_code == 404
    assert t["school_a"].patch(f"/org-units/{cdc}", json={"profile": {"capacity": 1}}).status_code == 404
    assert t["school_a"].ok("PATCH", f"/org-units/{t.id('school_a')}",
                            json={"profile": {"capacity": 400}})["profile"] == {"capacity": 400}
    # audited with the values before and after
    entries = admin.ok("GET", "/audit", params={"service": "registry", "entity": "org_unit",
                                                "entity_id": str(cdc), "action": "update"})["items"]
    latest = entries[0]
    assert latest["details"]["before"]["profile"]["capacity"] == 60
    assert latest["details"]["after"]["profile"]["capacity"] == 80
    assert latest["actor_username"] == t["lao_a"].user["username"]
    # unit_changed carries the profile
    event = events.wait_for(lambda e: e.get("unit", {}).get("id") == cdc
                            and e.get("unit", {}).get("profile", {}).get("capacity") == 80)
    assert event["change"] == "updated"
    assert event["unit"]["profile"]["contact"]["email"] == "head@example.org"


@pytest.mark.parametrize("patch, field", [
    ({"contact": {"phone": "12345"}}, "phone"),
    ({"contact": {"email": "not-an-email"}}, "email"),
    ({"address": {"province_code": "5"}}, "province_code"),
    ({"address": {"province_code": "50", "district_code": "1001"}}, "district_code"),
    ({"address": {"district_code": "5001", "subdistrict_code": "500"}}, "subdistrict_code"),
    ({"capacity": -1}, "capacity"),
    ({"buildings": {"condition": "ruined"}}, "condition"),
    ({"buildings": {"year_built": 2568}}, "year_built"),  # a BE year where CE is asked
    ({"established_on": "2999-01-01"}, "established_on"),
    ({"colour": "blue"}, "colour"),
])
def test_profile_validation(t, patch, field):
    r = t["lao_a"].patch(f"/org-units/{t.id('cdc_a')}", json={"profile": patch})
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "validation_error"
    assert field in str(r.json()["errors"]["profile"]), r.json()


def test_buildings_only_for_cdcs_and_no_profile_for_laos(t):
    r = t["lao_a"].patch(f"/org-units/{t.id('school_a')}", json={"profile": {"buildings": {"count": 1}}})
    assert r.status_code == 422 and "buildings" in str(r.json()["errors"])
    r = t["province"].patch(f"/org-units/{t.id('lao_a')}", json={"profile": {"capacity": 1}})
    assert r.status_code == 422
    assert t["lao_a"].patch(f"/org-units/{t.id('cdc_a')}", json={}).status_code == 422


def test_contacts_of_the_blockers_view_include_the_profile_officer(t, admin):
    unit = new_cdc(t)
    t["province"].ok("POST", f"/org-units/{unit['id']}/verify")
    year = __import__("tests.client", fromlist=["academic_year"]).academic_year()
    rid = admin.ok("POST", "/rounds", 201, json={"academic_year": year, "number": 1,
                                                  "census_date": "2026-06-10", "opens_at": "2026-06-01",
                                                  "closes_at": "2099-06-30"})["id"]
    from tests.system.confirmation_support import wait_until

    def officer():
        rows = t["lao_a"].ok("GET", f"/rounds/{rid}/blockers", params={"limit": 100})["items"]
        row = next((r for r in rows if r["unit"]["id"] == unit["id"]), None)
        return row and next((c for c in row["contacts"] if c.get("role") == "officer"), None)

    found = wait_until(officer, 15, 0.2, "the new CDC among the blockers")
    assert found["phone"] == "0812345678" and found["email"] == "somsri@example.org"
    assert found["name"] == "สมศรี ใจดี"


# -- the survey: documents, rejection, resubmission, verification ----------------------------

def test_documents_size_type_bytes_and_access(t, admin):
    unit = new_cdc(t)
    assert unit["status"] == "pending"
    doc = upload(t["lao_a"], unit["id"], PDF)
    assert doc.status_code == 201, doc.text
    meta = doc.json()
    assert meta["filename"] == "คำสั่งจัดตั้ง.pdf" and meta["size"] == len(PDF)
    assert meta["kind"] == "establishment_order" and meta["content_type"] == "application/pdf"
    # the province reads the list and the file, byte for byte
    listed = t["province"].ok("GET", f"/org-units/{unit['id']}/documents")
    assert [d["id"] for d in listed["items"]] == [meta["id"]] and "content" not in listed["items"][0]
    got = t["province"].get(f"/org-units/{unit['id']}/documents/{meta['id']}")
    assert got.status_code == 200 and got.content == PDF
    assert got.headers["Content-Type"] == "application/pdf"
    assert got.headers["Content-Disposition"].startswith("attachment;")
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    # outsiders: the other LAO, a school of the same LAO
    for outsider in ("lao_b", "school_a"):
        assert t[outsider].get(f"/org-units/{unit['id']}/documents/{meta['id']}").status_code == 404
        assert t[outsider].get(f"/org-units/{unit['id']}/documents").status_code == 404
        assert upload(t[outsider], unit["id"], PDF).status_code == 404
    # a PNG is fine; a "PDF" that is not one, or a type not taken, is refused
    assert upload(t["lao_a"], unit["id"], PNG, "image/png", "อาคาร.png", kind="other").status_code == 201
    r = upload(t["lao_a"], unit["id"], b"<html>not a pdf</html>")
    assert r.status_code == 422 and r.json()["code"] == "invalid_document", r.text
    r = upload(t["lao_a"], unit["id"], PDF, "image/png", "x.png")
    assert r.status_code == 422 and r.json()["code"] == "invalid_document"
    r = upload(t["lao_a"], unit["id"], b"hello", "text/plain", "x.txt")
    assert r.status_code == 415 and r.json()["code"] == "unsupported_media_type"
    # too large: refused before it is read
    r = upload(t["lao_a"], unit["id"], PDF + b"0" * (5 * 1024 * 1024))
    assert r.status_code == 413 and r.json()["code"] == "payload_too_large", r.text
    assert t["lao_a"].ok("GET", f"/org-units/{unit['id']}/documents")["total"] == 2
    # deleted while pending; audited
    assert t["lao_a"].delete(f"/org-units/{unit['id']}/documents/{meta['id']}").status_code == 204
    assert t["lao_a"].get(f"/org-units/{unit['id']}/documents/{meta['id']}").status_code == 404
    actions = [e["action"] for e in admin.ok("GET", "/audit", params={
        "service": "registry", "entity": "org_unit", "entity_id": str(unit["id"])})["items"]]
    assert "add_document" in actions and "delete_document" in actions


def test_reject_with_a_reason_correct_resubmit_verify(t, admin, events):
    unit = new_cdc(t)
    uid = unit["id"]
    upload(t["lao_a"], uid, PDF)
    # the province's pending list (the CDC is its grandchild)
    pending = t["province"].ok("GET", f"/org-units/{t.id('province')}/descendants",
                               params={"status": "pending", "type": "cdc"})
    assert uid in [u["id"] for u in pending["items"]]
    # an LAO neither rejects nor verifies; the reason is required
    assert t["lao_a"].post(f"/org-units/{uid}/reject", {"reason": "ไม่ครบ"}).status_code == 403
    assert t["province"].post(f"/org-units/{uid}/reject", {}).status_code == 422
    rejected = t["province"].ok("POST", f"/org-units/{uid}/reject",
                                json={"reason": "ไม่มีคำสั่งจัดตั้งที่ลงนามแล้ว"})
    assert rejected["status"] == "rejected"
    # the LAO sees why; the rejected list finds it
    seen = t["lao_a"].ok("GET", f"/org-units/{uid}")
    assert seen["status"] == "rejected" and seen["rejection_reason"] == "ไม่มีคำสั่งจัดตั้งที่ลงนามแล้ว"
    listed = t["lao_a"].ok("GET", f"/org-units/{t.id('lao_a')}/children", params={"status": "rejected"})
    assert [u["rejection_reason"] for u in listed["items"] if u["id"] == uid] == [seen["rejection_reason"]]
    # downstream services hear of it as not verified
    event = events.wait_for(lambda e: e.get("unit", {}).get("id") == uid and e.get("change") == "rejected")
    assert event["unit"]["status"] == "pending"
    # a rejected unit is not verified; the LAO corrects it and resubmits
    assert t["province"].post(f"/org-units/{uid}/verify").status_code == 409
    t["lao_a"].ok("PATCH", f"/org-units/{uid}", json={"survey": {"children_expected": 50},
                                                       "profile": {"authorisation_ref": "คำสั่งที่ 13/2558"}})
    assert upload(t["lao_a"], uid, PDF, filename="คำสั่งลงนาม.pdf").status_code == 201
    again = t["lao_a"].ok("POST", f"/org-units/{uid}/resubmit")
    assert again["status"] == "pending" and again["rejection_reason"] is None
    assert t["lao_a"].post(f"/org-units/{uid}/resubmit").status_code == 409
    verified = t["province"].ok("POST", f"/org-units/{uid}/verify")
    assert verified["status"] == "active"
    final = t["lao_a"].ok("GET", f"/org-units/{uid}")
    assert final["survey"]["children_expected"] == 50
    assert t["lao_a"].ok("GET", f"/org-units/{uid}/documents")["total"] == 2
    # the survey is no longer corrected, documents no longer deleted
    assert t["lao_a"].patch(f"/org-units/{uid}", json={"survey": {"children_expected": 1}}).status_code == 409
    actions = [e["action"] for e in admin.ok("GET", "/audit", params={
        "service": "registry", "entity": "org_unit", "entity_id": str(uid)})["items"]]
    assert {"create", "reject", "resubmit", "verify"} <= set(actions)


def test_survey_fields_are_validated_and_only_for_cdcs(t):
    bad = dict(SURVEY, funding_source="lottery")
    r = t["lao_a"].post("/org-units", {"code": unique("CDC"), "name": "ศูนย์ใหม่", "type": "cdc",
                                       "parent_id": t.id("lao_a"), "survey": bad})
    assert r.status_code == 422 and "funding_source" in str(r.json()["errors"]["survey"])
    r = t["lao_a"].post("/org-units", {"code": unique("S"), "name": "โรงเรียนใหม่", "type": "school",
                                       "parent_id": t.id("lao_a"), "survey": SURVEY})
    assert r.status_code == 422


# -- the printable survey form ---------------------------------------------------------------

def test_survey_form_per_cdc_and_per_province(t):
    unit = new_cdc(t, name="ศูนย์แบบสำรวจ")
    upload(t["lao_a"], unit["id"], PDF)
    one = t["lao_a"].ok("GET", f"/org-units/{unit['id']}/survey-form")
    assert one["title"].startswith("แบบกรอกข้อมูลศูนย์พัฒนาเด็กเล็ก")
    row = one["sections"][0]["rows"][0]
    assert row[2] == "ศูนย์แบบสำรวจ" and "16 พฤษภาคม 2558" in row  # BE date
    assert "2558" in row and "0812345678" in row and 1 in row[-1:]  # year built in BE, documents
    province = t["province"].ok("GET", f"/org-units/{t.id('province')}/survey-form")
    names = [r[2] for r in province["sections"][0]["rows"]]
    assert "ศูนย์แบบสำรวจ" in names
    assert any(line.startswith("ลงชื่อ") for line in province["footer"])
    # printable and as CSV
    page = t["province"].get(f"/org-units/{t.id('province')}/survey-form", params={"format": "html"})
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "ศูนย์แบบสำรวจ" in page.text and "ลงชื่อ" in page.text and "พ.ศ." in page.text
    got = t["province"].get(f"/org-units/{t.id('province')}/survey-form", headers={"Accept": "text/csv"})
    assert got.status_code == 200 and got.headers["Content-Disposition"].startswith("attachment;")
    rows = list(csv.reader(io.StringIO(got.content.decode("utf-8-sig"))))
    assert rows[1][0].startswith("แบบกรอกข้อมูลศูนย์พัฒนาเด็กเล็ก")
    assert any("ศูนย์แบบสำรวจ" in r for r in rows)
    # not a school's; not an outsider's
    assert t["school_a"].get(f"/org-units/{t.id('school_a')}/survey-form").status_code == 422
    assert t["lao_b"].get(f"/org-units/{unit['id']}/survey-form").status_code == 404
