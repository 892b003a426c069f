"""The budget preview: the money at stake on the live (unconfirmed) counts,
beside what each unit last confirmed. Learners through the real enrollment
service, confirmations through the real confirmation service, the preview
through the gateway from the reporting service's read model."""
from decimal import ROUND_HALF_UP, Decimal

import pytest

from tests.system.confirmation_support import confirm, revoke, set_headcount
from tests.system.reporting_support import add_learner, report, rounds_of_a_year, wait_for


@pytest.fixture
def rnd(admin):
    return rounds_of_a_year(admin)[2]


# -- the expected amounts, from the round's settings ---------------------------------------------

def baht(value):
    return float(Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def rate_for(tiers, pupils):
    for tier in tiers:
        if tier["min_pupils"] <= pupils and (tier["max_pupils"] is None or pupils <= tier["max_pupils"]):
            return Decimal(str(tier["rate"]))
    return Decimal(0)


def milk_per_head(milk):
    return Decimal(str(milk["price_per_pack"])) * milk["packs_per_day"] * milk["days"]


def school_money(settings, by_grade):
    lunch, milk = settings["lunch"]["school"], settings["milk"]["school"]
    lunch_pupils = sum(n for g, n in by_grade.items() if g in lunch["grades"])
    milk_pupils = sum(n for g, n in by_grade.items() if g in milk["grades"])
    rate = rate_for(lunch["tiers"], lunch_pupils) if lunch_pupils else Decimal(0)
    amounts = {"lunch": baht(rate * lunch_pupils * lunch["days"]),
               "milk": baht(milk_per_head(milk) * milk_pupils)}
    return {**amounts, "total": baht(Decimal(str(amounts["lunch"])) + Decimal(str(amounts["milk"])))}


def cdc_money(settings, children):
    lunch, milk = settings["lunch"]["cdc"], settings["milk"]["cdc"]
    amounts = {"lunch": baht(Decimal(str(lunch["rate"])) * children * lunch["days"]),
               "milk": baht(milk_per_head(milk) * children)}
    return {**amounts, "total": baht(Decimal(str(amounts["lunch"])) + Decimal(str(amounts["milk"])))}


def money_of(item):
    return {k: pytest.approx(item[k]) for k in ("lunch", "milk", "total")}


def summed(*items):
    return {k: pytest.approx(sum(i[k] for i in items)) for k in ("lunch", "milk", "total")}


def preview(client, rid, unit_id, **params):
    return report(client, rid, "budget", unit_id, preview="true", **params)["preview"]


def line_of(p, unit_id):
    return next(ln for ln in p["lines"] if ln["unit"]["id"] == unit_id)


def test_the_preview_prices_the_live_counts_and_the_change_since_the_last_confirmation(admin, tree, rnd):
    t, rid = tree, rnd["id"]
    settings = admin.ok("GET", f"/rounds/{rid}")["settings"]
    tiers = settings["lunch"]["school"]["tiers"]
    edge = tiers[0]["max_pupils"]                     # the last pupil of the smallest band
    assert rate_for(tiers, edge) != rate_for(tiers, edge + 1), "the tier edge must change the rate"
    without = next(g for g in ("m1", "m2", "m3") if g not in settings["lunch"]["school"]["grades"]
                   and g not in settings["milk"]["school"]["grades"])

    # a school at the tier edge, with two pupils in a grade without subsidy
    for _ in range(edge):
        add_learner(t["school_a"], rid, t.id("school_a"), "p1")
    for _ in range(2):
        add_learner(t["school_a"], rid, t.id("school_a"), without)
    for _ in range(3):
        add_learner(t["cdc_a"], rid, t.id("cdc_a"), "cdc")
    set_headcount(t["lao_a"], rid, t.id("other_a"), {"p2": 12, "m2": 4})

    school_before = {"p1": edge, without: 2}
    p, _ = wait_for(lambda: (lambda p: p if line_of(p, t.id("school_a"))["counts"]["total"] == edge + 2
                             else None)(preview(t["school_a"], rid, t.id("school_a"))), timeout=15)
    school = line_of(p, t.id("school_a"))
    assert [ln["unit"]["id"] for ln in p["lines"]] == [t.id("school_a")]
    assert school["counts"] == {"total": edge + 2, "by_grade": school_before}
    assert money_of(school) == school_money(settings, school_before)
    assert school["lunch_pupils"] == edge and school["milk_pupils"] == edge   # the grade without subsidy: none
    assert school["lunch_rate"] == float(rate_for(tiers, edge))
    assert school["last_confirmed"] is None                                  # never confirmed
    assert money_of(p["totals"]["all"]) == money_of(school) and p["totals"]["all"]["units"] == 1
    assert p["confirmed_totals"]["all"]["total"] == 0
    assert p["change"] == money_of(school)
    assert p["basis"]

    # the school confirms: nothing changes against its confirmation
    confirm(t["school_a"], rid, t.id("school_a"))
    p, _ = wait_for(lambda: (lambda p: p if line_of(p, t.id("school_a"))["last_confirmed"] else None)(
        preview(t["school_a"], rid, t.id("school_a"))), timeout=15)
    assert money_of(line_of(p, t.id("school_a"))["last_confirmed"]) == school_money(settings, school_before)
    assert p["change"] == {"lunch": 0, "milk": 0, "total": 0}

    # revoked, then one pupil more: past the tier edge, against the counts it last confirmed
    revoke(t["lao_a"], rid, t.id("school_a"))
    add_learner(t["school_a"], rid, t.id("school_a"), "p1")
    school_after = {"p1": edge + 1, without: 2}
    p, _ = wait_for(lambda: (lambda p: p if line_of(p, t.id("school_a"))["counts"]["total"] == edge + 3
                             else None)(preview(t["school_a"], rid, t.id("school_a"))), timeout=15)
    school = line_of(p, t.id("school_a"))
    after, before = school_money(settings, school_after), school_money(settings, school_before)
    assert money_of(school) == after
    assert school["lunch_rate"] == float(rate_for(tiers, edge + 1))
    assert school["last_confirmed"]["counts"] == {"total": edge + 2, "by_grade": school_before}
    assert money_of(school["last_confirmed"]) == before
    assert p["change"] == {k: pytest.approx(after[k] - before[k]) for k in ("lunch", "milk", "total")}
    assert report(t["school_a"], rid, "budget", t.id("school_a"))["totals"]["all"]["total"] == 0  # open again

    # a CDC by its children, an other school by its headcount
    p, _ = wait_for(lambda: (lambda p: p if line_of(p, t.id("cdc_a"))["counts"]["total"] == 3 else None)(
        preview(t["cdc_a"], rid, t.id("cdc_a"))), timeout=15)
    cdc = line_of(p, t.id("cdc_a"))
    assert money_of(cdc) == cdc_money(settings, 3)
    assert cdc["last_confirmed"] is None
    p, _ = wait_for(lambda: (lambda p: p if p["lines"] and p["lines"][0]["counts"]["total"] == 16 else None)(
        preview(t["lao_a"], rid, t.id("other_a"))), timeout=15)
    other = line_of(p, t.id("other_a"))
    assert other["unit"]["type"] == "other_school"
    assert money_of(other) == school_money(settings, {"p2": 12, "m2": 4})

    # the LAO sums them, line by line
    lao = preview(t["lao_a"], rid, t.id("lao_a"))
    assert {ln["unit"]["id"] for ln in lao["lines"]} == {t.id("school_a"), t.id("cdc_a"), t.id("other_a")}
    all_three = (after, cdc_money(settings, 3), school_money(settings, {"p2": 12, "m2": 4}))
    assert money_of(lao["totals"]["all"]) == summed(*all_three)
    assert lao["totals"]["all"]["units"] == 3
    assert money_of(lao["totals"]["school"]) == after
    assert money_of(lao["totals"]["cdc"]) == cdc_money(settings, 3)
    assert money_of(lao["totals"]["other_school"]) == school_money(settings, {"p2": 12, "m2": 4})
    assert money_of(lao["confirmed_totals"]["all"]) == before
    assert lao["change"] == {k: pytest.approx(sum(i[k] for i in all_three) - before[k])
                             for k in ("lunch", "milk", "total")}

    # a province: totals only (its other LAO's school has no learners)
    prov = preview(t["province"], rid, t.id("province"))
    assert prov["lines"] == []
    assert money_of(prov["totals"]["all"]) == money_of(lao["totals"]["all"])
    assert prov["totals"]["all"]["units"] == 4

    # without ?preview=true the report is as before; any other value is refused
    assert "preview" not in report(t["lao_a"], rid, "budget", t.id("lao_a"))
    assert "preview" not in report(t["lao_a"], rid, "budget", t.id("lao_a"), preview="false")
    bad = report(t["lao_a"], rid, "budget", t.id("lao_a"), status=422, preview="maybe")
    assert bad["code"] == "validation_error"

    # outside the caller's subtree there is nothing to preview
    for client, outside in ((t["lao_a"], "school_b"), (t["school_a"], "cdc_a"), (t["lao_a"], "province")):
        r = client.get(f"/rounds/{rid}/reports/budget", params={"org_unit_id": t.id(outside), "preview": "true"})
        assert r.status_code in (403, 404) and r.json()["code"] in ("forbidden", "not_found"), r.text
        assert t.units[outside]["code"] not in r.text
