"""Learners through the gateway: identity, names, grades, ages, edits, removal,
access by hierarchy, paging and search, institution status and the window."""
import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from services.common.context import ACTOR_KEY, Actor
from services.common.errors import LecError
from tests.client import Tree
from tests.system.enrollment_helpers import (
    add, closed_round, enrollment_rows, error, eventually, learner, learners_url, national_id, new_round,
)


@pytest.fixture(scope="module")
def world(admin):
    return Tree.build(admin), new_round(admin)


def test_add_and_read_a_learner_with_thai_names_unchanged(world):
    t, r = world
    body = learner(prefix="เด็กชาย", first_name="ปิ่นมณี์", last_name="ณ อยุธยา", sex="M",
                   nationality="ไทย", grade="p3")
    raw_id = body["national_id"]
    body["national_id"] = f"{raw_id[0]}-{raw_id[1:5]}-{raw_id[5:10]}-{raw_id[10:12]}-{raw_id[12]}"
    resp = t["school_a"].post(learners_url(r, t, "school_a"), body)
    assert resp.status_code == 201, resp.text
    created = resp.json()
    assert resp.headers["Location"].endswith(f"/api/v1/learners/{created['id']}")
    for field in ("prefix", "first_name", "last_name", "nationality", "sex", "birth_date", "grade"):
        assert created[field] == body[field], field
    assert created["national_id"] == raw_id and created["g_code"] is None
    assert created["id_kind"] == "national_id" and created["status"] == "active"
    assert created["institution_id"] == t.id("school_a") and created["round_id"] == r["id"]
    assert t["school_a"].ok("GET", f"/learners/{created['id']}") == created


def test_g_code_learner(world):
    t, r = world
    created, _ = add(t["school_a"], r, t, "school_a", national_id=None, g_code="g644200001234",
                     nationality="เมียนมา")
    assert created["g_code"] == "G644200001234" and created["id_kind"] == "g_code"
    assert created["national_id"] is None
    for bad in ("G64420000123", "G6442000012345", "X644200001234", "G649900001234", "G64AB00001234"):
        resp = t["school_a"].post(learners_url(r, t, "school_a"), learner(national_id=None, g_code=bad))
        error(resp, 422, "invalid_g_code")


@pytest.mark.parametrize("bad", ["1234545678782", "123454567878", "12345456787812", "1234545678ABC",
                                 "0234545678781", "9234545678781", ""])
def test_invalid_national_id(world, bad):
    t, r = world
    resp = t["school_a"].post(learners_url(r, t, "school_a"), learner(national_id=bad))
    if bad == "":
        body = error(resp, 422, "validation_error")  # no identity at all
        assert "national_id" in body["errors"]
    else:
        body = error(resp, 422, "invalid_national_id")
        assert bad not in body["description"]


def test_identity_is_one_of_the_two(world):
    t, r = world
    resp = t["school_a"].post(learners_url(r, t, "school_a"), learner(g_code="G644200001111"))
    assert "g_code" in error(resp, 422, "validation_error")["errors"]


@pytest.mark.parametrize("change,field", [
    ({"first_name": "   "}, "first_name"),
    ({"last_name": "=HYPERLINK(\"x\")"}, "last_name"),
    ({"first_name": None}, "first_name"),
    ({"sex": "X"}, "sex"),
    ({"birth_date": "2018-02-30"}, "birth_date"),
    ({"birth_date": "2027-01-01"}, "birth_date"),
    ({"grade": "p7"}, "grade"),
    ({"grade": "cdc"}, "grade"),
])
def test_learner_validation(world, change, field):
    t, r = world
    resp = t["school_a"].post(learners_url(r, t, "school_a"), learner(**change))
    assert field in error(resp, 422, "validation_error")["errors"]


def test_grade_must_fit_the_institution(world):
    t, r = world
    resp = t["cdc_a"].post(learners_url(r, t, "cdc_a"), learner(grade="p1", birth="2022-01-01"))
    assert "grade" in error(resp, 422, "validation_error")["errors"]
    add(t["cdc_a"], r, t, "cdc_a", grade="cdc", birth="2022-01-01")


def test_cdc_age_range_at_the_census_date(admin, world):
    t, _ = world
    r = new_round(admin, census_date="2026-06-10",
                  settings={"cdc_age": {"min_years": 2, "max_years": 4}})

    def attempt(birth):
        return t["cdc_a"].post(learners_url(r, t, "cdc_a"), learner(grade="cdc", birth=birth))

    assert attempt("2024-06-10").status_code == 201   # two on the census date itself
    assert attempt("2021-06-11").status_code == 201   # four, turning five the day after
    body = error(attempt("2024-06-11"), 422, "age_out_of_range")  # two the day after
    assert (body["min_years"], body["max_years"], body["age_years"]) == (2, 4, 1)
    error(attempt("2021-06-10"), 422, "age_out_of_range")          # five on the census date
    # schools have no such range
    assert t["school_a"].post(learners_url(r, t, "school_a"),
                              learner(grade="k1", birth="2023-01-01")).status_code == 201


def test_access_follows_the_hierarchy(admin, world):
    t, r = world
    created, _ = add(t["school_a"], r, t, "school_a")
    url = learners_url(r, t, "school_a")
    for reader in ("school_a", "lao_a", "province"):
        items = t[reader].ok("GET", url, params={"limit": 1000})["items"]
        assert created["id"] in {i["id"] for i in items}, reader
        assert t[reader].ok("GET", f"/learners/{created['id']}")["id"] == created["id"]
    assert admin.ok("GET", f"/learners/{created['id']}")["id"] == created["id"]
    for outsider in ("school_b", "lao_b", "cdc_a"):
        error(t[outsider].get(url), 404, "not_found")
        error(t[outsider].get(f"/learners/{created['id']}"), 404, "not_found")
        error(t[outsider].patch(f"/learners/{created['id']}", {"grade": "p2"}), 404, "not_found")
        error(t[outsider].delete(f"/learners/{created['id']}", params={"reason": "other"}), 404,
              "not_found")
    # levels above read but do not record
    for above in (t["lao_a"], t["province"], admin):
        error(above.post(url, learner()), 403, "forbidden")
        error(above.patch(f"/learners/{created['id']}", {"grade": "p2"}), 403, "forbidden")
    error(t["school_a"].post(learners_url(r, t, "school_b"), learner()), 404, "not_found")
    error(t["school_a"].get("/learners/987654321"), 404, "not_found")


def test_subtree_search_lists_learners_below_a_unit(world):
    t, r = world
    created, body = add(t["school_a"], r, t, "school_a", first_name="วิริยะ", last_name="ค้นหาได้")
    found = t["lao_a"].ok("GET", f"/rounds/{r['id']}/learners", params={"q": "ค้นหาได้"})
    assert [i["id"] for i in found["items"]] == [created["id"]]
    found = t["province"].ok("GET", f"/rounds/{r['id']}/learners",
                             params={"q": body["national_id"], "org_unit_id": t.id("lao_a")})
    assert found["total"] == 1
    assert t["lao_b"].ok("GET", f"/rounds/{r['id']}/learners", params={"q": "ค้นหาได้"})["total"] == 0
    error(t["lao_b"].get(f"/rounds/{r['id']}/learners", params={"org_unit_id": t.id("lao_a")}),
          404, "not_found")


def test_paging_search_and_filters(admin):
    t = Tree.build(admin)
    r = new_round(admin)
    names = [("กมล", "สายสุด"), ("ขวัญใจ", "มีสุข"), ("คณิน", "สายสุด"), ("จันทร์เพ็ญ", "ดวงดี"),
             ("ชยพล", "ทองแท้"), ("ญาณิศา", "สายทอง"), ("ฐิติ", "รุ่งเรือง")]
    made = []
    for i, (first, last) in enumerate(names):
        made.append(add(t["school_a"], r, t, "school_a", first_name=first, last_name=last,
                        grade="p1" if i % 2 else "m2")[0])
    url = learners_url(r, t, "school_a")
    page1 = t["lao_a"].ok("GET", url, params={"limit": 3})
    page3 = t["lao_a"].ok("GET", url, params={"limit": 3, "offset": 6})
    assert page1["total"] == 7 and len(page1["items"]) == 3 and len(page3["items"]) == 1
    everyone = t["lao_a"].ok("GET", url, params={"limit": 1000})["items"]
    assert sorted(i["id"] for i in everyone) == sorted(m["id"] for m in made)
    assert [i["grade"] for i in everyone] == ["p1"] * 3 + ["m2"] * 4  # in grade order
    assert t["school_a"].ok("GET", url, params={"q": "สาย"})["total"] == 3
    assert t["school_a"].ok("GET", url, params={"q": "คณิน สายสุด"})["total"] == 1
    assert t["school_a"].ok("GET", url, params={"grade": "p1"})["total"] == 3
    target = made[4]
    by_id = t["school_a"].ok("GET", url, params={"q": target["national_id"][:9]})
    assert target["id"] in [i["id"] for i in by_id["items"]]
    assert t["school_a"].ok("GET", url, params={"q": "%"})["total"] == 0
    for params in ({"limit": 0}, {"limit": 1001}, {"offset": -1}, {"grade": "p9"}, {"status": "x"}):
        error(t["school_a"].get(url, params=params), 422, "validation_error")


def test_edit_and_remove_are_audited_and_the_record_stays(world):
    t, r = world
    created, _ = add(t["school_a"], r, t, "school_a", grade="p4")
    lid = created["id"]
    changed = t["school_a"].ok("PATCH", f"/learners/{lid}", json={"grade": "p5", "first_name": "ภาคิน",
                                                                  "version": 1})
    assert changed["grade"] == "p5" and changed["first_name"] == "ภาคิน" and changed["version"] == 2
    error(t["school_a"].patch(f"/learners/{lid}", {"grade": "p6", "version": 1}), 409, "conflict")
    error(t["school_a"].patch(f"/learners/{lid}", {"national_id": "1234545678782"}), 422,
          "invalid_national_id")
    error(t["school_a"].patch(f"/learners/{lid}", {"grade": "cdc"}), 422, "validation_error")
    # removal needs a reason from the list
    error(t["school_a"].delete(f"/learners/{lid}"), 422, "validation_error")
    error(t["school_a"].delete(f"/learners/{lid}", params={"reason": "bored"}), 422, "validation_error")
    resp = t["school_a"].delete(f"/learners/{lid}", json={"reason": "moved_out", "note": "ย้ายไปลำพูน"})
    assert resp.status_code == 204, resp.text
    gone = t["lao_a"].ok("GET", f"/learners/{lid}")
    assert gone["status"] == "removed" and gone["removal_reason"] == "moved_out"
    assert gone["removal_note"] == "ย้ายไปลำพูน" and gone["removed_at"]
    assert gone["removed_by"] == t["school_a"].user["id"]
    error(t["school_a"].delete(f"/learners/{lid}", params={"reason": "other"}), 409, "conflict")
    error(t["school_a"].patch(f"/learners/{lid}", {"grade": "p6"}), 409, "conflict")
    url = learners_url(r, t, "school_a")
    assert lid not in [i["id"] for i in t["school_a"].ok("GET", url, params={"limit": 1000})["items"]]
    removed = t["school_a"].ok("GET", url, params={"status": "removed", "limit": 1000})["items"]
    assert lid in [i["id"] for i in removed]
    audit = enrollment_rows("SELECT action, actor_id, actor_username, details FROM audit_log "
                            "WHERE entity = 'learner' AND entity_id = :id ORDER BY id", id=str(lid))
    assert [a["action"] for a in audit] == ["add", "update", "remove"]
    assert {a["actor_id"] for a in audit} == {t["school_a"].user["id"]}
    assert audit[1]["details"]["before"] == {"grade": "p4", "first_name": created["first_name"]}
    assert audit[1]["details"]["after"] == {"grade": "p5", "first_name": "ภาคิน"}
    assert audit[2]["details"]["reason"] == "moved_out"


def test_only_active_institutions_record_learners(admin, world, lec_env):
    t, r = world
    # an institution created by its LAO is pending until a province verifies it
    pending = t["lao_a"].ok("POST", "/org-units", 201, json={
        "code": f"P{t.id('lao_a')}x{national_id()[:6]}", "name": "ศูนย์พัฒนาเด็กเล็กบ้านใหม่",
        "type": "cdc", "parent_id": t.id("lao_a")})
    assert pending["status"] == "pending"
    t.units["pending"] = pending
    client = t.account("pending")
    url = learners_url(r, t, "pending")
    body = learner(grade="cdc", birth="2023-01-01")
    error(client.post(url, body), 409, "conflict")
    t["province"].ok("POST", f"/org-units/{pending['id']}/verify")
    assert client.post(url, body).status_code == 201
    # a closed institution records nothing more: its accounts' tokens end with the close
    t["province"].ok("POST", f"/org-units/{pending['id']}/close", json={"closed_on": "2026-06-30"})
    resp = eventually(lambda: (lambda x: x if x.status_code == 401 else None)(
        client.post(url, learner(grade="cdc", birth="2023-01-01"))), timeout=10)
    error(resp, 401, "unauthorized")
    # and enrollment itself refuses the closed unit, whoever asks (its copy of the unit
    # follows the registry's event within moments)
    actor = Actor(user_id=client.user["id"], username=client.user["username"], role="institution",
                  org_unit_id=pending["id"], path=pending["path"])

    def refused_by_enrollment():
        with ClusterRpcProxy({"AMQP_URI": lec_env["AMQP_URI"]}, timeout=30,
                             context_data={ACTOR_KEY: actor.to_json()}) as proxy:
            try:
                proxy.enrollment.add_learner(r["id"], pending["id"], learner(grade="cdc", birth="2023-01-01"))
            except LecError as exc:  # nameko raises the service's error type here too
                return exc if "closed" in exc.description else None
            return None
    refusal = eventually(refused_by_enrollment, timeout=10)
    assert refusal is not None and refusal.code == "conflict"


def test_edits_only_while_the_round_is_open_for_the_institution(admin, world):
    t, open_round = world
    kept, _ = add(t["school_a"], open_round, t, "school_a")
    r = closed_round(admin)
    for key in ("school_a", "school_b"):
        error(t[key].post(learners_url(r, t, key), learner()), 409, "round_not_open")
    # an extension for LAO a opens the round for its schools only
    later = "2099-01-01T00:00:00+07:00"
    admin.ok("POST", f"/rounds/{r['id']}/extensions", 201,
             json={"org_unit_id": t.id("lao_a"), "closes_at": later})
    created, _ = add(t["school_a"], r, t, "school_a")
    error(t["school_b"].post(learners_url(r, t, "school_b"), learner()), 409, "round_not_open")
    assert created["round_id"] == r["id"]
    # closing the open round stops edits and removals there
    admin.ok("PATCH", f"/rounds/{open_round['id']}", json={"closes_at": "2026-06-02"})
    try:
        error(t["school_a"].patch(f"/learners/{kept['id']}", {"grade": "p2"}), 409, "round_not_open")
        error(t["school_a"].delete(f"/learners/{kept['id']}", params={"reason": "other"}), 409,
              "round_not_open")
    finally:
        admin.ok("PATCH", f"/rounds/{open_round['id']}", json={"closes_at": "2099-06-30"})
    error(t["school_a"].get("/rounds/99999999/institutions/1/learners"), 404, "not_found")


def test_openapi_describes_the_enrollment_routes(api):
    doc = api.get("/api/v1/openapi.json").json()
    paths = doc["paths"]
    for path, method in [
        ("/rounds/{id}/institutions/{iid}/learners", "post"),
        ("/rounds/{id}/institutions/{iid}/learners", "get"),
        ("/learners/{id}", "get"), ("/learners/{id}", "patch"), ("/learners/{id}", "delete"),
        ("/rounds/{id}/institutions/{iid}/learners/import", "post"),
        ("/rounds/{id}/institutions/{iid}/learners/export", "get"),
        ("/rounds/{id}/institutions/{iid}/learners/carry-over", "post"),
        ("/rounds/{id}/institutions/{iid}/headcount", "put"),
        ("/rounds/{id}/learners", "get"),
    ]:
        assert method in paths.get(path, {}), (path, method)
    post = paths["/rounds/{id}/institutions/{iid}/learners"]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("LearnerCreate")
    assert "201" in post["responses"] and post["security"] == [{"bearer": []}]
    upload = paths["/rounds/{id}/institutions/{iid}/learners/import"]["post"]["requestBody"]["content"]
    assert "text/csv" in upload and "multipart/form-data" in upload
    assert "national_id" in doc["components"]["schemas"]["Learner"]["properties"]


def test_the_portal_serves_the_institution_pages(api):
    import shutil
    import subprocess
    index = api.get(api.base_url + "/static/pages/index.js")
    assert index.status_code == 200
    for module in ("learners", "import", "confirm"):
        assert f'from "./{module}.js"' in index.text
        resp = api.get(api.base_url + f"/static/pages/{module}.js")
        assert resp.status_code == 200 and "export default" in resp.text
        if shutil.which("node"):  # a syntax check where Node.js is installed
            checked = subprocess.run(["node", "--input-type=module", "--check"], input=resp.content,
                                     capture_output=True)
            assert checked.returncode == 0, checked.stderr.decode()
