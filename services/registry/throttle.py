"""Login throttling: growing delays instead of a lock that any stranger can set off.

Failed sign-ins are counted in the registry's database (``login_throttle``), so
every replica sees the same counts, under three keys:

- ``pair``: one account name from one client address. After
  ``LEC_LOGIN_FREE_FAILURES`` (5) failures each further one makes that pair wait
  ``LEC_LOGIN_BASE_DELAY`` (1 s), then twice as long each time, up to
  ``LEC_LOGIN_MAX_DELAY`` (900 s). The owner signing in from elsewhere is not
  held up.
- ``address``: every name from one client address (an IPv6 address counts by
  its /64 network). After ``LEC_LOGIN_ADDRESS_FREE_FAILURES`` (30) failures, the
  same growing delays for every name tried from there.
- ``account``: one name from anywhere. After ``LEC_LOGIN_LOCK_AFTER`` (50)
  failures in a row the name is locked until a user of a unit above resets the
  account's password (:func:`lift`).

A pair's and an address's count starts again ``LEC_LOGIN_WINDOW_SECONDS``
(3600) after its first failure; a success clears the pair and the account (not
the address). The keys are names, not accounts: an unknown name is counted,
delayed and locked exactly as a real one, so no answer tells which names exist.

An attempt is registered before its password is checked (:func:`claim`,
committed at once) and then counted as failed (:func:`fail`) or let go
(:func:`succeed`). While attempts are under way, a pair or an address takes a
new one only if it stays within the free failures even should they all fail,
or if none is under way: attempts sent in parallel cannot slip past the count.
A refused attempt (``rate_limited``, with ``retry_after`` in seconds while a
delay runs) costs no password check at all.
"""
import datetime as dt
import ipaddress
import math
from dataclasses import dataclass

from sqlalchemy import and_, delete, func, or_, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.common import settings
from services.common.errors import LecError
from services.registry.models import login_throttle

T = login_throttle.c
ACCOUNT, ADDRESS, PAIR = "account", "address", "pair"  # also the order rows are locked in
UNKNOWN_ADDRESS = "unknown"
SESSION_ADDRESS = "session"  # a signed-in user's own password change
ACCOUNT_ROWS_KEPT = dt.timedelta(days=30)  # an unlocked name's count, after its last failure
UNDER_WAY = dt.timedelta(seconds=60)  # an attempt not resolved by then is taken for lost


@dataclass(frozen=True)
class Policy:
    pair_free: int = 5
    address_free: int = 30
    base_delay: float = 1.0
    max_delay: float = 900.0
    window: float = 3600.0
    lock_after: int = 50

    @classmethod
    def from_settings(cls):
        configured = settings.current()
        return cls(pair_free=configured.login_free_failures,
                   address_free=configured.login_address_free_failures,
                   base_delay=configured.login_base_delay,
                   max_delay=configured.login_max_delay,
                   window=configured.login_window_seconds,
                   lock_after=configured.login_lock_after)

    def free(self, kind):
        return self.pair_free if kind == PAIR else self.address_free


# -- the rules (pure) -------------------------------------------------------------------

def delay(failures, free, base, cap):
    """Seconds to wait after ``failures`` failures: none for the first ``free``,
    then ``base``, twice that after the next, and so on up to ``cap``."""
    if failures <= free:
        return 0.0
    return min(cap, base * 2.0 ** min(failures - free - 1, 64))


def client_key(address):
    """The client address as counted: an IP address in its usual form, an IPv6
    one as its /64 network (one host has a whole /64 to choose from); anything
    else counts as one ``unknown`` address."""
    try:
        ip = ipaddress.ip_address(str(address).strip())
    except ValueError:
        return UNKNOWN_ADDRESS
    if ip.version == 6 and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def login_keys(name, address):
    """The keys a sign-in of ``name`` from ``address`` counts under, in lock order."""
    name = name.lower()
    return [(ACCOUNT, name, ""), (ADDRESS, "", address), (PAIR, name, address)]


def password_change_keys(name):
    """A signed-in user's password change: the account, and the account from its session."""
    name = name.lower()
    return [(ACCOUNT, name, ""), (PAIR, name, SESSION_ADDRESS)]


def under_way(row, now):
    """Attempts of the key registered and not yet resolved (lost ones expire)."""
    return row.pending if row.pending_until is not None and row.pending_until > now else 0


def _wait(seconds):
    seconds = max(1, math.ceil(seconds))
    return LecError("rate_limited", f"too many failed sign-ins: try again in {seconds} "
                                    f"second{'s' if seconds > 1 else ''}", {"retry_after": seconds})


def refusal(rows, now, policy):
    """The answer to an attempt while a key is locked, must wait, or has as many
    attempts under way as it may still fail freely (None: go on)."""
    if any(r.kind == ACCOUNT and r.locked_at is not None for r in rows):
        return LecError("rate_limited", "too many failed sign-ins: this account is locked until a user "
                                        "of a unit above resets its password", {"locked": True})
    waits = [(r.blocked_until - now).total_seconds() for r in rows
             if r.blocked_until is not None and r.blocked_until > now]
    if waits:
        return _wait(max(waits))
    if any(r.kind != ACCOUNT and under_way(r, now) and r.failures + under_way(r, now) >= policy.free(r.kind)
           for r in rows):
        return _wait(1)
    return None


def counted(row, now, policy):
    """A key's state once one more failure is counted."""
    restart = row.kind != ACCOUNT and (row.failures == 0 or
                                       (now - row.first_failure_at).total_seconds() > policy.window)
    failures = 1 if restart else row.failures + 1
    values = {"failures": failures, "first_failure_at": now if restart else row.first_failure_at,
              "last_failure_at": now, "blocked_until": None, "locked_at": row.locked_at}
    if row.kind == ACCOUNT:
        if failures >= policy.lock_after and row.locked_at is None:
            values["locked_at"] = now
    else:
        wait = delay(failures, policy.free(row.kind), policy.base_delay, policy.max_delay)
        if wait:
            values["blocked_until"] = now + dt.timedelta(seconds=wait)
    return values


# -- the table --------------------------------------------------------------------------

@dataclass(frozen=True)
class Failure:
    """What counting a failure did to the account name."""
    locked: bool          # this failure locked it
    account_failures: int


def _where(keys):
    return tuple_(T.kind, T.name, T.address).in_(keys)


def _locked_rows(uow, keys):
    """The rows of ``keys`` (made when missing), locked in one order, and the time."""
    now = uow.execute(select(func.now())).scalar_one()
    uow.execute(pg_insert(login_throttle).values(
        [{"kind": k, "name": n, "address": a, "failures": 0, "first_failure_at": now,
          "last_failure_at": now} for k, n, a in keys]).on_conflict_do_nothing())
    rows = uow.execute(select(login_throttle).where(_where(keys))
                       .order_by(T.kind, T.name, T.address).with_for_update()).all()
    return rows, now


def _key(row):
    return [(row.kind, row.name, row.address)]


def claim(uow, keys, policy=None):
    """Register an attempt under ``keys`` (the caller commits) or refuse it
    (``rate_limited``); then :func:`fail` or :func:`succeed`."""
    policy = policy or Policy.from_settings()
    rows, now = _locked_rows(uow, keys)
    refused = refusal(rows, now, policy)
    if refused is not None:
        raise refused
    for row in rows:
        uow.execute(update(login_throttle).where(_where(_key(row)))
                    .values(pending=under_way(row, now) + 1, pending_until=now + UNDER_WAY))


def _resolved(row, now):
    return {"pending": max(under_way(row, now) - 1, 0)}


def fail(uow, keys, policy=None):
    """The attempt failed: one more failure under every key, and the delays and
    lock that follow (the caller commits)."""
    policy = policy or Policy.from_settings()
    rows, now = _locked_rows(uow, keys)
    locked, account_failures = False, 0
    for row in rows:
        values = dict(counted(row, now, policy), **_resolved(row, now))
        uow.execute(update(login_throttle).where(_where(_key(row))).values(**values))
        if row.kind == ACCOUNT:
            locked = row.locked_at is None and values["locked_at"] is not None
            account_failures = values["failures"]
    return Failure(locked, account_failures)


def succeed(uow, keys):
    """The password was right: the account and its pair start afresh; the address
    keeps its failures (the caller commits)."""
    rows, now = _locked_rows(uow, keys)
    for row in rows:
        if row.kind in (ACCOUNT, PAIR):
            uow.execute(delete(login_throttle).where(_where(_key(row))))
        else:
            uow.execute(update(login_throttle).where(_where(_key(row))).values(**_resolved(row, now)))
    uow.execute(delete(login_throttle).where(_where(keys), T.failures == 0, T.pending == 0))


def lift(uow, name):
    """A user of a unit above reset the account: its lock and counts go (every address)."""
    uow.execute(delete(login_throttle).where(T.kind.in_((ACCOUNT, PAIR)), T.name == name.lower()))


def prune(uow, policy=None):
    """Forget what no longer counts: pairs and addresses past their window and
    delay, unlocked names without a failure for 30 days, nothing with an attempt
    under way. Returns the rows removed."""
    policy = policy or Policy.from_settings()
    now = uow.execute(select(func.now())).scalar_one()
    idle = or_(T.pending_until.is_(None), T.pending_until < now)
    window_start = now - dt.timedelta(seconds=policy.window)
    gone = uow.execute(delete(login_throttle).where(
        T.kind.in_((ADDRESS, PAIR)), T.first_failure_at < window_start, idle,
        or_(T.blocked_until.is_(None), T.blocked_until < now))).rowcount
    gone += uow.execute(delete(login_throttle).where(and_(
        T.kind == ACCOUNT, T.locked_at.is_(None), T.last_failure_at < now - ACCOUNT_ROWS_KEPT, idle))).rowcount
    return gone
