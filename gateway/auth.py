"""Short-lived signed access tokens (JWT, HS256)."""
import datetime as dt
import uuid

import jwt

from services.common.context import Actor
from services.common.errors import LecError

ISSUER = "lec"


def issue_token(user, secret, ttl):
    now = dt.datetime.now(dt.timezone.utc)
    claims = {
        "iss": ISSUER,
        "sub": str(user["id"]),
        "jti": uuid.uuid4().hex,
        "iat": now,
        "nbf": now - dt.timedelta(seconds=5),
        "exp": now + dt.timedelta(seconds=ttl),
        "username": user["username"],
        "role": user["role"],
        "org_unit_id": user["org_unit_id"],
        "path": user["path"],
        # the account's token version: a password change or a disabled account raises it
        "tv": int(user.get("token_version", 1)),
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def actor_from_token(token, secret):
    """The acting user of a valid signed token, and the token's version of the
    account (``tv``; tokens from before versions count as version 1)."""
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"], issuer=ISSUER,
                            options={"require": ["exp", "iat", "sub", "iss"]})
    except jwt.ExpiredSignatureError:
        raise LecError("unauthorized", "the access token has expired")
    except jwt.InvalidTokenError:
        raise LecError("unauthorized", "the access token is not valid")
    try:
        actor = Actor(user_id=int(claims["sub"]), username=claims["username"], role=claims["role"],
                      org_unit_id=int(claims["org_unit_id"]), path=claims["path"])
        return actor, int(claims.get("tv", 1))
    except (KeyError, TypeError, ValueError):
        raise LecError("unauthorized", "the access token is not valid")


def bearer(header):
    if not header:
        raise LecError("unauthorized", "an Authorization: Bearer token is required")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise LecError("unauthorized", "an Authorization: Bearer token is required")
    return token.strip()
