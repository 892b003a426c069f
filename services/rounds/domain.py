"""Round rules, pure: the order of the levels' deadlines, a unit's deadline with
its extensions, and the automatic extension after a revocation. The state of a
window at an instant and the default deadlines of the levels are the calendar
rules every service shares (:mod:`services.common.rounds_calendar`)."""
from __future__ import annotations

import datetime as dt
from typing import Any, Dict, Iterable, Mapping, Optional, Sequence, Tuple

from services.common.hierarchy import is_ancestor_or_self
from services.common.vocabulary import LEVELS

# the levels a round closes for; the department confirms until the round is finalised
DEADLINE_LEVELS = ("institution", "lao", "province")
# the levels an extension may name (None: every level)
EXTENSION_LEVELS = DEADLINE_LEVELS

Deadlines = Mapping[str, Optional[dt.datetime]]


def deadline_order_problems(effective: Deadlines) -> Dict[str, str]:
    """``{level: message}`` for each level whose deadline falls before the one
    below it (institution <= lao <= province <= department)."""
    problems: Dict[str, str] = {}
    previous: Optional[str] = None
    for level in LEVELS:
        at = effective.get(level)
        if at is None:
            continue
        before = effective[previous] if previous is not None else None
        if before is not None and at < before:
            problems[level] = f"must not be before the {previous} deadline"
        previous = level
    return problems


def extension_applies(ext_level: Optional[str], level: str) -> bool:
    """An extension for every level (``None``) or for ``level`` itself."""
    return ext_level is None or ext_level == level


def extension_floor(effective: Deadlines, ext_level: Optional[str]) -> Optional[dt.datetime]:
    """An extension must end after this: its level's deadline, or for every
    level the round's (the institutions') deadline."""
    return effective["institution" if ext_level is None else ext_level]


def effective_closes_at(base_closes_at: Optional[dt.datetime], extensions: Iterable[Sequence[Any]],
                        unit_path: str, level: str = "institution") -> Tuple[Optional[dt.datetime], bool]:
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


def automatic_extension(deadline: Optional[dt.datetime], existing: Optional[dt.datetime],
                        revoked_at: dt.datetime, hours: float) -> Optional[dt.datetime]:
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
