"""The OpenAPI document against the API it describes.

- Its shape: a unique ``operationId`` per operation, a schema for every
  successful answer with a body, strict object schemas.
- Every operation driven through a real flow by accounts of a fresh subtree,
  each answer checked against the document (status, media type, schema), and
  every request body against the body the document names.
- schemathesis: a few thousand generated requests from the document, by
  accounts of three levels of a fresh subtree, failing on any server error and
  on any answer the document does not describe.
"""
import itertools
import json
import re
import uuid
from pathlib import Path

import pytest
import schemathesis
from hypothesis.configuration import set_hypothesis_home_dir
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance, response_schema_conformance, status_code_conformance,
)

from tests.client import CHECKS_OFF, CLIENT_ADDRESS, PASSWORD, Client, Tree, academic_years, unique
from tests.system.confirmation_support import wait_until
from tests.system.enrollment_helpers import learner

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PREFIX = "/api/v1"

# Hypothesis keeps caches of its own (no example database: see FUZZ_CONFIG) out of the checkout
set_hypothesis_home_dir(Path(__file__).resolve().parents[2] / ".lec" / "hypothesis")


@pytest.fixture(scope="module")
def document(api):
    r = api.get(PREFIX + "/openapi.json")
    assert r.status_code == 200
    return r.json()


def operations(document):
    for path, item in document["paths"].items():
        for method, op in item.items():
            yield path, method.upper(), op


def successes(op):
    return {status: response for status, response in op["responses"].items() if status.startswith("2")}


# -- the document's shape -------------------------------------------------------------------

def test_every_operation_has_a_unique_operation_id(document):
    ids = [op.get("operationId") for _, _, op in operations(document)]
    assert None not in ids
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


def test_every_successful_answer_documents_its_status_and_body(document):
    missing = []
    for path, method, op in operations(document):
        (status, response), = successes(op).items()
        if status == "204":
            assert "content" not in response, (method, path)
            continue
        content = response.get("content") or {}
        if not content or any("schema" not in media for media in content.values()):
            missing.append(f"{method} {path}")
    assert missing == []
    creates = {(m, p): s for p, m, op in operations(document) for s in successes(op)}
    for path in ("/org-units", "/users", "/rounds", "/rounds/{id}/extensions",
                 "/rounds/{id}/institutions/{iid}/learners"):
        assert creates[("POST", path)] == "201", path


def test_object_schemas_admit_only_the_fields_they_list(document):
    loose = [name for name, schema in document["components"]["schemas"].items()
             if schema.get("type") == "object" and "properties" in schema
             and schema.get("additionalProperties") is not False]
    assert loose == []


def test_reports_and_exports_document_their_files(document):
    for name in ("summary", "progress", "budget", "comparison"):
        op = document["paths"][f"/rounds/{{id}}/reports/{name}"]["get"]
        assert {"application/json", "text/csv", XLSX} <= set(op["responses"]["200"]["content"]), name
        assert "406" in op["responses"]
    export = document["paths"]["/rounds/{id}/institutions/{iid}/learners/export"]["get"]
    assert set(export["responses"]["200"]["content"]) == {"text/csv", XLSX}


# -- every operation through a real flow -----------------------------------------------------

class Contract:
    """The served document as schemathesis reads it: which operation a URL is,
    and whether an answer is one the document describes."""

    def __init__(self, document):
        self.document = document
        self.schema = schemathesis.openapi.from_dict(document)
        self.templates = [(re.compile("^" + re.sub(r"\{\w+\}", r"[^/]+", path) + "$"), path)
                          for path in document["paths"]]
        self.seen = {}

    def operation(self, method, url):
        path = url.split("?", 1)[0].split(PREFIX, 1)[1]
        matches = [template for regex, template in self.templates if regex.match(path)]
        # a literal segment wins over a parameter (/learners/import over /learners/{id})
        template = min(matches, key=lambda t: t.count("{"))
        assert method.lower() in self.document["paths"][template], f"{method} {template} is not documented"
        return template, self.schema[template][method]

    def check(self, response):
        request = response.request
        if PREFIX not in request.url or request.url.split("?")[0].endswith("/openapi.json"):
            return
        template, operation = self.operation(request.method, request.url)
        op = self.document["paths"][template][request.method.lower()]
        if request.body:
            media = (request.headers.get("Content-Type") or "").split(";")[0]
            documented = op.get("requestBody", {}).get("content", {})
            assert media in documented, f"{request.method} {template}: a {media} body is not documented"
        what = f"{request.method} {template} answered {response.status_code}"
        documented = op["responses"].get(str(response.status_code))
        assert documented is not None, f"{what}, which is not documented"
        media = (response.headers.get("Content-Type") or "").split(";")[0].strip()
        if documented.get("content"):
            assert media in documented["content"], f"{what} as {media}, which is not documented"
        else:
            assert not response.content, f"{what} with a body, where none is documented"
        operation.validate_response(response)
        self.seen.setdefault((request.method, template), set()).add(response.status_code)


class ContractClient(Client):
    """An API client whose every answer is checked against the document."""

    def __init__(self, base_url, contract, token=None, user=None):
        super().__init__(base_url, token, user)
        self.contract = contract

    def request(self, method, path, **kwargs):
        response = super().request(method, path, **kwargs)
        self.contract.check(response)
        return response

    def login(self, username, password=PASSWORD):
        r = self.post("/auth/token", json={"username": username, "password": password},
                      headers={"X-Forwarded-For": CLIENT_ADDRESS})
        assert r.status_code == 200, r.text
        body = r.json()
        return ContractClient(self.base_url, self.contract, body["access_token"], body["user"])


def checked(contract, client):
    return ContractClient(client.base_url, contract, client.token, client.user)


def test_every_operation_answers_as_documented(api, admin, document):
    contract = Contract(document)
    root = checked(contract, admin)
    tree = Tree.build(root)
    province, lao, school = (checked(contract, tree[k]) for k in ("province", "lao_a", "school_a"))
    year = academic_years(1)[0]

    # accounts and units
    anon = ContractClient(api.base_url, contract)
    refused = anon.post("/auth/token", json={"username": unique("nobody."), "password": "x"},
                        headers={"X-Forwarded-For": "198.51.100.7"})
    assert refused.status_code == 401, refused.text
    root.ok("GET", "/me")
    assert school.ok("GET", "/ping") == {"ok": True, "service": "enrollment"}
    renewed = school.ok("POST", "/auth/renew")
    assert renewed["user"]["id"] == school.user["id"]
    new = lao.ok("POST", "/org-units", 201, json={"code": unique("S"), "name": "โรงเรียนใหม่",
                                                   "type": "school", "parent_id": tree.id("lao_a")})
    province.ok("POST", f"/org-units/{new['id']}/verify")
    lao.ok("GET", f"/org-units/{new['id']}")
    lao.ok("GET", f"/org-units/{tree.id('lao_a')}/children", params={"type": "school"})
    province.ok("GET", f"/org-units/{tree.id('province')}/descendants", params={"q": "หน่วย", "limit": 5})
    # institution profiles and the self-established CDC survey with its documents
    school.ok("PATCH", f"/org-units/{tree.id('school_a')}", json={"profile": {
        "capacity": 300, "contact": {"name": "ครูใหญ่ ทดสอบ", "phone": "053123456",
                                     "email": "head@example.org"}}})
    surveyed = lao.ok("POST", "/org-units", 201, json={
        "code": unique("CDC"), "name": "ศูนย์พัฒนาเด็กเล็กสำรวจ", "type": "cdc", "parent_id": tree.id("lao_a"),
        "profile": {"established_on": "2020-05-01", "buildings": {"count": 1, "condition": "good",
                                                                  "year_built": 2020}},
        "survey": {"established_by": "อบต. ทดสอบ", "funding_source": "lao_budget", "children_expected": 30}})
    pdf = lao.ok("POST", f"/org-units/{surveyed['id']}/documents", 201, data=b"%PDF-1.4\n%%EOF\n",
                 headers={"Content-Type": "application/pdf"}, params={"filename": "order.pdf"})
    lao.ok("GET", f"/org-units/{surveyed['id']}/documents")
    assert province.get(f"/org-units/{surveyed['id']}/documents/{pdf['id']}").content.startswith(b"%PDF")
    province.ok("GET", f"/org-units/{tree.id('province')}/survey-form")
    assert province.get(f"/org-units/{tree.id('province')}/survey-form",
                        params={"format": "html"}).status_code == 200
    province.ok("POST", f"/org-units/{surveyed['id']}/reject", json={"reason": "เอกสารไม่ครบ"})
    lao.ok("DELETE", f"/org-units/{surveyed['id']}/documents/{pdf['id']}", 204)
    lao.ok("POST", f"/org-units/{surveyed['id']}/resubmit")
    username = unique("u.new.")
    account = lao.ok("POST", "/users", 201, json={"username": username, "password": PASSWORD,
                                                  "org_unit_id": new["id"]})
    lao.ok("GET", "/users", params={"org_unit_id": new["id"]})
    lao.ok("GET", f"/users/{account['id']}")
    lao.ok("PATCH", f"/users/{account['id']}", json={"password": "a-reset-Passw0rd-%d" % year})
    newcomer = anon.login(username, "a-reset-Passw0rd-%d" % year)
    newcomer.ok("POST", "/me/password", 204, json={"current_password": "a-reset-Passw0rd-%d" % year,
                                                   "new_password": "another-Passw0rd-%d" % year})
    # sign-out, by the throw-away account: its token then answers 401
    leaving = anon.login(username, "another-Passw0rd-%d" % year)
    leaving.ok("POST", "/auth/logout", 204)
    wait_until(lambda: leaving.get("/me").status_code == 401, 10, 0.05, "the signed-out token refused")
    lao.ok("POST", f"/org-units/{new['id']}/close", json={"closed_on": "2026-03-31"})
    root.ok("GET", "/audit", params={"service": "registry", "limit": 5})

    # rounds
    first = root.ok("POST", "/rounds", 201, json={"academic_year": year, "number": 1,
                                                  "census_date": "2026-06-10", "opens_at": "2026-06-01",
                                                  "closes_at": "2099-06-30", "settings": CHECKS_OFF})
    second = root.ok("POST", "/rounds", 201, json={"academic_year": year, "number": 2,
                                                   "census_date": "2026-11-10", "opens_at": "2026-06-01",
                                                   "closes_at": "2099-11-30", "settings": CHECKS_OFF})
    rid = second["id"]
    province.ok("GET", "/rounds", params={"academic_year": year})
    province.ok("GET", f"/rounds/{rid}")
    root.ok("PATCH", f"/rounds/{rid}", json={"closes_at": "2099-12-15"})
    root.ok("PATCH", f"/rounds/{rid}", json={"deadlines": {"lao": "2099-12-18", "department": None}})
    province.ok("POST", f"/rounds/{rid}/extensions", 201,
                json={"org_unit_id": tree.id("lao_a"), "closes_at": "2099-12-31"})
    province.ok("POST", f"/rounds/{rid}/extensions", 201,
                json={"org_unit_id": tree.id("lao_a"), "closes_at": "2099-12-31", "level": "lao"})
    lao.ok("GET", f"/rounds/{rid}/extensions")
    school.ok("GET", f"/rounds/{rid}/window")
    province.ok("GET", f"/rounds/{rid}/window", params={"level": "lao"})

    # learners
    sid = tree.id("school_a")
    school.ok("POST", f"/rounds/{first['id']}/institutions/{sid}/learners", 201, json=learner())
    school.ok("POST", f"/rounds/{rid}/institutions/{sid}/learners/carry-over")
    one = school.ok("POST", f"/rounds/{rid}/institutions/{sid}/learners", 201, json=learner(grade="p2"))
    gone = school.ok("POST", f"/rounds/{rid}/institutions/{sid}/learners", 201, json=learner(grade="p3"))
    school.ok("GET", f"/rounds/{rid}/institutions/{sid}/learners", params={"grade": "p2"})
    province.ok("GET", f"/rounds/{rid}/learners", params={"q": one["first_name"]})
    school.ok("GET", f"/learners/{one['id']}")
    school.ok("PATCH", f"/learners/{one['id']}", json={"last_name": "ใจงาม", "version": one["version"]})
    school.ok("DELETE", f"/learners/{gone['id']}", 204, json={"reason": "moved_out", "note": "ย้ายตามผู้ปกครอง"})
    school.ok("POST", f"/learners/{gone['id']}/restore")
    school.ok("GET", f"/rounds/{rid}/institutions/{sid}/learners", params={"status": "all", "sort": "-added"})
    for fmt in ("csv", "xlsx"):
        r = school.get("/learners/import-template", params={"format": fmt})
        assert r.status_code == 200, r.text
    rows = learner(grade="p4")
    csv_body = ("national_id,first_name,last_name,sex,birth_date,grade\n"
                f"{rows['national_id']},{rows['first_name']},{rows['last_name']},F,2016-02-01,p4\n"
                "123,x,y,Q,never,zz\n").encode()
    school.ok("POST", f"/rounds/{rid}/institutions/{sid}/learners/import", data=csv_body,
              headers={"Content-Type": "text/csv"})
    for fmt in ("csv", "xlsx"):
        r = school.get(f"/rounds/{rid}/institutions/{sid}/learners/export", params={"format": fmt})
        assert r.status_code == 200, r.text
    school.ok("GET", f"/rounds/{rid}/institutions/{sid}/learners/summary")
    # caregivers and teachers
    staff_url = f"/rounds/{rid}/institutions/{sid}/staff"
    person = dict(learner(), position="teacher", employment_type="civil_servant",
                  qualification="bachelor_other", start_date="2015-05-16")
    for drop in ("g_code", "sex", "birth_date", "grade", "nationality"):
        person.pop(drop, None)
    post = school.ok("POST", staff_url, 201, json=person)
    lao.ok("GET", staff_url, params={"position": "teacher"})
    school.ok("GET", f"/staff/{post['id']}")
    lao.ok("PATCH", f"/staff/{post['id']}", json={"employment_type": "mission_employee",
                                                  "version": post["version"]})
    school.ok("GET", f"{staff_url}/summary")
    r = school.get("/staff/import-template")
    assert r.status_code == 200, r.text
    school.ok("POST", f"{staff_url}/import", data=("national_id,first_name,last_name,position,employment_type\n"
                                                   "123,x,y,cook,none\n").encode(),
              headers={"Content-Type": "text/csv"})
    school.ok("DELETE", f"/staff/{post['id']}", 204, json={"reason": "retired"})
    other = tree.id("other_a")
    lao.ok("PUT", f"/rounds/{rid}/institutions/{other}/headcount", json={"counts": {"p1": 12, "p2": 9}})
    lao.ok("GET", f"/rounds/{rid}/institutions/{other}/headcount")
    lao.ok("GET", f"/rounds/{rid}/laos/{tree.id('lao_a')}/headcounts")
    # the new school year: round 2 of one year into round 1 of the next; headcount drafts
    ny_years = academic_years(2)
    ny_rounds = [root.ok("POST", "/rounds", 201, json={
        "academic_year": y, "number": n, "census_date": c, "opens_at": "2026-06-01",
        "closes_at": "2099-11-30", "settings": CHECKS_OFF})
        for y, n, c in ((ny_years[0], 2, "2025-11-10"), (ny_years[1], 1, "2026-06-10"))]
    school.ok("POST", f"/rounds/{ny_rounds[0]['id']}/institutions/{sid}/learners", 201, json=learner(grade="p2"))
    ny_url = f"/rounds/{ny_rounds[1]['id']}/institutions/{sid}/learners/promote"
    school.ok("POST", ny_url, params={"dry_run": "true"})
    school.ok("POST", ny_url)
    lao.ok("PUT", f"/rounds/{ny_rounds[0]['id']}/institutions/{other}/headcount", json={"counts": {"p1": 7}})
    lao.ok("GET", f"/rounds/{ny_rounds[1]['id']}/laos/{tree.id('lao_a')}/headcounts")
    lao.ok("POST", f"/rounds/{ny_rounds[1]['id']}/institutions/{other}/headcount/accept")
    lao.ok("GET", "/affiliations")
    lao.ok("GET", f"/org-units/{tree.id('lao_a')}/children", params={"affiliation": "obec"})

    # transfers of a child between institutions
    receiver = checked(contract, tree["school_b"])
    moving = school.ok("POST", f"/rounds/{rid}/institutions/{sid}/learners", 201, json=learner(grade="p5"))
    transfers_url = f"/rounds/{rid}/transfers"
    ask = {"national_id": moving["national_id"], "to_institution_id": tree.id("school_b"),
           "note": "ย้ายตามผู้ปกครอง"}
    request = receiver.ok("POST", transfers_url, 201, json=ask)
    school.ok("GET", transfers_url, params={"direction": "incoming", "state": "pending"})
    receiver.ok("GET", f"{transfers_url}/{request['id']}")
    school.ok("POST", f"{transfers_url}/{request['id']}/decline", json={"reason": "ยังเรียนอยู่"})
    request = receiver.ok("POST", transfers_url, 201, json=ask)
    receiver.ok("POST", f"{transfers_url}/{request['id']}/withdraw")
    request = receiver.ok("POST", transfers_url, 201, json=ask)
    school.ok("POST", f"{transfers_url}/{request['id']}/accept")

    # checks before confirming, in a round of their own with the default rules: the CDC has no learner
    rules_round = root.ok("POST", "/rounds", 201, json={
        "academic_year": academic_years(1)[0], "number": 1, "census_date": "2026-06-10",
        "opens_at": "2026-06-01", "closes_at": "2099-06-30"})["id"]
    cid, cdc = tree.id("cdc_a"), checked(contract, tree["cdc_a"])
    found = cdc.ok("GET", f"/rounds/{rules_round}/checks")
    assert [i["code"] for i in found["items"]] == ["no_active_learners"], found
    cdc.ok("PUT", f"/rounds/{rules_round}/checks/{cid}/explanations",
           json={"items": [{"code": "no_active_learners", "text": "ศูนย์ปิดปรับปรุงอาคารตลอดภาคเรียน"}]})
    province.ok("GET", f"/rounds/{rules_round}/checks", params={"org_unit_id": tree.id("province")})

    # confirmation
    school.ok("GET", f"/rounds/{rid}/confirmations/{sid}")
    school.ok("POST", f"/rounds/{rid}/confirmations/{sid}", headers={"Idempotency-Key": str(uuid.uuid4())})
    lao.ok("DELETE", f"/rounds/{rid}/confirmations/{sid}", json={"reason": "ขอแก้ไขข้อมูลนักเรียน"})
    school.ok("PATCH", f"/learners/{one['id']}", json={"grade": "p3"})
    diff = lao.ok("GET", f"/rounds/{rid}/confirmations/{sid}/diff")
    assert [c["learner_id"] for c in diff["changed"]] == [one["id"]], diff
    school.ok("POST", f"/rounds/{rid}/confirmations/{sid}", json={"note": "ตรวจสอบรายชื่อครบแล้ว"})
    lao.ok("GET", f"/rounds/{rid}/confirmations/{tree.id('lao_a')}")
    lao.ok("GET", f"/rounds/{rid}/confirmations/{sid}/history")

    # seeing upward, and asking a unit above to reopen a confirmation
    school.ok("GET", f"/rounds/{rid}/confirmations/{sid}/ancestors")
    school.ok("GET", f"/rounds/{rid}/confirmations/{tree.id('lao_a')}")  # the reduced view
    revocations = f"/rounds/{rid}/revocation-requests"
    asked = school.ok("POST", revocations, 201, json={"unit_id": sid, "reason": "ขอแก้ไขชั้นเรียน"})
    lao.ok("GET", revocations, params={"state": "pending"})
    school.ok("GET", f"{revocations}/{asked['id']}")
    lao.ok("POST", f"{revocations}/{asked['id']}/decline", json={"reason": "ข้อมูลถูกต้องแล้ว"})
    asked = school.ok("POST", revocations, 201, json={"unit_id": sid, "reason": "ขอแก้ไขชั้นเรียน"})
    school.ok("POST", f"{revocations}/{asked['id']}/withdraw")
    asked = school.ok("POST", revocations, 201, json={"unit_id": sid, "reason": "ขอแก้ไขชั้นเรียน"})
    lao.ok("POST", f"{revocations}/{asked['id']}/approve", json={"reason": "อนุมัติ"})
    school.ok("POST", f"/rounds/{rid}/confirmations/{sid}")

    # agencies that pull: client credentials and the confirmed-counts feed
    agency_made = root.ok("POST", "/agencies", 201, json={"name": unique("หน่วยงานภายนอก "),
                                                          "description": "สถิติ"})
    root.ok("GET", "/agencies")
    agency_made = root.ok("POST", f"/agencies/{agency_made['id']}/rotate")
    agency_token = anon.ok("POST", "/auth/token", json={
        "grant_type": "client_credentials", "client_id": agency_made["client_id"],
        "client_secret": agency_made["client_secret"]}, headers={"X-Forwarded-For": CLIENT_ADDRESS})
    puller = ContractClient(api.base_url, contract, agency_token["access_token"], agency_token["user"])
    pulled = puller.ok("GET", f"/rounds/{rid}/confirmed-counts", params={"limit": 1})
    province.ok("GET", f"/rounds/{rid}/confirmed-counts", params={"after": pulled["next_cursor"]})
    puller.ok("GET", "/me")
    root.ok("POST", f"/agencies/{agency_made['id']}/disable")

    # reports, as JSON and as files
    for name in ("summary", "progress", "budget", "comparison"):
        for client, unit in ((province, "province"), (lao, "lao_a"), (school, "school_a")):
            client.ok("GET", f"/rounds/{rid}/reports/{name}", params={"org_unit_id": tree.id(unit)})
        for media in ("text/csv", XLSX, "text/html"):
            r = lao.get(f"/rounds/{rid}/reports/{name}", headers={"Accept": media})
            assert r.status_code == 200, (name, media, r.text)
    lao.ok("GET", f"/rounds/{rid}/reports/budget", params={"preview": "true"})
    # who blocks me, and what waits for a unit
    province.ok("GET", f"/rounds/{rid}/blockers", params={"org_unit_id": tree.id("province"), "limit": 5})
    school.ok("GET", "/me/notices", params={"round_id": rid})
    forms = province.ok("GET", f"/rounds/{rid}/reports/forms")
    for form in forms["items"]:
        province.ok("GET", f"/rounds/{rid}/reports/forms/{form['enclosure']}")
    assert province.get(f"/rounds/{rid}/reports/summary", headers={"Accept": "image/png"}).status_code == 406

    answered = {op for op, statuses in contract.seen.items() if any(200 <= s < 300 for s in statuses)}
    documented = {(method, path) for path, method, _ in operations(document)}
    missing = sorted(documented - answered)
    assert not missing, f"never answered with success: {missing}"


# -- schemathesis ------------------------------------------------------------------------------

# Operations that would lock the fuzzing accounts out or end their tokens (a sign-out ends
# every token of its account): the flow above covers them.
NOT_FUZZED = ("postToken", "postMyPassword", "patchUserItem", "postLogout")
FUZZ_ROLES = ("province", "lao_a", "school_a")
FUZZ_CONFIG = {
    "seed": 20261127,
    "generation": {"mode": "all", "max-examples": 80, "no-shrink": True, "deterministic": True,
                   "with-security-parameters": False,
                   "database": "none"},
    "phases": {"examples": {"enabled": False}, "coverage": {"enabled": False},
               "stateful": {"enabled": False}},
}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


class World:
    """A fresh province subtree with two open rounds of one year, learners, a CDC
    child and a headcount: the ids generated requests are steered to."""

    def __init__(self, admin):
        self.tree = tree = Tree.build(admin)
        year = academic_years(1)[0]
        self.rounds = [admin.ok("POST", "/rounds", 201, json={
            "academic_year": year, "number": number, "census_date": census, "opens_at": "2026-06-01",
            "closes_at": "2099-12-31"})["id"] for number, census in ((1, "2026-06-10"), (2, "2026-11-10"))]
        school, cdc = tree["school_a"], tree["cdc_a"]
        self.learners = []
        for rid in self.rounds:
            for grade in ("p1", "p2", "m1"):
                self.learners.append(school.ok("POST", f"/rounds/{rid}/institutions/{tree.id('school_a')}"
                                                       "/learners", 201, json=learner(grade=grade))["id"])
            self.learners.append(cdc.ok("POST", f"/rounds/{rid}/institutions/{tree.id('cdc_a')}/learners",
                                        201, json=learner(grade="cdc", birth="2023-01-15"))["id"])
        tree["lao_a"].ok("PUT", f"/rounds/{self.rounds[1]}/institutions/{tree.id('other_a')}/headcount",
                         json={"counts": {"p1": 7, "p2": 5}})
        # caregivers and teachers: /staff/{id} steered to these
        self.staff = [cdc.ok("POST", f"/rounds/{self.rounds[0]}/institutions/{tree.id('cdc_a')}/staff", 201,
                             json={"national_id": learner()["national_id"], "first_name": "มาลี",
                                   "last_name": "ใจดี", "position": position,
                                   "employment_type": "general_employee"})["id"]
                      for position in ("caregiver_teacher", "caregiver")]
        self.units = [unit["id"] for unit in tree.units.values()]
        # closing a unit ends its accounts' tokens: only these units without accounts are closed
        spares = [admin.ok("POST", "/org-units", 201, json={
            "code": unique("SPARE"), "name": f"โรงเรียนสำรอง {n}", "type": kind,
            "parent_id": tree.id("lao_b")})["id"] for n, kind in enumerate(("school", "school", "cdc"))]
        self.pools = {
            "close": spares, "rounds": self.rounds, "org-units": self.units + spares, "learners": self.learners, "staff": self.staff,
            "users": [client.user["id"] for client in tree.clients.values()],
            "iid": [tree.id(k) for k in ("school_a", "cdc_a", "other_a", "school_b")],
            "lid": [tree.id("lao_a"), tree.id("lao_b")], "unit_id": self.units,
            "enclosure": [2, 3, 4, 5], "org_unit_id": self.units, "parent_id": self.units,
        }
        self.turn = itertools.count()
        self.counts = {"cases": 0, "by_status": {}, "succeeded": set()}

    def steer(self, key, value):
        """Nine generated integers in ten become an id of this world (the tenth stays
        as generated: most likely nobody's); a unit to close is always a spare one."""
        pool = self.pools.get(key)
        if pool is None or not isinstance(value, int) or isinstance(value, bool):
            return value
        if value % 10 == 9 and key != "close":
            return value
        return pool[value % len(pool)]

    def steer_case(self, case):
        """Path ids, ``org_unit_id`` and the units a body names, steered to this world."""
        path = case.operation.path
        for name, value in (case.path_parameters or {}).items():
            key = path.strip("/").split("/")[0] if name == "id" else name
            if path == "/org-units/{id}/close":
                key = "close"
            case.path_parameters[name] = self.steer(key, value)
        if isinstance(case.query, dict) and "org_unit_id" in case.query:
            case.query["org_unit_id"] = self.steer("org_unit_id", case.query["org_unit_id"])
        if isinstance(case.body, dict):
            for name in ("parent_id", "org_unit_id"):
                if name in case.body:
                    case.body[name] = self.steer(name, case.body[name])

    def headers(self):
        """The next of the three accounts, in turn."""
        client = self.tree[FUZZ_ROLES[next(self.turn) % len(FUZZ_ROLES)]]
        return {"Authorization": f"Bearer {client.token}"}

    def record(self, case, response):
        self.counts["cases"] += 1
        by_status = self.counts["by_status"]
        by_status[response.status_code] = by_status.get(response.status_code, 0) + 1
        if 200 <= response.status_code < 300:
            self.counts["succeeded"].add(f"{case.method} {case.path}")


@pytest.fixture(scope="module")
def world(admin, request):
    world = World(admin)
    yield world
    counts = world.counts
    plugins = request.config.pluginmanager
    reporter, capture = plugins.get_plugin("terminalreporter"), plugins.get_plugin("capturemanager")
    if reporter is not None and capture is not None and counts["cases"]:
        with capture.global_and_fixture_disabled():
            reporter.write_line(f"\nschemathesis: {counts['cases']} cases, by status "
                                f"{dict(sorted(counts['by_status'].items()))}; "
                                f"{len(counts['succeeded'])} operations answered with success")


def built_document():
    """The document the gateway serves, built by the code that serves it: schemathesis
    makes its tests when this module is collected, before the system runs (a test
    below checks that the running gateway serves this very document)."""
    from gateway.app import PREFIX as API_PREFIX, api_routes
    from gateway.config import GatewayConfig
    from gateway.context import AppContext
    from gateway.openapi import build_spec

    return json.loads(json.dumps(build_spec(api_routes(AppContext(GatewayConfig(listen_events=False))),
                                            API_PREFIX)))


FUZZED = schemathesis.openapi.from_dict(built_document(), config=schemathesis.Config.from_dict(
    FUZZ_CONFIG)).exclude(operation_id=list(NOT_FUZZED))


def test_the_fuzzed_document_is_the_served_one(document):
    assert FUZZED.raw_schema == document


@FUZZED.parametrize()
def test_generated_requests_meet_no_server_error_and_no_undocumented_answer(case, api, world):
    world.steer_case(case)
    response = case.call_and_validate(base_url=api.base_url + PREFIX, headers=world.headers(),
                                      checks=CHECKS, timeout=60)
    world.record(case, response)


def test_generated_requests_reached_the_system(world):
    """Most of the operations fuzzed met the data of the world and succeeded
    (a run answered only 401 or 404 would prove nothing)."""
    if not world.counts["cases"]:
        pytest.skip("the generated requests did not run")
    fuzzed = sum(1 for _ in FUZZED.get_all_operations())
    assert len(world.counts["succeeded"]) >= fuzzed // 2, world.counts
