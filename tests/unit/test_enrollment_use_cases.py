"""Enrollment's use cases against the other services in memory (no database):
the rules decided before any row is read, through the one port object."""
import datetime as dt

import pytest

from services.common.errors import LecError
from services.common.values import Round, Unit, Window
from services.enrollment import handlers, imports, newyear
from tests.services import enrollment_fixtures as fx


class NoDatabase:
    """A unit of work whose every use of the database fails the test."""

    def __init__(self, actor):
        self.actor = actor

    def __getattr__(self, name):
        raise AssertionError(f"the use case reached the database ({name})")


def refused(call):
    with pytest.raises(LecError) as caught:
        call()
    return caught.value.code


def test_the_ports_answer_typed_values():
    school, round_ = fx.unit("school"), fx.round_()
    ports = fx.ports(school, round_)
    unit = ports.unit(school["id"])
    assert isinstance(unit, Unit) and unit.ref() == {"id": school["id"], "type": "school", "path": school["path"]}
    found, window = ports.round_and_window(round_["id"], unit.path)
    assert isinstance(found, Round) and found.census_date == dt.date(2026, 6, 10)
    assert isinstance(window, Window) and window.open and window.unit_path == unit.path
    assert refused(lambda: ports.unit(987_654_321)) == "not_found"
    assert refused(lambda: ports.round(987_654_321)) == "not_found"


def test_learners_are_recorded_by_the_institutions_own_users():
    school, other, round_ = fx.unit("school"), fx.unit("school"), fx.round_()
    ports = fx.ports(school, other, round_)
    stranger = NoDatabase(fx.actor_of(other))
    assert refused(lambda: handlers.add_learner(stranger, ports, round_["id"], school["id"], fx.learner())) \
        == "not_found"  # not in the caller's subtree
    lao = NoDatabase(fx.actor_of({"id": school["parent_id"], "path": school["path"].rsplit("/", 2)[0] + "/"},
                                 role="lao"))
    assert refused(lambda: handlers.add_learner(lao, ports, round_["id"], school["id"], fx.learner())) \
        == "forbidden"  # the LAO reads it, but does not record its learners


def test_nothing_is_recorded_while_the_round_is_closed_for_the_institution():
    school, round_ = fx.unit("school"), fx.round_()
    ports = fx.ports(school, round_, open=False)
    own = NoDatabase(fx.actor_of(school))
    assert refused(lambda: handlers.add_learner(own, ports, round_["id"], school["id"], fx.learner())) \
        == "round_not_open"


def test_an_institution_not_active_is_read_again_before_it_is_refused():
    school, round_ = fx.unit("school", status="pending"), fx.round_()
    ports = fx.ports(school, round_)
    assert ports.unit(school["id"]).status == "pending"
    ports.registry.records[school["id"]] = dict(school, status="active", version=2)
    assert ports.unit(school["id"]).status == "pending"  # the directory answers within its TTL
    assert ports.active_unit(school["id"]).status == "active"  # ... but re-reads before refusing
    assert ports.registry.calls == [[school["id"]], [school["id"]]]
    ports.registry.records[school["id"]] = dict(school, status="closed", version=3)
    own = NoDatabase(fx.actor_of(school))
    ports.directory.invalidate(school["id"])
    assert refused(lambda: handlers.add_learner(own, ports, round_["id"], school["id"], fx.learner())) \
        == "conflict"


def test_the_round_before_is_one_rule_for_carry_over_checks_and_the_new_year():
    rounds = {(y, n): fx.round_(number=n, year=y) for y in (2568, 2569) for n in (1, 2)}
    ports = fx.ports(*rounds.values())
    r = {k: Round.from_record(v) for k, v in rounds.items()}
    assert ports.previous_round(r[2569, 2]).id == r[2569, 1].id
    assert ports.previous_round(r[2569, 1]).id == r[2568, 2].id
    assert ports.previous_round(r[2568, 1]) is None
    source, earlier = newyear.source_rounds(ports, r[2569, 1])
    assert (source.id, earlier.id) == (r[2568, 2].id, r[2568, 1].id)
    assert ports.rounds.listed.count(2568) == 1  # a year's rounds are read once per call
    assert refused(lambda: newyear.source_rounds(ports, r[2569, 2])) == "validation_error"
    assert refused(lambda: newyear.source_rounds(ports, r[2568, 1])) == "not_found"


def test_carry_over_goes_from_round_1_to_round_2_only():
    school = fx.unit("school")
    first, second = fx.round_(number=1, year=2570), fx.round_(number=2, year=2570)
    own = NoDatabase(fx.actor_of(school))
    assert refused(lambda: imports.carry_over(own, fx.ports(school, first, second), first["id"],
                                              school["id"])) == "conflict"
    assert refused(lambda: imports.carry_over(own, fx.ports(school, second), second["id"],
                                              school["id"])) == "not_found"


def test_an_edit_asks_rounds_once_per_round_and_a_closed_window_is_read_again_before_refusing():
    school, round_ = fx.unit("school"), fx.round_()
    ports = fx.ports(school, round_)
    for _ in range(3):
        assert ports.round_and_window(round_["id"], school["path"])[1].open
    assert ports.rounds.calendars == 1
    closed = fx.ports(school, round_, open=False)
    assert not closed.round_and_window(round_["id"], school["path"])[1].open
    assert closed.rounds.calendars == 2  # the held copy said closed: read again before refusing
