"""The confirmed-counts feed's answer (services.confirmation.feed), as the gateway documents it."""
import marshmallow as ma
from marshmallow import fields, validate


class FeedUnit(ma.Schema):
    id = fields.Integer()
    code = fields.String(allow_none=True)
    type = fields.String(metadata={"description": "school, cdc, lao, province or department"})
    path = fields.String(metadata={"description": "ids from the root down, as /1/7/42/"})


class FeedCounts(ma.Schema):
    total = fields.Integer()
    by_grade = fields.Dict(keys=fields.String(), values=fields.Integer())


class ConfirmedCountsItem(ma.Schema):
    unit = fields.Nested(FeedUnit)
    state = fields.String(validate=validate.OneOf(("confirmed", "open")))
    counts = fields.Nested(FeedCounts, allow_none=True,
                           metadata={"description": "the confirmed counts; null while open"})
    seal_digest = fields.String(allow_none=True)
    confirmed_at = fields.AwareDateTime(allow_none=True)
    revoked_at = fields.AwareDateTime(allow_none=True,
                                      metadata={"description": "open again after a revocation: when"})
    version = fields.Integer(metadata={"description": "the confirmation_version of the unit's events"})
    cursor = fields.String(metadata={"description": "the position of this item: ?after= it goes on "
                                                    "from here"})


class ConfirmedCountsPage(ma.Schema):
    items = fields.List(fields.Nested(ConfirmedCountsItem))
    next_cursor = fields.String(allow_none=True, metadata={
        "description": "?after= this for the next page and, at the end, for the changes to come "
                       "(the cursor given when there is no item)"})
    has_more = fields.Boolean()
