"""Bad input never makes a 500: every operation of the served OpenAPI document,
called by a department and an institution account with malformed path ids,
query parameters and bodies (wrong types, nulls, huge numbers, bad dates and
encodings, bodies that are not objects, broken JSON), answers a 4xx with a
stable error code. Deterministic: a fixed seed per operation."""
import json
import random

import pytest

from tests.client import Tree
from tests.system.enrollment_helpers import new_round

NASTY = [None, "", " ", "x" * 5000, -1, 0, 2 ** 63, -(2 ** 63) - 1, 1.5, float("1e308"), True, [], {},
         ["a"], {"a": 1}, "๑๒๓", "\u0000", "\ud7ff\ue000", "2026-13-45", "9999-12-31T25:00:00+07:00",
         "0000-00-00", "1' OR '1'='1", "../../etc/passwd", "null", "NaN", "1e999", "<script>"]
NASTY_QUERY = ["", "-1", "abc", "99999999999999999999999", "1.5", "%00", "๑", "x" * 3000, "null",
               "2026-02-30", "true", "[]"]
CASES = 6
ERROR_CODES = {"invalid_credentials", "unauthorized", "forbidden", "not_found", "validation_error",
               "invalid_national_id", "invalid_g_code", "age_out_of_range", "duplicate_learner",
               "round_not_open", "unit_confirmed", "children_not_confirmed", "already_confirmed",
               "not_confirmed", "parent_confirmed", "conflict", "payload_too_large", "rate_limited",
               "method_not_allowed", "unsupported_media_type", "not_acceptable", "invalid_file",
               "bad_request", "uri_too_long", "checks_failed"}


@pytest.fixture(scope="module")
def world(admin, api):
    tree = Tree.build(admin)
    round_ = new_round(admin)
    return tree, round_, api.get("/api/v1/openapi.json").json()


def operations(doc):
    for path, item in sorted(doc["paths"].items()):
        for method, op in sorted(item.items()):
            if method in ("get", "post", "put", "patch", "delete"):
                yield path, method, op


def path_values(tree, round_):
    return [tree.id("school_a"), tree.id("lao_a"), tree.id("province"), round_["id"], 0, 987654321,
            2 ** 62]


def body_properties(doc, op):
    content = (op.get("requestBody") or {}).get("content", {})
    schema = (content.get("application/json") or {}).get("schema") or {}
    if "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].split("/")[-1]]
    return list((schema.get("properties") or {}).keys())


def bodies(rng, props):
    yield b"{not json", "application/json"
    yield json.dumps(rng.choice([[], "text", 12, None])).encode(), "application/json"
    yield "ไม่ใช่ JSON".encode("tis-620", "replace"), "text/plain"
    for _ in range(CASES):
        chosen = rng.sample(props, k=rng.randint(0, len(props))) if props else []
        body = {p: rng.choice(NASTY) for p in chosen}
        if rng.random() < 0.3:
            body[rng.choice(["unknown", "id", "__proto__"])] = rng.choice(NASTY)
        yield json.dumps(body, allow_nan=True).encode(), "application/json"


def check(resp, what):
    assert resp.status_code < 500, f"{what}: {resp.status_code} {resp.text[:500]}"
    if resp.status_code >= 400:
        assert resp.headers.get("Content-Type", "").startswith("application/json"), \
            f"{what}: {resp.status_code} {resp.headers.get('Content-Type')} {resp.text[:300]}"
        body = resp.json()
        assert body.get("code") in ERROR_CODES and body.get("title") and "description" in body, \
            f"{what}: {resp.status_code} {resp.text[:300]}"


@pytest.mark.parametrize("who", ["admin", "school_a"])
def test_no_operation_answers_500_to_bad_input(world, admin, who):
    tree, round_, doc = world
    client = admin if who == "admin" else tree["school_a"]
    seen = 0
    for path, method, op in operations(doc):
        if path in ("/auth/token", "/me/password", "/auth/logout") or (path, method) == ("/users/{id}", "patch"):
            # wrong passwords lock accounts, a department user may reset or disable any account
            # whose id a made-up path hits, and signing out ends the caller's tokens: their bad
            # input is tested in test_accounts, test_auth and test_hostile_input
            continue
        rng = random.Random(f"{path} {method} {who}")
        names = [p["name"] for p in op.get("parameters", []) if p["in"] == "path"]
        queries = [p["name"] for p in op.get("parameters", []) if p["in"] == "query"]
        props = body_properties(doc, op)
        for case in range(CASES):
            url = path
            for name in names:
                url = url.replace("{" + name + "}", str(rng.choice(path_values(tree, round_))))
            params = {q: rng.choice(NASTY_QUERY) for q in rng.sample(queries, k=rng.randint(0, len(queries)))}
            if method in ("get", "delete") and case % 2:
                resp = client.request(method.upper(), url, params=params)
                check(resp, f"{who} {method.upper()} {url} {params}")
                seen += 1
                continue
            for data, content_type in bodies(rng, props) if case == 0 else [next(bodies(rng, props))]:
                resp = client.request(method.upper(), url, params=params, data=data,
                                      headers={"Content-Type": content_type})
                check(resp, f"{who} {method.upper()} {url} {params} {data[:200]!r}")
                seen += 1
            if method != "get" and props:
                for data, content_type in list(bodies(rng, props))[3:]:
                    resp = client.request(method.upper(), url, params=params, data=data,
                                          headers={"Content-Type": content_type})
                    check(resp, f"{who} {method.upper()} {url} {params} {data[:200]!r}")
                    seen += 1
    assert seen > 300
