"""Log lines: one JSON object a line with the request's ids and trace, or the
readable text of development; the acting user appears by id only."""
import json
import logging

import pytest

from services.common import logs, tracing
from services.common.context import Actor


def _record(message="saved %s", args=("learner 7",), exc_info=None):
    record = logging.LogRecord("services.enrollment.learners", logging.WARNING, __file__, 10,
                               message, args, exc_info)
    assert logs.ContextFilter().filter(record) is True
    return record


@pytest.fixture
def json_logs(monkeypatch):
    monkeypatch.setenv("LEC_LOG_FORMAT", "json")
    assert isinstance(logs.formatter(), logs.JsonFormatter)


def test_a_record_inside_a_request_formats_to_the_json_fields(json_logs, monkeypatch):
    monkeypatch.setitem(logs._process, "service", "enrollment")
    actor = Actor(user_id=42, username="somchai.jaidee", role="lao", org_unit_id=7, path="/1/3/7/")
    token = logs.bind(request_id="req-abc.1", user_id=actor.user_id, unit_id=actor.org_unit_id)
    try:
        with tracing.tracer().start_as_current_span("work") as span:
            line = logs.formatter().format(_record())
            ids = span.get_span_context()
    finally:
        logs.unbind(token)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["ts"].endswith("Z") and entry["ts"][:4].isdigit() and "T" in entry["ts"]
    assert {k: entry[k] for k in ("level", "logger", "message", "service", "request_id", "user_id", "unit_id")} == {
        "level": "WARNING", "logger": "services.enrollment.learners", "message": "saved learner 7",
        "service": "enrollment", "request_id": "req-abc.1", "user_id": 42, "unit_id": 7}
    assert entry["trace_id"] == format(ids.trace_id, "032x") and len(entry["trace_id"]) == 32
    assert entry["span_id"] == format(ids.span_id, "016x")
    assert set(entry) == {"ts", "level", "logger", "message", *logs.FIELDS}
    # the actor is there by its ids only: no name, no role or path of the user
    assert "somchai" not in line and "username" not in line and "/1/3/7/" not in line


def test_outside_a_request_the_fields_are_null_and_the_binding_ends_with_unbind(json_logs):
    token = logs.bind(request_id="r-1", user_id=5)
    logs.update(unit_id=9)
    assert logs.current() == {"request_id": "r-1", "user_id": 5, "unit_id": 9}
    logs.unbind(token)
    entry = json.loads(logs.formatter().format(_record()))
    assert entry["request_id"] is None and entry["user_id"] is None and entry["trace_id"] is None


def test_a_traceback_goes_into_exc_of_the_same_line_and_thai_text_stays_readable(json_logs):
    try:
        raise ValueError("ไม่พบหน่วยงาน")
    except ValueError:
        import sys
        record = _record("failed", (), sys.exc_info())
    line = logs.formatter().format(record)
    assert line.count("\n") == 0
    entry = json.loads(line)
    assert entry["exc"].startswith("Traceback (most recent call last):")
    assert "ValueError: ไม่พบหน่วยงาน" in entry["exc"]
    assert "ไม่พบหน่วยงาน" in line  # not \u escapes: a scan of the logs for personal data finds them


def test_text_is_the_default_in_development_and_json_in_production(monkeypatch):
    monkeypatch.delenv("LEC_LOG_FORMAT", raising=False)
    monkeypatch.delenv("LEC_ENV", raising=False)
    assert isinstance(logs.formatter(), logs.TextFormatter)
    token = logs.bind(request_id="r-9")
    try:
        line = logs.formatter().format(_record())
    finally:
        logs.unbind(token)
    assert "WARNING [services.enrollment.learners] saved learner 7 [request r-9]" in line
    monkeypatch.setenv("LEC_ENV", "production")
    assert isinstance(logs.formatter(), logs.JsonFormatter)
    monkeypatch.setenv("LEC_LOG_FORMAT", "text")
    assert isinstance(logs.formatter(), logs.TextFormatter)


def test_configure_gives_every_handler_the_format_and_the_filter(json_logs):
    logger = logging.getLogger("lec.test.configure")
    logger.propagate = False
    handler = logging.StreamHandler()
    logger.addHandler(handler)
    root = logging.getLogger()
    before = [(h, h.formatter, list(h.filters)) for h in root.handlers]
    try:
        logs.configure("gateway", loggers=("lec.test.configure",))
        assert isinstance(handler.formatter, logs.JsonFormatter)
        assert sum(isinstance(f, logs.ContextFilter) for f in handler.filters) == 1
        logs.configure("gateway", loggers=("lec.test.configure",))   # once only
        assert sum(isinstance(f, logs.ContextFilter) for f in handler.filters) == 1
        assert logs._process["service"] == "gateway"
    finally:
        logger.removeHandler(handler)
        for h in list(root.handlers):
            if h not in [b[0] for b in before]:
                root.removeHandler(h)
        for h, fmt, filters in before:
            h.setFormatter(fmt)
            h.filters[:] = filters
        logs.set_service(None)


def test_the_settings_refuse_an_unknown_format(monkeypatch):
    from services.common import settings
    monkeypatch.setenv("LEC_LOG_FORMAT", "yaml")
    with pytest.raises(settings.SettingsError, match="LEC_LOG_FORMAT"):
        settings.current()
