"""The confirmation state machine, pure: every transition of a
:class:`Confirmation` and every refusal, in the order that gives the most
telling error code."""
from dataclasses import replace
from types import SimpleNamespace

import pytest

from services.common.context import Actor
from services.common.errors import LecError
from services.confirmation.domain import (
    CONFIRMED, OPEN, SEALING, UNSEALING, Confirmation, Record, SagaLost, Transition,
)

ROW = Confirmation(round_id=5, unit_id=43, unit_type="school", unit_path="/1/7/42/43/", parent_id=42)
LAO_USER = Actor(user_id=9, username="lao-user", role="lao", org_unit_id=42, path="/1/7/42/")
SCHOOL_USER = Actor(user_id=8, username="school-user", role="institution", org_unit_id=43,
                    path="/1/7/42/43/")
RECORD = Record({"total": 3, "by_grade": {"p1": 3}}, None, "seal", "learners", "ok")


def parent(state):
    return replace(ROW, unit_id=42, unit_type="lao", state=state)


def code_of(fn, *args, **kwargs):
    with pytest.raises(LecError) as info:
        fn(*args, **kwargs)
    return info.value


def test_from_row_takes_the_columns_it_knows():
    row = SimpleNamespace(_mapping={"round_id": 5, "unit_id": 43, "unit_type": "school", "state": CONFIRMED,
                                    "version": 4, "feed_seq": 17, "counts": {"total": 1}})
    c = Confirmation.from_row(row)
    assert (c.state, c.version, c.counts, c.confirmed) == (CONFIRMED, 4, {"total": 1}, True)
    assert c.sealed_by_enrollment and not replace(c, unit_type="province").sealed_by_enrollment


def test_begin_seal_records_the_saga():
    step = ROW.begin_seal(parent(OPEN), [], "saga-1", "host:1:tok")
    assert step == Transition(SEALING, {"saga_id": "saga-1", "saga_owner": "host:1:tok"}, ("saga_started_at",))
    ROW.begin_seal(None, [], "s", "o")  # the department has no parent
    ROW.begin_seal(parent(UNSEALING), [], "s", "o")  # the parent's revocation is already recorded


def test_begin_seal_refusals_in_order():
    assert code_of(replace(ROW, state=CONFIRMED).begin_seal, parent(CONFIRMED), [1], "s", "o").code \
        == "already_confirmed"
    assert code_of(ROW.begin_seal, parent(CONFIRMED), [], "s", "o").code == "parent_confirmed"
    assert code_of(ROW.begin_seal, parent(SEALING), [], "s", "o").code == "parent_confirmed"
    assert code_of(replace(ROW, state=SEALING).begin_seal, parent(OPEN), [], "s", "o").code == "conflict"
    assert code_of(replace(ROW, state=UNSEALING).begin_seal, None, [], "s", "o").code == "conflict"
    err = code_of(ROW.begin_seal, parent(OPEN), [5, 6], "s", "o")
    assert err.code == "children_not_confirmed" and err.extra == {"pending": [5, 6]}


def test_an_orphaned_saga_is_adopted():
    sealing = replace(ROW, state=SEALING, saga_id="old", saga_owner="gone")
    assert sealing.begin_seal(parent(OPEN), [], "new", "me", orphaned=True).values["saga_id"] == "new"


def test_confirm_after_the_seal_only_while_the_saga_is_ours():
    sealing = replace(ROW, state=SEALING, saga_id="saga-1")
    step = sealing.confirm(SCHOOL_USER, RECORD, saga_id="saga-1")
    assert step.state == CONFIRMED and step.stamped == ("confirmed_at",)
    assert step.values["saga_id"] is None and step.values["saga_owner"] is None
    assert step.values["counts"] == RECORD.counts and step.values["note"] == "ok"
    assert (step.values["confirmed_by"], step.values["confirmed_by_username"]) == (8, "school-user")
    assert (step.values["seal_digest"], step.values["learners_digest"]) == ("seal", "learners")
    with pytest.raises(SagaLost):
        sealing.confirm(SCHOOL_USER, RECORD, saga_id="another")
    with pytest.raises(SagaLost):
        ROW.confirm(SCHOOL_USER, RECORD, saga_id="saga-1")  # unwound meanwhile


def test_confirm_at_once_checks_the_rules():
    province = replace(ROW, unit_id=7, unit_type="province", parent_id=1)
    assert province.confirm(LAO_USER, RECORD, parent=parent(OPEN)).state == CONFIRMED
    assert code_of(province.confirm, LAO_USER, RECORD, parent=parent(CONFIRMED)).code == "parent_confirmed"
    assert code_of(province.confirm, LAO_USER, RECORD, pending=[42]).code == "children_not_confirmed"
    assert code_of(replace(province, state=CONFIRMED).confirm, LAO_USER, RECORD).code == "already_confirmed"


def test_revoke_a_sealed_unit_leaves_its_unseal_to_follow():
    confirmed = replace(ROW, state=CONFIRMED)
    step = confirmed.revoke(parent(OPEN), LAO_USER, "fix", "saga-2", "host:1:tok")
    assert step == Transition(UNSEALING, {"saga_id": "saga-2", "saga_owner": "host:1:tok", "revoked_by": 9,
                                          "revoke_reason": "fix"}, ("revoked_at", "saga_started_at"))


def test_revoke_a_province_reopens_it_at_once():
    confirmed = replace(ROW, unit_type="province", state=CONFIRMED)
    step = confirmed.revoke(None, LAO_USER, "fix")
    assert step.state == OPEN and step.stamped == ("revoked_at",)
    assert step.values["saga_id"] is None and step.values["saga_started_at"] is None


def test_revoke_refusals():
    confirmed = replace(ROW, state=CONFIRMED)
    assert code_of(confirmed.revoke, parent(CONFIRMED), LAO_USER, "r").code == "parent_confirmed"
    assert code_of(confirmed.revoke, parent(SEALING), LAO_USER, "r").code == "parent_confirmed"
    for state in (OPEN, SEALING, UNSEALING):
        assert code_of(replace(ROW, state=state).revoke, parent(OPEN), LAO_USER, "r").code == "not_confirmed"


def test_unwind_only_the_saga_the_row_carries():
    sealing = replace(ROW, state=SEALING, saga_id="s1", saga_owner="o")
    assert sealing.unwind("s1", SEALING) == Transition(
        OPEN, {"saga_id": None, "saga_owner": None, "saga_started_at": None})
    assert sealing.unwind("s2", SEALING) is None
    assert sealing.unwind("s1", UNSEALING) is None
    assert replace(sealing, state=UNSEALING).unwind("s1", UNSEALING).state == OPEN
    assert ROW.unwind("s1", SEALING) is None
