"""The gateway's access log leaves query strings out: a search may carry a child's ID."""
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
