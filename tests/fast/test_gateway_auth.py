"""Authentication at the gateway: bearer tokens, their keys and lifetimes, the
registry's word on each account, sign-in, renewal and sign-out."""
import datetime as dt

import jwt
import pytest

from gateway.access import GATEWAY
from gateway.auth import KeyRing
from services.common.errors import LecError
from tests.fast.conftest import error
from tests.fast.fakes import KEYS, OTHER_KEYS


def claims(user_id, **over):
    now = dt.datetime.now(dt.timezone.utc)
    values = {"iss": "lec", "sub": str(user_id), "iat": now, "exp": now + dt.timedelta(minutes=5), "tv": 1}
    values.update(over)
    return values


def signed(values, secret=KEYS.current, kid=KEYS.current_id, algorithm="HS256"):
    return jwt.encode(values, secret, algorithm=algorithm, headers={"kid": kid} if kid else None)


def me(gw, token):
    return gw.get("/me", headers={"Authorization": f"Bearer {token}"})


def test_a_valid_token_reaches_the_service_as_its_account(gw):
    r = gw.get("/me", "school")
    assert r.status_code == 200, r.text
    assert r.json["username"] == "school.user" and r.json["org_unit"]["id"] == 4
    (call,) = gw.rpc.calls_to("registry", "get_user")
    assert call.args == (104,)
    assert (call.actor.user_id, call.actor.role, call.actor.org_unit_id, call.actor.path) == \
        (104, "institution", 4, "/1/2/3/4/")


def test_the_gateway_looks_accounts_and_units_up_as_itself(gw):
    gw.get("/me", "province")
    lookups = gw.rpc.calls_to("registry", "token_states") + gw.rpc.calls_to("registry", "get_units")
    assert lookups and all(c.actor == GATEWAY for c in lookups)


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer   ", "Basic YWRtaW46YWRtaW4=",
                                    "Bearer not.a.jwt", "Bearer a.b", "Token abc"])
def test_a_missing_or_malformed_token_is_unauthorized(gw, header):
    headers = {} if header is None else {"Authorization": header}
    body = error(gw.get("/me", headers=headers), 401, "unauthorized")
    assert body["title"] == "Unauthorized"
    assert gw.rpc.service_calls() == []


def test_unauthorized_answers_name_the_bearer_scheme(gw):
    r = gw.get("/me")
    assert r.headers["www-authenticate"] == 'Bearer realm="lec"'


def test_an_expired_token_is_refused_as_expired(gw):
    past = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)
    body = error(me(gw, signed(claims(104, iat=past, exp=past + dt.timedelta(minutes=5)))), 401, "unauthorized")
    assert "expired" in body["description"]


def test_a_token_issued_in_the_future_is_refused(gw):
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1)
    body = error(me(gw, signed(claims(104, iat=later, nbf=later, exp=later + dt.timedelta(minutes=5)))),
                 401, "unauthorized")
    assert "not valid yet" in body["description"]


@pytest.mark.parametrize("token", [
    signed(claims(104), secret=OTHER_KEYS.current),        # right key id, wrong key
    signed(claims(104), kid="no-such-key"),                 # a key this system does not know
    signed(claims(104), kid=None),                          # no key id at all
    jwt.encode(claims(104), None, algorithm="none", headers={"kid": KEYS.current_id}),
    signed(claims(104, iss="someone-else")),
    signed(claims("not-a-number")),
    signed({k: v for k, v in claims(104).items() if k != "tv"}),
    signed(claims(104, knd="robot")),
])
def test_forged_or_incomplete_tokens_are_unauthorized(gw, token):
    error(me(gw, token), 401, "unauthorized")
    assert gw.rpc.service_calls() == []


def test_a_token_made_to_live_longer_than_allowed_is_refused_whatever_its_key(gw):
    now = dt.datetime.now(dt.timezone.utc)
    body = error(me(gw, signed(claims(104, exp=now + dt.timedelta(days=3650)))), 401, "unauthorized")
    assert "longer than this system allows" in body["description"]


def test_tokens_of_the_previous_key_still_verify_after_a_rotation(make_gateway, world):
    old = world.token("lao")
    rotated = KeyRing("fast-2", "the-next-secret-0123456789-0123456789-abcdef", KEYS.current_id, KEYS.current)
    gw = make_gateway(keys=rotated)
    assert me(gw, old).status_code == 200
    dropped = make_gateway(keys=KeyRing("fast-2", "the-next-secret-0123456789-0123456789-abcdef"))
    body = error(me(dropped, old), 401, "unauthorized")
    assert "not signed with a key of this system" in body["description"]


def test_the_account_not_the_token_decides_role_and_unit(gw):
    token = signed(claims(104, role="department", org_unit_id=1, path="/1/"))
    assert me(gw, token).status_code == 200
    (call,) = gw.rpc.calls_to("registry", "get_user")
    assert call.actor.role == "institution" and call.actor.path == "/1/2/3/4/"
    r = gw.get("/org-units/8", headers={"Authorization": f"Bearer {token}"})
    error(r, 404, "not_found")


@pytest.mark.parametrize("change", [{"token_version": 2}, {"active": False}])
def test_a_token_ends_when_the_account_changes_version_or_is_disabled(gw, world, change):
    token = world.token("lao")
    world.states[103].update(change)
    body = error(me(gw, token), 401, "unauthorized")
    assert "no longer valid" in body["description"]


def test_a_token_of_an_unknown_account_is_unauthorized(gw, world):
    token = world.token("lao")
    del world.states[103]
    error(me(gw, token), 401, "unauthorized")


def test_with_the_registry_away_and_no_word_of_the_account_the_answer_is_503(gw, rpc):
    rpc.answer("registry", "token_states", LecError("service_unavailable", "registry is not running"))
    error(gw.get("/me", "lao"), 503, "service_unavailable")


def test_with_the_registry_away_the_last_word_on_an_account_stands(make_gateway, rpc, world):
    gw = make_gateway(token_state_ttl=0)  # every request asks the registry again
    assert gw.get("/rounds", "lao").status_code == 503  # no rounds service: the account was accepted
    rpc.answer("registry", "token_states", LecError("service_unavailable", "registry is not running"))
    rpc.answer("rounds", "list_rounds", {"items": [], "total": 0})
    assert gw.get("/rounds", "lao").status_code == 200


def test_account_states_are_cached_between_requests(gw, rpc):
    for _ in range(3):
        assert gw.get("/me", "lao").status_code == 200
    assert len(rpc.calls_to("registry", "token_states")) == 1


def test_public_routes_need_no_token(gw):
    assert gw.get("/healthz").json == {"status": "ok"}
    assert gw.get("/openapi.json").status_code == 200
    assert gw.get("/").status_code == 200
    assert gw.rpc.calls == []


# -- sign-in -------------------------------------------------------------------------------------

def sign_in(gw, username, password, **kwargs):
    return gw.post("/auth/token", json={"username": username, "password": password}, **kwargs)


def test_sign_in_gives_a_token_that_works(gw):
    r = sign_in(gw, "province.user", "correct-horse-9")
    assert r.status_code == 200, r.text
    body = r.json
    assert body["token_type"] == "bearer" and body["expires_in"] == gw.config.token_ttl
    assert body["user"] == {"id": 102, "username": "province.user", "role": "province", "org_unit_id": 2}
    assert jwt.get_unverified_header(body["access_token"])["kid"] == KEYS.current_id
    assert me(gw, body["access_token"]).json["username"] == "province.user"
    (call,) = gw.rpc.calls_to("registry", "authenticate")
    assert call.args == ("province.user", "correct-horse-9") and call.actor == GATEWAY


def test_a_wrong_password_is_invalid_credentials(gw):
    r = sign_in(gw, "province.user", "wrong")
    error(r, 401, "invalid_credentials")
    assert r.headers["www-authenticate"] == 'Bearer realm="lec"'


@pytest.mark.parametrize("body", ["[1, 2]", '"text"', "null", "{not json"])
def test_a_sign_in_body_that_is_not_a_json_object_is_a_validation_error(gw, body):
    r = gw.post("/auth/token", body=body, headers={"Content-Type": "application/json"})
    error(r, 422, "validation_error")
    assert gw.rpc.calls_to("registry", "authenticate") == []


@pytest.mark.parametrize("proxies,forwarded,seen", [
    (0, "203.0.113.9", "127.0.0.1"),              # no trusted proxy: the peer's address
    (1, "203.0.113.9", "203.0.113.9"),            # one proxy appended the client's address
    (1, "10.9.9.9, 203.0.113.9", "203.0.113.9"),  # what the client wrote itself stays unused
    (1, "not-an-address", "127.0.0.1"),
])
def test_sign_in_throttles_by_the_address_the_outermost_trusted_proxy_saw(make_gateway, proxies, forwarded, seen):
    gw = make_gateway(trusted_proxies=proxies)
    sign_in(gw, "lao.user", "correct-horse-9", headers={"X-Forwarded-For": forwarded})
    (call,) = gw.rpc.calls_to("registry", "authenticate")
    assert call.kwargs["client_address"] == seen


def test_renewal_gives_a_fresh_token_of_the_same_account_and_version(gw, world):
    world.states[103]["token_version"] = 4
    first = world.token("lao")
    r = gw.post("/auth/renew", headers={"Authorization": f"Bearer {first}"})
    assert r.status_code == 200, r.text
    renewed = r.json["access_token"]
    assert renewed != first
    decoded = jwt.decode(renewed, KEYS.current, algorithms=["HS256"], issuer="lec")
    assert decoded["sub"] == "103" and decoded["tv"] == 4
    assert r.json["user"] == {"id": 103, "username": "lao.user", "role": "lao", "org_unit_id": 3}
    error(gw.post("/auth/renew"), 401, "unauthorized")


def test_sign_out_ends_the_account_tokens_at_once_in_this_process(gw, rpc, world):
    rpc.answer("registry", "logout", None)
    headers = world.headers("school")
    assert gw.get("/me", headers=headers).status_code == 200
    assert gw.post("/auth/logout", headers=headers).status_code == 204
    (call,) = rpc.calls_to("registry", "logout")
    assert call.actor.user_id == 104
    world.states[104]["token_version"] = 2  # what the registry did
    error(gw.get("/me", headers=headers), 401, "unauthorized")


# -- agency clients --------------------------------------------------------------------------------

def test_an_agency_client_signs_in_with_client_credentials(gw, rpc):
    rpc.answer("registry", "authenticate_agency", {"id": 201, "client_id": "stats-office", "token_version": 1})
    r = gw.post("/auth/token", json={"grant_type": "client_credentials", "client_id": "stats-office",
                                     "client_secret": "s3cret"})
    assert r.status_code == 200, r.text
    assert r.json["user"] == {"id": 201, "username": "stats-office", "role": "agency", "org_unit_id": None}
    assert jwt.decode(r.json["access_token"], KEYS.current, algorithms=["HS256"], issuer="lec")["knd"] == "agency"
    me_ = gw.get("/me", headers={"Authorization": f"Bearer {r.json['access_token']}"})
    assert me_.json == {"id": 201, "username": "stats-office", "role": "agency", "org_unit_id": None,
                        "active": True, "name": "Statistics office"}


def test_an_agency_client_reads_rounds_only(gw, rpc):
    rpc.answer("rounds", "list_rounds", {"items": [], "total": 0})
    assert gw.get("/rounds", "agency").status_code == 200
    (call,) = rpc.calls_to("rounds", "list_rounds")
    assert call.actor.role == "agency" and call.actor.org_unit_id == 0
    for path in ("/org-units/1", "/users", "/rounds/1/learners", "/audit?service=registry"):
        error(gw.get(path, "agency"), 403, "forbidden")
    assert len(rpc.service_calls()) == 1


def test_a_disabled_agency_client_is_refused_at_once(gw, world):
    token = world.agency_token()
    world.agency_states[201]["active"] = False
    error(gw.get("/rounds", headers={"Authorization": f"Bearer {token}"}), 401, "unauthorized")
