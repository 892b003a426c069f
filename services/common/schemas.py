"""Payload parts shared by several services."""
import marshmallow as ma
from marshmallow import fields, validate


class Counts(ma.Schema):
    """Learners (or a headcount) of a unit: the total and the number per grade."""
    total = fields.Integer(required=True, validate=validate.Range(min=0))
    by_grade = fields.Dict(keys=fields.String(), values=fields.Integer(validate=validate.Range(min=0)),
                           required=True, metadata={"description": "grade (k1..m6, cdc) -> learners"})
