"""Confirmation payloads: requests, the status view and the events for agencies.

The event schemas are the source of the payload schemas in ``deploy/asyncapi.yaml``
(``python -m deploy.asyncapi`` writes it; the tests check the file
is current and that dispatched events validate against it).
"""
import marshmallow as ma
from marshmallow import fields, validate

from services.common.schemas import Counts  # noqa: F401  (part of this module's payloads)
from services.common.text import FreeText

REVOKE_REASON_MAX = 500
NOTE_MAX = 1000
HEX64 = validate.Regexp(r"^[0-9a-f]{64}$")
DIGESTS = ("See docs/confirmation.md for the recipe: an agency recomputes it from round_id, "
           "unit_id, the counts and learners_digest.")


class RevokeRequest(ma.Schema):
    reason = fields.String(required=True, validate=[validate.Length(min=3, max=REVOKE_REASON_MAX), FreeText()],
                           metadata={"description": "why the confirmation is withdrawn; published to "
                                                    "agencies, so no national ID or G-Code"})

    @ma.pre_load
    def strip(self, data, **kwargs):
        if isinstance(data, dict) and isinstance(data.get("reason"), str):
            data = dict(data, reason=data["reason"].strip())
        return data


class ConfirmRequest(ma.Schema):
    note = fields.String(allow_none=True, validate=[validate.Length(max=NOTE_MAX), FreeText()],
                         metadata={"description": "a note of the confirming user (optional); kept "
                                                  "with the confirmation and published to agencies, "
                                                  "so no national ID or G-Code"})

    @ma.pre_load
    def strip(self, data, **kwargs):
        if isinstance(data, dict) and isinstance(data.get("note"), str):
            data = dict(data, note=data["note"].strip() or None)
        return data


# -- parts -----------------------------------------------------------------------

class RoundRef(ma.Schema):
    id = fields.Integer(required=True)
    academic_year = fields.Integer(required=True, metadata={"description": "Buddhist era"})
    number = fields.Integer(required=True, validate=validate.OneOf((1, 2)))


class UnitRef(ma.Schema):
    id = fields.Integer(required=True)
    code = fields.String(required=True, allow_none=True)
    type = fields.String(required=True, validate=validate.OneOf(
        ("department", "province", "lao", "school", "cdc")))
    path = fields.String(required=True, metadata={"description": "materialised path, e.g. /1/7/42/"})


class OtherSchool(ma.Schema):
    id = fields.Integer(required=True)
    code = fields.String(required=True, allow_none=True)
    closed = fields.Boolean(required=True, metadata={"description": "a closed school counts zero"})
    counts = fields.Nested(Counts, required=True)


class OtherSchools(Counts):
    """Headcounts of the other-affiliation schools an LAO funds (sealed with the
    LAO); for a province or the department, their sum."""
    schools = fields.List(fields.Nested(OtherSchool), metadata={"description": "LAO events only"})


# -- events ----------------------------------------------------------------------

class Envelope(ma.Schema):
    event_id = fields.UUID(required=True, metadata={"description": "de-duplicate by this"})
    type = fields.String(required=True)
    version = fields.Integer(required=True, validate=validate.Equal(1))
    occurred_at = fields.DateTime(required=True)


class ConfirmationBody(ma.Schema):
    round = fields.Nested(RoundRef, required=True)
    org_unit = fields.Nested(UnitRef, required=True)
    counts = fields.Nested(Counts, required=True, metadata={
        "description": "learners of the unit's institutions, sealed at confirmation"})
    other_schools = fields.Nested(OtherSchools, metadata={
        "description": "LAOs, provinces and the department: other-affiliation headcounts"})
    confirmed_at = fields.DateTime(required=True)
    confirmed_by = fields.Integer(required=True, metadata={"description": "user id"})
    confirmed_by_username = fields.String(required=True, metadata={
        "description": "the account name of the user who confirmed (an account, not a person's name)"})
    confirmation_version = fields.Integer(required=True, validate=validate.Range(min=1), metadata={
        "description": "the version of this unit's confirmation in this round: it increases with every "
                       "confirm and revoke, so of two events about the same unit and round the one with "
                       "the higher version is the newer (order by it, not by occurred_at)"})
    seal_digest = fields.String(required=True, allow_none=True, validate=HEX64, metadata={
        "description": "SHA-256 (hex) of the canonical JSON of {round_id, unit_id, counts: {total, "
                       "by_grade}, learners_digest}: sorted keys, separators ',' and ':', UTF-8 "
                       "unescaped. counts are the event's counts; for an LAO its other_schools' "
                       "total and by_grade (what the LAO seals). Null only for a confirmation "
                       "recorded before digests were kept."})
    learners_digest = fields.String(required=True, allow_none=True, validate=HEX64, metadata={
        "description": "SHA-256 (hex) of what was sealed, one line per item, lines sorted and joined "
                       "by a line feed: a school or CDC '{id_kind}:{id_number}:{grade}' per active "
                       "learner; an LAO '{school_id}:{total}:{canonical JSON of by_grade}' per "
                       "other-affiliation school; a province or the department "
                       "'{child_id}:{child seal_digest}' per confirmed child."})
    note = fields.String(required=True, allow_none=True, metadata={
        "description": "the confirming user's note, or null"})


class RevocationBody(ConfirmationBody):
    reason = fields.String(required=True)
    revoked_at = fields.DateTime(required=True)
    revoked_by = fields.Integer(required=True, metadata={"description": "user id"})


class UnitConfirmed(Envelope, ConfirmationBody):
    """A unit confirmed its counts (sealed at that instant)."""
    type = fields.String(required=True, validate=validate.Equal("unit_confirmed"))


class UnitRevoked(Envelope, RevocationBody):
    """A confirmation was withdrawn from above; its counts no longer stand."""
    type = fields.String(required=True, validate=validate.Equal("unit_revoked"))


class RoundFinalized(Envelope, ConfirmationBody):
    """The department confirmed: the round's counts are final."""
    type = fields.String(required=True, validate=validate.Equal("round_finalized"))


EVENTS = {"unit_confirmed": UnitConfirmed, "unit_revoked": UnitRevoked,
          "round_finalized": RoundFinalized}


# -- the status view ---------------------------------------------------------------

class ChildState(ma.Schema):
    id = fields.Integer()
    code = fields.String(allow_none=True)
    name = fields.String(allow_none=True)
    type = fields.String()
    status = fields.String(metadata={"description": "registry status: active, pending, closed"})
    state = fields.String(validate=validate.OneOf(("open", "confirmed")))
    blocking = fields.Boolean(metadata={"description": "an active unit whose confirmation is awaited"})
    confirmed_at = fields.DateTime(allow_none=True)
    total = fields.Integer(allow_none=True, metadata={"description": "confirmed learners"})
    note = fields.String(allow_none=True, metadata={"description": "the note of its confirmation"})


class ChildrenProgress(ma.Schema):
    total = fields.Integer(metadata={"description": "active children awaited"})
    confirmed = fields.Integer()
    pending = fields.List(fields.Integer())
    items = fields.List(fields.Nested(ChildState))


class StatusUnit(UnitRef):
    """The unit of a status view: of any type (an other-affiliation school is
    sealed with its LAO, never confirmed itself)."""
    type = fields.String(required=True, validate=validate.OneOf(
        ("department", "province", "lao", "school", "cdc", "other_school")))


class Status(ma.Schema):
    unit_id = fields.Integer()
    round_id = fields.Integer()
    unit = fields.Nested(StatusUnit)
    state = fields.String(validate=validate.OneOf(("open", "confirmed")))
    saga = fields.String(allow_none=True, metadata={
        "description": "sealing / unsealing while a confirm or revoke is being completed"})
    confirmed_at = fields.DateTime(allow_none=True)
    confirmed_by = fields.Integer(allow_none=True)
    confirmed_by_username = fields.String(allow_none=True)
    confirmed_by_name = fields.String(allow_none=True, metadata={
        "description": "the account name of who confirmed; only in the reduced view of a unit "
                       "above the caller's, which has none of the other counts and lists"})
    counts = fields.Nested(Counts)
    counts_source = fields.String(validate=validate.OneOf(("sealed", "live", "children")), metadata={
        "description": "sealed at confirmation; live learners; or the sum of confirmed children"})
    other_schools = fields.Nested(OtherSchools, allow_none=True)
    children = fields.Nested(ChildrenProgress)
    pending = fields.List(fields.Integer(), metadata={"description": "active children not confirmed"})
    revoked_at = fields.DateTime(allow_none=True)
    revoked_by = fields.Integer(allow_none=True)
    revoke_reason = fields.String(allow_none=True)
    version = fields.Integer()
    seal_digest = fields.String(allow_none=True, metadata={
        "description": "the digest of what the confirmation sealed (null when not confirmed). " + DIGESTS})
    learners_digest = fields.String(allow_none=True, metadata={
        "description": "the digest of the sealed learners, other-school headcounts or confirmed "
                       "children (null when not confirmed)"})
    note = fields.String(allow_none=True, metadata={
        "description": "the confirming user's note (null when none or not confirmed)"})


class HistoryEntry(ma.Schema):
    at = fields.DateTime()
    action = fields.String()
    actor_id = fields.Integer(allow_none=True)
    actor_username = fields.String(allow_none=True)
    actor_unit_id = fields.Integer(allow_none=True)
    details = fields.Dict()
    request_id = fields.String(allow_none=True)


# -- what changed since the last seal ------------------------------------------------

class DiffLearner(ma.Schema):
    learner_id = fields.Integer()
    prefix = fields.String(allow_none=True)
    first_name = fields.String()
    last_name = fields.String()
    grade = fields.String()


class DiffRemoved(DiffLearner):
    removal_reason = fields.String(allow_none=True, metadata={
        "description": "why the learner was removed; null when the record is active elsewhere or gone"})


class DiffChange(ma.Schema):
    before = fields.Raw(allow_none=True)
    after = fields.Raw(allow_none=True)


class DiffChanged(ma.Schema):
    learner_id = fields.Integer()
    first_name = fields.String(metadata={"description": "now"})
    last_name = fields.String(metadata={"description": "now"})
    fields_ = fields.Dict(data_key="fields", keys=fields.String(), values=fields.Nested(DiffChange),
                          metadata={"description": "field (prefix, first_name, last_name, sex, "
                                                   "birth_date, grade, nationality) -> {before, after}"})
    id_changed = fields.Boolean(metadata={"description": "the ID number or its kind changed (never "
                                                         "shown)"})


class DiffCounts(ma.Schema):
    then = fields.Nested(Counts, allow_none=True, metadata={"description": "sealed; null: never sealed"})
    now = fields.Nested(Counts, metadata={"description": "live"})


class DiffSchool(ma.Schema):
    id = fields.Integer()
    code = fields.String(allow_none=True)
    before = fields.Nested(Counts, allow_none=True, metadata={"description": "null: not there then"})
    after = fields.Nested(Counts, allow_none=True, metadata={"description": "null: not there now"})


class SealDiff(ma.Schema):
    """What changed since a school's, CDC's or LAO's last seal."""
    unit_id = fields.Integer()
    round_id = fields.Integer()
    last_sealed_at = fields.DateTime(allow_none=True, metadata={"description": "null: never sealed"})
    sealed = fields.Boolean(metadata={"description": "sealed now (confirmed)"})
    added = fields.List(fields.Nested(DiffLearner))
    removed = fields.List(fields.Nested(DiffRemoved))
    changed = fields.List(fields.Nested(DiffChanged))
    counts = fields.Nested(DiffCounts)
    schools = fields.List(fields.Nested(DiffSchool), metadata={
        "description": "an LAO: its other-affiliation schools whose headcount changed"})
    truncated = fields.Boolean(metadata={"description": "a list was cut at 1000 entries"})


# -- revocation requests and seeing upward ------------------------------------------------

REQUEST_STATES = ("pending", "approved", "declined", "withdrawn")


def _strip_reason(data):
    if isinstance(data, dict) and isinstance(data.get("reason"), str):
        data = dict(data, reason=data["reason"].strip() or None)
    return data


def _reason(required, description):
    return fields.String(required=required, allow_none=not required,
                         validate=[validate.Length(min=3, max=REVOKE_REASON_MAX), FreeText()],
                         metadata={"description": description})


class RevocationRequestCreate(ma.Schema):
    unit_id = fields.Integer(required=True, strict=True, metadata={
        "description": "the confirmed unit to reopen: the caller's own, or one beneath it"})
    reason = _reason(True, "why the confirmation should be reopened (3-500 characters; it becomes "
                           "the reason of every revocation the approval makes, so no national ID "
                           "or G-Code)")

    @ma.pre_load
    def strip(self, data, **kwargs):
        return _strip_reason(data)


class RevocationApprove(ma.Schema):
    reason = _reason(False, "a note of the approver (optional); the revocations carry the "
                            "request's reason")

    @ma.pre_load
    def strip(self, data, **kwargs):
        return _strip_reason(data)


class RevocationDecline(ma.Schema):
    reason = _reason(True, "why the request is declined; the requester sees it")

    @ma.pre_load
    def strip(self, data, **kwargs):
        return _strip_reason(data)


class RequestUnit(ma.Schema):
    id = fields.Integer(required=True)
    code = fields.String(required=True, allow_none=True)
    name = fields.String(required=True, allow_none=True)
    type = fields.String(required=True)


class RevocationRequest(ma.Schema):
    id = fields.Integer(required=True)
    round_id = fields.Integer(required=True)
    unit = fields.Nested(RequestUnit, required=True, metadata={"description": "the unit to reopen"})
    state = fields.String(required=True, validate=validate.OneOf(REQUEST_STATES))
    reason = fields.String(required=True)
    requested_by = fields.Integer(required=True, metadata={"description": "user id"})
    requested_by_username = fields.String(allow_none=True)
    requested_by_unit_id = fields.Integer(required=True)
    routed_to = fields.Nested(RequestUnit, required=True, metadata={
        "description": "the lowest unit above able to act: the first, walking up, whose own "
                       "confirmation is not given (recomputed when answered)"})
    created_at = fields.DateTime(required=True)
    answered_at = fields.DateTime(required=True, allow_none=True)
    answered_by = fields.Integer(required=True, allow_none=True)
    answered_by_username = fields.String(allow_none=True)
    answer_reason = fields.String(required=True, allow_none=True)
    revoked = fields.List(fields.Integer(), required=True, metadata={
        "description": "the units whose confirmation the approval revoked, top-down"})
    can_answer = fields.Boolean(metadata={
        "description": "the caller may approve or decline it now"})
    can_withdraw = fields.Boolean(metadata={"description": "the caller may withdraw it now"})


class AncestorState(ma.Schema):
    unit_id = fields.Integer()
    code = fields.String(allow_none=True)
    name = fields.String(allow_none=True)
    type = fields.String()
    state = fields.String(validate=validate.OneOf(("open", "confirmed")))
    confirmed_at = fields.DateTime(allow_none=True)
    confirmed_by = fields.Integer(allow_none=True)
    confirmed_by_name = fields.String(allow_none=True, metadata={
        "description": "the account name of who confirmed"})


class Ancestors(ma.Schema):
    items = fields.List(fields.Nested(AncestorState), metadata={
        "description": "the units above, top-down (the department first)"})
