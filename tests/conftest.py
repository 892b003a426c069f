"""Test set-up: real RabbitMQ and PostgreSQL, with databases and a broker vhost
of the tests' own (``LEC_TEST_ID`` names them; default ``t``), fresh each run.

Set ``LEC_TEST_AMQP_URI`` / ``LEC_PG_URL`` to test against external servers.
"""
import warnings

warnings.filterwarnings("ignore", category=DeprecationWarning)
warnings.filterwarnings("ignore", message=r"(?s).*Eventlet is deprecated")

import eventlet  # noqa: E402

eventlet.monkey_patch()  # noqa: E402  (before anything imports socket or threading)

import os  # noqa: E402
import socket  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TEST_ID = os.environ.get("LEC_TEST_ID", "t")
ADMIN = ("root", "root-password-1")
JWT_SECRET = "test-secret-0123456789-0123456789-abcdef"
AGENCY_QUEUE = f"test-agency-all-events-{TEST_ID}"


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def lec_env():
    """Environment shared by the system under test and in-process tests."""
    from deploy import infra
    from services.common import migrate, settings

    amqp = os.environ.get("LEC_TEST_AMQP_URI")
    if not amqp:
        infra.ensure_rabbitmq(settings.DEFAULT_AMQP_URI)
        vhost = f"lec_{TEST_ID}"
        infra.ensure_vhost(vhost)
        amqp = f"pyamqp://guest:guest@127.0.0.1:5672/{vhost}"
    pg = infra.ensure_postgres()
    env = {
        "AMQP_URI": amqp,
        "LEC_PG_URL": pg,
        "LEC_DB_PREFIX": f"lec_{TEST_ID}_",
        "LEC_ADMIN_USERNAME": ADMIN[0],
        "LEC_ADMIN_PASSWORD": ADMIN[1],
        "LEC_JWT_SECRET": JWT_SECRET,
        # sign-in throttling (services.registry.throttle) small enough to watch in a test: a
        # delay lasts at most 4 s, so one test's failures cannot hold up another's sign-ins for
        # long. The gateway trusts one proxy: tests name the client's address in X-Forwarded-For
        # (tests.client.Client signs in from its own).
        "LEC_LOGIN_FREE_FAILURES": "3",
        "LEC_LOGIN_ADDRESS_FREE_FAILURES": "6",
        "LEC_LOGIN_LOCK_AFTER": "10",
        "LEC_LOGIN_BASE_DELAY": "1",
        "LEC_LOGIN_MAX_DELAY": "4",
        "LEC_LOGIN_WINDOW_SECONDS": "60",
        "LEC_TRUSTED_PROXIES": "1",
        "LEC_LOG_LEVEL": "INFO",
        "LEC_ACCESS_LOG": "",
    }
    os.environ.update(env)
    settings.reload()
    for service in settings.SERVICES:
        url = settings.database_url(service)
        migrate.drop_database(url)
        migrate.migrate(service, url)
    return env


@pytest.fixture(autouse=True)
def settings_follow_the_environment(monkeypatch):
    """A process reads its settings once (``settings.current()``); a test that
    changes the environment with ``monkeypatch.setenv``/``delenv`` has them read
    again after each change, and the next test starts from the environment restored."""
    from services.common import settings

    for name in ("setenv", "delenv"):
        def changed(*args, _change=getattr(monkeypatch, name), **kwargs):
            _change(*args, **kwargs)
            settings.reload()
        setattr(monkeypatch, name, changed)
    settings.reload()
    yield
    monkeypatch.undo()
    settings.reload()


@pytest.fixture(scope="session")
def agency_queue(lec_env):
    """A durable queue bound to every event for agencies (``confirmation.events``),
    declared before the system starts, as an agency's own queue would be: the last
    system test (test_zz_personal_data.py) reads what the whole run published."""
    from kombu import Connection, Exchange, Queue
    exchange = Exchange("confirmation.events", type="topic", durable=True)
    queue = Queue(AGENCY_QUEUE, exchange=exchange, routing_key="#", durable=True, auto_delete=False)
    with Connection(lec_env["AMQP_URI"]) as conn:
        bound = queue(conn.default_channel)
        bound.declare()
        bound.purge()
    return AGENCY_QUEUE


@pytest.fixture(scope="session")
def system(lec_env, agency_queue):
    """All five services and the gateway, started once for the session."""
    from deploy.launcher import System

    sys_ = System(env=lec_env, port=_free_port(), log_dir=ROOT / ".lec" / f"test-logs-{TEST_ID}")
    for f in sys_.log_dir.glob("*.log"):
        f.unlink()
    with sys_.running(timeout=120):
        yield sys_


@pytest.fixture(scope="session")
def api(system):
    from tests.client import Client
    return Client(system.url)


@pytest.fixture(scope="session")
def admin(api):
    return api.login(*ADMIN)


@pytest.fixture
def tree(admin):
    """A fresh province subtree with accounts at every level (see tests.client.Tree)."""
    from tests.client import Tree
    return Tree.build(admin)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """On failure, show what the services logged as errors (CI has no other view)."""
    if exitstatus == 0:
        return
    log_dir = ROOT / ".lec" / f"test-logs-{TEST_ID}"
    for log in sorted(log_dir.glob("*.log")) if log_dir.exists() else []:
        lines = log.read_text(errors="replace").splitlines()
        errors = [i for i, line in enumerate(lines) if "ERROR" in line or "Traceback" in line]
        if errors:
            terminalreporter.write_sep("-", f"{log.name}: last errors")
            start = max(0, errors[-1] - 5)
            for line in lines[start:start + 40]:
                terminalreporter.write_line(line)
