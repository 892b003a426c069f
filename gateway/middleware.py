"""Cross-cutting request handling: request ids, the request's trace and log
context, body size limits, the JSON and form readers, and the rules no input
may break (see services.common.validation)."""
import functools
import json
import logging
import re
import time
import uuid

import falcon

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from services.common import logs, settings, tracing
from services.common.errors import LecError, not_found, validation_error
from services.common.validation import BIGINT_MAX, UNSAFE_TEXT, check_input, unsafe

log = logging.getLogger("lec.http")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._\-]{1,64}$")


class RequestId:
    def process_request(self, req, resp):
        given = req.get_header("X-Request-ID")
        req.context.request_id = given if given and _REQUEST_ID.match(given) else uuid.uuid4().hex
        resp.set_header("X-Request-ID", req.context.request_id)


class Telemetry:
    """Each request is a server span (named by its route template, as the
    metrics are) and binds its request id for the logs; the RPCs it makes are
    child spans (gateway.rpc). A W3C ``traceparent`` header from the caller is
    continued. Each answer is one line in the ``lec.http`` log: method, route
    template (never the path, which may hold ids, nor the query), status and
    time, with the request's ids. Comes right after :class:`RequestId`."""

    _propagator = TraceContextTextMapPropagator()

    def process_request(self, req, resp):
        parent = self._propagator.extract({"traceparent": req.get_header("traceparent") or ""},
                                          context=otel_context.Context())
        span = tracing.tracer("lec.http").start_span(
            f"{req.method} unmatched", context=parent, kind=SpanKind.SERVER,
            attributes={"http.request.method": req.method})
        req.context.telemetry = (span, otel_context.attach(trace.set_span_in_context(span)),
                                 logs.bind(request_id=getattr(req.context, "request_id", None)),
                                 time.perf_counter())

    def process_resource(self, req, resp, resource, params):
        span = getattr(req.context, "telemetry", (None,))[0]
        if span is not None and req.uri_template:
            span.update_name(f"{req.method} {req.uri_template}")
            span.set_attribute("http.route", req.uri_template)

    def process_response(self, req, resp, resource, req_succeeded):
        state = getattr(req.context, "telemetry", None)
        if state is None:
            return
        req.context.telemetry = None
        span, context_token, log_token, started = state
        status = resp.status_code if hasattr(resp, "status_code") else int(str(resp.status)[:3])
        span.set_attribute("http.response.status_code", status)
        if status >= 500:
            span.set_status(Status(StatusCode.ERROR))
        log.info("%s %s %d in %.1f ms", req.method, req.uri_template or "unmatched", status,
                 (time.perf_counter() - started) * 1000)
        span.end()
        otel_context.detach(context_token)
        logs.unbind(log_token)


class ActorLogs:
    """The acting user's id (and unit id) into the request's log context, once
    the access middleware has found it: ids only, never a name."""

    def process_resource(self, req, resp, resource, params):
        actor = getattr(req.context, "actor", None)
        if actor is not None:
            logs.update(user_id=actor.user_id, unit_id=actor.org_unit_id or None)


class LimitedStream:
    def __init__(self, stream, limit):
        self._stream = stream
        self._left = limit

    def _take(self, data):
        self._left -= len(data)
        if self._left < 0:
            raise LecError("payload_too_large", "the request body is too large")
        return data

    def read(self, size=-1):
        return self._take(self._stream.read(size))

    def readline(self, size=-1):
        return self._take(self._stream.readline(size))

    def __iter__(self):
        for chunk in self._stream:
            yield self._take(chunk)


class BodyLimit:
    """Bodies above ``max_body`` (or a resource's own ``max_body``) answer 413."""

    def __init__(self, default_limit):
        self.default_limit = default_limit

    def process_resource(self, req, resp, resource, params):
        limit = getattr(resource, "max_body", None) or self.default_limit
        length = req.content_length
        if length is not None and length > limit:
            raise LecError("payload_too_large", f"the request body exceeds {limit} bytes")
        if length is None and req.get_header("Transfer-Encoding"):
            req.stream = LimitedStream(req.stream, limit)


# -- input rules ------------------------------------------------------------------------------------

def json_max_depth():
    """How deep a JSON body may nest (``LEC_JSON_MAX_DEPTH``, default 32)."""
    return settings.current().json_max_depth


def _no_constant(name):
    raise ValueError(f"{name} is not a JSON number")


def loads(text, max_depth):
    """A JSON body: standard JSON only (no NaN or Infinity), nested at most
    ``max_depth`` deep, no NUL or unpaired surrogate in any text, integers
    within bigint; anything else is ``validation_error`` (422)."""
    try:
        data = json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        raise validation_error({"_schema": [f"is nested deeper than {max_depth} levels"]},
                               "the JSON body is nested too deeply") from None
    check_input(data, max_depth)
    return data


def dumps(media):
    """JSON as UTF-8 with Thai text as is; a lone surrogate, which UTF-8 cannot
    carry, goes out as its JSON escape instead of failing the answer."""
    return json.dumps(media, ensure_ascii=False).encode("utf-8", "backslashreplace")


class FormHandler(falcon.media.URLEncodedFormHandler):
    """URL-encoded forms under the same text rules as JSON bodies."""

    def deserialize(self, stream, content_type, content_length):
        form = super().deserialize(stream, content_type, content_length)
        check_input(form)
        return form


def install_media(app, max_depth=None):
    """The app's JSON (request and response) and form handlers."""
    handler = falcon.media.JSONHandler(
        dumps=dumps, loads=functools.partial(loads, max_depth=max_depth or json_max_depth()))
    app.req_options.media_handlers[falcon.MEDIA_JSON] = handler
    app.req_options.media_handlers[falcon.MEDIA_URLENCODED] = FormHandler()
    app.resp_options.media_handlers[falcon.MEDIA_JSON] = handler


class InputRules:
    """Refused before any resource runs: a NUL character or an unpaired surrogate
    in the path, a query parameter (name or value) or a header
    (``validation_error``), and a path id outside 1..2^63-1, PostgreSQL's bigint
    (``not_found``: no such resource can exist, and it must never reach SQL)."""

    def process_request(self, req, resp):
        if unsafe(req.path):
            raise validation_error({"_path": [UNSAFE_TEXT]})
        for name, value in req.params.items():
            values = value if isinstance(value, list) else [value]
            if unsafe(name) or any(unsafe(v) for v in values if isinstance(v, str)):
                raise validation_error({"_query" if unsafe(name) else name: [UNSAFE_TEXT]})
        for name, value in req.headers.items():
            if unsafe(value):
                raise validation_error({"_headers": [f"{name.title()} {UNSAFE_TEXT}"]})

    def process_resource(self, req, resp, resource, params):
        for value in params.values():
            if isinstance(value, int) and not 0 < value <= BIGINT_MAX:
                raise not_found()
