"""Reading a service's audit log: every change with who (user, username, unit),
when, what (action, entity, details) and the request it came with.

Only department users read it (through ``GET /api/v1/audit``); the details are
what the change recorded, which may name learners."""
import marshmallow as ma
from marshmallow import fields, validate
from sqlalchemy import func, select

from services.common.context import require_actor
from services.common.db import COMMON
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


def entries(session, actor, service, filters, limit=None, offset=None):
    """Newest first: ``{items, total}``."""
    require_actor(actor).require_role("department")
    limit, offset = page(limit, offset)
    q = load(AuditQuery(), {k: v for k, v in (filters or {}).items() if v not in (None, "")})
    conds = [getattr(audit_log.c, k) == q[k]
             for k in ("entity", "entity_id", "action", "actor_id", "request_id") if q.get(k) is not None]
    if q.get("since"):
        conds.append(audit_log.c.at >= q["since"])
    if q.get("until"):
        conds.append(audit_log.c.at < q["until"])
    base = select(audit_log).where(*conds)
    total = session.execute(select(func.count()).select_from(base.subquery())).scalar_one()
    rows = session.execute(base.order_by(audit_log.c.at.desc(), audit_log.c.id.desc())
                           .limit(limit).offset(offset))
    return {"items": [plain(dict(r._mapping, service=service)) for r in rows], "total": total}
