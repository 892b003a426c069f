"""Confirmation: a unit's state with its children's progress, confirm, revoke, history,
what changed since the unit's last seal, the states of the units above, and the
requests to reopen a confirmation."""
import falcon

from gateway.access import Authenticated, UnitInBody, UnitInPath, UnitInQuery
from gateway.context import json_body, paging
from services.common import hierarchy
from services.common.errors import forbidden, not_found
from services.confirmation.schemas import (
    Ancestors, ConfirmRequest, HistoryEntry, RevocationApprove, RevocationDecline, RevocationRequest,
    RevocationRequestCreate, RevokeRequest, SealDiff, Status,
)

IDEMPOTENCY = ("Send an `Idempotency-Key` header to make retries safe: a repeated request with "
               "the same key (same user) answers the first result instead of acting again.")


class OwnUnitInPath(UnitInPath):
    """The unit named in the URL must be the caller's own."""

    def authorise(self, req, params, ctx):
        super().authorise(req, params, ctx)
        if req.context.unit.id != req.context.actor.org_unit_id:
            raise forbidden("a unit is confirmed only by a user of that unit")


class UnitInPathOrAbove(UnitInPath):
    """The unit named in the URL is in the caller's subtree, or above the caller's
    unit (whose confirmation state anyone beneath may see, not its data)."""

    def authorise(self, req, params, ctx):
        actor = req.context.actor
        try:
            super().authorise(req, params, ctx)
        except Exception as exc:
            if getattr(exc, "code", None) != "not_found":
                raise
            unit = ctx.units.get(int(params.get(self.param)))
            if unit is None or not hierarchy.is_strict_ancestor(unit.path, actor.path):
                raise not_found("org unit")
            req.context.unit = unit


def _timeout(ctx):
    # a confirmation waits for the saga's own calls (registry, rounds, enrollment)
    return 2 * ctx.config.rpc_timeout


class Confirmation:
    """A unit's confirmation in a round."""
    policies = {
        "GET": UnitInPathOrAbove("unit_id"),
        "POST": OwnUnitInPath("unit_id"),
        "DELETE": UnitInPath("unit_id", strict=True),
    }
    docs = {
        "GET": {"summary": "A unit's confirmation state, counts and its children's progress; for a "
                           "unit above the caller's, only {unit_id, state, confirmed_at, "
                           "confirmed_by, confirmed_by_name}",
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
        if req.context.actor.can_read(req.context.unit.path):
            resp.media = self.ctx.call(req, "confirmation", "status", id, unit_id)
        else:
            resp.media = self.ctx.call(req, "confirmation", "upward_status", id, unit_id)

    def on_post(self, req, resp, id, unit_id):
        # the unit as the access check just read it: the service need not ask the registry again
        resp.media = self.ctx.call(req, "confirmation", "confirm", id, unit_id,
                                   idempotency_key=req.get_header("Idempotency-Key"),
                                   data=req.get_media(default_when_empty=None),
                                   unit=req.context.unit.as_dict(),
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


class ConfirmationAncestors:
    """Seeing upward: the confirmation state of every unit above a unit."""
    policies = {"GET": UnitInPath("unit_id")}
    docs = {"GET": {"summary": "The confirmation state (state, when, by whom) of every unit above a "
                               "unit of your subtree, top-down (the department first); no counts",
                    "response": Ancestors, "tag": "confirmations"}}

    def __init__(self, ctx):
        self.ctx = ctx

    def on_get(self, req, resp, id, unit_id):
        resp.media = self.ctx.call(req, "confirmation", "ancestors", id, unit_id)


REQUEST_RULES = ("A confirmed unit (or a unit above it, on its behalf) asks; the request goes to the "
                 "lowest unit above whose own confirmation is not given (routed_to).")


class RevocationRequests:
    """Requests to reopen a confirmation: made by the unit, answered from above."""
    policies = {"POST": UnitInBody("unit_id"), "GET": UnitInQuery("org_unit_id")}
    docs = {"POST": {"summary": "Ask for a unit's confirmation to be reopened. " + REQUEST_RULES +
                                " One pending request per unit and round (conflict); a unit not "
                                "confirmed: not_confirmed; a finalised round: conflict.",
                     "request": RevocationRequestCreate, "response": RevocationRequest, "status": 201,
                     "tag": "confirmations"},
            "GET": {"summary": "The requests about a unit (your own by default) or a unit beneath it: "
                               "those it can answer and those made by or about it, pending first, "
                               "each with can_answer for you",
                    "response": RevocationRequest, "list": True, "tag": "confirmations",
                    "query": {"org_unit_id": ("integer", "a unit of your subtree"),
                              "state": ("string", "pending, approved, declined or withdrawn")}}}

    def __init__(self, ctx):
        self.ctx = ctx

    def on_post(self, req, resp, id):
        resp.media = self.ctx.call(req, "confirmation", "create_revocation_request", id, json_body(req))
        resp.status = falcon.HTTP_201
        resp.location = f"/api/v1/rounds/{id}/revocation-requests/{resp.media['id']}"

    def on_get(self, req, resp, id):
        unit = req.context.unit
        resp.media = self.ctx.call(req, "confirmation", "list_revocation_requests", id,
                                   org_unit_id=unit.id if unit else None,
                                   state=req.get_param("state"), **paging(req))


class RevocationRequestItem:
    policies = {"GET": Authenticated()}
    docs = {"GET": {"summary": "One revocation request (the requesting side or the answering side)",
                    "response": RevocationRequest, "tag": "confirmations"}}

    def __init__(self, ctx):
        self.ctx = ctx

    def on_get(self, req, resp, id, request_id):
        resp.media = self.ctx.call(req, "confirmation", "get_revocation_request", id, request_id)


class RevocationRequestApprove:
    policies = {"POST": Authenticated(roles=("lao", "province", "department"))}
    docs = {"POST": {"summary": "Approve: revoke, top-down in one action, every confirmed unit between "
                                "your unit and the unit asked about, then that unit, each with the "
                                "request's reason (a user of routed_to or a unit above it whose own "
                                "confirmation is not given). A retry after a partial failure goes on "
                                "where it stopped.",
                     "request": RevocationApprove, "request_required": False,
                     "response": RevocationRequest, "tag": "confirmations"}}

    def __init__(self, ctx):
        self.ctx = ctx

    def on_post(self, req, resp, id, request_id):
        resp.media = self.ctx.call(req, "confirmation", "approve_revocation_request", id, request_id,
                                   req.get_media(default_when_empty=None), timeout=3 * _timeout(self.ctx))


class RevocationRequestDecline:
    policies = {"POST": Authenticated(roles=("lao", "province", "department"))}
    docs = {"POST": {"summary": "Decline, with a reason the requester sees (who may approve)",
                     "request": RevocationDecline, "response": RevocationRequest, "tag": "confirmations"}}

    def __init__(self, ctx):
        self.ctx = ctx

    def on_post(self, req, resp, id, request_id):
        resp.media = self.ctx.call(req, "confirmation", "decline_revocation_request", id, request_id,
                                   json_body(req))


class RevocationRequestWithdraw:
    policies = {"POST": Authenticated()}
    docs = {"POST": {"summary": "Withdraw a pending request (the unit that made it or the unit it is "
                                "about)", "response": RevocationRequest, "tag": "confirmations"}}

    def __init__(self, ctx):
        self.ctx = ctx

    def on_post(self, req, resp, id, request_id):
        resp.media = self.ctx.call(req, "confirmation", "withdraw_revocation_request", id, request_id)


ROUTES = [
    ("/rounds/{id:int}/confirmations/{unit_id:int}", Confirmation),
    ("/rounds/{id:int}/confirmations/{unit_id:int}/history", ConfirmationHistory),
    ("/rounds/{id:int}/confirmations/{unit_id:int}/diff", ConfirmationDiff),
    ("/rounds/{id:int}/confirmations/{unit_id:int}/ancestors", ConfirmationAncestors),
    ("/rounds/{id:int}/revocation-requests", RevocationRequests),
    ("/rounds/{id:int}/revocation-requests/{request_id:int}", RevocationRequestItem),
    ("/rounds/{id:int}/revocation-requests/{request_id:int}/approve", RevocationRequestApprove),
    ("/rounds/{id:int}/revocation-requests/{request_id:int}/decline", RevocationRequestDecline),
    ("/rounds/{id:int}/revocation-requests/{request_id:int}/withdraw", RevocationRequestWithdraw),
]
