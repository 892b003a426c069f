"""No learner is counted twice in a round: the refusal names the holder, the
database decides races, and a removal frees the learner for another institution."""
import threading

import pytest

from tests.client import Tree
from tests.system.enrollment_helpers import (
    enrollment_rows, error, learner, learners_url, national_id, new_round,
)


@pytest.fixture(scope="module")
def world(admin):
    return Tree.build(admin), new_round(admin)


def test_duplicate_names_the_holding_institution_and_nothing_else(world):
    t, r = world
    child = learner()
    t["school_a"].ok("POST", learners_url(r, t, "school_a"), 201, json=child)
    # another institution, in another LAO
    resp = t["school_b"].post(learners_url(r, t, "school_b"), dict(child, first_name="อื่น"))
    body = error(resp, 409, "duplicate_learner")
    assert body["held_by"] == t.id("school_a")
    assert set(body) == {"code", "title", "description", "held_by"}
    for private in (child["national_id"], child["first_name"], child["last_name"], child["birth_date"]):
        assert private not in resp.text
    # the same institution twice
    body = error(t["school_a"].post(learners_url(r, t, "school_a"), child), 409, "duplicate_learner")
    assert body["held_by"] == t.id("school_a")
    # the same ID written with dashes is the same person
    dashed = f"{child['national_id'][:1]}-{child['national_id'][1:]}"
    error(t["school_b"].post(learners_url(r, t, "school_b"), dict(child, national_id=dashed)), 409,
          "duplicate_learner")


def test_removal_frees_the_learner_and_other_rounds_are_separate(admin, world):
    t, r = world
    child = learner()
    first = t["school_a"].ok("POST", learners_url(r, t, "school_a"), 201, json=child)
    other_round = new_round(admin)
    t["school_b"].ok("POST", learners_url(other_round, t, "school_b"), 201, json=child)
    error(t["school_b"].post(learners_url(r, t, "school_b"), child), 409, "duplicate_learner")
    t["school_a"].ok("DELETE", f"/learners/{first['id']}", 204, params={"reason": "moved_out"})
    moved = t["school_b"].ok("POST", learners_url(r, t, "school_b"), 201, json=child)
    body = error(t["school_a"].post(learners_url(r, t, "school_a"), child), 409, "duplicate_learner")
    assert body["held_by"] == t.id("school_b")
    # a correction that would give a learner someone else's ID is refused the same way
    other = t["school_a"].ok("POST", learners_url(r, t, "school_a"), 201, json=learner())
    body = error(t["school_a"].patch(f"/learners/{other['id']}", {"national_id": child["national_id"]}),
                 409, "duplicate_learner")
    assert body["held_by"] == t.id("school_b")
    rows = enrollment_rows("SELECT institution_id, status FROM learners WHERE round_id = :r "
                           "AND id_number = :n ORDER BY id", r=r["id"], n=child["national_id"])
    assert rows == [{"institution_id": t.id("school_a"), "status": "removed"},
                    {"institution_id": t.id("school_b"), "status": "active"}]
    assert moved["national_id"] == child["national_id"]


def _race(clients_and_urls, body):
    barrier = threading.Barrier(len(clients_and_urls))
    results = [None] * len(clients_and_urls)

    def post(i, client, url):
        barrier.wait()
        results[i] = client.post(url, body)

    threads = [threading.Thread(target=post, args=(i, c, u)) for i, (c, u) in enumerate(clients_and_urls)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    return results


def test_two_institutions_adding_the_same_child_at_once_one_wins_every_time(admin):
    t = Tree.build(admin)
    r = new_round(admin)
    contenders = [(t["school_a"], learners_url(r, t, "school_a"), t.id("school_a")),
                  (t["school_b"], learners_url(r, t, "school_b"), t.id("school_b"))]
    for attempt in range(30):
        child = learner(national_id=national_id())
        results = _race([(c, u) for c, u, _ in contenders], child)
        codes = sorted(resp.status_code for resp in results)
        assert codes == [201, 409], [resp.text for resp in results]
        won = next(i for i, resp in enumerate(results) if resp.status_code == 201)
        lost = results[1 - won]
        assert lost.json()["code"] == "duplicate_learner"
        assert lost.json()["held_by"] == contenders[won][2]
        assert results[won].json()["institution_id"] == contenders[won][2]
        active = enrollment_rows("SELECT institution_id FROM learners WHERE round_id = :r AND "
                                 "id_number = :n AND status = 'active'", r=r["id"], n=child["national_id"])
        assert active == [{"institution_id": contenders[won][2]}]
    total = enrollment_rows("SELECT count(*) AS n FROM learners WHERE round_id = :r", r=r["id"])
    assert total == [{"n": 30}]


def test_the_same_child_sent_twice_at_once_by_one_institution_lands_once(admin):
    t = Tree.build(admin)
    r = new_round(admin)
    url = learners_url(r, t, "cdc_a")
    for attempt in range(10):
        child = learner(grade="cdc", birth="2022-08-01")
        results = _race([(t["cdc_a"], url), (t["cdc_a"], url), (t["cdc_a"], url)], child)
        assert sorted(resp.status_code for resp in results) == [201, 409, 409]
        assert {resp.json().get("held_by") for resp in results if resp.status_code == 409} == {t.id("cdc_a")}
    assert t["cdc_a"].ok("GET", url)["total"] == 10
