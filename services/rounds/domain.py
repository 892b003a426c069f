"""Round rules, pure: the state of a window at an instant, and a unit's deadline."""
from services.common.hierarchy import is_ancestor_or_self


def state_at(opens_at, closes_at, finalized_at, now):
    """``scheduled`` before the window, ``open`` inside it (closes_at excluded),
    ``closed`` after it, ``finalized`` once the department has confirmed."""
    if finalized_at is not None:
        return "finalized"
    if now < opens_at:
        return "scheduled"
    if now < closes_at:
        return "open"
    return "closed"


def effective_closes_at(round_closes_at, extensions, unit_path):
    """The latest deadline among the round's and the extensions granted to the
    unit or to any unit above it."""
    closes_at, extended = round_closes_at, False
    for ext_path, ext_closes_at in extensions:
        if is_ancestor_or_self(ext_path, unit_path) and ext_closes_at > closes_at:
            closes_at, extended = ext_closes_at, True
    return closes_at, extended
