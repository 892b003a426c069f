"""The input rules at the gateway's edge and in services' ``load``: JSON depth,
NUL and unpaired surrogates, integers beyond bigint, paging bounds, path ids;
and import batches that always fit one broker message."""
import json
import types

import falcon
import falcon.testing
import marshmallow as ma
import pytest

from gateway import errors
from gateway.middleware import InputRules, dumps, install_media
from gateway.resources.enrollment import LearnerImport
from services.common.errors import LecError
from services.common.validation import as_id, check_input, load, page
from gateway import fileformat


class Echo:
    def on_post(self, req, resp, id=None):
        resp.media = {"got": req.get_media(), "id": id}

    def on_get(self, req, resp, id=None):
        resp.media = {"params": req.params, "id": id}


@pytest.fixture
def client():
    app = falcon.App(middleware=[InputRules()])
    install_media(app, max_depth=32)
    errors.install(app)
    app.add_route("/things", Echo())
    app.add_route("/things/{id:int}", Echo())
    return falcon.testing.TestClient(app)


def post(client, body, content_type="application/json"):
    return client.simulate_post("/things", body=body, headers={"Content-Type": content_type})


def test_json_nested_a_thousand_deep_is_a_validation_error_not_a_recursion_error(client):
    for depth in (33, 1000, 100_000):
        resp = post(client, "[" * depth + "]" * depth)
        assert resp.status_code == 422 and resp.json["code"] == "validation_error", depth
        assert "nested" in json.dumps(resp.json)
    assert post(client, "[" * 32 + "]" * 32).status_code == 200
    assert post(client, '{"a": ' * 40 + "1" + "}" * 40).json["code"] == "validation_error"


@pytest.mark.parametrize("body,field", [
    ('{"name": "a\\u0000b"}', "name"),
    ('{"name": "\\ud800"}', "name"),
    ('{"counts": {"\\ud800": 1}}', "counts.\\ud800"),
    ('{"a\\u0000": 1}', "a\\u0000"),
    ('{"items": [{"text": "ok"}, {"text": "\\udfff x"}]}', "items.1.text"),
    ('{"id": 9223372036854775808}', "id"),
    ('{"id": -9223372036854775809}', "id"),
])
def test_unsafe_text_and_huge_integers_in_a_body_are_refused_naming_the_field(client, body, field):
    resp = post(client, body)
    assert resp.status_code == 422, resp.text
    assert resp.json["code"] == "validation_error" and field in resp.json["errors"], resp.json
    json.loads(resp.content.decode("utf-8"))  # the error body itself is valid UTF-8 JSON


def test_paired_surrogates_bigint_edges_and_thai_pass(client):
    body = {"name": "😀 สมศรี", "id": 2 ** 63 - 1, "low": -2 ** 63, "x": 1.5}
    assert post(client, json.dumps(body)).json["got"] == body


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_non_standard_json_numbers_are_refused(client, constant):
    assert post(client, '{"x": %s}' % constant).json["code"] == "validation_error"


def test_forms_follow_the_same_rules(client):
    resp = post(client, "name=a%00b", "application/x-www-form-urlencoded")
    assert resp.status_code == 422 and "name" in resp.json["errors"]


@pytest.mark.parametrize("query", ["q=%00", "%00=1", "q=ok&q=a%00"])
def test_nul_in_query_parameters_is_refused(client, query):
    resp = client.simulate_get("/things", query_string=query)
    assert resp.status_code == 422 and resp.json["code"] == "validation_error"


def test_nul_in_a_header_or_the_path_is_refused(client):
    assert client.simulate_get("/things", headers={"Idempotency-Key": "a\x00b"}).status_code == 422
    assert client.simulate_get("/things/%00").status_code in (404, 422)


@pytest.mark.parametrize("id,status", [
    ("1", 200), ("9223372036854775807", 200), ("9223372036854775808", 404), ("99999999999999999999", 404),
    ("0", 404), ("-5", 404),
])
def test_path_ids_beyond_bigint_never_reach_a_resource(client, id, status):
    assert client.simulate_get(f"/things/{id}").status_code == status


def test_a_lone_surrogate_in_an_answer_goes_out_as_its_json_escape():
    text = dumps({"name": "a\ud800b", "thai": "สมศรี"})
    assert json.loads(text.decode("utf-8")) == {"name": "a\ud800b", "thai": "สมศรี"}
    assert "สมศรี".encode() in text


@pytest.mark.parametrize("limit,offset,ok", [
    (None, None, (50, 0)), ("1000", "1000000000", (1000, 1_000_000_000)), ("0", None, None),
    ("1001", None, None), (None, "99999999999999999999", None), (None, "-1", None), ("x", None, None),
    (None, "1e3", None),
])
def test_paging_bounds(limit, offset, ok):
    if ok:
        assert page(limit, offset) == ok
    else:
        with pytest.raises(LecError) as err:
            page(limit, offset)
        assert err.value.code == "validation_error"


def test_as_id_and_load_refuse_what_would_overflow_postgresql():
    assert as_id("42", "org_unit_id") == 42
    for bad in ("99999999999999999999", "abc", None, 2 ** 63):
        with pytest.raises(LecError) as err:
            as_id(bad, "org_unit_id")
        assert "org_unit_id" in err.value.extra["errors"]

    class Schema(ma.Schema):
        name = ma.fields.String()
        size = ma.fields.Integer()

    for data in ({"name": "a\x00"}, {"name": "\ud800"}, {"size": "99999999999999999999"}, {"size": 1e300}):
        with pytest.raises(LecError) as err:
            load(Schema(), data)
        assert err.value.code == "validation_error"
    assert load(Schema(), {"name": "ก", "size": 3}) == {"name": "ก", "size": 3}
    check_input({"deep": [[[[1]]]]})  # services' load has no depth rule of its own


def importer(batch=5000, batch_bytes=4 << 20):
    ctx = types.SimpleNamespace(config=types.SimpleNamespace(max_upload=1 << 20, rpc_timeout=5))
    resource = LearnerImport(ctx)
    resource.batch, resource.batch_bytes = batch, batch_bytes
    return resource


def test_import_batches_are_bounded_by_rows_and_by_bytes():
    name = "ก" * 100  # 600 bytes as JSON (\u escapes)
    rows = [(n, ["3100600445635", None, None, name, name, "M", "2017-01-01", "p1", None])
            for n in range(2, 2002)]
    rows[7][1][3] = "ก\tข" * 50  # one row as values, the others as COPY text
    batches = list(importer(batch=500, batch_bytes=64 << 10)._batches(iter(rows)))
    sizes = [len(json.dumps([b, "".join(t)])) for b, t, _ in batches]
    assert sum(len(b) + len(t) for b, t, _ in batches) == 2000 and max(sizes) <= 64 << 10
    assert sum(len(b) for b, _, _ in batches) == 1
    assert all(len(b) + len(t) < 500 for b, t, _ in batches)  # the bytes, not the rows, closed each batch
    assert [len(b) + len(t) for b, t, _ in importer(batch=500)._batches(iter(rows))] == [500] * 4


def test_rows_the_reader_refused_travel_beside_their_batch():
    bad = fileformat.BadRow("the row holds bytes that are not valid UTF-8")
    rows = [(2, ["a"] * 9), (3, bad), (4, ["b"] * 9), (5, ["c"] * 9), (6, bad)]
    batches = list(importer(batch=2)._batches(iter(rows)))
    assert [[int(line.split(",")[0]) for line in t] for _, t, _ in batches] == [[2, 4], [5]]
    assert [[r["row"] for r in refused] for _, _, refused in batches] == [[3], [6]]
    only_bad = list(importer(batch=2)._batches(iter([(n, bad) for n in range(2, 7)])))
    assert [(b + t, [r["row"] for r in refused]) for b, t, refused in only_bad] == [
        ([], [2, 3]), ([], [4, 5]), ([], [6])]


def test_a_row_larger_than_a_batch_is_refused():
    with pytest.raises(LecError) as err:
        list(importer(batch_bytes=1000)._batches(iter([(2, ["x" * 2000] + [None] * 8)])))
    assert err.value.code == "payload_too_large"


def test_a_load_checks_what_a_field_passed_on_once_and_what_it_converted_again():
    class Schema(ma.Schema):
        rows = ma.fields.List(ma.fields.Raw())
        size = ma.fields.Integer()

    rows = [{"a": "x"}, {"b": ["y"]}]
    checked = set()
    check_input({"rows": rows}, checked=checked)
    assert {id(rows[0]), id(rows[1]), id(rows[1]["b"])} <= checked
    rows[0]["a"] = "\x00"  # changed after its check: skipped by a walk given the same ids
    check_input({"again": rows}, checked=checked)
    with pytest.raises(LecError):
        check_input({"again": rows})
    for data in ({"rows": [{"a": "\ud800"}]}, {"size": 1e300}, {"rows": [[1 << 70]]}):
        with pytest.raises(LecError) as err:
            load(Schema(), data)
        assert err.value.code == "validation_error"
    assert load(Schema(), {"rows": [{"a": "ก"}], "size": 3}) == {"rows": [{"a": "ก"}], "size": 3}
