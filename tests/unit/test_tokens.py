"""Access tokens: signed with a key the header names (``kid``), verified with
the current or the previous key after a rotation, refused when made to live
longer than the configured lifetime; and the client's address behind proxies."""
import datetime as dt

import jwt
import pytest

from gateway.auth import KeyRing, client_address, issue_token, verify_token
from services.common.errors import LecError
from services.common.settings import SettingsError

OLD = "an-old-key-that-signed-yesterday-0123456789"
NEW = "the-new-key-of-this-morning-0123456789-abcd"
USER = {"id": 42, "token_version": 3}
TTL = 900


def refused(token, keys, ttl=TTL):
    with pytest.raises(LecError) as caught:
        verify_token(token, keys, ttl)
    assert caught.value.code == "unauthorized"
    return caught.value.description


def forged(secret, kid="1", lifetime=dt.timedelta(minutes=5), issued=None, **claims):
    iat = issued or dt.datetime.now(dt.timezone.utc)
    body = {"iss": "lec", "sub": "42", "iat": iat, "exp": iat + lifetime, "tv": 3, **claims}
    return jwt.encode(body, secret, algorithm="HS256", headers={"kid": kid} if kid else None)


def test_a_token_names_its_key_and_verifies():
    keys = KeyRing("2025-11", NEW)
    token = issue_token(USER, keys, TTL)
    assert jwt.get_unverified_header(token)["kid"] == "2025-11"
    assert verify_token(token, keys, TTL) == (42, 3)


def test_after_a_rotation_the_previous_key_still_verifies_and_no_other():
    before = KeyRing("a", OLD)
    yesterday = issue_token(USER, before, TTL)
    rotated = KeyRing("b", NEW, "a", OLD)
    assert verify_token(yesterday, rotated, TTL) == (42, 3)
    assert jwt.get_unverified_header(issue_token(USER, rotated, TTL))["kid"] == "b"  # signs with the new
    # once the previous key is dropped, its tokens end
    assert "not signed with a key of this system" in refused(yesterday, KeyRing("b", NEW))
    # a known id with another key's signature, an unknown id, no id at all
    refused(forged(NEW, kid="a"), rotated)
    refused(forged(NEW, kid="c"), rotated)
    refused(forged(NEW, kid=None), rotated)


def test_a_token_made_to_live_longer_than_the_ttl_is_refused():
    keys = KeyRing("1", NEW)
    ten_years = forged(NEW, lifetime=dt.timedelta(days=3650))
    assert "longer than this system allows" in refused(ten_years, keys)
    assert verify_token(forged(NEW, lifetime=dt.timedelta(seconds=TTL)), keys, TTL) == (42, 3)
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=365)
    assert "issued in the future" in refused(forged(NEW, issued=later), keys)


def test_forged_and_malformed_tokens_are_refused():
    keys = KeyRing("1", NEW)
    refused(forged("x" * 40), keys)
    refused(jwt.encode({"iss": "lec", "sub": "42"}, None, algorithm="none", headers={"kid": "1"}), keys)
    refused(forged(NEW, iss="someone-else"), keys)
    refused(forged(NEW, sub="not-a-number"), keys)
    refused("not.a.jwt", keys)
    token = forged(NEW)
    del_tv = jwt.encode({k: v for k, v in jwt.decode(token, NEW, algorithms=["HS256"]).items() if k != "tv"},
                        NEW, algorithm="HS256", headers={"kid": "1"})
    refused(del_tv, keys)


def test_a_previous_key_needs_an_id_of_its_own():
    with pytest.raises(SettingsError):
        KeyRing("1", NEW, "1", OLD)
    with pytest.raises(SettingsError):
        KeyRing("1", NEW, None, OLD)


@pytest.mark.parametrize("remote, forwarded, proxies, expected", [
    ("203.0.113.5", None, 0, "203.0.113.5"),
    ("203.0.113.5", "198.51.100.7", 0, "203.0.113.5"),       # no proxy trusted: the header is ignored
    ("10.0.0.2", "198.51.100.7", 1, "198.51.100.7"),          # what the one proxy saw
    ("10.0.0.2", "6.6.6.6, 198.51.100.7", 1, "198.51.100.7"),  # the client's own entry stays unused
    ("10.0.0.3", "198.51.100.7, 10.0.0.2", 2, "198.51.100.7"),
    ("10.0.0.2", "not-an-address", 1, "10.0.0.2"),
    ("10.0.0.2", None, 1, "10.0.0.2"),
])
def test_the_client_address(remote, forwarded, proxies, expected):
    assert client_address(remote, forwarded, proxies) == expected
