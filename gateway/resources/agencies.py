"""Agencies that pull: the department's agency clients (client credentials) and the
confirmed-counts change feed they (and department and province users) read."""
import falcon

from gateway.access import GATEWAY, Authenticated
from gateway.auth import AGENCY, client_address, issue_token
from gateway.context import json_body, paging
from services.confirmation.feed_schemas import ConfirmedCountsPage
from services.registry.agency_schemas import Agency, AgencyCreate, AgencyWithSecret

DEPARTMENT = ("department",)


def client_credentials_token(ctx, req, body):
    """``POST /auth/token`` with ``grant_type: client_credentials``: the token of an agency
    client, throttled as sign-ins are, in the shape of an account's."""
    address = client_address(req.remote_addr, req.get_header("X-Forwarded-For"), ctx.config.trusted_proxies)
    client = ctx.rpc.call("registry", "authenticate_agency", body.get("client_id"), body.get("client_secret"),
                          client_address=address, actor=GATEWAY,
                          request_id=getattr(req.context, "request_id", None))
    token = issue_token(client, ctx.config.keys, ctx.config.token_ttl, kind=AGENCY)
    return {"access_token": token, "token_type": "bearer", "expires_in": ctx.config.token_ttl,
            "user": {"id": client["id"], "username": client["client_id"], "role": AGENCY,
                     "org_unit_id": None}}


def agency_me(ctx, actor):
    """``GET /me`` of an agency client: the client, no unit."""
    state = ctx.tokens.agency_state(actor.user_id)
    return {"id": actor.user_id, "username": actor.username, "role": AGENCY, "org_unit_id": None,
            "active": True, "name": state["name"]}


class Agencies:
    policies = {"GET": Authenticated(roles=DEPARTMENT), "POST": Authenticated(roles=DEPARTMENT)}
    docs = {"POST": {"summary": "Create an agency client (department users): its client_secret is "
                                "shown in this answer only", "tag": "agencies",
                     "request": AgencyCreate, "response": AgencyWithSecret, "status": 201},
            "GET": {"summary": "The agency clients (department users), active first", "tag": "agencies",
                    "response": Agency, "list": True}}

    def __init__(self, ctx):
        self.ctx = ctx

    def on_post(self, req, resp):
        resp.media = self.ctx.call(req, "registry", "create_agency", json_body(req))
        resp.status = falcon.HTTP_201
        resp.set_header("Cache-Control", "no-store")

    def on_get(self, req, resp):
        resp.media = self.ctx.call(req, "registry", "list_agencies", **paging(req))


class AgencyRotate:
    policies = {"POST": Authenticated(roles=DEPARTMENT)}
    docs = {"POST": {"summary": "A new client_secret for an agency client (shown in this answer only); "
                                "the old secret and every token issued with it stop working at once",
                     "tag": "agencies", "response": AgencyWithSecret}}

    def __init__(self, ctx):
        self.ctx = ctx

    def on_post(self, req, resp, id):
        resp.media = self.ctx.call(req, "registry", "rotate_agency", id)
        resp.set_header("Cache-Control", "no-store")
        self.ctx.tokens.invalidate_agency(id)  # here at once; elsewhere by the registry's event


class AgencyDisable:
    policies = {"POST": Authenticated(roles=DEPARTMENT)}
    docs = {"POST": {"summary": "Disable an agency client: it cannot sign in and its tokens stop "
                                "working at once", "tag": "agencies", "response": Agency}}

    def __init__(self, ctx):
        self.ctx = ctx

    def on_post(self, req, resp, id):
        resp.media = self.ctx.call(req, "registry", "disable_agency", id)
        self.ctx.tokens.invalidate_agency(id)


class ConfirmedCounts:
    """The change feed of confirmed counts (docs/confirmation.md)."""
    policies = {"GET": Authenticated(roles=("department", "province", "agency"))}
    docs = {"GET": {
        "summary": "The confirmed counts of every unit with a confirmation record in the round, in "
                   "cursor order: each unit once, with its current state (a unit that changes again "
                   "moves to the end). Take a snapshot by paging from the start, then follow with "
                   "?after=<next_cursor>. Agency clients and department users: every unit; province "
                   "users: their subtree. No personal data.",
        "tag": "agencies", "response": ConfirmedCountsPage,
        "query": {"after": ("string", "the next_cursor of the previous page (left out: from the start)"),
                  "limit": ("integer", "items per page, 1-1000 (default 100)")}}}

    def __init__(self, ctx):
        self.ctx = ctx

    def on_get(self, req, resp, id):
        self.ctx.call(req, "rounds", "get_round", id)  # 404 for a round that does not exist
        resp.media = self.ctx.call(req, "confirmation", "confirmed_counts", id, req.get_param("after"),
                                   req.get_param("limit"))


ROUTES = [
    ("/agencies", Agencies),
    ("/agencies/{id:int}/rotate", AgencyRotate),
    ("/agencies/{id:int}/disable", AgencyDisable),
    ("/rounds/{id:int}/confirmed-counts", ConfirmedCounts),
]
