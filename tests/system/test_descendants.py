"""GET /org-units/{id}/descendants: the units beneath a unit at any depth, searched by code
prefix or name, filtered by type and status, in pages; only within the caller's subtree."""
import pytest

from tests.client import Tree, unique


@pytest.fixture(scope="module")
def world(admin):
    """Two sibling provinces; the first has two more schools with Thai names under LAO b."""
    t, other = Tree.build(admin), Tree.build(admin)
    t.units["school_b2"] = admin.ok("POST", "/org-units", 201, json={
        "code": unique("NB"), "name": "โรงเรียนบ้านหนองบัวทองพัฒนา", "type": "school",
        "parent_id": t.id("lao_b")})
    t.units["cdc_b"] = admin.ok("POST", "/org-units", 201, json={
        "code": unique("CB"), "name": "ศูนย์พัฒนาเด็กเล็กบ้านหนองบัว", "type": "cdc", "parent_id": t.id("lao_b")})
    return t, other


def descendants(client, unit_id, **params):
    return client.get(f"/org-units/{unit_id}/descendants", params=params)


def ids(body):
    return [u["id"] for u in body["items"]]


def test_every_unit_beneath_at_any_depth_by_path_without_the_unit_itself(world):
    t, other = world
    body = t["province"].ok("GET", f"/org-units/{t.id('province')}/descendants")
    beneath = [k for k in t.units if k != "province"]
    assert body["total"] == len(beneath) == 8
    assert set(ids(body)) == {t.id(k) for k in beneath}
    assert t.id("province") not in ids(body)
    assert [u["path"] for u in body["items"]] == sorted(u["path"] for u in body["items"])
    # depth 2 below the province: its schools
    assert {t.id("school_a"), t.id("school_b"), t.id("school_b2")} <= set(ids(body))
    assert {u["depth"] for u in body["items"]} == {t.units["province"]["depth"] + 1, t.units["province"]["depth"] + 2}
    # nothing of the sibling province
    assert not set(ids(body)) & {u["id"] for u in other.units.values()}
    # the shape of a unit, as GET /org-units/{id} answers it
    one = next(u for u in body["items"] if u["id"] == t.id("other_a"))
    assert one == t["province"].ok("GET", f"/org-units/{t.id('other_a')}")
    # an LAO: its own three institutions only
    lao = t["lao_a"].ok("GET", f"/org-units/{t.id('lao_a')}/descendants")
    assert set(ids(lao)) == {t.id("school_a"), t.id("cdc_a"), t.id("other_a")}
    # a school has nothing beneath it
    assert t["school_a"].ok("GET", f"/org-units/{t.id('school_a')}/descendants") == {"items": [], "total": 0}


def test_q_finds_a_code_prefix_or_a_thai_name_case_insensitively(world):
    t, _ = world
    province = t["province"]
    code = t.units["school_b2"]["code"]
    for q in (code, code[:5], code[:5].lower()):
        body = descendants(province, t.id("province"), q=q).json()
        assert t.id("school_b2") in ids(body), q
        assert all(u["code"].lower().startswith(q.lower()) or q.lower() in u["name"].lower()
                   for u in body["items"]), (q, body)
    # a code is matched from its start only
    assert descendants(province, t.id("province"), q=code[2:]).json()["total"] == 0
    # part of a Thai name, anywhere in it
    body = province.ok("GET", f"/org-units/{t.id('province')}/descendants", params={"q": "หนองบัว"})
    assert set(ids(body)) == {t.id("school_b2"), t.id("cdc_b")}
    body = province.ok("GET", f"/org-units/{t.id('province')}/descendants", params={"q": "บัวทองพัฒ"})
    assert ids(body) == [t.id("school_b2")]
    # from the LAO above it as well, and from the department
    assert ids(t["lao_b"].ok("GET", f"/org-units/{t.id('lao_b')}/descendants", params={"q": "บัวทอง"})) == [t.id("school_b2")]
    # LIKE's wildcards are plain characters
    assert descendants(province, t.id("province"), q="%").json()["total"] == 0
    underscored = descendants(province, t.id("province"), q="_").json()  # "หน่วย school_a ทดสอบ"
    assert 0 < underscored["total"] < 8 and all("_" in u["name"] for u in underscored["items"])


def test_type_and_status_filters(world, admin):
    t, _ = world
    province = t["province"]
    schools = province.ok("GET", f"/org-units/{t.id('province')}/descendants", params={"type": "school"})
    assert set(ids(schools)) == {t.id("school_a"), t.id("school_b"), t.id("school_b2")}
    body = province.ok("GET", f"/org-units/{t.id('province')}/descendants", params={"type": "cdc", "q": "หนองบัว"})
    assert ids(body) == [t.id("cdc_b")]
    # an LAO's new school waits for verification: pending
    pending = t["lao_a"].ok("POST", "/org-units", 201, json={"code": unique("PS"), "name": "โรงเรียนรอรับรอง",
                                                             "type": "school", "parent_id": t.id("lao_a")})
    body = province.ok("GET", f"/org-units/{t.id('province')}/descendants", params={"status": "pending"})
    assert ids(body) == [pending["id"]]
    active = province.ok("GET", f"/org-units/{t.id('province')}/descendants", params={"status": "active"})
    assert pending["id"] not in ids(active) and t.id("school_b2") in ids(active)


def test_paging(world):
    t, _ = world
    province = t["province"]
    everything = ids(province.ok("GET", f"/org-units/{t.id('province')}/descendants"))
    pages = []
    for offset in range(0, len(everything), 3):
        body = province.ok("GET", f"/org-units/{t.id('province')}/descendants", params={"limit": 3, "offset": offset})
        assert body["total"] == len(everything) and len(body["items"]) <= 3
        pages += ids(body)
    assert pages == everything
    beyond = province.ok("GET", f"/org-units/{t.id('province')}/descendants", params={"offset": 500})
    assert beyond["items"] == [] and beyond["total"] == len(everything)


def test_outside_the_subtree_nothing_is_found(world, admin):
    t, other = world
    root = admin.user["org_unit_id"]
    for client, unit_id in ((t["province"], other.id("province")), (t["province"], root),
                            (t["lao_a"], t.id("lao_b")), (t["lao_a"], t.id("province")),
                            (t["school_a"], t.id("lao_a")), (t["lao_a"], 2 ** 62)):
        r = descendants(client, unit_id, q="หน่วย")
        assert r.status_code in (403, 404), (unit_id, r.status_code, r.text)
        assert r.json()["code"] in ("forbidden", "not_found") and "items" not in r.json()
    # the department reaches everywhere
    assert t.id("school_b2") in ids(admin.ok("GET", f"/org-units/{root}/descendants", params={"q": "บัวทองพัฒ"}))


@pytest.mark.parametrize("params, field", [
    ({"type": "castle"}, "type"), ({"status": "asleep"}, "status"), ({"q": "x" * 101}, "q"),
    ({"limit": 5000}, "limit"), ({"limit": 0}, "limit"), ({"limit": "many"}, "limit"),
    ({"offset": -1}, "offset"),
])
def test_bad_parameters_are_validation_errors(world, params, field):
    t, _ = world
    r = descendants(t["province"], t.id("province"), **params)
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "validation_error" and field in r.json()["errors"], r.json()


def test_the_accounts_of_a_subtree_are_searched_by_username(world):
    """GET /users?q=: the accounts of the caller's subtree (or of one unit) whose username
    contains the text."""
    t, other = world
    lao = t["lao_a"]
    name = t["school_a"].user["username"]
    body = lao.ok("GET", "/users", params={"q": name[3:9].upper()})
    assert [u["username"] for u in body["items"]] == [name] and body["total"] == 1
    everyone = lao.ok("GET", "/users")
    assert {u["username"] for u in everyone["items"]} == {t[k].user["username"] for k in ("lao_a", "school_a", "cdc_a")}
    assert lao.ok("GET", "/users", params={"q": other["school_a"].user["username"]})["total"] == 0
    assert lao.ok("GET", "/users", params={"q": name, "org_unit_id": t.id("cdc_a")})["total"] == 0
    assert lao.ok("GET", "/users", params={"q": "%"})["total"] == 0
    r = lao.get("/users", params={"q": "x" * 101})
    assert r.status_code == 422 and "q" in r.json()["errors"]
