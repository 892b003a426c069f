"""A round's settings: the age range of CDC children, the subsidy rates and
days, the checks before confirming, and the hours of requests between units.

Every subsidy figure is a setting of the round, never code: cabinet
resolutions change them. Defaults are those in force since FY2023 / AY2024.
The rounds service stores them; a service holding a copy of a round reads them
through :class:`RoundSettings` (what is left out takes its default)."""
from typing import Any, Dict, List

import marshmallow as ma
from marshmallow import fields, validate

from services.common import checks as rulebook
from services.common.vocabulary import KINDERGARTEN_TO_P6, SCHOOL_GRADES

class CdcAge(ma.Schema):
    min_years = fields.Integer(load_default=2, validate=validate.Range(0, 10))
    max_years = fields.Integer(load_default=5, validate=validate.Range(0, 10))

    @ma.validates_schema
    def ordered(self, data, **kwargs):
        if data.get("min_years", 2) > data.get("max_years", 5):
            raise ma.ValidationError("min_years must not exceed max_years", "max_years")


class LunchTier(ma.Schema):
    min_pupils = fields.Integer(required=True, validate=validate.Range(min=1))
    max_pupils = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1))
    rate = fields.Float(required=True, validate=validate.Range(min=0))


DEFAULT_TIERS: List[Dict[str, Any]] = [
    {"min_pupils": 1, "max_pupils": 40, "rate": 36.0},
    {"min_pupils": 41, "max_pupils": 100, "rate": 27.0},
    {"min_pupils": 101, "max_pupils": 120, "rate": 24.0},
    {"min_pupils": 121, "max_pupils": None, "rate": 22.0},
]


def _grades(choices, default):
    return fields.List(fields.String(validate=validate.OneOf(choices)), load_default=list(default),
                       validate=validate.Length(min=0, max=len(choices)))


class SchoolLunch(ma.Schema):
    days = fields.Integer(load_default=200, validate=validate.Range(0, 366))
    grades = _grades(SCHOOL_GRADES, KINDERGARTEN_TO_P6)
    tiers = fields.List(fields.Nested(LunchTier), load_default=lambda: [dict(t) for t in DEFAULT_TIERS],
                        validate=validate.Length(min=1))

    @ma.validates("tiers")
    def contiguous(self, tiers, **kwargs):
        expected = 1
        for i, tier in enumerate(tiers):
            if tier["min_pupils"] != expected:
                raise ma.ValidationError(f"tier {i + 1} must start at {expected} pupils")
            last = i == len(tiers) - 1
            if tier.get("max_pupils") is None:
                if not last:
                    raise ma.ValidationError("only the last tier may be open-ended")
            else:
                if tier["max_pupils"] < tier["min_pupils"]:
                    raise ma.ValidationError(f"tier {i + 1} ends before it starts")
                expected = tier["max_pupils"] + 1
        if tiers[-1].get("max_pupils") is not None:
            raise ma.ValidationError("the last tier must be open-ended (max_pupils null)")


class CdcLunch(ma.Schema):
    days = fields.Integer(load_default=245, validate=validate.Range(0, 366))
    rate = fields.Float(load_default=21.0, validate=validate.Range(min=0))


class Lunch(ma.Schema):
    school = fields.Nested(SchoolLunch, load_default=lambda: SchoolLunch().load({}))
    cdc = fields.Nested(CdcLunch, load_default=lambda: CdcLunch().load({}))


class CdcMilk(ma.Schema):
    days = fields.Integer(load_default=260, validate=validate.Range(0, 366))
    price_per_pack = fields.Float(load_default=7.35, validate=validate.Range(min=0))
    packs_per_day = fields.Integer(load_default=1, validate=validate.Range(0, 10))


class SchoolMilk(CdcMilk):
    grades = _grades(SCHOOL_GRADES, KINDERGARTEN_TO_P6)


class Milk(ma.Schema):
    school = fields.Nested(SchoolMilk, load_default=lambda: SchoolMilk().load({}))
    cdc = fields.Nested(CdcMilk, load_default=lambda: CdcMilk().load({}))


class ChecksField(fields.Field):
    """The round's checks before confirming (``services.common.checks``): any rule
    or grade band left out takes its default, so the stored value is always whole."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, dict):
            raise ma.ValidationError("an object with grade_ages and rules")
        errors: Dict[str, Any] = {}
        unknown = set(value) - {"grade_ages", "rules"}
        if unknown:
            errors["_schema"] = [f"unknown keys: {', '.join(sorted(map(str, unknown)))}"]
        ages = value.get("grade_ages") or {}
        if not isinstance(ages, dict):
            errors["grade_ages"] = ["an object of grade -> [lowest, highest] age in years"]
        else:
            for grade, band in ages.items():
                if grade not in rulebook.GRADE_AGES:
                    errors.setdefault("grade_ages", {})[str(grade)] = ["not a school grade"]
                elif (not isinstance(band, list) or len(band) != 2
                      or not all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 30 for v in band)
                      or band[0] > band[1]):
                    errors.setdefault("grade_ages", {})[grade] = ["[lowest, highest]: whole years 0-30, in order"]
        rules = value.get("rules") or {}
        if not isinstance(rules, dict):
            errors["rules"] = ["an object of rule code -> rule"]
        else:
            for code, rule in rules.items():
                problem = _rule_problem(code, rule)
                if problem:
                    errors.setdefault("rules", {})[str(code)] = problem
        if errors:
            raise ma.ValidationError(errors)
        return rulebook.rules_of({"checks": value})

    def _serialize(self, value, attr, obj, **kwargs):
        return rulebook.rules_of({"checks": value})


def _rule_problem(code, rule):
    if code not in rulebook.DEFAULT_RULES:
        return [f"not a rule: one of {', '.join(rulebook.DEFAULT_RULES)}"]
    if not isinstance(rule, dict):
        return ["an object: severity, enabled, params, message"]
    problems = []
    unknown = set(rule) - {"severity", "enabled", "params", "message"}
    if unknown:
        problems.append(f"unknown keys: {', '.join(sorted(map(str, unknown)))}")
    if "severity" in rule and rule["severity"] not in rulebook.SEVERITIES:
        problems.append("severity: error or query")
    if "enabled" in rule and not isinstance(rule["enabled"], bool):
        problems.append("enabled: true or false")
    params = rule.get("params") or {}
    allowed = rulebook.DEFAULT_RULES[code]["params"]
    for name, v in (params.items() if isinstance(params, dict) else [("params", None)]):
        low, high = rulebook.PARAM_LIMITS.get(name, (None, None))
        if name not in allowed:
            problems.append(f"params.{name}: not a parameter of this rule")
        elif isinstance(v, bool) or not isinstance(v, (int, float)) or not low <= v <= high:
            problems.append(f"params.{name}: a number from {low} to {high}")
    message = rule.get("message") or {}
    if not isinstance(message, dict) or set(message) - {"th", "en"} or not all(
            isinstance(m, str) and 0 < len(m) <= 500 for m in message.values()):
        problems.append("message: {th, en}, each 1-500 characters")
    return problems


POSITIVE = validate.Range(min=0, min_inclusive=False, max=8784, error="a number of hours above 0, at most a year")


class Requests(ma.Schema):
    """Requests between units: when an unanswered transfer climbs a level, and
    the automatic extension a unit gets when its confirmation is revoked after
    its deadline."""
    transfer_escalation_hours = fields.Float(load_default=48.0, validate=POSITIVE, allow_nan=False, metadata={
        "description": "hours before an unanswered transfer may be answered one level up"})
    revocation_extension_hours = fields.Float(load_default=72.0, validate=POSITIVE, allow_nan=False, metadata={
        "description": "hours of extension a unit gets when its confirmation is revoked at or after "
                       "its deadline"})


DEFAULT_REQUESTS = {"transfer_escalation_hours": 48.0, "revocation_extension_hours": 72.0}


def requests_of(settings):
    """The round's ``requests`` settings, defaults filled in (a round created
    before they existed has none)."""
    stored = (settings or {}).get("requests") or {}
    return {k: stored.get(k, v) for k, v in DEFAULT_REQUESTS.items()}


class RoundSettings(ma.Schema):
    cdc_age = fields.Nested(CdcAge, load_default=lambda: CdcAge().load({}),
                            metadata={"description": "age in completed years at the census date"})
    lunch = fields.Nested(Lunch, load_default=lambda: Lunch().load({}))
    milk = fields.Nested(Milk, load_default=lambda: Milk().load({}))
    checks = ChecksField(load_default=rulebook.default_checks, dump_default=rulebook.default_checks,
                         metadata={"type": "object", "description": "the checks before confirming: grade age bands and "
                                                  "rules (severity error|query, enabled, params, message "
                                                  "{th, en}); what is left out takes its default"})
    requests = fields.Nested(Requests, load_default=lambda: Requests().load({}))


def default_settings():
    return RoundSettings().load({})
