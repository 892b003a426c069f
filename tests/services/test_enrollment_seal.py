"""The seal, in-process on the real enrollment database: counts, idempotence,
edits refused while sealed, and no edit landing after a seal took its count."""
import random
import time

import eventlet
import eventlet.event
import pytest
from sqlalchemy import func, select, text

from services.common.context import Actor
from services.common.db import COMMON
from services.common.errors import LecError
from services.common.values import Unit
from services.enrollment import handlers, sealing
from services.enrollment.models import learners, seals
from tests.services import enrollment_fixtures as fx

# the confirmation service's calls, as its timers make them
SYSTEM = Actor.system("confirmation")
U = Unit.from_record


def acting(uow, actor):
    """The unit of work, acting as ``actor``."""
    uow.actor = actor
    return uow


@pytest.fixture
def place():
    school = fx.unit("school")
    round_ = fx.round_()
    return school, round_, fx.window(round_)


def add(db_for, school, round_, window, **over):
    db = db_for("enrollment", fx.actor_of(school))
    with db.uow() as uow:
        return handlers.add_learner(uow, fx.ports(school, round_), round_["id"], school["id"], fx.learner(**over))


def outbox(db_for, event_type, **match):
    db = db_for("enrollment")
    with db.session() as s:
        rows = s.execute(select(COMMON.outbox.c.payload)
                         .where(COMMON.outbox.c.event_type == event_type)).scalars().all()
    return [p for p in rows if all(p.get(k) == v for k, v in match.items())]


def test_seal_counts_learners_and_is_idempotent(db_for, place):
    school, round_, window = place
    for grade in ("p1", "p1", "p2", "m3"):
        add(db_for, school, round_, window, grade=grade)
    db = db_for("enrollment", fx.actor_of(school))
    with db.uow() as uow:
        first = sealing.seal_data(uow, round_["id"], U(school))
    assert first["counts"] == {"total": 4, "by_grade": {"p1": 2, "p2": 1, "m3": 1}}
    assert first["unit"] == {"id": school["id"], "type": "school", "path": school["path"]}
    assert first["schools"] == [] and first["sealed_at"]
    with db.uow() as uow:
        again = sealing.seal_data(uow, round_["id"], U(school))
    assert again == first  # the counts sealed the first time, same instant
    sealed_events = outbox(db_for, "unit_sealed", round_id=round_["id"])
    assert len(sealed_events) == 1
    assert sealed_events[0]["counts"] == first["counts"]
    with db.session() as s:
        state = sealing.seal_state(s, round_["id"], [school["id"], 123])
    assert state[str(school["id"])] == {"sealed": True, "counts": first["counts"],
                                        "sealed_at": first["sealed_at"]}
    assert state["123"] == {"sealed": False, "counts": None, "sealed_at": None}


def test_sealed_unit_refuses_every_edit_until_unsealed(db_for, place):
    school, round_, window = place
    kept = add(db_for, school, round_, window)
    db = db_for("enrollment", fx.actor_of(school))
    with db.uow() as uow:
        sealing.seal_data(acting(uow, SYSTEM), round_["id"], U(school))
    attempts = [
        lambda uow: handlers.add_learner(uow, fx.ports(school, round_), round_["id"], school["id"], fx.learner()),
        lambda uow: handlers.update_learner(uow, fx.ports(school, round_), kept["id"], {"grade": "p2"}),
        lambda uow: handlers.remove_learner(uow, fx.ports(school, round_), kept["id"], {"reason": "moved_out"}),
    ]
    for attempt in attempts:
        with db.uow() as uow, pytest.raises(LecError) as err:
            attempt(uow)
        assert err.value.code == "unit_confirmed"
    with db.uow() as uow:
        assert sealing.unseal(acting(uow, SYSTEM), fx.ports(school), round_["id"], school["id"]) == {
            "round_id": round_["id"], "unit_id": school["id"], "sealed": False}
    with db.uow() as uow:  # idempotent
        sealing.unseal(acting(uow, SYSTEM), fx.ports(school), round_["id"], school["id"])
    assert len(outbox(db_for, "unit_unsealed", round_id=round_["id"])) == 1
    with db.uow() as uow:
        changed = handlers.update_learner(uow, fx.ports(school, round_), kept["id"], {"grade": "p2"})
    assert changed["grade"] == "p2" and changed["version"] == 2
    with db.uow() as uow:
        resealed = sealing.seal_data(acting(uow, SYSTEM), round_["id"], U(school))
    assert resealed["counts"] == {"total": 1, "by_grade": {"p2": 1}}


def test_seal_is_checked_against_the_callers_subtree(db_for, place):
    school, round_, _ = place
    stranger = fx.actor_of(fx.unit("school"))
    db = db_for("enrollment", stranger)
    with db.uow() as uow, pytest.raises(LecError) as err:
        sealing.seal_data(uow, round_["id"], U(school))
    assert err.value.code == "not_found"
    province = dict(school, type="province")
    with db.uow() as uow, pytest.raises(LecError) as err:
        sealing.seal_data(acting(uow, SYSTEM), round_["id"], U(province))
    assert err.value.code == "validation_error"


def test_lao_seal_locks_headcounts_and_sums_its_other_schools(db_for):
    lao = fx.lao()
    open_school = fx.unit("other_school", parent=lao, affiliation="obec")
    closed_school = fx.unit("other_school", parent=lao, affiliation="bpp")
    empty_school = fx.unit("other_school", parent=lao, affiliation="obec")
    round_ = fx.round_()
    db = db_for("enrollment", fx.actor_of(lao, role="lao"))
    with db.uow() as uow:
        handlers.set_headcount(uow, fx.ports(lao, open_school, round_), round_["id"], open_school["id"],
                               {"counts": {"p1": 30, "p2": 25}})
    with db.uow() as uow:
        handlers.set_headcount(uow, fx.ports(lao, closed_school, round_), round_["id"], closed_school["id"],
                               {"counts": {"p1": 12}})
    closed_school = dict(closed_school, status="closed", closed_on="2026-05-01")
    with db.uow() as uow:
        assert handlers.school_closed(uow, fx.ports(round_), U(closed_school)) == 1
        uow.commit()
    with db.session() as s:
        live = sealing.live_counts(s, round_["id"], {u["id"]: U(u) for u in (lao, open_school, closed_school)})
    assert live[lao["id"]] == {"total": 55, "by_grade": {"p1": 30, "p2": 25}}
    assert live[closed_school["id"]] == {"total": 0, "by_grade": {}}
    with db.uow() as uow:
        sealed = sealing.seal_data(uow, round_["id"], U(lao),
                                   [U(s) for s in (open_school, closed_school, empty_school)])
    assert sealed["counts"] == {"total": 55, "by_grade": {"p1": 30, "p2": 25}}
    by_id = {s["id"]: s for s in sealed["schools"]}
    assert by_id[open_school["id"]]["counts"]["total"] == 55 and not by_id[open_school["id"]]["closed"]
    assert by_id[closed_school["id"]] == {"id": closed_school["id"], "code": closed_school["code"],
                                          "path": closed_school["path"], "closed": True,
                                          "counts": {"total": 0, "by_grade": {}}}
    assert by_id[empty_school["id"]]["counts"] == {"total": 0, "by_grade": {}}
    with db.uow() as uow, pytest.raises(LecError) as err:
        handlers.set_headcount(uow, fx.ports(lao, open_school, round_), round_["id"], open_school["id"],
                               {"counts": {"p1": 31}})
    assert err.value.code == "unit_confirmed"


def _active_count(db_for, round_id, unit_id):
    db = db_for("enrollment")
    with db.session() as s:
        return s.execute(select(func.count()).select_from(learners).where(
            learners.c.round_id == round_id, learners.c.institution_id == unit_id,
            learners.c.status == "active")).scalar_one()


def test_no_edit_lands_after_the_seal_took_its_count(db_for):
    """Adds and removals race a seal, six times. The first ten edits finish
    before the seal starts, the last ten start after it ended, the twenty in
    between race it. Each time the sealed count equals the active learners,
    every refused edit says unit_confirmed, and no learner row changed after
    the instant of the count."""
    for attempt in range(6):
        outcomes = _race_once(db_for, attempt)
        assert outcomes["added"] >= 8 and outcomes["refused"] >= 10, outcomes


def _race_once(db_for, attempt):
    school = fx.unit("school")
    round_ = fx.round_()
    window = fx.window(round_)
    rng = random.Random(attempt)
    existing = [add(db_for, school, round_, window, rng=rng) for _ in range(8)]
    outcomes = {"added": 0, "removed": 0, "refused": 0}
    early_done, seal_started, seal_done = eventlet.event.Event(), eventlet.event.Event(), \
        eventlet.event.Event()
    finished_early = []

    def edit(i):
        if 10 <= i < 30:
            seal_started.wait()
            eventlet.sleep((i - 10) * 0.012)
        elif i >= 30:
            seal_done.wait()
        db = db_for("enrollment", fx.actor_of(school))
        try:
            with db.uow() as uow:
                if i % 4 == 3 and existing:
                    handlers.remove_learner(uow, fx.ports(school, round_), existing.pop()["id"],
                                            {"reason": "not_found"})
                    outcomes["removed"] += 1
                else:
                    handlers.add_learner(uow, fx.ports(school, round_), round_["id"], school["id"],
                                         fx.learner(rng=rng, grade=rng.choice(["p1", "p4", "m2"])))
                    outcomes["added"] += 1
        except LecError as exc:
            assert exc.code == "unit_confirmed", exc
            outcomes["refused"] += 1
        finally:
            if i < 10:
                finished_early.append(i)
                if len(finished_early) == 10:
                    early_done.send()

    def do_seal():
        early_done.wait()
        seal_started.send()
        eventlet.sleep(0.06 + rng.random() * 0.08)
        db = db_for("enrollment")
        with db.uow() as uow:
            sealed = sealing.seal_data(acting(uow, SYSTEM), round_["id"], U(school))
        seal_done.send()
        return sealed

    pool = eventlet.GreenPool(50)
    sealer = pool.spawn(do_seal)
    for i in range(40):
        pool.spawn(edit, i)
    pool.waitall()
    sealed = sealer.wait()
    assert sum(outcomes.values()) == 40
    active = _active_count(db_for, round_["id"], school["id"])
    assert sealed["counts"]["total"] == active == 8 + outcomes["added"] - outcomes["removed"]
    db = db_for("enrollment")
    with db.session() as s:
        late = s.execute(select(func.count()).select_from(learners).where(
            learners.c.round_id == round_["id"], learners.c.institution_id == school["id"],
            learners.c.updated_at > select(seals.c.sealed_at).where(
                seals.c.round_id == round_["id"], seals.c.unit_id == school["id"]).scalar_subquery()
        )).scalar_one()
    assert late == 0
    return outcomes


def test_a_seal_waits_for_changes_in_flight_only_so_long(db_for, place, monkeypatch):
    """A change holding the lock (an import batch) delays a seal; past
    LEC_SEAL_LOCK_TIMEOUT the seal gives up with conflict and seals nothing."""
    school, round_, window = place
    monkeypatch.setenv("LEC_SEAL_LOCK_TIMEOUT", "0.3")
    editor = db_for("enrollment", fx.actor_of(school))
    with editor.uow() as busy:
        sealing.lock_for_edit(busy, round_["id"], U(school))  # an edit in flight, not committed
        db = db_for("enrollment")
        with db.uow() as uow, pytest.raises(LecError) as err:
            sealing.seal_data(acting(uow, SYSTEM), round_["id"], U(school))
        assert err.value.code == "conflict"
    with db.session() as s:
        assert sealing.seal_state(s, round_["id"], [school["id"]])[str(school["id"])]["sealed"] is False
    with db.uow() as uow:  # once the change is over, the seal goes through
        assert sealing.seal_data(acting(uow, SYSTEM), round_["id"], U(school))["counts"]["total"] == 0


def test_a_seal_row_already_there_is_waited_for_only_so_long_too(db_for, place, monkeypatch):
    """The seal row exists (a change committed before): the statement that locks it sets the
    timeout itself, and an edit in flight holding it makes the seal give up in time."""
    school, round_, window = place
    monkeypatch.setenv("LEC_SEAL_LOCK_TIMEOUT", "0.3")
    editor = db_for("enrollment", fx.actor_of(school))
    with editor.uow() as first:
        sealing.lock_for_edit(first, round_["id"], U(school))
        first.commit()
    db = db_for("enrollment")
    with editor.uow() as busy:
        sealing.lock_for_edit(busy, round_["id"], U(school))  # the row held shared, not committed
        started = time.monotonic()
        with db.uow() as uow, pytest.raises(LecError) as err:
            # a guard: were the timeout not set before the row lock, the seal would wait on this
            # very thread's open edit for ever; it fails on the statement timeout instead
            uow.execute(text("SET LOCAL statement_timeout = '5s'"))
            sealing.seal_data(acting(uow, SYSTEM), round_["id"], U(school))
        assert err.value.code == "conflict" and time.monotonic() - started < 5
    with db.uow() as uow:
        assert sealing.seal_data(acting(uow, SYSTEM), round_["id"], U(school))["counts"]["total"] == 0
