"""Transfers of a child between institutions (docs/transfers.md)."""
import falcon

from gateway.access import Authenticated, UnitInBody, UnitInQuery
from gateway.context import json_body, paging
from services.enrollment.schemas import Transfer, TransferCreate, TransferDecline

TAG = "transfers"
LIST_QUERY = {
    "org_unit_id": ("integer", "a unit in your subtree (default: your own)"),
    "direction": ("string", "incoming: requests the unit (or a unit below it) must answer, because "
                            "it holds the child; outgoing: requests the unit (or a unit below it) "
                            "made, to receive the child; absent: both"),
    "state": ("string", "pending, accepted, declined, withdrawn or cancelled"),
}


class Transfers:
    """Ask for a child held by another institution; list the requests of a subtree."""
    policies = {"GET": UnitInQuery("org_unit_id"), "POST": UnitInBody("to_institution_id")}
    docs = {
        "GET": {"summary": "List transfer requests of a unit's subtree (incoming, outgoing or both)",
                "tag": TAG, "response": Transfer, "list": True, "query": LIST_QUERY},
        "POST": {"summary": "Ask the institution holding a child in the round to hand the child over "
                            "(by the receiving institution or a unit above it)",
                 "tag": TAG, "request": TransferCreate, "response": Transfer, "status": 201},
    }

    def __init__(self, ctx):
        self.ctx = ctx

    def on_get(self, req, resp, id):
        resp.media = self.ctx.call(req, "enrollment", "list_transfers", id, req.context.unit.id,
                                   direction=req.get_param("direction"), state=req.get_param("state"),
                                   **paging(req))

    def on_post(self, req, resp, id):
        resp.media = self.ctx.call(req, "enrollment", "request_transfer", id, json_body(req))
        resp.status = falcon.HTTP_201
        resp.location = f"/api/v1/rounds/{id}/transfers/{resp.media['id']}"


class TransferItem:
    """One request (both sides read it; the holder named as far as the caller may see)."""
    policies = {"GET": Authenticated()}
    docs = {"GET": {"summary": "Read a transfer request with its history", "tag": TAG,
                    "response": Transfer}}

    def __init__(self, ctx):
        self.ctx = ctx

    def on_get(self, req, resp, id, tid):
        resp.media = self.ctx.call(req, "enrollment", "get_transfer", id, tid)


class TransferAccept:
    """The holder hands the child over (moved in one transaction)."""
    policies = {"POST": Authenticated()}
    docs = {"POST": {"summary": "Accept a transfer request: the child is removed at the holder "
                                "(moved_out) and added at the receiver in one step; by the holder, "
                                "after the escalation period also its LAO, after twice that the "
                                "province", "tag": TAG, "response": Transfer}}

    def __init__(self, ctx):
        self.ctx = ctx

    def on_post(self, req, resp, id, tid):
        resp.media = self.ctx.call(req, "enrollment", "accept_transfer", id, tid)


class TransferDeclineResource:
    """The holder refuses, with a reason shown to the requester."""
    policies = {"POST": Authenticated()}
    docs = {"POST": {"summary": "Decline a transfer request with a reason", "tag": TAG,
                     "request": TransferDecline, "response": Transfer,
                     "operation_id": "postTransferDecline"}}

    def __init__(self, ctx):
        self.ctx = ctx

    def on_post(self, req, resp, id, tid):
        resp.media = self.ctx.call(req, "enrollment", "decline_transfer", id, tid, json_body(req))


class TransferWithdraw:
    """The requesting side takes its pending request back."""
    policies = {"POST": Authenticated()}
    docs = {"POST": {"summary": "Withdraw a pending transfer request (the requesting side)", "tag": TAG,
                     "response": Transfer}}

    def __init__(self, ctx):
        self.ctx = ctx

    def on_post(self, req, resp, id, tid):
        resp.media = self.ctx.call(req, "enrollment", "withdraw_transfer", id, tid)


ROUTES = [
    ("/rounds/{id:int}/transfers", Transfers),
    ("/rounds/{id:int}/transfers/{tid:int}", TransferItem),
    ("/rounds/{id:int}/transfers/{tid:int}/accept", TransferAccept),
    ("/rounds/{id:int}/transfers/{tid:int}/decline", TransferDeclineResource),
    ("/rounds/{id:int}/transfers/{tid:int}/withdraw", TransferWithdraw),
]
