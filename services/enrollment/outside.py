"""What enrollment needs from the registry and rounds services.

Units (type, status, path) are kept in the ``units`` table: read from there,
fetched from the registry with one batch ``get_units`` call when missing or
older than ``LEC_UNIT_CACHE_TTL`` seconds, and kept fresh by the registry's
``unit_changed`` events (:func:`store_units`, newest version wins). A unit
that would be refused for its status is re-read from the registry first, so
a late event never refuses a change that is allowed.
"""
import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.common import settings
from services.common.errors import not_found
from services.common.jsonutil import plain
from services.enrollment.models import units

UNIT_FIELDS = ("id", "code", "name", "type", "parent_id", "path", "status", "affiliation",
               "closed_on", "version")


def unit_ref(unit):
    """How a unit appears in events and seals: ``{id, type, path}``."""
    return {"id": unit["id"], "type": unit["type"], "path": unit["path"]}


def store_units(session, records):
    """Upsert registry records; an older version never overwrites a newer one."""
    rows = []
    for record in records:
        row = {k: record.get(k) for k in UNIT_FIELDS}
        if isinstance(row["closed_on"], str):
            row["closed_on"] = dt.date.fromisoformat(row["closed_on"])
        row["version"] = int(row["version"] or 1)
        rows.append(row)
    if not rows:
        return
    stmt = pg_insert(units).values(rows)
    changed = {k: stmt.excluded[k] for k in UNIT_FIELDS if k != "id"}
    changed["synced_at"] = func.now()
    session.execute(stmt.on_conflict_do_update(
        index_elements=[units.c.id], set_=changed,
        where=units.c.version <= stmt.excluded.version))


def cached_units(session, ids, max_age=None):
    """id -> unit from the table, leaving out rows older than ``max_age`` seconds."""
    if not ids:
        return {}
    stmt = select(units, (func.extract("epoch", func.now() - units.c.synced_at)).label("age")) \
        .where(units.c.id.in_(list(ids)))
    found = {}
    for row in session.execute(stmt):
        if max_age is not None and row.age > max_age:
            continue
        found[row.id] = plain({k: row._mapping[k] for k in UNIT_FIELDS})
    return found


class Outside:
    """Registry and rounds, as enrollment sees them (built per worker in service.py)."""

    def __init__(self, db, registry, rounds):
        self.db = db
        self.registry = registry
        self.rounds = rounds
        self.ttl = settings.env_float("LEC_UNIT_CACHE_TTL", 300)

    # -- units
    def units(self, ids, fresh=False):
        ids = sorted({int(i) for i in ids})
        found = {}
        if not fresh:
            with self.db.session() as session:
                found = cached_units(session, ids, self.ttl)
        missing = [i for i in ids if i not in found]
        if missing:
            records = self.registry.get_units(missing)
            with self.db.uow() as uow:
                store_units(uow.session, records)
                uow.commit()
            found.update({r["id"]: {k: r.get(k) for k in UNIT_FIELDS} for r in records})
        return found

    def unit(self, unit_id, what="org unit"):
        try:
            unit_id = int(unit_id)
        except (TypeError, ValueError):
            raise not_found(what)
        unit = self.units([unit_id]).get(unit_id)
        if unit is None:
            raise not_found(what)
        return unit

    def active_unit(self, unit_id, what="institution"):
        """The unit, re-read from the registry when the cache says it is not active."""
        unit = self.unit(unit_id, what)
        if unit["status"] != "active":
            unit = self.units([unit["id"]], fresh=True).get(unit["id"]) or unit
        return unit

    def other_schools(self, lao_id):
        """The other-affiliation schools of an LAO (active or closed), fresh."""
        records = self.registry.subtree(lao_id, types=["other_school"], statuses=["active", "closed"])
        with self.db.uow() as uow:
            store_units(uow.session, records)
            uow.commit()
        return [{k: r.get(k) for k in UNIT_FIELDS} for r in records]

    # -- rounds
    def round(self, round_id):
        return self.rounds.get_round(round_id)

    def round_and_window(self, round_id, unit_path):
        """The round and whether it is open for the unit, in one call."""
        found = self.rounds.round_and_window(round_id, unit_path)
        return found["round"], found["window"]
