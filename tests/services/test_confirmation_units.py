"""Confirmation's copy of the registry's units (``services.common.units.UnitTable``):
filled once from the registry page by page, kept by ``unit_changed`` events (newest
version wins), and the source of a unit's children once complete.

The tables live in a schema of their own in the confirmation test database, so
that the running system's copy is left alone."""
import uuid

import pytest
from sqlalchemy import MetaData, text

from services.common import settings
from services.common.db import make_engine
from services.common.tables import add_unit_sync_table, add_unit_table
from services.common.units import UnitTable
from services.common.values import Unit
from services.confirmation import ports

LAO = Unit(id=9_100_001, type="lao", path="/1/9100001/", code="L1", name="LAO", parent_id=1)


def school(i, parent=LAO, status="active", version=1, type="school", code=None):
    return Unit(id=9_100_100 + i, type=type, path=f"{parent.path}{9_100_100 + i}/", parent_id=parent.id,
                status=status, version=version, code=code or f"S{i:03d}", name=f"School {i}")


@pytest.fixture
def table(lec_env):
    schema = f"units_test_{uuid.uuid4().hex[:8]}"
    url = settings.database_url("confirmation")
    admin = make_engine(url, pool_size=1)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(url, pool_size=2, connect_args={"options": f"-csearch_path={schema}"})
    metadata = MetaData()
    units = add_unit_table(metadata)
    sync = add_unit_sync_table(metadata)
    metadata.create_all(engine)
    try:
        yield UnitTable(units, sync), engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


class Pages:
    """The registry's ``units_page``, over a list of records; counts the pages asked."""

    def __init__(self, units):
        self.records = sorted((u.as_dict() for u in units), key=lambda r: r["id"])
        self.asked = []

    def __call__(self, after, size):
        self.asked.append(after)
        return [r for r in self.records if r["id"] > after][:size]


def test_children_come_only_once_a_full_read_completed(table):
    copy, engine = table
    kids = [school(i) for i in range(5)] + [school(9, type="other_school", status="closed")]
    with engine.begin() as conn:
        copy.save(conn, kids[:2])
        assert copy.children(conn, LAO.id, ["school", "cdc"]) is None  # not complete: ask the registry
        assert not copy.complete(conn)
    pages = Pages([LAO] + kids)
    assert copy.fill(engine, pages, size=2) == 7
    assert pages.asked == [0, 9_100_100, 9_100_102, 9_100_104]  # page after page, by id
    with engine.connect() as conn:
        assert copy.complete(conn)
        assert [c.id for c in copy.children(conn, LAO.id, ["school", "cdc"])] == [k.id for k in kids[:5]]
        assert [c.status for c in copy.children(conn, LAO.id, ["other_school"])] == ["closed"]
        assert copy.children(conn, kids[0].id, ["school"]) == []  # complete, and none: not None


def test_an_older_version_never_replaces_a_newer_and_a_duplicate_keeps_the_newest(table):
    copy, engine = table
    first, verified = school(1, status="pending"), school(1, status="active", version=2)
    with engine.begin() as conn:
        copy.save(conn, [verified, first])  # the same unit twice in one call
        assert copy.stored(conn, [first.id])[first.id].status == "active"
        copy.save(conn, [first])  # a late event
        assert copy.stored(conn, [first.id])[first.id] == verified
        copy.save(conn, [school(1, status="closed", version=3)])
        assert copy.stored(conn, [first.id])[first.id].status == "closed"


def test_a_fill_keeps_what_an_event_brought_that_is_newer_than_its_read(table):
    copy, engine = table
    read_early = school(1, status="pending")
    with engine.begin() as conn:  # the event of the verification came while the read was on its way
        copy.save(conn, [school(1, status="active", version=2)])
    copy.fill(engine, Pages([read_early]))
    with engine.connect() as conn:
        assert [c.status for c in copy.children(conn, LAO.id, ["school"])] == ["active"]


def test_the_ports_read_the_table_once_complete_and_the_registry_before(table, monkeypatch):
    copy, engine = table
    monkeypatch.setattr(ports, "UNITS", copy)

    class Registry:
        asked = 0

        def list_children(self, unit_id, unpaged=False):
            Registry.asked += 1
            return {"items": [school(1).as_dict(), school(2, type="other_school").as_dict()]}

        def units_page(self, after, size):
            return Pages([school(1), school(3, type="cdc"), school(4, type="other_school")])(after, size)

    p = ports.Ports(Registry(), None, None)
    with engine.connect() as conn:
        children, others = p.children_and_other_schools(LAO, conn)
    assert Registry.asked == 1 and [c.id for c in children] == [school(1).id]
    assert [o["id"] for o in others] == [school(2).id]
    monkeypatch.setattr(ports, "_filled", set())
    assert ports.fill_units(engine, Registry()) == 3
    assert ports.fill_units(engine, Registry()) == 0  # once
    with engine.connect() as conn:
        children, others = p.children_and_other_schools(LAO, conn)
        assert p.children(school(1), conn) == []  # an institution waits for no one
    assert Registry.asked == 1  # the table answered
    assert [c.id for c in children] == [school(1).id, school(3).id]
    assert [o["id"] for o in others] == [school(4).id]
    assert others[0] == school(4, type="other_school").as_dict()  # the record the seal is sent
