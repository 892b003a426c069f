"""The acting user, carried with every RPC as nameko context data.

The gateway puts the authenticated user under :data:`ACTOR_KEY`; nameko copies
context data into the headers of every downstream RPC and event, so a service
called by another service still knows who started the request.
"""
import json
from dataclasses import asdict, dataclass

from nameko.extensions import DependencyProvider

from services.common import hierarchy
from services.common.errors import LecError

ACTOR_KEY = "lec_actor"
REQUEST_ID_KEY = "lec_request_id"


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

    def to_json(self):
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text):
        data = json.loads(text) if isinstance(text, str) else dict(text)
        return cls(
            user_id=int(data["user_id"]),
            username=str(data["username"]),
            role=str(data["role"]),
            org_unit_id=int(data["org_unit_id"]),
            path=str(data["path"]),
        )

    def as_dict(self):
        return asdict(self)

    # -- authority re-checks, used by every service --------------------
    def can_read(self, unit_path):
        return self.is_system or hierarchy.can_read(self.path, unit_path)

    def require_read(self, unit_path, what="resource"):
        """Outside the subtree a resource does not exist for the caller."""
        if not self.can_read(unit_path):
            raise LecError("not_found", f"{what} not found")

    def require_strict_ancestor(self, unit_path, description):
        if not (self.is_system or hierarchy.is_strict_ancestor(self.path, unit_path)):
            raise LecError("forbidden", description)

    def require_role(self, *roles):
        if not (self.is_system or self.role in roles):
            raise LecError("forbidden", "your role may not do this")


def actor_from_context(data):
    raw = (data or {}).get(ACTOR_KEY)
    if not raw:
        return None
    try:
        return Actor.from_json(raw)
    except (ValueError, KeyError, TypeError):
        return None


class CurrentActor(DependencyProvider):
    """Injects the acting :class:`Actor` of the current call (or None)."""

    def get_dependency(self, worker_ctx):
        return actor_from_context(worker_ctx.data)


def require_actor(actor):
    if actor is None:
        raise LecError("unauthorized", "no acting user travelled with the call")
    return actor
