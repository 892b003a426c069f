"""What the services' own code lets into logs: database errors without the values
of their statements, the development account's bootstrap without its password."""
import logging
import traceback

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from services.common import failed_events, migrate, settings
from services.common.db import make_engine
from tests.services.enrollment_fixtures import national_id


def _raised(engine, sql, params):
    """The text a log shows of the error ``sql`` raises: the whole chain, with tracebacks."""
    with pytest.raises(DBAPIError) as err:
        with engine.begin() as conn:
            conn.execute(text(sql), params)
    return err.value, "".join(traceback.format_exception(err.value))


def test_a_database_error_does_not_carry_the_values_of_its_statement(engines):
    nid = national_id()
    # a search that fails: PostgreSQL quotes the statement, values included (psycopg2 sends them inline)
    exc, shown = _raised(engines["enrollment"],
                         "SELECT id FROM learners WHERE id_number LIKE :q OFFSET CAST(:o AS bigint)",
                         {"q": nid + "%", "o": "99999999999999999999"})
    assert nid not in shown and "99999999999999999999" not in shown
    assert "out of range for type bigint" in shown and "SELECT id FROM learners" in shown  # still helps
    # a value that is not of its column's type, quoted in the message itself
    exc, shown = _raised(engines["enrollment"], "SELECT CAST(:q AS bigint)", {"q": nid + "x"})
    assert nid not in shown and "invalid input syntax for type bigint" in shown
    # a violated constraint: its DETAIL names the key, or the whole row
    exc, shown = _raised(engines["enrollment"],
                         "CREATE TEMP TABLE probe (n text UNIQUE, m text NOT NULL); "
                         "INSERT INTO probe VALUES (:n, 'a'); INSERT INTO probe VALUES (:n, 'b')", {"n": nid})
    assert nid not in shown and exc.orig.diag.constraint_name == "probe_n_key"  # code still decides on it
    engine = failed_events._engine("enrollment")                   # the operators' command's engine too
    try:
        assert engine.hide_parameters
        exc, shown = _raised(engine, "SELECT CAST(:q AS date)", {"q": nid})
        assert nid not in shown
    finally:
        engine.dispose()


def test_the_development_account_is_created_without_its_password_in_the_log(lec_env, monkeypatch, caplog):
    from services.registry import handlers
    url = settings.with_database(lec_env["LEC_PG_URL"], f"{settings.db_prefix()}bootstrap_registry")
    migrate.drop_database(url)
    migrate.migrate("registry", url)
    monkeypatch.delenv("LEC_ADMIN_USERNAME", raising=False)
    monkeypatch.delenv("LEC_ADMIN_PASSWORD", raising=False)
    engine = make_engine(url, pool_size=1)
    try:
        with caplog.at_level(logging.DEBUG):
            assert handlers.bootstrap(engine)
    finally:
        engine.dispose()
        migrate.drop_database(url)
    assert "development account" in caplog.text and handlers.DEV_ADMIN_USERNAME in caplog.text
    assert handlers.DEV_ADMIN_PASSWORD not in caplog.text
