"""The audit log through the gateway: department users read who changed what,
when, and with which request; one request's trail across every service."""
import datetime as dt
import uuid

from tests.system.enrollment_helpers import learner, learners_url, new_round


def test_the_department_reads_the_audit_log_of_a_change_across_services(admin, tree):
    t = tree
    r = new_round(admin)
    request_id = f"audit-{uuid.uuid4().hex[:12]}"
    resp = t["school_a"].post(learners_url(r, t, "school_a"), json=learner(),
                              headers={"X-Request-Id": request_id})
    assert resp.status_code == 201, resp.text
    assert resp.headers["X-Request-Id"] == request_id
    added = resp.json()

    trail = admin.ok("GET", "/audit", params={"request_id": request_id})
    assert trail["total"] == 1
    entry = trail["items"][0]
    assert (entry["service"], entry["action"], entry["entity"], entry["entity_id"]) == \
        ("enrollment", "add", "learner", str(added["id"]))
    assert entry["actor_id"] == t["school_a"].user["id"]
    assert entry["actor_unit_id"] == t.id("school_a") and entry["request_id"] == request_id
    assert dt.datetime.fromisoformat(entry["at"]).utcoffset() is not None

    # one service, filtered by entity: the learner's history, newest first
    t["school_a"].ok("PATCH", f"/learners/{added['id']}", json={"first_name": "แก้ไข"})
    history = admin.ok("GET", "/audit", params={"service": "enrollment", "entity": "learner",
                                                "entity_id": str(added["id"])})
    assert [e["action"] for e in history["items"]] == ["update", "add"]
    # the registry's log holds the tree's units and accounts
    created = admin.ok("GET", "/audit", params={"service": "registry", "entity": "org_unit",
                                                "entity_id": str(t.id("school_a"))})
    assert created["items"][-1]["action"] == "create"


def test_institutions_do_not_read_it_and_bad_filters_are_refused(admin, tree):
    r = tree["school_a"].get("/audit", params={"service": "registry"})
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    for key, other in (("province", None), ("lao_a", "lao_b"), ("lao_b", "school_a")):
        if other:  # a unit outside the caller's subtree does not exist for it
            r = tree[key].get("/audit", params={"org_unit_id": tree.id(other)})
            assert r.status_code == 404 and r.json()["code"] == "not_found", key
    for params in ({}, {"service": "nowhere"}, {"service": "registry", "since": "yesterday"},
                   {"service": "registry", "actor_id": "me"}, {"service": "registry", "limit": "5000"},
                   {"request_id": "x", "limit": "abc"}):
        r = admin.get("/audit", params=params)
        assert r.status_code == 422 and r.json()["code"] == "validation_error", params
    page = admin.ok("GET", "/audit", params={"service": "registry", "limit": 2})
    assert len(page["items"]) == 2 and page["total"] >= 2


def test_province_and_lao_users_read_the_audit_log_of_their_subtree(admin, tree):
    t = tree
    r = new_round(admin)
    a = t["school_a"].ok("POST", learners_url(r, t, "school_a"), 201, json=learner())
    b = t["school_b"].ok("POST", learners_url(r, t, "school_b"), 201, json=learner())
    t["lao_a"].ok("PUT", f"/rounds/{r['id']}/institutions/{t.id('other_a')}/headcount",
                  json={"counts": {"p1": 3}})

    def seen(client, **params):
        found = client.ok("GET", "/audit", params={"limit": 1000, **params})
        assert found["total"] >= len(found["items"])
        return {(e["service"], e["action"], e["entity"], e["entity_id"]) for e in found["items"]}

    # LAO a (its own unit by default, every service): its school's learner and its own headcount,
    # nothing of LAO b
    lao_a = seen(t["lao_a"])
    assert ("enrollment", "add", "learner", str(a["id"])) in lao_a
    assert ("enrollment", "set", "headcount", f"{r['id']}:{t.id('other_a')}") in lao_a
    assert ("enrollment", "add", "learner", str(b["id"])) not in lao_a
    # the registry's creation of LAO a's school (by the department) is an entry of its subtree
    assert ("registry", "create", "org_unit", str(t.id("school_a"))) in seen(t["lao_a"], service="registry")
    # LAO b sees its own learner and not LAO a's
    lao_b = seen(t["lao_b"], service="enrollment")
    assert ("enrollment", "add", "learner", str(b["id"])) in lao_b
    assert ("enrollment", "add", "learner", str(a["id"])) not in lao_b
    # the province sees both; narrowed to LAO a, only LAO a's
    province = seen(t["province"])
    assert {("enrollment", "add", "learner", str(a["id"])),
            ("enrollment", "add", "learner", str(b["id"]))} <= province
    narrowed = seen(t["province"], org_unit_id=t.id("lao_a"))
    assert ("enrollment", "add", "learner", str(b["id"])) not in narrowed
    assert ("enrollment", "add", "learner", str(a["id"])) in narrowed
    # the department: unchanged without org_unit_id, and may narrow too
    assert ("enrollment", "add", "learner", str(b["id"])) in seen(admin, service="enrollment")
    assert ("enrollment", "add", "learner", str(b["id"])) not in seen(admin, org_unit_id=t.id("lao_a"))
    # paging across every service is bounded
    r2 = t["province"].get("/audit", params={"limit": 1000, "offset": 1})
    assert r2.status_code == 422 and r2.json()["code"] == "validation_error"
