"""The confirmation rules, pure: who, when, what blocks, counts, orphaned sagas."""
import os

import pytest

from services.common.context import Actor
from services.common.errors import LecError
from services.confirmation import domain
from services.confirmation.domain import CONFIRMED, OPEN, SEALING, UNSEALING, Instance


def actor(unit_id, path, role="lao"):
    return Actor(user_id=9, username="u", role=role, org_unit_id=unit_id, path=path)


def code_of(fn, *args, **kwargs):
    with pytest.raises(LecError) as info:
        fn(*args, **kwargs)
    return info.value


LAO = {"id": 42, "type": "lao", "status": "active", "path": "/1/7/42/"}
SCHOOL = {"id": 43, "type": "school", "status": "active", "path": "/1/7/42/43/"}


def test_a_unit_is_confirmed_by_its_own_users_only():
    domain.check_may_confirm(actor(42, "/1/7/42/"), LAO)
    assert code_of(domain.check_may_confirm, actor(7, "/1/7/", "province"), LAO).code == "forbidden"
    assert code_of(domain.check_may_confirm, actor(43, "/1/7/42/43/", "institution"), LAO).code == "forbidden"
    assert code_of(domain.check_may_confirm, Actor.system(), LAO).code == "forbidden"
    assert code_of(domain.check_may_confirm, None, LAO).code == "forbidden"
    pending = dict(SCHOOL, status="pending")
    assert code_of(domain.check_may_confirm, actor(43, SCHOOL["path"], "institution"), pending).code == "conflict"
    other = {"id": 44, "type": "other_school", "status": "active", "path": "/1/7/42/44/"}
    assert code_of(domain.check_may_confirm, actor(44, other["path"]), other).code == "forbidden"


def test_revocation_comes_from_above_only():
    domain.check_may_revoke(actor(42, "/1/7/42/"), SCHOOL)
    domain.check_may_revoke(actor(7, "/1/7/", "province"), SCHOOL)
    domain.check_may_revoke(actor(1, "/1/", "department"), LAO)
    # an institution never revokes itself, an LAO never its own confirmation
    assert code_of(domain.check_may_revoke, actor(43, SCHOOL["path"], "institution"), SCHOOL).code == "forbidden"
    assert code_of(domain.check_may_revoke, actor(42, LAO["path"]), LAO).code == "forbidden"
    # a sibling is not above
    assert code_of(domain.check_may_revoke, actor(50, "/1/7/50/"), SCHOOL).code == "forbidden"


@pytest.mark.parametrize("unit_type,state,ok", [
    ("school", "open", True), ("school", "closed", False), ("school", "scheduled", False),
    ("cdc", "finalized", False), ("lao", "open", True), ("lao", "closed", False),
    ("province", "open", True), ("province", "closed", False), ("province", "scheduled", False),
    ("province", "finalized", False), ("department", "closed", True), ("department", "finalized", False),
])
def test_windows(unit_type, state, ok):
    window = {"state": state, "opens_at": "x", "closes_at": "y", "extended": False}
    if ok:
        domain.check_window(unit_type, window)
    else:
        err = code_of(domain.check_window, unit_type, window)
        assert err.code == "round_not_open" and err.extra["window"]["state"] == state


def test_pending_and_closed_children_do_not_block():
    children = [{"id": 1, "status": "active"}, {"id": 2, "status": "pending"},
                {"id": 3, "status": "closed"}, {"id": 4, "status": "active"}]
    assert domain.pending_children(children, {}) == [1, 4]
    assert domain.pending_children(children, {1: CONFIRMED, 4: SEALING}) == [4]
    assert domain.pending_children(children, {1: CONFIRMED, 4: CONFIRMED}) == []


def test_confirm_refusals_in_order():
    assert code_of(domain.check_confirm, CONFIRMED, CONFIRMED, [1]).code == "already_confirmed"
    assert code_of(domain.check_confirm, OPEN, CONFIRMED, []).code == "parent_confirmed"
    assert code_of(domain.check_confirm, OPEN, SEALING, []).code == "parent_confirmed"
    assert code_of(domain.check_confirm, SEALING, OPEN, []).code == "conflict"
    assert code_of(domain.check_confirm, UNSEALING, None, []).code == "conflict"
    err = code_of(domain.check_confirm, OPEN, OPEN, [5, 6])
    assert err.code == "children_not_confirmed" and err.extra == {"pending": [5, 6]}
    domain.check_confirm(OPEN, None, [])
    domain.check_confirm(OPEN, UNSEALING, [])  # the parent's revocation is already recorded
    domain.check_confirm(SEALING, OPEN, [], saga_orphaned=True)  # a crashed saga is adopted


def test_revoke_refusals():
    assert code_of(domain.check_revoke, CONFIRMED, CONFIRMED).code == "parent_confirmed"
    assert code_of(domain.check_revoke, CONFIRMED, SEALING).code == "parent_confirmed"
    for state in (OPEN, SEALING, UNSEALING):
        assert code_of(domain.check_revoke, state, OPEN).code == "not_confirmed"
    domain.check_revoke(CONFIRMED, OPEN)
    domain.check_revoke(CONFIRMED, None)


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
