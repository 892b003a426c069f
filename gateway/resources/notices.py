"""Notices: what waits for the signed-in user's unit — its deadline reminders
(reporting), the transfers it must answer (enrollment) and the revocation
requests it must answer or that it made and were answered (confirmation) —
newest first, in one list the portal's bell shows."""
import datetime as dt
import logging

from gateway.access import Authenticated
from services.common.errors import LecError, validation_error
from services.common.validation import as_id
from services.reporting.schemas import Notices

log = logging.getLogger(__name__)

# the owners' notice lists: (service, method, the id field of its notices, portal page)
SOURCES = (
    ("enrollment", "transfer_notices", "transfer_id", "transfers"),
    ("confirmation", "revocation_request_notices", "request_id", "revocations"),
)
COMMON = ("kind", "round_id", "unit_id", "at")
KIND_OF = {"transfer_notices": "transfers", "revocation_request_notices": "revocation_requests"}


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _when(notice):
    try:
        at = dt.datetime.fromisoformat(notice["at"])
    except (TypeError, ValueError):
        return dt.datetime.min.replace(tzinfo=dt.timezone.utc)
    return at if at.tzinfo else at.replace(tzinfo=dt.timezone.utc)


def deadline_notice(item):
    return {"kind": "deadline", "round_id": item["round_id"], "unit_id": item.get("unit_id"),
            "at": item.get("at"), "ref_id": None, "page": "confirm", "round": item.get("round"),
            "level": item.get("level"), "deadline": item.get("deadline"),
            "hours_before": item.get("hours_before"), "data": {}}


def owner_notice(item, id_field, page):
    """An owner's notice in the one shape of the list (the rest of it under ``data``)."""
    rest = {k: v for k, v in item.items() if k not in COMMON + (id_field,)}
    return {"kind": item.get("kind") or page, "round_id": _int_or_none(item.get("round_id")),
            "unit_id": _int_or_none(item.get("unit_id")), "at": item.get("at"),
            "ref_id": _int_or_none(item.get(id_field)), "page": page, "round": None, "level": None,
            "deadline": None, "hours_before": None, "data": rest}


class MyNotices:
    policies = {"GET": Authenticated()}
    docs = {"GET": {
        "summary": "What waits for your unit, newest first: deadline reminders (72, 24 and 3 hours before "
                   "your level's deadline while your unit has not confirmed; until the deadline), transfers "
                   "to answer and revocation requests to answer or answered in the last 7 days",
        "tag": "notices", "response": Notices,
        "query": {"round_id": ("integer", "only this round's")}}}

    def __init__(self, ctx):
        self.ctx = ctx

    def on_get(self, req, resp):
        round_id = req.get_param("round_id")
        if round_id not in (None, ""):
            round_id = as_id(round_id, "round_id")
            if round_id < 1:
                raise validation_error({"round_id": ["is out of range"]})
        else:
            round_id = None
        items = [deadline_notice(n) for n in self.ctx.call(req, "reporting", "notices", round_id)]
        unavailable = []
        for service, method, id_field, page in SOURCES:
            try:
                found = self.ctx.call(req, service, method, round_id) or []
            except LecError as exc:
                if exc.code != "service_unavailable":
                    raise
                # the list stands without what the owner cannot tell now
                log.warning("notices without %s.%s: %s", service, method, exc)
                unavailable.append(KIND_OF.get(method, method))
                continue
            items += [owner_notice(n, id_field, page) for n in found if isinstance(n, dict)]
        items.sort(key=_when, reverse=True)
        resp.media = {"items": items, "total": len(items), "unavailable": unavailable}


ROUTES = [
    ("/me/notices", MyNotices),
]
