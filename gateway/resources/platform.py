"""Auth, me, org units, users and rounds."""
import falcon
import marshmallow as ma
from marshmallow import fields

from gateway.access import GATEWAY, Authenticated, Public, UnitInBody, UnitInPath, UnitInQuery
from gateway.auth import client_address, issue_token
from gateway.context import json_body, paging
from gateway.resources import agencies
from services.common.audit import AuditEntry
from services.common.errors import validation_error
from services.common.settings import SERVICES
from services.common.validation import page
from services.registry.agency_schemas import TokenRequest
from services.registry.schemas import (
    AccessToken, CloseUnit, OrgUnitCreate, PasswordChange, User, UserCreate, UserUpdate,
)
from services.registry.schemas import Me as MeSchema
from services.registry.profile_schemas import UnitUpdate
from gateway.resources.profiles import OrgUnitDetail
from services.registry.schemas import OrgUnit as UnitSchema
from services.rounds.schemas import Extension, ExtensionCreate, RoundCreate, RoundUpdate, Window
from services.rounds.schemas import Round as RoundSchema

DEPARTMENT = ("department",)


class Token:
    policies = {"POST": Public()}
    docs = {"POST": {"summary": "Sign in: a bearer token for the API (an account: username and "
                                "password; an agency client: grant_type client_credentials with "
                                "client_id and client_secret)", "tag": "auth",
                     "request": TokenRequest, "response": AccessToken}}

    def __init__(self, ctx):
        self.ctx = ctx

    def on_post(self, req, resp):
        body = json_body(req)
        if body.get("grant_type") == "client_credentials":
            resp.media = agencies.client_credentials_token(self.ctx, req, body)
            return
        address = client_address(req.remote_addr, req.get_header("X-Forwarded-For"),
                                 self.ctx.config.trusted_proxies)
        user = self.ctx.rpc.call("registry", "authenticate", body.get("username"), body.get("password"),
                                 client_address=address, actor=GATEWAY,
                                 request_id=getattr(req.context, "request_id", None))
        token = issue_token(user, self.ctx.config.keys, self.ctx.config.token_ttl)
        resp.media = {
            "access_token": token, "token_type": "bearer", "expires_in": self.ctx.config.token_ttl,
            "user": {k: user[k] for k in ("id", "username", "role", "org_unit_id")},
        }


class Renew:
    """A fresh token for the account of the token presented (a sliding session: the portal
    renews while its officer is at work). The access middleware has already refused a token
    that has expired, or whose account was disabled or changed its password since (its token
    version is no longer the account's); the new token carries the account's current version,
    so it ends the same way."""
    policies = {"POST": Authenticated()}
    docs = {"POST": {"summary": "Renew the session: a fresh bearer token for the same account "
                                "(refused once the token has expired or was ended by a password "
                                "change or a disabled account)", "tag": "auth",
                     "response": AccessToken}}

    def __init__(self, ctx):
        self.ctx = ctx

    def on_post(self, req, resp):
        actor = req.context.actor
        state = self.ctx.tokens.get(actor.user_id)  # what the middleware has just checked
        user = {"id": actor.user_id, "token_version": state["token_version"]}
        token = issue_token(user, self.ctx.config.keys, self.ctx.config.token_ttl)
        resp.media = {
            "access_token": token, "token_type": "bearer", "expires_in": self.ctx.config.token_ttl,
            "user": {"id": actor.user_id, "username": actor.username, "role": actor.role,
                     "org_unit_id": actor.org_unit_id},
        }


class Logout:
    """Sign out on the server: every token of the account ends (its token version
    rises, as with a password change), not only the one presented; the other gateway
    processes hear of it through the registry's user_changed event."""
    policies = {"POST": Authenticated()}
    docs = {"POST": {"summary": "Sign out: ends every session of your account (each token it "
                                "holds answers 401 from then on, renewal included)", "tag": "auth",
                     "status": 204}}

    def __init__(self, ctx):
        self.ctx = ctx

    def on_post(self, req, resp):
        self.ctx.call(req, "registry", "logout")
        self.ctx.tokens.invalidate(req.context.actor.user_id)  # this process at once
        resp.status = falcon.HTTP_204


class Me:
    policies = {"GET": Authenticated()}
    docs = {"GET": {"summary": "The signed-in account, with its unit", "tag": "auth", "response": MeSchema}}

    def __init__(self, ctx):
        self.ctx = ctx

    def on_get(self, req, resp):
        actor = req.context.actor
        if actor.is_agency:
            resp.media = agencies.agency_me(self.ctx, actor)
            return
        user = self.ctx.call(req, "registry", "get_user", actor.user_id)
        # the registry's whole record of the unit (the directory keeps only the fields of a Unit)
        records = self.ctx.units.fetch([actor.org_unit_id])
        self.ctx.units.remember(records)
        user["org_unit"] = records[0] if records else None
        resp.media = user


class PingAnswer(ma.Schema):
    ok = fields.Boolean(required=True)
    service = fields.String(required=True, metadata={"description": "the service that answered"})


class Ping:
    """The cheapest authenticated request there is: the token checked as on every route,
    one RPC to a service that does nothing. The measure of what any request costs
    before its own work (``make bench-load`` compares a learner's edit with it)."""
    policies = {"GET": Authenticated()}
    docs = {"GET": {"summary": "Authenticated round trip: checks the token, asks the enrollment "
                               "service a trivial question, answers {ok: true}", "tag": "auth",
                    "response": PingAnswer}}

    def __init__(self, ctx):
        self.ctx = ctx

    def on_get(self, req, resp):
        resp.media = self.ctx.call(req, "enrollment", "ping")


class MyPassword:
    policies = {"POST": Authenticated()}
    docs = {"POST": {"summary": "Change your own password (the current one is required); "
                                "tokens issued before stop working", "tag": "auth",
                     "request": PasswordChange, "status": 204}}

    def __init__(self, ctx):
        self.ctx = ctx

    def on_post(self, req, resp):
        self.ctx.call(req, "registry", "change_password", json_body(req))
        # this process at once; the others when the registry's user_changed event reaches them
        self.ctx.tokens.invalidate(req.context.actor.user_id)
        resp.status = falcon.HTTP_204


class UserItem:
    """One account: read it (a user of its unit or above), reset its password or disable
    it (a user of a unit above its unit)."""
    policies = {"GET": Authenticated(), "PATCH": Authenticated()}
    docs = {"GET": {"summary": "Read an account of your subtree", "tag": "users", "response": User},
            "PATCH": {"summary": "Reset an account's password (which also lifts a lock after failed "
                                 "sign-ins) and/or disable or enable it: a user of a unit above the "
                                 "account's unit; its older tokens stop working", "tag": "users",
                      "request": UserUpdate, "response": User}}

    def __init__(self, ctx):
        self.ctx = ctx

    def on_get(self, req, resp, id):
        user = self.ctx.call(req, "registry", "get_user", id)
        user.pop("path", None)
        resp.media = user

    def on_patch(self, req, resp, id):
        resp.media = self.ctx.call(req, "registry", "update_user", id, json_body(req))
        self.ctx.tokens.invalidate(id)  # here at once; elsewhere by the registry's event


class AuditLog:
    """The audit log of one service, or of every service for one request id or
    one subtree. Department users read everything; province and LAO users the
    entries of their subtree (``org_unit_id``, by default their own unit): those
    whose acting user's unit or whose entity's unit lies in it."""
    policies = {"GET": UnitInQuery(roles=("department", "province", "lao"))}
    FILTERS = ("entity", "entity_id", "action", "actor_id", "request_id", "since", "until")
    docs = {"GET": {
        "summary": "Audit log: every change with who, when, what and its request id; newest first "
                   "(department users: everything; province and LAO users: their subtree)",
        "tag": "audit", "response": AuditEntry, "list": True,
        "query": {"service": ("string", "registry, rounds, enrollment, confirmation or reporting; "
                                        "may be left out when request_id or org_unit_id is given "
                                        "(every service, newest first; then offset + limit is at most 1000)"),
                  "org_unit_id": ("integer", "only the entries of this unit's subtree: the acting "
                                             "user's unit or the entity's unit lies in it (province "
                                             "and LAO users: within their own subtree, by default "
                                             "their own unit)"),
                  "entity": ("string", "e.g. learner, confirmation, org_unit, user, round"),
                  "entity_id": ("string", "the entity's id"), "action": ("string", "e.g. add, confirm"),
                  "actor_id": ("integer", "the acting user's id"),
                  "request_id": ("string", "the X-Request-Id of the change's answer"),
                  "since": ("string", "ISO 8601 instant (inclusive)"),
                  "until": ("string", "ISO 8601 instant (exclusive)")}}}

    def __init__(self, ctx):
        self.ctx = ctx

    def _scope(self, req):
        """None (everything: a department user without ``org_unit_id``) or the
        subtree's root path and the ids of every unit in it."""
        actor = req.context.actor
        if actor.role == "department" and req.get_param("org_unit_id") in (None, ""):
            return None
        unit = req.context.unit
        below = self.ctx.call(req, "registry", "subtree", unit.id)
        return {"path": unit.path, "unit_ids": [unit.id] + [u["id"] for u in below]}

    def on_get(self, req, resp):
        filters = {k: req.get_param(k) for k in self.FILTERS if req.get_param(k) not in (None, "")}
        service = req.get_param("service")
        scope = self._scope(req)
        if service in (None, "") and (filters.get("request_id") or scope is not None):
            limit, offset = page(req.get_param("limit"), req.get_param("offset"))
            if offset + limit > 1000:
                raise validation_error({"offset": ["across every service, offset + limit is at most 1000 "
                                                   "(name a service to page further)"]})
            items, total = [], 0
            for name in SERVICES:  # one request's (or one subtree's) trail through every service
                found = self.ctx.call(req, name, "audit_entries", filters, offset + limit, 0, scope)
                items += found["items"]
                total += found["total"]
            items.sort(key=lambda e: (e["at"], e["service"], e["id"]), reverse=True)
            resp.media = {"items": items[offset:offset + limit], "total": total}
            return
        if service not in SERVICES:
            raise validation_error({"service": [f"one of {', '.join(SERVICES)} (or give request_id)"]})
        resp.media = self.ctx.call(req, service, "audit_entries", filters, **paging(req), scope=scope)


class OrgUnits:
    policies = {"POST": UnitInBody("parent_id")}
    docs = {"POST": {"summary": "Create a unit under one of your subtree (institutions created by an "
                                "LAO start pending)", "tag": "org-units",
                     "request": OrgUnitCreate, "response": UnitSchema, "status": 201}}

    def __init__(self, ctx):
        self.ctx = ctx

    def on_post(self, req, resp):
        resp.media = self.ctx.call(req, "registry", "create_unit", json_body(req))
        resp.status = falcon.HTTP_201
        resp.location = f"/api/v1/org-units/{resp.media['id']}"


class OrgUnit:
    policies = {"GET": UnitInPath("id"), "PATCH": UnitInPath("id")}
    docs = {"GET": {"summary": "Read a unit of your subtree, with its profile", "tag": "org-units",
                    "response": OrgUnitDetail},
            "PATCH": {"summary": "Change a unit's name, part of its institution profile, or (a CDC "
                                 "pending or rejected) its survey: a user of the unit or above it; "
                                 "`version` in the body or If-Match guards against a change made "
                                 "meanwhile (conflict)", "tag": "org-units",
                      "request": UnitUpdate, "response": OrgUnitDetail}}

    def __init__(self, ctx):
        self.ctx = ctx

    def on_get(self, req, resp, id):
        resp.media = self.ctx.call(req, "registry", "get_unit", id)

    def on_patch(self, req, resp, id):
        resp.media = self.ctx.call(req, "registry", "update_unit", id, json_body(req),
                                   if_match=req.get_header("If-Match"))
        self.ctx.units.invalidate(id)
        resp.set_header("ETag", f'"{resp.media["version"]}"')


class OrgUnitChildren:
    policies = {"GET": UnitInPath("id")}
    docs = {"GET": {"summary": "The units directly under a unit", "tag": "org-units",
                    "response": OrgUnitDetail, "list": True,
                    "query": {"type": ("string", "department, province, lao, school, cdc or other_school"),
                              "status": ("string", "pending, active, closed or rejected"),
                              "q": ("string", "only units whose name or code contains this text "
                                              "(case-insensitive, at most 100 characters)"),
                              "affiliation": ("string", "only other-affiliation schools of this "
                                                        "affiliation (GET /affiliations: obec, bpp, "
                                                        "opec, other)")}}}

    def __init__(self, ctx):
        self.ctx = ctx

    def on_get(self, req, resp, id):
        resp.media = self.ctx.call(req, "registry", "list_children", id, type=req.get_param("type"),
                                   status=req.get_param("status"), q=req.get_param("q"),
                                   affiliation=req.get_param("affiliation"), **paging(req))


class OrgUnitDescendants:
    policies = {"GET": UnitInPath("id")}
    docs = {"GET": {"summary": "The units beneath a unit at any depth (not the unit itself), "
                               "ordered by path", "tag": "org-units",
                    "response": OrgUnitDetail, "list": True,
                    "query": {"q": ("string", "only units whose code starts with this text or whose "
                                              "name contains it (case-insensitive, at most 100 "
                                              "characters)"),
                              "type": ("string", "department, province, lao, school, cdc or other_school"),
                              "status": ("string", "pending, active, closed or rejected")}}}

    def __init__(self, ctx):
        self.ctx = ctx

    def on_get(self, req, resp, id):
        resp.media = self.ctx.call(req, "registry", "list_descendants", id, q=req.get_param("q"),
                                   type=req.get_param("type"), status=req.get_param("status"),
                                   **paging(req))


class OrgUnitVerify:
    policies = {"POST": UnitInPath("id", roles=("province", "department"), strict=True)}
    docs = {"POST": {"summary": "Verify a pending institution (a province or department user)",
                     "tag": "org-units", "response": UnitSchema}}

    def __init__(self, ctx):
        self.ctx = ctx

    def on_post(self, req, resp, id):
        resp.media = self.ctx.call(req, "registry", "verify_unit", id)
        self.ctx.units.invalidate(id)


class OrgUnitClose:
    policies = {"POST": UnitInPath("id", strict=True)}
    docs = {"POST": {"summary": "Close a unit from above (its units beneath closed first)",
                     "tag": "org-units", "request": CloseUnit, "response": UnitSchema}}

    def __init__(self, ctx):
        self.ctx = ctx

    def on_post(self, req, resp, id):
        resp.media = self.ctx.call(req, "registry", "close_unit", id, json_body(req))
        self.ctx.units.invalidate(id)


class Users:
    policies = {"POST": UnitInBody("org_unit_id"), "GET": UnitInQuery("org_unit_id", default_own=False)}
    docs = {"POST": {"summary": "Create an account for a unit of your subtree (its role follows the "
                                "unit's level)", "tag": "users",
                     "request": UserCreate, "response": User, "status": 201},
            "GET": {"summary": "The accounts of your subtree, or of one unit", "tag": "users",
                    "response": User, "list": True,
                    "query": {"org_unit_id": ("integer", "only the accounts of this unit"),
                              "q": ("string", "only accounts whose username contains this text "
                                              "(case-insensitive, at most 100 characters)")}}}

    def __init__(self, ctx):
        self.ctx = ctx

    def on_post(self, req, resp):
        resp.media = self.ctx.call(req, "registry", "create_user", json_body(req))
        resp.status = falcon.HTTP_201

    def on_get(self, req, resp):
        unit = req.context.unit
        resp.media = self.ctx.call(req, "registry", "list_users",
                                   org_unit_id=unit.id if unit else None, q=req.get_param("q"),
                                   **paging(req))


class Rounds:
    policies = {"POST": Authenticated(roles=DEPARTMENT), "GET": Authenticated()}
    docs = {"POST": {"summary": "Create a census round (department users)", "tag": "rounds",
                     "request": RoundCreate, "response": RoundSchema, "status": 201},
            "GET": {"summary": "The census rounds, newest first", "tag": "rounds", "response": RoundSchema,
                    "list": True, "query": {"academic_year": ("integer", "Buddhist era, e.g. 2569")}}}

    def __init__(self, ctx):
        self.ctx = ctx

    def on_post(self, req, resp):
        resp.media = self.ctx.call(req, "rounds", "create_round", json_body(req))
        resp.status = falcon.HTTP_201
        resp.location = f"/api/v1/rounds/{resp.media['id']}"

    def on_get(self, req, resp):
        resp.media = self.ctx.call(req, "rounds", "list_rounds",
                                   academic_year=req.get_param("academic_year"), **paging(req))


class Round:
    policies = {"GET": Authenticated(), "PATCH": Authenticated(roles=DEPARTMENT)}
    docs = {"GET": {"summary": "Read a round with its settings and state", "tag": "rounds",
                    "response": RoundSchema},
            "PATCH": {"summary": "Change a round's window or settings (department users)", "tag": "rounds",
                      "request": RoundUpdate, "response": RoundSchema}}

    def __init__(self, ctx):
        self.ctx = ctx

    def on_get(self, req, resp, id):
        resp.media = self.ctx.call(req, "rounds", "get_round", id)

    def on_patch(self, req, resp, id):
        resp.media = self.ctx.call(req, "rounds", "update_round", id, json_body(req))


class RoundExtensions:
    policies = {"POST": UnitInBody("org_unit_id", roles=("department", "province")),
                "GET": Authenticated()}
    docs = {"POST": {"summary": "A later deadline for one subtree, at one level or every level (the "
                                "department, or a province for its own)", "tag": "rounds",
                     "request": ExtensionCreate, "response": Extension, "status": 201},
            "GET": {"summary": "The extensions of a round that concern your subtree or the units above "
                              "it", "tag": "rounds", "response": Extension, "list": True, "paged": False}}

    def __init__(self, ctx):
        self.ctx = ctx

    def on_post(self, req, resp, id):
        resp.media = self.ctx.call(req, "rounds", "add_extension", id, json_body(req))
        resp.status = falcon.HTTP_201

    def on_get(self, req, resp, id):
        resp.media = self.ctx.call(req, "rounds", "list_extensions", id)


class RoundWindow:
    """Is the round open for a unit (the caller's own by default)?"""
    policies = {"GET": UnitInQuery("org_unit_id")}
    docs = {"GET": {"summary": "Whether the round is open for a unit (your own by default) at its "
                              "level: that level's deadline, extensions included", "tag": "rounds",
                    "response": Window,
                    "query": {"org_unit_id": ("integer", "a unit of your subtree"),
                              "level": ("string", "institution, lao, province or department (default: "
                                                  "the level of the unit)")}}}

    def __init__(self, ctx):
        self.ctx = ctx

    def on_get(self, req, resp, id):
        unit = req.context.unit
        level = req.get_param("level") or unit.level
        resp.media = self.ctx.call(req, "rounds", "window", id, unit.path, level)


ROUTES = [
    ("/auth/token", Token),
    ("/auth/renew", Renew),
    ("/auth/logout", Logout),
    ("/me", Me),
    ("/ping", Ping),
    ("/org-units", OrgUnits),
    ("/org-units/{id:int}", OrgUnit),
    ("/org-units/{id:int}/children", OrgUnitChildren),
    ("/org-units/{id:int}/descendants", OrgUnitDescendants),
    ("/org-units/{id:int}/verify", OrgUnitVerify),
    ("/org-units/{id:int}/close", OrgUnitClose),
    ("/users", Users),
    ("/users/{id:int}", UserItem),
    ("/me/password", MyPassword),
    ("/audit", AuditLog),
    ("/rounds", Rounds),
    ("/rounds/{id:int}", Round),
    ("/rounds/{id:int}/extensions", RoundExtensions),
    ("/rounds/{id:int}/window", RoundWindow),
]
