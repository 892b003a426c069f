"""The gateway's HTTP server: its access log leaves query strings out (a search may
carry a child's ID), and the errors it answers itself are JSON like the API's."""
import datetime as dt
import types
from pathlib import Path

from gunicorn.config import Config
from gunicorn.glogging import Logger

CONF = Path(__file__).resolve().parents[2] / "gateway" / "gunicorn_conf.py"


def test_access_lines_have_no_query_string():
    namespace = {}
    exec(compile(CONF.read_text(), str(CONF), "exec"), namespace)
    cfg = Config()
    cfg.set("access_log_format", namespace["access_log_format"])
    logger = Logger(cfg)
    environ = {"REQUEST_METHOD": "GET", "RAW_URI": "/api/v1/rounds/1/learners?q=3100600445635",
               "PATH_INFO": "/api/v1/rounds/1/learners", "QUERY_STRING": "q=3100600445635",
               "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1"}
    req = types.SimpleNamespace(headers=[], method="GET", path="/api/v1/rounds/1/learners",
                                query="q=3100600445635", version=(1, 1), uri=environ["RAW_URI"])
    resp = types.SimpleNamespace(status="200 OK", headers=[], sent=12, response_length=12)
    line = cfg.access_log_format % logger.atoms(resp, req, environ, dt.timedelta(seconds=0.01))
    assert "GET /api/v1/rounds/1/learners HTTP/1.1" in line
    assert "3100600445635" not in line


def test_errors_gunicorn_answers_itself_are_json():
    import json
    import socket

    from gateway import httperrors

    left, right = socket.socketpair()
    try:
        httperrors.write_error(left, 414, "URI Too Long", "Request Line is too large (5000 > 4094)")
        left.close()
        raw = b""
        while chunk := right.recv(65536):
            raw += chunk
    finally:
        right.close()
    head, body = raw.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 414 URI Too Long\r\n")
    assert b"Content-Type: application/json" in head
    assert f"Content-Length: {len(body)}".encode() in head
    assert json.loads(body) == {"code": "uri_too_long", "title": "URI too long",
                                "description": "Request Line is too large (5000 > 4094)"}
