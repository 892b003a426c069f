"""The fast layer's guard (tests/fast/guard.py) refuses the broker and the database."""
import socket

import pytest

from tests.fast.guard import InfrastructureTouched


@pytest.mark.parametrize("port", [5672, 5432])
def test_a_connection_to_the_broker_or_the_database_is_refused(no_broker_or_database, port):
    with pytest.raises(InfrastructureTouched):
        with socket.socket() as sock:
            sock.connect(("127.0.0.1", port))
    with pytest.raises(InfrastructureTouched):
        socket.create_connection(("localhost", port), timeout=1)
    assert len(no_broker_or_database) == 2
    no_broker_or_database.clear()  # else the test fails at teardown, whatever it caught


def test_psycopg2_is_refused(no_broker_or_database):
    import psycopg2
    with pytest.raises(InfrastructureTouched):
        psycopg2.connect("postgresql://postgres@127.0.0.1:5432/postgres")
    no_broker_or_database.clear()


def test_the_rpc_client_cannot_hide_a_refusal_as_service_unavailable(no_broker_or_database):
    from gateway.rpc import RpcClient
    with pytest.raises(InfrastructureTouched):
        RpcClient("pyamqp://guest:guest@127.0.0.1:5672/", 1).call("registry", "get_units", [1])
    assert no_broker_or_database
    no_broker_or_database.clear()


def test_other_addresses_are_left_alone():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.create_connection(server.getsockname(), timeout=2):
            pass
