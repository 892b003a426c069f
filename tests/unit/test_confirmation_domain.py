"""The confirmation rules, pure: who, when, what blocks, counts, orphaned sagas."""
import datetime as dt
import os
from dataclasses import replace

import pytest

from services.common.context import Actor
from services.common.errors import LecError
from services.common.values import Unit, Window
from services.confirmation import domain
from services.confirmation.domain import CONFIRMED, OPEN, SEALING, UNSEALING, Instance


def actor(unit_id, path, role="lao"):
    return Actor(user_id=9, username="u", role=role, org_unit_id=unit_id, path=path)


def code_of(fn, *args, **kwargs):
    with pytest.raises(LecError) as info:
        fn(*args, **kwargs)
    return info.value


LAO = Unit(id=42, type="lao", status="active", path="/1/7/42/")
SCHOOL = Unit(id=43, type="school", status="active", path="/1/7/42/43/")


def may_confirm(who, unit):
    domain.only_the_unit_itself_confirms(who, unit)
    domain.an_other_affiliation_school_confirms_with_its_lao(unit)
    domain.only_an_active_unit_confirms(unit)


def test_a_unit_is_confirmed_by_its_own_users_only():
    may_confirm(actor(42, "/1/7/42/"), LAO)
    assert code_of(may_confirm, actor(7, "/1/7/", "province"), LAO).code == "forbidden"
    assert code_of(may_confirm, actor(43, "/1/7/42/43/", "institution"), LAO).code == "forbidden"
    assert code_of(may_confirm, Actor.system(), LAO).code == "forbidden"
    assert code_of(may_confirm, None, LAO).code == "forbidden"
    pending = replace(SCHOOL, status="pending")
    assert code_of(may_confirm, actor(43, SCHOOL.path, "institution"), pending).code == "conflict"
    other = Unit(id=44, type="other_school", status="active", path="/1/7/42/44/")
    assert code_of(may_confirm, actor(44, other.path), other).code == "forbidden"


def test_revocation_comes_from_above_only():
    domain.revocation_only_from_above(actor(42, "/1/7/42/"), SCHOOL)
    domain.revocation_only_from_above(actor(7, "/1/7/", "province"), SCHOOL)
    domain.revocation_only_from_above(actor(1, "/1/", "department"), LAO)
    # an institution never revokes itself, an LAO never its own confirmation
    assert code_of(domain.revocation_only_from_above, actor(43, SCHOOL.path, "institution"),
                   SCHOOL).code == "forbidden"
    assert code_of(domain.revocation_only_from_above, actor(42, LAO.path), LAO).code == "forbidden"
    # a sibling is not above
    assert code_of(domain.revocation_only_from_above, actor(50, "/1/7/50/"), SCHOOL).code == "forbidden"


@pytest.mark.parametrize("unit_type,state,ok", [
    ("school", "open", True), ("school", "closed", False), ("school", "scheduled", False),
    ("cdc", "finalized", False), ("lao", "open", True), ("lao", "closed", False),
    ("province", "open", True), ("province", "closed", False), ("province", "scheduled", False),
    ("province", "finalized", False), ("department", "closed", True), ("department", "finalized", False),
])
def test_windows(unit_type, state, ok):
    window = Window(round_id=1, unit_path="/1/", level="institution", state=state,
                    opens_at=dt.datetime(2023, 10, 16, tzinfo=dt.timezone.utc), extended=False)
    if ok:
        domain.each_level_confirms_inside_its_own_window(unit_type, window)
    else:
        err = code_of(domain.each_level_confirms_inside_its_own_window, unit_type, window)
        assert err.code == "round_not_open" and err.extra["window"] == {
            "state": state, "opens_at": "2023-10-16T00:00:00+00:00", "closes_at": None, "extended": False}


def test_a_finalised_round_reopens_nothing():
    window = Window(round_id=1, unit_path="/1/", level="institution", state="finalized")
    assert code_of(domain.a_finalised_round_reopens_nothing, window).code == "conflict"
    domain.a_finalised_round_reopens_nothing(replace(window, state="closed"))


def test_pending_and_closed_children_do_not_block():
    children = [Unit(id=1, type="school", path="/1/", status="active"),
                Unit(id=2, type="school", path="/2/", status="pending"),
                Unit(id=3, type="school", path="/3/", status="closed"),
                Unit(id=4, type="cdc", path="/4/", status="active")]
    assert [domain.pending_and_closed_units_do_not_block(c) for c in children] == [True, False, False, True]
    assert domain.a_unit_confirms_after_all_active_children(children, {}) == [1, 4]
    assert domain.a_unit_confirms_after_all_active_children(children, {1: CONFIRMED, 4: SEALING}) == [4]
    assert domain.a_unit_confirms_after_all_active_children(children, {1: CONFIRMED, 4: CONFIRMED}) == []


def test_a_request_about_the_department_cannot_be_made():
    department = Unit(id=1, type="department", path="/1/")
    assert code_of(domain.only_a_confirmation_with_a_unit_above_is_requested_back,
                   department).code == "not_confirmed"
    other = Unit(id=44, type="other_school", path="/1/7/42/44/")
    assert code_of(domain.only_a_confirmation_with_a_unit_above_is_requested_back, other).code == "not_confirmed"
    domain.only_a_confirmation_with_a_unit_above_is_requested_back(SCHOOL)


def test_an_approval_reopens_from_below_the_approver_down():
    assert domain.an_approval_reopens_the_chain_from_the_top(actor(7, "/1/7/", "province"), SCHOOL.path) == [42, 43]
    assert domain.an_approval_reopens_the_chain_from_the_top(actor(42, LAO.path), SCHOOL.path) == [43]
    assert domain.an_approval_reopens_the_chain_from_the_top(Actor.system(), SCHOOL.path) == [7, 42, 43]


def test_a_request_is_withdrawn_by_its_maker_or_its_unit():
    assert domain.a_request_is_withdrawn_by_its_maker_or_its_unit(actor(43, SCHOOL.path), 43, 43)
    assert domain.a_request_is_withdrawn_by_its_maker_or_its_unit(actor(42, LAO.path), 42, 43)
    assert not domain.a_request_is_withdrawn_by_its_maker_or_its_unit(actor(7, "/1/7/"), 42, 43)
    assert domain.a_request_is_withdrawn_by_its_maker_or_its_unit(Actor.system(), 42, 43)


def test_counts_add_up_by_grade():
    a = {"total": 3, "by_grade": {"p1": 2, "p2": 1, "p3": 0}}
    b = {"total": 4, "by_grade": {"p2": 4}}
    assert domain.add_counts([a, b]) == {"total": 7, "by_grade": {"p1": 2, "p2": 5}}
    assert domain.add_counts([]) == {"total": 0, "by_grade": {}}
    assert domain.normalise_counts(None) == {"total": 0, "by_grade": {}}
    assert domain.normalise_counts({"by_grade": {"cdc": "5"}}) == {"total": 5, "by_grade": {"cdc": 5}}


def test_public_state():
    assert [domain.public_state(s) for s in (OPEN, SEALING, CONFIRMED, UNSEALING)] == \
        ["open", "open", "confirmed", "open"]


def test_orphaned_sagas():
    me = Instance("host-a", 1000, "tok1")
    alive = {1000, 2000}.__contains__
    same = str(me)
    assert not domain.saga_orphaned(same, 1.0, 30, me, alive)
    assert domain.saga_orphaned(same, 31.0, 30, me, alive)  # outlived every RPC timeout
    assert not domain.saga_orphaned("host-a:2000:x", 1.0, 30, me, alive)  # a live sibling process
    assert domain.saga_orphaned("host-a:3000:x", 1.0, 30, me, alive)  # its process died
    assert domain.saga_orphaned("host-a:1000:old", 1.0, 30, me, alive)  # our pid, an earlier start
    assert not domain.saga_orphaned("host-b:3000:x", 1.0, 30, me, alive)  # another host: wait
    assert domain.saga_orphaned("host-b:3000:x", 99.0, 30, me, alive)
    assert domain.saga_orphaned("garbage", 1.0, 30, me, alive)
    assert Instance.parse("h:o:s:t:12:tok") == Instance("h:o:s:t", 12, "tok")


def test_pid_alive_sees_this_process_and_not_a_dead_one():
    assert domain.pid_alive(os.getpid())
    assert not domain.pid_alive(2 ** 22 + 12345)
