"""Log lines that say which request, user and trace they belong to.

Every record passes :class:`ContextFilter`, which adds ``service``,
``request_id``, ``user_id``, ``unit_id``, ``trace_id`` and ``span_id``: the
request fields from the context bound for the current request or worker
(:func:`bind`, a context variable, so each thread or green thread keeps its
own), the trace fields from the current OpenTelemetry span. Only ids travel
into logs: never a user's name, a learner's name or a national id.

``LEC_LOG_FORMAT=json`` (the default in production) writes one JSON object a
line (:class:`JsonFormatter`); ``text`` (the default in development) keeps
``make run`` readable. Services get both through deploy/nameko.yml's LOGGING,
the gateway through gateway/gunicorn_conf.py (:func:`configure`).
"""
from __future__ import annotations

import contextvars
import datetime
import json
import logging
from typing import Any, Optional

from services.common import settings

FIELDS = ("service", "request_id", "user_id", "unit_id", "trace_id", "span_id")
TEXT_FORMAT = "%(asctime)s %(levelname)s [%(name)s] %(message)s"

_bound: contextvars.ContextVar[Optional[dict[str, Any]]] = contextvars.ContextVar("lec_log_context",
                                                                                  default=None)
_process: dict[str, Optional[str]] = {"service": None}


def set_service(name: Optional[str]) -> None:
    """The name every record of this process carries as ``service``."""
    _process["service"] = name


def bind(request_id: Optional[str] = None, user_id: Optional[int] = None,
         unit_id: Optional[int] = None) -> contextvars.Token:
    """Bind the request's ids to the current thread or green thread until
    :func:`unbind` with the token returned."""
    return _bound.set({"request_id": request_id, "user_id": user_id, "unit_id": unit_id})


def update(**ids: Any) -> None:
    """Add ids learnt later in the request (the acting user after sign-in)."""
    current = _bound.get()
    if current is not None:
        current.update(ids)


def unbind(token: contextvars.Token) -> None:
    _bound.reset(token)


def current() -> dict[str, Any]:
    """The ids bound now (an empty mapping outside any request)."""
    return dict(_bound.get() or {})


def _trace_ids() -> tuple[Optional[str], Optional[str]]:
    from opentelemetry import trace
    span_context = trace.get_current_span().get_span_context()
    if not span_context.is_valid:
        return None, None
    return format(span_context.trace_id, "032x"), format(span_context.span_id, "016x")


class ContextFilter(logging.Filter):
    """Adds :data:`FIELDS` to every record (None where unknown); drops none."""

    def filter(self, record: logging.LogRecord) -> bool:
        bound = _bound.get() or {}
        record.service = _process["service"]
        record.request_id = bound.get("request_id")
        record.user_id = bound.get("user_id")
        record.unit_id = bound.get("unit_id")
        record.trace_id, record.span_id = _trace_ids()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: ts (UTC, ISO 8601), level, logger, message, the
    :data:`FIELDS` and ``exc`` (the traceback, when there is one). Thai text
    stays as is (not as escapes), so that a scan of the logs finds it."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.datetime.fromtimestamp(record.created, datetime.timezone.utc)
            .isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in FIELDS:
            entry[name] = getattr(record, name, None)
        if record.exc_info:
            if not record.exc_text:
                record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """The readable line of development, with the request id when there is one."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        request_id = getattr(record, "request_id", None)
        if request_id:
            first, nl, rest = line.partition("\n")
            line = f"{first} [request {request_id}]{nl}{rest}"
        return line


def formatter() -> logging.Formatter:
    """The formatter ``LEC_LOG_FORMAT`` asks for (a dictConfig factory: ``()``)."""
    return JsonFormatter() if settings.current().json_logs else TextFormatter()


def configure(service: str, loggers: tuple[str, ...] = ()) -> None:
    """Set ``service`` and give the handlers of the root logger and of
    ``loggers`` (those that do not propagate, like gunicorn's) the formatter of
    ``LEC_LOG_FORMAT`` and the :class:`ContextFilter`; a root logger without a
    handler gets one on standard error, at ``LEC_LOG_LEVEL``."""
    set_service(service)
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.StreamHandler())
        root.setLevel(settings.current().log_level.upper())
    chosen = formatter()
    for logger in [root] + [logging.getLogger(name) for name in loggers]:
        for handler in logger.handlers:
            handler.setFormatter(chosen)
            if not any(isinstance(f, ContextFilter) for f in handler.filters):
                handler.addFilter(ContextFilter())
