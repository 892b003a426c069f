"""Confirmation: a unit's state with its children's progress, confirm, revoke, history,
and what changed since the unit's last seal."""
from gateway.access import UnitInPath
from services.common.errors import forbidden
from services.confirmation.schemas import ConfirmRequest, HistoryEntry, RevokeRequest, SealDiff, Status

IDEMPOTENCY = ("Send an `Idempotency-Key` header to make retries safe: a repeated request with "
               "the same key (same user) answers the first result instead of acting again.")


class OwnUnitInPath(UnitInPath):
    """The unit named in the URL must be the caller's own."""

    def authorise(self, req, params, ctx):
        super().authorise(req, params, ctx)
        if req.context.unit["id"] != req.context.actor.org_unit_id:
            raise forbidden("a unit is confirmed only by a user of that unit")


def _timeout(ctx):
    # a confirmation waits for the saga's own calls (registry, rounds, enrollment)
    return 2 * ctx.config.rpc_timeout


class Confirmation:
    """A unit's confirmation in a round."""
    policies = {
        "GET": UnitInPath("unit_id"),
        "POST": OwnUnitInPath("unit_id"),
        "DELETE": UnitInPath("unit_id", strict=True),
    }
    docs = {
        "GET": {"summary": "A unit's confirmation state, counts and its children's progress",
                "response": Status, "tag": "confirmations"},
        "POST": {"summary": "Confirm the caller's own unit: its counts are sealed at that instant, "
                            "with a digest anyone can recompute (docs/confirmation.md); an optional "
                            "note is kept with it. " + IDEMPOTENCY,
                 "request": ConfirmRequest, "request_required": False,
                 "response": Status, "tag": "confirmations"},
        "DELETE": {"summary": "Revoke a confirmation from a unit above, with a reason (body or "
                              "query), while the unit's parent is not confirmed. " + IDEMPOTENCY,
                   "request": RevokeRequest, "request_required": False, "response": Status,
                   "tag": "confirmations",
                   "query": {"reason": ("string", "the reason, when there is no body")}},
    }

    def __init__(self, ctx):
        self.ctx = ctx

    def on_get(self, req, resp, id, unit_id):
        resp.media = self.ctx.call(req, "confirmation", "status", id, unit_id)

    def on_post(self, req, resp, id, unit_id):
        resp.media = self.ctx.call(req, "confirmation", "confirm", id, unit_id,
                                   idempotency_key=req.get_header("Idempotency-Key"),
                                   data=req.get_media(default_when_empty=None),
                                   timeout=_timeout(self.ctx))

    def on_delete(self, req, resp, id, unit_id):
        body = req.get_media(default_when_empty=None)
        if body is None:
            body = {"reason": req.get_param("reason")} if req.get_param("reason") is not None else {}
        resp.media = self.ctx.call(req, "confirmation", "revoke", id, unit_id, body,
                                   idempotency_key=req.get_header("Idempotency-Key"),
                                   timeout=_timeout(self.ctx))


class ConfirmationHistory:
    """Every confirm and revoke of a unit in a round: who, when, reason, counts."""
    policies = {"GET": UnitInPath("unit_id")}
    docs = {"GET": {"summary": "The audit trail of a unit's confirmation (newest first)",
                    "response": HistoryEntry, "list": True, "paged": False, "tag": "confirmations"}}

    def __init__(self, ctx):
        self.ctx = ctx

    def on_get(self, req, resp, id, unit_id):
        resp.media = self.ctx.call(req, "confirmation", "history", id, unit_id)


class ConfirmationDiff:
    """What changed since a school's, CDC's or LAO's last seal."""
    policies = {"GET": UnitInPath("unit_id")}
    docs = {"GET": {"summary": "What changed since the unit's last seal (kept after a revoke): "
                               "learners added, removed and changed (no ID numbers: a changed "
                               "identity is id_changed), counts then and now; for an LAO its "
                               "other-affiliation schools whose headcount changed. Never sealed: "
                               "last_sealed_at null and empty lists. Each list holds at most 1000.",
                    "response": SealDiff, "tag": "confirmations"}}

    def __init__(self, ctx):
        self.ctx = ctx

    def on_get(self, req, resp, id, unit_id):
        resp.media = self.ctx.call(req, "enrollment", "seal_diff", id, unit_id)


ROUTES = [
    ("/rounds/{id:int}/confirmations/{unit_id:int}", Confirmation),
    ("/rounds/{id:int}/confirmations/{unit_id:int}/history", ConfirmationHistory),
    ("/rounds/{id:int}/confirmations/{unit_id:int}/diff", ConfirmationDiff),
]
