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
import logging
import os
import time

from sqlalchemy import and_, func, select, tuple_

from services.common import settings
from services.common.context import require_actor
from services.common.errors import LecError, forbidden
from services.common.hierarchy import path_ids
from services.common.validation import as_id, load
from services.enrollment import checks, handlers
from services.enrollment.models import check_state, units
from services.enrollment.schemas import ExplanationsSet
from services.enrollment.sealing import lock_for_edit

log = logging.getLogger(__name__)


def rules_of(ports, round_id):
    """The round (it exists) with its checks and the round they compare with."""
    round_ = ports.round(as_id(round_id, "round"))
    return checks.RoundRules(round_, ports.previous_round(round_))


def scope_units(ports, unit):
    """Make sure enrollment knows the checked units below ``unit``: an LAO's
    institutions (and other schools) fresh every time; a province's or the
    department's every ``LEC_CHECKS_SCOPE_TTL`` seconds. Returns an LAO's
    active institutions (``{id: unit}``), else ``{}``."""
    if unit.is_institution:
        return {}
    if unit.type == "lao":
        found = ports.subtree(unit, ["school", "cdc", "other_school"])
        return {u.id: u for u in found if u.is_institution and u.active}
    ports.subtree(unit, ["lao", "school", "cdc", "other_school"],
                  max_age=settings.current().checks_scope_ttl)
    return {}


def _brief(unit):
    return {"id": unit.id, "code": unit.code, "name": unit.name, "type": unit.type}


def report(uow, ports, round_id, unit_id):
    """The checks of a unit, readable by it and the levels above (see :func:`report_of`)."""
    rules = rules_of(ports, round_id)
    unit = ports.unit(unit_id)
    require_actor(uow.actor).require_read(unit.path, "org unit")
    return report_of(uow, rules, unit, scope_units(ports, unit))


def report_of(uow, rules, unit, below):
    """``{round_id, org_unit, items, errors, queries, unexplained, subtree,
    children, pending}`` (see the module's docstring); ``below``: an LAO's
    active institutions, checked with it."""
    actor = require_actor(uow.actor)
    session = uow.session
    if unit.type in checks.CHECKED_TYPES:
        batch = {unit.id: unit, **below}
        checks.refresh(session, rules, batch)
        uow.commit()
        items = checks.items_of(session, actor, rules, [unit.id])
    else:
        checks.seed(session, rules, unit.path)
        uow.commit()
        deadline = time.monotonic() + settings.current().checks_request_seconds
        while time.monotonic() < deadline:
            done = checks.refresh_queued(session, rules, 100, prefix=unit.path)
            uow.commit()
            if not done:
                break
        items = []
    own = checks.own_tally(items)
    by_child = checks.tallies_by_child(session, rules.id, rules.hash, unit)
    names = {r.id: r for r in session.execute(
        select(units.c.id, units.c.code, units.c.name, units.c.type, units.c.status)
        .where(units.c.id.in_(list(by_child) or [0])))}
    children = [{"org_unit": _brief(names[cid]), **tally} for cid, tally in by_child.items()
                if cid in names and names[cid].status == "active"]
    children.sort(key=lambda c: (-c["errors"], -c["unexplained"], c["org_unit"]["code"]))
    subtree = {k: own[k] + sum(c[k] for c in children) for k in ("errors", "queries", "unexplained")}
    computed = session.execute(select(check_state.c.computed_at).where(
        check_state.c.round_id == rules.id, check_state.c.unit_id == unit.id)).scalar()
    return {
        "round_id": rules.id,
        "org_unit": _brief(unit),
        "previous_round_id": rules.previous_id,
        "items": items, **own,
        "blocking": len(checks.blocking(items)),
        "subtree": subtree,
        "children": children,
        "pending": checks.pending(session, rules.id, unit.path),
        "computed_at": computed.isoformat() if computed else None,
    }


def explain(uow, ports, round_id, unit_id, data):
    """The unit's own users explain its queries while its data are open."""
    unit = ports.unit(unit_id)
    round_, window = ports.round_and_window(as_id(round_id, "round"), unit.path)
    rules = checks.RoundRules(round_, ports.previous_round(round_))
    actor = require_actor(uow.actor)
    actor.require_read(unit.path, "org unit")
    if unit.type not in checks.CHECKED_TYPES:
        raise forbidden("only schools, CDCs and LAOs have checks to explain")
    if not actor.is_system and actor.org_unit_id != unit.id:
        raise forbidden("a unit's queries are explained by its own users")
    handlers.require_open(window)
    body = load(ExplanationsSet(), data)
    lock_for_edit(uow, rules.id, unit)  # the seal row: refused once confirmed
    checks.refresh(uow.session, rules, {unit.id: unit})
    n = checks.explain(uow.session, actor, rules, unit, body.get("items"),
                       lambda details: uow.audit("explain", "checks", f"{rules.id}:{unit.id}", details))
    checks.refresh(uow.session, rules, {unit.id: unit})
    uow.commit()
    items = checks.items_of(uow.session, actor, rules, [unit.id])
    return {"round_id": rules.id, "org_unit": _brief(unit), "saved": n, "items": items,
            **checks.own_tally(items), "blocking": len(checks.blocking(items))}


def check_tallies(uow, ports, round_id, unit_ids):
    """For the levels above (the progress report): the stored check tallies of
    each unit's subtree (:func:`tallies_of`); units the caller cannot read are left out."""
    round_id = as_id(round_id, "round")
    actor = require_actor(uow.actor)
    found = ports.units([int(i) for i in unit_ids or []])
    scope = {i: u.path for i, u in found.items() if u.path and actor.can_read(u.path)}
    return tallies_of(uow.session, round_id, scope)


def tallies_of(session, round_id, scope):
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


def refresh_queued(uow, ports, deadline):
    """Bring the stored findings of queued units up to date until ``deadline``
    (``time.monotonic()``); a round that does not exist any more is forgotten,
    one that cannot be read now waits for the next call."""
    round_ids = checks.queued_rounds(uow.session)
    uow.session.rollback()  # the rounds service is asked next: no transaction held meanwhile
    for round_id in round_ids:
        try:
            rules = rules_of(ports, round_id)
        except LecError as exc:
            if exc.code != "not_found":
                raise
            checks.forget_round(uow.session, round_id)  # no such round: nothing of it to check
            uow.commit()
            log.warning("checks queued for round %s dropped: there is no such round", round_id)
            continue
        except Exception:  # the round cannot be read now: its queue waits for the next tick
            log.warning("checks of round %s not refreshed: the round could not be read", round_id,
                        exc_info=True)
            continue
        config = settings.current()
        while time.monotonic() < deadline:
            done = checks.refresh_queued(uow.session, rules, 200, settle=config.checks_settle,
                                         max_wait=config.checks_max_wait)
            uow.commit()
            if not done:
                break
