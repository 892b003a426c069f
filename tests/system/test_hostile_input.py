"""Hostile input against every operation of the served OpenAPI document: ids
and paging beyond PostgreSQL's bigint, JSON nested 1,000 deep, NUL characters
and unpaired surrogates in body keys and values, query parameters, path
segments and headers, oversize strings and numbers, and hostile files for the
import. Nothing answers a 500 or an error that is not JSON, and what the rules
refuse at the gateway's edge answers exactly its stable code (422
``validation_error``, 404 ``not_found`` for a path id, 413 ``payload_too_large``).

Each operation is called by the first of a department, an LAO and a school
account that gets past its access rule (so the input reaches the code that
reads it). The operations that could lock or change accounts (``/auth/token``,
``/me/password``, ``PATCH /users/{id}``) get only the input the edge refuses
before any service sees it. Deterministic: no randomness."""
import io
import json
import re
import zipfile

import pytest
import requests

from tests.client import PASSWORD, Tree, unique
from tests.system.enrollment_helpers import learner, national_id, new_round
from tests.system.test_bad_input import body_properties, check, operations
from tests.xlsx_bombs import HEADER, huge_shared_string, sheet, workbook

BIGINT = 2 ** 63
EDGE_ONLY = {("/auth/token", "post"), ("/me/password", "post"), ("/users/{id}", "patch")}

# path ids: all beyond what any row can have (404 before any resource runs)
PATH_IDS = [str(BIGINT), "99999999999999999999", "9" * 400, "-1", "0", "%00"]
# query values, percent-encoded as sent; (value, strict?) where strict means the
# edge must refuse it whatever the parameter
QUERY_VALUES = [("%00", True), ("a%00b", True), (str(BIGINT), False), ("99999999999999999999", False),
                ("-9223372036854775809", False), ("%ED%A0%80", False), ("%FF", False), ("x" * 3000, False),
                ("1e999", False), ("", False)]
# parameters whose bounds are rules of their own: beyond bigint they are refused
BOUNDED_QUERY = {"limit", "offset", "org_unit_id"}


def deep(n):
    return "[" * n + "]" * n


def deep_object(n):
    return '{"a": ' * n + "1" + "}" * n


# (body text, strict): strict bodies are refused by the JSON reader itself
def bodies(props):
    yield deep(1000), True
    yield deep_object(1000), True
    yield json.dumps({"\ud800": 1}), True
    yield json.dumps({"a\u0000": 1}), True
    yield json.dumps({"x": "a" * (1 << 20)}), "413"
    for prop in props:
        for value in ("a\u0000b", "\ud800", "x\udfff", {"\ud800": 1}, {"k\u0000": "v"}, BIGINT, -BIGINT - 1,
                      json.loads(deep(40))):
            yield json.dumps({prop: value}), True
        yield '{"%s": NaN}' % prop, True
        for value in ("x" * 100_000, 1e308, -1, 0, 2 ** 31, 2 ** 40, "99999999999999999999", "9" * 5000,
                      "", None, [], {}, "๑๒๓", "2026-13-45T25:61:00+07:00"):
            yield json.dumps({prop: value}), False


def csv_file(*rows):
    return ("\r\n".join([",".join(HEADER), *rows]) + "\r\n").encode("utf-8", "surrogatepass")


def import_files():
    """(content type, body) of hostile uploads."""
    row = "3100600445635,{},ข,M,2017-01-01,p1"
    yield "text/csv", csv_file(row.format("a\x00b"))
    yield "text/csv", csv_file(row.format("\ud800"))  # the bytes of a surrogate: not UTF-8
    yield "text/csv", csv_file(row.format("x" * 40_000))
    yield "text/csv", csv_file(",".join(["x"] * 1000))
    yield "text/csv", b"\x00" * 5000
    yield "text/csv", deep(1000).encode()
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    dtd = '<?xml version="1.0"?><!DOCTYPE sst [<!ENTITY a "aaaaaaaaaa">]><sst><si><t>&a;</t></si></sst>'
    yield xlsx, workbook(sheet([HEADER, [0] * 6]), dtd)
    yield xlsx, huge_shared_string(2)
    yield xlsx, workbook(sheet([HEADER]).replace("<sheetData>", '<sheetData><row r="99999999999999999999"/>'))
    yield xlsx, b"PK\x03\x04" + b"\x00" * 100
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook")
    yield xlsx, buffer.getvalue()
    form = (b"--b\r\nContent-Disposition: form-data; name=\"fi\x00le\"\r\n\r\nx\r\n--b--\r\n")
    yield "multipart/form-data; boundary=b", form


@pytest.fixture(scope="module")
def world(admin, api):
    tree = Tree.build(admin)
    round_ = new_round(admin)
    created = tree["school_a"].ok("POST", f"/rounds/{round_['id']}/institutions/{tree.id('school_a')}/learners",
                                  201, json=learner())
    staff = tree["school_a"].ok("POST", f"/rounds/{round_['id']}/institutions/{tree.id('school_a')}/staff", 201,
                                json={"national_id": national_id(), "first_name": "สมศรี", "last_name": "ใจดี",
                                      "position": "teacher", "employment_type": "civil_servant"})
    ids = {"rounds": round_["id"], "org-units": tree.id("school_a"), "learners": created["id"],
           "users": 2 ** 62, "agencies": 2 ** 62, "staff": staff["id"], "iid": tree.id("school_a"), "lid": tree.id("lao_a"),
           "unit_id": tree.id("school_a"), "enclosure": 2}
    return tree, ids, api.get("/api/v1/openapi.json").json()


def real_id(path, name, ids, tree):
    """An id that exists for a path parameter (an other-affiliation school for headcounts)."""
    if name == "id":
        return ids[path.strip("/").split("/")[0]]
    if name == "iid" and "headcount" in path:
        return tree.id("other_a")
    return ids[name]


def real_path(path, ids, tree, **given):
    """The operation's path with ids that exist, or the ``given`` values."""
    url = path
    for name in ("id", "iid", "lid", "unit_id", "enclosure"):
        if "{%s}" % name in url:
            url = url.replace("{%s}" % name, str(given.get(name, real_id(path, name, ids, tree))))
    # any other id (a transfer's, a request's, a document's): one no row has
    return re.sub(r"\{(\w+)\}", lambda m: str(given.get(m.group(1), 2 ** 62)), url)


class Sweep:
    def __init__(self, doc, tree, ids):
        self.doc = doc
        self.tree = tree
        self.ids = ids
        self.callers = [tree.admin, tree["lao_a"], tree["school_a"]]
        self.count = 0

    def send(self, client, method, url, what, strict=None, **kwargs):
        """One case: never a 500, errors as JSON with a stable code; a strict case
        answers exactly ``strict`` (a status, or a set of them)."""
        try:
            resp = client.request(method.upper(), url, **kwargs)
        except requests.ConnectionError as exc:
            raise AssertionError(f"{what}: the connection failed ({exc})") from None
        self.count += 1
        check(resp, what)
        if strict is not None:
            allowed = strict if isinstance(strict, set) else {strict}
            assert resp.status_code in allowed, f"{what}: {resp.status_code} {resp.text[:300]}"
        return resp

    def caller(self, path, method, url, op):
        """The first account that gets past the operation's access rule."""
        if (path, method) == ("/auth/logout", "post"):
            # signing out ends every token of the account: an account of its own
            username = unique("signout.")
            self.tree.admin.ok("POST", "/users", 201, json={"username": username, "password": PASSWORD,
                                                             "org_unit_id": self.tree.id("cdc_a")})
            return self.tree.admin.login(username), True
        json_body = "application/json" in (op.get("requestBody") or {}).get("content", {})
        if method != "get" and not json_body:
            return self.callers[0], False
        # an account of the test's own subtree for those that touch accounts
        callers = self.callers[2:] if (path, method) in EDGE_ONLY else self.callers
        for client in callers:
            if method == "get":
                resp = client.get(url)
                if resp.status_code not in (401, 403, 404):
                    return client, True
            else:
                resp = client.request(method.upper(), url, data=b"[]", headers={"Content-Type": "application/json"})
                if resp.status_code == 422:
                    return client, True
        return callers[0], False

    def operation(self, path, method, op, url):
        client, reached = self.caller(path, method, url, op)
        edge_only = (path, method) in EDGE_ONLY
        names = [p["name"] for p in op.get("parameters", []) if p["in"] == "path"]
        queries = [p["name"] for p in op.get("parameters", []) if p["in"] == "query"]
        content = (op.get("requestBody") or {}).get("content", {})
        label = f"{method.upper()} {path}"
        # path ids beyond bigint (and a NUL) never reach a resource
        for name in names:
            for value in PATH_IDS:
                bad = real_path(path, self.ids, self.tree, **{name: value})
                self.send(client, method, bad, f"{label} {name}={value[:40]}", strict={404, 422})
        # a NUL in the name of a parameter, and in a header used as input
        self.send(client, method, url + "?%00=1", f"{label} ?%00=1", strict=422)
        self.send(client, method, url, f"{label} Idempotency-Key NUL", strict={400, 422},
                  headers={"Idempotency-Key": "a\x00b"})
        for name in [] if edge_only else queries:
            for value, strict in QUERY_VALUES:
                bounded = name in BOUNDED_QUERY and value.lstrip("-").isdigit()
                rule = 422 if (strict or bounded) else None
                if method != "get" and not strict:
                    continue  # a state-changing call gets only what the edge refuses
                self.send(client, method, f"{url}?{name}={value}", f"{label} ?{name}={value[:40]}", strict=rule)
        if "application/json" in content or method == "delete":
            props = body_properties(self.doc, op)
            for text, strict in bodies(props):
                if edge_only and strict is False:
                    continue
                expected = 413 if strict == "413" else (422 if strict and reached else None)
                if strict is True and not reached:  # (an oversize body is refused unread by anyone)
                    expected = {403, 404, 422}
                headers = {"Content-Type": "application/json"}
                if strict == "413":
                    # refused unread: the server will not read the rest to keep the connection
                    headers["Connection"] = "close"
                self.send(client, method, url, f"{label} {text[:120]!r}", strict=expected, data=text.encode(),
                          headers=headers)
        if "text/csv" in content:
            for content_type, data in import_files():
                self.send(client, method, url, f"{label} {content_type} {data[:60]!r}", data=data,
                          headers={"Content-Type": content_type})


def test_every_operation_refuses_hostile_input_without_a_500(world, capsys):
    tree, ids, doc = world
    sweep = Sweep(doc, tree, ids)
    seen = set()
    for path, method, op in operations(doc):
        url = real_path(path, ids, tree)
        sweep.operation(path, method, op, url)
        seen.add((path, method))
    assert len(seen) == sum(1 for _ in operations(doc)) and len(seen) > 40
    with capsys.disabled():
        print(f"\nhostile-input sweep: {sweep.count} cases over {len(seen)} operations, no 500")
    assert sweep.count > 1500


def test_paging_and_ids_beyond_bigint_on_every_list(world):
    """The issue's first 500: ``?offset=99999999999999999999`` on six lists."""
    tree, ids, doc = world
    admin = tree.admin
    lists = [path for path, method, op in operations(doc) if method == "get"
             and any(p["name"] == "offset" for p in op.get("parameters", []))]
    assert len(lists) >= 6
    for path in lists:
        url = real_path(path, ids, tree)
        base = {"service": "registry"} if path == "/audit" else {}
        for params in ({"offset": "99999999999999999999"}, {"offset": str(BIGINT)}, {"limit": "1001"},
                       {"offset": "1000000001"}):
            resp = admin.get(url, params={**base, **params})
            assert resp.status_code == 422 and resp.json()["code"] == "validation_error", (url, params, resp.text)
            assert set(resp.json()["errors"]) == set(params)
        resp = admin.get(url, params={**base, "offset": "1000000000", "limit": "1000"})
        assert resp.status_code == 200, (url, resp.text)


def test_lone_surrogates_and_nul_where_the_issue_found_them(world):
    """Username, unit name, password, removal note, headcount grade key, ``q=``
    and audit filters: each answered a 500 (one an empty 500)."""
    tree, ids, doc = world
    admin, school, lao = tree.admin, tree["school_a"], tree["lao_a"]
    rid, sid = ids["rounds"], tree.id("school_a")

    def refused(resp, field=None):
        assert resp.status_code == 422, resp.text
        body = resp.json()
        assert body["code"] == "validation_error"
        if field:
            assert field in body["errors"], body
    for bad, key in (("\ud800", "counts.\\ud800"), ("a\x00b", "counts.a\\u0000b")):
        refused(admin.post("/users", json={"username": f"u{bad}", "password": "x-Long-Pass-99",
                                           "org_unit_id": sid}), "username")
        refused(admin.post("/org-units", json={"code": "X1", "name": f"โรงเรียน{bad}", "type": "school",
                                               "parent_id": tree.id("lao_a")}), "name")
        refused(admin.post("/auth/token", json={"username": "root", "password": bad}), "password")
        refused(school.delete(f"/learners/{ids['learners']}", json={"reason": "other", "note": bad}), "note")
        refused(lao.put(f"/rounds/{rid}/institutions/{tree.id('other_a')}/headcount",
                        json={"counts": {bad: 1}}), key)
    refused(admin.get(f"/rounds/{rid}/learners", params={"q": "a\x00"}), "q")
    refused(admin.get("/audit", params={"action": "\x00"}), "action")
    refused(admin.post("/auth/token", data=deep(1000), headers={"Content-Type": "application/json"}))
    assert school.get(f"/learners/{ids['learners']}").json()["status"] == "active"
