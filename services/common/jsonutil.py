"""Plain JSON values for everything that crosses the broker.

kombu >= 5.3 wraps datetime/UUID/Decimal in ``{"__type__": ...}`` objects;
payloads and RPC results are turned into plain JSON values here first.
"""
import datetime as dt
import decimal
import json
import uuid
from zoneinfo import ZoneInfo

BANGKOK = ZoneInfo("Asia/Bangkok")


def utcnow():
    return dt.datetime.now(dt.timezone.utc)


def isoformat(value):
    """Instants are written with their offset, in Bangkok time (the users' wall clock)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(BANGKOK).isoformat()


def _default(value):
    if isinstance(value, dt.datetime):
        return isoformat(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def dumps(value, **kwargs):
    return json.dumps(value, default=_default, ensure_ascii=False, separators=(",", ":"), **kwargs)


def plain(value):
    """Return ``value`` as plain JSON types (dict/list/str/int/float/bool/None)."""
    return json.loads(dumps(value))
