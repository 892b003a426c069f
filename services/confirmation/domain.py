"""Confirmation rules, pure: who confirms or revokes what and when, what blocks
a confirmation, how counts add up, and when a half-done saga is orphaned.

The chain (seed 003 §6–8, seed 004 §6–9): an institution confirms its
learners; an LAO confirms when every active institution under it has, and
with it its other-affiliation headcounts; a province when all its LAOs have;
the department's confirmation finalises the round. A confirmation is revoked
only from above, and only while the level above is not itself confirmed, so
the chain is unwound from the top.
"""
import hashlib
import json
import os
from dataclasses import dataclass

from services.common import hierarchy
from services.common.errors import LecError, conflict, forbidden

OPEN, SEALING, CONFIRMED, UNSEALING = "open", "sealing", "confirmed", "unsealing"

CONFIRMING_TYPES = ("school", "cdc", "lao", "province", "department")
# units whose confirmation seals data held by enrollment (learners, headcounts)
SEALED_TYPES = ("school", "cdc", "lao")
# every level confirms inside its own window (its deadline, extensions included);
# the department's window stays open from opens_at until the round is finalised
WINDOW_BOUND_TYPES = ("school", "cdc", "lao", "province")
# the children whose confirmations a unit waits for
CHILD_TYPES = {
    "department": ("province",),
    "province": ("lao",),
    "lao": ("school", "cdc"),
    "school": (),
    "cdc": (),
}


def public_state(state):
    """The contract knows two states; a saga in flight is still ``open``."""
    return "confirmed" if state == CONFIRMED else "open"


def blocks(child):
    """Pending and closed units do not hold their parent back."""
    return child.get("status") == "active"


# -- who -------------------------------------------------------------------------

def check_may_confirm(actor, unit):
    """A user confirms their own unit, and only an active one."""
    if actor is None or actor.is_system or actor.org_unit_id != unit["id"]:
        raise forbidden("a unit is confirmed only by a user of that unit")
    if unit["type"] not in CONFIRMING_TYPES:
        raise forbidden(f"a {unit['type']} is confirmed with its LAO")
    if unit.get("status") != "active":
        raise conflict(f"the unit is {unit.get('status')}, not active")


def check_may_revoke(actor, unit):
    """Only a user of a unit above revokes; an institution never revokes itself."""
    if actor is None or not (actor.is_system or hierarchy.can_revoke(actor.path, unit["path"])):
        raise forbidden("a confirmation is revoked only by a user of a unit above it")
    if unit["type"] not in CONFIRMING_TYPES:
        raise forbidden(f"a {unit['type']} has no confirmation of its own")


# -- when ------------------------------------------------------------------------

def check_window(unit_type, window):
    """``window``: the round's window at the unit's level. Institutions, LAOs
    and provinces confirm inside it (each by its level's deadline, extensions
    honoured); the department from opens_at until the round is finalised."""
    state = window["state"]
    allowed = ("open",) if unit_type in WINDOW_BOUND_TYPES else ("open", "closed")
    if state not in allowed:
        when = {"scheduled": "has not opened yet", "closed": "is closed for this unit",
                "finalized": "is finalized"}.get(state, state)
        raise LecError("round_not_open", f"the round {when}",
                       {"window": {k: window.get(k) for k in ("state", "opens_at", "closes_at", "extended")}})


# -- what blocks -----------------------------------------------------------------

def pending_children(children, states):
    """Ids of the active children not confirmed (``states``: id -> state)."""
    return sorted(c["id"] for c in children if blocks(c) and states.get(c["id"]) != CONFIRMED)


def check_confirm(state, parent_state, pending, saga_orphaned=False):
    """May a unit in ``state`` confirm now? (the order gives the most telling code)"""
    if state == CONFIRMED:
        raise LecError("already_confirmed", "the unit is already confirmed")
    if parent_state in (SEALING, CONFIRMED):
        raise LecError("parent_confirmed", "the unit above is confirmed: nothing changes beneath it "
                                           "until its confirmation is revoked")
    if state == SEALING and not saga_orphaned:
        raise conflict("a confirmation of this unit is in progress")
    if state == UNSEALING:
        raise conflict("a revocation of this unit is being completed; try again shortly")
    if pending:
        raise LecError("children_not_confirmed", f"{len(pending)} unit(s) below have not confirmed",
                       {"pending": list(pending)})


def check_revoke(state, parent_state):
    if parent_state in (SEALING, CONFIRMED):
        raise LecError("parent_confirmed", "the unit above is confirmed: revoke its confirmation first")
    if state != CONFIRMED:
        raise LecError("not_confirmed", "the unit is not confirmed")


# -- counts ----------------------------------------------------------------------

def normalise_counts(counts):
    """``{"total": n, "by_grade": {grade: n}}`` with ints, zero grades left out."""
    counts = counts or {}
    by_grade = {str(g): int(n) for g, n in (counts.get("by_grade") or {}).items() if int(n)}
    total = counts.get("total")
    return {"total": int(total) if total is not None else sum(by_grade.values()),
            "by_grade": dict(sorted(by_grade.items()))}


def add_counts(many):
    total, by_grade = 0, {}
    for counts in many:
        counts = normalise_counts(counts)
        total += counts["total"]
        for grade, n in counts["by_grade"].items():
            by_grade[grade] = by_grade.get(grade, 0) + n
    return {"total": total, "by_grade": dict(sorted(by_grade.items()))}


# -- digests ----------------------------------------------------------------------
# The recipe is in docs/confirmation.md; enrollment computes the digests of what it
# seals (schools, CDCs, LAOs) the same way.

def sha256_hex(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def seal_digest(round_id, unit_id, counts, learners_digest):
    """SHA-256 (hex) of the canonical JSON (sorted keys, separators ``,`` and ``:``,
    UTF-8 as is) of ``{round_id, unit_id, counts: {total, by_grade}, learners_digest}``."""
    counts = normalise_counts(counts)
    return sha256_hex(json.dumps({"round_id": int(round_id), "unit_id": int(unit_id),
                                  "counts": {"total": counts["total"], "by_grade": counts["by_grade"]},
                                  "learners_digest": learners_digest},
                                 sort_keys=True, separators=(",", ":"), ensure_ascii=False))


def children_digest(children):
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

    def __str__(self):
        return f"{self.host}:{self.pid}:{self.token}"

    @classmethod
    def parse(cls, text):
        try:
            host, pid, token = (text or "").rsplit(":", 2)
            return cls(host, int(pid), token)
        except ValueError:
            return None


def pid_alive(pid):
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


def saga_orphaned(owner, age_seconds, timeout, me, alive=pid_alive):
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
