"""The other services, as the confirmation use cases see them: the only place
that calls them. Answers come back as typed values (:class:`Unit`,
:class:`Window`); units are read through the process's one unit directory,
kept fresh by the registry's ``unit_changed`` event."""
from __future__ import annotations

import collections
import os
import socket
import threading
import uuid
from typing import Any, Dict, Iterable, List, Optional

from services.common import settings
from services.common.units import MemoryStore, UnitDirectory
from services.common.values import Unit, Window
from services.confirmation import domain

ROUND_REFS_KEPT = 1000  # a round's reference never changes: keep the most recent ones

_directory: Optional[UnitDirectory] = None
_instance: Optional[domain.Instance] = None
_round_refs: "collections.OrderedDict[int, Dict[str, int]]" = collections.OrderedDict()
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


def this_instance() -> domain.Instance:
    """The running process, as the owner of the sagas it runs (a new token at each start)."""
    global _instance
    if _instance is None or _instance.pid != os.getpid():
        _instance = domain.Instance(socket.gethostname(), os.getpid(), uuid.uuid4().hex[:12])
    return _instance


class Ports:
    """The registry, rounds and enrollment services (timed RPC proxies)."""

    def __init__(self, registry: Any, rounds: Any, enrollment: Any,
                 instance: Optional[domain.Instance] = None):
        self.registry = registry
        self.rounds = rounds
        self.enrollment = enrollment
        self.instance = instance or this_instance()

    def units(self, ids: Iterable[int], fresh: bool = False) -> Dict[int, Unit]:
        _calling.registry = self.registry  # a proxy belongs to its worker: fetch through ours
        return directory().get_many(ids, fresh)

    def unit(self, unit_id: int, fresh: bool = False) -> Optional[Unit]:
        return self.units([unit_id], fresh).get(unit_id)

    def children(self, unit: Unit) -> List[Unit]:
        """The children whose confirmations ``unit`` waits for (read fresh)."""
        types = domain.CHILD_TYPES.get(unit.type, ())
        if not types:
            return []
        items = self.registry.list_children(unit.id, unpaged=True)["items"]
        return [Unit.from_record(c) for c in items if c["type"] in types]

    def round_ref(self, round_id: int) -> Dict[str, int]:
        """``{id, academic_year, number}`` of the round (``not_found`` for none)."""
        with _lock:
            ref = _round_refs.get(round_id)
        if ref is None:
            r = self.rounds.get_round(round_id)
            ref = {"id": r["id"], "academic_year": r["academic_year"], "number": r["number"]}
            with _lock:
                _round_refs[round_id] = ref
                while len(_round_refs) > ROUND_REFS_KEPT:
                    _round_refs.popitem(last=False)
        return ref

    def window(self, round_id: int, unit: Unit) -> Window:
        """The round's window for ``unit`` at its level (deadline and extensions honoured)."""
        return Window.from_record(self.rounds.window(round_id, unit.path, unit.level))

    def window_at(self, round_id: int, unit_path: str) -> Window:
        """The round's window for the unit at ``unit_path``, at the institution level."""
        return Window.from_record(self.rounds.window(round_id, unit_path))

    def seal(self, round_id: int, unit_id: int) -> Dict[str, Any]:
        return self.enrollment.seal(round_id, unit_id)

    def unseal(self, round_id: int, unit_id: int) -> Any:
        return self.enrollment.unseal(round_id, unit_id)

    def seal_state(self, round_id: int, unit_ids: List[int]) -> Dict[str, Any]:
        return self.enrollment.seal_state(round_id, unit_ids)

    def live_counts(self, round_id: int, unit_id: int) -> Optional[Dict[str, Any]]:
        """Enrollment's current counts of the unit (its learners, or an LAO's headcounts)."""
        return self.enrollment.counts(round_id, [unit_id]).get(str(unit_id))
