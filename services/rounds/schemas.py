"""Round payloads and the per-round settings (age range, subsidy rates and days).

Every subsidy figure is a setting of the round, never code: cabinet
resolutions change them. Defaults are those in force since FY2023 / AY2024.
"""
import datetime as dt

import marshmallow as ma
from marshmallow import fields, validate

from services.common import checks as rulebook
from services.common.jsonutil import BANGKOK
from services.rounds.domain import EXTENSION_LEVELS, deadline_order_problems, deadlines

SCHOOL_GRADES = ("k1", "k2", "k3", "p1", "p2", "p3", "p4", "p5", "p6",
                 "m1", "m2", "m3", "m4", "m5", "m6")
CDC_GRADES = ("cdc",)
ALL_GRADES = SCHOOL_GRADES + CDC_GRADES
KINDERGARTEN_TO_P6 = SCHOOL_GRADES[:9]

ROUND_STATES = ("scheduled", "open", "closed", "finalized")
MAX_OFFSET = dt.timedelta(hours=14)  # the widest in use (UTC+14); PostgreSQL refuses beyond 15:59
NEAR_EDGE = dt.timedelta(days=3)


class Instant(fields.Field):
    """An ISO 8601 instant. A naive time is Bangkok wall time; a bare date
    means the start of that day, or with ``end_of_day`` the midnight that ends
    it (a deadline day closes at midnight at its end). A UTC offset beyond
    ±14:00 (no place uses one) is refused."""

    def __init__(self, end_of_day=False, **kwargs):
        super().__init__(**kwargs)
        self.end_of_day = end_of_day

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise ma.ValidationError("an ISO 8601 date or date-time")
        text = value.strip()
        try:
            if len(text) == 10:
                day = dt.date.fromisoformat(text)
                if self.end_of_day:
                    day += dt.timedelta(days=1)
                parsed = dt.datetime.combine(day, dt.time(0), tzinfo=BANGKOK)
            else:
                parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ma.ValidationError("an ISO 8601 date or date-time")
        except OverflowError:
            raise ma.ValidationError("a date between the years 1 and 9998")
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=BANGKOK)
        if not -MAX_OFFSET <= parsed.utcoffset() <= MAX_OFFSET:
            raise ma.ValidationError("a UTC offset between -14:00 and +14:00")
        try:  # room for the days a deadline is reckoned with (the provinces' a day later)
            (parsed - NEAR_EDGE).astimezone(BANGKOK)
            (parsed + NEAR_EDGE).astimezone(BANGKOK)
        except OverflowError:
            raise ma.ValidationError("a date between the years 1 and 9998")
        return parsed

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        if isinstance(value, str):
            return value
        return value.astimezone(BANGKOK).isoformat()


# -- settings --------------------------------------------------------------------

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


DEFAULT_TIERS = [
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
        errors = {}
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


# -- rounds ----------------------------------------------------------------------

class DeadlinesInput(ma.Schema):
    """The deadlines of the levels above the institutions (theirs is ``closes_at``);
    a level left out keeps its deadline, ``null`` returns it to the default."""
    lao = Instant(end_of_day=True, allow_none=True, metadata={
        "description": "the LAOs' deadline; default (null): closes_at"})
    province = Instant(end_of_day=True, allow_none=True, metadata={
        "description": "the provinces' deadline; default (null): a day after the LAOs'"})
    department = Instant(end_of_day=True, allow_none=True, metadata={
        "description": "the department's finalisation date, shown but not enforced; default: none"})


class Deadlines(ma.Schema):
    institution = Instant(metadata={"description": "schools and CDCs: the round's closes_at"})
    lao = Instant()
    province = Instant()
    department = Instant(allow_none=True, metadata={
        "description": "the planned finalisation (null: none); the department confirms until then "
                       "and after, until the round is finalised"})


def _deadline_order(data):
    given = data.get("deadlines") or {}
    if "closes_at" not in data:
        return
    problems = deadline_order_problems(deadlines(
        data["closes_at"], given.get("lao"), given.get("province"), given.get("department")))
    if problems:
        raise ma.ValidationError({"deadlines": problems})


class RoundCreate(ma.Schema):
    academic_year = fields.Integer(required=True, strict=True, validate=validate.Range(
        2500, 2800, error="academic years are in the Buddhist era (e.g. 2569 = 2026 CE)"))
    number = fields.Integer(required=True, strict=True, validate=validate.OneOf((1, 2)))
    census_date = fields.Date(required=True)
    opens_at = Instant(required=True)
    closes_at = Instant(required=True, end_of_day=True)
    deadlines = fields.Nested(DeadlinesInput, metadata={
        "description": "the LAO, province and department deadlines (left out: the defaults)"})
    settings = fields.Nested(RoundSettings, load_default=default_settings)

    @ma.validates_schema
    def window(self, data, **kwargs):
        if "opens_at" in data and "closes_at" in data and data["opens_at"] >= data["closes_at"]:
            raise ma.ValidationError("must be after opens_at", "closes_at")
        _deadline_order(data)


class RoundUpdate(ma.Schema):
    opens_at = Instant()
    closes_at = Instant(end_of_day=True, metadata={"description": "the institutions' deadline"})
    deadlines = fields.Nested(DeadlinesInput, metadata={
        "description": "the levels to change (null: back to the default); the others keep theirs"})
    settings = fields.Nested(RoundSettings)


class Round(ma.Schema):
    id = fields.Integer()
    academic_year = fields.Integer()
    number = fields.Integer()
    census_date = fields.Date()
    opens_at = Instant()
    closes_at = Instant(metadata={"description": "the institutions' deadline (deadlines.institution)"})
    deadlines = fields.Nested(Deadlines, metadata={
        "description": "the effective deadline of each level (institution <= lao <= province)"})
    settings = fields.Nested(RoundSettings)
    state = fields.String(validate=validate.OneOf(ROUND_STATES), metadata={
        "description": "the institutions' window"})
    finalized_at = Instant(allow_none=True)
    created_at = Instant()
    version = fields.Integer(metadata={"description": "raised by every change"})


class ExtensionCreate(ma.Schema):
    org_unit_id = fields.Integer(required=True, strict=True)
    closes_at = Instant(required=True, end_of_day=True, metadata={
        "description": "after the level's deadline (every level: after the round's closes_at)"})
    level = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(EXTENSION_LEVELS),
                          metadata={"description": "institution, lao or province; null or absent: "
                                                   "every level"})


class Extension(ma.Schema):
    id = fields.Integer()
    round_id = fields.Integer()
    org_unit_id = fields.Integer()
    org_unit_path = fields.String()
    level = fields.String(allow_none=True, metadata={"description": "institution, lao, province; "
                                                                    "null: every level"})
    closes_at = Instant()
    automatic = fields.Boolean(metadata={"description": "granted because a confirmation was revoked "
                                                        "after the unit's deadline"})
    created_at = Instant()
    created_by = fields.Integer(allow_none=True, metadata={"description": "user id"})


class Window(ma.Schema):
    round_id = fields.Integer()
    unit_path = fields.String()
    level = fields.String(metadata={"description": "institution, lao, province or department: whose "
                                                   "deadline this is"})
    state = fields.String(validate=validate.OneOf(ROUND_STATES))
    open = fields.Boolean()
    opens_at = Instant()
    closes_at = Instant(metadata={
        "description": "the deadline for this unit at this level, extensions included (the "
                       "department: its planned finalisation, by default the provinces' deadline; "
                       "its window stays open until the round is finalised)"})
    extended = fields.Boolean()
