"""Login, tokens and throttling through the gateway."""
import concurrent.futures
import datetime as dt
import itertools
import time

import jwt
import pytest
from sqlalchemy import create_engine, text

from services.common import settings
from services.common.settings import DEV_JWT_SECRET
from tests.client import PASSWORD, unique
from tests.conftest import ADMIN, JWT_SECRET
from tests.system.confirmation_support import wait_until

_hosts = itertools.count(1)


def stranger():
    """An address of its own for each test that fails sign-ins (TEST-NET-2/3)."""
    n = next(_hosts)
    return f"198.51.{100 + n // 250}.{n % 250 + 1}"


def sign_in(api, username, password, address):
    return api.post("/auth/token", {"username": username, "password": password},
                    headers={"X-Forwarded-For": address})


def test_login_returns_bearer_token_and_user(api):
    r = api.post("/auth/token", {"username": ADMIN[0], "password": ADMIN[1]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] > 0
    assert body["user"]["username"] == ADMIN[0]
    assert body["user"]["role"] == "department"
    assert jwt.get_unverified_header(body["access_token"])["kid"]  # the key that signed it
    me = api.get("/me", headers={"Authorization": "Bearer " + body["access_token"]})
    assert me.status_code == 200
    assert me.json()["username"] == ADMIN[0]
    assert "password_hash" not in me.json()


def test_wrong_password_and_unknown_user_answer_invalid_credentials(api):
    address = stranger()
    for username, password in ((ADMIN[0], "wrong-password"), ("nobody-" + unique("x"), "whatever")):
        r = sign_in(api, username, password, address)
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
              "tv": 1, "username": user["username"], "role": user["role"],
              "org_unit_id": user["org_unit_id"], "path": f"/{user['org_unit_id']}/"}
    claims.update(over)
    return claims


def _token(claims, secret=JWT_SECRET, kid="1"):
    return jwt.encode(claims, secret, algorithm="HS256", headers={"kid": kid})


def _me(api, token):
    return api.get("/me", headers={"Authorization": f"Bearer {token}"})


def test_expired_token_is_refused(api, admin):
    past = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)
    r = _me(api, _token(_claims(admin.user, iat=past, exp=past + dt.timedelta(minutes=5))))
    assert r.status_code == 401
    assert r.json()["code"] == "unauthorized"
    assert "expired" in r.json()["description"]


def test_forged_tokens_are_refused(api, admin):
    forged = [
        _token(_claims(admin.user), "another-secret-of-sufficient-length-123"),
        jwt.encode(_claims(admin.user), None, algorithm="none", headers={"kid": "1"}),
        # the development key that is in the source, and an id no key has
        _token(_claims(admin.user), DEV_JWT_SECRET),
        _token(_claims(admin.user), kid="unknown-key"),
        jwt.encode(_claims(admin.user), JWT_SECRET, algorithm="HS256"),  # no key id at all
    ]
    # a genuine token with its payload changed (an institution claiming the department)
    good = admin.token.split(".")
    other = _token(_claims(admin.user, role="department", org_unit_id=1, path="/1/"), "x" * 32).split(".")
    forged.append(".".join([good[0], other[1], good[2]]))
    for token in forged:
        r = _me(api, token)
        assert r.status_code == 401, token
        assert r.json()["code"] == "unauthorized"


def test_a_ten_year_token_is_refused_even_with_the_right_key(api, admin):
    now = dt.datetime.now(dt.timezone.utc)
    r = _me(api, _token(_claims(admin.user, exp=now + dt.timedelta(days=3650))))
    assert r.status_code == 401 and "longer than this system allows" in r.json()["description"]


def test_the_account_not_the_token_decides_role_and_unit(api, tree):
    """A well-signed token of a school's account claiming the department's role and
    path acts as the school: the gateway asks the registry, not the claims."""
    school = tree["school_a"]
    claims = _claims(school.user, role="department", org_unit_id=1, path="/1/")
    token = _token(claims)
    headers = {"Authorization": f"Bearer {token}"}
    assert api.get("/audit", params={"service": "registry"}, headers=headers).status_code == 403
    assert api.get("/me", headers=headers).json()["org_unit_id"] == tree.id("school_a")
    users = api.get("/users", headers=headers).json()
    assert {u["org_unit_id"] for u in users["items"]} == {tree.id("school_a")}
    r = api.get(f"/org-units/{tree.id('lao_b')}", headers=headers)
    assert r.status_code == 404


def test_renew_gives_a_fresh_token_of_the_same_account_that_ends_with_the_old_one(api, admin, tree):
    """A session renewed while its officer works: a new token of the same account, the
    same role and unit; refused without a valid token; and a password change ends the
    renewed token as it ends the first one (they share the account's token version)."""
    username = new_account(admin, tree, "lao_a")
    first = admin.login(username)
    assert api.post("/auth/renew").status_code == 401
    r = api.post("/auth/renew", headers={"Authorization": "Bearer not-a-token"})
    assert r.status_code == 401 and r.json()["code"] == "unauthorized"
    past = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)
    expired = _token(_claims(first.user, iat=past, exp=past + dt.timedelta(minutes=5)))
    assert api.post("/auth/renew", headers={"Authorization": f"Bearer {expired}"}).status_code == 401

    r = first.post("/auth/renew")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "bearer" and body["expires_in"] > 0
    assert body["user"] == first.user
    renewed = body["access_token"]
    assert renewed != first.token
    claims = jwt.decode(renewed, JWT_SECRET, algorithms=["HS256"], issuer="lec")
    assert claims["sub"] == str(first.user["id"])
    old = jwt.decode(first.token, JWT_SECRET, algorithms=["HS256"], issuer="lec")
    assert claims["tv"] == old["tv"] and claims["exp"] >= old["exp"]
    me = _me(api, renewed)
    assert me.status_code == 200 and me.json()["username"] == username
    assert me.json()["org_unit_id"] == tree.id("lao_a")

    # a password change ends both tokens, and the renewed one cannot be renewed again
    first.ok("POST", "/me/password", 204, json={"current_password": PASSWORD,
                                                "new_password": "a-renewed-session-ends-9"})
    for token in (first.token, renewed):
        # at once on the gateway process that made the change; on the others when the
        # registry's user_changed event reaches them
        wait_until(lambda: _me(api, token).status_code == 401, 10, 0.05, "the old token refused")
        r = api.post("/auth/renew", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401 and r.json()["code"] == "unauthorized"


# -- throttling ----------------------------------------------------------------------------------
# tests/conftest.py: 3 free failures per (name, address), 6 per address, delays 1 s, 2 s ... 4 s,
# a name locked after 10 failures in a row.

def new_account(admin, tree, key="school_a"):
    username = unique("victim.")
    admin.ok("POST", "/users", 201, json={"username": username, "password": PASSWORD,
                                          "org_unit_id": tree.id(key)})
    return username


def worn_out(attempt, at_least=1, limit=20):
    """Repeat a failing attempt, waiting out each delay, until it is refused for at
    least ``at_least`` seconds: the answers' codes and that refusal."""
    codes = []
    for _ in range(limit):
        r = attempt()
        codes.append(r.json()["code"])
        if r.status_code == 429:
            if r.json()["retry_after"] >= at_least:
                return codes, r
            time.sleep(r.json()["retry_after"])  # the delay to wait out, not an assertion
    raise AssertionError(f"never refused for {at_least} s: {codes}")


def test_failures_from_one_address_delay_that_address_only_with_growing_waits(api, admin, tree):
    victim, attacker, owner = new_account(admin, tree), stranger(), stranger()
    codes, first = worn_out(lambda: sign_in(api, victim, "not-the-password", attacker))
    # three free failures, and the fourth sets the first delay
    assert codes[:4] == ["invalid_credentials"] * 4 and codes[-1] == "rate_limited"
    assert first.json()["retry_after"] >= 1 and first.headers["Retry-After"] == str(first.json()["retry_after"])
    # once a delay is over, the next failure waits longer
    codes, longer = worn_out(lambda: sign_in(api, victim, "still-wrong", attacker), at_least=2)
    assert "invalid_credentials" in codes and longer.json()["retry_after"] >= 2
    # even the right password waits, from the attacker's address ...
    assert sign_in(api, victim, PASSWORD, attacker).json()["code"] == "rate_limited"
    # ... but the owner, from elsewhere, is not locked out
    assert sign_in(api, victim, PASSWORD, owner).status_code == 200


def test_an_unknown_name_is_answered_exactly_as_a_real_one(api, admin, tree):
    real, unknown = new_account(admin, tree), unique("nobody.")
    answers = [worn_out(lambda: sign_in(api, name, "not-the-password", address))[0]
               for name, address in ((real, stranger()), (unknown, stranger()))]
    assert answers[0][:4] == answers[1][:4] == ["invalid_credentials"] * 4
    # and the cost: one password check each (bounds loose enough for a busy machine)
    took = {"real": 0.0, "unknown": 0.0}
    names = {"real": new_account(admin, tree), "unknown": unique("nobody.")}
    for _ in range(4):
        for which, name in names.items():
            t0 = time.perf_counter()
            assert sign_in(api, name, "not-the-password", stranger()).status_code == 401
            took[which] += time.perf_counter() - t0
    assert 0.25 < took["real"] / took["unknown"] < 4


def test_many_names_from_one_address_delay_that_address(api, admin, tree):
    address, other = stranger(), stranger()
    user = new_account(admin, tree)
    codes, _ = worn_out(lambda: sign_in(api, unique("spray."), "Summer2569!", address), at_least=2)
    assert codes[:7] == ["invalid_credentials"] * 7  # six free, the seventh sets a delay
    # a real user at the same address waits too; one elsewhere does not
    assert sign_in(api, user, PASSWORD, address).json()["code"] == "rate_limited"
    assert sign_in(api, user, PASSWORD, other).status_code == 200


def throttle_rows(address):
    engine = create_engine(settings.database_url("registry"), pool_size=1)
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT kind, failures FROM login_throttle WHERE address = :a"),
                                {"a": address}).all()
    finally:
        engine.dispose()


def test_sign_ins_at_once_from_one_address_leave_no_failure_behind(api, admin, tree):
    """Each attempt counts as failed until its password proves right: many right
    ones at once (an office behind one address at nine o'clock) give every count back."""
    names = [new_account(admin, tree) for _ in range(5)]  # fewer at once than the free failures
    office = stranger()
    for _ in range(3):
        with concurrent.futures.ThreadPoolExecutor(len(names)) as pool:
            codes = list(pool.map(lambda name: sign_in(api, name, PASSWORD, office).status_code, names))
        assert codes == [200] * len(names)
    assert throttle_rows(office) == []


def test_a_burst_of_guesses_sent_at_once_gets_no_more_tries(api):
    """Twelve guesses at one name sent in parallel: no more passwords are checked than
    the free failures and the first delay allow (3 + 1, one more should the burst
    outlast that delay); the rest wait."""
    name, address = unique("burst."), stranger()
    with concurrent.futures.ThreadPoolExecutor(12) as pool:
        codes = list(pool.map(lambda i: sign_in(api, name, f"guess-{i}", address).json()["code"], range(12)))
    assert codes.count("invalid_credentials") <= 5, codes
    assert set(codes) == {"invalid_credentials", "rate_limited"}


def test_many_failures_from_anywhere_lock_the_name_until_a_user_above_resets_it(api, admin, tree):
    victim = new_account(admin, tree)
    for _ in range(10):  # one attempt per address: no address waits
        assert sign_in(api, victim, "not-the-password", stranger()).status_code == 401
    r = sign_in(api, victim, PASSWORD, stranger())
    assert r.status_code == 429 and r.json()["code"] == "rate_limited" and r.json().get("locked") is True
    assert "Retry-After" not in r.headers
    # an unknown name locks the same way: the lock tells nothing about which names exist
    ghost = unique("ghost.")
    for _ in range(10):
        sign_in(api, ghost, "not-the-password", stranger())
    assert sign_in(api, ghost, "anything", stranger()).json() == r.json()
    # a colleague of the same unit cannot lift it; the LAO above can, with a new password
    user_id = next(u["id"] for u in admin.ok("GET", "/users", params={"org_unit_id": tree.id("school_a")})["items"]
                   if u["username"] == victim)
    colleague = tree["school_a"]
    assert colleague.patch(f"/users/{user_id}", {"password": "reset-by-colleague-2569"}).status_code == 403
    tree["lao_a"].ok("PATCH", f"/users/{user_id}", json={"password": "reset-by-the-lao-2569"})
    assert sign_in(api, victim, "reset-by-the-lao-2569", stranger()).status_code == 200


@pytest.mark.parametrize("password", ["12345678", "password", "Password1", "aaaaaaaaaa"])
def test_weak_and_common_passwords_are_refused(admin, tree, password):
    r = admin.post("/users", {"username": unique("weak."), "password": password,
                              "org_unit_id": tree.id("school_a")})
    assert r.status_code == 422 and r.json()["code"] == "validation_error"
    message = r.json()["errors"]["password"][0]
    assert "easy to guess" in message or "most commonly used" in message
    client = tree["school_b"]
    r = client.post("/me/password", {"current_password": PASSWORD, "new_password": password})
    assert r.status_code == 422 and "new_password" in r.json()["errors"]
    r = tree["lao_a"].patch(f"/users/{tree['school_a'].user['id']}", {"password": password})
    assert r.status_code == 422 and "password" in r.json()["errors"]


def test_every_answer_carries_a_request_id(api):
    r = api.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert r.headers["X-Request-ID"] == "abc-123"
    assert len(api.get("/healthz").headers["X-Request-ID"]) >= 16


# -- sign-out ------------------------------------------------------------------------------------

def test_logout_ends_every_token_of_the_account_and_only_of_that_account(api, admin, tree):
    """POST /auth/logout: 204, and from then on every token of the account (the one presented
    and the account's other sessions) answers 401 and cannot be renewed; other accounts, of
    the same unit too, go on; signing in again works; the sign-out is audited."""
    username = new_account(admin, tree, "lao_a")
    colleague_name = new_account(admin, tree, "lao_a")
    first, second = admin.login(username), admin.login(username)
    renewed = first.ok("POST", "/auth/renew")["access_token"]
    colleague = admin.login(colleague_name)
    assert api.post("/auth/logout").status_code == 401  # signed in only

    r = first.post("/auth/logout")
    assert r.status_code == 204 and not r.content, r.text
    for token in (first.token, second.token, renewed):
        # at once on the gateway process that answered; on the others by the user_changed event
        wait_until(lambda: _me(api, token).status_code == 401, 10, 0.05, "the old token refused")
        r = _me(api, token)
        assert r.status_code == 401 and r.json()["code"] == "unauthorized"
        r = api.post("/auth/renew", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401 and r.json()["code"] == "unauthorized"
        assert api.post("/auth/logout", headers={"Authorization": f"Bearer {token}"}).status_code == 401
        r = api.get(f"/org-units/{tree.id('lao_a')}/children", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401

    # the others are not touched
    assert colleague.get("/me").status_code == 200
    assert tree["lao_a"].get("/me").status_code == 200 and admin.get("/me").status_code == 200

    # a fresh sign-in works, and so does its renewal
    again = admin.login(username)
    assert again.ok("GET", "/me")["username"] == username
    assert again.ok("POST", "/auth/renew")["user"]["username"] == username

    # audited as the account's own action
    user_id = first.user["id"]
    entries = admin.ok("GET", "/audit", params={"service": "registry", "entity": "user",
                                                "entity_id": str(user_id), "action": "logout"})["items"]
    assert len(entries) == 1, entries
    assert entries[0]["actor_id"] == user_id and entries[0]["details"]["username"] == username
    assert "request_id" in entries[0]
    # the LAO of the account's unit reads it in its subtree's audit log too
    mine = tree["lao_a"].ok("GET", "/audit", params={"service": "registry", "action": "logout",
                                                     "actor_id": user_id})["items"]
    assert [e["entity_id"] for e in mine] == [str(user_id)]
