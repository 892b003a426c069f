import datetime as dt

import pytest

from services.common.errors import LecError
from services.common.validation import load
from services.rounds.domain import effective_closes_at, state_at
from services.rounds.schemas import RoundCreate, RoundSettings

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
