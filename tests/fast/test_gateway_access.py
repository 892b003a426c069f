"""Hierarchical access at the gateway: every route has a policy, anonymous and
agency requests stop before any service is asked, and a unit outside the
caller's subtree does not exist for it (404) while a role that may not act gets 403."""
import re

import pytest

from gateway.access import AGENCY_ROUTES, policy_for, responder_methods
from gateway.app import api_routes
from tests.fast.conftest import error
from tests.fast.fakes import UNITS


def every_operation(gw):
    """(method, URL with ids filled in, route template) of every API operation."""
    operations = []
    for uri, resource in api_routes(gw.ctx):
        url = re.sub(r"\{[a-z_]+:int\}", "4", uri)
        operations += [(method, url, uri) for method in responder_methods(resource)]
    return operations


def test_every_api_operation_has_a_policy_and_only_sign_in_is_public(gw):
    public = []
    for uri, resource in api_routes(gw.ctx):
        for method in responder_methods(resource):
            policy = policy_for(resource, method)
            assert policy is not None, f"{method} {uri}"
            if policy.public:
                public.append(f"{method} {uri}")
    assert public == ["POST /api/v1/auth/token"]
    assert len(every_operation(gw)) >= 80


def test_without_a_token_every_operation_is_401_and_no_service_is_asked(gw):
    for method, url, uri in every_operation(gw):
        if f"{method} {uri}" == "POST /api/v1/auth/token":
            continue
        r = gw.request(method, url, json={})
        assert r.status_code == 401 and r.json["code"] == "unauthorized", (method, url, r.text)
    assert gw.rpc.calls == []


def test_with_a_garbage_token_every_operation_is_401(gw):
    headers = {"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.e30.garbage"}
    for method, url, uri in every_operation(gw):
        if f"{method} {uri}" == "POST /api/v1/auth/token":
            continue
        r = gw.request(method, url, headers=headers, json={})
        assert r.status_code == 401, (method, url, r.text)
    assert gw.rpc.calls == []


def test_an_agency_client_is_403_everywhere_but_its_few_routes(gw):
    for method, url, uri in every_operation(gw):
        if (method, uri) in AGENCY_ROUTES or f"{method} {uri}" == "POST /api/v1/auth/token":
            continue
        r = gw.request(method, url, "agency", json={})
        assert r.status_code == 403 and r.json["code"] == "forbidden", (method, url, r.text)
    assert gw.rpc.service_calls() == []


# -- units in the path ---------------------------------------------------------------------------

SUBTREES = {
    "department": {1, 2, 3, 4, 5, 6, 7, 8},
    "province": {2, 3, 4, 5},
    "lao": {3, 4, 5},
    "school": {4},
    "cdc": {5},
    "province_b": {6, 7, 8},
}


@pytest.mark.parametrize("who", sorted(SUBTREES))
def test_a_unit_is_found_within_the_callers_subtree_and_nowhere_else(gw, rpc, who):
    rpc.answer("registry", "get_unit", lambda unit_id: UNITS[unit_id])
    for unit_id in sorted(UNITS):
        r = gw.get(f"/org-units/{unit_id}", who)
        if unit_id in SUBTREES[who]:
            assert r.status_code == 200 and r.json["id"] == unit_id, (who, unit_id, r.text)
        else:
            body = error(r, 404, "not_found")
            assert body["description"] == "org unit not found"
    asked = [c.args[0] for c in rpc.calls_to("registry", "get_unit")]
    assert asked == sorted(SUBTREES[who])  # the service never hears of the others
    assert all(c.actor.user_id == gw.world.user_id(who) for c in rpc.calls_to("registry", "get_unit"))


def test_an_unknown_unit_is_not_found_even_for_the_department(gw):
    error(gw.get("/org-units/999", "department"), 404, "not_found")
    assert gw.rpc.service_calls() == []


@pytest.mark.parametrize("path", ["/org-units/0", "/org-units/9223372036854775808",
                                  "/org-units/99999999999999999999999", "/org-units/-4", "/org-units/abc",
                                  "/org-units/4x", "/learners/0", "/rounds/9223372036854775808/learners"])
def test_ids_that_cannot_exist_are_not_found_before_any_lookup(gw, path):
    error(gw.get(path, "department"), 404, "not_found")
    assert gw.rpc.service_calls() == [] and gw.rpc.calls_to("registry", "get_units") == []


def test_units_are_looked_up_once_and_again_after_a_change(gw, rpc):
    rpc.answer("registry", "get_unit", lambda unit_id: UNITS[unit_id])
    rpc.answer("registry", "update_unit", lambda unit_id, body, if_match=None: dict(UNITS[unit_id], version=2))
    for _ in range(3):
        assert gw.get("/org-units/4", "lao").status_code == 200
    assert [c.args for c in rpc.calls_to("registry", "get_units")] == [([4],)]
    r = gw.request("PATCH", "/org-units/4", "lao", json={"name": "School A2"}, headers={"If-Match": '"1"'})
    assert r.status_code == 200 and r.headers["etag"] == '"2"'
    assert rpc.calls_to("registry", "update_unit")[0].kwargs == {"if_match": '"1"'}
    gw.get("/org-units/4", "lao")
    assert [c.args for c in rpc.calls_to("registry", "get_units")] == [([4],), ([4],)]


def test_acting_on_a_unit_from_above_is_refused_on_ones_own_unit(gw, rpc):
    rpc.answer("registry", "close_unit", lambda unit_id, body: dict(UNITS[unit_id], status="closed"))
    body = error(gw.post("/org-units/2/close", "province", json={}), 403, "forbidden")
    assert "above" in body["description"]
    assert gw.post("/org-units/3/close", "province", json={}).status_code == 200
    assert [c.args[0] for c in rpc.calls_to("registry", "close_unit")] == [3]


def test_verifying_an_institution_is_for_province_and_department_users(gw, rpc):
    rpc.answer("registry", "verify_unit", lambda unit_id: UNITS[unit_id])
    error(gw.post("/org-units/4/verify", "lao"), 403, "forbidden")
    error(gw.post("/org-units/8/verify", "province"), 404, "not_found")
    assert gw.post("/org-units/4/verify", "province").status_code == 200
    assert [c.args for c in rpc.calls_to("registry", "verify_unit")] == [(4,)]


@pytest.mark.parametrize("who,status", [("school", 201), ("school_b", 404), ("cdc", 404), ("lao", 403),
                                        ("province", 403), ("department", 403)])
def test_only_the_institution_itself_records_its_learners(gw, rpc, who, status):
    rpc.answer("enrollment", "add_learner", lambda round_id, iid, body: {"id": 77, **body})
    r = gw.post("/rounds/1/institutions/4/learners", who, json={"first_name": "x"})
    assert r.status_code == status, r.text
    assert len(rpc.calls_to("enrollment", "add_learner")) == (1 if status == 201 else 0)


def test_recording_a_learner_answers_201_with_its_location(gw, rpc):
    rpc.answer("enrollment", "add_learner", lambda round_id, iid, body: {"id": 77, **body})
    r = gw.post("/rounds/1/institutions/4/learners", "school", json={"first_name": "x"})
    assert r.status_code == 201 and r.headers["location"] == "/api/v1/learners/77"
    (call,) = rpc.calls_to("enrollment", "add_learner")
    assert call.args == (1, 4, {"first_name": "x"}) and call.actor.user_id == 104


# -- units in the query and in the body -----------------------------------------------------------

def test_a_unit_in_the_query_defaults_to_the_callers_own_and_stays_in_its_subtree(gw, rpc):
    rpc.answer("enrollment", "list_learners", {"items": [], "total": 0})
    assert gw.get("/rounds/1/learners", "province").status_code == 200
    assert gw.get("/rounds/1/learners?org_unit_id=4&q=som&grade=p1", "province").status_code == 200
    error(gw.get("/rounds/1/learners?org_unit_id=8", "province"), 404, "not_found")
    error(gw.get("/rounds/1/learners?org_unit_id=1", "province"), 404, "not_found")
    calls = rpc.calls_to("enrollment", "list_learners")
    assert [c.args for c in calls] == [(1, 2), (1, 4)]
    assert calls[1].kwargs["q"] == "som" and calls[1].kwargs["grade"] == "p1"


@pytest.mark.parametrize("value", ["abc", "1.5", "9223372036854775808", "4; DROP TABLE"])
def test_a_unit_in_the_query_that_is_not_an_id_is_refused_without_a_500(gw, rpc, value):
    r = gw.get("/rounds/1/learners", "province", params={"org_unit_id": value})
    assert r.status_code in (404, 422) and r.json["code"] in ("not_found", "validation_error"), r.text
    assert rpc.service_calls() == []


def test_a_unit_in_the_body_must_be_in_the_callers_subtree(gw, rpc):
    rpc.answer("registry", "create_unit", lambda body: dict(UNITS[4], id=40, name=body["name"]))
    error(gw.post("/org-units", "lao", json={"parent_id": 8, "name": "x", "type": "school"}), 404, "not_found")
    body = error(gw.post("/org-units", "lao", json={"parent_id": "3", "name": "x"}), 422, "validation_error")
    assert body["errors"] == {"parent_id": ["must be an integer"]}
    error(gw.post("/org-units", "lao", json={"parent_id": True, "name": "x"}), 422, "validation_error")
    error(gw.post("/org-units", "lao", json=[{"parent_id": 3}]), 422, "validation_error")
    r = gw.post("/org-units", "lao", json={"parent_id": 3, "name": "New school", "type": "school"})
    assert r.status_code == 201 and r.headers["location"] == "/api/v1/org-units/40"
    assert len(rpc.calls_to("registry", "create_unit")) == 1


def test_a_role_outside_the_policy_is_forbidden(gw, rpc):
    rpc.answer("registry", "audit_entries", {"items": [], "total": 0})
    body = error(gw.get("/audit?service=registry", "school"), 403, "forbidden")
    assert "department, province, lao" in body["description"]
    error(gw.post("/rounds", "province", json={}), 403, "forbidden")
    assert rpc.service_calls() == []


# -- resources that belong to a unit ----------------------------------------------------------------

LEARNER_PATHS = {11: "/1/2/3/4/", 12: "/1/6/7/8/", 13: None}


@pytest.fixture
def learners(rpc):
    rpc.answer("enrollment", "learner_path", lambda learner_id: LEARNER_PATHS.get(learner_id))
    rpc.answer("enrollment", "get_learner", lambda learner_id: {"id": learner_id})
    rpc.answer("enrollment", "update_learner", lambda learner_id, body: {"id": learner_id, **body})
    rpc.answer("enrollment", "remove_learner", None)
    return rpc


@pytest.mark.parametrize("who,readable", [("department", {11, 12}), ("province", {11}), ("lao", {11}),
                                          ("school", {11}), ("cdc", set()), ("school_b", {12})])
def test_a_learner_is_found_through_its_institutions_path(gw, learners, who, readable):
    for learner_id in sorted(LEARNER_PATHS):
        r = gw.get(f"/learners/{learner_id}", who)
        if learner_id in readable:
            assert r.status_code == 200 and r.json == {"id": learner_id}
        else:
            assert error(r, 404, "not_found")["description"] == "learner not found"
    assert sorted(c.args[0] for c in learners.calls_to("enrollment", "get_learner")) == sorted(readable)


def test_a_learners_path_is_asked_once(gw, learners):
    for _ in range(3):
        gw.get("/learners/11", "school")
    assert len(learners.calls_to("enrollment", "learner_path")) == 1


def test_a_learner_just_recorded_is_corrected_without_asking_its_path(gw, learners):
    learners.answer("enrollment", "add_learner", lambda round_id, iid, body: {"id": 77, **body})
    assert gw.post("/rounds/1/institutions/4/learners", "school", json={"first_name": "x"}).status_code == 201
    assert gw.request("PATCH", "/learners/77", "school", json={"first_name": "y"}).status_code == 200
    assert learners.calls_to("enrollment", "learner_path") == []
    # what was learnt is the institution's path: another institution still does not find it
    error(gw.request("PATCH", "/learners/77", "school_b", json={"first_name": "z"}), 404, "not_found")
    error(gw.request("PATCH", "/learners/77", "lao", json={"first_name": "z"}), 403, "forbidden")
    assert len(learners.calls_to("enrollment", "update_learner")) == 1


def test_only_the_institution_corrects_or_removes_its_learners(gw, learners):
    error(gw.request("PATCH", "/learners/11", "lao", json={"first_name": "y"}), 403, "forbidden")
    error(gw.request("DELETE", "/learners/11", "school_b"), 404, "not_found")
    assert gw.request("PATCH", "/learners/11", "school", json={"first_name": "y"}).json == \
        {"id": 11, "first_name": "y"}
    r = gw.request("DELETE", "/learners/11?reason=moved_out&note=left", "school")
    assert r.status_code == 204
    (call,) = learners.calls_to("enrollment", "remove_learner")
    assert call.args == (11, {"reason": "moved_out", "note": "left"})


def test_a_method_a_route_does_not_answer_is_405_with_allow(gw):
    r = gw.request("DELETE", "/org-units/4", "department")
    error(r, 405, "method_not_allowed")
    assert set(r.headers["allow"].split(", ")) == {"GET", "PATCH", "OPTIONS"}


def test_an_unknown_route_is_a_json_404(gw):
    error(gw.get("/no-such-thing", "department"), 404, "not_found")
    error(gw.get("/no-such-thing"), 404, "not_found")


def test_options_answers_the_allowed_methods_without_a_token(gw):
    r = gw.request("OPTIONS", "/rounds/1/institutions/4/learners")
    assert r.status_code == 200
    assert set(r.headers["allow"].split(", ")) == {"GET", "POST", "OPTIONS"}
    assert gw.rpc.calls == []


@pytest.mark.parametrize("who,status", [("lao", 200), ("school", 403), ("province", 403), ("province_b", 404)])
def test_an_other_affiliation_schools_headcount_is_set_by_its_lao(gw, rpc, who, status):
    rpc.answer("enrollment", "set_headcount", lambda round_id, iid, body: {"counts": body["counts"]})
    r = gw.request("PUT", "/rounds/1/institutions/4/headcount", who, json={"counts": {"p1": 3}})
    assert r.status_code == status, r.text
    assert [c.args for c in rpc.calls_to("enrollment", "set_headcount")] == \
        ([(1, 4, {"counts": {"p1": 3}})] if status == 200 else [])


def test_the_accounts_list_is_the_whole_subtree_unless_a_unit_is_named(gw, rpc):
    rpc.answer("registry", "list_users", {"items": [], "total": 0})
    gw.get("/users", "province")
    gw.get("/users?org_unit_id=3&limit=5", "province")
    error(gw.get("/users?org_unit_id=7", "province"), 404, "not_found")
    calls = rpc.calls_to("registry", "list_users")
    assert [c.kwargs["org_unit_id"] for c in calls] == [None, 3]
    assert calls[1].kwargs["limit"] == "5"


def test_long_operations_wait_longer_than_ordinary_calls(gw, rpc):
    rpc.answer("enrollment", "carry_over", {"copied": 0})
    assert gw.post("/rounds/2/institutions/4/learners/carry-over?dry_run=true", "school").status_code == 200
    (call,) = rpc.calls_to("enrollment", "carry_over")
    assert call.args == (2, 4) and call.kwargs == {"dry_run": True}
    assert call.timeout >= gw.config.rpc_timeout and call.timeout > 5


def test_an_account_s_first_request_about_its_own_unit_asks_the_registry_once(gw, rpc):
    rpc.answer("confirmation", "status", lambda round_id, unit_id: {"unit_id": unit_id, "state": "open"})
    assert gw.get("/rounds/1/confirmations/4", "school").status_code == 200
    # the account's state brought its unit's record: no get_units for it
    assert [c.method for c in rpc.calls_to("registry")] == ["token_states"]
    # a unit other than its own is still looked up
    assert gw.get("/rounds/1/confirmations/4", "lao").status_code == 200
    assert [c.method for c in rpc.calls_to("registry")] == ["token_states", "token_states"]
    error(gw.get("/rounds/1/confirmations/8", "school"), 404, "not_found")
    assert rpc.calls_to("registry", "get_units")[0].args == ([8],)
