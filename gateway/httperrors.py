"""What gunicorn writes itself.

Errors it answers before the application sees the request (a request line or
headers over its limits, a malformed request line, an unknown transfer coding)
come in the JSON shape of every other error of the API instead of gunicorn's
HTML page, with the security headers of every answer (gateway/security.py);
and no answer names the server software (gunicorn's ``Server`` header is left
out)."""
import json

from gunicorn import util
from gunicorn.http import wsgi

from gateway.security import HEADERS
from services.common.errors import TITLES

CODES = {400: "bad_request", 403: "forbidden", 414: "uri_too_long", 417: "bad_request",
         431: "header_too_large", 500: "internal_error", 501: "not_implemented"}


def write_error(sock, status_int, reason, mesg):
    code = CODES.get(status_int, "bad_request")
    body = json.dumps({"code": code, "title": TITLES.get(code, reason),
                       "description": mesg or reason}).encode()
    extra = "".join(f"{name}: {value}\r\n" for name, value in HEADERS.items())
    head = (f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            f"Cache-Control: no-store\r\n{extra}\r\n")
    util.write_nonblock(sock, head.encode("latin-1") + body)


def _without_server_banner(default_headers):
    def headers(self):
        return [line for line in default_headers(self) if not line.lower().startswith("server:")]
    headers.hides_server = True
    return headers


def install():
    """gunicorn's workers call ``util.write_error``: answer in JSON instead; and
    its responses carry no ``Server`` header."""
    util.write_error = write_error
    if not getattr(wsgi.Response.default_headers, "hides_server", False):
        wsgi.Response.default_headers = _without_server_banner(wsgi.Response.default_headers)
