"""The one directory of the registry's units that every service and the
gateway read (the registry alone owns them).

One refresh rule everywhere: an entry answers for ``ttl`` seconds
(``LEC_UNIT_CACHE_TTL``) from when it was fetched; the registry's
``unit_changed`` event replaces it at once (an older version never overwrites a
newer one); missing and expired entries are fetched together in one
``get_units`` call; ``fresh=True`` re-reads (a unit about to be refused for its
status is re-read first, so a late event never refuses an allowed change).
The directory is bounded: the least recently used entries leave first.

Where the entries live is the store's business: in memory (:class:`MemoryStore`,
the gateway, confirmation, rounds) or in a service's own table when its queries
join on units (enrollment's ``units`` table).

A service that lists a unit's children without asking the registry keeps the
units in such a table (:class:`UnitTable`, the shape of
:func:`services.common.tables.add_unit_table`): the registry's ``unit_changed``
events, handled reliably, keep every row current, and one full read from the
registry (:meth:`UnitTable.fill`), begun after the service's queue exists,
makes the table complete. Until then, children come from the registry.
"""
from __future__ import annotations

import collections
import threading
import time
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Protocol, Sequence, Tuple

from sqlalchemy import and_, bindparam, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.common.errors import not_found
from services.common.values import Unit

Fetch = Callable[[List[int]], List[Mapping[str, Any]]]


class TtlCache:
    """A bounded map whose entries expire: least recently used out first. An
    expired entry stays until replaced, for whoever wants the last word."""

    def __init__(self, ttl: float, size: int):
        self.ttl = ttl
        self.size = size
        self._entries: "collections.OrderedDict[Any, Tuple[float, Any]]" = collections.OrderedDict()
        self._lock = threading.Lock()

    def lookup(self, key: Any, now: float) -> Tuple[bool, Optional[Tuple[float, Any]]]:
        """(fresh, entry): whether the key holds a live value, and its entry (expires_at, value)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] > now:
                self._entries.move_to_end(key)
                return True, entry
            return False, entry

    def store(self, items: Iterable[Tuple[Any, Any]], now: float) -> None:
        with self._lock:
            for key, value in items:
                self._entries[key] = (now + self.ttl, value)
                self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def drop(self, key: Any) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


class UnitStore(Protocol):
    """Where a directory keeps its entries."""

    def load(self, ids: List[int], max_age: float) -> Dict[int, Unit]:
        """The units held and younger than ``max_age`` seconds."""

    def save(self, units: List[Unit]) -> None:
        """Keep these (fetched just now); an older version never replaces a newer one."""

    def drop(self, unit_id: int) -> None: ...

    def clear(self) -> None: ...


class MemoryStore:
    """Entries in this process's memory, bounded (``size``)."""

    def __init__(self, size: int = 100_000):
        self._cache = TtlCache(float("inf"), size)  # ages are the directory's business
        self._fetched: Dict[int, float] = {}

    def load(self, ids: List[int], max_age: float) -> Dict[int, Unit]:
        now = time.monotonic()
        found = {}
        for unit_id in ids:
            _, entry = self._cache.lookup(unit_id, now)
            if entry is not None and now - self._fetched.get(unit_id, -1e18) <= max_age:
                found[unit_id] = entry[1]
        return found

    def save(self, units: List[Unit]) -> None:
        now = time.monotonic()
        keep = []
        for unit in units:
            _, held = self._cache.lookup(unit.id, now)
            if held is not None and held[1].version > unit.version:
                continue
            keep.append((unit.id, unit))
            self._fetched[unit.id] = now
        self._cache.store(keep, now)
        if len(self._fetched) > 2 * self._cache.size:  # forget the ages of evicted entries
            self._fetched = {k: v for k, v in self._fetched.items()
                             if self._cache.lookup(k, now)[1] is not None}

    def drop(self, unit_id: int) -> None:
        self._cache.drop(unit_id)
        self._fetched.pop(unit_id, None)

    def clear(self) -> None:
        self._cache.clear()
        self._fetched.clear()


class UnitDirectory:
    """unit id -> :class:`Unit`, kept by the one refresh rule of this module."""

    def __init__(self, fetch: Fetch, ttl: float = 300.0, store: Optional[UnitStore] = None):
        self.fetch = fetch
        self.ttl = ttl
        self.store: UnitStore = store if store is not None else MemoryStore()
        self.hits = 0
        self.misses = 0

    def get_many(self, ids: Iterable[Any], fresh: bool = False) -> Dict[int, Unit]:
        wanted = sorted({int(i) for i in ids})
        found = {} if fresh else self.store.load(wanted, self.ttl)
        missing = [i for i in wanted if i not in found]
        self.hits += len(found)
        if missing:
            self.misses += len(missing)
            fetched = [Unit.from_record(r) for r in self.fetch(missing)]
            self.store.save(fetched)
            found.update((u.id, u) for u in fetched)
        return found

    def get(self, unit_id: Any, fresh: bool = False) -> Optional[Unit]:
        try:
            unit_id = int(unit_id)
        except (TypeError, ValueError):
            return None
        return self.get_many([unit_id], fresh).get(unit_id)

    def require(self, unit_id: Any, what: str = "org unit") -> Unit:
        """The unit, or ``not_found(what)``."""
        unit = self.get(unit_id)
        if unit is None:
            raise not_found(what)
        return unit

    def require_active(self, unit_id: Any, what: str = "institution") -> Unit:
        """The unit, re-read from the registry when the directory says it is not active."""
        unit = self.require(unit_id, what)
        if not unit.active:
            unit = self.get(unit.id, fresh=True) or unit
        return unit

    def remember(self, records: Iterable[Mapping[str, Any]]) -> List[Unit]:
        """Keep records the service received otherwise (a subtree, an event)."""
        units = [Unit.from_record(r) for r in records]
        self.store.save(units)
        return units

    def on_unit_changed(self, event: Mapping[str, Any]) -> None:
        """The registry's ``unit_changed`` event: the unit's new record replaces the old."""
        record = (event or {}).get("unit") or {}
        if "id" in record and "type" in record and "path" in record:
            self.remember([record])
        elif "id" in record:
            self.store.drop(int(record["id"]))

    def invalidate(self, unit_id: int) -> None:
        self.store.drop(int(unit_id))

    def clear(self) -> None:
        self.store.clear()


class UnitTable:
    """A service's copy of the registry's units in its own ``units`` table (see the
    module's notes): statements built once, run in the caller's session."""

    COMPLETE = "units"  # the ``sync`` table's row written when :meth:`fill` completes

    def __init__(self, table: Any, sync: Any = None):
        self.table = table
        self.sync = sync  # the one-row table that says when a full read completed (optional)
        self._stored = select(table, func.extract("epoch", func.now() - table.c.synced_at).label("age")) \
            .where(table.c.id.in_(bindparam("ids", expanding=True)))
        if sync is not None:  # the children, with one row of NULLs for none, none at all unless complete
            self._children = select(table, sync.c.completed_at).select_from(sync.outerjoin(table, and_(
                table.c.parent_id == bindparam("parent_id"),
                table.c.type.in_(bindparam("types", expanding=True))))) \
                .where(sync.c.name == self.COMPLETE).order_by(table.c.code, table.c.id)

    def save(self, session: Any, records: Iterable[Unit]) -> None:
        """Upsert the units (in the caller's transaction), in id order (two writers of the
        same rows take their locks in one order; of one unit given twice, its newest version);
        an older version never overwrites a newer one."""
        rows = sorted(({k: getattr(u, k) for k in Unit.FIELDS} for u in records),
                      key=lambda r: (r["id"], r["version"]))
        rows = [r for i, r in enumerate(rows) if i + 1 == len(rows) or rows[i + 1]["id"] != r["id"]]
        if not rows:
            return
        stmt = pg_insert(self.table).values(rows)
        changed: Dict[str, Any] = {k: stmt.excluded[k] for k in Unit.FIELDS if k != "id"}
        changed["synced_at"] = func.now()
        session.execute(stmt.on_conflict_do_update(
            index_elements=[self.table.c.id], set_=changed, where=self.table.c.version <= stmt.excluded.version))

    def stored(self, session: Any, ids: Iterable[int], max_age: Optional[float] = None) -> Dict[int, Unit]:
        """id -> unit held in the table, leaving out rows older than ``max_age`` seconds."""
        wanted = sorted({int(i) for i in ids})
        if not wanted:
            return {}
        found = {}
        for row in session.execute(self._stored, {"ids": wanted}):
            if max_age is not None and row.age > max_age:
                continue
            found[row.id] = Unit.from_record(row._mapping)
        return found

    def children(self, session: Any, parent_id: int, types: Sequence[str]) -> Optional[List[Unit]]:
        """The units of these types directly under ``parent_id``, by code; None while the
        table is not complete (only with a ``sync`` table). One statement."""
        rows = session.execute(self._children, {"parent_id": int(parent_id), "types": list(types)}).all()
        if not rows:
            return None
        return [Unit.from_record(r._mapping) for r in rows if r.id is not None]

    # -- completeness (only with a ``sync`` table)
    def complete(self, session: Any) -> bool:
        """Whether a full read from the registry completed (events keep it so since)."""
        return session.execute(select(self.sync.c.completed_at).where(
            self.sync.c.name == self.COMPLETE)).first() is not None

    def fill(self, engine: Any, page: Callable[[int, int], List[Mapping[str, Any]]], size: int = 1000) -> int:
        """Read every unit from the registry, page by page (``page(after_id, size)``, in id
        order), each page saved in a transaction of its own; then mark the table complete.
        Call it only once the service's ``unit_changed`` queue exists: a unit created
        during the read is then in the read or in the queue. Returns how many were read."""
        after, read = 0, 0
        while True:
            records = page(after, size)
            if records:
                with engine.begin() as conn:
                    self.save(conn, [Unit.from_record(r) for r in records])
                read += len(records)
                after = max(int(r["id"]) for r in records)
            if len(records) < size:
                break
        with engine.begin() as conn:
            stmt = pg_insert(self.sync).values(name=self.COMPLETE, completed_at=func.now())
            conn.execute(stmt.on_conflict_do_nothing(index_elements=[self.sync.c.name]))
        return read
