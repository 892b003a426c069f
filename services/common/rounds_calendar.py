"""The calendar rules of census rounds that more than one service applies: the
state of a round's window at an instant, the default deadline of each level of
the confirmation chain, and which earlier round a round is compared with.
The rounds service owns rounds; these rules are pure, so every service that
holds a copy of a round reads it the same way."""
from __future__ import annotations

import datetime as dt
from typing import Dict, Iterable, Optional, Protocol, TypeVar

# the seeds' default: provinces confirm until a day after the LAOs' deadline
PROVINCE_AFTER_LAO = dt.timedelta(days=1)


def state_at(opens_at: dt.datetime, closes_at: Optional[dt.datetime],
             finalized_at: Optional[dt.datetime], now: dt.datetime) -> str:
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


def deadlines(closes_at: dt.datetime, lao: Optional[dt.datetime] = None,
              province: Optional[dt.datetime] = None,
              department: Optional[dt.datetime] = None) -> Dict[str, Optional[dt.datetime]]:
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


class RoundKey(Protocol):
    """What tells rounds apart in time: the academic year and the round's number in it."""

    @property
    def academic_year(self) -> int: ...

    @property
    def number(self) -> int: ...


R = TypeVar("R", bound=RoundKey)


def previous_round(rounds: Iterable[R], current: RoundKey, mode: str = "previous") -> Optional[R]:
    """The round to compare ``current`` with, among ``rounds``. ``previous``: the
    round before it (round 1 of the same year before round 2, else round 2 of the
    year before); ``previous_year``: the same round number one academic year
    earlier. ``None`` when that round is not among them."""
    by_key = {(r.academic_year, r.number): r for r in rounds}
    year, number = current.academic_year, current.number
    if mode == "previous_year":
        return by_key.get((year - 1, number))
    if number == 2:
        return by_key.get((year, 1))
    return by_key.get((year - 1, 2))
