"""The other services, as the confirmation use cases see them: the only place
that calls them. Answers come back as typed values (:class:`Unit`,
:class:`Window`); units are read through the process's one unit directory,
kept fresh by the registry's ``unit_changed`` event.

The children a unit waits for (and an LAO's other-affiliation schools) come from
the service's own ``units`` table (:data:`UNITS`) once it is complete: filled
once from the registry (:func:`fill_units`), kept by the registry's events
(``service.keep_unit``). A confirmation then calls only enrollment. Until the
table is complete, they are asked of the registry."""
from __future__ import annotations

import os
import socket
import threading
import uuid
from typing import Any, Dict, Iterable, List, Optional, Tuple

from services.common import settings
from services.common.rounds_calendar import RoundCalendar
from services.common.units import MemoryStore, UnitDirectory, UnitTable
from services.common.values import Unit, Window
from services.confirmation import domain
from services.confirmation.models import unit_sync, units

UNITS = UnitTable(units, unit_sync)

OTHER_SCHOOL_STATUSES = ("active", "closed")  # the other-affiliation schools an LAO's seal counts

_directory: Optional[UnitDirectory] = None
_instance: Optional[domain.Instance] = None
_lock = threading.Lock()


_calling = threading.local()  # the registry proxy of the worker (green thread) asking


def _fetch(ids: List[int]) -> List[Dict[str, Any]]:
    return _calling.registry.get_units(list(ids))


def directory() -> UnitDirectory:
    """This process's unit directory (created on first use, over the registry's ``get_units``)."""
    global _directory
    with _lock:
        if _directory is None:
            _directory = UnitDirectory(_fetch, ttl=settings.current().unit_cache_ttl,
                                       store=MemoryStore(settings.current().unit_cache_size))
        return _directory


def unit_changed(body: Any) -> None:
    """The registry's ``unit_changed`` event: refresh this process's directory."""
    if _directory is not None:
        _directory.on_unit_changed(body)


def keep_unit(uow, event: Any) -> None:
    """The registry's ``unit_changed`` (handled reliably): the unit's record replaces the
    one kept, newest version wins."""
    UNITS.save(uow.session, [Unit.from_record(event["unit"])])


_filled: set = set()  # the databases (urls) this process has seen complete


def fill_units(engine, registry, size: int = 1000) -> int:
    """Fill the table from the registry once (nothing when it is complete already); how
    many units were read."""
    key = str(engine.url)
    if key in _filled:
        return 0
    with engine.connect() as conn:
        complete = UNITS.complete(conn)
    read = 0 if complete else UNITS.fill(engine, lambda after, n: registry.units_page(after, n), size)
    _filled.add(key)
    return read


def this_instance() -> domain.Instance:
    """The running process, as the owner of the sagas it runs (a new token at each start)."""
    global _instance
    if _instance is None or _instance.pid != os.getpid():
        _instance = domain.Instance(socket.gethostname(), os.getpid(), uuid.uuid4().hex[:12])
    return _instance


class Ports:
    """The registry, rounds and enrollment services (timed RPC proxies)."""

    def __init__(self, registry: Any, rounds: Any, enrollment: Any,
                 instance: Optional[domain.Instance] = None,
                 calendar: Optional[RoundCalendar] = None):
        self.registry = registry
        self.rounds = rounds
        self.enrollment = enrollment
        self.instance = instance or this_instance()
        # the rounds as this process keeps them (the service passes its one calendar)
        self.calendar = calendar if calendar is not None else RoundCalendar(settings.current().round_cache_ttl)

    def units(self, ids: Iterable[int], fresh: bool = False) -> Dict[int, Unit]:
        _calling.registry = self.registry  # a proxy belongs to its worker: fetch through ours
        return directory().get_many(ids, fresh)

    def unit(self, unit_id: int, fresh: bool = False) -> Optional[Unit]:
        return self.units([unit_id], fresh).get(unit_id)

    def children(self, unit: Unit, session: Any = None) -> List[Unit]:
        """The children whose confirmations ``unit`` waits for."""
        return self.children_and_other_schools(unit, session)[0]

    def children_and_other_schools(self, unit: Unit, session: Any = None,
                                   ) -> Tuple[List[Unit], List[Dict[str, Any]]]:
        """The children whose confirmations ``unit`` waits for and, for an LAO, the records of
        its other-affiliation schools (active or closed), which its seal counts. From the
        ``units`` table in ``session`` once it is complete (one statement), else from the
        registry (one call)."""
        types = domain.CHILD_TYPES.get(unit.type, ())
        if not types:
            return [], []
        wanted = list(types) + (["other_school"] if unit.type == "lao" else [])
        kept = UNITS.children(session, unit.id, wanted) if session is not None else None
        if kept is None:
            kept = [Unit.from_record(c) for c in self.registry.list_children(unit.id, unpaged=True)["items"]]
        others = [c.as_dict() for c in kept if c.type == "other_school" and c.status in OTHER_SCHOOL_STATUSES]
        return [c for c in kept if c.type in types], others

    def round_ref(self, round_id: int) -> Dict[str, int]:
        """``{id, academic_year, number}`` of the round (``not_found`` for none), from the calendar."""
        return self.calendar.round(int(round_id), self.rounds.calendar).ref()

    def window(self, round_id: int, unit: Unit) -> Window:
        """The round's window for ``unit`` at its level (deadline and extensions honoured)."""
        return self._window(round_id, unit.path, unit.level)

    def window_at(self, round_id: int, unit_path: str) -> Window:
        """The round's window for the unit at ``unit_path``, at the institution level."""
        return self._window(round_id, unit_path, "institution")

    def _window(self, round_id: int, unit_path: str, level: str) -> Window:
        """From the calendar this process keeps (no call while the round is held); a window
        that would refuse is read again from the rounds service first, so a late event never
        refuses what the rounds service allows."""
        fetch = self.rounds.calendar
        _, window = self.calendar.round_and_window(int(round_id), unit_path, fetch, level=level)
        if not window.open:
            _, window = self.calendar.round_and_window(int(round_id), unit_path, fetch, level=level,
                                                       fresh=True)
        return window

    def seal(self, round_id: int, unit: "Unit | int",
             other_schools: Optional[List[Dict[str, Any]]] = None) -> Dict[str, Any]:
        """Enrollment's seal of the unit. Given the :class:`Unit` this process holds (and an
        LAO's other-affiliation schools just read), the records go along, so that enrollment
        need not ask the registry for them again."""
        if not isinstance(unit, Unit):
            return self.enrollment.seal(round_id, unit)
        if other_schools is not None and unit.type == "lao":
            return self.enrollment.seal(round_id, unit.id, unit=unit.as_dict(), other_schools=other_schools)
        return self.enrollment.seal(round_id, unit.id, unit=unit.as_dict())

    def unseal(self, round_id: int, unit_id: int) -> Any:
        return self.enrollment.unseal(round_id, unit_id)

    def seal_state(self, round_id: int, unit_ids: List[int]) -> Dict[str, Any]:
        return self.enrollment.seal_state(round_id, unit_ids)

    def live_counts(self, round_id: int, unit_id: int) -> Optional[Dict[str, Any]]:
        """Enrollment's current counts of the unit (its learners, or an LAO's headcounts)."""
        return self.enrollment.counts(round_id, [unit_id]).get(str(unit_id))
