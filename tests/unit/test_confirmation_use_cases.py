"""The confirmation use cases up to their first statement, against fake ports:
who may confirm or revoke, and when, is refused before anything is written;
and the ports themselves (units through the directory, children, round refs)."""
import pytest

from services.common.context import Actor
from services.common.errors import LecError
from services.common.rounds_calendar import RoundCalendar
from services.common.values import Unit, Window
from services.confirmation import handlers, ports, requests

LAO = Unit(id=42, type="lao", path="/1/7/42/", parent_id=7)
SCHOOL = Unit(id=43, type="school", path="/1/7/42/43/", parent_id=42)
PENDING_SCHOOL = Unit(id=44, type="school", path="/1/7/42/44/", parent_id=42, status="pending")
OTHER = Unit(id=45, type="other_school", path="/1/7/42/45/", parent_id=42)
DEPARTMENT = Unit(id=1, type="department", path="/1/")


class NoSql:
    """A unit of work that no statement may reach."""

    def __init__(self, actor):
        self.actor = actor

    def execute(self, *args, **kwargs):
        raise AssertionError("no statement expected before the refusal")

    commit = rollback = execute


class FakePorts:
    def __init__(self, units=(), window="open"):
        self.known = {u.id: u for u in units}
        self.window_state = window
        self.asked = []

    def unit(self, unit_id, fresh=False):
        self.asked.append((unit_id, fresh))
        return self.known.get(unit_id)

    def units(self, ids, fresh=False):
        return {i: self.known[i] for i in ids if i in self.known}

    def window(self, round_id, unit):
        return Window(round_id=round_id, unit_path=unit.path, level=unit.level, state=self.window_state)

    def window_at(self, round_id, unit_path):
        return Window(round_id=round_id, unit_path=unit_path, level="institution", state=self.window_state)

    def round_ref(self, round_id):
        return {"id": round_id, "academic_year": 2566, "number": 2}


def user(unit):
    role = {"school": "institution", "cdc": "institution"}.get(unit.type, unit.type)
    return Actor(user_id=unit.id * 10, username=f"u{unit.id}", role=role, org_unit_id=unit.id, path=unit.path)


def refused(fn, *args):
    with pytest.raises(LecError) as info:
        fn(*args)
    return info.value.code


def test_confirm_is_refused_before_anything_is_written():
    fake = FakePorts([LAO, SCHOOL, PENDING_SCHOOL, OTHER])
    assert refused(handlers.confirm, NoSql(user(LAO)), fake, 5, SCHOOL.id) == "forbidden"
    assert refused(handlers.confirm, NoSql(None), fake, 5, SCHOOL.id) == "unauthorized"
    assert refused(handlers.confirm, NoSql(user(OTHER)), fake, 5, OTHER.id) == "forbidden"
    assert refused(handlers.confirm, NoSql(user(SCHOOL)), fake, 5, 99) == "not_found"
    # a pending unit is re-read before it is refused for its status
    assert refused(handlers.confirm, NoSql(user(PENDING_SCHOOL)), fake, 5, PENDING_SCHOOL.id) == "conflict"
    assert (PENDING_SCHOOL.id, True) in fake.asked
    closed = FakePorts([SCHOOL], window="closed")
    assert refused(handlers.confirm, NoSql(user(SCHOOL)), closed, 5, SCHOOL.id) == "round_not_open"


def test_a_confirmation_is_revoked_from_above_only():
    fake = FakePorts([LAO, SCHOOL])
    assert refused(handlers.revoke, NoSql(user(SCHOOL)), fake, 5, SCHOOL.id, "fix") == "forbidden"
    assert refused(handlers.revoke, NoSql(user(LAO)), fake, 5, LAO.id, "fix") == "forbidden"


def test_a_request_needs_a_unit_above_and_a_round_not_finalised():
    fake = FakePorts([DEPARTMENT, SCHOOL])
    admin = Actor.system()
    assert refused(requests.create, NoSql(admin), fake, 5, {"unit_id": 1, "reason": "fix it"}) == "not_confirmed"
    finalised = FakePorts([SCHOOL], window="finalized")
    assert refused(requests.create, NoSql(admin), finalised, 5, {"unit_id": 43, "reason": "fix it"}) == "conflict"


class FakeRegistry:
    def __init__(self, units):
        self.records = {u.id: u.as_dict() for u in units}
        self.fetched = []

    def get_units(self, ids):
        self.fetched.append(list(ids))
        return [self.records[i] for i in ids if i in self.records]

    def list_children(self, unit_id, unpaged=False):
        return {"items": [r for r in self.records.values() if r["parent_id"] == unit_id]}


class FakeRounds:
    def __init__(self):
        self.asked = 0

    def calendar(self, round_id):
        self.asked += 1
        return {"round": {"id": round_id, "academic_year": 2566, "number": 1, "census_date": "2023-11-10"},
                "extensions": []}


def test_ports_read_units_through_the_directory_and_keep_it_fresh(monkeypatch):
    monkeypatch.setattr(ports, "_directory", None)
    registry = FakeRegistry([LAO, SCHOOL, OTHER])
    p = ports.Ports(registry, FakeRounds(), None)
    assert p.unit(SCHOOL.id) == SCHOOL
    assert p.units([SCHOOL.id, LAO.id]) == {SCHOOL.id: SCHOOL, LAO.id: LAO}
    assert registry.fetched == [[43], [42]]  # the school came from the directory
    ports.unit_changed({"unit": dict(SCHOOL.as_dict(), status="closed", version=2)})
    assert p.unit(SCHOOL.id).status == "closed" and registry.fetched == [[43], [42]]
    # an LAO waits for its schools and CDCs, never for an other-affiliation school
    assert [c.id for c in p.children(LAO)] == [43]
    assert p.children(SCHOOL) == []


def test_a_round_ref_comes_from_the_calendar_asked_once():
    rounds = FakeRounds()
    calendar = RoundCalendar(ttl=60)
    p = ports.Ports(FakeRegistry([]), rounds, None, calendar=calendar)
    assert p.round_ref(5) == {"id": 5, "academic_year": 2566, "number": 1}
    # another worker (its own Ports) of the same process: nothing asked
    assert ports.Ports(FakeRegistry([]), rounds, None, calendar=calendar).round_ref(5)["number"] == 1
    assert rounds.asked == 1


class FakeEnrollment:
    def __init__(self):
        self.sealed = []

    def seal(self, round_id, unit_id, **records):
        self.sealed.append((round_id, unit_id, records))
        return {"counts": {}}


def test_an_lao_s_children_and_other_schools_come_in_one_call_and_go_with_its_seal(monkeypatch):
    monkeypatch.setattr(ports, "_directory", None)
    closed = Unit(id=46, type="other_school", path="/1/7/42/46/", parent_id=42, status="closed")
    pending = Unit(id=47, type="other_school", path="/1/7/42/47/", parent_id=42, status="pending")
    registry, enrollment = FakeRegistry([LAO, SCHOOL, OTHER, closed, pending]), FakeEnrollment()
    p = ports.Ports(registry, FakeRounds(), enrollment)
    children, others = p.children_and_other_schools(LAO)
    assert [c.id for c in children] == [43]
    assert [o["id"] for o in others] == [45, 46]  # active or closed, as the seal counts them
    assert p.children_and_other_schools(SCHOOL) == ([], [])
    p.seal(9, LAO, others)
    p.seal(9, SCHOOL, [])  # a school has no other-affiliation schools to send
    p.seal(9, SCHOOL.id)  # by id (the cross-check of seals): enrollment reads the unit itself
    assert enrollment.sealed == [(9, 42, {"unit": LAO.as_dict(), "other_schools": others}),
                                 (9, 43, {"unit": SCHOOL.as_dict()}), (9, 43, {})]


def test_the_unit_the_caller_read_stands_only_for_that_unit_and_the_actor_s_subtree():
    record = SCHOOL.as_dict()
    assert handlers._given_unit(user(SCHOOL), SCHOOL.id, record) == SCHOOL
    assert handlers._given_unit(user(SCHOOL), LAO.id, record) is None  # another unit's record
    assert handlers._given_unit(user(SCHOOL), SCHOOL.id, {"id": 43}) is None  # not a unit's record
    assert handlers._given_unit(user(SCHOOL), SCHOOL.id, None) is None
    with pytest.raises(LecError) as info:  # outside the actor's subtree: it does not exist
        handlers._given_unit(user(PENDING_SCHOOL), SCHOOL.id, record)
    assert info.value.code == "not_found"


def test_confirm_takes_the_unit_given_and_asks_the_directory_only_without_it():
    asked = FakePorts([SCHOOL], window="closed")
    assert refused(handlers.confirm, NoSql(user(SCHOOL)), asked, 5, SCHOOL.id, None, None,
                   SCHOOL.as_dict()) == "round_not_open"
    assert asked.asked == []
    assert refused(handlers.confirm, NoSql(user(SCHOOL)), asked, 5, SCHOOL.id) == "round_not_open"
    assert asked.asked == [(SCHOOL.id, False)]
