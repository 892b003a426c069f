"""The children a unit waits for come from confirmation's own copy of the registry's
units, filled once and kept by the registry's events: a confirmation asks only
enrollment (gateway -> confirmation -> enrollment's seal)."""
import pytest
from sqlalchemy import create_engine, text

from services.common import settings
from tests.client import unique
from tests.system.confirmation_support import conf_path, confirm, new_round, refused, wait_until


@pytest.fixture
def confirmation_db(lec_env):
    engine = create_engine(settings.database_url("confirmation"), pool_size=1)
    yield engine
    engine.dispose()


def complete(engine):
    with engine.connect() as conn:
        return conn.execute(text("SELECT 1 FROM unit_sync WHERE name = 'units'")).first() is not None


def test_an_lao_waits_for_the_children_confirmation_holds_and_learns_new_ones_from_events(
        admin, tree, confirmation_db):
    t = tree
    rid = new_round(admin)["id"]
    wait_until(lambda: complete(confirmation_db), what="confirmation's copy of the units filled")
    lao = t.id("lao_a")

    # a child only confirmation's copy holds: the registry does not know it, the LAO waits for it
    phantom = 9_000_000_000 + lao
    with confirmation_db.begin() as conn:
        conn.execute(text("INSERT INTO units (id, code, name, type, parent_id, path, status, version) "
                          "VALUES (:id, 'PH1', 'phantom', 'school', :lao, :path, 'active', 1)"),
                     {"id": phantom, "lao": lao, "path": f"{t.units['lao_a']['path']}{phantom}/"})
    try:
        status = t["lao_a"].ok("GET", conf_path(rid, lao))
        assert phantom in status["pending"]
        assert status["children"]["total"] == 3
    finally:
        with confirmation_db.begin() as conn:
            conn.execute(text("DELETE FROM units WHERE id = :id"), {"id": phantom})

    for key in ("school_a", "cdc_a"):
        confirm(t[key], rid, t.id(key))
    # a school opened now: the registry's event brings it, and the LAO waits for it too
    late = admin.ok("POST", "/org-units", 201, json={
        "code": unique("LAT"), "name": "โรงเรียนเปิดใหม่", "type": "school", "parent_id": lao})
    wait_until(lambda: late["id"] in t["lao_a"].ok("GET", conf_path(rid, lao))["pending"],
               what="the new school among the LAO's children")
    body = refused(t["lao_a"].post(conf_path(rid, lao)), "children_not_confirmed")
    assert body["pending"] == [late["id"]]

    # closed, it no longer holds the LAO back
    admin.ok("POST", f"/org-units/{late['id']}/close", 200, json={"closed_on": "2024-01-01"})
    wait_until(lambda: t["lao_a"].ok("GET", conf_path(rid, lao))["pending"] == [],
               what="the closed school no longer pending")
    assert confirm(t["lao_a"], rid, lao)["state"] == "confirmed"
