"""Short-lived signed access tokens (JWT, HS256), and the client's address.

A token names its account (``sub``) and the account's token version (``tv``);
its header names the key that signed it (``kid``). It is verified with the
current key (``LEC_JWT_SECRET``, id ``LEC_JWT_KEY_ID``) or, after a rotation,
with the previous one (``LEC_JWT_PREVIOUS_SECRET``, id ``LEC_JWT_PREVIOUS_KEY_ID``),
which only verifies. A token made to live longer than ``LEC_TOKEN_TTL`` is
refused, whatever its signature. What the account may do (its role and its
unit) is the registry's word (``gateway.access.TokenStates``), never a claim.
"""
import datetime as dt
import ipaddress
import uuid
from dataclasses import dataclass

import jwt

from services.common import settings
from services.common.errors import LecError

ISSUER = "lec"
ALGORITHM = "HS256"
CLOCK_SKEW = dt.timedelta(seconds=30)  # between the gateways' clocks: iat, nbf and exp allow this much


@dataclass(frozen=True)
class KeyRing:
    """The signing key (and its id) and the previous key still accepted."""
    current_id: str
    current: str
    previous_id: str = None
    previous: str = None

    def __post_init__(self):
        if not self.current_id or not self.current:
            raise settings.SettingsError("LEC_JWT_SECRET and LEC_JWT_KEY_ID must not be empty")
        if self.previous and (not self.previous_id or self.previous_id == self.current_id):
            raise settings.SettingsError("LEC_JWT_PREVIOUS_SECRET needs LEC_JWT_PREVIOUS_KEY_ID, "
                                         "an id other than LEC_JWT_KEY_ID")

    @classmethod
    def from_settings(cls):
        previous = settings.jwt_previous_secret()
        return cls(settings.jwt_key_id(), settings.jwt_secret(),
                   settings.jwt_previous_key_id() if previous else None, previous)

    def verifying_key(self, kid):
        """The key of id ``kid``, or None when this system does not know it."""
        if kid == self.current_id:
            return self.current
        if self.previous and kid == self.previous_id:
            return self.previous
        return None


USER, AGENCY = "user", "agency"  # what a token's ``sub`` names (claim ``knd``; an account when absent)


def issue_token(user, keys, ttl, kind=USER):
    """A token for the account ``user`` (``id``, ``token_version``), signed with the current key;
    ``kind=AGENCY``: for the agency client of that id."""
    now = dt.datetime.now(dt.timezone.utc)
    claims = {
        "iss": ISSUER,
        "sub": str(user["id"]),
        "jti": uuid.uuid4().hex,
        "iat": now,
        "nbf": now - dt.timedelta(seconds=5),
        "exp": now + dt.timedelta(seconds=ttl),
        # the account's token version: a password change or a disabled account raises it
        "tv": int(user.get("token_version", 1)),
    }
    if kind != USER:
        claims["knd"] = kind
    return jwt.encode(claims, keys.current, algorithm=ALGORITHM, headers={"kid": keys.current_id})


def _invalid(description="the access token is not valid"):
    return LecError("unauthorized", description)


def verify_token(token, keys, ttl):
    """``(user id, token version)`` of an account's token signed by a known key, current
    and made to live at most ``ttl`` seconds; ``unauthorized`` otherwise."""
    kind, subject, version = verify_subject(token, keys, ttl)
    if kind != USER:
        raise _invalid()
    return subject, version


def verify_subject(token, keys, ttl):
    """``(kind, id, token version)`` of a valid token: ``kind`` is ``user`` (an account)
    or ``agency`` (an agency client); ``unauthorized`` otherwise."""
    try:
        kid = jwt.get_unverified_header(token).get("kid")
    except jwt.InvalidTokenError:
        raise _invalid()
    key = keys.verifying_key(kid) if isinstance(kid, str) else None
    if key is None:
        raise _invalid("the access token was not signed with a key of this system: sign in again")
    try:
        claims = jwt.decode(token, key, algorithms=[ALGORITHM], issuer=ISSUER, leeway=CLOCK_SKEW,
                            options={"require": ["exp", "iat", "sub", "iss", "tv"]})
    except jwt.ExpiredSignatureError:
        raise _invalid("the access token has expired")
    except jwt.ImmatureSignatureError:
        raise _invalid("the access token is not valid yet (issued in the future)")
    except jwt.InvalidTokenError:
        raise _invalid()
    _check_lifetime(claims, ttl)
    kind = claims.get("knd", USER)
    if kind not in (USER, AGENCY):
        raise _invalid()
    try:
        return kind, int(claims["sub"]), int(claims["tv"])
    except (TypeError, ValueError):
        raise _invalid()


def _check_lifetime(claims, ttl):
    """Made to end within ``ttl`` seconds of its issue (PyJWT has checked that it
    was issued before now, give or take the clock skew between the gateways)."""
    iat, exp = claims["iat"], claims["exp"]
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (iat, exp)):
        raise _invalid()
    if exp - iat > ttl:
        raise _invalid("the access token was made to live longer than this system allows")


def bearer(header):
    if not header:
        raise LecError("unauthorized", "an Authorization: Bearer token is required")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise LecError("unauthorized", "an Authorization: Bearer token is required")
    return token.strip()


def client_address(remote_addr, forwarded_for, trusted_proxies):
    """The address of the client, for login throttling. With no trusted proxy
    (``LEC_TRUSTED_PROXIES=0``) it is the peer's; behind N proxies that each
    append the address they saw to ``X-Forwarded-For``, it is the one the
    outermost of them saw (N-th from the right): what a client writes there
    itself stays to the left, unused."""
    if trusted_proxies <= 0 or not forwarded_for:
        return remote_addr
    chain = [hop.strip() for hop in forwarded_for.split(",")] + [remote_addr]
    candidate = chain[max(len(chain) - 1 - trusted_proxies, 0)]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote_addr
