"""Agency clients' payloads (services.registry.agencies), also documented by the gateway."""
import marshmallow as ma
from marshmallow import fields, validate

from services.common.text import Name


class AgencyCreate(ma.Schema):
    name = fields.String(required=True, validate=[validate.Length(min=1, max=255), Name()],
                         metadata={"description": "the agency, e.g. สำนักงานสถิติแห่งชาติ"})
    description = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=1000))


class Agency(ma.Schema):
    id = fields.Integer()
    client_id = fields.String(metadata={"description": "the client's public name, for client credentials"})
    name = fields.String()
    description = fields.String(allow_none=True)
    active = fields.Boolean()
    created_at = fields.AwareDateTime()
    rotated_at = fields.AwareDateTime(allow_none=True)
    disabled_at = fields.AwareDateTime(allow_none=True)
    last_token_at = fields.AwareDateTime(allow_none=True)


class AgencyWithSecret(Agency):
    client_secret = fields.String(metadata={"description": "shown this once only: store it safely"})


class ClientCredentials(ma.Schema):
    client_id = fields.String(required=True, validate=validate.Length(min=1, max=128))
    client_secret = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=256))


class TokenRequest(ma.Schema):
    """Either an account's ``username`` and ``password``, or an agency's
    ``grant_type: client_credentials`` with ``client_id`` and ``client_secret``."""
    grant_type = fields.String(validate=validate.OneOf(("password", "client_credentials")),
                               metadata={"description": "client_credentials for an agency client; "
                                                        "left out (or password) for an account"})
    username = fields.String(validate=validate.Length(min=1, max=128))
    password = fields.String(load_only=True, validate=validate.Length(min=1, max=256))
    client_id = fields.String(validate=validate.Length(min=1, max=128))
    client_secret = fields.String(load_only=True, validate=validate.Length(min=1, max=256))

