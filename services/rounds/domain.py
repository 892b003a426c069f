"""Round rules, pure: the order of the levels' deadlines, a unit's deadline with
its extensions, and the automatic extension after a revocation. The state of a
window at an instant and the default deadlines of the levels are the calendar
rules every service shares (:mod:`services.common.rounds_calendar`), and so are a unit's
deadline with its extensions and the window they make (:func:`services.common.rounds_calendar.effective_closes_at`, ``window``)."""
from __future__ import annotations

import datetime as dt
from typing import Dict, Mapping, Optional

# the levels a round closes for (the department confirms until the round is finalised) and a
# unit's deadline with its extensions are the calendar's rules, shared with every service
from services.common.rounds_calendar import DEADLINE_LEVELS
from services.common.vocabulary import LEVELS
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


def extension_floor(effective: Deadlines, ext_level: Optional[str]) -> Optional[dt.datetime]:
    """An extension must end after this: its level's deadline, or for every
    level the round's (the institutions') deadline."""
    return effective["institution" if ext_level is None else ext_level]


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
