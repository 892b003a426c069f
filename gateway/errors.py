"""Every failure answers JSON ``{code, title, description, ...}`` with the
status of API.md; nothing a client sends can produce a 500."""
import logging

import falcon

from services.common.errors import HTTP_STATUS, LecError

log = logging.getLogger(__name__)

FALCON_CODES = {
    400: "validation_error",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    411: "validation_error",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    503: "service_unavailable",
}


def _write(req, resp, status, body):
    resp.status = falcon.code_to_http_status(status)
    resp.media = body
    resp.content_type = falcon.MEDIA_JSON


def handle_lec_error(req, resp, exc, params):
    body = exc.to_dict()
    if exc.code == "rate_limited" and "retry_after" in exc.extra:
        resp.set_header("Retry-After", str(exc.extra["retry_after"]))
    if exc.code in ("unauthorized", "invalid_credentials"):
        resp.set_header("WWW-Authenticate", 'Bearer realm="lec"')
    _write(req, resp, HTTP_STATUS.get(exc.code, 400), body)


def handle_http_error(req, resp, exc, params):
    status = exc.status_code
    code = FALCON_CODES.get(status, "error")
    description = exc.description or exc.title or ""
    body = {"code": code, "title": exc.title or code, "description": description}
    if isinstance(exc, (falcon.MediaMalformedError, falcon.MediaNotFoundError)) or status == 400:
        status = 422
        code = "validation_error"
        body = {"code": code, "title": "Validation error",
                "description": "the request body is not valid JSON" if isinstance(exc, falcon.MediaMalformedError)
                else (description or "the request is not valid"),
                "errors": {"_body": [description or "not valid"]}}
    for key, value in (exc.headers or {}).items():
        resp.set_header(key, value)
    _write(req, resp, status, body)


def handle_unexpected(req, resp, exc, params):
    log.exception("unexpected error on %s %s (request %s)", req.method, req.path,
                  getattr(req.context, "request_id", "-"))
    _write(req, resp, 500, {"code": "internal_error", "title": "Internal error",
                            "description": "an unexpected error occurred; it has been logged",
                            "request_id": getattr(req.context, "request_id", None)})


def install(app):
    app.add_error_handler(Exception, handle_unexpected)
    app.add_error_handler(falcon.HTTPError, handle_http_error)
    app.add_error_handler(LecError, handle_lec_error)
