"""Confirmation rules, pure: who confirms or revokes what and when, what blocks
a confirmation, how counts add up, and when a half-done saga is orphaned.

The chain (seed 003 §6–8, seed 004 §6–9): an institution confirms its
learners; an LAO confirms when every active institution under it has, and
with it its other-affiliation headcounts; a province when all its LAOs have;
the department's confirmation finalises the round. A confirmation is revoked
only from above, and only while the level above is not itself confirmed, so
the chain is unwound from the top.

Each rule of the hierarchy lives in one function named after it (the rules
section below). The state of one unit in one round is a :class:`Confirmation`;
its methods check the rules and return the :class:`Transition` to apply, so the
state machine is read in one place:

    open -> sealing (saga running: enrollment seal, then record) -> confirmed
    open -> confirmed (provinces and the department: nothing to seal)
    confirmed -> unsealing (revocation recorded, enrollment unseal pending) -> open
    confirmed -> open (provinces and the department)
    sealing | unsealing -> open (a saga unwound)
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from services.common import hierarchy
from services.common.context import Actor
from services.common.errors import LecError, conflict, forbidden
from services.common.values import Unit, Window
from services.common.vocabulary import CONFIRMING_TYPES, SEALED_TYPES

OPEN, SEALING, CONFIRMED, UNSEALING = "open", "sealing", "confirmed", "unsealing"

# every level confirms inside its own window (its deadline, extensions included);
# the department's window stays open from opens_at until the round is finalised
WINDOW_BOUND_TYPES: Tuple[str, ...] = ("school", "cdc", "lao", "province")
# the children whose confirmations a unit waits for
CHILD_TYPES: Dict[str, Tuple[str, ...]] = {
    "department": ("province",),
    "province": ("lao",),
    "lao": ("school", "cdc"),
    "school": (),
    "cdc": (),
}

Counts = Dict[str, Any]


def public_state(state: Optional[str]) -> str:
    """The contract knows two states; a saga in flight is still ``open``."""
    return "confirmed" if state == CONFIRMED else "open"


def given(state: Optional[str]) -> bool:
    """Is a confirmation given, or being given (its seal under way)?"""
    return state in (SEALING, CONFIRMED)


# -- the rules of the hierarchy ----------------------------------------------------

def only_the_unit_itself_confirms(actor: Optional[Actor], unit: Unit) -> None:
    """A user confirms their own unit (never one above or below, never the system)."""
    if actor is None or actor.is_system or actor.org_unit_id != unit.id:
        raise forbidden("a unit is confirmed only by a user of that unit")


def an_other_affiliation_school_confirms_with_its_lao(unit: Unit) -> None:
    """Only schools, CDCs, LAOs, provinces and the department have a confirmation of
    their own; an other-affiliation school's counts are confirmed by its LAO."""
    if unit.type not in CONFIRMING_TYPES:
        raise forbidden(f"a {unit.type} is confirmed with its LAO")


def only_an_active_unit_confirms(unit: Unit) -> None:
    """A pending (not yet verified) or closed unit has nothing to confirm."""
    if not unit.active:
        raise conflict(f"the unit is {unit.status}, not active")


def revocation_only_from_above(actor: Optional[Actor], unit: Unit) -> None:
    """Only a user of a unit above revokes; an institution never revokes itself."""
    if actor is None or not (actor.is_system or hierarchy.can_revoke(actor.path, unit.path)):
        raise forbidden("a confirmation is revoked only by a user of a unit above it")
    if unit.type not in CONFIRMING_TYPES:
        raise forbidden(f"a {unit.type} has no confirmation of its own")


def each_level_confirms_inside_its_own_window(unit_type: str, window: Window) -> None:
    """``window``: the round's window at the unit's level. Institutions, LAOs
    and provinces confirm inside it (each by its level's deadline, extensions
    honoured); the department from opens_at until the round is finalised."""
    allowed = ("open",) if unit_type in WINDOW_BOUND_TYPES else ("open", "closed")
    if window.state not in allowed:
        when = {"scheduled": "has not opened yet", "closed": "is closed for this unit",
                "finalized": "is finalized"}.get(window.state, window.state)
        shown = window.as_dict()
        raise LecError("round_not_open", f"the round {when}",
                       {"window": {k: shown.get(k) for k in ("state", "opens_at", "closes_at", "extended")}})


def a_finalised_round_reopens_nothing(window: Window) -> None:
    """Once the department has confirmed, no confirmation of the round is reopened."""
    if window.state == "finalized":
        raise conflict("the round is finalised: no confirmation is reopened")


def pending_and_closed_units_do_not_block(child: Unit) -> bool:
    """Does ``child`` hold its parent back? Only an active unit does: a pending
    or closed one never stops the unit above from confirming."""
    return child.active


def a_unit_confirms_after_all_active_children(children: Iterable[Unit],
                                              states: Mapping[int, str]) -> List[int]:
    """Ids of the active children not confirmed yet (``states``: id -> state); the
    unit confirms when this is empty."""
    return sorted(c.id for c in children
                  if pending_and_closed_units_do_not_block(c) and states.get(c.id) != CONFIRMED)


def nothing_changes_beneath_a_confirmed_parent(parent_state: Optional[str], revoking: bool = False) -> None:
    """While the unit above is confirmed (or being confirmed), the units beneath it
    neither confirm nor have their confirmation revoked: the chain is reopened
    from the top."""
    if given(parent_state):
        raise LecError("parent_confirmed", "the unit above is confirmed: revoke its confirmation first"
                       if revoking else "the unit above is confirmed: nothing changes beneath it "
                                        "until its confirmation is revoked")


def only_a_confirmation_with_a_unit_above_is_requested_back(unit: Unit) -> None:
    """A unit asks for a confirmation to be reopened only where a unit above could
    reopen it: never the department's (it finalises the round)."""
    if unit.type not in CONFIRMING_TYPES or unit.type == "department":
        raise LecError("not_confirmed", f"a {unit.type} has no confirmation a unit above could reopen")


def _path_of(ids: Sequence[int]) -> str:
    return "/" + "".join(f"{i}/" for i in ids)


def revocation_request_goes_to_the_lowest_ancestor_able_to_act(unit_path: str,
                                                              states: Mapping[int, str]) -> Optional[str]:
    """The path of the lowest unit above ``unit_path`` whose confirmation is not
    given (nor being given), or None when every unit above is confirmed
    (``states``: id -> state; a unit never touched is open)."""
    ids = hierarchy.path_ids(unit_path)
    for depth in range(len(ids) - 1, 0, -1):
        if not given(states.get(ids[depth - 1], OPEN)):
            return _path_of(ids[:depth])
    return None


def a_request_is_answered_by_the_unit_it_goes_to_or_above(actor: Actor, unit_path: str,
                                                          states: Mapping[int, str]) -> Optional[str]:
    """Why ``actor`` may not approve or decline a request about ``unit_path`` now
    (None: it may). ``states`` holds the states of every unit on the path and of
    the actor's unit."""
    if not hierarchy.is_strict_ancestor(actor.path, unit_path) and not actor.is_system:
        return "a request is answered by a unit above the unit it is about"
    if not actor.is_system and given(states.get(actor.org_unit_id, OPEN)):
        return "your unit's own confirmation is given: a unit above yours answers this request"
    target = revocation_request_goes_to_the_lowest_ancestor_able_to_act(unit_path, states)
    if target is None:
        return "every unit above is confirmed: the round is finalised"
    if not actor.is_system and not hierarchy.is_ancestor_or_self(actor.path, target):
        return "the request is answered by the lowest unit above able to act, or one above it"
    return None


def an_approval_reopens_the_chain_from_the_top(actor: Actor, unit_path: str) -> List[int]:
    """The units an approval reopens, top-down: every unit strictly below the
    approver's, down to the unit asked about."""
    ids = hierarchy.path_ids(unit_path)
    return ids[1:] if actor.is_system else ids[len(hierarchy.path_ids(actor.path)):]


def a_request_is_withdrawn_by_its_maker_or_its_unit(actor: Actor, requested_by_unit_id: int,
                                                    unit_id: int) -> bool:
    """The unit that made a request, or the unit it is about, withdraws it."""
    return actor.is_system or actor.org_unit_id in (requested_by_unit_id, unit_id)


# -- the state machine ---------------------------------------------------------------

class SagaLost(Exception):
    """The row no longer carries our saga: someone else unwound or adopted it."""


@dataclass(frozen=True)
class Transition:
    """A change of one confirmation: its new ``state``, the columns it sets
    (``values``) and those set to the time they are written (``stamped``)."""
    state: str
    values: Mapping[str, Any] = field(default_factory=dict)
    stamped: Tuple[str, ...] = ()


_SAGA_CLEARED: Mapping[str, Any] = {"saga_id": None, "saga_owner": None, "saga_started_at": None}


@dataclass(frozen=True)
class Confirmation:
    """The confirmation of one unit in one round, as its row holds it."""
    round_id: int
    unit_id: int
    unit_type: str
    state: str = OPEN
    version: int = 0
    unit_code: Optional[str] = None
    unit_path: Optional[str] = None
    parent_id: Optional[int] = None
    counts: Optional[Counts] = None
    other_schools: Optional[Counts] = None
    confirmed_at: Optional[dt.datetime] = None
    confirmed_by: Optional[int] = None
    confirmed_by_username: Optional[str] = None
    revoked_at: Optional[dt.datetime] = None
    revoked_by: Optional[int] = None
    revoke_reason: Optional[str] = None
    saga_id: Optional[str] = None
    saga_owner: Optional[str] = None
    saga_started_at: Optional[dt.datetime] = None
    seal_digest: Optional[str] = None
    learners_digest: Optional[str] = None
    note: Optional[str] = None

    @classmethod
    def from_row(cls, row: Any) -> "Confirmation":
        data = row._mapping if hasattr(row, "_mapping") else row
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})

    @property
    def confirmed(self) -> bool:
        return self.state == CONFIRMED

    @property
    def sealed_by_enrollment(self) -> bool:
        return self.unit_type in SEALED_TYPES

    def carries(self, saga_id: Optional[str], state: Optional[str] = None) -> bool:
        """Does the row still carry this saga (in ``state``, when given)?"""
        return self.saga_id is not None and self.saga_id == saga_id and state in (None, self.state)

    def _check_may_confirm(self, parent: Optional["Confirmation"], pending: Sequence[int],
                           orphaned: bool = False) -> None:
        """May the unit confirm now? (the order gives the most telling code)"""
        if self.state == CONFIRMED:
            raise LecError("already_confirmed", "the unit is already confirmed")
        nothing_changes_beneath_a_confirmed_parent(parent.state if parent is not None else None)
        if self.state == SEALING and not orphaned:
            raise conflict("a confirmation of this unit is in progress")
        if self.state == UNSEALING:
            raise conflict("a revocation of this unit is being completed; try again shortly")
        if pending:
            raise LecError("children_not_confirmed", f"{len(pending)} unit(s) below have not confirmed",
                           {"pending": list(pending)})

    def begin_seal(self, parent: Optional["Confirmation"], pending: Sequence[int], saga_id: str,
                   owner: str, orphaned: bool = False) -> Transition:
        """open -> sealing: the saga that seals the unit's data in enrollment starts
        (an orphaned saga of the unit is adopted)."""
        self._check_may_confirm(parent, pending, orphaned)
        return Transition(SEALING, {"saga_id": saga_id, "saga_owner": owner}, ("saga_started_at",))

    def confirm(self, actor: Actor, record: "Record", saga_id: Optional[str] = None,
                parent: Optional["Confirmation"] = None, pending: Sequence[int] = ()) -> Transition:
        """-> confirmed, with what was sealed. After a seal (``saga_id``): only while
        the row still carries that saga (else :class:`SagaLost`); without one (a
        province or the department): the rules of confirming apply now."""
        if saga_id is not None:
            if not self.carries(saga_id, SEALING):
                raise SagaLost()
        else:
            self._check_may_confirm(parent, pending)
        return Transition(CONFIRMED, dict(
            _SAGA_CLEARED, counts=record.counts, other_schools=record.other_schools,
            seal_digest=record.seal_digest, learners_digest=record.learners_digest, note=record.note,
            confirmed_by=actor.user_id, confirmed_by_username=actor.username), ("confirmed_at",))

    def revoke(self, parent: Optional["Confirmation"], actor: Actor, reason: str,
               saga_id: Optional[str] = None, owner: Optional[str] = None) -> Transition:
        """confirmed -> unsealing (a unit sealed by enrollment: its unseal follows,
        ``saga_id`` and ``owner`` given) or -> open (a province, the department)."""
        nothing_changes_beneath_a_confirmed_parent(parent.state if parent is not None else None,
                                                   revoking=True)
        if self.state != CONFIRMED:
            raise LecError("not_confirmed", "the unit is not confirmed")
        values = {"saga_id": saga_id, "saga_owner": owner if saga_id else None,
                  "revoked_by": actor.user_id, "revoke_reason": reason}
        if saga_id is None:
            return Transition(OPEN, dict(values, saga_started_at=None), ("revoked_at",))
        return Transition(UNSEALING, values, ("revoked_at", "saga_started_at"))

    def unwind(self, saga_id: str, state: str) -> Optional[Transition]:
        """sealing | unsealing -> open, once enrollment has unsealed; None when the
        row no longer carries this saga in this state (nothing to do)."""
        if not self.carries(saga_id, state):
            return None
        return Transition(OPEN, _SAGA_CLEARED)


@dataclass(frozen=True)
class Record:
    """What a confirmation records: counts (and an LAO's other-affiliation
    headcounts), the digests of what was sealed, the confirming user's note."""
    counts: Counts
    other_schools: Optional[Counts] = None
    seal_digest: Optional[str] = None
    learners_digest: Optional[str] = None
    note: Optional[str] = None


# -- counts ----------------------------------------------------------------------

def normalise_counts(counts: Optional[Mapping[str, Any]]) -> Counts:
    """``{"total": n, "by_grade": {grade: n}}`` with ints, zero grades left out."""
    counts = counts or {}
    by_grade = {str(g): int(n) for g, n in (counts.get("by_grade") or {}).items() if int(n)}
    total = counts.get("total")
    return {"total": int(total) if total is not None else sum(by_grade.values()),
            "by_grade": dict(sorted(by_grade.items()))}


def add_counts(many: Iterable[Optional[Mapping[str, Any]]]) -> Counts:
    total, by_grade = 0, {}  # type: int, Dict[str, int]
    for counts in many:
        normal = normalise_counts(counts)
        total += normal["total"]
        for grade, n in normal["by_grade"].items():
            by_grade[grade] = by_grade.get(grade, 0) + n
    return {"total": total, "by_grade": dict(sorted(by_grade.items()))}


def counts_of_confirmed_children(children: Iterable[Confirmation]) -> Tuple[Counts, Optional[Counts]]:
    """The sum of the confirmed children's counts, and of their other-affiliation
    headcounts (None when none has any)."""
    done = [c for c in children if c.confirmed]
    others = [c.other_schools for c in done if c.other_schools is not None]
    return add_counts(c.counts for c in done), add_counts(others) if others else None


# -- digests ----------------------------------------------------------------------
# The recipe is in docs/confirmation.md; enrollment computes the digests of what it
# seals (schools, CDCs, LAOs) the same way.

def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def seal_digest(round_id: int, unit_id: int, counts: Optional[Mapping[str, Any]],
                learners_digest: Optional[str]) -> str:
    """SHA-256 (hex) of the canonical JSON (sorted keys, separators ``,`` and ``:``,
    UTF-8 as is) of ``{round_id, unit_id, counts: {total, by_grade}, learners_digest}``."""
    normal = normalise_counts(counts)
    return sha256_hex(json.dumps({"round_id": int(round_id), "unit_id": int(unit_id),
                                  "counts": {"total": normal["total"], "by_grade": normal["by_grade"]},
                                  "learners_digest": learners_digest},
                                 sort_keys=True, separators=(",", ":"), ensure_ascii=False))


def children_digest(children: Iterable[Tuple[int, Optional[str]]]) -> str:
    """A province's or the department's ``learners_digest``: SHA-256 (hex) of the
    sorted lines ``{child_id}:{child seal_digest}`` of its confirmed children,
    joined by a line feed (``children``: (id, seal_digest) pairs; a child
    confirmed before digests were kept counts with an empty digest)."""
    return sha256_hex("\n".join(sorted(f"{int(i)}:{d or ''}" for i, d in children)))


# -- sagas -----------------------------------------------------------------------

@dataclass(frozen=True)
class Instance:
    """The process that runs a saga: ``host:pid:token`` (token new at each start)."""
    host: str
    pid: int
    token: str

    def __str__(self) -> str:
        return f"{self.host}:{self.pid}:{self.token}"

    @classmethod
    def parse(cls, text: Optional[str]) -> Optional["Instance"]:
        try:
            host, pid, token = (text or "").rsplit(":", 2)
            return cls(host, int(pid), token)
        except ValueError:
            return None


def pid_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie is dead
    except FileNotFoundError:
        return False
    except OSError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def saga_orphaned(owner: Optional[str], age_seconds: Optional[float], timeout: float, me: Instance,
                  alive: Callable[[int], bool] = pid_alive) -> bool:
    """A saga is orphaned when the process that ran it is gone (on this host: its
    pid is dead, or it is our own pid from an earlier start), or when it has run
    longer than ``timeout`` (longer than any RPC may take)."""
    if age_seconds is not None and age_seconds > timeout:
        return True
    other = Instance.parse(owner)
    if other is None:
        return True
    if other == me or other.host != me.host:
        return False
    if other.pid == me.pid:
        return True  # our pid, another start: the earlier process died
    return not alive(other.pid)
