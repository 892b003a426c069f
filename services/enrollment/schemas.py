"""Enrollment payloads: what the RPCs accept and return (and what the gateway documents)."""
import marshmallow as ma
from marshmallow import fields, validate

from services.common.checks import DEFAULT_RULES
from services.common.schemas import Counts  # noqa: F401  (part of this module's payloads)
from services.common.text import FreeText
from services.enrollment.domain import (
    ALL_GRADES, HEADCOUNT_GRADES, ID_KINDS, REMOVAL_REASONS, SEXES,
)

NAME = validate.Length(min=1, max=100)


class LearnerCreate(ma.Schema):
    national_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=32),
                                metadata={"description": "13-digit Thai personal ID (check digit verified)"})
    g_code = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=32),
                           metadata={"description": "MoE G-Code for a learner without civil "
                                                    "registration: G + 12 digits"})
    prefix = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=50))
    first_name = fields.String(required=True, validate=NAME)
    last_name = fields.String(required=True, validate=NAME)
    sex = fields.String(required=True, validate=validate.OneOf(SEXES))
    birth_date = fields.Date(required=True)
    grade = fields.String(required=True, validate=validate.OneOf(ALL_GRADES),
                          metadata={"description": "k1-k3, p1-p6, m1-m6 for schools; cdc for CDCs"})
    nationality = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=50))


class LearnerUpdate(LearnerCreate):
    """Any subset of the fields; ``version`` (optional) guards against lost updates."""
    version = fields.Integer(strict=True)


class Removal(ma.Schema):
    reason = fields.String(required=True, validate=validate.OneOf(REMOVAL_REASONS))
    note = fields.String(load_default=None, allow_none=True, validate=[validate.Length(max=500), FreeText()],
                         metadata={"description": "free text; no national ID or G-Code"})


class Learner(ma.Schema):
    id = fields.Integer()
    round_id = fields.Integer()
    institution_id = fields.Integer()
    id_kind = fields.String(validate=validate.OneOf(ID_KINDS))
    national_id = fields.String(allow_none=True)
    g_code = fields.String(allow_none=True)
    prefix = fields.String(allow_none=True)
    first_name = fields.String()
    last_name = fields.String()
    sex = fields.String(validate=validate.OneOf(SEXES))
    birth_date = fields.Date()
    nationality = fields.String(allow_none=True)
    grade = fields.String(validate=validate.OneOf(ALL_GRADES))
    status = fields.String(validate=validate.OneOf(("active", "removed")))
    removal_reason = fields.String(allow_none=True, validate=validate.OneOf(REMOVAL_REASONS))
    removal_note = fields.String(allow_none=True)
    removed_at = fields.AwareDateTime(allow_none=True)
    removed_by = fields.Integer(allow_none=True)
    source = fields.String(validate=validate.OneOf(("manual", "import", "carry_over", "promotion")))
    carried_from = fields.Integer(allow_none=True)
    version = fields.Integer()
    created_at = fields.AwareDateTime()
    created_by = fields.Integer(allow_none=True)
    updated_at = fields.AwareDateTime()
    updated_by = fields.Integer(allow_none=True)


class HeadcountSet(ma.Schema):
    counts = fields.Dict(keys=fields.String(validate=validate.OneOf(HEADCOUNT_GRADES)),
                         values=fields.Integer(strict=True), required=True,
                         metadata={"description": "grade -> number of students (k1-m6); "
                                                  "a closed school's headcount is 0"})


class Headcount(ma.Schema):
    round_id = fields.Integer()
    school_id = fields.Integer()
    lao_id = fields.Integer()
    closed = fields.Boolean()
    counts = fields.Nested(Counts)
    version = fields.Integer(metadata={"description": "0: never entered"})
    updated_at = fields.AwareDateTime(allow_none=True)
    sealed = fields.Boolean(metadata={"description": "locked by the LAO's confirmation"})
    draft = fields.Boolean(metadata={"description": "started from the round before and not yet "
                                                    "accepted by the LAO (POST .../headcount/accept)"})
    draft_from = fields.Integer(allow_none=True, metadata={"description": "a draft: the round it "
                                                                          "was started from"})


class SchoolHeadcount(Headcount):
    """A headcount in the list of an LAO's other-affiliation schools."""
    code = fields.String(metadata={"description": "the school's code"})
    name = fields.String(metadata={"description": "the school's name"})


class HeldIn(ma.Schema):
    code = fields.String(allow_none=True, metadata={"description": "the province's code"})
    name = fields.String(allow_none=True, metadata={"description": "the province's name"})


HELD_BY = ("duplicate_learner: the holding institution, where the caller may read it "
           "(otherwise held_in)")
HELD_IN = "duplicate_learner, where the caller may not read the holder: the holder's province"


class Rejection(ma.Schema):
    row = fields.Integer(metadata={"description": "row of the file, the header being row 1"})
    code = fields.String()
    message = fields.String()
    held_by = fields.Integer(metadata={"description": HELD_BY})
    held_in = fields.Nested(HeldIn, metadata={"description": HELD_IN})
    retry_after = fields.Integer(metadata={
        "description": "rate_limited: seconds before duplicates against other institutions "
                       "are answered again"})


class ImportResult(ma.Schema):
    accepted = fields.Integer(metadata={"description": "rows that added a learner"})
    unchanged = fields.Integer(metadata={"description": "rows already recorded here, identical"})
    rejected = fields.List(fields.Nested(Rejection))
    rejected_total = fields.Integer()
    rows = fields.Integer(metadata={"description": "data rows read"})


class CarriedLearner(ma.Schema):
    learner_id = fields.Integer(metadata={"description": "the round-1 learner"})
    prefix = fields.String(allow_none=True)
    first_name = fields.String()
    last_name = fields.String()
    grade = fields.String(validate=validate.OneOf(ALL_GRADES))


class CarryOverSkip(CarriedLearner):
    code = fields.String(metadata={"description": "why it is not copied (an error code)"})
    message = fields.String()
    held_by = fields.Integer(metadata={"description": HELD_BY})
    held_in = fields.Nested(HeldIn, metadata={"description": HELD_IN})


class CarryOverResult(ma.Schema):
    from_round_id = fields.Integer()
    copied = fields.Integer(metadata={"description": "learners copied (with dry_run: that would be)"})
    unchanged = fields.Integer(metadata={"description": "already active here in this round"})
    skipped = fields.List(fields.Nested(CarryOverSkip), metadata={
        "description": "round-1 learners not copied, with the reason"})
    dry_run = fields.Boolean(metadata={"description": "true: a preview, nothing was written"})
    learners = fields.List(fields.Nested(CarriedLearner), metadata={
        "description": "with dry_run: the round-1 learners that would be copied"})


class SealState(ma.Schema):
    sealed = fields.Boolean()
    counts = fields.Nested(Counts, allow_none=True)
    sealed_at = fields.AwareDateTime(allow_none=True)


class LearnerSummary(ma.Schema):
    round_id = fields.Integer()
    institution_id = fields.Integer()
    counts = fields.Nested(Counts)
    removed = fields.Integer()
    sealed = fields.Nested(SealState)


# -- checks before confirming -------------------------------------------------------------

CHECK_CODES = tuple(DEFAULT_RULES)


class CheckLearner(ma.Schema):
    id = fields.Integer()
    prefix = fields.String(allow_none=True)
    first_name = fields.String()
    last_name = fields.String()
    grade = fields.String(validate=validate.OneOf(ALL_GRADES))


class CheckItem(ma.Schema):
    code = fields.String(validate=validate.OneOf(CHECK_CODES))
    severity = fields.String(validate=validate.OneOf(("error", "query")), metadata={
        "description": "error: must be corrected; query: must be corrected or explained"})
    org_unit_id = fields.Integer(metadata={"description": "the unit whose confirmation it concerns"})
    learner_id = fields.Integer(allow_none=True, metadata={"description": "the learner it is about"})
    subject_id = fields.Integer(allow_none=True, metadata={
        "description": "what else it is about: the other learner of a likely duplicate, the "
                       "other-affiliation school of a headcount"})
    message = fields.String(metadata={"description": "in English"})
    messages = fields.Dict(keys=fields.String(), values=fields.String(),
                           metadata={"description": "{th, en}"})
    facts = fields.Dict(metadata={"description": "the figures behind the message"})
    learner = fields.Nested(CheckLearner)
    explanation = fields.String(allow_none=True)
    explained_at = fields.String(allow_none=True, metadata={"description": "ISO 8601"})
    explained_by = fields.Integer(allow_none=True, metadata={"description": "user id"})


class CheckUnit(ma.Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    type = fields.String()


class CheckTally(ma.Schema):
    errors = fields.Integer()
    queries = fields.Integer()
    unexplained = fields.Integer()


class CheckChild(CheckTally):
    org_unit = fields.Nested(CheckUnit)
    units = fields.Integer(metadata={"description": "checked units of its subtree"})


class ChecksReport(CheckTally):
    round_id = fields.Integer()
    org_unit = fields.Nested(CheckUnit)
    previous_round_id = fields.Integer(allow_none=True, metadata={
        "description": "the round totals are compared with"})
    items = fields.List(fields.Nested(CheckItem), metadata={"description": "the unit's own findings"})
    blocking = fields.Integer(metadata={"description": "errors plus queries not explained"})
    subtree = fields.Nested(CheckTally, metadata={"description": "the unit and everything below it"})
    children = fields.List(fields.Nested(CheckChild), metadata={"description": "per child unit"})
    pending = fields.Integer(metadata={"description": "units below whose findings are being refreshed"})
    computed_at = fields.String(allow_none=True, metadata={"description": "ISO 8601"})


class ExplanationItem(ma.Schema):
    code = fields.String(required=True, validate=validate.OneOf(CHECK_CODES))
    learner_id = fields.Integer(allow_none=True, strict=True)
    subject_id = fields.Integer(allow_none=True, strict=True)
    text = fields.String(required=True, validate=[validate.Length(max=1000), FreeText()], metadata={
        "description": "the explanation; empty withdraws it"})


class ExplanationsSet(ma.Schema):
    items = fields.List(fields.Nested(ExplanationItem), required=True, validate=validate.Length(1, 1000))


class ExplanationsResult(CheckTally):
    round_id = fields.Integer()
    org_unit = fields.Nested(CheckUnit)
    saved = fields.Integer()
    items = fields.List(fields.Nested(CheckItem))
    blocking = fields.Integer()


# -- transfers of a child between institutions (services.enrollment.transfers) -------------------

TRANSFER_STATES = ("pending", "accepted", "declined", "withdrawn", "cancelled")
TRANSFER_ACTIONS = ("requested", "accepted", "declined", "withdrawn", "cancelled")
FREE_TEXT = [validate.Length(max=500), FreeText()]


class TransferCreate(ma.Schema):
    national_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=32),
                                metadata={"description": "the child's 13-digit Thai personal ID"})
    g_code = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=32),
                           metadata={"description": "or the child's G-Code"})
    to_institution_id = fields.Integer(required=True, strict=True, metadata={
        "description": "the receiving institution (the caller's own, or one below the caller)"})
    note = fields.String(load_default=None, allow_none=True, validate=FREE_TEXT,
                         metadata={"description": "free text for the holder; no national ID or G-Code"})
    grade = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(ALL_GRADES),
                          metadata={"description": "the grade at the receiver (default: the child's "
                                                   "current grade); a CDC records cdc"})


class TransferDecline(ma.Schema):
    reason = fields.String(required=True, validate=[validate.Length(min=1, max=500), FreeText()],
                           metadata={"description": "why the child is not handed over (shown to the "
                                                    "requester); no national ID or G-Code"})


class TransferUnit(ma.Schema):
    id = fields.Integer()
    code = fields.String(allow_none=True)
    name = fields.String(allow_none=True)


class TransferLearner(ma.Schema):
    prefix = fields.String(allow_none=True)
    first_name = fields.String()
    last_name = fields.String()
    grade = fields.String()
    birth_date = fields.Date()
    sex = fields.String(validate=validate.OneOf(SEXES))


class TransferAnswerable(ma.Schema):
    level = fields.String(validate=validate.OneOf(("institution", "lao", "province")), metadata={
        "description": "the highest level that may answer now (every level below it may too)"})
    unit_id = fields.Integer(metadata={"description": "the unit of that level above the holder"})
    since = fields.AwareDateTime(metadata={"description": "since when that level may answer"})
    next_level_at = fields.AwareDateTime(allow_none=True, metadata={
        "description": "when the next level up may answer too (null: none higher)"})


class TransferStep(ma.Schema):
    at = fields.AwareDateTime()
    action = fields.String(validate=validate.OneOf(TRANSFER_ACTIONS))
    by = fields.Integer(allow_none=True, metadata={"description": "the user"})
    unit_id = fields.Integer(allow_none=True, metadata={"description": "the user's unit"})
    note = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)


class Transfer(ma.Schema):
    id = fields.Integer()
    round_id = fields.Integer()
    state = fields.String(validate=validate.OneOf(TRANSFER_STATES))
    national_id = fields.String(allow_none=True)
    g_code = fields.String(allow_none=True)
    to_institution = fields.Nested(TransferUnit, metadata={"description": "the receiving institution"})
    from_institution = fields.Nested(TransferUnit, metadata={
        "description": "the holding institution, where the caller may read it"})
    held_in = fields.Nested(HeldIn, metadata={
        "description": "otherwise only the holder's province {code, name}"})
    learner = fields.Nested(TransferLearner, metadata={
        "description": "the child, to whom may read the holder (and to the receiving side once accepted)"})
    new_learner_id = fields.Integer(allow_none=True, metadata={
        "description": "accepted: the learner record at the receiver"})
    grade = fields.String(validate=validate.OneOf(ALL_GRADES))
    note = fields.String(allow_none=True)
    reason = fields.String(allow_none=True, metadata={"description": "declined: why"})
    created_at = fields.AwareDateTime()
    created_by = fields.Integer(allow_none=True)
    answered_at = fields.AwareDateTime(allow_none=True)
    answered_by = fields.Integer(allow_none=True)
    answered_by_unit_id = fields.Integer(allow_none=True)
    answerable_by = fields.Nested(TransferAnswerable, allow_none=True, metadata={
        "description": "pending: who may answer now and when the next level may"})
    sealed = fields.Boolean(metadata={"description": "the holder's data are confirmed: the request "
                                                     "waits on the unit that can revoke"})
    waiting_on = fields.Nested(TransferUnit, allow_none=True, metadata={
        "description": "sealed: the unit that can revoke the holder's confirmation"})
    history = fields.List(fields.Nested(TransferStep))
    version = fields.Integer()


class TransferPossible(ma.Schema):
    possible = fields.Boolean()
