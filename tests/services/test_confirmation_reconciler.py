"""The reconciler and the seal cross-check, run in-process on the confirmation
database against the real enrollment service (over the broker)."""
import os
import socket

import pytest
from nameko.standalone.rpc import ClusterRpcProxy
from sqlalchemy import select, update

from services.common.context import system_context
from services.common.db import COMMON
from services.common.values import Unit
from services.confirmation import handlers
from services.confirmation.ports import Ports
from services.confirmation.domain import Instance
from services.confirmation.models import confirmations
from tests.system.confirmation_support import add_learners, confirm, new_round

C = confirmations.c


@pytest.fixture
def ports(lec_env, system):
    with ClusterRpcProxy({"AMQP_URI": lec_env["AMQP_URI"]}, timeout=20,
                         context_data=system_context("tests")) as proxy:
        yield Ports(proxy.registry, proxy.rounds, proxy.enrollment,
                             instance=Instance(socket.gethostname(), os.getpid(), "reconciler-test"))


def state(db, rid, unit_id):
    with db.session() as session:
        return session.execute(select(C.state, C.saga_id).where(
            C.round_id == rid, C.unit_id == unit_id)).first()


def actions(db, rid, unit_id):
    audit = COMMON.audit_log
    with db.session() as session:
        return session.execute(select(audit.c.action).where(
            audit.c.entity == "confirmation", audit.c.entity_id == f"{rid}:{unit_id}")
            .order_by(audit.c.id)).scalars().all()


def ensure_rows(db, rid, unit):
    with db.uow() as uow:
        handlers.ensure_rows(uow, rid, [Unit.from_record(unit)])


def reconcile(db, ports):
    with db.uow() as uow:
        return handlers.reconcile(uow, ports)


def verify_seals(db, ports):
    with db.uow() as uow:
        return handlers.verify_seals(uow, ports)


def sealed(ports, rid, unit_id):
    return ports.enrollment.seal_state(rid, [unit_id])[str(unit_id)]["sealed"]


def test_an_orphaned_saga_is_unwound(db_for, ports, admin, tree):
    db, t = db_for("confirmation"), tree
    rid, sid = new_round(admin)["id"], t.id("cdc_a")
    add_learners(t["cdc_a"], rid, sid, ["cdc"])
    ensure_rows(db, rid, t.units["cdc_a"])
    # a confirmation whose process died after sealing: its pid is gone on this host
    ports.enrollment.seal(rid, sid)
    with db.uow() as uow:
        uow.execute(update(confirmations).where(C.round_id == rid, C.unit_id == sid).values(
            state="sealing", saga_id="00000000-0000-4000-8000-000000000001",
            saga_owner=f"{socket.gethostname()}:{2 ** 22 + 7}:gone", saga_started_at=handlers.func.now()))
        uow.commit()
    reconcile(db, ports)  # the running service's reconciler may get there first
    assert tuple(state(db, rid, sid)) == ("open", None)
    assert not sealed(ports, rid, sid)
    assert actions(db, rid, sid) == ["confirm_compensated"]


def test_a_live_saga_is_left_alone(db_for, ports, admin, tree):
    db, t = db_for("confirmation"), tree
    rid, sid = new_round(admin)["id"], t.id("school_b")
    ensure_rows(db, rid, t.units["school_b"])
    with db.uow() as uow:
        uow.execute(update(confirmations).where(C.round_id == rid, C.unit_id == sid).values(
            state="sealing", saga_id="00000000-0000-4000-8000-000000000002",
            saga_owner=str(ports.instance), saga_started_at=handlers.func.now()))
        uow.commit()
    assert reconcile(db, ports) == []
    assert state(db, rid, sid).state == "sealing"
    with db.uow() as uow:  # leave nothing for the running service to trip over
        uow.execute(update(confirmations).where(C.round_id == rid, C.unit_id == sid).values(
            state="open", saga_id=None, saga_owner=None, saga_started_at=None))
        uow.commit()


def test_seals_are_cross_checked(db_for, ports, admin, tree):
    db, t = db_for("confirmation"), tree
    rid = new_round(admin)["id"]
    stray, lost = t.id("school_a"), t.id("school_b")
    add_learners(t["school_b"], rid, lost, ["p1", "p2"])
    # an open unit sealed behind its back (a seal that arrived after its saga was unwound)
    ensure_rows(db, rid, t.units["school_a"])
    ports.enrollment.seal(rid, stray)
    # a confirmed unit whose seal went away
    confirm(t["school_b"], rid, lost)
    ports.enrollment.unseal(rid, lost)
    verify_seals(db, ports)
    assert not sealed(ports, rid, stray)
    assert "stray_seal_undone" in actions(db, rid, stray)
    assert sealed(ports, rid, lost)
    assert ports.enrollment.seal_state(rid, [lost])[str(lost)]["counts"]["total"] == 2
    assert actions(db, rid, lost)[-1] == "resealed"
    assert verify_seals(db, ports) == []  # consistent now
