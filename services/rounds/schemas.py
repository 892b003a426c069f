"""Round payloads: rounds, their deadlines per level, extensions and windows.
A round's settings (age range, subsidy rates and days, checks, requests) are
:mod:`services.common.round_settings`."""
import datetime as dt

import marshmallow as ma
from marshmallow import fields, validate

from services.common.jsonutil import BANGKOK
from services.common.round_settings import RoundSettings, default_settings
from services.common.vocabulary import ROUND_STATES
from services.common.rounds_calendar import deadlines
from services.rounds.domain import EXTENSION_LEVELS, deadline_order_problems

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
