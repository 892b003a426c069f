"""The agency role: its tokens are told apart from accounts' (claim ``knd``), it acts with
no unit and reads nothing by the hierarchy, and the gateway lets it reach only its
allow-list of routes; the feed's cursors are refused when they are not of the round."""
import importlib

import pytest

from gateway.access import AGENCY_ROUTES, agency_may
from gateway.app import PREFIX, RESOURCE_MODULES
from gateway.auth import KeyRing, issue_token, verify_subject, verify_token
from services.common.context import Actor
from services.common.errors import LecError
from services.confirmation.feed import decode_cursor, encode_cursor

KEYS = KeyRing("k1", "a-key-for-the-agency-tests-0123456789-abcdef")
TTL = 900


def test_an_agency_token_is_not_an_account_token():
    agency = issue_token({"id": 42, "token_version": 3}, KEYS, TTL, kind="agency")
    account = issue_token({"id": 42, "token_version": 3}, KEYS, TTL)
    assert verify_subject(agency, KEYS, TTL) == ("agency", 42, 3)
    assert verify_subject(account, KEYS, TTL) == ("user", 42, 3)
    assert verify_token(account, KEYS, TTL) == (42, 3)
    with pytest.raises(LecError) as caught:
        verify_token(agency, KEYS, TTL)  # never taken for account 42
    assert caught.value.code == "unauthorized"
    with pytest.raises(LecError):
        verify_subject(issue_token({"id": 42}, KEYS, TTL, kind="robot"), KEYS, TTL)


def test_an_agency_actor_has_no_unit_and_reads_nothing_by_the_hierarchy():
    actor = Actor(user_id=7, username="lec-agency-0123", role="agency", org_unit_id=0, path="/").check()
    assert actor.is_agency and not actor.is_system
    assert not actor.can_read("/1/") and not actor.can_read("/1/7/42/")
    with pytest.raises(LecError):
        actor.require_read("/1/")
    with pytest.raises(LecError):
        actor.require_strict_ancestor("/1/7/", "no")
    with pytest.raises(LecError):
        actor.require_role("department")
    assert Actor.from_json(actor.to_json()) == actor  # travels with RPCs
    for bad in (dict(org_unit_id=1, path="/1/"), dict(user_id=0), dict(path="/1/")):
        fields = dict(user_id=7, username="x", role="agency", org_unit_id=0, path="/")
        fields.update(bad)
        with pytest.raises(ValueError):
            Actor(**fields).check()


def test_the_allow_list_names_only_read_only_routes_that_exist():
    templates = {PREFIX + path for name in RESOURCE_MODULES
                 for path, _ in importlib.import_module(name).ROUTES}
    for method, uri in AGENCY_ROUTES:
        assert method == "GET" and uri in templates, uri
    assert agency_may("HEAD", PREFIX + "/rounds")
    assert not agency_may("POST", PREFIX + "/rounds")
    assert not agency_may("GET", PREFIX + "/rounds/{id:int}/confirmations/{unit_id:int}")
    assert not agency_may("GET", PREFIX + "/agencies")


def test_feed_cursors_belong_to_their_round():
    cursor = encode_cursor(5, 12)
    assert decode_cursor(5, cursor) == 12 and decode_cursor(5, None) == 0 and decode_cursor(5, "") == 0
    for bad in (encode_cursor(6, 12), cursor + "x", "%%%", "eyJyIjo1fQ", encode_cursor(5, -1), "a" * 65):
        with pytest.raises(LecError) as caught:
            decode_cursor(5, bad)
        assert caught.value.code == "validation_error", bad
