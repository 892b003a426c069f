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
from services.reporting.service import ReportingService
from tests.census import SETTINGS, Census


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
        self.rounds = FakeRounds(rounds or {})

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
    with db.session() as session:
        for unit in census.units.values():
            report = queries.summary(session, None, round_id, unit["id"])
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
                progress = queries.progress(session, None, round_id, unit["id"])
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
    return db_for("reporting")


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
    with db.session() as session:
        for unit in census.units.values():
            report = queries.budget(session, None, census.round_id, unit["id"])
            lunch, milk = expected_budget(census, unit)
            assert report["totals"]["all"]["lunch"] == pytest.approx(lunch), unit
            assert report["totals"]["all"]["milk"] == pytest.approx(milk), unit
        rnd = queries.round_row(session, census.round_id)
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
    with db.session() as session:
        before = queries.summary(session, None, other_round, census.department["id"])
    Consumer(db).deliver_all(deliveries)
    with db.session() as session:
        assert queries.summary(session, None, other_round, census.department["id"]) == before


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
    with db.session() as session:
        report = queries.summary(session, None, round_id, school["id"])
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
    with db.uow() as uow:
        with pytest.raises(Exception, match="rp_count_not_negative"):
            handlers.add_learner_counts(uow, round_id, {(school["id"], "p1", "M", "national_id", -1): -1})


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
    with db.session() as session:
        report = queries.budget(session, None, census.round_id, u["lao"]["id"])
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
    with db.session() as session:
        report = queries.budget(session, None, census.round_id, u["province"]["id"])
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
    with db.session() as session:
        report = queries.budget(session, None, census.round_id, u["lao"]["id"])
    lines = {ln["unit"]["id"]: ln for ln in report["lines"]}
    assert lines[u["school"]["id"]]["lunch"] == 12 * 30 * 180
    assert lines[u["school"]["id"]]["milk"] == pytest.approx(12 * 8.59 * 230)
    assert lines[u["cdc"]["id"]]["lunch"] == 10 * 25 * 200
    assert report["settings"]["milk"]["school"]["price_per_pack"] == 8.59


def test_reports_check_the_readers_subtree(db):
    round_id, base = fresh_ids()
    census = Census(round_id, base, provinces=2, seed=1)
    census.round_event()
    Consumer(db).deliver_all(census.events)
    p1, p2 = census.of_type("province")[:2]
    lao = next(u for u in census.of_type("lao") if u["parent_id"] == p1["id"])
    reader = Actor(user_id=1, username="lao", role="lao", org_unit_id=lao["id"], path=lao["path"])
    with db.session() as session:
        assert queries.summary(session, reader, round_id, lao["id"])["org_unit"]["id"] == lao["id"]
        for unit in (p1, p2, census.department):
            for report in (queries.summary, queries.progress, queries.budget):
                with pytest.raises(LecError) as err:
                    report(session, reader, round_id, unit["id"])
                assert err.value.code == "not_found"
