"""Round rules, pure: the state of a window at an instant, the deadline of each
level of the confirmation chain, and a unit's deadline with its extensions."""
import datetime as dt

from services.common.hierarchy import is_ancestor_or_self
from services.common.vocabulary import LEVELS

# the levels a round closes for; the department confirms until the round is finalised
DEADLINE_LEVELS = ("institution", "lao", "province")
# the levels an extension may name (None: every level)
EXTENSION_LEVELS = DEADLINE_LEVELS
# the seeds' default: provinces confirm until a day after the LAOs' deadline
PROVINCE_AFTER_LAO = dt.timedelta(days=1)


def state_at(opens_at, closes_at, finalized_at, now):
    """``scheduled`` before the window, ``open`` inside it (closes_at excluded;
    ``None``: no deadline), ``closed`` after it, ``finalized`` once the
    department has confirmed."""
    if finalized_at is not None:
        return "finalized"
    if now < opens_at:
        return "scheduled"
    if closes_at is None or now < closes_at:
        return "open"
    return "closed"


def deadlines(closes_at, lao=None, province=None, department=None):
    """The effective deadline of each level from the round's ``closes_at`` (the
    institutions') and the overrides set (``None``: the default). The LAOs
    default to the institutions' deadline, the provinces to a day after the
    LAOs', the department to none (its confirmation finalises the round)."""
    lao_at = lao or closes_at
    if province is None:
        try:
            province = lao_at + PROVINCE_AFTER_LAO
        except OverflowError:  # the last day there is: nothing comes after it
            province = lao_at
    return {"institution": closes_at, "lao": lao_at, "province": province, "department": department}


def deadline_order_problems(effective):
    """``{level: message}`` for each level whose deadline falls before the one
    below it (institution <= lao <= province <= department)."""
    problems = {}
    previous = None
    for level in LEVELS:
        at = effective.get(level)
        if at is None:
            continue
        if previous is not None and at < effective[previous]:
            problems[level] = f"must not be before the {previous} deadline"
        previous = level
    return problems


def extension_applies(ext_level, level):
    """An extension for every level (``None``) or for ``level`` itself."""
    return ext_level is None or ext_level == level


def extension_floor(effective, ext_level):
    """An extension must end after this: its level's deadline, or for every
    level the round's (the institutions') deadline."""
    return effective["institution" if ext_level is None else ext_level]


def effective_closes_at(base_closes_at, extensions, unit_path, level="institution"):
    """The latest deadline among the level's and the extensions granted to the
    unit or to any unit above it, for that level or for every level.
    ``extensions``: ``(path, closes_at)`` (every level) or ``(path, closes_at, level)``."""
    closes_at, extended = base_closes_at, False
    for ext in extensions:
        ext_path, ext_closes_at = ext[0], ext[1]
        ext_level = ext[2] if len(ext) > 2 else None
        if not extension_applies(ext_level, level) or not is_ancestor_or_self(ext_path, unit_path):
            continue
        if closes_at is not None and ext_closes_at > closes_at:
            closes_at, extended = ext_closes_at, True
    return closes_at, extended


def automatic_extension(deadline, existing, revoked_at, hours):
    """The deadline of the automatic extension a revocation at ``revoked_at``
    gives a unit whose effective deadline is ``deadline`` (``None``: no
    deadline, nothing to give), or ``None`` when it gives none: only a
    revocation at or after the deadline does, and an extension is never
    shortened (``existing``: the unit's own extension at that level)."""
    if deadline is None or revoked_at < deadline:
        return None
    closes_at = revoked_at + dt.timedelta(hours=hours)
    if existing is not None and existing >= closes_at:
        return None
    return closes_at
