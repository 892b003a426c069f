"""Registry payloads: what RPCs accept and return (and what the gateway documents)."""
import marshmallow as ma
from marshmallow import fields, validate

from services.common.affiliations import CODES as AFFILIATION_CODES
from services.common.hierarchy import ROLES
from services.common.vocabulary import UNIT_TYPES
from services.common.text import Name
from services.registry.profile_schemas import REGISTRY_STATUSES

CODE = validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,31}$",
                       error="1-32 letters, digits, '.', '_' or '-'")
AFFILIATION = validate.OneOf(AFFILIATION_CODES, error="one of " + ", ".join(AFFILIATION_CODES)
                                                       + " (GET /api/v1/affiliations)")


class OrgUnitCreate(ma.Schema):
    code = fields.String(required=True, validate=CODE)
    name = fields.String(required=True, validate=[validate.Length(min=1, max=255), Name()],
                         metadata={"description": "the rules of learner names: letters, no control "
                                                  "characters, not starting with =, +, - or @"})
    type = fields.String(required=True, validate=validate.OneOf(UNIT_TYPES[1:]))
    parent_id = fields.Integer(required=True, strict=True)
    affiliation = fields.String(load_default=None, allow_none=True, validate=AFFILIATION)
    profile = fields.Dict(allow_none=True, metadata={
        "description": "schools and CDCs: the institution profile (see UnitProfile)"})
    survey = fields.Dict(allow_none=True, metadata={
        "description": "a CDC an LAO set up itself: the survey's fields (see CdcSurvey)"})

    @ma.validates_schema
    def affiliation_only_for_other_schools(self, data, **kwargs):
        if data.get("type") == "other_school" and not data.get("affiliation"):
            raise ma.ValidationError("required for other_school", "affiliation")
        if data.get("type") != "other_school" and data.get("affiliation"):
            raise ma.ValidationError("only other_school units have an affiliation", "affiliation")


class OrgUnit(ma.Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    type = fields.String(validate=validate.OneOf(UNIT_TYPES))
    parent_id = fields.Integer(allow_none=True)
    status = fields.String(validate=validate.OneOf(REGISTRY_STATUSES),
                           metadata={"description": "pending, active, closed or rejected (a "
                                                    "survey sent back to its LAO)"})
    affiliation = fields.String(allow_none=True)
    path = fields.String(metadata={"description": "ids from the root, as /1/7/42/"})
    depth = fields.Integer()
    closed_on = fields.Date(allow_none=True)
    created_at = fields.AwareDateTime()
    verified_at = fields.AwareDateTime(allow_none=True)
    version = fields.Integer()
    rejection_reason = fields.String(allow_none=True, metadata={"description": "why the province "
                                                                               "rejected it"})


class CloseUnit(ma.Schema):
    closed_on = fields.Date(required=True)


NEW_PASSWORD = ("8-256 characters, not easy to guess: common passwords and weak ones (below 3 of 4 "
                "in zxcvbn's estimate) answer validation_error")


class UserCreate(ma.Schema):
    username = fields.String(required=True, validate=validate.Regexp(
        r"^[A-Za-z0-9][A-Za-z0-9_.@\-]{2,63}$", error="3-64 letters, digits, '.', '_', '@' or '-'"))
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=8, max=256),
                             metadata={"description": NEW_PASSWORD})
    org_unit_id = fields.Integer(required=True, strict=True)


class PasswordChange(ma.Schema):
    current_password = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=256))
    new_password = fields.String(required=True, load_only=True, validate=validate.Length(min=8, max=256),
                                 metadata={"description": NEW_PASSWORD})

    @ma.validates_schema
    def differs(self, data, **kwargs):
        if data.get("current_password") == data.get("new_password"):
            raise ma.ValidationError("must differ from the current password", "new_password")


class StrictBoolean(fields.Boolean):
    """JSON true or false only (marshmallow's Boolean takes 0, 1, "yes" and more)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class UserUpdate(ma.Schema):
    """A user of a unit above the account's unit: a new password (a reset; it also
    lifts a lock after failed sign-ins) and/or ``active: false`` to disable the account."""
    password = fields.String(load_only=True, validate=validate.Length(min=8, max=256),
                             metadata={"description": NEW_PASSWORD})
    active = StrictBoolean()

    @ma.validates_schema
    def something(self, data, **kwargs):
        if not data:
            raise ma.ValidationError("give password and/or active", "_schema")


class User(ma.Schema):
    id = fields.Integer()
    username = fields.String()
    role = fields.String(validate=validate.OneOf(ROLES + ("agency",)),
                         metadata={"description": "agency: an agency client (GET /me), with no unit"})
    org_unit_id = fields.Integer(allow_none=True)
    active = fields.Boolean()
    created_at = fields.AwareDateTime()
    last_login_at = fields.AwareDateTime(allow_none=True)
    password_changed_at = fields.AwareDateTime(allow_none=True)


class Credentials(ma.Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=128))
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=256))


# -- answers of the gateway's own (documented in its OpenAPI document) -------------------

class TokenUser(ma.Schema):
    id = fields.Integer()
    username = fields.String(metadata={"description": "an agency client: its client_id"})
    role = fields.String(validate=validate.OneOf(ROLES + ("agency",)))
    org_unit_id = fields.Integer(allow_none=True, metadata={"description": "null for an agency client"})


class AccessToken(ma.Schema):
    access_token = fields.String(metadata={"description": "a JWT, sent as Authorization: Bearer <token>"})
    token_type = fields.String(validate=validate.OneOf(("bearer",)))
    expires_in = fields.Integer(metadata={"description": "seconds"})
    user = fields.Nested(TokenUser)


class Me(User):
    """The signed-in account with its unit."""
    path = fields.String(metadata={"description": "the path of the account's unit, as /1/7/42/"})
    org_unit = fields.Nested(OrgUnit)
    name = fields.String(metadata={"description": "an agency client: the agency's name"})
