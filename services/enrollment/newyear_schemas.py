"""Payloads of the promotion to the new school year and of the affiliations list
(what the gateway documents)."""
import marshmallow as ma
from marshmallow import fields, validate

from services.enrollment.domain import ALL_GRADES
from services.enrollment.schemas import HELD_BY, HELD_IN, HeldIn


class PromotedPerson(ma.Schema):
    id = fields.Integer(metadata={"description": "the learner's record in the source round"})
    prefix = fields.String(allow_none=True)
    first_name = fields.String()
    last_name = fields.String()
    birth_date = fields.Date()


class PromotionMove(ma.Schema):
    learner = fields.Nested(PromotedPerson)
    from_grade = fields.String(validate=validate.OneOf(ALL_GRADES))
    to_grade = fields.String(validate=validate.OneOf(ALL_GRADES))


class PromotionLeave(ma.Schema):
    learner = fields.Nested(PromotedPerson)
    from_grade = fields.String(validate=validate.OneOf(ALL_GRADES))
    reason = fields.String(metadata={"description": "graduated (finished the institution's highest "
                                                    "grade, or a passage k3->p1 / p6->m1 it does not "
                                                    "teach), age_out (a CDC child outside the new "
                                                    "round's age range) or another rule's error code"})
    message = fields.String()


class PromotionConflict(ma.Schema):
    learner = fields.Nested(PromotedPerson)
    code = fields.String(metadata={"description": "duplicate_learner (active at another "
                                                  "institution in the new round) or rate_limited"})
    message = fields.String()
    held_by = fields.Integer(metadata={"description": HELD_BY})
    held_in = fields.Nested(HeldIn, metadata={"description": HELD_IN})


class PromotionTotals(ma.Schema):
    moves = fields.Integer()
    leaves = fields.Integer()
    already = fields.Integer()
    conflicts = fields.Integer()


class PromotionResult(ma.Schema):
    round_id = fields.Integer(metadata={"description": "the new round (a round 1)"})
    from_round_id = fields.Integer(metadata={"description": "round 2 of the academic year before"})
    dry_run = fields.Boolean(metadata={"description": "true: a preview, nothing was written"})
    moves = fields.List(fields.Nested(PromotionMove), metadata={
        "description": "learners added to the new round one grade up (with dry_run: that would be)"})
    leaves = fields.List(fields.Nested(PromotionLeave), metadata={
        "description": "learners of the source round not promoted, with the reason"})
    already = fields.Integer(metadata={"description": "already active here in the new round"})
    conflicts = fields.List(fields.Nested(PromotionConflict))
    totals = fields.Nested(PromotionTotals)


class Affiliation(ma.Schema):
    code = fields.String(metadata={"description": "what org units carry in affiliation"})
    name_th = fields.String()
    short_th = fields.String()
    name_en = fields.String()
    short_en = fields.String()
