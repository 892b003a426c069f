"""The rule set of the checks before confirming, as round settings: defaults filled in,
the department's changes kept, bad rules refused with the field named."""
import marshmallow as ma
import pytest

from services.common import checks as rulebook
from services.rounds.schemas import Round, RoundSettings


def test_a_round_without_checks_gets_every_default_rule():
    settings = RoundSettings().load({})
    assert settings["checks"] == rulebook.default_checks()
    assert set(settings["checks"]["rules"]) == set(rulebook.DEFAULT_RULES)
    # a round stored before the checks existed reads with the defaults too
    dumped = Round().dump({"settings": {"lunch": {}}})
    assert dumped["settings"]["checks"]["rules"]["headcount_missing"]["severity"] == "error"


def test_what_the_department_changes_is_kept_and_the_rest_defaults():
    settings = RoundSettings().load({"checks": {
        "grade_ages": {"p1": [5, 7]},
        "rules": {"total_changed": {"params": {"share": 0.3}, "severity": "error"},
                  "likely_duplicate": {"enabled": False, "message": {"th": "ชื่อซ้ำ"}}}}})
    checks = settings["checks"]
    assert checks["grade_ages"]["p1"] == [5, 7] and checks["grade_ages"]["p2"] == [7, 8]
    assert checks["rules"]["total_changed"]["params"] == {"share": 0.3, "min_change": 5}
    assert checks["rules"]["total_changed"]["severity"] == "error"
    assert checks["rules"]["likely_duplicate"]["enabled"] is False
    assert checks["rules"]["likely_duplicate"]["message"]["th"] == "ชื่อซ้ำ"
    assert checks["rules"]["likely_duplicate"]["message"]["en"] == \
        rulebook.DEFAULT_RULES["likely_duplicate"]["message"]["en"]


@pytest.mark.parametrize("checks, where", [
    ({"rules": {"no_such_rule": {}}}, "no_such_rule"),
    ({"rules": {"total_changed": {"severity": "fatal"}}}, "severity"),
    ({"rules": {"total_changed": {"params": {"share": -0.1}}}}, "params.share"),
    ({"rules": {"total_changed": {"params": {"years": 2}}}}, "params.years"),
    ({"rules": {"total_changed": {"enabled": "yes"}}}, "enabled"),
    ({"rules": {"total_changed": {"message": {"th": ""}}}}, "message"),
    ({"grade_ages": {"p1": [8, 6]}}, "p1"),
    ({"grade_ages": {"zz": [1, 2]}}, "zz"),
    ({"other": 1}, "unknown keys"),
    ("all", "an object"),
])
def test_a_bad_rule_is_refused_naming_it(checks, where):
    with pytest.raises(ma.ValidationError) as info:
        RoundSettings().load({"checks": checks})
    assert where in str(info.value.messages), info.value.messages


def test_messages_fill_in_the_findings_and_leave_unknown_names():
    text = rulebook.render("อายุ {age} ปี ชั้น {grade_th} {unknown}", {"age": 12, "grade_th": "ป.1"})
    assert text == "อายุ 12 ปี ชั้น ป.1 {unknown}"


def test_the_hash_changes_with_the_rules_and_the_census_date():
    checks = rulebook.default_checks()
    base = rulebook.rules_hash(checks, "2026-06-10")
    assert base == rulebook.rules_hash(rulebook.default_checks(), "2026-06-10")
    assert base != rulebook.rules_hash(checks, "2026-06-11")
    checks["rules"]["total_changed"]["params"]["share"] = 0.25
    assert base != rulebook.rules_hash(checks, "2026-06-10")
