"""A password hash made with other argon2 parameters is stored again, with the current
ones, by the next successful sign-in (and by nothing else)."""
import pytest
from argon2 import PasswordHasher, Type

from services.common.context import Actor
from services.common.errors import LecError
from services.registry import agencies, handlers, passwords
from tests.client import unique

PASSWORD = "stolid-quartz-heron-2569"
GATEWAY = Actor.system("gateway")
# parameters other than the current ones (argon2-cffi's old default profile, but smaller)
OLD = PasswordHasher(time_cost=2, memory_cost=8192, parallelism=2, type=Type.ID)


@pytest.fixture
def department(db_for, engines):
    """The registry as the department's user: (its handle, the department unit)."""
    handlers.bootstrap(engines["registry"])
    with db_for("registry").session() as s:
        root = s.execute(handlers.select(handlers.org_units).where(
            handlers.org_units.c.type == "department")).first()
    return db_for("registry", Actor(user_id=1, username="root", role="department",
                                    org_unit_id=root.id, path=root.path)), root


@pytest.fixture
def account(department, engines):
    """An account (in a province of its own) whose stored hash was made with ``OLD``."""
    db, root = department
    with db.uow() as uow:
        province = handlers.create_unit(uow, {"code": unique("RP"), "name": "p", "type": "province",
                                              "parent_id": root.id})
    with db.uow() as uow:
        user = handlers.create_user(uow, {"username": unique("rehash"), "password": PASSWORD,
                                          "org_unit_id": province["id"]})
    old_hash = OLD.hash(PASSWORD)
    with engines["registry"].begin() as conn:
        conn.execute(handlers.update(handlers.users).where(handlers.users.c.id == user["id"])
                     .values(password_hash=old_hash))
    return user, old_hash


def stored(engines, user_id):
    with engines["registry"].connect() as conn:
        row = conn.execute(handlers.select(handlers.users).where(handlers.users.c.id == user_id)).one()
        audits = conn.execute(handlers.text(
            "SELECT action, details FROM audit_log WHERE entity = 'user' AND entity_id = :id "
            "AND action = 'rehash_password'"), {"id": str(user_id)}).all()
    return row, audits


def sign_in(db_for, username, password, address):
    with db_for("registry", GATEWAY).uow() as uow:
        return handlers.authenticate(uow, username, password, address)


def test_an_old_hash_is_replaced_on_sign_in_and_still_verifies(db_for, engines, account):
    user, old_hash = account
    assert passwords.needs_rehash(old_hash)
    signed_in = sign_in(db_for, user["username"], PASSWORD, "10.77.0.1")
    assert signed_in["id"] == user["id"]
    row, audits = stored(engines, user["id"])
    assert row.password_hash != old_hash
    assert not passwords.needs_rehash(row.password_hash)
    assert passwords.verify(row.password_hash, PASSWORD)
    assert not passwords.verify(row.password_hash, PASSWORD + "x")
    assert row.token_version == signed_in["token_version"]  # no session of the account ends
    assert [(a.action, a.details["from"], a.details["to"]) for a in audits] == [
        ("rehash_password", "argon2id m=8192,t=2,p=2", passwords.hash_parameters(row.password_hash))]
    # the next sign-in has nothing to re-encode
    sign_in(db_for, user["username"], PASSWORD, "10.77.0.1")
    again, audits = stored(engines, user["id"])
    assert again.password_hash == row.password_hash and len(audits) == 1


def test_a_failed_sign_in_does_not_rehash(db_for, engines, account):
    user, old_hash = account
    with pytest.raises(LecError) as refused:
        sign_in(db_for, user["username"], PASSWORD + "-wrong", "10.77.0.2")
    assert refused.value.code == "invalid_credentials"
    row, audits = stored(engines, user["id"])
    assert row.password_hash == old_hash and audits == []


def test_a_disabled_account_signing_in_is_not_rehashed(db_for, engines, account):
    user, old_hash = account
    with engines["registry"].begin() as conn:
        conn.execute(handlers.update(handlers.users).where(handlers.users.c.id == user["id"])
                     .values(active=False))
    with pytest.raises(LecError):
        sign_in(db_for, user["username"], PASSWORD, "10.77.0.3")
    row, audits = stored(engines, user["id"])
    assert row.password_hash == old_hash and audits == []


def test_a_password_changed_meanwhile_is_not_overwritten(db_for, engines, account):
    user, old_hash = account
    with db_for("registry", GATEWAY).uow() as uow:
        row = handlers._login_row(uow, user["username"].lower())
    changed = passwords.hash_password("another-quartz-heron-2570", cooperative=False)
    with engines["registry"].begin() as conn:  # a password change lands between check and store
        conn.execute(handlers.update(handlers.users).where(handlers.users.c.id == user["id"])
                     .values(password_hash=changed))
    with db_for("registry", GATEWAY).uow() as uow:
        handlers._store_rehash(uow, row, passwords.hash_password(PASSWORD, cooperative=False))
        uow.commit()
    after, audits = stored(engines, user["id"])
    assert after.password_hash == changed and audits == []


def test_an_agency_secret_with_old_parameters_is_replaced_at_its_next_token(db_for, engines, department):
    db, _ = department
    with db.uow() as uow:
        client = agencies.create(uow, {"name": unique("สำนักงานทดสอบ")})
    table = agencies.agency_clients
    with engines["registry"].begin() as conn:
        conn.execute(handlers.update(table).where(table.c.id == client["id"])
                     .values(secret_hash=OLD.hash(client["client_secret"])))
    with pytest.raises(LecError):  # a wrong secret re-encodes nothing
        with db_for("registry", GATEWAY).uow() as uow:
            agencies.authenticate(uow, client["client_id"], client["client_secret"] + "x", "10.77.0.4")
    with engines["registry"].connect() as conn:
        assert passwords.needs_rehash(conn.execute(handlers.select(table.c.secret_hash).where(
            table.c.id == client["id"])).scalar_one())
    with db_for("registry", GATEWAY).uow() as uow:
        agencies.authenticate(uow, client["client_id"], client["client_secret"], "10.77.0.4")
    with engines["registry"].connect() as conn:
        stored_hash = conn.execute(handlers.select(table.c.secret_hash).where(
            table.c.id == client["id"])).scalar_one()
        audits = conn.execute(handlers.text(
            "SELECT action FROM audit_log WHERE entity = 'agency_client' AND entity_id = :id "
            "AND action = 'rehash_secret'"), {"id": str(client["id"])}).scalars().all()
    assert not passwords.needs_rehash(stored_hash)
    assert passwords.verify(stored_hash, client["client_secret"])
    assert audits == ["rehash_secret"]
