"""What the rounds service needs of the others: the registry's units, through
the one unit directory (:mod:`services.common.units`). Its entries live in
this process's memory, shared by every worker and kept fresh by the
registry's ``unit_changed`` events (see ``service.py``)."""
from __future__ import annotations

from typing import Any, Optional

from services.common import settings
from services.common.units import MemoryStore, UnitDirectory

_STORE: Optional[MemoryStore] = None


def unit_store() -> MemoryStore:
    """This process's units (created on first use)."""
    global _STORE
    if _STORE is None:
        _STORE = MemoryStore(settings.current().unit_cache_size)
    return _STORE


class Ports:
    """The registry as the rounds service sees it (one per worker: the
    registry is asked with the worker's own proxy)."""

    def __init__(self, registry: Any):
        self.registry = registry
        self.directory = UnitDirectory(self._fetch, settings.current().unit_cache_ttl, unit_store())

    def _fetch(self, ids):
        return self.registry.get_units(ids)
