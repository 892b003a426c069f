"""The confirmation use cases up to their first statement, against fake ports:
who may confirm or revoke, and when, is refused before anything is written;
and the ports themselves (units through the directory, children, round refs)."""
import pytest

from services.common.context import Actor
from services.common.errors import LecError
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

    def get_round(self, round_id):
        self.asked += 1
        return {"id": round_id, "academic_year": 2566, "number": 1, "census_date": "2023-11-10"}


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


def test_a_round_ref_is_asked_once(monkeypatch):
    monkeypatch.setattr(ports, "_round_refs", type(ports._round_refs)())
    rounds = FakeRounds()
    p = ports.Ports(FakeRegistry([]), rounds, None)
    assert p.round_ref(5) == {"id": 5, "academic_year": 2566, "number": 1}
    p.round_ref(5)
    assert rounds.asked == 1
