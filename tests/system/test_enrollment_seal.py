"""The seal over the broker, as the confirmation service uses it, against
learners recorded through the gateway."""
import threading
import time

from tests.client import Tree
from tests.system.enrollment_helpers import (
    add, error, learner, learners_url, new_round, rpc,
)


def test_a_sealed_institution_refuses_changes_until_unsealed(admin, lec_env):
    t = Tree.build(admin)
    r = new_round(admin)
    kept, _ = add(t["school_a"], r, t, "school_a", grade="p2")
    add(t["school_a"], r, t, "school_a", grade="p2")
    add(t["school_a"], r, t, "school_a", grade="m1")
    url = learners_url(r, t, "school_a")
    with rpc(lec_env) as proxy:
        sealed = proxy.enrollment.seal(r["id"], t.id("school_a"))
        assert sealed["counts"] == {"total": 3, "by_grade": {"p2": 2, "m1": 1}}
        assert proxy.enrollment.seal(r["id"], t.id("school_a")) == sealed  # idempotent
        error(t["school_a"].post(url, learner()), 409, "unit_confirmed")
        error(t["school_a"].patch(f"/learners/{kept['id']}", {"grade": "p3"}), 409, "unit_confirmed")
        error(t["school_a"].delete(f"/learners/{kept['id']}", params={"reason": "other"}), 409,
              "unit_confirmed")
        csv = "national_id,first_name,last_name,sex,birth_date,grade\n"
        error(t["school_a"].post(url + "/import", data=csv.encode(),
                                 headers={"Content-Type": "text/csv"}), 409, "unit_confirmed")
        # reading goes on; the summary shows the seal
        assert t["lao_a"].ok("GET", url)["total"] == 3
        summary = t["school_a"].ok("GET", url + "/summary")
        assert summary["sealed"]["sealed"] is True and summary["sealed"]["counts"] == sealed["counts"]
        # the seal of one institution leaves the others open
        add(t["school_b"], r, t, "school_b")
        state = proxy.enrollment.seal_state(r["id"], [t.id("school_a"), t.id("school_b")])
        assert state[str(t.id("school_a"))]["sealed"] is True
        assert state[str(t.id("school_b"))] == {"sealed": False, "counts": None, "sealed_at": None}
        assert proxy.enrollment.unseal(r["id"], t.id("school_a"))["sealed"] is False
        assert proxy.enrollment.unseal(r["id"], t.id("school_a"))["sealed"] is False
    assert t["school_a"].ok("PATCH", f"/learners/{kept['id']}", json={"grade": "p3"})["grade"] == "p3"


def test_seal_rpc_errors(admin, lec_env):
    t = Tree.build(admin)
    r = new_round(admin)
    from services.common.errors import LecError
    with rpc(lec_env) as proxy:
        for args, code in [((r["id"], 987654321), "not_found"), ((99999999, t.id("school_a")), "not_found"),
                           ((r["id"], t.id("province")), "validation_error")]:
            try:
                proxy.enrollment.seal(*args)
            except LecError as exc:
                assert exc.code == code, (args, exc)
            else:
                raise AssertionError(f"seal{args} should fail with {code}")


def test_gateway_edits_racing_a_seal_never_change_the_sealed_count(admin, lec_env):
    """Institution users keep adding while the confirmation seals: each add is
    either counted or refused, never lost between count and seal."""
    t = Tree.build(admin)
    r = new_round(admin)
    url = learners_url(r, t, "school_a")
    results = []
    stop = threading.Event()

    def keep_adding():
        while not stop.is_set():
            resp = t["school_a"].post(url, learner(grade="p1"))
            results.append(resp)
            if resp.status_code != 201:
                return

    writers = [threading.Thread(target=keep_adding) for _ in range(4)]
    for w in writers:
        w.start()
    time.sleep(0.8)
    with rpc(lec_env) as proxy:
        sealed = proxy.enrollment.seal(r["id"], t.id("school_a"))
    time.sleep(0.3)
    stop.set()
    for w in writers:
        w.join(30)
    created = [x for x in results if x.status_code == 201]
    refused = [x for x in results if x.status_code != 201]
    assert created and refused, "the seal should have landed amid the writes"
    assert {x.json()["code"] for x in refused} == {"unit_confirmed"}
    listed = t["school_a"].ok("GET", url, params={"limit": 1000})
    assert sealed["counts"]["total"] == listed["total"] == len(created)
