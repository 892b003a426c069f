"""The pure rules of the new school year and of other-affiliation schools across rounds."""
import datetime as dt

from services.common.affiliations import CODES, listing
from services.enrollment.headcount_drafts import closed_for, effective
from services.enrollment.newyear import NEXT_GRADE, PASSAGES


def test_grades_go_one_up_and_m6_has_no_next():
    assert NEXT_GRADE["k1"] == "k2" and NEXT_GRADE["k3"] == "p1" and NEXT_GRADE["p6"] == "m1"
    assert NEXT_GRADE["m5"] == "m6" and "m6" not in NEXT_GRADE and "cdc" not in NEXT_GRADE
    assert PASSAGES == ("k3", "p6")


def test_a_closure_counts_from_its_effective_date():
    school = {"id": 1, "status": "closed", "closed_on": "2026-10-31"}
    assert closed_for(school, "2026-11-10") and closed_for(school, dt.date(2026, 10, 31))
    assert not closed_for(school, "2026-06-10")
    assert effective(school, "2026-06-10")["status"] == "active"
    assert effective(school, "2026-11-10") is school
    assert closed_for({"status": "closed", "closed_on": None}, "2020-01-01")  # undated: every round
    assert not closed_for({"status": "active", "closed_on": None}, "2026-06-10")


def test_the_affiliations_are_data():
    assert CODES == ("obec", "bpp", "opec", "other")
    items = listing()["items"]
    assert all(a["name_th"] and a["name_en"] and a["short_th"] for a in items)
    assert listing()["total"] == 4
