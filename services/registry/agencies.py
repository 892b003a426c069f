"""Agency clients: read-only API clients of other agencies, managed by the department.

An agency signs in with client credentials (``client_id`` and a secret shown once,
stored argon2-hashed as passwords are), throttled like a sign-in, and acts with the
role ``agency``: no unit, no hierarchy; the gateway lets it reach only an explicit
list of read-only routes (``gateway.access.AGENCY_ROUTES``). A rotation or a disable
raises the client's token version, so its older tokens stop at once (the gateways
hear of it through ``user_changed`` with ``{"agency": {...}}``).
"""
import secrets

from sqlalchemy import func, insert, select, update

from services.common.context import require_actor
from services.common.errors import LecError, not_found
from services.common.jsonutil import plain
from services.common.validation import as_id, load, page
from services.registry import throttle
from services.registry.agency_schemas import AgencyCreate, ClientCredentials
from services.registry.models import agency_clients
from services.registry.passwords import hash_parameters, hash_password, needs_rehash, verify

A = agency_clients.c
FIELDS = ("id", "client_id", "name", "description", "active", "created_at", "rotated_at",
          "disabled_at", "last_token_at")
CLIENT_PREFIX = "lec-agency-"
THROTTLE_PREFIX = "agency:"  # the throttle's names of clients, apart from account names


def agency_dict(row, secret=None):
    m = row._mapping
    out = plain({k: m[k] for k in FIELDS})
    if secret is not None:
        out["client_secret"] = secret
    return out


def _department(uow):
    actor = require_actor(uow.actor)
    actor.require_role("department")
    return actor


def _new_secret():
    return secrets.token_urlsafe(32)


def _changed(uow, row):
    """Tell the gateways: the client's tokens of older versions end."""
    uow.emit("user_changed", {"agency": {"id": row.id, "active": row.active,
                                         "token_version": row.token_version}})


def create(uow, data):
    actor = _department(uow)
    data = load(AgencyCreate(), data)
    secret = _new_secret()
    row = uow.execute(insert(agency_clients).values(
        client_id=CLIENT_PREFIX + secrets.token_hex(8), secret_hash=hash_password(secret),
        name=data["name"], description=data.get("description"), created_by=actor.user_id)
        .returning(*agency_clients.c)).first()
    uow.audit("create", "agency_client", row.id, {"client_id": row.client_id, "name": row.name})
    uow.commit()
    return agency_dict(row, secret)


def list_agencies(uow, limit=None, offset=None):
    _department(uow)
    limit, offset = page(limit, offset)
    total = uow.execute(select(func.count()).select_from(agency_clients)).scalar_one()
    rows = uow.execute(select(agency_clients).order_by(A.active.desc(), A.name, A.id)
                           .limit(limit).offset(offset))
    return {"items": [agency_dict(r) for r in rows], "total": total}


def _locked(uow, agency_id):
    row = uow.execute(select(agency_clients).where(A.id == as_id(agency_id, "id"))
                      .with_for_update()).first()
    if row is None:
        raise not_found("agency client")
    return row


def get(uow, agency_id):
    _department(uow)
    row = uow.execute(select(agency_clients).where(A.id == as_id(agency_id, "id"))).first()
    if row is None:
        raise not_found("agency client")
    return agency_dict(row)


def rotate(uow, agency_id):
    """A new secret (shown once); the old one and every token issued with it end."""
    _department(uow)
    row = _locked(uow, agency_id)
    if not row.active:
        raise LecError("conflict", "a disabled agency client keeps no secret: create a new one")
    secret = _new_secret()
    row = uow.execute(update(agency_clients).where(A.id == row.id).values(
        secret_hash=hash_password(secret), rotated_at=func.now(),
        token_version=A.token_version + 1).returning(*agency_clients.c)).first()
    throttle.lift(uow, THROTTLE_PREFIX + row.client_id)
    _changed(uow, row)
    uow.audit("rotate", "agency_client", row.id, {"client_id": row.client_id})
    uow.commit()
    return agency_dict(row, secret)


def disable(uow, agency_id):
    """The client can no longer sign in, and its tokens end at once."""
    _department(uow)
    row = _locked(uow, agency_id)
    if row.active:
        row = uow.execute(update(agency_clients).where(A.id == row.id).values(
            active=False, disabled_at=func.now(), token_version=A.token_version + 1)
            .returning(*agency_clients.c)).first()
        _changed(uow, row)
        uow.audit("disable", "agency_client", row.id, {"client_id": row.client_id})
    uow.commit()
    return agency_dict(row)


def authenticate(uow, client_id, client_secret, client_address=None):
    """Client credentials, throttled as sign-ins are (under the name ``agency:<client_id>``):
    the client's token claims (id, token version, client_id, name); ``invalid_credentials``
    otherwise, the same answer whether the client is unknown, disabled or the secret wrong."""
    creds = load(ClientCredentials(), {"client_id": client_id, "client_secret": client_secret})
    name = THROTTLE_PREFIX + creds["client_id"].lower()
    keys = throttle.login_keys(name, throttle.client_key(client_address))
    throttle.claim(uow, keys)
    row = uow.execute(select(agency_clients).where(func.lower(A.client_id) == creds["client_id"].lower())
                      ).first()
    uow.commit()  # the attempt is under way: parallel ones see it
    ok = verify(row.secret_hash if row is not None else None, creds["client_secret"])
    if not (ok and row is not None and row.active):
        throttle.fail(uow, keys)
        uow.commit()
        raise LecError("invalid_credentials", "wrong client_id or client_secret")
    # made with other argon2 parameters: stored again with the current ones, as a password is
    rehashed = hash_password(creds["client_secret"]) if needs_rehash(row.secret_hash) else None
    throttle.succeed(uow, keys)
    uow.execute(update(agency_clients).where(A.id == row.id).values(last_token_at=func.now()))
    if rehashed is not None and uow.execute(
            update(agency_clients).where(A.id == row.id, A.secret_hash == row.secret_hash)
            .values(secret_hash=rehashed)).rowcount:
        uow.audit("rehash_secret", "agency_client", row.id, {
            "client_id": row.client_id, "from": hash_parameters(row.secret_hash),
            "to": hash_parameters(rehashed)})
    uow.commit()
    return {"id": row.id, "client_id": row.client_id, "name": row.name,
            "token_version": row.token_version}


def token_states(uow, agency_ids):
    """agency id -> ``{active, token_version, username (its client_id), name}``."""
    ids = sorted({i for i in agency_ids or [] if isinstance(i, int) and not isinstance(i, bool)
                  and 0 < i < 2 ** 63})[:1000]
    rows = uow.execute(select(agency_clients).where(A.id.in_(ids))) if ids else []
    return {str(r.id): {"active": r.active, "token_version": r.token_version,
                        "username": r.client_id, "name": r.name} for r in rows}
