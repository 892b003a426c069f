"""What the gateway answers when something fails: a service's LecError becomes
the status of API.md with the Error body; bad input is a 4xx with a stable code,
never a 500; a service that does not answer is 503."""
import pytest

from services.common.errors import HTTP_STATUS, LecError
from tests.fast.conftest import error
from tests.fast.fakes import UNITS

SERVICE_CODES = sorted(code for code in HTTP_STATUS
                       if code not in ("bad_request", "uri_too_long", "header_too_large", "not_implemented"))


@pytest.mark.parametrize("code", SERVICE_CODES)
def test_a_service_error_becomes_its_status_with_the_error_body(gw, rpc, code):
    rpc.answer("registry", "get_unit", LecError(code, f"{code} happened", {"held_by": 42, "pending": [1, 2]}))
    r = gw.get("/org-units/4", "school")
    body = error(r, HTTP_STATUS[code], code)
    assert body["description"] == f"{code} happened"
    assert body["held_by"] == 42 and body["pending"] == [1, 2]  # extra fields as they came
    assert r.headers["cache-control"] == "no-store"


def test_a_code_the_gateway_does_not_know_is_a_400(gw, rpc):
    rpc.answer("registry", "get_unit", LecError("something_new", "a new rule"))
    body = error(gw.get("/org-units/4", "school"), 400, "something_new")
    assert body["title"] == "Something new"


def test_rate_limited_names_when_to_try_again(gw, rpc):
    rpc.answer("registry", "authenticate", LecError("rate_limited", "wait", {"retry_after": 7}))
    r = gw.post("/auth/token", json={"username": "a", "password": "b"})
    assert error(r, 429, "rate_limited")["retry_after"] == 7
    assert r.headers["retry-after"] == "7"


def test_a_validation_error_carries_its_fields(gw, rpc):
    rpc.answer("registry", "update_unit", LecError("validation_error", "the request is not valid",
                                                   {"errors": {"name": ["required"]}}))
    body = error(gw.request("PATCH", "/org-units/4", "school", json={}), 422, "validation_error")
    assert body["errors"] == {"name": ["required"]}


def test_a_service_that_does_not_answer_is_503(gw, rpc):
    rpc.answer("registry", "get_unit", LecError("service_unavailable", "registry did not answer within 5s"))
    body = error(gw.get("/org-units/4", "school"), 503, "service_unavailable")
    assert body["description"] == "registry did not answer within 5s"


def test_the_unit_directory_unavailable_is_503_not_404(gw, rpc):
    rpc.answer("registry", "get_units", LecError("service_unavailable", "registry is not running"))
    rpc.answer("registry", "get_unit", UNITS[4])
    # a unit below the LAO's own (the account's own unit comes with its state)
    error(gw.get("/org-units/4", "lao"), 503, "service_unavailable")


def test_an_unexpected_failure_is_a_500_that_tells_nothing_but_the_request_id(gw, rpc):
    rpc.answer("registry", "get_unit", RuntimeError("password=hunter2 in a traceback"))
    r = gw.get("/org-units/4", "school", headers={"X-Request-ID": "req-500"})
    body = error(r, 500, "internal_error")
    assert body["request_id"] == "req-500"
    assert "hunter2" not in r.text and "Traceback" not in r.text


def test_errors_carry_the_security_headers(gw):
    r = gw.get("/me")
    assert r.status_code == 401
    assert r.headers["x-frame-options"] == "DENY" and r.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'self'" in r.headers["content-security-policy"]


# -- bad input -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("body,needle", [
    ("{not json", "not valid JSON"),
    ("", "empty JSON body"),
    ('{"name": NaN}', ""),
    ('{"name": Infinity}', ""),
    ("[" * 40 + "]" * 40, "nested"),
    ('{"name": "a\\u0000b"}', ""),
    ('{"name": "\\ud800"}', ""),
    ('{"version": 9223372036854775808}', ""),
    ("[1, 2]", "expected a JSON object"),
    ('"a string"', "expected a JSON object"),
])
def test_a_bad_json_body_is_a_validation_error_and_never_reaches_the_service(gw, rpc, body, needle):
    rpc.answer("registry", "update_unit", {"id": 4, "version": 2})
    r = gw.request("PATCH", "/org-units/4", "school", body=body, headers={"Content-Type": "application/json"})
    assert needle in error(r, 422, "validation_error")["description"] + r.text
    assert rpc.calls_to("registry", "update_unit") == []


def test_a_json_body_over_the_limit_is_413(make_gateway, rpc):
    gw = make_gateway(max_body=1024)
    rpc.answer("registry", "update_unit", {"id": 4, "version": 2})
    body = '{"name": "' + "x" * 2000 + '"}'
    r = gw.request("PATCH", "/org-units/4", "school", body=body, headers={"Content-Type": "application/json"})
    assert "exceeds 1024 bytes" in error(r, 413, "payload_too_large")["description"]
    assert rpc.calls_to("registry", "update_unit") == []


def test_a_body_of_an_unsupported_type_is_415(gw):
    r = gw.post("/auth/token", body="username=a", headers={"Content-Type": "application/xml"})
    error(r, 415, "unsupported_media_type")


@pytest.mark.parametrize("query", ["q=a%00b", "grade=%00", "a%00=1"])
def test_unsafe_text_in_the_query_is_refused_before_anyone_is_asked(gw, query):
    error(gw.get(f"/rounds/1/learners?{query}", "school"), 422, "validation_error")
    assert gw.rpc.calls == []


def test_unsafe_text_in_a_header_is_refused(gw):
    r = gw.get("/me", headers={"X-Note": "a\x00b"})
    error(r, 422, "validation_error")


def test_an_unknown_service_method_is_503(gw):
    # no answer for the RPC: what the real client says of a method no service offers
    error(gw.get("/rounds", "school"), 503, "service_unavailable")


# -- request ids ---------------------------------------------------------------------------------------

def test_the_request_id_travels_with_every_rpc_of_the_request(gw, rpc):
    rpc.answer("registry", "get_unit", UNITS[4])
    r = gw.get("/org-units/4", "school", headers={"X-Request-ID": "trace-me.1"})
    assert r.headers["x-request-id"] == "trace-me.1"
    (call,) = rpc.calls_to("registry", "get_unit")
    assert call.request_id == "trace-me.1"


@pytest.mark.parametrize("given", [None, "", "has spaces", "x" * 65, "semi;colon"])
def test_without_a_usable_request_id_the_gateway_makes_one(gw, rpc, given):
    rpc.answer("registry", "get_unit", UNITS[4])
    headers = {"X-Request-ID": given} if given is not None else {}
    r = gw.get("/org-units/4", "school", headers=headers)
    made = r.headers["x-request-id"]
    assert made != given and len(made) == 32 and int(made, 16) >= 0
    assert rpc.calls_to("registry", "get_unit")[0].request_id == made


def test_sign_in_sends_the_request_id(gw, rpc):
    gw.post("/auth/token", json={"username": "a", "password": "b"}, headers={"X-Request-ID": "login-1"})
    assert rpc.calls_to("registry", "authenticate")[0].request_id == "login-1"


def test_each_request_has_its_own_id(gw, rpc):
    rpc.answer("registry", "get_unit", UNITS[4])
    ids = {gw.get("/org-units/4", "school").headers["x-request-id"] for _ in range(3)}
    assert len(ids) == 3
    assert {c.request_id for c in rpc.calls_to("registry", "get_unit")} == ids
