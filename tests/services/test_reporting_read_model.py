"""The reporting read model against real PostgreSQL: counts equal the owners'
after a random sequence of adds, changes, removals, headcounts, confirmations
and revocations; redelivered and out-of-order events change nothing; the
budget arithmetic on a worked example, with a band edge."""
import copy
import random
import uuid
from collections import Counter

import pytest
from sqlalchemy import select

from services.common.context import Actor
from services.common.db import COMMON
from services.common.errors import LecError
from services.reporting import queries
from services.reporting.ports import Ports
from services.reporting.schemas import LearnersAdded
from services.reporting.service import ReportingService
from tests.census import SETTINGS, Census

SYSTEM = Actor.system("tests")  # the report read in-process, with no user's limits


def _routes():
    routes = {}
    for name in dir(ReportingService):
        for ep in getattr(getattr(ReportingService, name), "nameko_entrypoints", ()):
            if type(ep).__name__ == "EventHandler":
                routes[(ep.source_service, ep.event_type)] = getattr(ReportingService, name)
    return routes


ROUTES = _routes()


class FakeRounds:
    def __init__(self, rounds):
        self.rounds = rounds

    def get_round(self, round_id):
        return self.rounds[round_id]


class Consumer:
    """The service's own event handlers (``@handles``: inbox, failures), called in-process."""

    def __init__(self, db, rounds=None):
        self.db = db
        self.ports = Ports(registry=None, rounds=FakeRounds(rounds or {}))

    def deliver(self, source, event_type, event):
        ROUTES[(source, event_type)](self, event)

    def deliver_all(self, events):
        for source, event_type, event in events:
            self.deliver(source, event_type, event)


def fresh_ids():
    """Round and unit ids of a test's own (the test database is shared by the session)."""
    base = random.SystemRandom().randrange(10**9, 9 * 10**9, 10**5)
    return base, base


def _cube_totals(cube):
    by_grade, by_sex, by_kind, ages = Counter(), Counter(), Counter(), Counter()
    for (grade, sex, kind, age), n in cube.items():
        by_grade[grade] += n
        by_sex[sex] += n
        by_kind[kind] += n
        if grade == "cdc":
            ages[str(age)] += n
    return by_grade, by_sex, by_kind, ages


def assert_read_model_matches(db, census, round_id=None):
    round_id = round_id or census.round_id
    with db.uow() as uow:
        for unit in census.units.values():
            report = queries.summary(uow, round_id, unit["id"])
            by_grade, by_sex, by_kind, ages = _cube_totals(census.cube_of(unit))
            where = f"{unit['type']} {unit['id']}"
            assert report["learners"]["by_grade"] == dict(+by_grade), where
            assert report["learners"]["total"] == sum(by_grade.values()), where
            assert report["learners"]["by_sex"] == {"M": by_sex["M"], "F": by_sex["F"]}, where
            assert report["learners"]["by_id_kind"] == {"national_id": by_kind["national_id"],
                                                        "g_code": by_kind["g_code"]}, where
            assert report["cdc"]["by_age"] == dict(+ages), where
            assert report["other_schools"]["by_grade"] == dict(census.other_by_grade_of(unit)), where
            assert report["confirmation"]["state"] == census.state.get(unit["id"], "open"), where
            for type_, tally in report["confirmation"]["by_type"].items():
                assert tally == census.tally_of(unit, type_), (where, type_)
            other = report["other_schools"]
            assert {k: other[k] for k in ("schools", "recorded", "closed")} == census.headcount_tally_of(unit), where
            if unit["type"] in ("department", "province", "lao"):
                progress = queries.progress(uow, round_id, unit["id"])
                states = {i["unit"]["id"]: i["state"] for i in progress["items"]}
                for child in census.children(unit):
                    assert states[child["id"]] == census.state.get(child["id"], "open"), child
                for item in progress["items"]:
                    child = census.units[item["unit"]["id"]]
                    expected = [census.tally_of(child, t) for t in ("school", "cdc")]
                    assert item["institutions"] == {k: sum(e[k] for e in expected) for k in ("total", "confirmed")}
                totals = {i["unit"]["id"]: i["counts"]["total"] for i in progress["items"]}
                for child in census.children(unit, confirming=False):
                    if child["status"] == "closed":       # a closed unit is not listed
                        assert child["id"] not in totals
                        continue
                    expected = sum(census.by_grade_of(child).values()) + sum(census.other_by_grade_of(child).values())
                    assert totals[child["id"]] == expected, child


def _oracle_school(pupils_lunch, pupils_milk):
    """The FY2023 rules of tests.census.SETTINGS, written out by hand."""
    if pupils_lunch == 0:
        rate = 0
    elif pupils_lunch <= 40:
        rate = 36
    elif pupils_lunch <= 100:
        rate = 27
    elif pupils_lunch <= 120:
        rate = 24
    else:
        rate = 22
    return rate * pupils_lunch * 200, round(pupils_milk * 7.35 * 260, 2)


def expected_budget(census, unit):
    lunch_grades = set(SETTINGS["lunch"]["school"]["grades"])
    lunch = milk = 0.0
    for unit_id, counts in census.sealed.items():
        u = census.units[unit_id]
        if u["type"] == "school" and u["path"].startswith(unit["path"]):
            n = sum(v for g, v in counts.items() if g in lunch_grades)
            a, b = _oracle_school(n, n)
        elif u["type"] == "cdc" and u["path"].startswith(unit["path"]):
            n = sum(counts.values())
            a, b = n * 21 * 245, round(n * 7.35 * 260, 2)
        elif u["type"] == "lao" and (u["path"].startswith(unit["path"]) or unit["path"].startswith(u["path"])):
            a = b = 0
            for school in census.children(u, confirming=False):
                if school["type"] == "other_school" and school["path"].startswith(unit["path"]):
                    n = sum(v for g, v in census.headcounts.get(school["id"], {}).get("by_grade", {}).items()
                            if g in lunch_grades)
                    x, y = _oracle_school(n, n)
                    a, b = a + x, b + y
        else:
            continue
        lunch, milk = lunch + a, milk + b
    return round(lunch, 2), round(milk, 2)


@pytest.fixture
def db(db_for):
    return db_for("reporting", SYSTEM)


def play(seed, steps=400):
    round_id, base = fresh_ids()
    census = Census(round_id, base, seed=seed)
    census.round_event()
    for inst in census.of_type("school", "cdc"):
        for _ in range(5):
            census.add_learner(inst)
    census.play(steps)
    return census


@pytest.mark.parametrize("seed", [3, 11])
def test_counts_equal_the_owners_after_a_random_session(db, seed):
    census = play(seed)
    # confirm everything possible at the end, bottom up, and finalize
    for level in ("school", "cdc", "lao", "province", "department"):
        for unit in census.of_type(level):
            census.confirm(unit)
    Consumer(db).deliver_all(census.events)
    assert any(s == "confirmed" for s in census.state.values())
    assert_read_model_matches(db, census)
    with db.uow() as uow:
        for unit in census.units.values():
            report = queries.budget(uow, census.round_id, unit["id"])
            lunch, milk = expected_budget(census, unit)
            assert report["totals"]["all"]["lunch"] == pytest.approx(lunch), unit
            assert report["totals"]["all"]["milk"] == pytest.approx(milk), unit
        rnd = queries.round_row(uow, census.round_id)
        assert rnd.finalized_at is not None


def test_redelivered_and_out_of_order_events_leave_the_same_result(db):
    census = play(seed=7, steps=500)
    in_order = Consumer(db)
    in_order.deliver_all(census.events)
    assert_read_model_matches(db, census)

    # the same history for a second round, delivered shuffled with a third of it twice
    other_round = census.round_id + 1
    events = []
    for source, event_type, event in census.events:
        event = copy.deepcopy(event)
        event["event_id"] = str(uuid.uuid4())
        if "round_id" in event:
            event["round_id"] = other_round
        if isinstance(event.get("round"), dict):
            event["round"]["id"] = other_round
        if source != "registry":  # units are shared by both rounds; re-deliver them as they are
            events.append((source, event_type, event))
        else:
            events.append((source, event_type, dict(event, event_id=event["event_id"])))
    rng = random.Random(99)
    deliveries = events + rng.sample(events, len(events) // 3)
    rng.shuffle(deliveries)
    round_body = next(e["round"] for s, t, e in events if t == "round_created")
    Consumer(db, {other_round: round_body}).deliver_all(deliveries)
    assert_read_model_matches(db, census, other_round)

    # and a redelivery of everything once more changes nothing
    with db.uow() as uow:
        before = queries.summary(uow, other_round, census.department["id"])
    Consumer(db).deliver_all(deliveries)
    with db.uow() as uow:
        assert queries.summary(uow, other_round, census.department["id"]) == before


def test_older_versions_never_overwrite_newer_ones(db):
    round_id, base = fresh_ids()
    census = Census(round_id, base, provinces=1)
    census.round_event()
    school = census.of_type("school")[0]
    learner = census.add_learner(school, grade="p1", sex="M")
    census.change_learner(learner["id"])
    census.remove_learner(learner["id"])
    consumer = Consumer(db)
    consumer.deliver_all([e for e in census.events if e[0] != "enrollment"])
    added, changed, removed = [e for e in census.events if e[0] == "enrollment"]
    for event in (removed, changed, added):   # newest first
        consumer.deliver(*event)
    with db.uow() as uow:
        report = queries.summary(uow, round_id, school["id"])
    assert report["learners"]["total"] == 0


def test_a_malformed_event_is_kept_for_retry_not_dropped(db, engines):
    round_id, base = fresh_ids()
    event = {"event_id": str(uuid.uuid4()), "type": "learner_added", "version": 1,
             "round_id": round_id, "learner": {"id": base, "version": 1, "grade": "z9"}}
    Consumer(db).deliver("enrollment", "learner_added", event)
    with engines["reporting"].connect() as conn:
        row = conn.execute(select(COMMON.failed_events).where(
            COMMON.failed_events.c.event_id == event["event_id"])).one()
    assert row.handler == "on_learner_added" and "validation_error" in row.error
    with engines["reporting"].begin() as conn:   # a running service would retry it for ever
        conn.execute(COMMON.failed_events.delete().where(COMMON.failed_events.c.id == row.id))


def test_a_count_never_goes_below_zero(db, engines):
    """The database refuses an impossible count rather than storing it."""
    round_id, base = fresh_ids()
    census = Census(round_id, base, provinces=1)
    school = census.of_type("school")[0]
    from services.reporting import handlers
    from services.reporting.models import learner_counts
    with db.uow() as uow:
        with pytest.raises(Exception, match="rp_count_not_negative"):
            handlers.move_counts(uow, learner_counts, handlers.LEARNER_KEY, {"round_id": round_id},
                                 {(school["id"], "p1", "M", "national_id", -1): -1})


# -- the budget, worked by hand -----------------------------------------------------------

def budget_world(db, settings=None, lunch_pupils=40):
    round_id, base = fresh_ids()
    census = Census(round_id, base, provinces=0)
    province = census.add_unit("province", census.department)
    lao = census.add_unit("lao", province)
    school = census.add_unit("school", lao)
    late = census.add_unit("school", census.add_unit("lao", province))
    cdc = census.add_unit("cdc", lao)
    other = census.add_unit("other_school", lao, affiliation="obec")
    census.round_event(settings=settings or SETTINGS)
    grades = ["k1", "k2", "k3", "p1", "p2", "p3", "p4", "p5", "p6"]
    for i in range(lunch_pupils):
        census.add_learner(school, grade=grades[i % 9])
    for _ in range(5):
        census.add_learner(school, grade="m1")          # not covered by lunch or milk
    for _ in range(10):
        census.add_learner(cdc, age=3)
    for _ in range(7):
        census.add_learner(late, grade="p2")            # never confirmed
    census.set_headcount(other, {"p1": 60, "p2": 61, "m1": 9})
    for unit in (school, cdc):
        census.confirm(unit)
    return census, {"province": province, "lao": lao, "school": school, "late": late, "cdc": cdc,
                    "other": other}


def test_budget_worked_example_with_a_band_edge(db):
    census, u = budget_world(db, lunch_pupils=40)
    Consumer(db).deliver_all(census.events)
    with db.uow() as uow:
        report = queries.budget(uow, census.round_id, u["lao"]["id"])
    lines = {ln["unit"]["id"]: ln for ln in report["lines"]}
    school = lines[u["school"]["id"]]
    # 40 pupils k1-p6: band 1-40 at 36 THB x 200 days; milk 7.35 x 260 days
    assert (school["lunch_pupils"], school["lunch_band"], school["lunch_rate"]) == (40, "1-40", 36.0)
    assert school["lunch"] == 40 * 36 * 200 == 288_000
    assert school["milk"] == pytest.approx(76_440.00)   # 40 x 7.35 x 260
    cdc = lines[u["cdc"]["id"]]
    assert cdc["lunch"] == 10 * 21 * 245 == 51_450 and cdc["milk"] == pytest.approx(19_110.00)
    # the LAO's other-school counts are not confirmed: listed apart, not counted
    assert u["other"]["id"] not in lines
    assert [p["unit"]["id"] for p in report["unconfirmed"]["items"]] == [u["lao"]["id"]]
    assert report["totals"]["all"]["lunch"] == 288_000 + 51_450
    assert report["totals"]["all"]["milk"] == pytest.approx(76_440 + 19_110)
    assert report["totals"]["all"]["total"] == pytest.approx(288_000 + 51_450 + 76_440 + 19_110)

    # one more pupil crosses the band edge: the whole school drops to 27 THB
    census.revoke(u["school"])
    census.add_learner(u["school"], grade="p1")
    census.confirm(u["school"])
    census.confirm(u["lao"])                  # seals the other school's 121 lunch pupils
    Consumer(db).deliver_all(census.events)
    with db.uow() as uow:
        report = queries.budget(uow, census.round_id, u["province"]["id"])
    lines = {ln["unit"]["id"]: ln for ln in report["lines"]}
    school = lines[u["school"]["id"]]
    assert (school["lunch_pupils"], school["lunch_band"], school["lunch_rate"]) == (41, "41-100", 27.0)
    assert school["lunch"] == 41 * 27 * 200 == 221_400
    assert school["milk"] == pytest.approx(78_351.00)    # 41 x 1,911
    other = lines[u["other"]["id"]]
    assert (other["lunch_pupils"], other["lunch_rate"]) == (121, 22.0)
    assert other["lunch"] == 121 * 22 * 200 == 532_400
    assert other["milk"] == pytest.approx(231_231.00)
    assert report["rows"][0]["lunch"] == 221_400 + 51_450 + 532_400
    # the unconfirmed school of the other LAO is listed apart with what it has recorded
    assert [(p["unit"]["id"], p["live_total"]) for p in report["unconfirmed"]["items"]] == [(u["late"]["id"], 7)]
    assert u["late"]["id"] not in lines
    assert report["totals"]["all"]["lunch"] == 221_400 + 51_450 + 532_400


def test_budget_figures_come_from_the_round_settings(db):
    settings = copy.deepcopy(SETTINGS)
    settings["lunch"]["school"].update(days=180, tiers=[{"min_pupils": 1, "max_pupils": 10, "rate": 50.0},
                                                        {"min_pupils": 11, "max_pupils": None, "rate": 30.0}])
    settings["milk"]["school"].update(price_per_pack=8.59, days=230)
    settings["lunch"]["cdc"].update(rate=25.0, days=200)
    census, u = budget_world(db, settings, lunch_pupils=12)
    Consumer(db).deliver_all(census.events)
    with db.uow() as uow:
        report = queries.budget(uow, census.round_id, u["lao"]["id"])
    lines = {ln["unit"]["id"]: ln for ln in report["lines"]}
    assert lines[u["school"]["id"]]["lunch"] == 12 * 30 * 180
    assert lines[u["school"]["id"]]["milk"] == pytest.approx(12 * 8.59 * 230)
    assert lines[u["cdc"]["id"]]["lunch"] == 10 * 25 * 200
    assert report["settings"]["milk"]["school"]["price_per_pack"] == 8.59


def test_reports_check_the_readers_subtree(db, db_for):
    round_id, base = fresh_ids()
    census = Census(round_id, base, provinces=2, seed=1)
    census.round_event()
    Consumer(db).deliver_all(census.events)
    p1, p2 = census.of_type("province")[:2]
    lao = next(u for u in census.of_type("lao") if u["parent_id"] == p1["id"])
    reader = Actor(user_id=1, username="lao", role="lao", org_unit_id=lao["id"], path=lao["path"])
    with db_for("reporting", reader).uow() as uow:
        assert queries.summary(uow, round_id, lao["id"])["org_unit"]["id"] == lao["id"]
        for unit in (p1, p2, census.department):
            for report in (queries.summary, queries.progress, queries.budget):
                with pytest.raises(LecError) as err:
                    report(uow, round_id, unit["id"])
                assert err.value.code == "not_found"


# -- learners in bulk: learners_added mixed with single events ------------------------------

def _fact_events(census, rng, learners=30, versions=4, per_batch=5):
    """A history of every version of some learners, each version sent either in a
    single learner_* event or inside a learners_added batch (any versions, any
    learners of the institution); returns the events and the final facts."""
    school, cdc = census.of_type("school")[0], census.of_type("cdc")[0]
    history = []
    for _ in range(learners):
        inst = rng.choice([school, cdc])
        learner = census._new_learner(inst)
        for version in range(1, rng.randint(1, versions) + 1):
            fact = copy.deepcopy(dict(learner, version=version, sex=rng.choice("MF")))
            if inst["type"] == "school":
                fact["grade"] = rng.choice(["p1", "p2", "m1"])
            else:
                fact["age_years"] = rng.randint(2, 5)
            if version > 1 and rng.random() < 0.3:
                fact.update(status="removed", removal_reason="moved_out")
            history.append(fact)
            census.learners[learner["id"]] = fact       # the owner's latest
    rng.shuffle(history)
    events, pending = [], {}
    for fact in history:
        if rng.random() < 0.4:
            kind = "learner_added" if fact["version"] == 1 else (
                "learner_removed" if fact["status"] == "removed" else "learner_changed")
            events.append(census._emit("enrollment", kind, {"round_id": census.round_id, "learner": fact}))
            continue
        inst = fact["institution"]
        batch = pending.setdefault(inst["id"], [])
        batch.append(fact)
        if len(batch) == per_batch:
            events.append(census._emit("enrollment", "learners_added", {
                "round_id": census.round_id, "institution": inst, "learners": pending.pop(inst["id"])}))
    for inst_id, batch in pending.items():
        events.append(census._emit("enrollment", "learners_added", {
            "round_id": census.round_id, "institution": batch[0]["institution"], "learners": batch}))
    return events


def _learner_rows(db, round_id):
    from services.reporting.models import learners
    with db.uow() as uow:
        return {r.learner_id: (r.version, r.grade, r.sex, r.age, r.active)
                for r in uow.execute(select(learners).where(learners.c.round_id == round_id))}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_batched_and_single_events_of_the_same_learners_in_any_order(db, seed):
    rng = random.Random(seed)
    round_id, base = fresh_ids()
    census = Census(round_id, base, provinces=1, seed=seed)
    census.round_event()
    Consumer(db).deliver_all(census.events)
    events = _fact_events(census, rng)
    assert {e["type"] for e in events} >= {"learners_added", "learner_changed"}
    assert any(f["version"] > 1 for e in events if e["type"] == "learners_added" for f in e["learners"])
    deliveries = [("enrollment", e["type"], e) for e in events]
    deliveries += rng.sample(deliveries, len(deliveries) // 2)                # redelivered
    deliveries += [("enrollment", e["type"], dict(copy.deepcopy(e), event_id=str(uuid.uuid4())))
                   for e in rng.sample(events, len(events) // 4)]            # re-published
    rng.shuffle(deliveries)
    Consumer(db).deliver_all(deliveries)
    assert_read_model_matches(db, census)
    expected = {i: (f["version"], f["grade"], f["sex"], f["age_years"] if f["grade"] == "cdc" else -1,
                    f["status"] == "active") for i, f in census.learners.items()}
    assert _learner_rows(db, round_id) == expected


def test_a_batch_stores_only_what_is_newer_and_moves_the_counts_once(db):
    round_id, base = fresh_ids()
    census = Census(round_id, base, provinces=1)
    census.round_event()
    school = census.of_type("school")[0]
    consumer = Consumer(db)
    consumer.deliver_all(census.events)
    a, b, c = (census._new_learner(school, grade="p1", sex="F") for _ in range(3))
    # b is already known at version 2 (p2); c was removed at version 3
    consumer.deliver("enrollment", "learner_changed", census._emit("enrollment", "learner_changed", {
        "round_id": round_id, "learner": dict(b, version=2, grade="p2")}))
    consumer.deliver("enrollment", "learner_removed", census._emit("enrollment", "learner_removed", {
        "round_id": round_id, "learner": dict(c, version=3, status="removed", removal_reason="other")}))
    batch = census._emit("enrollment", "learners_added", {
        "round_id": round_id, "institution": a["institution"],
        "learners": [a, b, c, dict(a, version=2, grade="m1")]})        # a twice: its newer fact counts
    consumer.deliver("enrollment", "learners_added", batch)
    consumer.deliver("enrollment", "learners_added", batch)                       # redelivered
    consumer.deliver("enrollment", "learners_added", dict(batch, event_id=str(uuid.uuid4())))  # re-published
    assert _learner_rows(db, round_id) == {a["id"]: (2, "m1", "F", -1, True), b["id"]: (2, "p2", "F", -1, True),
                                           c["id"]: (3, "p1", "F", -1, False)}
    with db.uow() as uow:
        for unit in (school, census.department):
            assert queries.summary(uow, round_id, unit["id"])["learners"]["by_grade"] == \
                {"p2": 1, "m1": 1}, unit
    # a newer fact in a later batch replaces the held one and moves the counts
    consumer.deliver("enrollment", "learners_added", census._emit("enrollment", "learners_added", {
        "round_id": round_id, "institution": a["institution"],
        "learners": [dict(b, version=3, status="removed", removal_reason="moved_out"),
                     dict(c, version=4, grade="p3")]}))
    with db.uow() as uow:
        assert queries.summary(uow, round_id, census.department["id"])["learners"]["by_grade"] == \
            {"p3": 1, "m1": 1}
    assert _learner_rows(db, round_id) == {a["id"]: (2, "m1", "F", -1, True), b["id"]: (3, "p1", "F", -1, False),
                                           c["id"]: (4, "p3", "F", -1, True)}


@pytest.mark.parametrize("bad", [
    {"grade": "z9"}, {"sex": "X"}, {"version": 0}, {"id": "7"}, {"age_years": None, "grade": "cdc"},
    {"institution": {"id": 1, "type": "school", "path": "/1/"}}, {"status": "gone"},
])
def test_a_batch_with_one_bad_learner_is_kept_for_retry_and_stores_nothing(db, engines, bad):
    round_id, base = fresh_ids()
    census = Census(round_id, base, provinces=1)
    school = census.of_type("school")[0]
    good = [census._new_learner(school) for _ in range(3)]
    event = census._emit("enrollment", "learners_added", {
        "round_id": round_id, "institution": good[0]["institution"], "learners": good + [dict(good[0], **bad)]})
    Consumer(db).deliver("enrollment", "learners_added", event)
    with engines["reporting"].connect() as conn:
        row = conn.execute(select(COMMON.failed_events).where(
            COMMON.failed_events.c.event_id == event["event_id"])).one()
    assert row.handler == "on_learners_added" and "validation_error" in row.error
    assert list(LearnersAdded().validate(event)["learners"]) == [3]      # the bad one, and only it
    assert _learner_rows(db, round_id) == {}
    with engines["reporting"].begin() as conn:
        conn.execute(COMMON.failed_events.delete().where(COMMON.failed_events.c.id == row.id))


# -- confirmations: ordered by the owner's version ---------------------------------------------

def test_an_older_confirmation_event_delivered_late_changes_nothing(db):
    round_id, base = fresh_ids()
    census = Census(round_id, base, provinces=1)
    census.round_event()
    school = census.of_type("school")[0]
    lao = census.units[school["parent_id"]]
    census.add_learner(school, grade="p1")
    consumer = Consumer(db)
    consumer.deliver_all(census.events)
    confirmed = census.confirm(school, who=41)                  # version 2
    revoked = census.revoke(school)                             # version 3
    again = census.confirm(school, who=42)                      # version 6 (unsealed at 4)
    assert (confirmed["confirmation_version"], revoked["confirmation_version"],
            again["confirmation_version"]) == (2, 3, 6)
    # the newest was stamped by a clock behind the others': the version decides, not occurred_at
    again["occurred_at"] = census._at().replace("2026-11-01", "2026-10-31")
    consumer.deliver("confirmation", "unit_confirmed", again)
    consumer.deliver("confirmation", "unit_revoked", revoked)   # older, late
    consumer.deliver("confirmation", "unit_confirmed", confirmed)
    with db.uow() as uow:
        progress = queries.progress(uow, round_id, lao["id"])
        summary = queries.summary(uow, round_id, census.department["id"])
    item = next(i for i in progress["items"] if i["unit"]["id"] == school["id"])
    assert (item["state"], item["confirmed_by"], item["confirmed_by_username"]) == ("confirmed", "42", "user.42")
    assert summary["confirmation"]["by_type"]["school"]["confirmed"] == 1
    # and the revocation, once it is the newest, takes it back
    consumer.deliver("confirmation", "unit_revoked", census.revoke(school))      # version 7
    with db.uow() as uow:
        item = next(i for i in queries.progress(uow, round_id, lao["id"])["items"]
                    if i["unit"]["id"] == school["id"])
        summary = queries.summary(uow, round_id, census.department["id"])
    assert (item["state"], item["confirmed_by_username"]) == ("open", None)
    assert summary["confirmation"]["by_type"]["school"]["confirmed"] == 0


def test_a_batch_moves_the_counts_the_single_events_would_in_their_order(db):
    """The set-based statement sums exactly what ``domain.learner_deltas`` moves
    learner by learner, and writes the rows in the same (lock) order."""
    from sqlalchemy import text

    from services.reporting import domain, handlers
    rng = random.Random(5)
    round_id, base = fresh_ids()
    census = Census(round_id, base, provinces=2, seed=5)
    institutions = census.of_type("school", "cdc")
    signed = []
    for _ in range(300):
        learner = census._new_learner(rng.choice(institutions))
        learner["status"] = rng.choice(["active", "active", "removed"])
        signed.append((domain.learner_fact(learner), rng.choice([1, 1, -1])))
    expected = domain.signed_learner_deltas(signed)
    assert len(expected) > 50 and any(v < 0 for v in expected.values())
    with db.uow() as uow:
        rows = uow.execute(text(handlers.SUMMED_LEARNER_DELTAS),
                               handlers.signed_fact_arrays(round_id, signed)).all()
    assert [((r.unit_id, r.grade, r.sex, r.id_kind, r.age), r.n) for r in rows] == list(expected.items())


def test_staff_counts_follow_every_staff_event_in_any_order(db):
    """Staff added, moved between positions and institutions, removed and
    restored, delivered shuffled with some twice: every unit's staff in the
    summary and each child's in the progress report equal the latest records."""
    round_id, base = fresh_ids()
    census = Census(round_id, base, provinces=2, seed=5)
    census.round_event()
    rng = random.Random(5)
    institutions = census.of_type("school", "cdc")
    positions = ("caregiver_teacher", "caregiver", "teacher")
    latest, events = {}, []
    for n in range(60):
        staff_id = base + 50_000 + n % 25
        held = latest.get(staff_id)
        inst = rng.choice(institutions)
        record = {"id": staff_id, "version": held["version"] + 1 if held else 1,
                  "institution": {"id": inst["id"], "path": inst["path"]},
                  "position": rng.choice(positions), "status": rng.choice(("active", "active", "removed"))}
        latest[staff_id] = record
        kind = "staff_added" if held is None else ("staff_removed" if record["status"] == "removed"
                                                   else "staff_changed")
        events.append(("enrollment", kind, {"event_id": str(uuid.uuid4()), "type": kind, "version": 1,
                                            "round_id": round_id, "staff": record}))
    consumer = Consumer(db)
    consumer.deliver_all([e for e in census.events if e[0] != "enrollment"])
    deliveries = events + rng.sample(events, len(events) // 3)
    rng.shuffle(deliveries)
    consumer.deliver_all(deliveries)

    def expected(unit):
        found = Counter(r["position"] for r in latest.values()
                        if r["status"] == "active" and r["institution"]["path"].startswith(unit["path"]))
        return {"total": sum(found.values()), "by_position": {p: found[p] for p in positions}}

    assert any(r["status"] == "active" for r in latest.values())
    with db.uow() as uow:
        for unit in census.units.values():
            staff = queries.summary(uow, round_id, unit["id"])["staff"]
            assert staff["total"] == expected(unit)["total"], unit
            assert {p: staff["by_position"].get(p, 0) for p in positions} == expected(unit)["by_position"], unit
            if unit["type"] in ("department", "province", "lao"):
                for item in queries.progress(uow, round_id, unit["id"])["items"]:
                    child = census.units[item["unit"]["id"]]
                    assert item["staff"]["total"] == expected(child)["total"], child
