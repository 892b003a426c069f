"""The checks of a unit as its officers and the levels above read them, and the
explanations its officers write (use cases over ``services.enrollment.checks``).

- An institution: its findings, computed afresh on every request.
- An LAO: its own findings (afresh), its institutions' refreshed with it, and
  a tally per institution.
- A province or the department: a tally per child summed from the stored
  findings. Units never computed (or computed under other rules) are queued
  first, and the request refreshes what it can in ``LEC_CHECKS_REQUEST_SECONDS``;
  the rest is left to the service's timer and counted in ``pending``.
"""
import os
import time

from sqlalchemy import and_, func, select, tuple_

from services.common import settings
from services.common.context import require_actor
from services.common.errors import forbidden
from services.common.hierarchy import path_ids
from services.enrollment import checks, handlers
from services.enrollment.models import check_state, units
from services.common.validation import load
from services.enrollment.outside import store_units
from services.enrollment.schemas import ExplanationsSet
from services.enrollment.sealing import lock_for_edit

# unit id -> when its subtree's units were last read from the registry (per process)
_SCOPES = {}
_SCOPES_MAX = 500


def scope_units(outside, registry, unit):
    """Make sure enrollment knows the checked units below ``unit``: an LAO's
    institutions (and other schools) fresh every time; a province's or the
    department's every ``LEC_CHECKS_SCOPE_TTL`` seconds. Returns an LAO's
    active institutions (``{id: unit}``), else ``{}``."""
    if unit["type"] in checks.INSTITUTIONS:
        return {}
    if unit["type"] == "lao":
        records = registry.subtree(unit["id"], types=["school", "cdc", "other_school"],
                                   statuses=["active", "pending", "closed"])
        with outside.db.uow() as uow:
            store_units(uow.session, records)
            uow.commit()
        return {r["id"]: r for r in records if r["type"] in checks.INSTITUTIONS and r["status"] == "active"}
    ttl = settings.env_float("LEC_CHECKS_SCOPE_TTL", 600)
    seen = _SCOPES.get(unit["id"])
    if seen is None or time.monotonic() - seen > ttl:
        records = registry.subtree(unit["id"], types=["lao", "school", "cdc", "other_school"],
                                   statuses=["active", "pending", "closed"])
        with outside.db.uow() as uow:
            store_units(uow.session, records)
            uow.commit()
        if len(_SCOPES) >= _SCOPES_MAX:
            _SCOPES.clear()
        _SCOPES[unit["id"]] = time.monotonic()
    return {}


def _brief(unit):
    return {"id": unit["id"], "code": unit["code"], "name": unit["name"], "type": unit["type"]}


def report(uow, actor, rules, unit, below):
    """``{round_id, org_unit, items, errors, queries, unexplained, subtree,
    children, pending}`` (see the module's docstring)."""
    actor = require_actor(actor)
    session = uow.session
    if unit["type"] in checks.CHECKED_TYPES:
        batch = {unit["id"]: unit, **below}
        checks.refresh(session, rules, batch)
        uow.commit()
        items = checks.items_of(session, actor, rules, [unit["id"]])
    else:
        checks.seed(session, rules, unit["path"])
        uow.commit()
        deadline = time.monotonic() + settings.env_float("LEC_CHECKS_REQUEST_SECONDS", 0.5)
        while time.monotonic() < deadline:
            done = checks.refresh_queued(session, rules, 100, prefix=unit["path"])
            uow.commit()
            if not done:
                break
        items = []
    own = checks.own_tally(items)
    by_child = checks.tallies_by_child(session, rules.id, rules.hash, unit)
    names = {r.id: dict(r._mapping) for r in session.execute(
        select(units.c.id, units.c.code, units.c.name, units.c.type, units.c.status)
        .where(units.c.id.in_(list(by_child) or [0])))}
    children = [{"org_unit": _brief(names[cid]), **tally} for cid, tally in by_child.items()
                if cid in names and names[cid]["status"] == "active"]
    children.sort(key=lambda c: (-c["errors"], -c["unexplained"], c["org_unit"]["code"]))
    subtree = {k: own[k] + sum(c[k] for c in children) for k in ("errors", "queries", "unexplained")}
    computed = session.execute(select(check_state.c.computed_at).where(
        check_state.c.round_id == rules.id, check_state.c.unit_id == unit["id"])).scalar()
    return {
        "round_id": rules.id,
        "org_unit": _brief(unit),
        "previous_round_id": rules.previous_id,
        "items": items, **own,
        "blocking": len(checks.blocking(items)),
        "subtree": subtree,
        "children": children,
        "pending": checks.pending(session, rules.id, unit["path"]),
        "computed_at": computed.isoformat() if computed else None,
    }


def explain(uow, actor, rules, unit, window, data):
    """The unit's own users explain its queries while its data are open."""
    actor = handlers.acting(actor)
    actor.require_read(unit["path"], "org unit")
    if unit["type"] not in checks.CHECKED_TYPES:
        raise forbidden("only schools, CDCs and LAOs have checks to explain")
    if not actor.is_system and actor.org_unit_id != unit["id"]:
        raise forbidden("a unit's queries are explained by its own users")
    handlers.require_open(window)
    body = load(ExplanationsSet(), data)
    lock_for_edit(uow, rules.id, unit)  # the seal row: refused once confirmed
    checks.refresh(uow.session, rules, {unit["id"]: unit})
    n = checks.explain(uow.session, actor, rules, unit, body.get("items"),
                       lambda details: uow.audit("explain", "checks", f"{rules.id}:{unit['id']}", details))
    checks.refresh(uow.session, rules, {unit["id"]: unit})
    uow.commit()
    items = checks.items_of(uow.session, actor, rules, [unit["id"]])
    return {"round_id": rules.id, "org_unit": _brief(unit), "saved": n, "items": items,
            **checks.own_tally(items), "blocking": len(checks.blocking(items))}


def check_tallies(session, round_id, scope):
    """The stored tallies of each unit's subtree (the unit itself included, active
    units only), for the levels above: ``scope`` is ``{unit id: path}``; answers
    ``{str(id): {errors, queries, explained, unexplained, computed}}`` in one
    query: the tallies under the units' common path prefix (on the path index),
    grouped by the id at each depth the units stand at (a unit's id at its depth
    of a path: the path is in its subtree). ``computed``: some unit of the
    subtree has stored findings of the round."""
    if not scope:
        return {}
    paths = [str(p) for p in scope.values()]
    common = os.path.commonprefix(paths)
    common = common[:common.rfind("/") + 1] or "/"
    depths = sorted({len(path_ids(p)) for p in paths})
    # "/1/7/42/" split on "/": the id at depth d is part d + 1
    at = [func.split_part(check_state.c.unit_path, "/", d + 1).label(f"d{d}") for d in depths]
    group = at[0] if len(at) == 1 else func.grouping_sets(*[tuple_(a) for a in at])
    rows = session.execute(
        select(*at, func.sum(check_state.c.errors), func.sum(check_state.c.queries),
               func.sum(check_state.c.unexplained), func.count())
        .select_from(check_state.join(units, and_(units.c.id == check_state.c.unit_id, units.c.status == "active")))
        .where(check_state.c.round_id == int(round_id), check_state.c.unit_path.like(common + "%"))
        .group_by(group)).all()
    found = {}
    for row in rows:
        *ids, e, q, x, n = row
        for depth, ancestor in zip(depths, ids):
            if ancestor:  # the grouping set of this depth (the others are null)
                found[(depth, ancestor)] = (int(e), int(q), int(x), int(n))
    answer = {}
    for unit_id, path in scope.items():
        e, q, x, n = found.get((len(path_ids(path)), str(int(unit_id))), (0, 0, 0, 0))
        answer[str(int(unit_id))] = {"errors": e, "queries": q, "explained": q - x, "unexplained": x,
                                     "computed": bool(n)}
    return answer
