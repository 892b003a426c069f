"""The checks timer waits for a unit's data to be quiet before refreshing it."""
import datetime as dt

from sqlalchemy import delete, insert

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
