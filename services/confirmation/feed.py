"""The confirmed-counts change feed (``GET /rounds/{rid}/confirmed-counts``).

Each unit of a round appears once, with its current public state (confirmed with
its sealed counts, or open again), at the position its last change was given: a
unit that changes again moves to the end. Positions (``feed_seq``) are stamped at
commit by a trigger from a row-locked counter per round (migration 0005), so they
become visible in order: a reader that has gone past position n never meets a
position below n later. Cursors are opaque: the round and a position.
"""
import base64
import binascii
import json
import re

from sqlalchemy import select

from services.common.context import require_actor
from services.common.errors import forbidden, validation_error
from services.common.jsonutil import BANGKOK, plain
from services.common.validation import as_id
from services.confirmation import domain
from services.confirmation.models import confirmations

C = confirmations.c
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
READERS = ("department", "province", "agency")
_CURSOR = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def encode_cursor(round_id, seq):
    raw = json.dumps({"r": round_id, "s": seq}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(round_id, cursor):
    """The position after which to read; ``validation_error`` for a cursor not of this round's feed."""
    if cursor in (None, ""):
        return 0
    bad = validation_error({"after": ["not a cursor of this round's feed: use a next_cursor or an "
                                      "item's cursor, or leave it out to start from the beginning"]})
    if not isinstance(cursor, str) or not _CURSOR.match(cursor):
        raise bad
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise bad
    if not isinstance(data, dict) or set(data) != {"r", "s"}:
        raise bad
    r, s = data["r"], data["s"]
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (r, s)) or r != round_id \
            or not 0 <= s < 2 ** 63:
        raise bad
    return s


def _limit(value):
    if value in (None, ""):
        return DEFAULT_LIMIT
    try:
        limit = int(value)
    except (TypeError, ValueError):
        raise validation_error({"limit": [f"an integer from 1 to {MAX_LIMIT}"]})
    if not 1 <= limit <= MAX_LIMIT:
        raise validation_error({"limit": [f"an integer from 1 to {MAX_LIMIT}"]})
    return limit


def _item(round_id, row):
    confirmed = row.state == domain.CONFIRMED
    return {
        "unit": {"id": row.unit_id, "code": row.unit_code, "type": row.unit_type, "path": row.unit_path},
        "state": domain.public_state(row.state),
        "counts": domain.normalise_counts(row.counts) if confirmed else None,
        "seal_digest": row.seal_digest if confirmed else None,
        "confirmed_at": row.confirmed_at.astimezone(BANGKOK) if confirmed and row.confirmed_at else None,
        "revoked_at": (row.revoked_at.astimezone(BANGKOK)
                       if not confirmed and row.revoked_at is not None else None),
        "version": row.version,
        "cursor": encode_cursor(round_id, row.feed_seq),
    }


def confirmed_counts(uow, round_id, after=None, limit=None):
    """``{items, next_cursor, has_more}``: the page after ``after`` in feed order. Agency
    clients and department users read every unit; province users their subtree."""
    actor = require_actor(uow.actor)
    if not (actor.is_system or actor.role in READERS):
        raise forbidden("the confirmed-counts feed is for agency clients, department and province users")
    round_id = as_id(round_id, "round_id")
    position, limit = decode_cursor(round_id, after), _limit(limit)
    cond = [C.round_id == round_id, C.feed_seq.isnot(None), C.feed_seq > position]
    if actor.role == "province":
        cond.append(C.unit_path.startswith(actor.path, autoescape=True))
    rows = uow.execute(
        select(C.unit_id, C.unit_code, C.unit_type, C.unit_path, C.state, C.counts, C.seal_digest,
               C.confirmed_at, C.revoked_at, C.version, C.feed_seq)
        .where(*cond).order_by(C.feed_seq).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    items = [_item(round_id, r) for r in rows]
    last = rows[-1].feed_seq if rows else position
    return plain({"items": items, "next_cursor": encode_cursor(round_id, last), "has_more": more})
