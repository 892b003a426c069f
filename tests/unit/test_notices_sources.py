"""``GET /me/notices`` says which source it could not read instead of leaving
its notices out silently (the resource with a fake context, no services)."""
import falcon
import falcon.testing

from gateway import errors
from gateway.resources.notices import MyNotices
from services.common.errors import LecError


class FakeContext:
    def __init__(self, down=()):
        self.down = set(down)
        self.calls = []

    def call(self, req, service, method, *args):
        self.calls.append((service, method, args))
        if service in self.down:
            raise LecError("service_unavailable", f"{service} did not answer")
        if method == "notices":
            return [{"round_id": 7, "unit_id": 3, "at": "2026-06-28T09:00:00+07:00", "level": "institution",
                     "deadline": "2026-06-30T00:00:00+07:00", "hours_before": 72,
                     "round": {"id": 7, "academic_year": 2569, "number": 1}}]
        if method == "transfer_notices":
            return [{"kind": "transfer", "round_id": 7, "transfer_id": 11, "unit_id": 3,
                     "at": "2026-06-28T10:00:00+07:00", "title_data": {"grade": "p2"}}]
        return [{"kind": "revocation_request", "round_id": 7, "request_id": 5, "unit_id": 3,
                 "at": "2026-06-28T08:00:00+07:00", "action": "answer"}]


def _client(ctx):
    app = falcon.App()
    errors.install(app)
    app.add_route("/me/notices", MyNotices(ctx))
    return falcon.testing.TestClient(app)


def test_every_source_read_newest_first():
    body = _client(FakeContext()).simulate_get("/me/notices").json
    assert [n["kind"] for n in body["items"]] == ["transfer", "deadline", "revocation_request"]
    assert body["total"] == 3 and body["unavailable"] == []
    transfer = body["items"][0]
    assert transfer["ref_id"] == 11 and transfer["page"] == "transfers"
    assert transfer["data"] == {"title_data": {"grade": "p2"}}


def test_a_silent_source_is_named_not_dropped():
    ctx = FakeContext(down={"enrollment"})
    body = _client(ctx).simulate_get("/me/notices").json
    assert body["unavailable"] == ["transfers"]
    assert [n["kind"] for n in body["items"]] == ["deadline", "revocation_request"]
    assert ("confirmation", "revocation_request_notices", (None,)) in ctx.calls


def test_a_bad_round_id_is_refused():
    resp = _client(FakeContext()).simulate_get("/me/notices", params={"round_id": "x"})
    assert resp.status_code == 422 and resp.json["code"] == "validation_error"
