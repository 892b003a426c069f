"""Reading a service's audit log: every change with who (user, username, unit),
when, what (action, entity, details) and the request it came with.

Department users read all of it (through ``GET /api/v1/audit``); province and
LAO users read the part of their subtree: the gateway passes a ``scope`` (the
unit's path and the ids of the unit and every unit beneath it), and an entry
belongs to it when the acting user's unit or the unit the entity belongs to is
one of those ids (:func:`entity_unit`). The details are what the change
recorded, which may name learners."""
import marshmallow as ma
from marshmallow import fields, validate
from sqlalchemy import String, case, func, literal, or_, select

from services.common import hierarchy
from services.common.context import require_actor
from services.common.db import COMMON
from services.common.errors import LecError
from services.common.jsonutil import plain
from services.common.validation import load, page

audit_log = COMMON.audit_log


class AuditQuery(ma.Schema):
    entity = fields.String(load_default=None, validate=validate.Length(max=64))
    entity_id = fields.String(load_default=None, validate=validate.Length(max=128))
    action = fields.String(load_default=None, validate=validate.Length(max=64))
    actor_id = fields.Integer(load_default=None)
    request_id = fields.String(load_default=None, validate=validate.Length(max=64))
    since = fields.AwareDateTime(load_default=None)
    until = fields.AwareDateTime(load_default=None)


class AuditEntry(ma.Schema):
    id = fields.Integer()
    service = fields.String()
    at = fields.AwareDateTime()
    actor_id = fields.Integer(allow_none=True)
    actor_username = fields.String(allow_none=True)
    actor_unit_id = fields.Integer(allow_none=True)
    action = fields.String()
    entity = fields.String()
    entity_id = fields.String(allow_none=True)
    details = fields.Raw(allow_none=True)
    request_id = fields.String(allow_none=True)


def entity_unit():
    """The id (as text) of the unit an entry's entity belongs to: the unit
    itself (``org_unit``), the unit of a ``<round>:<unit>`` entity (a
    confirmation, seal or headcount), else the unit its details name
    (``org_unit_id`` of an account or an extension, ``institution_id`` of a
    learner or an import); NULL when none."""
    details = audit_log.c.details
    return case(
        (audit_log.c.entity == literal("org_unit"), audit_log.c.entity_id),
        (audit_log.c.entity_id.like("%:%"), func.split_part(audit_log.c.entity_id, ":", 2)),
        else_=func.coalesce(details["org_unit_id"].astext, details["institution_id"].astext,
                            details["unit_id"].astext),
    ).cast(String)


def scope_condition(actor, scope):
    """The entries of a subtree, re-checked against the acting user: the
    scope's root must be the caller's unit or beneath it."""
    path, ids = scope.get("path"), [int(i) for i in scope.get("unit_ids") or ()]
    if not isinstance(path, str) or not actor.can_read(path) or hierarchy.unit_id_of(path) not in ids:
        raise LecError("not_found", "org unit not found")
    texts = [str(i) for i in ids]
    return or_(audit_log.c.actor_unit_id.in_(ids), entity_unit().in_(texts))


def entries(session, actor, service, filters, limit=None, offset=None, scope=None):
    """Newest first: ``{items, total}``. Without a ``scope`` (every entry) for
    department users only; with one for department, province and LAO users."""
    actor = require_actor(actor)
    if scope is None:
        actor.require_role("department")
    else:
        actor.require_role("department", "province", "lao")
    limit, offset = page(limit, offset)
    q = load(AuditQuery(), {k: v for k, v in (filters or {}).items() if v not in (None, "")})
    conds = [getattr(audit_log.c, k) == q[k]
             for k in ("entity", "entity_id", "action", "actor_id", "request_id") if q.get(k) is not None]
    if q.get("since"):
        conds.append(audit_log.c.at >= q["since"])
    if q.get("until"):
        conds.append(audit_log.c.at < q["until"])
    if scope is not None:
        conds.append(scope_condition(actor, scope))
    base = select(audit_log).where(*conds)
    total = session.execute(select(func.count()).select_from(base.subquery())).scalar_one()
    rows = session.execute(base.order_by(audit_log.c.at.desc(), audit_log.c.id.desc())
                           .limit(limit).offset(offset))
    return {"items": [plain(dict(r._mapping, service=service)) for r in rows], "total": total}
