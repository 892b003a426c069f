"""The payloads of staff records (caregivers and teachers): what the REST API
and the enrollment service exchange."""
import marshmallow as ma
from marshmallow import fields, validate

from services.common import staff as vocabulary
from services.common.text import FreeText

EDITABLE = ("national_id", "prefix", "first_name", "last_name", "position", "employment_type",
            "qualification", "start_date")
# the columns of a staff file, in the order the import reads them
IMPORT_COLUMNS = EDITABLE

# -- payloads ------------------------------------------------------------------------------------

NAME = validate.Length(min=1, max=100)


class StaffCreate(ma.Schema):
    national_id = fields.String(required=True, validate=validate.Length(max=32),
                                metadata={"description": "13-digit Thai personal ID (check digit verified)"})
    prefix = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=50))
    first_name = fields.String(required=True, validate=NAME)
    last_name = fields.String(required=True, validate=NAME)
    position = fields.String(required=True, validate=validate.OneOf(tuple(vocabulary.POSITIONS)),
                             metadata={"description": "caregiver_teacher (ครูผู้ดูแลเด็ก), caregiver "
                                                      "(ผู้ดูแลเด็ก) or teacher (ครู)"})
    employment_type = fields.String(required=True,
                                    validate=validate.OneOf(tuple(vocabulary.EMPLOYMENT_TYPES)),
                                    metadata={"description": ", ".join(vocabulary.EMPLOYMENT_TYPES)})
    qualification = fields.String(load_default=None, allow_none=True,
                                  validate=validate.OneOf(tuple(vocabulary.QUALIFICATIONS)),
                                  metadata={"description": ", ".join(vocabulary.QUALIFICATIONS)})
    start_date = fields.Date(load_default=None, allow_none=True,
                             metadata={"description": "first day in the post (not after the census date)"})


class StaffUpdate(StaffCreate):
    """Any subset of the fields; ``version`` (optional) guards against lost updates."""
    version = fields.Integer(strict=True)


class StaffRemoval(ma.Schema):
    reason = fields.String(required=True, validate=validate.OneOf(vocabulary.REMOVAL_REASONS))
    note = fields.String(load_default=None, allow_none=True,
                         validate=[validate.Length(max=500), FreeText()],
                         metadata={"description": "free text; no national ID"})


class Staff(ma.Schema):
    id = fields.Integer()
    round_id = fields.Integer()
    institution_id = fields.Integer()
    national_id = fields.String()
    prefix = fields.String(allow_none=True)
    first_name = fields.String()
    last_name = fields.String()
    position = fields.String(validate=validate.OneOf(tuple(vocabulary.POSITIONS)))
    employment_type = fields.String(validate=validate.OneOf(tuple(vocabulary.EMPLOYMENT_TYPES)))
    qualification = fields.String(allow_none=True)
    start_date = fields.Date(allow_none=True)
    status = fields.String(validate=validate.OneOf(("active", "removed")))
    removal_reason = fields.String(allow_none=True)
    removal_note = fields.String(allow_none=True)
    removed_at = fields.AwareDateTime(allow_none=True)
    removed_by = fields.Integer(allow_none=True)
    source = fields.String(validate=validate.OneOf(("manual", "import")))
    version = fields.Integer()
    created_at = fields.AwareDateTime()
    created_by = fields.Integer(allow_none=True)
    updated_at = fields.AwareDateTime()
    updated_by = fields.Integer(allow_none=True)


class StaffCounts(ma.Schema):
    total = fields.Integer()
    by_position = fields.Dict(keys=fields.String(), values=fields.Integer(),
                              metadata={"description": "position -> active staff"})


class StaffSummary(ma.Schema):
    round_id = fields.Integer()
    institution_id = fields.Integer()
    counts = fields.Nested(StaffCounts)
    removed = fields.Integer()
    sealed = fields.Boolean()
