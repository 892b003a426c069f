"""An in-memory stand-in for the services behind the gateway.

:class:`FakeRpc` has the ``call`` signature of :class:`gateway.rpc.RpcClient`:
it answers from a table of ``(service, method) -> answer`` and records every
call with its acting user, request id and timeout, so a test can check what the
gateway sent and on whose behalf. :class:`World` is a small hierarchy with an
account at every level and an agency client, whose tokens are signed by the
gateway's own code (:func:`gateway.auth.issue_token`)."""
import copy
import threading
from dataclasses import dataclass, field

from gateway.auth import AGENCY, KeyRing, issue_token
from services.common.errors import LecError

KEYS = KeyRing("fast-1", "fast-test-secret-0123456789-0123456789-abcdef")
OTHER_KEYS = KeyRing("fast-1", "a-different-secret-0123456789-0123456789-xyz")
TOKEN_TTL = 900


@dataclass
class Call:
    """One RPC the gateway made."""
    service: str
    method: str
    args: tuple
    kwargs: dict
    actor: object = None
    request_id: str = None
    timeout: float = None
    thread: str = field(default="", repr=False)


class FakeRpc:
    """Answers RPCs from memory. An answer is a value (returned as a deep copy,
    since the gateway may change what it gets), an exception (raised), or a
    callable taking the call's arguments. An RPC with no answer raises
    ``service_unavailable``, as the real client does for a method no service offers."""

    def __init__(self):
        self.answers = {}
        self.calls = []
        self._lock = threading.Lock()

    def answer(self, service, method, value):
        self.answers[(service, method)] = value
        return self

    def call(self, service, method, *args, actor=None, request_id=None, timeout=None, **kwargs):
        with self._lock:
            self.calls.append(Call(service, method, args, kwargs, actor, request_id, timeout,
                                   threading.current_thread().name))
        try:
            value = self.answers[(service, method)]
        except KeyError:
            raise LecError("service_unavailable", f"{service}.{method} is not available") from None
        if isinstance(value, BaseException):
            raise value
        if callable(value):
            return value(*args, **kwargs)
        return copy.deepcopy(value)

    def calls_to(self, service, method=None):
        return [c for c in self.calls if c.service == service and (method is None or c.method == method)]

    def service_calls(self):
        """The calls of the request itself: not the gateway's own look-ups of units
        and accounts."""
        return [c for c in self.calls
                if (c.service, c.method) not in {("registry", "get_units"), ("registry", "token_states"),
                                                 ("registry", "agency_token_states")}]

    def forget(self):
        with self._lock:
            self.calls.clear()


def unit(id, type, path, name, status="active"):
    parts = [int(p) for p in path.strip("/").split("/")]
    return {"id": id, "code": f"U{id:04d}", "name": name, "type": type,
            "parent_id": parts[-2] if len(parts) > 1 else None, "path": path, "status": status,
            "affiliation": "lao" if type in ("school", "cdc") else None, "closed_on": None, "version": 1}


UNITS = {u["id"]: u for u in [
    unit(1, "department", "/1/", "Department"),
    unit(2, "province", "/1/2/", "Province A"),
    unit(3, "lao", "/1/2/3/", "LAO A"),
    unit(4, "school", "/1/2/3/4/", "School A"),
    unit(5, "cdc", "/1/2/3/5/", "CDC A"),
    unit(6, "province", "/1/6/", "Province B"),
    unit(7, "lao", "/1/6/7/", "LAO B"),
    unit(8, "school", "/1/6/7/8/", "School B"),
]}

# account key -> (user id, role, unit id)
ACCOUNTS = {
    "department": (101, "department", 1),
    "province": (102, "province", 2),
    "lao": (103, "lao", 3),
    "school": (104, "institution", 4),
    "cdc": (105, "institution", 5),
    "province_b": (106, "province", 6),
    "school_b": (108, "institution", 8),
}
AGENCY_ID = 201


class World:
    """The registry's side of the gateway's look-ups over :data:`UNITS` and
    :data:`ACCOUNTS`: units, account states (active, token version), users,
    sign-in; and tokens for each account."""

    def __init__(self, rpc, keys=KEYS, ttl=TOKEN_TTL):
        self.rpc = rpc
        self.keys = keys
        self.ttl = ttl
        self.units = copy.deepcopy(UNITS)
        self.states = {}
        for key, (user_id, role, unit_id) in ACCOUNTS.items():
            self.states[user_id] = {"active": True, "token_version": 1, "username": f"{key}.user",
                                    "role": role, "org_unit_id": unit_id, "path": self.units[unit_id]["path"]}
        self.agency_states = {AGENCY_ID: {"active": True, "token_version": 1, "username": "stats-office",
                                          "name": "Statistics office"}}
        self.passwords = {state["username"]: ("correct-horse-9", user_id)
                          for user_id, state in self.states.items()}
        rpc.answer("registry", "get_units", self.get_units)
        rpc.answer("registry", "token_states", self.token_states)
        rpc.answer("registry", "agency_token_states", self.agency_token_states)
        rpc.answer("registry", "get_user", self.get_user)
        rpc.answer("registry", "authenticate", self.authenticate)

    # -- the registry's RPCs --------------------------------------------------------------
    def get_units(self, ids):
        return [copy.deepcopy(self.units[i]) for i in ids if i in self.units]

    def token_states(self, ids):
        return {str(i): dict(self.states[i], unit=copy.deepcopy(self.units[self.states[i]["org_unit_id"]]))
                for i in ids if i in self.states}

    def agency_token_states(self, ids):
        return {str(i): dict(self.agency_states[i]) for i in ids if i in self.agency_states}

    def user(self, user_id):
        state = self.states[user_id]
        return {"id": user_id, "username": state["username"], "role": state["role"],
                "org_unit_id": state["org_unit_id"], "active": state["active"],
                "token_version": state["token_version"], "path": state["path"]}

    def get_user(self, user_id):
        if user_id not in self.states:
            raise LecError("not_found", "user not found")
        return self.user(user_id)

    def authenticate(self, username, password, client_address=None):
        password_and_id = self.passwords.get(username)
        if password_and_id is None or password_and_id[0] != password:
            raise LecError("invalid_credentials", "the username or password is wrong")
        return self.user(password_and_id[1])

    # -- accounts and tokens ----------------------------------------------------------------
    def user_id(self, key):
        return ACCOUNTS[key][0]

    def unit_id(self, key):
        return ACCOUNTS[key][2]

    def token(self, key, keys=None, ttl=None, version=None):
        user_id = self.user_id(key)
        version = self.states[user_id]["token_version"] if version is None else version
        return issue_token({"id": user_id, "token_version": version}, keys or self.keys, ttl or self.ttl)

    def agency_token(self):
        return issue_token({"id": AGENCY_ID, "token_version": 1}, self.keys, self.ttl, kind=AGENCY)

    def headers(self, key, **extra):
        token = self.agency_token() if key == "agency" else self.token(key)
        return {"Authorization": f"Bearer {token}", **extra}
