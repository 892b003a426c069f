"""Authentication and hierarchical authorisation: the one place they happen.

Every resource declares a :class:`Policy` for each HTTP method it answers
(``policies = {"GET": UnitInPath("id"), ...}``). :class:`AccessMiddleware`
applies it before any responder runs, and :func:`check_policies` refuses to
build the app when a responder has none, so no route can forget it.

The unit a request is about is looked up through the one unit directory
(:class:`services.common.units.UnitDirectory`), which the registry's
``unit_changed`` events keep current. Outside the caller's subtree a unit does
not exist (404).
"""
import logging
import threading
import time

from kombu import Connection, Consumer, Queue, binding
from nameko.standalone.events import get_event_exchange

from gateway.auth import AGENCY, bearer, verify_subject
from services.common.context import Actor
from services.common.errors import LecError, forbidden, not_found, validation_error
from services.common.units import TtlCache
from services.common.validation import as_id

log = logging.getLogger(__name__)

HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")

# who the gateway's own lookups (units, token states, sign-in, health) act as
GATEWAY = Actor.system("gateway")


# -- keeping the caches of org units and account states honest ------------------------

class RegistryEvents:
    """The registry's ``unit_changed`` and ``user_changed`` events keep the
    gateway's caches honest: a changed unit is replaced and a changed account
    dropped at once, and both caches are emptied whenever events may have been
    missed (a lost connection)."""

    def __init__(self, units, tokens):
        self.units = units
        self.tokens = tokens
        self._thread = None

    def listen(self, amqp_uri):
        if self._thread is None:
            self._thread = threading.Thread(target=self._listen, args=(amqp_uri,),
                                            name="registry-cache-invalidation", daemon=True)
            self._thread.start()

    def _listen(self, amqp_uri):
        exchange = get_event_exchange("registry", {})
        while True:
            try:
                with Connection(amqp_uri, heartbeat=30) as conn:
                    queue = Queue(bindings=[binding(exchange, routing_key=key)
                                            for key in ("unit_changed", "user_changed")],
                                  exclusive=True, auto_delete=True, durable=False)
                    with Consumer(conn, queues=[queue], callbacks=[self._on_event], accept=["json"]):
                        self.clear()  # events may have been missed while disconnected
                        while True:
                            try:
                                conn.drain_events(timeout=30)
                            except TimeoutError:
                                conn.heartbeat_check()
            except Exception as exc:
                log.warning("registry cache listener reconnecting: %s", exc)
                self.clear()
                time.sleep(2)

    def clear(self):
        self.units.clear()
        self.tokens.clear()

    def _on_event(self, body, message):
        try:
            self.units.on_unit_changed(body)
            user = (body or {}).get("user") or {}
            if "id" in user:
                self.tokens.invalidate(user["id"])
            agency = (body or {}).get("agency") or {}
            if "id" in agency:
                self.tokens.invalidate_agency(agency["id"])
        finally:
            message.ack()


class TokenStates:
    """user id -> the registry's state of the account (``active``,
    ``token_version``, ``username``, ``role``, ``org_unit_id``, ``path``), kept
    a short while. A token is honoured only while its account is active and its
    version is the account's: a password change or a disabled account raises
    the version, and the registry's ``user_changed`` event drops the entry at
    every gateway at once (the TTL bounds a missed event). The request acts as
    the account is here, with its role and unit: a token's claims decide nothing."""

    def __init__(self, rpc, ttl=60.0, size=100_000, units=None):
        self.rpc = rpc
        self._cache = TtlCache(ttl, size)
        self.units = units  # the unit directory, given the account's unit with its state

    def get(self, user_id):
        now = time.monotonic()
        fresh, entry = self._cache.lookup(user_id, now)
        if fresh:
            return entry[1]
        try:
            state = self.rpc.call("registry", "token_states", [user_id], actor=GATEWAY).get(str(user_id))
        except LecError:
            if entry is None:
                raise  # no word of the account at all: refuse (503)
            return entry[1]  # the registry is away: what it said last (an event would have dropped it)
        if state is not None and isinstance(state.get("unit"), dict) and self.units is not None:
            # the unit most of the account's requests are about: no get_units call for it next
            self.units.remember([state.pop("unit")])
        self._cache.store([(user_id, state)], now)
        return state

    def actor(self, user_id, version):
        """The acting user of a token of ``user_id`` at token version ``version``."""
        state = self.get(user_id)
        if state is None or not state["active"] or state["token_version"] != version:
            raise LecError("unauthorized", "the access token is no longer valid (signed out, the password "
                                           "changed or the account disabled): sign in again")
        try:
            return Actor(user_id=user_id, username=state["username"], role=state["role"],
                         org_unit_id=state["org_unit_id"], path=state["path"]).check()
        except (KeyError, ValueError):
            raise LecError("unauthorized", "the account of the access token cannot act: sign in again")

    def agency_state(self, agency_id):
        """The registry's state of an agency client, asked on every request (agencies call
        seldom; a rotation or a disable must end their tokens at every gateway process at
        once, before any event arrives). The last answer stands in while the registry is away."""
        key = (AGENCY, agency_id)
        now = time.monotonic()
        _, entry = self._cache.lookup(key, now)
        try:
            state = self.rpc.call("registry", "agency_token_states", [agency_id],
                                  actor=GATEWAY).get(str(agency_id))
        except LecError:
            if entry is None:
                raise
            return entry[1]
        self._cache.store([(key, state)], now)
        return state

    def agency_actor(self, agency_id, version):
        """The acting agency client of a token: role ``agency``, no unit (unit 0, path ``/``,
        which ``Actor.can_read`` never lets it use)."""
        state = self.agency_state(agency_id)
        if state is None or not state["active"] or state["token_version"] != version:
            raise LecError("unauthorized", "the access token is no longer valid (the agency client's "
                                           "secret was rotated or the client disabled)")
        try:
            return Actor(user_id=agency_id, username=state["username"], role=AGENCY, org_unit_id=0,
                         path="/").check()
        except (KeyError, ValueError):
            raise LecError("unauthorized", "the agency client of the access token cannot act")

    def invalidate(self, user_id):
        self._cache.drop(int(user_id))

    def invalidate_agency(self, agency_id):
        self._cache.drop((AGENCY, int(agency_id)))

    def clear(self):
        self._cache.clear()


# -- policies ------------------------------------------------------------------------

class Policy:
    public = False
    roles = None

    def __init__(self, roles=None):
        self.roles = tuple(roles) if roles else None

    def check_role(self, actor):
        if self.roles and actor.role not in self.roles:
            raise forbidden(f"this is for {', '.join(self.roles)} users")

    def authorise(self, req, params, ctx):
        """Raise unless the request may go on; may put the target unit on ``req.context``."""
        self.check_role(req.context.actor)


class Public(Policy):
    public = True

    def authorise(self, req, params, ctx):
        pass


class Authenticated(Policy):
    """Any signed-in user (of the given roles); the service filters by subtree."""


def require_unit(ctx, actor, unit_id, what="org unit"):
    unit = ctx.units.get(unit_id)
    if unit is None or not actor.can_read(unit.path):
        raise not_found(what)
    return unit


class UnitInPath(Policy):
    """The unit named in the URL must be the caller's own or beneath it.
    ``strict``: beneath it only (acting on a unit from above)."""

    def __init__(self, param="id", roles=None, strict=False):
        super().__init__(roles)
        self.param = param
        self.strict = strict

    def authorise(self, req, params, ctx):
        actor = req.context.actor
        unit = require_unit(ctx, actor, as_id(params.get(self.param), self.param))
        self.check_role(actor)
        if self.strict and unit.path == actor.path:
            raise forbidden("this is done by a user of a unit above")
        req.context.unit = unit


class UnitInQuery(Policy):
    """``?org_unit_id=`` must be in the caller's subtree; absent, it is the caller's own unit."""

    def __init__(self, param="org_unit_id", roles=None, default_own=True):
        super().__init__(roles)
        self.param = param
        self.default_own = default_own

    def authorise(self, req, params, ctx):
        actor = req.context.actor
        self.check_role(actor)
        raw = req.get_param(self.param)
        if raw in (None, ""):
            req.context.unit = ctx.units.get(actor.org_unit_id) if self.default_own else None
            return
        req.context.unit = require_unit(ctx, actor, as_id(raw, self.param))


class UnitInBody(Policy):
    """The unit named by a field of the JSON body must be in the caller's subtree."""

    def __init__(self, field, roles=None):
        super().__init__(roles)
        self.field = field

    def authorise(self, req, params, ctx):
        actor = req.context.actor
        self.check_role(actor)
        body = req.get_media()
        if not isinstance(body, dict):
            raise validation_error({"_schema": ["expected a JSON object"]})
        raw = body.get(self.field)
        if raw is None:
            return  # the service reports the missing field
        if not isinstance(raw, int) or isinstance(raw, bool):
            raise validation_error({self.field: ["must be an integer"]})
        req.context.unit = require_unit(ctx, actor, raw)


class Resolved(Policy):
    """The unit is found by a function ``(req, params, ctx) -> unit path`` (for
    resources that belong to a unit, such as a learner); None means not found."""

    def __init__(self, resolve, roles=None, what="resource"):
        super().__init__(roles)
        self.resolve = resolve
        self.what = what

    def authorise(self, req, params, ctx):
        actor = req.context.actor
        path = self.resolve(req, params, ctx)
        if path is None or not actor.can_read(path):
            raise not_found(self.what)
        self.check_role(actor)


# -- agency clients ----------------------------------------------------------------------

# The only routes an agency client's token reaches (method, route template): read-only,
# confirmed data, no personal data. Every other route answers it 403, whatever its policy.
AGENCY_ROUTES = frozenset({
    ("GET", "/api/v1/me"),
    ("GET", "/api/v1/rounds"),
    ("GET", "/api/v1/rounds/{id:int}"),
    ("GET", "/api/v1/rounds/{id:int}/confirmed-counts"),
})


def agency_may(method, uri_template):
    return ("GET" if method == "HEAD" else method, uri_template) in AGENCY_ROUTES


# -- the middleware ---------------------------------------------------------------------

def policy_for(resource, method):
    policies = getattr(resource, "policies", None) or {}
    if method == "HEAD":
        method = "GET"
    return policies.get(method)


def responder_methods(resource):
    return [m for m in HTTP_METHODS if callable(getattr(resource, f"on_{m.lower()}", None))]


def check_policies(routes):
    """Refuse to start when any responder lacks an access policy."""
    missing = [f"{method} {uri}" for uri, resource in routes
               for method in responder_methods(resource) if policy_for(resource, method) is None]
    if missing:
        raise RuntimeError("routes without an access policy: " + ", ".join(missing))


class AccessMiddleware:
    def __init__(self, ctx):
        self.ctx = ctx

    def process_resource(self, req, resp, resource, params):
        req.context.actor = None
        req.context.unit = None
        if resource is None or req.method == "OPTIONS":
            return
        policy = policy_for(resource, req.method)
        if policy is None:
            raise LecError("method_not_allowed", f"{req.method} is not allowed here")
        if not policy.public:
            token = bearer(req.get_header("Authorization"))
            kind, subject, version = verify_subject(token, self.ctx.config.keys, self.ctx.config.token_ttl)
            if kind == AGENCY:
                req.context.actor = self.ctx.tokens.agency_actor(subject, version)
                if not agency_may(req.method, req.uri_template):
                    raise forbidden("an agency client reads only the rounds and their confirmed counts")
            else:
                req.context.actor = self.ctx.tokens.actor(subject, version)
        policy.authorise(req, params, self.ctx)
