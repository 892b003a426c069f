"""The calendar rules of census rounds that more than one service applies: the
state of a round's window at an instant, the default deadline of each level of
the confirmation chain, and which earlier round a round is compared with.
The rounds service owns rounds; these rules are pure, so every service that
holds a copy of a round reads it the same way: whether a round is open for a
unit at a level (:func:`window`, extensions honoured) is computed by the rounds
service and by every :class:`RoundCalendar`, the copy of rounds a service keeps
from the rounds service's events, with the same function."""
from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import replace
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Protocol, Sequence, Tuple, TypeVar

from services.common.hierarchy import is_ancestor_or_self
from services.common.values import Round, Window

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


# -- windows: whether a round is open for a unit at a level ------------------------------------

# the levels a round closes for; the department confirms until the round is finalised
DEADLINE_LEVELS = ("institution", "lao", "province")

Extension = Sequence[Any]  # (path, closes_at) for every level, or (path, closes_at, level|None)


def extension_applies(ext_level: Optional[str], level: str) -> bool:
    """An extension for every level (``None``) or for ``level`` itself."""
    return ext_level is None or ext_level == level


def effective_closes_at(base_closes_at: Optional[dt.datetime], extensions: Iterable[Extension],
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


def window(opens_at: dt.datetime, finalized_at: Optional[dt.datetime],
           level_deadlines: Mapping[str, Optional[dt.datetime]], extensions: Iterable[Extension],
           unit_path: str, level: str, now: dt.datetime) -> Dict[str, Any]:
    """The one rule of a window: ``{level, state, open, opens_at, closes_at, extended}`` of
    the round for the unit at ``unit_path`` at ``level``, honouring the level's deadline
    (``level_deadlines``: the effective ones, :func:`deadlines`) and the extensions. The
    department's window stays open from ``opens_at`` until the round is finalised; its
    ``closes_at`` (its planned finalisation, by default the provinces' deadline) is only shown.
    The rounds service answers with it, and every service holding a copy of the round
    (:class:`RoundCalendar`) computes the same answer."""
    if level in DEADLINE_LEVELS:
        closes_at, extended = effective_closes_at(level_deadlines[level], extensions, unit_path, level)
        state = state_at(opens_at, closes_at, finalized_at, now)
    else:
        closes_at, extended = level_deadlines.get(level) or level_deadlines.get("province"), False
        state = state_at(opens_at, None, finalized_at, now)
    return {"level": level, "state": state, "open": state == "open", "opens_at": opens_at,
            "closes_at": closes_at, "extended": extended}


# -- the calendar a service keeps of rounds' events ---------------------------------------------

Fetch = Callable[[int], Mapping[str, Any]]


def _instant(value: Any) -> Optional[dt.datetime]:
    if value is None or isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _level(value: Any) -> Optional[str]:
    return None if value in (None, "", "all") else str(value)


class _Entry:
    __slots__ = ("round", "extensions", "fetched_at")

    def __init__(self, round_: Round, fetched_at: float):
        self.round = round_
        # (org_unit_id, level|None) -> (path, closes_at, level|None, stamp)
        self.extensions: Dict[Tuple[int, Optional[str]], Tuple[str, dt.datetime, Optional[str], Any]] = {}
        self.fetched_at = fetched_at


class RoundCalendar:
    """The rounds (with their deadlines per level and settings) and their extensions (per
    subtree and level) as a service keeps them from the rounds service's events, so that
    asking whether a round is open for a unit takes no call.

    One refresh rule, as the unit directory's: ``round_created``, ``round_changed``,
    ``round_opened`` and ``round_closed`` replace a round held (an older ``version`` never
    replaces a newer one), ``extension_granted`` replaces that unit's extension at that
    level (an older ``created_at`` never replaces a newer one), ``round_finalized`` marks
    it finalised for good. A round not held, or held longer than ``ttl`` seconds since it
    was last read whole, is read again in one call (``fetch(round_id)`` →
    ``{round, extensions}``, the rounds service's ``calendar``); ``fresh=True`` reads it
    again at once (a window about to refuse an edit is read again first, so a late event
    never refuses an allowed one). The rounds of an academic year (which round comes
    before which) are kept the same way, read in one call and forgotten at any round's
    event."""

    def __init__(self, ttl: float = 60.0, clock: Callable[[], float] = time.monotonic):
        self.ttl = ttl
        self.clock = clock
        self._entries: Dict[int, _Entry] = {}
        # academic year -> (its rounds, when read); any round's event forgets them all
        self._years: Dict[int, Tuple[List[Round], float]] = {}
        self._generation = 0  # one up at each forgetting: a list read meanwhile is not kept
        self._lock = threading.Lock()
        self.fetches = 0

    # -- events
    def on_round(self, record: Mapping[str, Any], whole: bool = False) -> bool:
        """A round's record from an event; ``whole``: a new round (it has no extensions
        yet), kept even when not held. Whether it was applied."""
        new = Round.from_record(record)
        with self._lock:
            self._forget_years()  # a round created, or its year or number changed: lists differ
            held = self._entries.get(new.id)
            if held is None:
                if whole:
                    self._entries[new.id] = _Entry(new, self.clock())
                return whole
            if held.round.version > new.version:
                return False
            if held.round.finalized_at is not None and new.finalized_at is None:
                new = replace(new, finalized_at=held.round.finalized_at)
            held.round = new
            return True

    def on_extension(self, round_id: Any, ext: Mapping[str, Any]) -> bool:
        """An ``extension_granted`` event's extension (of a round held)."""
        with self._lock:
            held = self._entries.get(int(round_id))
            if held is None:
                return False  # read whole, with it, when first asked
            return self._keep_extension(held, ext)

    def on_finalized(self, round_id: Any, finalized_at: Any) -> bool:
        with self._lock:
            held = self._entries.get(int(round_id))
            if held is None or held.round.finalized_at is not None:
                return False
            held.round = replace(held.round, finalized_at=_instant(finalized_at) or dt.datetime.now(dt.timezone.utc))
            return True

    def forget(self, round_id: Any) -> None:
        with self._lock:
            self._entries.pop(int(round_id), None)
            self._forget_years()

    def _forget_years(self) -> None:
        self._years.clear()
        self._generation += 1

    @staticmethod
    def _keep_extension(entry: _Entry, ext: Mapping[str, Any]) -> bool:
        level = _level(ext.get("level"))
        key = (int(ext["org_unit_id"]), level)
        stamp = (_instant(ext.get("created_at")), int(ext.get("id") or 0))
        held = entry.extensions.get(key)
        if held is not None and held[3][0] is not None and stamp[0] is not None and held[3] > stamp:
            return False
        entry.extensions[key] = (str(ext["org_unit_path"]), _instant(ext["closes_at"]), level, stamp)  # type: ignore[assignment]
        return True

    # -- reads
    def get(self, round_id: Any, fetch: Fetch, fresh: bool = False) -> Tuple[Round, List[Extension]]:
        """The round and its extensions ``(path, closes_at, level|None)``."""
        round_id = int(round_id)
        with self._lock:
            held = self._entries.get(round_id)
            if held is not None and not fresh and self.clock() - held.fetched_at <= self.ttl:
                return held.round, [e[:3] for e in held.extensions.values()]
        found = fetch(round_id)  # outside the lock; not_found goes to the caller
        self.fetches += 1
        with self._lock:
            entry = _Entry(Round.from_record(found["round"]), self.clock())
            for ext in found.get("extensions") or ():
                self._keep_extension(entry, ext)
            held = self._entries.get(round_id)
            if held is not None:  # an event applied meanwhile is not lost
                if held.round.version > entry.round.version:
                    entry.round = held.round
                if entry.round.finalized_at is None and held.round.finalized_at is not None:
                    entry.round = replace(entry.round, finalized_at=held.round.finalized_at)
                for key, ext in held.extensions.items():
                    mine = entry.extensions.get(key)
                    if mine is None or (ext[3][0] is not None and mine[3][0] is not None and ext[3] > mine[3]):
                        entry.extensions[key] = ext
            self._entries[round_id] = entry
            return entry.round, [e[:3] for e in entry.extensions.values()]

    def round(self, round_id: Any, fetch: Fetch, fresh: bool = False) -> Round:
        """The round as held (its ``state`` as of its reading: whether it is open for a
        unit is :meth:`round_and_window`'s answer)."""
        return self.get(round_id, fetch, fresh)[0]

    def year(self, academic_year: int, list_year: Callable[[int], Iterable[Mapping[str, Any]]]) -> List[Round]:
        """The rounds of an academic year, read in one call (``list_year(year)`` → records)
        and kept like a round: read again past ``ttl``, forgotten at any round's event."""
        year = int(academic_year)
        with self._lock:
            held = self._years.get(year)
            if held is not None and self.clock() - held[1] <= self.ttl:
                return held[0]
            generation = self._generation
        found = [Round.from_record(r) for r in list_year(year)]
        self.fetches += 1
        with self._lock:
            if generation == self._generation:
                self._years[year] = (found, self.clock())
        return found

    def previous(self, round_: Round, list_year: Callable[[int], Iterable[Mapping[str, Any]]]) -> Optional[Round]:
        """The round ``round_`` is compared with (:func:`previous_round`), None when there is none."""
        year = round_.academic_year if round_.number == 2 else round_.academic_year - 1
        return previous_round(self.year(year, list_year), round_)

    def round_and_window(self, round_id: Any, unit_path: str, fetch: Fetch, level: str = "institution",
                         now: Optional[dt.datetime] = None, fresh: bool = False) -> Tuple[Round, Window]:
        """The round (its ``state`` at ``now``) and its window for the unit at ``level``,
        by :func:`window`, the rule the rounds service answers with."""
        round_, exts = self.get(round_id, fetch, fresh)
        now = now or dt.datetime.now(dt.timezone.utc)
        assert round_.opens_at is not None
        found = window(round_.opens_at, round_.finalized_at, round_.deadlines, exts, unit_path, level, now)
        state = state_at(round_.opens_at, round_.closes_at, round_.finalized_at, now)
        return replace(round_, state=state), Window(
            round_id=round_.id, unit_path=unit_path, level=level, state=found["state"],
            opens_at=found["opens_at"], closes_at=found["closes_at"], extended=found["extended"])

    def __len__(self) -> int:
        return len(self._entries)
