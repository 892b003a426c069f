"""Registry rules in-process: races on unique codes, bootstrap, ancestry."""
import eventlet
import pytest

from services.common.context import Actor
from services.common.errors import LecError
from services.registry import handlers
from tests.client import unique


@pytest.fixture
def root_actor(db_for, engines):
    handlers.bootstrap(engines["registry"])  # no-op when the system already made it
    with db_for("registry").session() as s:
        row = s.execute(handlers.select(handlers.org_units).where(
            handlers.org_units.c.type == "department")).first()
    return Actor(user_id=1, username="root", role="department", org_unit_id=row.id, path=row.path)


def test_bootstrap_runs_once(engines):
    handlers.bootstrap(engines["registry"])
    assert handlers.bootstrap(engines["registry"]) is False  # the department exists already
    with engines["registry"].connect() as conn:
        assert conn.execute(handlers.text(
            "SELECT count(*) FROM org_units WHERE type = 'department'")).scalar_one() == 1


def test_racing_creates_of_one_code_give_exactly_one_unit(db_for, root_actor):
    code = unique("RACE")
    results = []

    def create():
        with db_for("registry", root_actor).uow() as uow:
            try:
                results.append(handlers.create_unit(uow, {
                    "code": code, "name": "แข่ง", "type": "province", "parent_id": root_actor.org_unit_id}))
            except LecError as exc:
                results.append(exc.code)

    pool = eventlet.GreenPool()
    for _ in range(8):
        pool.spawn(create)
    pool.waitall()
    units = [r for r in results if isinstance(r, dict)]
    assert len(units) == 1, results
    assert sorted(r for r in results if isinstance(r, str)) == ["conflict"] * 7


def test_is_ancestor_and_subtree(db_for, root_actor):
    db = db_for("registry", root_actor)
    with db.uow() as uow:
        p = handlers.create_unit(uow, {"code": unique("P"), "name": "p", "type": "province",
                                                   "parent_id": root_actor.org_unit_id})
    with db.uow() as uow:
        lao = handlers.create_unit(uow, {"code": unique("L"), "name": "l", "type": "lao",
                                                     "parent_id": p["id"]})
    with db.uow() as uow:
        assert handlers.is_ancestor(uow, p["id"], lao["id"]) is True
        assert handlers.is_ancestor(uow, lao["id"], p["id"]) is False
        assert handlers.is_ancestor(uow, lao["id"], lao["id"]) is False
        assert [u["id"] for u in handlers.subtree(uow, p["id"])] == [lao["id"]]


def test_every_change_is_audited_with_its_actor(db_for, engines, root_actor):
    db = db_for("registry", root_actor)
    with db.uow() as uow:
        unit = handlers.create_unit(uow, {"code": unique("A"), "name": "a", "type": "province",
                                                      "parent_id": root_actor.org_unit_id})
    with engines["registry"].connect() as conn:
        row = conn.execute(handlers.text(
            "SELECT actor_username, action, entity FROM audit_log WHERE entity_id = :id"),
            {"id": str(unit["id"])}).one()
    assert tuple(row) == ("root", "create", "org_unit")
