"""The progress report's checks column in the gateway: each row and the report get
``checks`` from enrollment's ``check_tallies``; when that call fails the report is
answered without the column."""
from types import SimpleNamespace

from gateway.resources.reporting import ProgressReport
from services.common.errors import LecError
from services.common.values import Unit

REPORT = {"items": [{"unit": {"id": 11}}, {"unit": {"id": 12}}], "total": 2}


class Ctx:
    def __init__(self, tallies):
        self.tallies = tallies
        self.calls = []

    def call(self, req, service, method, *args, **kwargs):
        self.calls.append((service, method, args))
        if service == "reporting":
            return {**REPORT, "items": [dict(i) for i in REPORT["items"]]}
        if isinstance(self.tallies, Exception):
            raise self.tallies
        return self.tallies


def request():
    return SimpleNamespace(context=SimpleNamespace(unit=Unit(id=10, type="lao", path="/1/2/10/")), get_param=lambda name: None,
                           get_header=lambda name: None)


def test_each_row_and_the_report_get_their_subtree_tally():
    ctx = Ctx({"10": {"errors": 2, "queries": 5, "explained": 3, "unexplained": 2, "computed": True},
               "11": {"errors": 2, "queries": 1, "explained": 1, "unexplained": 0, "computed": True}})
    resp = SimpleNamespace(media=None)
    ProgressReport(ctx).on_get(request(), resp, 7)
    assert ctx.calls[1] == ("enrollment", "check_tallies", (7, [11, 12, 10]))
    assert resp.media["checks"] == {"errors": 2, "queries": 5, "explained": 3, "unexplained": 2}
    assert resp.media["items"][0]["checks"] == {"errors": 2, "queries": 1, "explained": 1, "unexplained": 0}
    assert resp.media["items"][1]["checks"] == {"errors": 0, "queries": 0, "explained": 0, "unexplained": 0}


def test_the_report_stands_without_the_column_when_enrollment_fails(caplog):
    for failure in (LecError("service_unavailable", "enrollment is not running"), RuntimeError("boom")):
        resp = SimpleNamespace(media=None)
        ProgressReport(Ctx(failure)).on_get(request(), resp, 7)
        assert resp.media["total"] == 2 and "checks" not in resp.media, resp.media
        assert all("checks" not in item for item in resp.media["items"]), resp.media
    assert "without checks" in caplog.text
