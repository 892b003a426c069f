"""The example agency subscriber's ledger: de-duplication by event_id and, for
events arriving out of order, the higher confirmation_version wins."""
import importlib.util
import itertools
import uuid
from pathlib import Path

import pytest

PATH = Path(__file__).resolve().parents[2] / "deploy" / "examples" / "agency_subscriber.py"
spec = importlib.util.spec_from_file_location("agency_subscriber", PATH)
agency = importlib.util.module_from_spec(spec)
spec.loader.exec_module(agency)

ROUND = {"id": 7, "academic_year": 2569, "number": 1}
SCHOOL = {"id": 42, "code": "1050100001", "type": "school", "path": "/1/2/3/42/"}


def event(kind, version, total, at, reason=None):
    body = {"event_id": str(uuid.uuid4()), "type": kind, "version": 1, "occurred_at": at,
            "round": ROUND, "org_unit": SCHOOL, "counts": {"total": total, "by_grade": {"p1": total}},
            "confirmed_at": at, "confirmation_version": version}
    if reason:
        body["reason"] = reason
    return body


# confirmed with 3, revoked, confirmed again with 4, revoked, confirmed with 5
HISTORY = [
    event("unit_confirmed", 2, 3, "2026-06-10T09:00:00+07:00"),
    event("unit_revoked", 3, 3, "2026-06-10T09:00:00+07:00", "เพิ่มนักเรียน"),
    event("unit_confirmed", 5, 4, "2026-06-11T09:00:00+07:00"),
    event("unit_revoked", 6, 4, "2026-06-11T09:00:00+07:00", "แก้ชั้น"),
    event("unit_confirmed", 8, 5, "2026-06-12T09:00:00+07:00"),
]


@pytest.mark.parametrize("order", list(itertools.permutations(range(len(HISTORY))))[::7])
def test_any_arrival_order_ends_in_the_newest_state(tmp_path, order):
    ledger = agency.Ledger(str(tmp_path / "a.sqlite"))
    for i in order:
        assert ledger.apply(HISTORY[i]) is True
    assert ledger.unit(7, 42)["total"] == 5
    assert ledger.unit(7, 42)["event_id"] == HISTORY[-1]["event_id"]
    assert ledger.table() == [{"round_id": 7, "academic_year": 2569, "number": 1, "finalized": 0,
                               "unit_type": "school", "units": 1, "learners": 5,
                               "other_school_learners": 0}]
    reasons = ledger.db.execute("SELECT reason FROM withdrawn ORDER BY version").fetchall()
    assert reasons == [("เพิ่มนักเรียน",), ("แก้ชั้น",)]


def test_a_revocation_newer_than_the_confirmation_withdraws_it_whatever_the_order(tmp_path):
    ledger = agency.Ledger(str(tmp_path / "a.sqlite"))
    ledger.apply(HISTORY[1])          # the revocation first
    ledger.apply(HISTORY[0])          # then its confirmation, late
    assert ledger.unit(7, 42) is None
    assert ledger.stale == 1
    assert ledger.table() == []


def test_the_same_event_twice_is_applied_once(tmp_path):
    ledger = agency.Ledger(str(tmp_path / "a.sqlite"))
    assert ledger.apply(HISTORY[0]) is True
    assert ledger.apply(dict(HISTORY[0])) is False
    assert (ledger.applied, ledger.duplicates) == (1, 1)
    # the ledger survives a restart of the subscriber
    again = agency.Ledger(str(tmp_path / "a.sqlite"))
    assert again.apply(HISTORY[0]) is False
    assert again.unit(7, 42)["total"] == 3


# -- backfilling from the confirmed-counts feed ------------------------------------------------

def item(version, state, total=None, cursor="c"):
    return {"unit": SCHOOL, "state": state, "version": version, "cursor": cursor,
            "counts": {"total": total, "by_grade": {"p1": total}} if state == "confirmed" else None,
            "seal_digest": "ab" * 32 if state == "confirmed" else None,
            "confirmed_at": "2026-06-12T09:00:00+07:00" if state == "confirmed" else None,
            "revoked_at": None if state == "confirmed" else "2026-06-12T10:00:00+07:00"}


def test_a_feed_page_and_its_cursor_are_stored_together_and_versions_decide(tmp_path):
    ledger = agency.Ledger(str(tmp_path / "a.sqlite"))
    assert ledger.cursor(7) is None and ledger.cannot_place(HISTORY[0])
    ledger.apply_page(ROUND, {"items": [item(5, "confirmed", 4, "c5")], "next_cursor": "c5", "has_more": False})
    assert ledger.cursor(7) == "c5" and ledger.rounds_followed() == [7]
    assert ledger.unit(7, 42)["total"] == 4
    # an event older than what the feed gave changes nothing; a newer one wins
    assert ledger.apply(HISTORY[0]) is True and ledger.unit(7, 42)["total"] == 4
    ledger.apply(HISTORY[4])
    assert ledger.unit(7, 42)["total"] == 5
    # and a feed item older than the event held changes nothing either
    ledger.apply_page(ROUND, {"items": [item(6, "open", cursor="c6")], "next_cursor": "c6", "has_more": False})
    assert ledger.unit(7, 42)["total"] == 5 and ledger.cursor(7) == "c6"
    ledger.apply_page(ROUND, {"items": [item(9, "open", cursor="c9")], "next_cursor": "c9", "has_more": False})
    assert ledger.unit(7, 42) is None and ledger.table() == []
    assert ledger.backfilled == 2 and ledger.stale == 2


def test_an_event_it_cannot_place_is_a_gap(tmp_path):
    ledger = agency.Ledger(str(tmp_path / "a.sqlite"))
    assert ledger.cannot_place(HISTORY[0])  # a round whose feed was never read
    ledger.apply_page(ROUND, {"items": [], "next_cursor": "c0", "has_more": False})
    assert not ledger.cannot_place(HISTORY[0])
    assert ledger.cannot_place(HISTORY[1])  # a revocation of a unit never seen confirmed
    ledger.apply(HISTORY[0])
    assert not ledger.cannot_place(HISTORY[1])


class FakeFeed:
    """Two pages of round 7's feed, then nothing new after their cursor."""

    def __init__(self):
        self.asked = []
        self.pages = {None: {"items": [item(2, "confirmed", 3, "c1")], "next_cursor": "c1", "has_more": True},
                      "c1": {"items": [item(5, "confirmed", 4, "c2")], "next_cursor": "c2", "has_more": False},
                      "c2": {"items": [], "next_cursor": "c2", "has_more": False}}

    def rounds(self):
        return [ROUND]

    def round(self, round_id):
        assert round_id == 7
        return ROUND

    def page(self, round_id, cursor=None, limit=500):
        self.asked.append(cursor)
        return self.pages[cursor]


def test_backfill_pages_to_the_end_and_resumes_from_its_cursor(tmp_path):
    ledger, feed = agency.Ledger(str(tmp_path / "a.sqlite")), FakeFeed()
    assert agency.backfill(feed, ledger) == [7]
    assert feed.asked == [None, "c1"] and ledger.unit(7, 42)["total"] == 4 and ledger.cursor(7) == "c2"
    # a restart (a new ledger on the same file) goes on from the stored cursor
    again = agency.Ledger(str(tmp_path / "a.sqlite"))
    agency.backfill(feed, again)
    assert feed.asked == [None, "c1", "c2"]
