"""The copy of the rounds calendar a service keeps (services.common.rounds_calendar):
events applied in version order, extensions per subtree and level, a miss or an
expired entry read in one call, and the window computed by the one rule."""
import datetime as dt

import pytest

from services.common.errors import not_found
from services.common.rounds_calendar import RoundCalendar, deadlines, window

TZ = dt.timezone(dt.timedelta(hours=7))
OPENS = dt.datetime(2026, 5, 1, tzinfo=TZ)
CLOSES = dt.datetime(2026, 6, 10, tzinfo=TZ)
HOUR = dt.timedelta(hours=1)
INSIDE, AFTER = CLOSES - HOUR, CLOSES + HOUR
SCHOOL, LAO = "/1/2/3/4/", "/1/2/3/"


def record(version=1, closes_at=CLOSES, finalized_at=None, round_id=7):
    return {"id": round_id, "academic_year": 2569, "number": 1, "census_date": "2026-06-10",
            "opens_at": OPENS.isoformat(), "closes_at": closes_at.isoformat(),
            "finalized_at": finalized_at and finalized_at.isoformat(), "version": version, "settings": {},
            "deadlines": {k: v and v.isoformat() for k, v in deadlines(closes_at).items()}}


def ext(unit_id, path, closes_at, level=None, created=1):
    return {"id": unit_id * 10 + created, "org_unit_id": unit_id, "org_unit_path": path, "level": level,
            "closes_at": closes_at.isoformat(), "created_at": (OPENS + created * HOUR).isoformat()}


class Rounds:
    """The rounds service's ``calendar`` over what it holds now; counts the calls."""

    def __init__(self, round_=None, extensions=()):
        self.round, self.extensions, self.calls = round_ or record(), list(extensions), 0

    def __call__(self, round_id):
        self.calls += 1
        if round_id != self.round["id"]:
            raise not_found("round")
        return {"round": self.round, "extensions": self.extensions}


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def open_for(cal, fetch, path=SCHOOL, now=INSIDE, level="institution"):
    return cal.round_and_window(7, path, fetch, level=level, now=now)[1]


def test_a_round_is_read_once_then_answered_from_memory_until_its_ttl():
    clock, rounds = Clock(), Rounds()
    cal = RoundCalendar(ttl=60, clock=clock)
    assert open_for(cal, rounds).open and rounds.calls == 1
    assert not open_for(cal, rounds, now=AFTER).open and rounds.calls == 1
    clock.now += 61
    open_for(cal, rounds)
    assert rounds.calls == 2
    open_for(cal, rounds)
    assert rounds.calls == 2
    with pytest.raises(Exception):
        cal.round_and_window(8, SCHOOL, rounds)  # a round the service does not have: its not_found


def test_round_changed_replaces_the_round_but_never_with_an_older_version():
    rounds = Rounds()
    cal = RoundCalendar(ttl=60, clock=Clock())
    open_for(cal, rounds)
    later = CLOSES + 2 * HOUR
    assert cal.on_round(record(version=3, closes_at=later))
    assert open_for(cal, rounds, now=AFTER).closes_at == later
    assert not cal.on_round(record(version=2, closes_at=CLOSES))  # late, older: ignored
    assert open_for(cal, rounds, now=AFTER).open and rounds.calls == 1
    assert cal.on_round(record(version=3, closes_at=later))  # the same version again: harmless


def test_events_of_a_round_not_held_wait_for_the_first_read_but_a_new_round_is_kept():
    rounds = Rounds()
    cal = RoundCalendar(ttl=60, clock=Clock())
    assert not cal.on_round(record(version=2))
    assert not cal.on_extension(7, ext(3, LAO, AFTER + HOUR))
    assert len(cal) == 0
    assert cal.on_round(record(version=1), whole=True)  # round_created: it has no extensions yet
    assert open_for(cal, rounds).open and rounds.calls == 0


def test_an_extension_opens_its_subtree_at_its_level_and_an_older_grant_never_wins():
    rounds = Rounds()
    cal = RoundCalendar(ttl=60, clock=Clock())
    assert not open_for(cal, rounds, now=AFTER).open
    assert cal.on_extension(7, ext(3, LAO, AFTER + HOUR, level="institution", created=2))
    w = open_for(cal, rounds, now=AFTER)
    assert w.open and w.extended and w.closes_at == AFTER + HOUR
    assert not open_for(cal, rounds, path="/1/2/9/5/", now=AFTER).open  # outside the subtree
    lao = open_for(cal, rounds, path=LAO, now=AFTER, level="lao")  # another level: not extended
    assert not lao.open and not lao.extended
    # a grant of the same unit and level made before (a late event) does not replace it
    assert not cal.on_extension(7, ext(3, LAO, AFTER + 5 * HOUR, level="institution", created=1))
    assert open_for(cal, rounds, now=AFTER).closes_at == AFTER + HOUR
    # a later grant (shortened) does
    assert cal.on_extension(7, ext(3, LAO, AFTER + HOUR / 2, level="institution", created=3))
    assert open_for(cal, rounds, now=AFTER).closes_at == AFTER + HOUR / 2
    # an extension of every level, beside it
    assert cal.on_extension(7, ext(3, LAO, AFTER + 4 * HOUR, level=None, created=4))
    assert open_for(cal, rounds, path=LAO, now=AFTER, level="lao").closes_at == AFTER + 4 * HOUR
    assert rounds.calls == 1


def test_a_read_again_keeps_what_events_brought_meanwhile_and_fresh_reads_at_once():
    rounds = Rounds(extensions=[ext(3, LAO, AFTER + HOUR, created=1)])
    cal = RoundCalendar(ttl=60, clock=Clock())
    assert open_for(cal, rounds, now=AFTER).open
    cal.on_round(record(version=5, closes_at=CLOSES + 3 * HOUR))  # newer than the service's answer below
    cal.on_extension(7, ext(3, LAO, AFTER + 2 * HOUR, created=2))
    found, _ = cal.get(7, rounds, fresh=True)
    assert rounds.calls == 2 and found.version == 5
    assert open_for(cal, rounds, now=AFTER + HOUR + HOUR / 2).open


def test_finalisation_closes_every_window_and_sticks():
    rounds = Rounds()
    cal = RoundCalendar(ttl=60, clock=Clock())
    open_for(cal, rounds)
    assert cal.on_finalized(7, INSIDE.isoformat())
    assert open_for(cal, rounds).state == "finalized"
    cal.on_round(record(version=9))  # a round_opened / round_closed carries no finalisation
    assert open_for(cal, rounds).state == "finalized"
    assert open_for(cal, rounds, level="department").state == "finalized"


def test_the_window_rule_per_level_and_the_department():
    d = deadlines(CLOSES)
    exts = [(LAO, AFTER + HOUR, None)]
    w = window(OPENS, None, d, exts, SCHOOL, "institution", AFTER)
    assert w["open"] and w["extended"] and w["closes_at"] == AFTER + HOUR
    assert window(OPENS, None, d, [], SCHOOL, "institution", AFTER)["state"] == "closed"
    assert window(OPENS, None, d, [], SCHOOL, "institution", OPENS - HOUR)["state"] == "scheduled"
    assert window(OPENS, None, d, [], "/1/2/", "province", AFTER)["open"]  # a day after the LAOs
    dept = window(OPENS, None, d, [], "/1/", "department", CLOSES + 30 * 24 * HOUR)
    assert dept["open"] and dept["closes_at"] == d["province"]
    assert window(OPENS, AFTER, d, exts, SCHOOL, "institution", AFTER)["state"] == "finalized"
