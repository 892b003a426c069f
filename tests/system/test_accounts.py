"""Accounts after their creation: a user changes their own password, a user of
a unit above the account's unit resets it or disables the account (a colleague
of the same unit may only read it), and either way the tokens issued before
stop working at once."""
from sqlalchemy import create_engine, text

from services.common import settings
from tests.client import PASSWORD, Client, unique
from tests.system.confirmation_support import wait_until


def refused(client):
    """The client's token no longer works: at once on the gateway process that made
    the change, on the others when the registry's event reaches them (milliseconds)."""
    wait_until(lambda: client.get("/me").status_code == 401, 10, 0.05, "the old token refused")
    r = client.get("/me")
    return r.status_code == 401 and r.json()["code"] == "unauthorized"


_hosts = iter(range(1, 250))


def login(api, username, password):
    """Each attempt from an address of its own: what is counted here is the account's failures."""
    return api.post("/auth/token", {"username": username, "password": password},
                    headers={"X-Forwarded-For": f"203.0.113.{next(_hosts)}"})


def new_account(admin, tree, key):
    username = unique(f"acct.{key}.")
    user = admin.ok("POST", "/users", 201, json={"username": username, "password": PASSWORD,
                                                 "org_unit_id": tree.id(key)})
    return user, admin.login(username)


def registry_audit(user_id):
    engine = create_engine(settings.database_url("registry"), pool_size=1)
    try:
        with engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(text(
                "SELECT action, actor_id, details FROM audit_log WHERE entity = 'user' "
                "AND entity_id = :i ORDER BY id"), {"i": str(user_id)})]
    finally:
        engine.dispose()


def test_a_user_changes_their_own_password(api, admin, tree):
    user, client = new_account(admin, tree, "school_a")
    wrong = client.post("/me/password", {"current_password": "not-it", "new_password": "another-pass-1"})
    assert wrong.status_code == 422 and wrong.json()["code"] == "validation_error"
    assert "current_password" in wrong.json()["errors"]
    same = client.post("/me/password", {"current_password": PASSWORD, "new_password": PASSWORD})
    assert same.status_code == 422 and "new_password" in same.json()["errors"]
    short = client.post("/me/password", {"current_password": PASSWORD, "new_password": "short"})
    assert short.status_code == 422 and "new_password" in short.json()["errors"]

    r = client.post("/me/password", {"current_password": PASSWORD, "new_password": "ใหม่-รหัส-2569"})
    assert r.status_code == 204, r.text
    # the token it was changed with is over, as is the old password
    assert refused(client)
    assert login(api, user["username"], PASSWORD).json()["code"] == "invalid_credentials"
    fresh = Client(api.base_url).login(user["username"], "ใหม่-รหัส-2569")
    me = fresh.ok("GET", "/me")
    assert me["password_changed_at"] and "password_hash" not in me
    actions = [a["action"] for a in registry_audit(user["id"])]
    assert actions == ["create", "change_password"]
    assert "ใหม่" not in str(registry_audit(user["id"]))


def test_a_user_above_resets_a_password_and_lifts_a_lock(api, admin, tree):
    user, client = new_account(admin, tree, "school_a")
    for _ in range(10):  # tests/conftest.py: a name is locked after 10 failures in a row
        login(api, user["username"], "guessing-wrong")
    locked = login(api, user["username"], PASSWORD).json()
    assert locked["code"] == "rate_limited" and locked["locked"] is True
    assert [a["action"] for a in registry_audit(user["id"])][-1] == "lock"
    lao = tree["lao_a"]
    assert lao.ok("GET", f"/users/{user['id']}")["username"] == user["username"]
    after = lao.ok("PATCH", f"/users/{user['id']}", json={"password": "reset-by-lao-1"})
    assert after["active"] is True and after["password_changed_at"]
    assert refused(client)  # its token ended with the reset
    assert login(api, user["username"], "reset-by-lao-1").status_code == 200
    audit = registry_audit(user["id"])
    assert audit[-1]["action"] == "update" and audit[-1]["details"]["password"] == "reset"
    assert audit[-1]["actor_id"] == lao.user["id"]
    assert "reset-by-lao-1" not in str(audit)


def test_disabling_an_account_ends_its_tokens_at_once_and_enabling_restores_it(api, admin, tree):
    user, client = new_account(admin, tree, "lao_a")
    assert client.ok("GET", "/me")["id"] == user["id"]
    province = tree["province"]
    assert province.ok("PATCH", f"/users/{user['id']}", json={"active": False})["active"] is False
    assert refused(client)
    assert login(api, user["username"], PASSWORD).json()["code"] == "invalid_credentials"
    listed = {u["id"]: u for u in province.ok("GET", "/users", params={"org_unit_id": tree.id("lao_a")})["items"]}
    assert listed[user["id"]]["active"] is False
    province.ok("PATCH", f"/users/{user['id']}", json={"active": True})
    again = Client(api.base_url).login(user["username"])
    assert again.ok("GET", "/me")["id"] == user["id"]


def test_who_may_change_an_account(api, admin, tree):
    user, client = new_account(admin, tree, "school_a")
    # a sibling subtree and the levels below do not see it: 404, as for any other resource
    for outsider in (tree["lao_b"], tree["school_b"], tree["cdc_a"]):
        for method, body in (("GET", None), ("PATCH", {"active": False})):
            r = outsider.request(method, f"/users/{user['id']}", json=body)
            assert r.status_code == 404 and r.json()["code"] == "not_found", (outsider.user, method)
    # nor may an institution change the account of its LAO's user
    r = client.patch(f"/users/{tree['lao_a'].user['id']}", {"active": False})
    assert r.status_code == 404
    # one's own account goes through /me/password, not PATCH
    r = client.patch(f"/users/{user['id']}", {"password": "self-service-1"})
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    # a colleague of the same unit reads the account but neither resets nor disables it
    colleague = tree["school_a"]
    assert colleague.ok("GET", f"/users/{user['id']}")["username"] == user["username"]
    for body in ({"password": "a-colleague-resets-2569"}, {"active": False}):
        r = colleague.patch(f"/users/{user['id']}", body)
        assert r.status_code == 403 and r.json()["code"] == "forbidden", body
        assert "unit above" in r.json()["description"]
    # bad bodies
    for body in ({}, {"active": "no"}, {"active": 0}, {"active": 1}, {"password": "short"}, {"password": None}):
        r = tree["lao_a"].patch(f"/users/{user['id']}", body)
        assert r.status_code == 422 and r.json()["code"] == "validation_error", body
    assert tree["lao_a"].get("/users/987654321").json()["code"] == "not_found"
    # nothing changed: the user still works
    assert client.ok("GET", "/me")["active"] is True


def test_closing_a_unit_ends_the_tokens_of_its_accounts(api, admin, tree):
    cdc = tree["cdc_a"]
    assert cdc.ok("GET", "/me")["org_unit_id"] == tree.id("cdc_a")
    tree["lao_a"].ok("POST", f"/org-units/{tree.id('cdc_a')}/close", json={"closed_on": "2026-06-30"})
    assert refused(cdc)
    assert login(api, cdc.user["username"], PASSWORD).json()["code"] == "invalid_credentials"
    # the LAO's own accounts are untouched
    assert tree["lao_a"].ok("GET", "/me")["active"] is True
