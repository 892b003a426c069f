"""Enrollment's copy of the registry's units: kept by unit_changed events
(idempotent, newest version wins), refreshed from the registry when stale."""
import uuid

from nameko.testing.services import worker_factory
from sqlalchemy import select

from services.common.context import Actor
from services.common.db import COMMON
from services.enrollment import handlers, sealing
from services.common.values import Unit
from services.enrollment.models import headcounts, units
from services.enrollment.service import EnrollmentService
from tests.services import enrollment_fixtures as fx


def event(change, unit):
    return {"event_id": str(uuid.uuid4()), "type": "unit_changed", "version": 1,
            "occurred_at": "2026-06-01T00:00:00+07:00", "change": change, "unit": unit}


def stored(db, unit_id):
    with db.session() as s:
        return s.execute(select(units).where(units.c.id == unit_id)).first()


def test_unit_changed_events_keep_the_copy_newest_first(db_for):
    db = db_for("enrollment")
    service = worker_factory(EnrollmentService, db=db)
    school = fx.unit("school", status="pending")
    created = event("created", school)
    service.on_unit_changed(created)
    assert stored(db, school["id"]).status == "pending"
    verified = event("verified", dict(school, status="active", version=2))
    service.on_unit_changed(verified)
    assert stored(db, school["id"]).status == "active"
    # late or repeated deliveries change nothing
    service.on_unit_changed(created)
    service.on_unit_changed(event("created", school))
    row = stored(db, school["id"])
    assert (row.status, row.version) == ("active", 2)
    with db.session() as s:
        inbox = s.execute(select(COMMON.inbox.c.event_id).where(
            COMMON.inbox.c.event_id.in_([created["event_id"], verified["event_id"]]))).all()
    assert len(inbox) == 2


def test_a_closed_other_school_counts_zero_unless_already_sealed(db_for):
    db = db_for("enrollment")
    service = worker_factory(EnrollmentService, db=db)
    lao = fx.lao()
    school = fx.unit("other_school", parent=lao, affiliation="bpp")
    # census dates after the closure's effective date (closed_on): those rounds count 0
    open_round, sealed_round = fx.round_(census="2026-11-10"), fx.round_(census="2026-11-10")
    held = {r["id"]: r for r in (open_round, sealed_round)}
    service.rounds.calendar.side_effect = lambda round_id: {"round": held[round_id], "extensions": []}
    lao_db = db_for("enrollment", fx.actor_of(lao, role="lao"))
    for r in (open_round, sealed_round):
        with lao_db.uow() as uow:
            handlers.set_headcount(uow, fx.ports(lao, school, r), r["id"], school["id"], {"counts": {"p4": 17}})
    with db_for("enrollment", Actor.system("confirmation")).uow() as uow:
        sealing.seal_data(uow, sealed_round["id"], Unit.from_record(lao), [Unit.from_record(school)])
    service.on_unit_changed(event("closed", dict(school, status="closed", closed_on="2026-07-01",
                                                 version=2)))
    with db.session() as s:
        rows = {r.round_id: r for r in s.execute(select(headcounts).where(
            headcounts.c.school_id == school["id"]))}
        published = s.execute(select(COMMON.outbox.c.payload).where(
            COMMON.outbox.c.event_type == "headcount_set").order_by(COMMON.outbox.c.id)).scalars().all()
    assert (rows[open_round["id"]].closed, rows[open_round["id"]].total) == (True, 0)
    assert (rows[sealed_round["id"]].closed, rows[sealed_round["id"]].total) == (False, 17)
    mine = [(p["round_id"], p["counts"]["total"], p["school"]["closed"])
            for p in published if p["school"]["id"] == school["id"]]
    assert mine == [(open_round["id"], 17, False), (sealed_round["id"], 17, False),
                    (open_round["id"], 0, True)]


def test_the_copy_is_read_first_and_refreshed_when_a_unit_would_be_refused(db_for):
    db = db_for("enrollment")
    school = fx.unit("school", status="pending")
    ports = fx.ports(school, db=db)
    registry = ports.registry
    assert ports.unit(school["id"]).status == "pending"
    assert fx.ports(school, db=db).unit(school["id"]).status == "pending"  # another worker
    assert registry.calls == [[school["id"]]]  # the second read came from the table
    registry.records[school["id"]] = dict(school, status="active", version=2)
    assert ports.active_unit(school["id"]).status == "active"
    assert stored(db, school["id"]).status == "active"
    assert ports.units([987_654_321_000]) == {}
