"""The acting user, carried with every RPC as nameko context data.

The gateway puts the authenticated user under :data:`ACTOR_KEY`; nameko copies
context data into the headers of every downstream RPC and event, so a service
called by another service still knows who started the request.

Every RPC must carry a valid acting user: one without (or with a malformed
one) is refused ``unauthorized`` before the service runs it
(:func:`require_call_actor`). Internal and operator callers name the system
actor explicitly: the gateway's own lookups act as ``Actor.system("gateway")``,
a service's timers and event handlers as ``Actor.system("<service>")``
(:func:`worker_actor`, which also sends it with the RPCs they make), and
command-line tools pass :func:`system_context` to their RPC proxy.

The request id (:data:`REQUEST_ID_KEY`) and the caller's trace context
(:data:`TRACE_KEY`, a W3C ``traceparent``; see services.common.tracing) travel
the same way, for the logs and the traces.
"""
import json
import re
from dataclasses import asdict, dataclass

from nameko.extensions import DependencyProvider
from nameko.rpc import Rpc

from services.common import hierarchy
from services.common.errors import LecError

ACTOR_KEY = "lec_actor"
AGENCY = "agency"  # the role of an agency client (services.registry.agencies)
REQUEST_ID_KEY = "lec_request_id"
# the W3C traceparent of the calling span (services.common.tracing)
TRACE_KEY = "lec_trace"


@dataclass(frozen=True)
class Actor:
    user_id: int
    username: str
    role: str
    org_unit_id: int
    path: str

    @classmethod
    def system(cls, name="system"):
        return cls(user_id=0, username=name, role="system", org_unit_id=0, path="/")

    @property
    def is_system(self):
        return self.role == "system"

    @property
    def is_agency(self):
        return self.role == AGENCY

    def to_json(self):
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text):
        """The actor of a header; ValueError unless it is well formed (see :meth:`check`)."""
        data = json.loads(text) if isinstance(text, str) else dict(text)
        if set(data) != ACTOR_FIELDS:
            raise ValueError("an actor has exactly the fields " + ", ".join(sorted(ACTOR_FIELDS)))
        return cls(**data).check()

    def check(self):
        """A user: a role of :data:`hierarchy.ROLES`, positive ids, and the path of
        its own unit. The system: user and unit 0 at the root path ``/``. Both
        have a printable name. Returns the actor; ValueError otherwise."""
        ints = (self.user_id, self.org_unit_id)
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in ints):
            raise ValueError("actor ids must be integers")
        if not (isinstance(self.username, str) and 0 < len(self.username) <= 128
                and self.username.isprintable()):
            raise ValueError("an actor has a printable name of at most 128 characters")
        if not (isinstance(self.path, str) and _PATH.match(self.path)):
            raise ValueError("an actor's path is like /1/7/42/")
        if self.role == "system":
            if self.user_id != 0 or self.org_unit_id != 0 or self.path != "/":
                raise ValueError("the system actor has user 0, unit 0 and path /")
        elif self.role == AGENCY:
            # an agency client: no unit and no subtree (it reads nothing by the hierarchy)
            if self.user_id <= 0 or self.org_unit_id != 0 or self.path != "/":
                raise ValueError("an agency client has a positive id, unit 0 and path /")
        elif self.role in hierarchy.ROLES:
            if self.user_id <= 0 or self.path == "/" or hierarchy.unit_id_of(self.path) != self.org_unit_id:
                raise ValueError("a user's ids are positive and its path ends at its unit")
        else:
            raise ValueError("unknown actor role")
        return self

    def as_dict(self):
        return asdict(self)

    # -- authority re-checks, used by every service --------------------
    def can_read(self, unit_path):
        if self.is_agency:
            return False  # confirmed data only, through the feed: never a unit's own data
        return self.is_system or hierarchy.can_read(self.path, unit_path)

    def require_read(self, unit_path, what="resource"):
        """Outside the subtree a resource does not exist for the caller."""
        if not self.can_read(unit_path):
            raise LecError("not_found", f"{what} not found")

    def require_strict_ancestor(self, unit_path, description):
        if self.is_agency:
            raise LecError("forbidden", description)
        if not (self.is_system or hierarchy.is_strict_ancestor(self.path, unit_path)):
            raise LecError("forbidden", description)

    def require_role(self, *roles):
        if not (self.is_system or self.role in roles):
            raise LecError("forbidden", "your role may not do this")


ACTOR_FIELDS = frozenset(Actor.__dataclass_fields__)
_PATH = re.compile(r"^/(?:[1-9][0-9]{0,17}/)*$")


def actor_from_context(data):
    """The acting user of context data; None when there is none or it is malformed."""
    raw = (data or {}).get(ACTOR_KEY)
    if not raw:
        return None
    try:
        return Actor.from_json(raw)
    except (ValueError, KeyError, TypeError):
        return None


def worker_actor(worker_ctx):
    """Who a worker acts for. An RPC: the caller's acting user (None when it
    carries none or a malformed one; :func:`require_call_actor` has refused such
    calls already). The service's own timers and event handlers:
    ``Actor.system(<service>)``, put into the worker's context so that the RPCs
    they make carry it too (an actor in an event's headers is not taken)."""
    if isinstance(worker_ctx.entrypoint, Rpc):
        return actor_from_context(worker_ctx.data)
    actor = Actor.system(worker_ctx.service_name)
    worker_ctx.data[ACTOR_KEY] = actor.to_json()
    return actor


def system_context(name):
    """Context data naming the system actor ``name``, for operators' tools and
    the gateway's own calls: ``ClusterRpcProxy(config, context_data=system_context("operator"))``."""
    return {ACTOR_KEY: Actor.system(name).to_json()}


class CurrentActor(DependencyProvider):
    """Injects the acting :class:`Actor` of the current call (or None)."""

    def get_dependency(self, worker_ctx):
        return worker_actor(worker_ctx)


def require_actor(actor):
    """The acting user, or ``unauthorized``: no call runs without one."""
    if actor is None:
        raise LecError("unauthorized", "no valid acting user travelled with the call")
    return actor


def require_call_actor(context_data):
    """The gate of every RPC: its context must name a valid acting user (a user,
    or the system actor for internal and operator callers)."""
    return require_actor(actor_from_context(context_data))
