"""What enrollment needs from the registry and rounds services, in one place.

Units come through the common :class:`~services.common.units.UnitDirectory`
(one refresh rule: ``LEC_UNIT_CACHE_TTL`` seconds, a unit about to be refused
for its status re-read first). Enrollment's SQL joins on units, so the entries
live in its ``units`` table (:class:`TableStore`: newest version wins, an
entry's age counted from ``synced_at``), shared by every worker and process;
the registry's ``unit_changed`` events keep it fresh (see ``service.py``).

Rounds come as :class:`~services.common.values.Round` and
:class:`~services.common.values.Window` values, all from this process's copy of
the calendar (:class:`~services.common.rounds_calendar.RoundCalendar`, kept by
the rounds service's events, see ``service.py``): a round, the rounds of an
academic year, and whether a round is open for a unit (every edit asks, computed
by the rule the rounds service applies; a window about to refuse is read again
from the rounds service first). :meth:`Ports.previous_round` is the one rule of
which round comes before which (carry-over, checks, the seal, headcount drafts
and the new school year all use it).
"""
from __future__ import annotations

import datetime as dt
import time
from typing import Any, Dict, Iterable, List, Optional, Tuple

from sqlalchemy import update

from services.common import settings
from services.common.rounds_calendar import RoundCalendar
from services.common.units import UnitDirectory, UnitTable
from services.common.values import Round, Unit, Window
from services.enrollment.models import units

_STALE = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)
# built once: every edit reads its unit (building the statement cost three times its run)
UNITS = UnitTable(units)


def save_units(session, records: Iterable[Unit]) -> None:
    """Upsert units into the table (in the caller's transaction); an older
    version never overwrites a newer one."""
    UNITS.save(session, records)


def stored_units(session, ids: Iterable[int], max_age: Optional[float] = None) -> Dict[int, Unit]:
    """id -> unit held in the table, leaving out rows older than ``max_age`` seconds."""
    return UNITS.stored(session, ids, max_age)


class TableStore:
    """The directory's entries in enrollment's ``units`` table (each call its own transaction)."""

    def __init__(self, engine):
        self.engine = engine

    def load(self, ids: List[int], max_age: float) -> Dict[int, Unit]:
        with self.engine.connect() as conn:
            return stored_units(conn, ids, max_age)

    def save(self, records: List[Unit]) -> None:
        with self.engine.begin() as conn:
            save_units(conn, records)

    def drop(self, unit_id: int) -> None:
        """Forget how fresh the row is (the row stays: queries join on it)."""
        with self.engine.begin() as conn:
            conn.execute(update(units).where(units.c.id == int(unit_id)).values(synced_at=_STALE))

    def clear(self) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(units).values(synced_at=_STALE))


class SessionStore(TableStore):
    """The table read in the caller's transaction (an edit reads its unit on the connection
    it then writes with: one connection checked out per edit); writes still go apart."""

    def __init__(self, engine, session):
        super().__init__(engine)
        self.session = session

    def load(self, ids: List[int], max_age: float) -> Dict[int, Unit]:
        return stored_units(self.session, ids, max_age)


# engine -> its store; subtree id -> when its units were last read (per process)
_STORES: Dict[Any, TableStore] = {}
_SUBTREES: Dict[int, float] = {}
_SUBTREES_MAX = 500


def store_of(engine) -> TableStore:
    store = _STORES.get(engine)
    if store is None:
        store = _STORES[engine] = TableStore(engine)
    return store


class Ports:
    """Registry and rounds as enrollment sees them (one per worker, see ``service.py``)."""

    def __init__(self, db, registry, rounds, store=None, calendar=None):
        self.db = db
        self.registry = registry
        self.rounds = rounds
        self.store = store
        self.calendar = calendar if calendar is not None else RoundCalendar(
            settings.current().round_cache_ttl)
        self._directory: Optional[UnitDirectory] = None

    # -- units
    @property
    def directory(self) -> UnitDirectory:
        """The units, kept in the shared table; the registry's ``get_units`` fills what is missing."""
        if self._directory is None:
            self._directory = UnitDirectory(lambda ids: self.registry.get_units(ids),
                                            settings.current().unit_cache_ttl,
                                            self.store or store_of(self.db.engine))
        return self._directory

    def units(self, ids: Iterable[Any], fresh: bool = False) -> Dict[int, Unit]:
        return self.directory.get_many([i for i in ids if i is not None], fresh)

    def unit(self, unit_id: Any, what: str = "org unit") -> Unit:
        return self.directory.require(unit_id, what)

    def active_unit(self, unit_id: Any, what: str = "institution", uow=None) -> Unit:
        """The unit, re-read from the registry when the table says it is not active; with
        ``uow``, the table is read in its transaction (when the units live in the table)."""
        if uow is not None and self.store is None:
            directory = self.directory
            return UnitDirectory(directory.fetch, directory.ttl,
                                 SessionStore(self.db.engine, uow.session)).require_active(unit_id, what)
        return self.directory.require_active(unit_id, what)

    def other_schools(self, lao: Unit) -> List[Unit]:
        """The other-affiliation schools of an LAO (active or closed), fresh."""
        if lao.type != "lao":
            return []
        return self.directory.remember(self.registry.subtree(
            lao.id, types=["other_school"], statuses=["active", "closed"]))

    def subtree(self, unit: Unit, types: List[str], max_age: Optional[float] = None) -> List[Unit]:
        """The units of these types below ``unit`` (pending, active, closed), read from the
        registry and kept in the table; with ``max_age``, read at most that often (per
        process: an empty answer then means "the table is recent enough")."""
        if max_age is not None:
            seen = _SUBTREES.get(unit.id)
            if seen is not None and time.monotonic() - seen <= max_age:
                return []
        found = self.directory.remember(self.registry.subtree(
            unit.id, types=types, statuses=["active", "pending", "closed"]))
        if max_age is not None:
            if len(_SUBTREES) >= _SUBTREES_MAX:
                _SUBTREES.clear()
            _SUBTREES[unit.id] = time.monotonic()
        return found

    # -- rounds: all from the calendar this process keeps (rounds' events keep it current)
    def round(self, round_id: Any) -> Round:
        """The round (``not_found`` from the rounds service when there is none)."""
        return self.calendar.round(int(round_id), self.rounds.calendar)

    def round_and_window(self, round_id: Any, unit_path: str) -> Tuple[Round, Window]:
        """The round and whether it is open for the unit (at the institution level), from
        the calendar kept here: no call while the round is held; a window that would
        refuse is read again from the rounds service first (a late event never refuses)."""
        fetch = self.rounds.calendar
        round_, window = self.calendar.round_and_window(int(round_id), unit_path, fetch)
        if not window.open:
            round_, window = self.calendar.round_and_window(int(round_id), unit_path, fetch, fresh=True)
        return round_, window

    def _rounds_of(self, year: int) -> List[Dict[str, Any]]:
        return self.rounds.list_rounds(limit=10, offset=0, academic_year=year)["items"]

    def previous_round(self, round_: Round) -> Optional[Round]:
        """The round before ``round_`` (the one rule, :func:`rounds_calendar.previous_round`:
        round 1 of the same academic year for round 2, round 2 of the year before for
        round 1), None when there is none."""
        return self.calendar.previous(round_, self._rounds_of)

    def seal_rounds(self, round_id: Any) -> Tuple[Round, Optional[Round]]:
        """The round and the round before it, as the seal applies them (its checks' rules,
        census date and comparison): a seal asks the rounds service nothing while the
        calendar holds them."""
        round_ = self.round(round_id)
        return round_, self.previous_round(round_)

    def escalation_hours(self, round_id: Any) -> float:
        """The round's escalation period of transfer requests, in hours."""
        from services.enrollment.transfers import escalation_hours
        return escalation_hours(self.round(round_id))
