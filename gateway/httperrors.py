"""Errors that gunicorn answers itself, before the application sees the request
(a request line or headers over its limits, a malformed request line, an
unknown transfer coding), in the JSON shape of every other error of the API
instead of gunicorn's HTML page."""
import json

from gunicorn import util

from services.common.errors import TITLES

CODES = {400: "bad_request", 403: "forbidden", 414: "uri_too_long", 417: "bad_request",
         431: "header_too_large", 500: "internal_error", 501: "not_implemented"}


def write_error(sock, status_int, reason, mesg):
    code = CODES.get(status_int, "bad_request")
    body = json.dumps({"code": code, "title": TITLES.get(code, reason),
                       "description": mesg or reason}).encode()
    head = (f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")
    util.write_nonblock(sock, head.encode("latin-1") + body)


def install():
    """gunicorn's workers call ``util.write_error``: answer in JSON instead."""
    util.write_error = write_error
