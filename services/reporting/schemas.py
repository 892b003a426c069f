"""Reporting payloads: the events it consumes (checked on arrival, so a
malformed event fails loudly into ``failed_events`` instead of skewing the
counts) and the reports it returns (documented in the OpenAPI document)."""
import marshmallow as ma
from marshmallow import fields, validate

from services.common.schemas import Counts
from services.common.vocabulary import ALL_GRADES, STATUSES, UNIT_TYPES

PATH = validate.Regexp(r"^/(\d+/)+$", error="a materialised path such as /1/7/42/")


class _Lenient(ma.Schema):
    """Events may grow fields; unknown ones are ignored."""

    class Meta:
        unknown = ma.EXCLUDE


def _counts_field(**kwargs):
    return fields.Dict(keys=fields.String(validate=validate.OneOf(ALL_GRADES)),
                       values=fields.Integer(validate=validate.Range(min=0)), **kwargs)


class EventCounts(_Lenient):
    """Counts as events carry them; grades are checked, the total is recomputed."""
    total = fields.Integer(validate=validate.Range(min=0))
    by_grade = _counts_field(load_default=dict)


class UnitRef(_Lenient):
    id = fields.Integer(required=True)
    code = fields.String(allow_none=True)
    type = fields.String(required=True, validate=validate.OneOf(UNIT_TYPES))
    path = fields.String(required=True, validate=PATH)


class Unit(_Lenient):
    id = fields.Integer(required=True)
    code = fields.String(required=True)
    name = fields.String(required=True)
    type = fields.String(required=True, validate=validate.OneOf(UNIT_TYPES))
    parent_id = fields.Integer(allow_none=True)
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    affiliation = fields.String(allow_none=True)
    path = fields.String(required=True, validate=PATH)
    depth = fields.Integer(required=True)
    closed_on = fields.Date(allow_none=True)
    version = fields.Integer(load_default=1)


class UnitChanged(_Lenient):
    unit = fields.Nested(Unit, required=True)


class Round(_Lenient):
    id = fields.Integer(required=True)
    academic_year = fields.Integer(required=True)
    number = fields.Integer(required=True, validate=validate.OneOf((1, 2)))
    census_date = fields.Date(required=True)
    opens_at = fields.AwareDateTime(required=True)
    closes_at = fields.AwareDateTime(required=True)
    finalized_at = fields.AwareDateTime(allow_none=True)
    settings = fields.Dict(required=True)
    version = fields.Integer(load_default=1)
    deadlines = fields.Dict(keys=fields.String(), values=fields.AwareDateTime(allow_none=True),
                            allow_none=True, load_default=None)


class RoundEvent(_Lenient):
    round = fields.Nested(Round, required=True)


DEADLINE_LEVELS = ("institution", "lao", "province")


class Extension(_Lenient):
    id = fields.Integer(required=True)
    round_id = fields.Integer(allow_none=True)
    org_unit_id = fields.Integer(required=True)
    org_unit_path = fields.String(required=True, validate=PATH)
    closes_at = fields.AwareDateTime(required=True)
    level = fields.String(allow_none=True, load_default=None, validate=validate.OneOf(DEADLINE_LEVELS))
    automatic = fields.Boolean(load_default=False)
    created_at = fields.AwareDateTime(allow_none=True, load_default=None)


class ExtensionGranted(_Lenient):
    round_id = fields.Integer(required=True)
    extension = fields.Nested(Extension, required=True)


SEXES = ("M", "F")
ID_KINDS = ("national_id", "g_code")
LEARNER_STATUSES = ("active", "removed")


class Learner(_Lenient):
    id = fields.Integer(required=True)
    version = fields.Integer(required=True, validate=validate.Range(min=1))
    institution = fields.Nested(UnitRef, required=True)
    grade = fields.String(required=True, validate=validate.OneOf(ALL_GRADES))
    sex = fields.String(required=True, validate=validate.OneOf(SEXES))
    id_kind = fields.String(required=True, validate=validate.OneOf(ID_KINDS))
    age_years = fields.Integer(allow_none=True)
    status = fields.String(load_default="active", validate=validate.OneOf(LEARNER_STATUSES))

    @ma.validates_schema
    def cdc_children_have_an_age(self, data, **kwargs):
        if data.get("grade") == "cdc" and data.get("age_years") is None:
            raise ma.ValidationError("a CDC child carries age_years", "age_years")


class LearnerEvent(_Lenient):
    round_id = fields.Integer(required=True)
    learner = fields.Nested(Learner, required=True)


def _is_int(value, least=None):
    return isinstance(value, int) and not isinstance(value, bool) and (least is None or value >= least)


def learner_problems(learner, institution):
    """What is wrong with one learner of a ``learners_added`` event (the rules of
    :class:`Learner`, checked by hand: a thousand nested schema loads would cost
    more than storing the learners). The learner must be of the event's institution."""
    if not isinstance(learner, dict):
        return ["not an object"]
    problems = []
    if not _is_int(learner.get("id"), 1):
        problems.append("id: a positive integer")
    if not _is_int(learner.get("version"), 1):
        problems.append("version: an integer of at least 1")
    held_by = learner.get("institution")
    if not isinstance(held_by, dict) or any(held_by.get(k) != institution[k] for k in ("id", "type", "path")):
        problems.append("institution: the event's institution")
    if learner.get("grade") not in ALL_GRADES:
        problems.append(f"grade: one of {', '.join(ALL_GRADES)}")
    if learner.get("sex") not in SEXES:
        problems.append("sex: M or F")
    if learner.get("id_kind") not in ID_KINDS:
        problems.append("id_kind: national_id or g_code")
    age = learner.get("age_years")
    if age is not None and not _is_int(age):
        problems.append("age_years: an integer")
    if learner.get("grade") == "cdc" and age is None:
        problems.append("age_years: a CDC child carries age_years")
    if learner.get("status", "active") not in LEARNER_STATUSES:
        problems.append("status: active or removed")
    return problems


class LearnersAdded(_Lenient):
    """``learners_added``: the learners one bulk change added to an institution."""
    round_id = fields.Integer(required=True)
    institution = fields.Nested(UnitRef, required=True)
    learners = fields.List(fields.Raw(), required=True, validate=validate.Length(min=1))

    @ma.validates_schema
    def learners_are_facts(self, data, **kwargs):
        institution = data.get("institution")
        if not institution:
            return
        errors = {}
        for n, learner in enumerate(data.get("learners") or ()):
            problems = learner_problems(learner, institution)
            if problems:
                errors[n] = problems
        if errors:
            raise ma.ValidationError(errors, "learners")


class School(_Lenient):
    id = fields.Integer(required=True)
    type = fields.String(load_default="other_school", validate=validate.Equal("other_school"))
    path = fields.String(required=True, validate=PATH)
    closed = fields.Boolean(load_default=False)


class HeadcountEvent(_Lenient):
    round_id = fields.Integer(required=True)
    school = fields.Nested(School, required=True)
    lao_id = fields.Integer(required=True)
    counts = fields.Nested(EventCounts, required=True)
    version = fields.Integer(required=True, validate=validate.Range(min=1))


class RoundRef(_Lenient):
    id = fields.Integer(required=True)
    academic_year = fields.Integer()
    number = fields.Integer()


class ConfirmationEvent(_Lenient):
    """``unit_confirmed`` / ``unit_revoked`` / ``round_finalized`` (API.md)."""
    round = fields.Nested(RoundRef, required=True)
    org_unit = fields.Nested(UnitRef, required=True)
    occurred_at = fields.AwareDateTime(required=True)
    counts = fields.Nested(EventCounts, allow_none=True)
    other_schools = fields.Dict(allow_none=True)
    confirmed_at = fields.AwareDateTime(allow_none=True)
    confirmed_by = fields.Raw(allow_none=True)
    confirmed_by_username = fields.String(allow_none=True)
    confirmation_version = fields.Integer(allow_none=True, validate=validate.Range(min=1))
    reason = fields.String(allow_none=True)
    actor = fields.Dict(allow_none=True)


# -- reports (documentation of what the RPCs return) --------------------------------

class UnitBrief(ma.Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    type = fields.String(validate=validate.OneOf(UNIT_TYPES))
    path = fields.String()
    status = fields.String()
    affiliation = fields.String(allow_none=True, metadata={"description": "other_school: e.g. obec, bpp"})


class RoundBrief(ma.Schema):
    id = fields.Integer()
    academic_year = fields.Integer(metadata={"description": "Buddhist era"})
    number = fields.Integer()
    census_date = fields.Date()
    state = fields.String()


class LearnerTotals(ma.Schema):
    total = fields.Integer()
    by_grade = fields.Dict(keys=fields.String(), values=fields.Integer())
    by_sex = fields.Dict(keys=fields.String(), values=fields.Integer(), metadata={"description": "M / F"})
    by_id_kind = fields.Dict(keys=fields.String(), values=fields.Integer(),
                             metadata={"description": "national_id / g_code"})
    by_level = fields.Dict(keys=fields.String(), values=fields.Integer())
    by_grade_sex = fields.Dict(keys=fields.String(), values=fields.Dict())


class CdcTotals(ma.Schema):
    total = fields.Integer()
    by_age = fields.Dict(keys=fields.String(), values=fields.Integer(),
                         metadata={"description": "completed years at the census date"})
    by_sex = fields.Dict(keys=fields.String(), values=fields.Integer())


class OtherSchoolTotals(ma.Schema):
    schools = fields.Integer(metadata={"description": "other-affiliation schools in the subtree"})
    recorded = fields.Integer(metadata={"description": "with a headcount this round"})
    closed = fields.Integer()
    total = fields.Integer()
    by_grade = fields.Dict(keys=fields.String(), values=fields.Integer())


class Tally(ma.Schema):
    total = fields.Integer()
    confirmed = fields.Integer()


class ConfirmationProgress(ma.Schema):
    state = fields.String(metadata={"description": "the unit's own: open or confirmed"})
    confirmed_at = fields.String(allow_none=True)
    confirmed_by = fields.String(allow_none=True, metadata={"description": "user id"})
    confirmed_by_username = fields.String(allow_none=True, metadata={"description": "account name"})
    children = fields.Nested(Tally)
    by_type = fields.Dict(keys=fields.String(), values=fields.Nested(Tally))


class StaffTotals(ma.Schema):
    total = fields.Integer()
    by_position = fields.Dict(keys=fields.String(), values=fields.Integer(),
                              metadata={"description": "caregiver_teacher, caregiver, teacher -> n"})


class Summary(ma.Schema):
    round = fields.Nested(RoundBrief)
    org_unit = fields.Nested(UnitBrief)
    learners = fields.Nested(LearnerTotals)
    cdc = fields.Nested(CdcTotals)
    other_schools = fields.Nested(OtherSchoolTotals)
    confirmation = fields.Nested(ConfirmationProgress)
    staff = fields.Nested(lambda: StaffTotals(), metadata={"description": "active caregivers and teachers "
                                                                     "at or beneath the unit"})


class ProgressChecks(ma.Schema):
    """The checks before confirming of a unit's subtree (its stored findings)."""
    errors = fields.Integer(metadata={"description": "errors: they block a confirmation until corrected"})
    queries = fields.Integer(metadata={"description": "queries: they block it until explained"})
    explained = fields.Integer(metadata={"description": "queries explained in writing"})
    unexplained = fields.Integer()


class ProgressRow(ma.Schema):
    unit = fields.Nested(UnitBrief)
    state = fields.String(allow_none=True)
    confirmed_at = fields.String(allow_none=True)
    confirmed_by = fields.String(allow_none=True, metadata={"description": "user id"})
    confirmed_by_username = fields.String(allow_none=True, metadata={"description": "account name"})
    counts = fields.Nested(Counts, metadata={"description": "live counts"})
    confirmed_counts = fields.Nested(Counts, allow_none=True,
                                     metadata={"description": "sealed at confirmation"})
    recorded = fields.Boolean()
    institutions = fields.Nested(Tally, metadata={"description": "schools and CDCs beneath"})
    staff = fields.Nested(lambda: StaffTotals(), metadata={"description": "active caregivers and teachers "
                                                                     "at or beneath the unit"})
    checks = fields.Nested(ProgressChecks, metadata={"description": "the unit and its subtree (JSON only; left "
                                                                "out when the checks cannot be read)"})


class Progress(ma.Schema):
    round = fields.Nested(RoundBrief)
    org_unit = fields.Nested(UnitBrief)
    state = fields.String(metadata={"description": "the unit's own: open or confirmed"})
    confirmed_at = fields.String(allow_none=True)
    confirmed_by = fields.String(allow_none=True, metadata={"description": "user id"})
    confirmed_by_username = fields.String(allow_none=True, metadata={"description": "account name"})
    items = fields.List(fields.Nested(ProgressRow))
    total = fields.Integer()
    confirmed = fields.Integer()
    recorded = fields.Integer()
    checks = fields.Nested(ProgressChecks, metadata={"description": "the unit's whole subtree (JSON only; left out "
                                                                "when the checks cannot be read)"})


class Money(ma.Schema):
    lunch = fields.Float()
    milk = fields.Float()
    total = fields.Float()
    units = fields.Integer()
    lunch_pupils = fields.Integer()
    milk_pupils = fields.Integer()


class BudgetRow(Money):
    """A child unit's confirmed amounts (``units``: its confirmed schools and CDCs)."""
    unit = fields.Nested(UnitBrief)


class BudgetLine(ma.Schema):
    unit = fields.Nested(UnitBrief)
    confirmed_counts = fields.Nested(Counts, metadata={"description": "the counts the amounts are from"})
    lunch_pupils = fields.Integer()
    lunch_band = fields.String(allow_none=True)
    lunch_rate = fields.Float()
    lunch = fields.Float()
    milk_pupils = fields.Integer()
    milk = fields.Float()
    total = fields.Float()


class UnconfirmedUnit(ma.Schema):
    unit = fields.Nested(UnitBrief)
    live_total = fields.Integer(metadata={"description": "its learners (or headcount) now"})


class Unconfirmed(ma.Schema):
    total = fields.Integer()
    items = fields.List(fields.Nested(UnconfirmedUnit), metadata={"description": "a page: limit, offset"})


class Amounts(ma.Schema):
    lunch = fields.Float()
    milk = fields.Float()
    total = fields.Float()


class LastConfirmed(Amounts):
    counts = fields.Nested(Counts, metadata={"description": "the counts last confirmed"})


class PreviewLine(ma.Schema):
    unit = fields.Nested(UnitBrief)
    counts = fields.Nested(Counts, metadata={"description": "the live counts the amounts are from"})
    lunch_pupils = fields.Integer()
    lunch_band = fields.String(allow_none=True)
    lunch_rate = fields.Float()
    lunch = fields.Float()
    milk_pupils = fields.Integer()
    milk = fields.Float()
    total = fields.Float()
    last_confirmed = fields.Nested(LastConfirmed, allow_none=True,
                                   metadata={"description": "the amounts on the counts it last confirmed "
                                                            "(kept after a revocation); null if never"})


class BudgetPreview(ma.Schema):
    basis = fields.String()
    totals = fields.Dict(keys=fields.String(), values=fields.Nested(Money),
                         metadata={"description": "all, school, cdc, other_school: on the live counts"})
    confirmed_totals = fields.Dict(keys=fields.String(), values=fields.Nested(Money),
                                   metadata={"description": "all: on the counts each unit last confirmed"})
    change = fields.Nested(Amounts, metadata={"description": "the live totals minus the last confirmed"})
    lines = fields.List(fields.Nested(PreviewLine),
                        metadata={"description": "for an institution, an other school or an LAO; "
                                                 "[] for a province or the department"})


class Budget(ma.Schema):
    round = fields.Nested(RoundBrief)
    org_unit = fields.Nested(UnitBrief)
    basis = fields.String()
    settings = fields.Dict(metadata={"description": "the round's lunch and milk settings used"})
    totals = fields.Dict(keys=fields.String(), values=fields.Nested(Money))
    rows = fields.List(fields.Nested(BudgetRow), metadata={"description": "one per child unit"})
    lines = fields.List(fields.Nested(BudgetLine), metadata={"description": "one per confirmed school/CDC"})
    unconfirmed = fields.Nested(Unconfirmed, metadata={"description": "units whose counts are not "
                                                                      "confirmed, never in the amounts"})
    preview = fields.Nested(BudgetPreview, metadata={"description": "only with ?preview=true"})


class ComparisonRow(ma.Schema):
    unit = fields.Nested(UnitBrief)
    current = fields.Dict()
    against = fields.Dict()
    change = fields.Integer()
    change_pct = fields.Float(allow_none=True)


class Comparison(ma.Schema):
    round = fields.Nested(RoundBrief)
    against = fields.Nested(RoundBrief)
    org_unit = fields.Nested(UnitBrief)
    level = fields.String()
    totals = fields.Dict()
    items = fields.List(fields.Nested(ComparisonRow))
    largest_drops = fields.List(fields.Nested(ComparisonRow))
    largest_rises = fields.List(fields.Nested(ComparisonRow))


class Column(ma.Schema):
    key = fields.String()
    label = fields.String()
    group = fields.String(allow_none=True)
    type = fields.String(validate=validate.OneOf(("text", "int", "money")))


class Section(ma.Schema):
    name = fields.String()
    columns = fields.List(fields.Nested(Column))
    rows = fields.List(fields.List(fields.Raw()))
    total = fields.List(fields.Raw(), allow_none=True)


class Table(ma.Schema):
    key = fields.String()
    enclosure = fields.Integer(allow_none=True)
    title = fields.String()
    subtitle = fields.List(fields.String())
    sections = fields.List(fields.Nested(Section))
    footer = fields.List(fields.String())


class FormRef(ma.Schema):
    key = fields.String()
    enclosure = fields.Integer(metadata={"description": "its number in the department's letter"})
    title = fields.String(metadata={"description": "Thai title"})


# -- who blocks me and notices ----------------------------------------------------------------

class BlockerUnit(ma.Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    type = fields.String(validate=validate.OneOf(("province", "lao", "school", "cdc")))
    parent_id = fields.Integer(allow_none=True)
    path = fields.String()


class BlockerChecks(ma.Schema):
    errors = fields.Integer(metadata={"description": "errors of the checks before confirming"})
    queries = fields.Integer()
    unexplained = fields.Integer(metadata={"description": "queries not explained yet"})


class BlockerRequests(ma.Schema):
    transfers = fields.Integer(metadata={"description": "pending transfers the unit (or one beneath) holds "
                                                        "or receives"})
    revocations = fields.Integer(metadata={"description": "pending revocation requests about the unit "
                                                          "(or one beneath)"})


class Contact(ma.Schema):
    username = fields.String(allow_none=True, metadata={"description": "null for the contact officer"})
    role = fields.String(metadata={"description": "the account's role, or officer: the contact "
                                                 "officer of the unit's profile"})
    last_login_at = fields.String(allow_none=True)
    name = fields.String(allow_none=True, metadata={"description": "officer: name"})
    position = fields.String(allow_none=True)
    phone = fields.String(allow_none=True, metadata={"description": "officer: Thai phone, digits"})
    email = fields.String(allow_none=True)


class Blocker(ma.Schema):
    unit = fields.Nested(BlockerUnit)
    level = fields.String(metadata={"description": "institution, lao or province: whose deadline binds it"})
    state = fields.String(metadata={"description": "open (a unit confirmed blocks no one)"})
    deadline = fields.String(allow_none=True, metadata={"description": "ISO 8601: its level's deadline, "
                                                                       "extensions included"})
    extended = fields.Boolean(metadata={"description": "an extension moved its deadline"})
    seconds_left = fields.Integer(allow_none=True, metadata={"description": "negative when overdue"})
    overdue = fields.Boolean()
    children = fields.Nested(Tally, metadata={"description": "LAOs and provinces: the units beneath that "
                                                             "confirm, and how many have"})
    checks = fields.Nested(BlockerChecks, metadata={"description": "schools and CDCs (zero when the checks "
                                                                   "cannot be read)"})
    requests = fields.Nested(BlockerRequests)
    contacts = fields.List(fields.Nested(Contact), metadata={"description": "the unit's active accounts"})


class Blockers(ma.Schema):
    round = fields.Nested(RoundBrief)
    org_unit = fields.Nested(UnitBrief)
    at = fields.String(metadata={"description": "the instant the times left are counted from"})
    items = fields.List(fields.Nested(Blocker))
    total = fields.Integer()
    limit = fields.Integer()
    offset = fields.Integer()
    unavailable = fields.List(fields.String(), metadata={
        "description": "figures that could not be read this time (checks, transfers, revocations, "
                       "contacts): shown as zero or empty; ask again later"})


class NoticeRound(ma.Schema):
    id = fields.Integer()
    academic_year = fields.Integer(allow_none=True)
    number = fields.Integer(allow_none=True)


class Notice(ma.Schema):
    kind = fields.String(metadata={"description": "deadline, transfer or revocation_request"})
    round_id = fields.Integer()
    unit_id = fields.Integer(allow_none=True, metadata={"description": "the unit that must act"})
    at = fields.String(allow_none=True, metadata={"description": "ISO 8601: when it arose"})
    ref_id = fields.Integer(allow_none=True, metadata={"description": "transfer or revocation request id"})
    page = fields.String(metadata={"description": "the portal page that shows it: confirm, transfers or "
                                                  "revocations"})
    round = fields.Nested(NoticeRound, allow_none=True)
    level = fields.String(allow_none=True, metadata={"description": "deadline: the level whose deadline"})
    deadline = fields.String(allow_none=True, metadata={"description": "deadline: ISO 8601"})
    hours_before = fields.Integer(allow_none=True, metadata={"description": "deadline: 72, 24 or 3"})
    data = fields.Dict(metadata={"description": "the rest of the notice as its owner gave it (e.g. "
                                                "title_data, state)"})


class Notices(ma.Schema):
    items = fields.List(fields.Nested(Notice))
    total = fields.Integer()
    unavailable = fields.List(fields.String(), metadata={
        "description": "sources that could not be read this time (transfers, revocation_requests): "
                       "their notices are missing from this answer"})


# -- the event reporting publishes (exchange ``reporting.events``; AsyncAPI document) ------------

class ReminderRound(ma.Schema):
    id = fields.Integer(required=True)
    academic_year = fields.Integer(required=True, metadata={"description": "Buddhist era"})
    number = fields.Integer(required=True, validate=validate.OneOf((1, 2)))


class ReminderUnit(ma.Schema):
    id = fields.Integer(required=True)
    code = fields.String(required=True)
    name = fields.String(required=True)
    type = fields.String(required=True, validate=validate.OneOf(("province", "lao", "school", "cdc")))
    path = fields.String(required=True, metadata={"description": "materialised path, e.g. /1/7/42/"})


class DeadlineApproaching(ma.Schema):
    """A unit that has not confirmed is this close to its level's deadline."""
    event_id = fields.UUID(required=True, metadata={"description": "de-duplicate by this"})
    type = fields.String(required=True, validate=validate.Equal("deadline_approaching"))
    version = fields.Integer(required=True, validate=validate.Equal(1))
    occurred_at = fields.DateTime(required=True)
    round = fields.Nested(ReminderRound, required=True)
    org_unit = fields.Nested(ReminderUnit, required=True)
    level = fields.String(required=True, validate=validate.OneOf(DEADLINE_LEVELS), metadata={
        "description": "whose deadline: institution (schools, CDCs), lao or province"})
    deadline = fields.DateTime(required=True, metadata={
        "description": "the unit's deadline at its level, extensions included"})
    hours_before = fields.Integer(required=True, validate=validate.OneOf((72, 24, 3)), metadata={
        "description": "the reminder: 72, 24 or 3 hours before the deadline (when several are passed "
                       "at once, only the smallest is sent)"})
