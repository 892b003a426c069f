"""Login, tokens and throttling through the gateway."""
import datetime as dt

import jwt
import pytest

from tests.client import PASSWORD, unique
from tests.conftest import ADMIN, JWT_SECRET


def test_login_returns_bearer_token_and_user(api):
    r = api.post("/auth/token", {"username": ADMIN[0], "password": ADMIN[1]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] > 0
    assert body["user"]["username"] == ADMIN[0]
    assert body["user"]["role"] == "department"
    me = api.get("/me", headers={"Authorization": "Bearer " + body["access_token"]})
    assert me.status_code == 200
    assert me.json()["username"] == ADMIN[0]
    assert "password_hash" not in me.json()


def test_wrong_password_and_unknown_user_answer_invalid_credentials(api):
    for username, password in ((ADMIN[0], "wrong-password"), ("nobody-" + unique("x"), "whatever")):
        r = api.post("/auth/token", {"username": username, "password": password})
        assert r.status_code == 401
        assert r.json()["code"] == "invalid_credentials"


def test_login_with_bad_body_is_a_validation_error(api):
    r = api.post("/auth/token", {"username": "x"})
    assert r.status_code == 422
    assert r.json()["code"] == "validation_error"
    assert "password" in r.json()["errors"]
    r = api.post("/auth/token", data=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 422
    assert r.json()["code"] == "validation_error"


@pytest.mark.parametrize("header", [None, "Bearer", "Basic abc", "Bearer not.a.jwt"])
def test_missing_or_malformed_token_is_unauthorized(api, header):
    headers = {"Authorization": header} if header else {}
    r = api.get("/me", headers=headers)
    assert r.status_code == 401
    assert r.json()["code"] == "unauthorized"


def _claims(user, **over):
    now = dt.datetime.now(dt.timezone.utc)
    claims = {"iss": "lec", "sub": str(user["id"]), "iat": now, "exp": now + dt.timedelta(minutes=5),
              "username": user["username"], "role": user["role"], "org_unit_id": user["org_unit_id"],
              "path": f"/{user['org_unit_id']}/"}
    claims.update(over)
    return claims


def test_expired_token_is_refused(api, admin):
    past = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)
    token = jwt.encode(_claims(admin.user, iat=past, exp=past + dt.timedelta(minutes=5)), JWT_SECRET,
                       algorithm="HS256")
    r = api.get("/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401
    assert r.json()["code"] == "unauthorized"
    assert "expired" in r.json()["description"]


def test_forged_tokens_are_refused(api, admin):
    forged = [
        jwt.encode(_claims(admin.user), "another-secret-of-sufficient-length-123", algorithm="HS256"),
        jwt.encode(_claims(admin.user), None, algorithm="none"),
    ]
    # a genuine token with its payload changed (an institution claiming the department)
    good = admin.token.split(".")
    other = jwt.encode(_claims(admin.user, role="department", org_unit_id=1, path="/1/"), "x" * 32,
                       algorithm="HS256").split(".")
    forged.append(".".join([good[0], other[1], good[2]]))
    for token in forged:
        r = api.get("/me", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401, token
        assert r.json()["code"] == "unauthorized"


def test_repeated_failures_lock_one_account_only(api, admin, tree):
    victim = unique("victim.")
    admin.ok("POST", "/users", 201, json={"username": victim, "password": PASSWORD,
                                          "org_unit_id": tree.id("school_a")})
    for _ in range(5):
        r = api.post("/auth/token", {"username": victim, "password": "not-the-password"})
        assert r.status_code == 401
    # now even the right password is refused for a while
    r = api.post("/auth/token", {"username": victim, "password": PASSWORD})
    assert r.status_code == 429
    assert r.json()["code"] == "rate_limited"
    assert int(r.headers["Retry-After"]) > 0
    # other accounts are not affected
    assert api.post("/auth/token", {"username": ADMIN[0], "password": ADMIN[1]}).status_code == 200


def test_every_answer_carries_a_request_id(api):
    r = api.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert r.headers["X-Request-ID"] == "abc-123"
    assert len(api.get("/healthz").headers["X-Request-ID"]) >= 16
