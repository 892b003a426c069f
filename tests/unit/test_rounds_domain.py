import datetime as dt

import pytest

from services.common.errors import LecError
from services.common.round_settings import RoundSettings, requests_of
from services.common.rounds_calendar import deadlines, state_at
from services.common.validation import load
from services.common.rounds_calendar import effective_closes_at
from services.rounds.domain import automatic_extension, deadline_order_problems, extension_floor
from services.rounds.schemas import ExtensionCreate, RoundCreate, RoundUpdate

UTC = dt.timezone.utc
OPENS = dt.datetime(2026, 11, 1, tzinfo=UTC)
CLOSES = dt.datetime(2026, 11, 30, 17, tzinfo=UTC)
TICK = dt.timedelta(microseconds=1)


def test_state_at_the_edges():
    assert state_at(OPENS, CLOSES, None, OPENS - TICK) == "scheduled"
    assert state_at(OPENS, CLOSES, None, OPENS) == "open"
    assert state_at(OPENS, CLOSES, None, CLOSES - TICK) == "open"
    assert state_at(OPENS, CLOSES, None, CLOSES) == "closed"
    assert state_at(OPENS, CLOSES, CLOSES, CLOSES - TICK) == "finalized"
    # no deadline (the department's window): open until finalised
    assert state_at(OPENS, None, None, CLOSES + dt.timedelta(days=400)) == "open"
    assert state_at(OPENS, None, None, OPENS - TICK) == "scheduled"
    assert state_at(OPENS, None, CLOSES, CLOSES) == "finalized"


def test_effective_deadline_takes_extensions_of_the_unit_and_above():
    later = CLOSES + dt.timedelta(days=3)
    latest = CLOSES + dt.timedelta(days=9)
    exts = [("/1/2/", later), ("/1/2/3/", latest), ("/1/5/", latest)]
    assert effective_closes_at(CLOSES, exts, "/1/2/3/4/") == (latest, True)
    assert effective_closes_at(CLOSES, exts, "/1/2/8/") == (later, True)
    assert effective_closes_at(CLOSES, exts, "/1/9/") == (CLOSES, False)
    assert effective_closes_at(CLOSES, exts, "/1/") == (CLOSES, False)  # not for units above
    assert effective_closes_at(CLOSES, [("/1/", CLOSES - TICK)], "/1/2/") == (CLOSES, False)


def test_deadline_day_closes_at_its_midnight_in_bangkok():
    data = load(RoundCreate(), {"academic_year": 2566, "number": 2, "census_date": "2023-11-10",
                                "opens_at": "2023-10-16", "closes_at": "2023-11-10"})
    assert data["closes_at"].isoformat() == "2023-11-11T00:00:00+07:00"
    assert data["opens_at"].isoformat() == "2023-10-16T00:00:00+07:00"
    naive = load(RoundCreate(), {"academic_year": 2566, "number": 2, "census_date": "2023-11-10",
                                 "opens_at": "2023-10-16T08:30:00", "closes_at": "2023-11-10T16:30:00Z"})
    assert naive["opens_at"].utcoffset() == dt.timedelta(hours=7)
    assert naive["closes_at"].utcoffset() == dt.timedelta(0)


def test_settings_defaults_and_validation():
    s = RoundSettings().load({})
    tiers = s["lunch"]["school"]["tiers"]
    assert [(t["min_pupils"], t["max_pupils"], t["rate"]) for t in tiers] == [
        (1, 40, 36.0), (41, 100, 27.0), (101, 120, 24.0), (121, None, 22.0)]
    assert s["milk"]["school"]["price_per_pack"] == 7.35 and s["milk"]["school"]["days"] == 260
    assert s["lunch"]["school"]["grades"][-1] == "p6"
    for bad in (
        {"lunch": {"school": {"tiers": [{"min_pupils": 2, "max_pupils": None, "rate": 1}]}}},
        {"lunch": {"school": {"tiers": [{"min_pupils": 1, "max_pupils": 10, "rate": 1},
                                        {"min_pupils": 12, "max_pupils": None, "rate": 1}]}}},
        {"lunch": {"school": {"tiers": [{"min_pupils": 1, "max_pupils": None, "rate": 1},
                                        {"min_pupils": 2, "max_pupils": None, "rate": 1}]}}},
        {"milk": {"school": {"price_per_pack": -1}}},
        {"cdc_age": {"min_years": 6, "max_years": 3}},
        {"surprise": 1},
    ):
        with pytest.raises(LecError) as info:
            load(RoundSettings(), bad)
        assert info.value.code == "validation_error"


DAY = dt.timedelta(days=1)


def test_default_deadlines_per_level_follow_closes_at():
    assert deadlines(CLOSES) == {"institution": CLOSES, "lao": CLOSES, "province": CLOSES + DAY,
                                 "department": None}
    lao = CLOSES + 2 * DAY
    assert deadlines(CLOSES, lao=lao) == {"institution": CLOSES, "lao": lao, "province": lao + DAY,
                                          "department": None}
    prov, dept = CLOSES + 5 * DAY, CLOSES + 9 * DAY
    assert deadlines(CLOSES, province=prov, department=dept)["province"] == prov
    assert deadlines(CLOSES, province=prov, department=dept)["lao"] == CLOSES
    assert deadlines(CLOSES, department=dept)["department"] == dept


def test_deadline_order():
    assert deadline_order_problems(deadlines(CLOSES)) == {}
    assert deadline_order_problems(deadlines(CLOSES, lao=CLOSES, province=CLOSES, department=CLOSES)) == {}
    assert set(deadline_order_problems(deadlines(CLOSES, lao=CLOSES - TICK))) == {"lao"}
    assert set(deadline_order_problems(deadlines(CLOSES, lao=CLOSES + DAY, province=CLOSES))) == {"province"}
    assert set(deadline_order_problems(deadlines(CLOSES, department=CLOSES))) == {"department"}
    # a province deadline left to its default moves with the LAOs'
    assert deadline_order_problems(deadlines(CLOSES, lao=CLOSES + 30 * DAY)) == {}


def test_round_create_checks_the_order_of_the_deadlines():
    body = {"academic_year": 2569, "number": 2, "census_date": "2026-11-10",
            "opens_at": "2026-11-01", "closes_at": "2026-11-30"}
    ok = load(RoundCreate(), dict(body, deadlines={"lao": "2026-12-02", "province": "2026-12-04"}))
    assert ok["deadlines"]["lao"].isoformat() == "2026-12-03T00:00:00+07:00"  # the day ends at midnight
    for bad in ({"lao": "2026-11-29"}, {"lao": "2026-12-05", "province": "2026-12-04"},
                {"department": "2026-11-30"}, {"province": "yesterday"}):
        with pytest.raises(LecError) as info:
            load(RoundCreate(), dict(body, deadlines=bad))
        assert info.value.code == "validation_error" and "deadlines" in info.value.extra["errors"]
    # null resets a level to its default
    assert load(RoundUpdate(), {"deadlines": {"lao": None}})["deadlines"] == {"lao": None}


def test_extension_levels():
    late = CLOSES + 3 * DAY
    exts = [("/1/2/", late, "lao"), ("/1/2/3/", late + DAY, "institution"), ("/1/", late + 2 * DAY, "province")]
    # an LAO extension does not move the institutions' deadline, nor a province one
    assert effective_closes_at(CLOSES, exts, "/1/2/", "lao") == (late, True)
    assert effective_closes_at(CLOSES, exts, "/1/2/4/", "institution") == (CLOSES, False)
    assert effective_closes_at(CLOSES, exts, "/1/2/3/", "institution") == (late + DAY, True)
    assert effective_closes_at(CLOSES + DAY, exts, "/1/", "province") == (late + 2 * DAY, True)
    # every level (None) extends each level
    every = [("/1/2/", late, None)]
    for level in ("institution", "lao", "province"):
        assert effective_closes_at(CLOSES, every, "/1/2/", level) == (late, True)
    # an extension that ends before the level's own deadline changes nothing
    assert effective_closes_at(late + 9 * DAY, every, "/1/2/", "province") == (late + 9 * DAY, False)
    eff = deadlines(CLOSES, lao=CLOSES + DAY)
    assert extension_floor(eff, None) == CLOSES
    assert extension_floor(eff, "lao") == CLOSES + DAY
    assert extension_floor(eff, "province") == CLOSES + 2 * DAY
    assert load(ExtensionCreate(), {"org_unit_id": 1, "closes_at": "2026-12-01"})["level"] is None
    with pytest.raises(LecError):
        load(ExtensionCreate(), {"org_unit_id": 1, "closes_at": "2026-12-01", "level": "department"})


def test_automatic_extension_after_a_revocation():
    hours = 72
    # before the deadline: nothing
    assert automatic_extension(CLOSES, None, CLOSES - TICK, hours) is None
    # at or after it: hours from the revocation
    assert automatic_extension(CLOSES, None, CLOSES, hours) == CLOSES + dt.timedelta(hours=72)
    assert automatic_extension(CLOSES, None, CLOSES + DAY, 1.5) == CLOSES + DAY + dt.timedelta(hours=1.5)
    # never shortens the unit's own extension
    assert automatic_extension(CLOSES, CLOSES + 10 * DAY, CLOSES + DAY, hours) is None
    assert automatic_extension(CLOSES, CLOSES + DAY, CLOSES + DAY, hours) == CLOSES + 4 * DAY
    assert automatic_extension(None, None, CLOSES, hours) is None


def test_request_settings_defaults():
    s = RoundSettings().load({})
    assert s["requests"] == {"transfer_escalation_hours": 48, "revocation_extension_hours": 72}
    assert requests_of({}) == {"transfer_escalation_hours": 48, "revocation_extension_hours": 72}
    assert requests_of({"requests": {"revocation_extension_hours": 5}})["revocation_extension_hours"] == 5
    for bad in ({"transfer_escalation_hours": 0}, {"revocation_extension_hours": -1},
                {"revocation_extension_hours": "soon"}, {"revocation_extension_hours": 1e300}):
        with pytest.raises(LecError):
            load(RoundSettings(), {"requests": bad})


def test_instants_at_the_ends_of_the_calendar_are_refused():
    body = {"academic_year": 2569, "number": 1, "census_date": "2026-06-10", "opens_at": "2026-06-01",
            "closes_at": "2026-06-30"}
    for over in ({"closes_at": "9999-12-31"}, {"opens_at": "0001-01-01"},
                 {"deadlines": {"lao": "9999-12-31T23:00:00-14:00"}}):
        with pytest.raises(LecError) as info:
            load(RoundCreate(), dict(body, **over))
        assert info.value.code == "validation_error"
