"""The fast layer never reaches the broker or the database.

An autouse fixture that refuses, for the length of each test, any connection
to RabbitMQ's or PostgreSQL's ports (and PostgreSQL's Unix socket) and any
``psycopg2.connect``. The refusal is a ``BaseException`` so that no
``except Exception`` (or ``except OSError``, as the RPC client has) can turn it
into an ordinary answer, and the test fails at teardown in any case.
``make test-fast`` loads this module as a plugin (``-p tests.fast.guard``), so
that tests/unit is held to the same rule."""
import socket

import pytest

BLOCKED_PORTS = frozenset({5432, 5672, 15672})


class InfrastructureTouched(BaseException):
    """A fast test tried to reach the broker or the database."""


def _blocked(address):
    if isinstance(address, tuple) and len(address) >= 2:
        return address[1] in BLOCKED_PORTS
    return isinstance(address, (str, bytes)) and ".s.PGSQL." in str(address)


@pytest.fixture(autouse=True)
def no_broker_or_database(monkeypatch):
    touched = []

    def guarded(original):
        def connect(self, address, *args, **kwargs):
            if _blocked(address):
                touched.append(address)
                raise InfrastructureTouched(f"a fast test connected to {address!r}")
            return original(self, address, *args, **kwargs)
        return connect

    classes = {socket.socket}
    try:
        from eventlet import patcher
        classes.add(patcher.original("socket").socket)
    except ImportError:
        pass
    for cls in classes:
        for name in ("connect", "connect_ex"):
            monkeypatch.setattr(cls, name, guarded(getattr(cls, name)))
    try:
        import psycopg2
    except ImportError:
        psycopg2 = None
    if psycopg2 is not None:
        def refuse_database(*args, **kwargs):
            touched.append("psycopg2.connect")
            raise InfrastructureTouched("a fast test connected to PostgreSQL")
        monkeypatch.setattr(psycopg2, "connect", refuse_database)
    yield touched  # the attempts so far (tests of this guard empty it)
    if touched:
        pytest.fail(f"a fast test reached the broker or the database: {touched}", pytrace=False)
