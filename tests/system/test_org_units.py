"""Org units and accounts: every role against its own subtree, a sibling and an ancestor."""
import pytest

from tests.client import PASSWORD, Tree, unique


@pytest.fixture(scope="module")
def world(admin):
    """Two sibling provinces, each a full subtree."""
    return Tree.build(admin), Tree.build(admin)


def status(client, method, path, **kw):
    return client.request(method, path, **kw).status_code


def test_reads_follow_the_subtree(world, admin):
    t, other = world
    root = admin.user["org_unit_id"]
    cases = {
        # role: (own and below -> 200, elsewhere -> 404)
        "province": (["province", "lao_a", "school_a", "other_a"], [other.id("province"),
                                                                     other.id("school_a"), root]),
        "lao_a": (["lao_a", "school_a", "cdc_a", "other_a"], [t.id("lao_b"), t.id("school_b"),
                                                            t.id("province"), root]),
        "school_a": (["school_a"], [t.id("cdc_a"), t.id("lao_a"), t.id("school_b"), root]),
    }
    for role, (mine, elsewhere) in cases.items():
        client = t[role]
        for key in mine:
            r = client.get(f"/org-units/{t.id(key)}")
            assert r.status_code == 200, (role, key, r.text)
            assert r.json()["id"] == t.id(key)
            assert client.get(f"/org-units/{t.id(key)}/children").status_code == 200
        for unit_id in elsewhere:
            for path in (f"/org-units/{unit_id}", f"/org-units/{unit_id}/children"):
                r = client.get(path)
                assert r.status_code in (403, 404), (role, path, r.status_code)
                assert "items" not in r.json() and "code" in r.json()
                assert r.json()["code"] in ("forbidden", "not_found")
    # the department reads everything
    assert admin.get(f"/org-units/{t.id('school_b')}").status_code == 200


def test_children_lists_only_direct_children_with_filters(world):
    t, _ = world
    body = t["province"].ok("GET", f"/org-units/{t.id('lao_a')}/children")
    assert body["total"] == 3
    assert {u["id"] for u in body["items"]} == {t.id("school_a"), t.id("cdc_a"), t.id("other_a")}
    body = t["province"].ok("GET", f"/org-units/{t.id('lao_a')}/children", params={"type": "cdc"})
    assert [u["id"] for u in body["items"]] == [t.id("cdc_a")]
    paged = t["province"].ok("GET", f"/org-units/{t.id('lao_a')}/children", params={"limit": 1, "offset": 1})
    assert paged["total"] == 3 and len(paged["items"]) == 1
    r = t["province"].get(f"/org-units/{t.id('lao_a')}/children", params={"limit": 5000})
    assert r.status_code == 422 and r.json()["code"] == "validation_error"
    r = t["province"].get(f"/org-units/{t.id('lao_a')}/children", params={"type": "castle"})
    assert r.status_code == 422


def test_unit_shape_and_path(world):
    t, _ = world
    unit = t["lao_a"].ok("GET", f"/org-units/{t.id('other_a')}")
    assert set(unit) >= {"id", "code", "name", "type", "parent_id", "status", "affiliation", "path"}
    assert unit["affiliation"] == "obec"
    assert unit["parent_id"] == t.id("lao_a")
    assert unit["path"].endswith(f"/{t.id('province')}/{t.id('lao_a')}/{t.id('other_a')}/")
    assert unit["name"] == "หน่วย other_a ทดสอบ"  # Thai round-trips unchanged


def test_creating_units_only_inside_own_subtree(world, admin):
    t, other = world
    root = admin.user["org_unit_id"]

    def create(client, type, parent_id, **extra):
        return client.post("/org-units", {"code": unique("C"), "name": "ใหม่", "type": type,
                                          "parent_id": parent_id, **extra})

    r = create(t["province"], "lao", t.id("province"))
    assert r.status_code == 201 and r.json()["status"] == "active"
    assert create(t["province"], "lao", other.id("province")).status_code == 404
    assert create(t["province"], "province", root).status_code == 404
    r = create(t["lao_a"], "school", t.id("lao_a"))
    assert r.status_code == 201 and r.json()["status"] == "pending"
    r = create(t["lao_a"], "other_school", t.id("lao_a"), affiliation="bpp")
    assert r.status_code == 201 and r.json()["affiliation"] == "bpp"
    assert create(t["lao_a"], "school", t.id("lao_b")).status_code == 404
    assert create(t["lao_a"], "lao", t.id("province")).status_code == 404
    assert create(t["school_a"], "school", t.id("lao_a")).status_code == 404
    r = create(t["school_a"], "school", t.id("school_a"))
    assert r.status_code == 422 and "parent_id" in r.json()["errors"]
    # wrong shapes
    r = create(t["lao_a"], "other_school", t.id("lao_a"))
    assert r.status_code == 422 and "affiliation" in r.json()["errors"]
    r = t["lao_a"].post("/org-units", {"code": "bad code!", "name": "", "type": "castle",
                                       "parent_id": t.id("lao_a")})
    assert r.status_code == 422
    assert {"code", "name", "type"} <= set(r.json()["errors"])
    # codes are unique
    code = unique("DUP")
    assert t["lao_a"].post("/org-units", {"code": code, "name": "x", "type": "cdc",
                                          "parent_id": t.id("lao_a")}).status_code == 201
    r = t["lao_a"].post("/org-units", {"code": code, "name": "y", "type": "cdc", "parent_id": t.id("lao_a")})
    assert r.status_code == 409 and r.json()["code"] == "conflict"


def test_pending_institution_is_verified_by_province_or_department(world, admin):
    t, other = world
    cdc = t["lao_a"].ok("POST", "/org-units", 201, json={"code": unique("CDC"), "name": "ศูนย์ใหม่",
                                                         "type": "cdc", "parent_id": t.id("lao_a")})
    assert cdc["status"] == "pending"
    path = f"/org-units/{cdc['id']}/verify"
    assert status(t["lao_a"], "POST", path) == 403          # an LAO cannot verify
    assert status(t["school_a"], "POST", path) in (403, 404)
    assert status(other["province"], "POST", path) == 404   # another province cannot see it
    r = t["province"].post(path)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "active"
    assert t["lao_a"].ok("GET", f"/org-units/{cdc['id']}")["status"] == "active"
    r = t["province"].post(path)
    assert r.status_code == 409 and r.json()["code"] == "conflict"
    # the department verifies too
    cdc2 = t["lao_a"].ok("POST", "/org-units", 201, json={"code": unique("CDC"), "name": "ศูนย์",
                                                          "type": "cdc", "parent_id": t.id("lao_a")})
    assert admin.ok("POST", f"/org-units/{cdc2['id']}/verify")["status"] == "active"


def test_closing_is_done_from_above(world):
    t, _ = world
    school = t["province"].ok("POST", "/org-units", 201, json={"code": unique("S"), "name": "ปิด",
                                                                "type": "school", "parent_id": t.id("lao_a")})
    path = f"/org-units/{school['id']}/close"
    assert status(t["lao_b"], "POST", path, json={"closed_on": "2026-05-01"}) == 404
    assert status(t["lao_a"], "POST", f"/org-units/{t.id('lao_a')}/close", json={"closed_on": "2026-05-01"}) == 403
    assert status(t["school_a"], "POST", f"/org-units/{t.id('school_a')}/close",
                  json={"closed_on": "2026-05-01"}) == 403
    r = t["lao_a"].post(path, {})
    assert r.status_code == 422 and "closed_on" in r.json()["errors"]
    r = t["lao_a"].post(path, {"closed_on": "2026-05-01"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "closed" and r.json()["closed_on"] == "2026-05-01"
    assert status(t["lao_a"], "POST", path, json={"closed_on": "2026-05-02"}) == 409
    # an LAO with open institutions cannot be closed
    r = t["province"].post(f"/org-units/{t.id('lao_b')}/close", {"closed_on": "2026-05-01"})
    assert r.status_code == 409


def test_accounts_are_created_and_listed_inside_the_subtree(world):
    t, other = world
    name = unique("clerk.")
    r = t["lao_a"].post("/users", {"username": name, "password": PASSWORD, "org_unit_id": t.id("school_a")})
    assert r.status_code == 201, r.text
    user = r.json()
    assert user["role"] == "institution" and user["org_unit_id"] == t.id("school_a")
    assert "password" not in user and "password_hash" not in user
    assert t["lao_a"].login(name).user["role"] == "institution"
    for unit in (t.id("school_b"), t.id("province"), other.id("school_a")):
        r = t["lao_a"].post("/users", {"username": unique("x."), "password": PASSWORD, "org_unit_id": unit})
        assert r.status_code == 404
    r = t["lao_a"].post("/users", {"username": name.upper(), "password": PASSWORD,
                                   "org_unit_id": t.id("school_a")})
    assert r.status_code == 409  # usernames are unique, whatever the case
    r = t["lao_a"].post("/users", {"username": unique("y."), "password": "short",
                                   "org_unit_id": t.id("school_a")})
    assert r.status_code == 422 and "password" in r.json()["errors"]
    r = t["lao_a"].post("/users", {"username": unique("z."), "password": PASSWORD,
                                   "org_unit_id": t.id("other_a")})
    assert r.status_code == 422
    listed = t["lao_a"].ok("GET", "/users", params={"org_unit_id": t.id("school_a")})
    assert name in {u["username"] for u in listed["items"]}
    assert all("password_hash" not in u for u in listed["items"])
    assert t["lao_b"].get("/users", params={"org_unit_id": t.id("school_a")}).status_code == 404
    mine = t["lao_a"].ok("GET", "/users", params={"limit": 1000})
    units = {u["org_unit_id"] for u in mine["items"]}
    assert units <= {t.id("lao_a"), t.id("school_a"), t.id("cdc_a")}
    assert t.id("school_b") not in units and t.id("lao_b") not in units


def test_registry_events_refresh_every_gateway_worker(world):
    """Each gateway process caches units; the registry's unit_changed event
    refreshes all of them (the cache would otherwise keep 'pending' for minutes)."""
    import time

    t, _ = world
    cdc = t["lao_a"].ok("POST", "/org-units", 201, json={"code": unique("CDC"), "name": "ศูนย์รอ",
                                                         "type": "cdc", "parent_id": t.id("lao_a")})
    name = unique("cdcuser.")
    t["lao_a"].ok("POST", "/users", 201, json={"username": name, "password": PASSWORD, "org_unit_id": cdc["id"]})
    cdc_user = t["lao_a"].login(name)
    for _ in range(8):  # reach every worker so that each caches the pending unit
        assert cdc_user.ok("GET", "/me")["org_unit"]["status"] == "pending"
    t["province"].ok("POST", f"/org-units/{cdc['id']}/verify")
    time.sleep(1.0)
    seen = {cdc_user.ok("GET", "/me")["org_unit"]["status"] for _ in range(12)}
    assert seen == {"active"}


ROLE_MATRIX = [
    # (role, endpoint, target key in own / sibling / ancestor, expected own, sibling, ancestor)
    ("province", "GET /org-units/{id}", ("lao_a", "other:province", "root"), (200, 404, 404)),
    ("lao_a", "GET /org-units/{id}/children", ("lao_a", "lao_b", "province"), (200, 404, 404)),
    ("school_a", "GET /org-units/{id}", ("school_a", "cdc_a", "lao_a"), (200, 404, 404)),
    ("lao_a", "GET /users?org_unit_id={id}", ("school_a", "school_b", "province"), (200, 404, 404)),
    ("school_a", "GET /users?org_unit_id={id}", ("school_a", "cdc_a", "lao_a"), (200, 404, 404)),
    ("province", "POST /org-units/{id}/verify", ("new_pending", "other:new_pending", "root"), (200, 404, 404)),
    ("lao_a", "POST /org-units/{id}/close", ("new_school", "school_b", "province"), (200, 404, 404)),
    ("school_a", "POST /org-units/{id}/close", ("school_a", "cdc_a", "lao_a"), (403, 404, 404)),
    ("lao_a", "POST /users", ("cdc_a", "school_b", "province"), (201, 404, 404)),
    ("school_a", "POST /users", ("school_a", "cdc_a", "lao_a"), (201, 404, 404)),
    ("province", "POST /org-units", ("province", "other:province", "root"), (201, 404, 404)),
]


@pytest.mark.parametrize("role,endpoint,targets,expected", ROLE_MATRIX,
                         ids=[f"{r}:{e}" for r, e, _, _ in ROLE_MATRIX])
def test_role_against_own_sibling_and_ancestor(world, admin, role, endpoint, targets, expected):
    t, other = world
    method, path = endpoint.split(" ", 1)

    def resolve(key):
        tree = t
        if key.startswith("other:"):
            tree, key = other, key[len("other:"):]
        if key == "root":
            return admin.user["org_unit_id"]
        if key == "new_pending":
            return tree["lao_a"].ok("POST", "/org-units", 201, json={
                "code": unique("NP"), "name": "รอ", "type": "cdc", "parent_id": tree.id("lao_a")})["id"]
        if key == "new_school":
            return admin.ok("POST", "/org-units", 201, json={
                "code": unique("NS"), "name": "ใหม่", "type": "school", "parent_id": tree.id("lao_a")})["id"]
        return tree.id(key)

    for target, want in zip(targets, expected):
        unit_id = resolve(target)
        body = None
        if path == "/users":
            body = {"username": unique("m."), "password": PASSWORD, "org_unit_id": unit_id}
        elif path == "/org-units":
            body = {"code": unique("M"), "name": "ม", "type": "lao", "parent_id": unit_id}
        elif path.endswith("/close"):
            body = {"closed_on": "2026-05-01"}
        r = t[role].request(method, path.format(id=unit_id), json=body)
        assert r.status_code == want, (role, endpoint, target, r.status_code, r.text)
        if want >= 400:
            assert r.json()["code"] in ("forbidden", "not_found")
            assert "items" not in r.json() and "path" not in r.json()


def test_children_are_searched_by_name_or_code(admin, tree):
    lao = tree.id("lao_a")
    school = tree.units["school_a"]
    by_name = tree["lao_a"].ok("GET", f"/org-units/{lao}/children", params={"q": "SCHOOL_A"})
    assert [u["id"] for u in by_name["items"]] == [school["id"]] and by_name["total"] == 1
    by_code = tree["province"].ok("GET", f"/org-units/{lao}/children", params={"q": school["code"][2:8].lower()})
    assert school["id"] in [u["id"] for u in by_code["items"]]
    # LIKE's own characters are taken literally
    assert tree["lao_a"].ok("GET", f"/org-units/{lao}/children", params={"q": "%"})["total"] == 0
    assert tree["lao_a"].ok("GET", f"/org-units/{lao}/children", params={"q": "_"})["total"] == 3
    r = tree["lao_a"].get(f"/org-units/{lao}/children", params={"q": "x" * 101})
    assert r.status_code == 422 and r.json()["code"] == "validation_error"
