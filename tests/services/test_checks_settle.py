"""The checks timer waits for a unit's data to be quiet before refreshing it."""
import datetime as dt

from sqlalchemy import delete, insert, select

from services.enrollment import checks
from services.enrollment.models import check_dirty
from tests.services import enrollment_fixtures as fx


def queue(uow, round_id, unit_id, *ages):
    now = dt.datetime.now(dt.timezone.utc)
    uow.execute(insert(check_dirty), [{"round_id": round_id, "unit_id": unit_id,
                                       "at": now - dt.timedelta(seconds=age)} for age in ages])


def test_a_busy_unit_waits_until_quiet_or_until_it_has_waited_too_long(db_for):
    db = db_for("enrollment")
    round_id = fx.next_id()
    quiet, busy, starved = fx.next_id(), fx.next_id(), fx.next_id()
    with db.uow() as uow:
        queue(uow, round_id, quiet, 20, 10)       # last change 10 s ago
        queue(uow, round_id, busy, 20, 1)         # changed a second ago
        queue(uow, round_id, starved, 90, 1)      # changed a second ago, first change 90 s ago
        uow.commit()
    try:
        with db.uow() as uow:
            taken = checks.take(uow.session, round_id, 100, settle=3, max_wait=60)
            assert set(taken) == {quiet, starved}
            assert len(taken[quiet]) == 2 and len(taken[starved]) == 2
            uow.rollback()
        with db.uow() as uow:  # a unit's own request (no settle) takes everything queued
            assert set(checks.take(uow.session, round_id, 100)) == {quiet, busy, starved}
            uow.rollback()
    finally:
        with db.uow() as uow:
            uow.execute(delete(check_dirty).where(check_dirty.c.round_id == round_id))
            uow.commit()


def test_a_likely_duplicate_found_or_gone_queues_the_other_unit(db_for):
    """A refresh of one unit that finds a likely duplicate in another institution, or no
    longer finds it, queues that other unit (its own findings name the pair too)."""
    from services.common.values import Round, Unit
    from services.enrollment import handlers
    lao = fx.lao()
    a, b = fx.unit("school", parent=lao), fx.unit("school", parent=lao)
    round_ = fx.round_()
    rules = checks.RoundRules(Round.from_record(round_))
    twin = fx.learner()
    added = {}
    for school, number in ((a, twin["national_id"]), (b, fx.national_id())):
        with db_for("enrollment", fx.actor_of(school)).uow() as uow:
            added[school["id"]] = handlers.add_learner(uow, fx.ports(school, round_), round_["id"], school["id"],
                                                       dict(twin, national_id=number))["id"]
    db = db_for("enrollment")

    def refresh_b_and_queued():
        with db.uow() as uow:
            uow.execute(delete(check_dirty).where(check_dirty.c.round_id == round_["id"]))
            checks.refresh(uow.session, rules, {b["id"]: Unit.from_record(b)}, queue_ids=[])
            queued = set(uow.execute(select(check_dirty.c.unit_id).where(
                check_dirty.c.round_id == round_["id"])).scalars())
            uow.commit()
            return queued

    try:
        assert refresh_b_and_queued() == {a["id"]}  # found: a is told
        assert refresh_b_and_queued() == set()  # nothing changed: nobody queued
        with db_for("enrollment", fx.actor_of(b)).uow() as uow:
            handlers.remove_learner(uow, fx.ports(b, round_), added[b["id"]], {"reason": "duplicate"})
        assert refresh_b_and_queued() == {a["id"]}  # gone: a is told again
    finally:
        with db.uow() as uow:
            uow.execute(delete(check_dirty).where(check_dirty.c.round_id == round_["id"]))
            uow.commit()
