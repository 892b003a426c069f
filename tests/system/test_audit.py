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


def test_only_department_users_read_it_and_bad_filters_are_refused(admin, tree):
    for key in ("province", "lao_a", "school_a"):
        r = tree[key].get("/audit", params={"service": "registry"})
        assert r.status_code == 403 and r.json()["code"] == "forbidden", key
    for params in ({}, {"service": "nowhere"}, {"service": "registry", "since": "yesterday"},
                   {"service": "registry", "actor_id": "me"}, {"service": "registry", "limit": "5000"},
                   {"request_id": "x", "limit": "abc"}):
        r = admin.get("/audit", params=params)
        assert r.status_code == 422 and r.json()["code"] == "validation_error", params
    page = admin.ok("GET", "/audit", params={"service": "registry", "limit": 2})
    assert len(page["items"]) == 2 and page["total"] >= 2
