"""No learner is counted twice in a round: the refusal names the holder to those
who may read it (to others only its province), is audited, and an account that
keeps finding learners held elsewhere is slowed down; the database decides races,
and a removal frees the learner for another institution."""
import csv
import io
import threading

import pytest

from tests.client import Tree
from tests.system.enrollment_helpers import (
    enrollment_rows, error, learner, learners_url, national_id, new_round,
)


@pytest.fixture(scope="module")
def world(admin):
    return Tree.build(admin), new_round(admin)


def province_of(t):
    return {"code": t.units["province"]["code"], "name": t.units["province"]["name"]}


def test_a_duplicate_names_the_holder_only_to_whom_may_read_it(world):
    t, r = world
    child = learner()
    t["school_a"].ok("POST", learners_url(r, t, "school_a"), 201, json=child)
    # another institution, in another LAO: it may not read school a, so it learns the province only
    resp = t["school_b"].post(learners_url(r, t, "school_b"), dict(child, first_name="อื่น"))
    body = error(resp, 409, "duplicate_learner")
    assert body["held_in"] == province_of(t)
    assert set(body) == {"code", "title", "description", "held_in", "transfer"}
    assert body["transfer"] == {"possible": True}  # school b may ask school a for the child
    for private in (child["national_id"], child["first_name"], child["last_name"], child["birth_date"],
                    t.units["school_a"]["code"], t.units["school_a"]["name"]):
        assert private not in resp.text
    assert t.id("school_a") not in body.values() and str(t.id("school_a")) not in body["description"].split()
    # a sibling institution of the same LAO may not read school a either
    body = error(t["cdc_a"].post(learners_url(r, t, "cdc_a"), dict(child, grade="cdc", birth_date="2022-08-01")),
                 409, "duplicate_learner")
    assert body["held_in"] == province_of(t) and "held_by" not in body
    # the same institution twice: its own id
    body = error(t["school_a"].post(learners_url(r, t, "school_a"), child), 409, "duplicate_learner")
    assert body["held_by"] == t.id("school_a") and "held_in" not in body
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
    assert body["held_in"] == province_of(t)
    # a correction that would give a learner someone else's ID is refused the same way
    other = t["school_a"].ok("POST", learners_url(r, t, "school_a"), 201, json=learner())
    body = error(t["school_a"].patch(f"/learners/{other['id']}", {"national_id": child["national_id"]}),
                 409, "duplicate_learner")
    assert body["held_in"] == province_of(t) and "held_by" not in body
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
        assert lost.json()["held_in"] == province_of(t)
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


# -- audit and the limit on probing ---------------------------------------------------------

def csv_of(people):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["national_id", "first_name", "last_name", "sex", "birth_date", "grade"])
    for p in people:
        writer.writerow([p["national_id"], p["first_name"], p["last_name"], p["sex"], p["birth_date"],
                         p["grade"]])
    return buffer.getvalue().encode()


def import_csv(client, url, people):
    resp = client.post(url + "/import", data=csv_of(people), headers={"Content-Type": "text/csv"}, timeout=120)
    assert resp.status_code == 200, resp.text
    return resp.json()


def probes_of(client):
    return enrollment_rows("SELECT coalesce(sum(refusals), 0) AS n FROM duplicate_probes WHERE user_id = :u",
                           u=client.user["id"])[0]["n"]


def test_a_refusal_is_audited_though_the_change_is_rolled_back(world):
    t, r = world
    child = learner()
    held = t["school_a"].ok("POST", learners_url(r, t, "school_a"), 201, json=child)
    resp = t["school_b"].post(learners_url(r, t, "school_b"), child)
    error(resp, 409, "duplicate_learner")
    rows = enrollment_rows("SELECT actor_id, actor_unit_id, entity, entity_id, details FROM audit_log "
                           "WHERE action = 'refuse_duplicate' AND entity_id = :e", e=str(held["id"]))
    assert len(rows) == 1, rows
    row = rows[0]
    assert (row["actor_id"], row["actor_unit_id"], row["entity"]) == \
        (t["school_b"].user["id"], t.id("school_b"), "learner")
    assert row["details"]["attempt"] == "add" and row["details"]["institution_id"] == t.id("school_b")
    assert row["details"]["refusals"] == [{"row": None, "learner_id": held["id"], "held_by": t.id("school_a"),
                                           "answer": "duplicate_learner"}]
    assert child["national_id"] not in str(row)
    # nothing of the refused change stayed
    assert enrollment_rows("SELECT count(*) AS n FROM learners WHERE round_id = :r AND id_number = :n",
                           r=r["id"], n=child["national_id"]) == [{"n": 1}]


def test_an_account_finding_many_learners_held_elsewhere_is_slowed_down(admin):
    """30 refusals against other institutions per account in 10 minutes are answered;
    beyond that, rate_limited. A file's own repeated rows and a second import of a
    file do not count."""
    t = Tree.build(admin)
    r = new_round(admin)
    held = [learner() for _ in range(33)]
    result = import_csv(t["school_a"], learners_url(r, t, "school_a"), held)
    assert result["accepted"] == 33

    # school b's own work first: a file with a repeated row, imported twice, is no probing
    own = [learner() for _ in range(3)]
    url_b = learners_url(r, t, "school_b")
    first = import_csv(t["school_b"], url_b, own + own[:1])
    assert first["accepted"] == 3 and [x["code"] for x in first["rejected"]] == ["duplicate_learner"]
    again = import_csv(t["school_b"], url_b, own)
    assert (again["accepted"], again["unchanged"]) == (0, 3)
    changed = import_csv(t["school_b"], url_b, [dict(own[0], first_name="อื่น")])
    assert changed["rejected"][0]["held_by"] == t.id("school_b")
    assert probes_of(t["school_b"]) == 0

    # 33 learners held at school a: the first 30 rows are answered, the last three are not
    fresh = learner()
    result = import_csv(t["school_b"], url_b, held + [fresh])
    assert result["accepted"] == 1
    by_row = {x["row"]: x for x in result["rejected"]}
    assert sorted(by_row) == list(range(2, 35))
    for row in range(2, 32):
        assert by_row[row]["code"] == "duplicate_learner" and by_row[row]["held_in"] == province_of(t)
        assert "held_by" not in by_row[row]
    for row in range(32, 35):
        assert by_row[row]["code"] == "rate_limited" and 0 < by_row[row]["retry_after"] <= 600
        assert "held_in" not in by_row[row] and "held_by" not in by_row[row]
    assert probes_of(t["school_b"]) == 30

    # a single add of a learner held elsewhere is now answered 429, with Retry-After
    resp = t["school_b"].post(url_b, held[0])
    body = error(resp, 429, "rate_limited")
    assert 0 < body["retry_after"] <= 600 and resp.headers["Retry-After"] == str(body["retry_after"])
    assert "held_in" not in body and "held_by" not in body and t.units["province"]["name"] not in resp.text
    # ... while the account's ordinary work goes on, and other accounts are not affected
    t["school_b"].ok("POST", url_b, 201, json=learner())
    body = error(t["cdc_a"].post(learners_url(r, t, "cdc_a"), dict(held[1], grade="cdc", birth_date="2022-08-01")),
                 409, "duplicate_learner")
    assert body["held_in"] == province_of(t)
    refused = enrollment_rows("SELECT details FROM audit_log WHERE action = 'refuse_duplicate' AND actor_id = :u "
                              "ORDER BY id", u=t["school_b"].user["id"])
    answers = [x["answer"] for row in refused for x in row["details"]["refusals"]]
    assert answers.count("rate_limited") == 4 and answers.count("duplicate_learner") == 31
