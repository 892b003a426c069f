"""Registry use cases. Each takes a unit of work (or a uow for reads) and
the acting user, checks authority with the rules of ``services.common.hierarchy``
and returns plain JSON-ready dicts."""
import logging

from sqlalchemy import and_, bindparam, func, insert, or_, select, text, update
from sqlalchemy.exc import IntegrityError

from services.common import hierarchy, settings
from services.common.vocabulary import LEAF_TYPES, UNIT_TYPES
from services.common.context import require_actor
from services.common.errors import LecError, conflict, forbidden, not_found, validation_error
from services.common.jsonutil import plain
from services.common.validation import as_id, load, page
from services.registry import profiles, throttle
from services.registry.models import org_units, users
from services.registry.profile_schemas import REGISTRY_STATUSES
from services.registry.passwords import (
    check_strength, hash_parameters, hash_password, needs_rehash, verify, weakness,
)
from services.registry.schemas import (
    CloseUnit, Credentials, OrgUnitCreate, PasswordChange, UserCreate, UserUpdate,
)

log = logging.getLogger(__name__)

UNIT_FIELDS = ("id", "code", "name", "type", "parent_id", "status", "affiliation", "path",
               "depth", "closed_on", "created_at", "verified_at", "version", "rejection_reason")
USER_FIELDS = ("id", "username", "role", "org_unit_id", "active", "created_at", "last_login_at",
               "password_changed_at")


def unit_dict(row):
    m = row._mapping
    return plain({k: m[k] for k in UNIT_FIELDS})


def user_dict(row):
    m = row._mapping
    return plain({k: m[k] for k in USER_FIELDS})


def require_strong(password, field, *user_inputs):
    """``validation_error`` on ``field`` for a password easy to guess (services.registry.passwords)."""
    problem = check_strength(password, user_inputs)
    if problem:
        raise validation_error({field: [problem]})


# -- reads -------------------------------------------------------------------

def _unit_row(uow, unit_id, lock=False):
    stmt = select(org_units).where(org_units.c.id == unit_id)
    if lock:
        stmt = stmt.with_for_update()
    return uow.execute(stmt).first()


def get_unit(uow, unit_id):
    """With its profile, survey and documents count (services.registry.profiles)."""
    return profiles.get_unit(uow, unit_id)


def get_units(uow, ids):
    ids = [int(i) for i in ids or []]
    if not ids:
        return []
    rows = uow.execute(select(org_units).where(org_units.c.id.in_(ids))).all()
    return [unit_dict(r) for r in rows]


UNITS_PAGE_MAX = 5000


def units_page(uow, after_id=0, limit=1000):
    """Every unit, by id, ``limit`` (at most ``UNITS_PAGE_MAX``) after ``after_id``: how a
    service fills its copy of the units once. A rejected unit comes as ``pending``, as in
    the ``unit_changed`` event."""
    after, size = as_id(after_id or 0, "after_id"), max(1, min(as_id(limit or 1000, "limit"), UNITS_PAGE_MAX))
    rows = uow.execute(select(org_units).where(org_units.c.id > after).order_by(org_units.c.id)
                       .limit(size)).all()
    units = [unit_dict(r) for r in rows]
    for unit in units:
        if unit["status"] == "rejected":
            unit["status"] = "pending"
    return units


CONTACT_BATCH = 5000


def contacts(uow, unit_ids):
    """{str(unit id): [{username, role, last_login_at}]}: the active accounts of
    each unit the acting user may read (units outside its subtree are left out),
    for "who blocks me" lists. Every unit asked for and readable has a key."""
    actor = require_actor(uow.actor)
    try:
        ids = sorted({int(i) for i in unit_ids or []})
    except (TypeError, ValueError):
        raise validation_error({"unit_ids": ["a list of unit ids"]})
    result = {}
    for i in range(0, len(ids), CONTACT_BATCH):
        batch = ids[i:i + CONTACT_BATCH]
        readable = {r.id for r in uow.execute(select(org_units.c.id, org_units.c.path)
                                                  .where(org_units.c.id.in_(batch)))
                    if actor.can_read(r.path)}
        for unit_id in sorted(readable):
            result[str(unit_id)] = []
        if not readable:
            continue
        rows = uow.execute(
            select(users.c.org_unit_id, users.c.username, users.c.role, users.c.last_login_at)
            .where(users.c.org_unit_id.in_(sorted(readable)), users.c.active.is_(True))
            .order_by(users.c.org_unit_id, users.c.username))
        # the contact officer of the unit's profile first, then its accounts
        for unit_id, officer in profiles.profile_contacts(uow, sorted(readable)).items():
            result[str(unit_id)].append({"username": None, "role": "officer", "last_login_at": None,
                                         **officer})
        for row in rows:
            result[str(row.org_unit_id)].append(plain({
                "username": row.username, "role": row.role, "last_login_at": row.last_login_at}))
    return result


def list_children(uow, unit_id, type=None, status=None, limit=None, offset=None,
                  unpaged=False, q=None, affiliation=None):
    """The units directly under a unit, by code; ``q``: only those whose name or
    code contains it (case-insensitive); ``affiliation``: only other-affiliation
    schools of it (services.common.affiliations)."""
    parent = profiles.readable_unit(uow, unit_id)
    cond = [org_units.c.parent_id == parent.id]
    errors = {}
    if q not in (None, ""):
        if not isinstance(q, str) or len(q) > 100:
            errors["q"] = ["at most 100 characters"]
        else:
            pattern = "%" + q.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            cond.append(or_(org_units.c.name.ilike(pattern, escape="\\"),
                            org_units.c.code.ilike(pattern, escape="\\")))
    if type:
        if type not in UNIT_TYPES:
            errors["type"] = [f"one of {', '.join(UNIT_TYPES)}"]
        cond.append(org_units.c.type == type)
    if status:
        if status not in REGISTRY_STATUSES:
            errors["status"] = [f"one of {', '.join(REGISTRY_STATUSES)}"]
        cond.append(org_units.c.status == status)
    if affiliation not in (None, ""):
        from services.common.affiliations import CODES
        if affiliation not in CODES:
            errors["affiliation"] = [f"one of {', '.join(CODES)}"]
        cond.append(org_units.c.affiliation == affiliation)
    if errors:
        raise validation_error(errors)
    stmt = select(org_units).where(and_(*cond)).order_by(org_units.c.code)
    total = uow.execute(select(func.count()).select_from(org_units).where(and_(*cond))).scalar_one()
    if not unpaged:
        limit, offset = page(limit, offset)
        stmt = stmt.limit(limit).offset(offset)
    return {"items": [profiles.unit_detail(r) for r in uow.execute(stmt)], "total": total}


def _like_escaped(text):
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def list_descendants(uow, unit_id, q=None, type=None, status=None, limit=None,
                     offset=None):
    """The units beneath a unit at any depth (not itself), by path; ``q``: only those
    whose code starts with it or whose name contains it (case-insensitive). The path
    prefix is served by the ``text_pattern_ops`` index of ``org_units.path``."""
    root = profiles.readable_unit(uow, unit_id)
    cond = [org_units.c.path.like(root.path + "%"), org_units.c.id != root.id]
    errors = {}
    if q not in (None, ""):
        if not isinstance(q, str) or len(q) > 100:
            errors["q"] = ["at most 100 characters"]
        elif q.strip():
            wanted = _like_escaped(q.strip())
            cond.append(or_(org_units.c.code.ilike(wanted + "%", escape="\\"),
                            org_units.c.name.ilike("%" + wanted + "%", escape="\\")))
    if type not in (None, ""):
        if type not in UNIT_TYPES:
            errors["type"] = [f"one of {', '.join(UNIT_TYPES)}"]
        cond.append(org_units.c.type == type)
    if status not in (None, ""):
        if status not in REGISTRY_STATUSES:
            errors["status"] = [f"one of {', '.join(REGISTRY_STATUSES)}"]
        cond.append(org_units.c.status == status)
    if errors:
        raise validation_error(errors)
    limit, offset = page(limit, offset)
    where = and_(*cond)
    total = uow.execute(select(func.count()).select_from(org_units).where(where)).scalar_one()
    rows = uow.execute(select(org_units).where(where).order_by(org_units.c.path)
                           .limit(limit).offset(offset))
    return {"items": [profiles.unit_detail(r) for r in rows], "total": total}


def subtree(uow, unit_id, types=None, statuses=None):
    """Every unit beneath ``unit_id`` (not itself), optionally filtered."""
    root = _unit_row(uow, int(unit_id))
    if root is None:
        raise not_found("org unit")
    cond = [org_units.c.path.like(root.path + "%"), org_units.c.id != root.id]
    if types:
        cond.append(org_units.c.type.in_(list(types)))
    if statuses:
        cond.append(org_units.c.status.in_(list(statuses)))
    rows = uow.execute(select(org_units).where(and_(*cond)).order_by(org_units.c.path))
    return [unit_dict(r) for r in rows]


def is_ancestor(uow, ancestor_id, unit_id):
    rows = {r.id: r.path for r in uow.execute(
        select(org_units.c.id, org_units.c.path).where(org_units.c.id.in_([int(ancestor_id), int(unit_id)])))}
    if len(rows) < 2 and int(ancestor_id) != int(unit_id):
        return False
    return hierarchy.is_strict_ancestor(rows.get(int(ancestor_id)), rows.get(int(unit_id)))


# -- org-unit changes ----------------------------------------------------------

def _emit_unit(uow, change, row):
    unit = unit_dict(row)
    event_unit = dict(unit, profile=plain(row.profile or {}))
    if row.status == "rejected":  # the other services know it as not verified yet
        event_unit["status"] = "pending"
    uow.emit("unit_changed", {"change": change, "unit": event_unit})
    return unit


def create_unit(uow, data):
    actor = require_actor(uow.actor)
    data = load(OrgUnitCreate(), data)
    parent = profiles.readable_unit(uow, data["parent_id"], what="parent unit")
    if not hierarchy.can_create_under(actor.path, parent.path):
        raise forbidden("units are created only inside your own subtree")
    expected_parent = hierarchy.PARENT_TYPE[data["type"]]
    if parent.type != expected_parent:
        raise validation_error({"parent_id": [f"a {data['type']} belongs under a {expected_parent}, "
                                              f"not a {parent.type}"]})
    if parent.status == "closed":
        raise conflict("the parent unit is closed")
    extra = profiles.for_create(data["type"], data)  # the profile and the CDC survey, if given
    if uow.execute(select(org_units.c.id).where(org_units.c.code == data["code"])).first():
        raise conflict(f"code {data['code']} is already used")
    # institutions recorded by an LAO wait for a province or department to verify them
    status = "pending" if data["type"] in LEAF_TYPES and actor.role == "lao" else "active"
    unit_id = uow.execute(select(func.nextval("org_units_id_seq"))).scalar_one()
    try:
        with uow.session.begin_nested():
            uow.execute(insert(org_units).values(
                id=unit_id, code=data["code"], name=data["name"], type=data["type"],
                parent_id=parent.id, path=hierarchy.make_path(parent.path, unit_id),
                depth=parent.depth + 1, status=status, affiliation=data.get("affiliation"),
                created_by=actor.user_id or None,
                verified_at=None if status == "pending" else func.now(), **extra,
            ))
    except IntegrityError:
        raise conflict(f"code {data['code']} is already used")
    row = _unit_row(uow, unit_id)
    uow.audit("create", "org_unit", unit_id, {"code": row.code, "type": row.type, "status": status,
                                              "parent_id": parent.id})
    unit = _emit_unit(uow, "created", row)
    uow.commit()
    return unit


def verify_unit(uow, unit_id):
    actor = require_actor(uow.actor)
    row = profiles.readable_unit(uow, unit_id, lock=True)
    if not hierarchy.can_verify(actor.role, actor.path, row.path):
        raise forbidden("only a province or department user above the unit verifies it")
    if row.status != "pending":
        raise conflict(f"the unit is {row.status}, not pending")
    uow.execute(update(org_units).where(org_units.c.id == row.id).values(
        status="active", verified_at=func.now(), verified_by=actor.user_id or None,
        updated_at=func.now(), version=org_units.c.version + 1))
    row = _unit_row(uow, row.id)
    uow.audit("verify", "org_unit", row.id, {"code": row.code})
    unit = _emit_unit(uow, "verified", row)
    uow.commit()
    return unit


def close_unit(uow, unit_id, data):
    actor = require_actor(uow.actor)
    data = load(CloseUnit(), data or {})
    row = profiles.readable_unit(uow, unit_id, lock=True)
    if not hierarchy.can_close(actor.path, row.path):
        raise forbidden("a unit is closed by a user of a unit above it")
    if row.status == "closed":
        raise conflict("the unit is already closed")
    open_children = uow.execute(select(func.count()).select_from(org_units).where(
        org_units.c.parent_id == row.id, org_units.c.status != "closed")).scalar_one()
    if open_children:
        raise conflict(f"close the {open_children} unit(s) under it first")
    uow.execute(update(org_units).where(org_units.c.id == row.id).values(
        status="closed", closed_on=data["closed_on"], updated_at=func.now(),
        version=org_units.c.version + 1))
    row = _unit_row(uow, row.id)
    uow.audit("close", "org_unit", row.id, {"code": row.code, "closed_on": data["closed_on"]})
    unit = _emit_unit(uow, "closed", row)
    # the unit's accounts can no longer sign in; the tokens they hold end too
    _changed_users(uow, users.c.org_unit_id == row.id)
    uow.commit()
    return unit


# -- accounts --------------------------------------------------------------------

def create_user(uow, data):
    actor = require_actor(uow.actor)
    data = load(UserCreate(), data)
    unit = profiles.readable_unit(uow, data["org_unit_id"])
    require_strong(data["password"], "password", data["username"])
    role = hierarchy.ROLE_OF_TYPE.get(unit.type)
    if role is None:
        raise validation_error({"org_unit_id": ["schools of other affiliations have no accounts"]})
    if unit.status == "closed":
        raise conflict("the unit is closed")
    if uow.execute(select(users.c.id).where(func.lower(users.c.username) == data["username"].lower())).first():
        raise conflict("username already taken")
    try:
        with uow.session.begin_nested():
            user_id = uow.execute(insert(users).values(
                username=data["username"], password_hash=hash_password(data["password"]),
                org_unit_id=unit.id, role=role, created_by=actor.user_id or None,
            ).returning(users.c.id)).scalar_one()
    except IntegrityError:
        raise conflict("username already taken")
    uow.audit("create", "user", user_id, {"username": data["username"], "org_unit_id": unit.id,
                                          "role": role})
    row = uow.execute(select(users).where(users.c.id == user_id)).first()
    uow.commit()
    return user_dict(row)


def list_users(uow, org_unit_id=None, limit=None, offset=None, q=None):
    """The accounts of one unit, or of the acting user's subtree; ``q``: only those
    whose username contains it (case-insensitive)."""
    actor = require_actor(uow.actor)
    limit, offset = page(limit, offset)
    if org_unit_id not in (None, ""):
        unit = profiles.readable_unit(uow, org_unit_id)
        cond = [users.c.org_unit_id == unit.id]
    else:
        cond = [org_units.c.path.like(actor.path + "%")]
    if q not in (None, ""):
        if not isinstance(q, str) or len(q) > 100:
            raise validation_error({"q": ["at most 100 characters"]})
        if q.strip():
            cond.append(users.c.username.ilike("%" + _like_escaped(q.strip()) + "%", escape="\\"))
    base = select(users).join(org_units, org_units.c.id == users.c.org_unit_id).where(and_(*cond))
    total = uow.execute(select(func.count()).select_from(base.subquery())).scalar_one()
    rows = uow.execute(base.order_by(users.c.username).limit(limit).offset(offset))
    return {"items": [user_dict(r) for r in rows], "total": total}


def get_user(uow, user_id):
    row = uow.execute(select(users, org_units.c.path.label("path"))
                          .join(org_units, org_units.c.id == users.c.org_unit_id)
                          .where(users.c.id == _user_id(user_id))).first()
    if row is None:
        raise not_found("user")
    require_actor(uow.actor).require_read(row.path, "user")
    return dict(user_dict(row), path=row.path)


def _login_row(uow, name):
    return uow.execute(
        select(users, org_units.c.path.label("path"), org_units.c.status.label("unit_status"))
        .join(org_units, org_units.c.id == users.c.org_unit_id)
        .where(func.lower(users.c.username) == name)).first()


def authenticate(uow, username, password, client_address=None):
    """Check a password, throttled per (name, client address), per address and per
    name (services.registry.throttle). One argon2 verification whether or not the
    name exists, and the same answers: ``invalid_credentials``, or ``rate_limited``
    without any verification while a delay runs or the name is locked."""
    creds = load(Credentials(), {"username": username, "password": password})
    name = creds["username"].lower()
    keys = throttle.login_keys(name, throttle.client_key(client_address))
    throttle.claim(uow, keys)
    row = _login_row(uow, name)
    uow.commit()  # the attempt is under way: parallel ones see it
    ok = verify(row.password_hash if row is not None else None, creds["password"])
    if not (ok and row is not None and row.active and row.unit_status != "closed"):
        _failed(uow, keys, row)
        raise LecError("invalid_credentials", "wrong username or password")
    # made with other argon2 parameters: stored again with the current ones (hashed before
    # any row is locked; kept only if the password has not changed meanwhile)
    rehashed = hash_password(creds["password"]) if needs_rehash(row.password_hash) else None
    throttle.succeed(uow, keys)
    uow.execute(update(users).where(users.c.id == row.id).values(last_login_at=func.now()))
    if rehashed is not None:
        _store_rehash(uow, row, rehashed)
    uow.commit()
    return dict(user_dict(row), path=row.path, token_version=row.token_version)


def _store_rehash(uow, row, new_hash):
    """The same password, encoded with the current parameters (the token version stays:
    no session ends). Audited, as every change of an account's credentials is."""
    done = uow.execute(update(users).where(users.c.id == row.id,
                                           users.c.password_hash == row.password_hash)
                       .values(password_hash=new_hash)).rowcount
    if done:
        uow.audit("rehash_password", "user", row.id, {
            "username": row.username, "from": hash_parameters(row.password_hash),
            "to": hash_parameters(new_hash)})


def _failed(uow, keys, row):
    """A failed attempt is counted; the failure that locks an account is audited."""
    failure = throttle.fail(uow, keys)
    if failure.locked and row is not None:
        uow.audit("lock", "user", row.id, {"failures": failure.account_failures})
    uow.commit()


def _locked_user(uow, user_id):
    return uow.execute(
        select(users, org_units.c.path.label("path"), func.now().label("now"))
        .join(org_units, org_units.c.id == users.c.org_unit_id)
        .where(users.c.id == user_id).with_for_update(of=users)).first()


def _changed_users(uow, condition, values=None):
    """Apply ``values`` to the accounts that meet ``condition`` (one statement), end
    their older tokens, and tell the gateways (``user_changed``). Returns the rows."""
    rows = uow.execute(update(users).where(condition).values(
        token_version=users.c.token_version + 1, **(values or {}))
        .returning(*users.c)).all()
    if rows:
        uow.emit_many("user_changed", [{"user": {"id": r.id, "active": r.active,
                                                 "token_version": r.token_version}} for r in rows])
    return rows


def _changed_user(uow, user_id, values):
    return _changed_users(uow, users.c.id == user_id, values)[0]


def logout(uow):
    """Sign out everywhere: the acting user's account raises its token version, so
    every token it holds ends (the gateways hear of it through ``user_changed``)."""
    actor = require_actor(uow.actor)
    row = _locked_user(uow, _user_id(actor.user_id))
    if row is None or not row.active:
        raise LecError("unauthorized", "the account is not active")
    row = _changed_user(uow, row.id, {})
    uow.audit("logout", "user", row.id, {"username": row.username, "org_unit_id": row.org_unit_id})
    uow.commit()


def change_password(uow, data):
    """The signed-in user's own password; the current one must be given (wrong
    ones are throttled and count towards the account's lock, as sign-ins do),
    and the new one must not be easy to guess."""
    actor = require_actor(uow.actor)
    data = load(PasswordChange(), data)
    row = _locked_user(uow, actor.user_id)
    if row is None or not row.active:
        raise LecError("unauthorized", "the account is not active")
    require_strong(data["new_password"], "new_password", row.username)
    keys = throttle.password_change_keys(row.username)
    throttle.claim(uow, keys)
    uow.commit()
    if not verify(row.password_hash, data["current_password"]):
        _failed(uow, keys, row)
        raise validation_error({"current_password": ["wrong password"]})
    throttle.succeed(uow, keys)
    row = _changed_user(uow, row.id, {"password_hash": hash_password(data["new_password"]),
                                      "password_changed_at": func.now()})
    uow.audit("change_password", "user", row.id, {"username": row.username})
    uow.commit()
    return user_dict(row)


def update_user(uow, user_id, data):
    """A user of a unit above the account's unit resets its password (which also
    lifts a lock after failed sign-ins) and/or disables or enables it. Colleagues
    of the same unit may read the account, not change it; one's own account is
    changed through ``change_password``."""
    actor = require_actor(uow.actor)
    data = load(UserUpdate(), data)
    row = _locked_user(uow, _user_id(user_id))
    if row is None:
        raise not_found("user")
    actor.require_read(row.path, "user")
    if row.id == actor.user_id:
        raise forbidden("change your own password with POST /me/password; "
                        "a user of a unit above yours changes your account")
    if not hierarchy.can_manage_account(actor.path, row.path):
        raise forbidden("an account is reset or disabled by a user of a unit above the account's unit")
    values, changed = {}, {}
    if "password" in data:
        require_strong(data["password"], "password", row.username)
        values.update(password_hash=hash_password(data["password"]), password_changed_at=func.now())
        throttle.lift(uow, row.username)
        changed["password"] = "reset"
    if "active" in data and data["active"] != row.active:
        values["active"] = data["active"]
        changed["active"] = data["active"]
    if values:
        row = _changed_user(uow, row.id, values)
        uow.audit("update", "user", row.id, {"username": row.username, **changed})
    uow.commit()
    return user_dict(row)


def _user_id(value):
    return as_id(value, "id")  # an integer within bigint, else validation_error


MAX_TOKEN_STATES = 1000


# built once: every gateway's first request of an account asks it
_TOKEN_STATES = select(users.c.id.label("user_id"), users.c.username, users.c.active, users.c.token_version,
                       users.c.role, users.c.org_unit_id, *org_units.c) \
    .join(org_units, org_units.c.id == users.c.org_unit_id).where(users.c.id.in_(bindparam("ids", expanding=True)))


def token_states(uow, user_ids):
    """user id -> ``{active, token_version, username, role, org_unit_id, path, unit}``:
    what the gateways act on for a token's account (its role and unit come from
    here, never from the token). ``unit`` is the account's unit's record, as
    ``get_units`` gives it: the unit most of the account's requests are about."""
    if not isinstance(user_ids, (list, tuple)) or len(user_ids) > MAX_TOKEN_STATES:
        raise validation_error({"user_ids": [f"a list of at most {MAX_TOKEN_STATES} ids"]})
    ids = sorted({i for i in user_ids if isinstance(i, int) and not isinstance(i, bool)
                  and 0 < i < 2 ** 63})
    rows = uow.execute(_TOKEN_STATES, {"ids": ids}) if ids else []
    return {str(r.user_id): {"active": r.active, "token_version": r.token_version, "username": r.username,
                             "role": r.role, "org_unit_id": r.org_unit_id, "path": r.path,
                             "unit": unit_dict(r)} for r in rows}


def prune_login_throttle(uow):
    """The registry's hourly timer: forget failed sign-ins that no longer count."""
    gone = throttle.prune(uow)
    uow.commit()
    return gone


# -- bootstrap -------------------------------------------------------------------

BOOTSTRAP_LOCK = 74_930_002
DEV_ADMIN_USERNAME = settings.DEV_ADMIN_USERNAME
DEV_ADMIN_PASSWORD = settings.DEV_ADMIN_PASSWORD


def check_bootstrap_account(username, password):
    """Production creates the first account only from ``LEC_ADMIN_USERNAME`` and a
    ``LEC_ADMIN_PASSWORD`` that is not easy to guess (the rules of every password);
    the service then refuses to start (SettingsError naming the setting)."""
    if not username or not password:
        raise settings.SettingsError("the registry is empty and production (LEC_ENV=production) "
                                     "needs LEC_ADMIN_USERNAME and LEC_ADMIN_PASSWORD for its first "
                                     "account")
    problem = weakness(password, (username,))
    if problem:
        raise settings.SettingsError(f"LEC_ADMIN_PASSWORD is refused in production: {problem}")


def bootstrap_account(username, password):
    """The name and password of the first account, with a start-up message that says
    where each came from: ``LEC_ADMIN_USERNAME`` / ``LEC_ADMIN_PASSWORD`` when set,
    otherwise the development defaults (the password is documented in the README and
    never logged)."""
    name_source = "LEC_ADMIN_USERNAME" if username else "the default name (LEC_ADMIN_USERNAME not set)"
    username = username or DEV_ADMIN_USERNAME
    if password:
        log.info("bootstrap: creating the first account %s (name: %s) with the password of "
                 "LEC_ADMIN_PASSWORD", username, name_source)
        return username, password
    log.warning("LEC_ADMIN_PASSWORD not set: creating the development account %s (name: %s) "
                "with the documented development password - set LEC_ADMIN_USERNAME and "
                "LEC_ADMIN_PASSWORD in any real deployment", username, name_source)
    return username, DEV_ADMIN_PASSWORD


def bootstrap(engine):
    """With an empty registry, create the department unit and its first account."""
    configured = settings.current()
    username, password = configured.admin_username, configured.admin_password
    with engine.begin() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": BOOTSTRAP_LOCK})
        if conn.execute(select(org_units.c.id).where(org_units.c.type == "department")).first():
            return False
        if settings.production():
            check_bootstrap_account(username, password)
        username, password = bootstrap_account(username, password)
        unit_id = conn.execute(select(func.nextval("org_units_id_seq"))).scalar_one()
        conn.execute(insert(org_units).values(
            id=unit_id, code=configured.department_code, name=configured.department_name,
            type="department", parent_id=None, path=hierarchy.make_path(None, unit_id), depth=0,
            status="active", verified_at=func.now()))
        conn.execute(insert(users).values(username=username,
                                          password_hash=hash_password(password, cooperative=False),
                                          org_unit_id=unit_id, role="department"))
        log.info("bootstrap: department unit %s and account %s created", unit_id, username)
        return True
