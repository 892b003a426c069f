"""Agencies that pull: agency clients (client credentials, department-managed), the
agency role's allow-list, and the confirmed-counts change feed."""
import re

from tests.system.agency_support import (
    address, agency_client, create_agency, feed, token_response, whole_feed,
)
from tests.system.confirmation_support import (
    add_learners, by_grade, confirm, new_round, revoke,
)

PERSONAL = ("national_id", "first_name", "last_name", "birth_date", "learner", "password",
            "client_secret", "confirmed_by_username", "username")


def test_department_manages_agency_clients(api, admin, tree):
    created = create_agency(admin)
    assert created["client_id"].startswith("lec-agency-") and created["active"] is True
    assert len(created["client_secret"]) >= 32
    listed = admin.ok("GET", "/agencies", params={"limit": 1000})["items"]
    mine = [a for a in listed if a["id"] == created["id"]]
    assert mine and "client_secret" not in mine[0] and mine[0]["name"] == created["name"]
    # only the department manages them
    for key in ("province", "lao_a", "school_a"):
        assert tree[key].post("/agencies", json={"name": "x"}).status_code == 403
        assert tree[key].get("/agencies").status_code == 403
        assert tree[key].post(f"/agencies/{created['id']}/rotate").status_code == 403

    agency = agency_client(api, created)
    assert agency.user == {"id": created["id"], "username": created["client_id"], "role": "agency",
                           "org_unit_id": None}
    me = agency.ok("GET", "/me")
    assert me["role"] == "agency" and me["org_unit_id"] is None and me["name"] == created["name"]
    agency.ok("GET", "/rounds")
    # the account form does not take a client's credentials
    r = api.post("/auth/token", json={"username": created["client_id"], "password": created["client_secret"]},
                 headers={"X-Forwarded-For": "198.51.100.250"})
    assert r.status_code == 401 and r.json()["code"] == "invalid_credentials"

    rotated = admin.ok("POST", f"/agencies/{created['id']}/rotate")
    assert rotated["client_secret"] != created["client_secret"]
    assert agency.get("/rounds").status_code == 401  # the old secret's tokens end at once
    refused = token_response(api, created["client_id"], created["client_secret"])
    assert refused.status_code == 401 and refused.json()["code"] == "invalid_credentials"
    agency = agency_client(api, created, rotated["client_secret"])
    agency.ok("GET", "/rounds")

    disabled = admin.ok("POST", f"/agencies/{created['id']}/disable")
    assert disabled["active"] is False and disabled["disabled_at"]
    r = agency.get("/rounds")
    assert r.status_code == 401 and r.json()["code"] == "unauthorized"
    assert token_response(api, created["client_id"], rotated["client_secret"]).status_code == 401
    assert admin.post(f"/agencies/{created['id']}/rotate").status_code == 409
    assert admin.post("/agencies/999999999/disable").status_code == 404
    # every change is audited
    audit = admin.ok("GET", "/audit", params={"service": "registry", "entity": "agency_client",
                                              "entity_id": str(created["id"])})
    assert sorted(e["action"] for e in audit["items"]) == ["create", "disable", "rotate"]


def _no_personal_data(value, where):
    if isinstance(value, dict):
        for key, inner in value.items():
            assert key not in PERSONAL, f"{where}: {key}"
            _no_personal_data(inner, where)
    elif isinstance(value, list):
        for inner in value:
            _no_personal_data(inner, where)


ALLOWED = {("GET", "/me"), ("GET", "/rounds"), ("GET", "/rounds/{id}"),
           ("GET", "/rounds/{id}/confirmed-counts")}


def test_an_agency_reaches_only_its_allow_list(api, admin, tree):
    rid = new_round(admin)["id"]
    add_learners(tree["school_a"], rid, tree.id("school_a"), ["p1"])
    confirm(tree["school_a"], rid, tree.id("school_a"))
    created = create_agency(admin)
    agency = agency_client(api, created)
    document = api.ok("GET", "/api/v1/openapi.json")
    ids = {"id": rid, "rid": rid, "iid": tree.id("school_a"), "unit_id": tree.id("school_a"),
           "request_id": 1, "learner_id": 1}
    answered = set()
    for path, item in document["paths"].items():
        url = re.sub(r"\{(\w+)\}", lambda m: str(ids.get(m.group(1), 1)), path)
        for method in item:
            method = method.upper()
            kwargs = {"json": {}} if method in ("POST", "PUT", "PATCH", "DELETE") else {}
            r = agency.request(method, url, **kwargs)
            if (method, path) in ALLOWED:
                assert r.status_code == 200, (method, path, r.status_code, r.text)
                answered.add((method, path))
                _no_personal_data(r.json() if path != "/me" else {}, path)
            elif path == "/auth/token":
                assert r.status_code in (401, 422), (method, path, r.status_code)
            elif path == "/openapi.json":
                assert r.status_code == 200
            else:
                assert r.status_code == 403, (method, path, r.status_code, r.text)
                assert r.json()["code"] == "forbidden"
    assert answered == ALLOWED
    # the feed it read carries the confirmed counts, not whose they are
    items = feed(agency, rid)["items"]
    assert [i["unit"]["id"] for i in items] == [tree.id("school_a")]
    assert set(items[0]) == {"unit", "state", "counts", "seal_digest", "confirmed_at", "revoked_at",
                             "version", "cursor"}


def test_the_feed_gives_each_unit_once_in_the_order_of_its_last_change(api, admin, tree):
    t, rid = tree, new_round(admin)["id"]
    agency = agency_client(api, create_agency(admin))
    assert feed(agency, rid) == {"items": [], "next_cursor": feed(agency, rid)["next_cursor"],
                                 "has_more": False}
    add_learners(t["school_a"], rid, t.id("school_a"), ["p1", "p2", "p2"])
    add_learners(t["cdc_a"], rid, t.id("cdc_a"), ["cdc"])
    add_learners(t["school_b"], rid, t.id("school_b"), ["p3"])
    for key in ("school_a", "cdc_a", "school_b"):
        confirm(t[key], rid, t.id(key))
    confirm(t["lao_a"], rid, t.id("lao_a"))
    snapshot, cursor = whole_feed(agency, rid)
    assert [i["unit"]["id"] for i in snapshot] == [t.id(k) for k in ("school_a", "cdc_a", "school_b", "lao_a")]
    school = snapshot[0]
    assert school["state"] == "confirmed" and school["counts"] == {"total": 3, "by_grade": by_grade(["p1", "p2", "p2"])}
    assert school["unit"]["code"] == t.units["school_a"]["code"] and school["unit"]["type"] == "school"
    assert school["unit"]["path"] == t.units["school_a"]["path"]
    assert re.fullmatch(r"[0-9a-f]{64}", school["seal_digest"]) and school["confirmed_at"]
    assert snapshot[3]["counts"]["total"] == 4  # the LAO: its institutions' sum
    # nothing new: an empty page that keeps the cursor
    assert feed(agency, rid, after=cursor) == {"items": [], "next_cursor": cursor, "has_more": False}

    # paging: one at a time gives the same items, each cursor going on from its item
    one, after = [], None
    while True:
        page = feed(agency, rid, after=after, limit=1)
        assert len(page["items"]) <= 1
        one += page["items"]
        after = page["next_cursor"]
        if not page["has_more"]:
            break
    assert [i["unit"]["id"] for i in one] == [i["unit"]["id"] for i in snapshot]
    assert feed(agency, rid, after=snapshot[1]["cursor"])["items"] == snapshot[2:]

    # revoke, then confirm again: the unit moves to the end each time, with its new state
    revoke(t["province"], rid, t.id("lao_a"), "ขอแก้ไข")
    revoke(t["lao_a"], rid, t.id("school_a"), "เพิ่มนักเรียน")
    changes = feed(agency, rid, after=cursor)["items"]
    assert [(i["unit"]["id"], i["state"]) for i in changes] == [(t.id("lao_a"), "open"),
                                                               (t.id("school_a"), "open")]
    assert changes[1]["counts"] is None and changes[1]["revoked_at"] and changes[1]["seal_digest"] is None
    add_learners(t["school_a"], rid, t.id("school_a"), ["p3"])
    confirm(t["school_a"], rid, t.id("school_a"))
    items, _ = whole_feed(agency, rid)
    assert [i["unit"]["id"] for i in items] == [t.id(k) for k in ("cdc_a", "school_b", "lao_a", "school_a")]
    assert items[-1]["state"] == "confirmed" and items[-1]["counts"]["total"] == 4
    assert items[-1]["revoked_at"] is None and items[-1]["version"] > school["version"]
    assert items[2]["state"] == "open"

    # who reads it: the department everything, a province its subtree, nobody below
    assert [i["unit"]["id"] for i in feed(admin, rid)["items"]] == [i["unit"]["id"] for i in items]
    other = new_round(admin)["id"]
    assert feed(t["province"], rid)["items"] == items  # all of them are in its subtree
    assert t["lao_a"].get(f"/rounds/{rid}/confirmed-counts").status_code == 403
    assert t["school_a"].get(f"/rounds/{rid}/confirmed-counts").status_code == 403
    assert agency.get("/rounds/999999999/confirmed-counts").status_code == 404

    # a cursor of another round, or no cursor at all: 422
    for bad in (cursor + "x", "not-a-cursor", "eyJyIjoxfQ", "!!", items[0]["cursor"][:-2]):
        r = agency.get(f"/rounds/{rid}/confirmed-counts", params={"after": bad})
        assert r.status_code == 422 and r.json()["code"] == "validation_error", (bad, r.text)
    r = agency.get(f"/rounds/{other}/confirmed-counts", params={"after": cursor})
    assert r.status_code == 422, r.text
    for bad in ("0", "1001", "x"):
        assert agency.get(f"/rounds/{rid}/confirmed-counts", params={"limit": bad}).status_code == 422


def test_a_province_reads_the_feed_of_its_own_subtree(api, admin, tree):
    rid = new_round(admin)["id"]
    elsewhere = tree.__class__.build(admin)
    for t in (tree, elsewhere):
        add_learners(t["school_a"], rid, t.id("school_a"), ["p1"])
        confirm(t["school_a"], rid, t.id("school_a"))
    mine = [i["unit"]["id"] for i in feed(tree["province"], rid)["items"]]
    assert mine == [tree.id("school_a")]
    assert len(feed(admin, rid)["items"]) == 2


def test_client_credentials_are_throttled_like_sign_ins(api, admin):
    made = create_agency(admin)
    there = address()
    statuses = [token_response(api, made["client_id"], "not-the-secret", there).status_code for _ in range(5)]
    assert statuses[:3] == [401, 401, 401] and 429 in statuses[3:], statuses
    r = token_response(api, made["client_id"], made["client_secret"], there)
    assert r.status_code == 429 and r.json()["retry_after"] >= 1, r.text
    # from elsewhere the right secret still works (a stranger cannot lock the agency out at once)
    assert token_response(api, made["client_id"], made["client_secret"]).status_code == 200
    # an unknown client is answered as a wrong secret
    r = token_response(api, "lec-agency-0000000000000000", "x")
    assert r.status_code == 401 and r.json()["code"] == "invalid_credentials"
    r = api.post("/auth/token", json={"grant_type": "client_credentials", "client_id": made["client_id"]},
                 headers={"X-Forwarded-For": address()})
    assert r.status_code == 422 and "client_secret" in r.json()["errors"], r.text
